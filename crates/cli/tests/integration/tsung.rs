//! `wsgibench tsung FILE.xml`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::util::*;

/// The names Tsung 1.7 writes for an HTTP run without errors.
const HTTP_NAMES: [&str; 11] = [
    "connect",
    "connected",
    "finish_users_count",
    "http_200",
    "page",
    "request",
    "session",
    "size_rcv",
    "size_sent",
    "users",
    "users_count",
];

/// A new Pong server and, in a new temporary folder, the Tsung file `name` (a path
/// below the folder) that sends its users to it; the rest as [`tsung_xml`] takes it.
fn pong_and_file(
    name: &str,
    rate: u32,
    phase_s: u32,
    duration_s: u32,
    body: &str,
) -> (Pong, TempDir, PathBuf) {
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join(name);
    std::fs::create_dir_all(xml.parent().unwrap()).unwrap();
    std::fs::write(
        &xml,
        tsung_xml(server.port, rate, phase_s, duration_s, body),
    )
    .unwrap();
    (server, dir, xml)
}

/// `wsgibench tsung XML` on `threads` threads, quiet, an interval a second, writing its
/// Tsung log and summary beside XML: returned with their paths, for the test to read.
fn tsung_with_logs(xml: &Path, threads: &str) -> (Command, PathBuf, PathBuf) {
    let log = xml.with_extension("tsung.json");
    let summary = xml.with_extension("json");
    let mut cmd = wsgibench();
    cmd.arg("tsung")
        .arg(xml)
        .arg("--tsung-log")
        .arg(&log)
        .arg("--json")
        .arg(&summary)
        .args(["--interval", "1s", "-t", threads, "-q"]);
    (cmd, log, summary)
}

/// `wsgibench tsung XML ARGS` run in `cwd`, where it writes what it writes by default;
/// it must end within `limit`, successfully.
fn tsung_succeeds_in(cwd: &Path, xml: &Path, args: &[&str], limit: Duration) -> Output {
    let out = run_bounded(
        wsgibench()
            .arg("tsung")
            .arg(xml)
            .args(args)
            .current_dir(cwd),
        limit,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    out
}

#[test]
fn closed_session_file_sends_exactly_users_times_loop() {
    // 5 users/s for 1 s, 200 GETs each: 1000 requests, whatever the timing.
    let (server, _dir, xml) = pong_and_file("closed.xml", 5, 1, 30, &get_loop(200));
    let (mut tsung, log, summary) = tsung_with_logs(&xml, "2");
    let out = run_bounded(&mut tsung, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The file's <clients> block is explained, not silently dropped.
    assert!(
        text(&out.stdout).contains("note: "),
        "{}",
        text(&out.stdout)
    );

    assert_eq!(server.requests(), 1000);
    let s = read_json(&summary);
    assert_eq!(s["requests"], 1000);
    assert_eq!(s["users_started"], 5);
    assert_eq!(s["users_finished"], 5);
    assert_eq!(s["errors_total"], 0);

    let log = read_json(&log);
    let stats = entries(&log);
    assert!(stats.len() >= 2, "{log}");
    assert_eq!(stats[0]["samples"], serde_json::json!([]));
    let names = http_sample_names(&log);
    assert_eq!(names, HTTP_NAMES.iter().map(|s| s.to_string()).collect());
    assert_eq!(last(&log, "http_200", "total"), Some(1000));
    assert_eq!(last(&log, "users_count", "total"), Some(5));
    assert_eq!(last(&log, "finish_users_count", "total"), Some(5));
    let request_count: u64 = stats
        .iter()
        .flat_map(|e| e["samples"].as_array().unwrap())
        .filter(|x| x["name"] == "request")
        .map(|x| x["value"].as_u64().unwrap())
        .sum();
    assert_eq!(request_count, 1000);
    // One entry per 1 s interval: consecutive stamps never more than a second apart
    // (plus the rounding of whole seconds).
    let t = timestamps(&log);
    assert!(
        t.windows(2).all(|w| w[1] >= w[0] && w[1] - w[0] <= 2),
        "{t:?}"
    );
}

/// A `wsgibench tsung` run, started, that goes on far longer than a test waits: for
/// the tests that end it from outside.
struct LongRun {
    child: Child,
    dir: TempDir,
    log: PathBuf,
    summary: PathBuf,
    /// Its users' server: kept for as long as the run.
    _server: Pong,
}

impl LongRun {
    /// Users arrive for 20 s and each sends one GET per second: a trickle of load, so
    /// the machine stays responsive while the run is ended. `output` is what its
    /// stdout and stderr go to.
    fn start(output: fn() -> Stdio) -> LongRun {
        let body = r#"      <for from="1" to="100" var="i">
        <request><http url="/" method="GET" version="1.1"/></request>
        <thinktime value="1" random="false"/>
      </for>"#;
        let (server, dir, xml) = pong_and_file("long.xml", 2, 20, 60, body);
        let (mut tsung, log, summary) = tsung_with_logs(&xml, "1");
        let child = tsung
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .spawn()
            .unwrap();
        LongRun {
            child,
            dir,
            log,
            summary,
            _server: server,
        }
    }
}

#[test]
fn sigkill_mid_run_leaves_logs_that_parse() {
    let LongRun {
        mut child,
        dir,
        log,
        summary,
        _server,
    } = LongRun::start(Stdio::null);
    let series = dir.path().join("long.intervals.jsonl");
    // Wait for at least two finished intervals, then kill without warning.
    let began = Instant::now();
    loop {
        let lines = std::fs::read(&series)
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0);
        if lines >= 2 {
            break;
        }
        if began.elapsed() > Duration::from_secs(20) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("no two intervals after {:?}", began.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Every complete JSON Lines line parses.
    let file = std::fs::File::open(&series).unwrap();
    let mut intervals = 0;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        assert!(v["t_s"].as_f64().is_some());
        intervals += 1;
    }
    assert!(intervals >= 2);
    // The Tsung log parses and holds the start entry plus every interval written
    // before the kill (it is written after the series, so it may lag by one).
    let log = read_json(&log);
    let n = entries(&log).len();
    assert!(
        n >= intervals && n <= intervals + 1,
        "{n} entries, {intervals} intervals"
    );
    assert!(http_sample_names(&log).contains("request"));
    // The summary is written only at the end: a killed run leaves none.
    assert!(!summary.exists());
}

#[test]
fn ctrl_c_ends_early_and_still_writes_everything() {
    let LongRun {
        child,
        dir: _dir,
        log,
        summary,
        _server,
    } = LongRun::start(Stdio::piped);
    std::thread::sleep(Duration::from_millis(2500));
    // What Ctrl-C sends; `kill` keeps the test free of a libc dependency.
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = wait_bounded(child, Duration::from_secs(10));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("(interrupted)"),
        "{}",
        text(&out.stdout)
    );
    let s = read_json(&summary);
    assert_eq!(s["interrupted"], true);
    let requests = s["requests"].as_u64().unwrap();
    assert!(requests > 0);
    let log = read_json(&log);
    assert_eq!(last(&log, "http_200", "total"), Some(requests));
}

#[test]
fn bad_file_exits_2_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("jabber.xml");
    let body = r#"      <request><jabber type="chat" ack="no_ack" size="16"/></request>"#;
    std::fs::write(&xml, tsung_xml(8000, 1, 1, 10, body)).unwrap();
    let out = run_bounded(wsgibench().arg("tsung").arg(&xml), Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    // The line of <jabber> in the generated file, and its column.
    let expected = format!("{}:17:16: <jabber> is not supported", xml.display());
    assert!(err.contains(&expected), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let broken = dir.path().join("broken.xml");
    std::fs::write(&broken, "<tsung>\n  <servers>\n</tsung>\n").unwrap();
    let out = run_bounded(
        wsgibench().arg("tsung").arg(&broken),
        Duration::from_secs(10),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:3:", broken.display())), "{err}");

    let out = run_bounded(
        wsgibench().arg("tsung").arg(dir.path().join("missing.xml")),
        Duration::from_secs(10),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing.xml"));
}

#[test]
fn dry_run_sends_nothing() {
    let (server, dir, xml) = pong_and_file("plan.xml", 5, 2, 30, &get_loop(10));
    let out = tsung_succeeds_in(dir.path(), &xml, &["--dry-run"], Duration::from_secs(10));
    let plan = text(&out.stdout);
    assert!(
        plan.contains("10 users arrive in 2 s, evenly spaced"),
        "{plan}"
    );
    let poisson = run_bounded(
        wsgibench()
            .arg("tsung")
            .arg(&xml)
            .args(["--dry-run", "--arrival", "poisson"]),
        Duration::from_secs(10),
    );
    let plan = text(&poisson.stdout);
    assert!(
        plan.contains("with exponential gaps, as in Tsung"),
        "{plan}"
    );
    assert_eq!(server.requests(), 0);
    // No default Tsung log either: nothing ran.
    assert!(!dir.path().join("plan.tsung.json").exists());
}

#[test]
fn backend_json_writes_the_default_log_in_the_current_directory() {
    let (server, dir, xml) = pong_and_file("in/small.xml", 2, 1, 30, &get_loop(3));
    tsung_succeeds_in(dir.path(), &xml, &["-q"], Duration::from_secs(30));
    assert_eq!(server.requests(), 6);
    let log = read_json(&dir.path().join("small.tsung.json"));
    assert_eq!(last(&log, "http_200", "total"), Some(6));
}
