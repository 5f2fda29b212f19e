//! Every case runs with its per-request and per-queue logging off: a server that
//! writes a line per request (or per wait) measures its log, not itself.
//!
//! - waitress under load with more connections than its 4 threads writes no
//!   "Task queue depth is N" line, while `waitress-serve` run the way the catalog ran
//!   it before, under the same load, writes them (so the load did make requests wait
//!   for a thread, and the test would catch the warnings coming back).
//!
//! A real server on 127.0.0.1 in the managed venv, like tests/servers.rs: the venv is
//! made once in `$XDG_CACHE_HOME/wsgibench` (or `~/.cache/wsgibench`), and if it cannot
//! be made the test FAILS with the reason. Load is bounded: 4000 requests on 32
//! connections per server, cut at 60 s; about 2 s here.

mod common;

use std::path::Path;
use std::time::Duration;

use suite::{Case, Catalog, Server};

use common::{env, repo};

const READY: Duration = Duration::from_secs(30);
/// Eight times waitress's default 4 threads: most requests wait for one.
const CONNECTIONS: u32 = 32;
const REQUESTS: u64 = 4000;
const QUEUE_WARNING: &str = "Task queue depth is";

/// Launches `case`, drives the bounded load at it, stops it (the `Server` is also a
/// Drop guard if an assertion fails first) and returns the answers and its log.
fn serve_under_load(case: &Case, dir: &Path) -> (engine::Summary, String) {
    env().installed(case).unwrap_or_else(|e| panic!("{e}"));
    let port = suite::free_port().unwrap();
    let log = dir.join(format!("{}.log", case.name));
    let server_cpu = suite::allowed_cpus().last().copied();
    let mut server = Server::launch(case, case.app(), None, env(), port, server_cpu, &log)
        .unwrap_or_else(|e| panic!("{e}"));
    server.wait_ready(READY).unwrap_or_else(|e| panic!("{e}"));
    let scenario = scenario::Scenario {
        target: scenario::Target {
            host: "127.0.0.1".into(),
            port,
            tls: false,
        },
        load: scenario::Load::Closed {
            connections: CONNECTIONS,
            requests: Some(REQUESTS),
            script: vec![scenario::Request::get("/")],
        },
        duration: Some(Duration::from_secs(60)),
        timeouts: scenario::Timeouts::default(),
        trust: Default::default(),
    };
    let options = engine::RunOptions {
        threads: 1,
        ..Default::default()
    };
    let summary = engine::run(&scenario, &options, &mut []).unwrap();
    let stopped = server.stop();
    assert!(stopped.port_free, "{}: {stopped:?}", case.name);
    (summary, std::fs::read_to_string(&log).unwrap())
}

fn queue_warnings(log: &str) -> usize {
    log.lines().filter(|l| l.contains(QUEUE_WARNING)).count()
}

#[test]
fn waitress_under_load_writes_no_queue_depth_lines() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Catalog::load(&repo().join("suites/servers.toml")).unwrap();
    let waitress = shipped.get("waitress").unwrap();
    // The same case as the catalog ran it before its launcher: `waitress-serve`.
    let before = Catalog::parse(
        r#"
[[case]]
name = "waitress-serve"
description = "waitress as waitress-serve runs it: queue-depth warnings on"
command = ["{venv_bin}/waitress-serve", "--host", "{host}", "--port", "{port}", "{app}"]
packages = ["waitress"]
version = ["waitress"]
app = "app:pong_plain"
"#,
        Path::new("logging_off.rs"),
    )
    .unwrap();

    let (control, control_log) =
        serve_under_load(before.get("waitress-serve").unwrap(), dir.path());
    assert_eq!(
        control.digest.requests, REQUESTS,
        "{:?}",
        control.digest.errors
    );
    assert!(
        queue_warnings(&control_log) > 0,
        "the load never made a request wait for one of waitress's threads, so it proves \
         nothing: {control_log}"
    );

    let (summary, log) = serve_under_load(waitress, dir.path());
    assert_eq!(
        summary.digest.requests, REQUESTS,
        "{:?}",
        summary.digest.errors
    );
    assert_eq!(summary.digest.status.get("200"), Some(&REQUESTS));
    assert_eq!(
        queue_warnings(&log),
        0,
        "the catalog's waitress still logs its queue: {log}"
    );
    // Only the queue's warnings are off: waitress still says where it serves.
    assert!(log.contains("Serving on http://127.0.0.1:"), "{log}");
}
