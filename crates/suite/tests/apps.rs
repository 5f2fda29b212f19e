//! The test cases (suites/apps.toml) on the real servers of the catalog, in the managed
//! venv, on 127.0.0.1:
//!
//! - every app answers as it declares on every case: the answer every run checks
//!   before it loads a pair (one request each; a check, not a benchmark);
//! - `io` proves the gevent cases run it patched: at 20 connections they serve more
//!   than 3x gunicorn-sync, whose one worker, sleeping 10 ms per request, cannot pass
//!   100 req/s.
//!
//! The venv is made as in the other tests (tests/common); if it cannot be, these tests
//! FAIL with the reason.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use scenario::{Load, Request, Scenario, Target, Timeouts};
use suite::{App, AppCatalog, Case, Catalog, Server};

use common::{env, repo};

const READY: Duration = Duration::from_secs(60);
/// A framework's first request imports its routing; every other answer takes
/// milliseconds.
const ANSWER: Duration = Duration::from_secs(30);
/// Servers started at once: most of a start is waiting for Python's imports.
const AT_ONCE: usize = 3;

fn catalogs() -> (Catalog, AppCatalog) {
    (
        Catalog::load(&repo().join("suites/servers.toml")).expect("the shipped catalog loads"),
        AppCatalog::load(&repo().join("suites/apps.toml")).expect("the shipped apps load"),
    )
}

/// A server of `case` serving `app`, ready; stopped when dropped.
fn launch(case: &Case, app: &App, logs: &Path) -> Result<(Server, SocketAddr), String> {
    let port = suite::free_port().map_err(|e| e.to_string())?;
    let log = logs.join(format!("{}@{}.log", case.name, app.name));
    let mut server = Server::launch(
        case,
        app.callable_for(case),
        app.dir.as_deref(),
        env(),
        port,
        None,
        &log,
    )
    .map_err(|e| e.to_string())?;
    server
        .wait_ready(READY)
        .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))?;
    Ok((server, SocketAddr::from(([127, 0, 0, 1], port))))
}

#[test]
fn every_app_answers_as_it_declares_on_every_case() {
    let (catalog, apps) = catalogs();
    let logs = tempfile::tempdir().unwrap();
    for case in &catalog.cases {
        env()
            .installed(case)
            .unwrap_or_else(|e| panic!("{e}: every shipped case installs here"));
    }
    let pairs: Vec<(&Case, &App)> = catalog
        .cases
        .iter()
        .flat_map(|c| apps.apps.iter().map(move |a| (c, a)))
        .collect();
    let next = Mutex::new(pairs.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..AT_ONCE {
            s.spawn(|| loop {
                let Some((case, app)) = next.lock().unwrap().next().copied() else {
                    return;
                };
                let checked = launch(case, app, logs.path()).and_then(|(server, addr)| {
                    // Twice: a server that answers its first request and breaks the
                    // second (a body left unread, a closed keep-alive) is caught too.
                    for _ in 0..2 {
                        let answer = suite::answer::ask(addr, &app.request, ANSWER)?;
                        app.expect
                            .as_ref()
                            .expect("shipped apps declare their answer")
                            .check(&answer)?;
                    }
                    drop(server);
                    Ok(())
                });
                if let Err(e) = checked {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{} serving {}: {e}", case.name, app.name));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} pairs answered wrongly:\n{}",
        failures.len(),
        pairs.len(),
        failures.join("\n")
    );
}

/// Requests per second at `connections` keep-alive connections over `seconds`.
fn rps(addr: SocketAddr, request: &Request, connections: u32, seconds: u64) -> f64 {
    let scenario = Scenario {
        target: Target {
            host: addr.ip().to_string(),
            port: addr.port(),
            tls: false,
        },
        load: Load::Closed {
            connections,
            requests: None,
            script: vec![request.clone()],
        },
        duration: Some(Duration::from_secs(seconds)),
        timeouts: Timeouts::default(),
        trust: Default::default(),
    };
    let options = engine::RunOptions {
        threads: 1,
        interval: Duration::from_secs(seconds),
        ..Default::default()
    };
    let summary = engine::run(&scenario, &options, &mut []).expect("the load runs");
    assert_eq!(summary.digest.errors_total, 0, "{:?}", summary.digest);
    summary.digest.rps
}

#[test]
fn io_runs_patched_on_the_gevent_cases() {
    let (catalog, apps) = catalogs();
    let io = apps.get("io").expect("the io app");
    let logs = tempfile::tempdir().unwrap();
    let measure = |name: &str| {
        let case = catalog.get(name).expect("in the catalog");
        let (_server, addr) = launch(case, io, logs.path()).unwrap_or_else(|e| panic!("{e}"));
        rps(addr, &io.request, 20, 3)
    };
    let sync = measure("gunicorn-sync");
    // One worker, 10 ms asleep per request, whatever the machine.
    assert!(sync <= 101.0, "gunicorn-sync served {sync:.0} req/s");
    for name in ["gevent", "gunicorn-gevent", "uwsgi-gevent"] {
        let patched = measure(name);
        eprintln!("io at 20 connections: {name} {patched:.0} req/s, gunicorn-sync {sync:.0}");
        assert!(
            patched > 3.0 * sync,
            "{name}: {patched:.0} req/s, gunicorn-sync {sync:.0}: the 10 ms waits did not overlap"
        );
    }
}
