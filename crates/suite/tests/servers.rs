//! Real servers from the catalog, in the managed venv, on 127.0.0.1.
//!
//! Contents:
//! - the shipped catalog: loads, expands, and every package is pinned
//! - gunicorn-sync and bjoern: launch, ready, sampled, stopped, port freed
//! - every catalog case answers `pong` (one after the other)
//! - a broken command is "failed to start" with its log lines
//! - without --workers every argv is unchanged; with --workers 2, gunicorn-sync and
//!   uWSGI run two worker processes, bjoern and meinheld two listeners on one port
//!
//! The venv is made once in `$XDG_CACHE_HOME/wsgibench` (or `~/.cache/wsgibench`); set
//! `WSGIBENCH_PYTHON` to pick the interpreter. If it cannot be made these tests FAIL
//! with the reason: CI is expected to install python3-venv, python3-dev, libev-dev and a
//! C compiler. Load is a few hundred requests per server, so each test is bounded.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use suite::{Case, Catalog, LaunchError, Server};

use common::{env, repo};

const READY: Duration = Duration::from_secs(30);

fn catalog() -> Catalog {
    Catalog::load(&repo().join("suites/servers.toml")).expect("the shipped catalog loads")
}

fn server_cpu() -> Option<usize> {
    suite::allowed_cpus().last().copied()
}

/// Sends `n` sequential `GET /` (new connection each: gunicorn-sync closes anyway) and
/// returns how many got a 200.
fn hammer(port: u16, n: usize) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            continue;
        };
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = write!(
            s,
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        );
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        if text.starts_with("HTTP/1.1 200") && text.ends_with("Pong!") {
            ok += 1;
        }
    }
    ok
}

fn log_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn launch(case: &Case, dir: &Path) -> Server {
    let port = suite::free_port().unwrap();
    let log = dir.join(format!("{}.log", case.name));
    let mut server = Server::launch(case, case.app(), None, env(), port, server_cpu(), &log)
        .unwrap_or_else(|e| panic!("{e}"));
    server.wait_ready(READY).unwrap_or_else(|e| panic!("{e}"));
    server
}

#[test]
fn shipped_catalog_is_complete_and_pinned() {
    let catalog = catalog();
    let names: Vec<_> = catalog.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, testkit::SHIPPED_CASES);
    let pins = std::fs::read_to_string(repo().join("python/requirements.txt")).unwrap()
        + &std::fs::read_to_string(repo().join("python/requirements-nodeps.txt")).unwrap();
    let pinned: Vec<String> = pins
        .lines()
        .filter_map(|l| l.split_once("=="))
        .map(|(n, _)| suite::pyenv::normalize(n))
        .collect();
    for case in &catalog.cases {
        for p in case.packages.iter().chain(&case.version) {
            assert!(
                pinned.contains(&suite::pyenv::normalize(p)),
                "case {}: `{p}` is not pinned in python/requirements*.txt",
                case.name
            );
        }
        let argv = case
            .argv(&suite::Vars {
                python: Path::new("/v/bin/python"),
                venv_bin: Path::new("/v/bin"),
                host: "127.0.0.1",
                port: 9,
                app: case.app(),
                python_dir: Path::new("/p"),
                workers: None,
            })
            .unwrap();
        assert!(argv.iter().any(|a| a.contains('9')), "{argv:?}");
    }
}

fn launch_sample_stop(name: &str, version_prefix: &str) {
    let catalog = catalog();
    let case = catalog.get(name).unwrap();
    env().installed(case).unwrap_or_else(|e| panic!("{e}"));
    let dir = log_dir();
    let mut server = launch(case, dir.path());
    let port = server.port();
    assert!(
        server.version().unwrap_or("").starts_with(version_prefix),
        "{:?}",
        server.version()
    );

    server.start_sampler_every(Duration::from_millis(250));
    let started = Instant::now();
    let mut answered = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        answered += hammer(port, 50);
    }
    let samples = server.stop_sampler();
    assert!(answered > 0, "{name}: no pong");
    assert!(!samples.is_empty());
    assert!(
        samples.iter().any(|s| s.cpu_percent > 0.0),
        "{name}: no CPU seen: {samples:?}"
    );
    assert!(
        samples.iter().all(|s| s.rss_mib > 1.0 && s.processes >= 1),
        "{name}: {samples:?}"
    );

    let report = server.stop();
    assert!(report.port_free, "{name}: {report:?}");
    assert!(
        !suite::port_in_use(port),
        "{name}: port {port} still answers"
    );
}

#[test]
fn gunicorn_sync_runs_is_sampled_and_stops() {
    launch_sample_stop("gunicorn-sync", "gunicorn 27.");
}

#[test]
fn bjoern_runs_is_sampled_and_stops() {
    launch_sample_stop("bjoern", "bjoern 3.");
}

#[test]
fn every_catalog_case_answers_pong() {
    let catalog = catalog();
    let dir = log_dir();
    let mut failures = Vec::new();
    for case in &catalog.cases {
        if let Err(e) = env().installed(case) {
            failures.push(e.to_string());
            continue;
        }
        let port = suite::free_port().unwrap();
        let log = dir.path().join(format!("{}.log", case.name));
        let result = Server::launch(case, case.app(), None, env(), port, server_cpu(), &log)
            .and_then(|mut s| {
                s.wait_ready(READY)?;
                let ok = hammer(port, 20);
                let report = s.stop();
                Ok((ok, report))
            });
        match result {
            Ok((20, report)) if report.port_free => {}
            Ok(other) => failures.push(format!("{}: {other:?}", case.name)),
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_broken_command_fails_to_start_with_its_log() {
    let catalog = catalog();
    let mut case = catalog.get("gunicorn-sync").unwrap().clone();
    case.name = "gunicorn-broken".into();
    case.app = Some("no_such_module:app".into());
    let dir = log_dir();
    let port = suite::free_port().unwrap();
    let mut server = Server::launch(
        &case,
        case.app(),
        None,
        env(),
        port,
        server_cpu(),
        &dir.path().join("b.log"),
    )
    .expect("the program itself exists");
    let started = Instant::now();
    let e = server.wait_ready(READY).unwrap_err();
    assert!(
        started.elapsed() < READY,
        "the exit must be seen before the timeout"
    );
    let text = e.to_string();
    assert!(matches!(e, LaunchError::FailedToStart { .. }), "{text}");
    assert!(
        text.starts_with("case `gunicorn-broken` failed to start"),
        "{text}"
    );
    assert!(e.log_tail().unwrap().contains("no_such_module"), "{text}");
    assert!(e.log_tail().unwrap().lines().count() <= suite::supervise::LOG_TAIL_LINES);

    // A program that does not exist is refused at launch, named.
    case.command[0] = "{venv_bin}/no-such-server".into();
    let e = match Server::launch(
        &case,
        case.app(),
        None,
        env(),
        port,
        None,
        &dir.path().join("c.log"),
    ) {
        Err(e) => e,
        Ok(_) => panic!("a missing program must not launch"),
    };
    assert!(
        e.to_string().contains("failed to start") && e.to_string().contains("no-such-server"),
        "{e}"
    );
}

/// The engine against gunicorn (sync worker: it answers `Connection: close`, so every
/// request reconnects) and bjoern (keep-alive): exact counts, no errors.
#[test]
fn the_engine_drives_real_python_servers_exactly() {
    let catalog = catalog();
    let dir = log_dir();
    for (name, keep_alive) in [("gunicorn-sync", false), ("bjoern", true)] {
        let case = catalog.get(name).unwrap();
        let server = launch(case, dir.path());
        let scenario = scenario::Scenario {
            target: scenario::Target {
                host: "127.0.0.1".into(),
                port: server.port(),
                tls: false,
            },
            load: scenario::Load::Closed {
                connections: 4,
                requests: Some(2000),
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
        let s = engine::run(&scenario, &options, &mut []).unwrap();
        server.stop();
        assert_eq!(
            s.digest.requests, 2000,
            "{name}: errors {:?}",
            s.digest.errors
        );
        assert_eq!(s.digest.status.get("200"), Some(&2000), "{name}");
        if keep_alive {
            assert_eq!(
                s.digest.connections_opened, 4,
                "{name} keeps connections alive"
            );
        } else {
            assert!(
                s.digest.reconnects >= 1990,
                "{name}: {} reconnects",
                s.digest.reconnects
            );
        }
    }
}

/// Without `--workers` every shipped case's argv is the one it had before `--workers`
/// existed (tests/data/argv-without-workers.tsv), so new runs compare with old ones.
#[test]
fn without_workers_every_argv_is_unchanged() {
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/argv-without-workers.tsv"),
    )
    .unwrap();
    let catalog = catalog();
    let mut seen = 0;
    for line in golden.lines().filter(|l| !l.starts_with('#')) {
        let (name, argv) = line.split_once('\t').unwrap();
        let case = catalog
            .get(name)
            .unwrap_or_else(|| panic!("{name} left the catalog"));
        let expanded = case
            .argv(&suite::Vars {
                python: Path::new("/v/bin/python"),
                venv_bin: Path::new("/v/bin"),
                host: "127.0.0.1",
                port: 8123,
                app: case.app(),
                python_dir: Path::new("/p"),
                workers: None,
            })
            .unwrap();
        assert_eq!(expanded, argv.split('\t').collect::<Vec<_>>(), "{name}");
        seen += 1;
    }
    assert_eq!(seen, catalog.cases.len(), "a case without its golden argv");
}

/// Listening sockets on 127.0.0.1:`port` (LISTEN rows of /proc/net/tcp): one per worker
/// that opened its own with SO_REUSEPORT, one for a socket shared by forked workers.
fn listening_sockets(port: u16) -> usize {
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!("0100007F:{port:04X}");
    tcp.lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&"0A")
        })
        .count()
}

/// Launches `name` with `--workers 2` on the last two CPUs, loads it, and returns the
/// largest process count the sampler saw (the server's whole tree), and the number of
/// listening sockets on its port.
fn with_two_workers(name: &str) -> (u32, usize) {
    let catalog = catalog();
    let case = catalog.get(name).unwrap();
    env().installed(case).unwrap_or_else(|e| panic!("{e}"));
    let dir = log_dir();
    let port = suite::free_port().unwrap();
    let allowed = suite::allowed_cpus();
    let cpus = &allowed[allowed.len().saturating_sub(2)..];
    let log = dir.path().join("server.log");
    let mut server =
        Server::launch_workers(case, case.app(), None, env(), port, Some(2), cpus, &log)
            .unwrap_or_else(|e| panic!("{e}"));
    server.wait_ready(READY).unwrap_or_else(|e| panic!("{e}"));
    // Workers may come up one after the other: wait (bounded) for the tree to grow.
    server.start_sampler_every(Duration::from_millis(200));
    let started = Instant::now();
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(3) {
        answered += hammer(port, 20);
    }
    let sockets = listening_sockets(port);
    let samples = server.stop_sampler();
    assert!(answered > 0, "{name}: no pong\n{}", server.log_tail(20));
    let most = samples.iter().map(|s| s.processes).max().unwrap_or(0);
    let report = server.stop();
    assert!(report.port_free, "{name}: {report:?}");
    (most, sockets)
}

#[test]
fn gunicorn_sync_with_two_workers_runs_two_worker_processes() {
    // The master and its two workers.
    let (processes, _) = with_two_workers("gunicorn-sync");
    assert_eq!(processes, 3, "gunicorn-sync");
}

#[test]
fn uwsgi_with_two_workers_runs_two_worker_processes() {
    // The master, its HTTP router and two workers (one worker: three processes).
    let (processes, _) = with_two_workers("uwsgi");
    assert_eq!(processes, 4, "uwsgi");
}

#[test]
fn bjoern_with_two_workers_forks_two_listeners_on_the_port() {
    // The launcher and two forked bjoerns, each with its own SO_REUSEPORT socket.
    let (processes, sockets) = with_two_workers("bjoern");
    assert_eq!((processes, sockets), (3, 2), "bjoern");
}

#[test]
fn meinheld_with_two_workers_forks_two_listeners_on_the_port() {
    let (processes, sockets) = with_two_workers("meinheld");
    assert_eq!((processes, sockets), (3, 2), "meinheld");
}
