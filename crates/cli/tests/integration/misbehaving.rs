//! `wsgibench load`, as a child process, against every misbehaving path of the test
//! server (crates/testserver). [`TABLE`] holds each path's expected outcome; for each
//! row, two runs:
//!
//! - all of `-n` on the path: every request is answered or counted under an error kind
//!   (answers + errors = `-n`), the outcomes are the row's and no other, and the run
//!   ends within its bound (requests per connection × `--timeout`, plus slack);
//! - `/mixed/PATH` on a fresh server: the first connection gets the misbehaviour, the
//!   other two answer well, and the run still completes all of `-n` with at most two
//!   errors: the other connections carry on.
//!
//! Every row runs on both I/O paths (`--io epoll`, `--io uring`), and the summary
//! must name the path asked for. In both runs, the child's peak memory stays under
//! [`PEAK_BOUND_KIB`]. The server runs in
//! this test process, so the child's peak is the generator's alone. docs/reliability.md
//! records the table and the figures.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use testserver::Server;

use crate::util::*;

/// The bound on a `wsgibench load` child's peak resident memory (VmHWM) in every run
/// here. Measured peaks are 10-12 MiB for the debug build (docs/reliability.md): the
/// bound leaves over twice that for a busier or different machine, and still catches
/// a body kept in memory (the 200 MiB one) or a buffer that grows without bound.
const PEAK_BOUND_KIB: u64 = 32 * 1024;

/// Time a run may take past its bound before it counts as a hang: start-up of a debug
/// binary on a busy machine, and the tail of the last request.
const SLACK: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// An answer with this status code.
    Answer(u16),
    /// An error of this kind (`ErrorKind::name`).
    Error(&'static str),
}

use Outcome::{Answer, Error};

struct Row {
    path: &'static str,
    /// Each of these occurs at least once.
    expect: &'static [Outcome],
    /// These may occur besides; nothing else may.
    may: &'static [Outcome],
    /// `--timeout`, in seconds.
    timeout_s: u64,
    /// `-n` and `-c` of the first run.
    requests: u64,
    connections: u32,
}

const fn row(path: &'static str, expect: &'static [Outcome]) -> Row {
    Row {
        path,
        expect,
        may: &[],
        timeout_s: 5,
        requests: 6,
        connections: 2,
    }
}

/// What each misbehaviour must come to. Valid answers: a body that ends at the close,
/// unknown status codes, interim 100s before the real answer, heads up to 64 KiB, a
/// 200 MiB body. Everything else is an error of one named kind.
const TABLE: &[Row] = &[
    row("/pong", &[Answer(200)]),
    // One byte per 100 ms for 10 s: the 2 s timeout cuts it.
    Row {
        timeout_s: 2,
        ..row("/drip", &[Error("response_timeout")])
    },
    row("/endless-headers", &[Error("malformed_response")]),
    row("/head-60k", &[Answer(200)]),
    row("/head-over-64k", &[Error("malformed_response")]),
    Row {
        timeout_s: 60,
        requests: 2,
        ..row("/body-200m", &[Answer(200)])
    },
    // The answer ends at its Content-Length; the 9 bytes past it are read as the
    // next answer on that connection, which is then malformed.
    row(
        "/length-too-short",
        &[Answer(200), Error("malformed_response")],
    ),
    row("/length-too-long", &[Error("body_length_mismatch")]),
    row("/length-negative", &[Error("malformed_response")]),
    row("/length-duplicated", &[Error("malformed_response")]),
    row("/length-overflow", &[Error("malformed_response")]),
    row("/chunk-size-bad", &[Error("malformed_response")]),
    row("/chunk-size-huge", &[Error("malformed_response")]),
    row("/chunked-unterminated", &[Error("closed_mid_response")]),
    row("/close-mid-head", &[Error("closed_mid_response")]),
    // A RST can race the read that would see it, which then sees the close.
    Row {
        may: &[Error("closed_before_response")],
        ..row("/reset", &[Error("reset")])
    },
    row("/random-bytes", &[Error("malformed_response")]),
    row("/http09", &[Error("malformed_response")]),
    row("/nul-in-header", &[Error("malformed_response")]),
    row("/status-line-1m", &[Error("malformed_response")]),
    row("/interim-100s", &[Answer(200)]),
    Row {
        timeout_s: 2,
        ..row("/silence", &[Error("response_timeout")])
    },
    row("/status-599", &[Answer(599)]),
    row("/status-299", &[Answer(299)]),
    row("/http10-until-close", &[Answer(200)]),
    row("/http11-until-close", &[Answer(200)]),
];

/// `-n` and `-c` of the mixed runs.
const MIXED_REQUESTS: u64 = 60;
const MIXED_CONNECTIONS: u32 = 3;

/// What one `wsgibench load` run came to.
struct Run {
    outcomes: BTreeMap<Outcome, u64>,
    answers: u64,
    errors: u64,
    /// Largest VmHWM read from /proc while the child ran, in KiB.
    polled_peak_kib: u64,
    /// The child's `ru_maxrss` from wait4 when it was reaped, in KiB.
    exit_peak_kib: u64,
    /// This test process's VmHWM when the child was spawned, in KiB.
    parent_peak_kib: u64,
    took: Duration,
}

impl Run {
    /// The child's peak. Its `ru_maxrss` also counts the image it replaced at exec: a
    /// copy of this test process (spawned with CLONE_VM, the very same memory). So once
    /// this process is larger than the child (other tests in it have grown it), that
    /// figure says nothing of the child and the /proc polls, which saw the child's own
    /// memory after exec, are its peak.
    fn peak_kib(&self) -> u64 {
        if self.exit_peak_kib <= self.parent_peak_kib && self.polled_peak_kib > 0 {
            self.polled_peak_kib
        } else {
            self.polled_peak_kib.max(self.exit_peak_kib)
        }
    }
}

/// Runs `wsgibench load` on `path` and reads its summary; `Err` says what went wrong.
fn load(
    server: &Server,
    path: &str,
    requests: u64,
    connections: u32,
    timeout_s: u64,
    dir: &Path,
    io: &str,
) -> Result<Run, String> {
    let json = dir.join("summary.json");
    let url = format!("http://127.0.0.1:{}{path}", server.port);
    let mut cmd = wsgibench();
    cmd.args(["load", &url, "-q", "-t", "1"])
        .args(["-n", &requests.to_string()])
        .args(["-c", &connections.to_string()])
        .args(["--timeout", &format!("{timeout_s}s")])
        .args(["--io", io])
        .arg("--json")
        .arg(&json);
    let per_connection = requests.div_ceil(u64::from(connections));
    let bound = Duration::from_secs(per_connection * timeout_s) + SLACK;
    let parent_peak_kib = vm_hwm_kib(std::process::id() as libc::pid_t).unwrap_or(0);
    let (code, polled_peak_kib, exit_peak_kib, took) = run_measured(cmd, dir, bound)?;
    if code != 0 {
        return Err(format!(
            "exit code {code}; stderr: {}",
            std::fs::read_to_string(dir.join("stderr")).unwrap_or_default()
        ));
    }
    let summary = read_json(&json);
    let path_taken = summary["io"].as_str().unwrap_or("none");
    let path_asked = if io == "uring" { "io_uring" } else { io };
    if path_taken != path_asked {
        return Err(format!("--io {io} ran on {path_taken}"));
    }
    let mut outcomes = BTreeMap::new();
    for (code, n) in summary["status"].as_object().expect("status") {
        let code = code.parse().expect("a status code");
        outcomes.insert(Answer(code), n.as_u64().unwrap());
    }
    for (kind, n) in summary["errors"].as_object().expect("errors") {
        let kind = KINDS
            .iter()
            .find(|k| *k == kind)
            .ok_or_else(|| format!("unknown error kind {kind}"))?;
        outcomes.insert(Error(kind), n.as_u64().unwrap());
    }
    Ok(Run {
        outcomes,
        answers: summary["requests"].as_u64().unwrap(),
        errors: summary["errors_total"].as_u64().unwrap(),
        polled_peak_kib,
        exit_peak_kib,
        parent_peak_kib,
        took,
    })
}

const KINDS: [&str; 11] = [
    "connect_refused",
    "connect_timeout",
    "tls_certificate",
    "tls_handshake",
    "response_timeout",
    "reset",
    "closed_before_response",
    "closed_mid_response",
    "malformed_response",
    "body_length_mismatch",
    "io",
];

/// Runs `cmd` with its output in `dir`, polling its VmHWM, and reaps it with wait4 for
/// its `ru_maxrss`: a process that has exited has no VmHWM left in /proc, and the
/// kernel keeps the same high-water mark in `ru_maxrss`. Returns the exit code, both
/// peaks in KiB, and the time it took; kills the child and fails past `bound`.
fn run_measured(
    mut cmd: Command,
    dir: &Path,
    bound: Duration,
) -> Result<(i32, u64, u64, Duration), String> {
    let began = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(dir.join("stdout")).unwrap())
        .stderr(File::create(dir.join("stderr")).unwrap())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    // Reaped below with wait4, never through `child`.
    let pid = child.id() as libc::pid_t;
    let mut polled = 0;
    loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            polled = polled.max(kib);
        }
        let mut status = 0;
        // SAFETY: an all-zero rusage is valid; wait4 writes both out-parameters.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our own child, not yet reaped.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            };
            return Ok((code, polled, usage.ru_maxrss as u64, began.elapsed()));
        }
        if reaped < 0 {
            return Err(format!("wait4: {}", std::io::Error::last_os_error()));
        }
        if began.elapsed() > bound {
            // SAFETY: signalling and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Err(format!("still running after {bound:?}: a hang"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// VmHWM of a running process, in KiB.
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Checks both runs of one row; returns what is wrong, if anything.
fn check(row: &Row, io: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(0).expect("the test server starts");
    match load(
        &server,
        row.path,
        row.requests,
        row.connections,
        row.timeout_s,
        dir.path(),
        io,
    ) {
        Err(e) => wrong.push(e),
        Ok(run) => {
            if run.answers + run.errors != row.requests {
                wrong.push(format!(
                    "{} answers + {} errors != {} asked",
                    run.answers, run.errors, row.requests
                ));
            }
            for o in row.expect {
                if !run.outcomes.contains_key(o) {
                    wrong.push(format!("no {o:?}"));
                }
            }
            for o in run.outcomes.keys() {
                if !row.expect.contains(o) && !row.may.contains(o) {
                    wrong.push(format!("unexpected {o:?}"));
                }
            }
            if run.peak_kib() > PEAK_BOUND_KIB {
                wrong.push(format!("peak memory {} KiB", run.peak_kib()));
            }
            report(row.path, &run);
        }
    }

    // One bad connection among good ones: a fresh server, whose first connection is bad.
    let mixed = format!("/mixed{}", row.path);
    let server = Server::start(0).expect("the test server starts");
    match load(
        &server,
        &mixed,
        MIXED_REQUESTS,
        MIXED_CONNECTIONS,
        row.timeout_s,
        dir.path(),
        io,
    ) {
        Err(e) => wrong.push(format!("mixed: {e}")),
        Ok(run) => {
            if run.answers + run.errors != MIXED_REQUESTS {
                wrong.push(format!(
                    "mixed: {} answers + {} errors != {MIXED_REQUESTS} asked",
                    run.answers, run.errors
                ));
            }
            if run.errors > 2 {
                wrong.push(format!("mixed: {} errors, at most 2 expected", run.errors));
            }
            let allowed = |o: &Outcome| row.expect.contains(o) || row.may.contains(o);
            for o in run.outcomes.keys() {
                if !allowed(o) && *o != Answer(200) {
                    wrong.push(format!("mixed: unexpected {o:?}"));
                }
            }
            // The bad connection met the misbehaviour (unless it is a plain 200).
            let marks = row
                .expect
                .iter()
                .chain(row.may)
                .filter(|o| **o != Answer(200));
            if marks.clone().count() > 0
                && !run.outcomes.keys().any(|o| marks.clone().any(|m| m == o))
            {
                wrong.push("mixed: the misbehaviour never showed".into());
            }
            if run.peak_kib() > PEAK_BOUND_KIB {
                wrong.push(format!("mixed: peak memory {} KiB", run.peak_kib()));
            }
            report(&mixed, &run);
        }
    }
    wrong
        .into_iter()
        .map(|w| format!("{} (--io {io}): {w}", row.path))
        .collect()
}

/// One line per run, shown with `--nocapture`: the figures docs/reliability.md quotes.
fn report(path: &str, run: &Run) {
    eprintln!(
        "{path:<32} {:>5.2} s  VmHWM {:>6} KiB (polled) {:>6} KiB (at exit)  {:?}",
        run.took.as_secs_f64(),
        run.polled_peak_kib,
        run.exit_peak_kib,
        run.outcomes
    );
}

#[test]
fn every_misbehaviour_has_its_outcome_no_hang_and_bounded_memory() {
    // Three rows at a time: the machine may be busy, and the bounds are wide.
    let next = AtomicUsize::new(0);
    let wrong = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(row) = TABLE.get(i / 2) else { return };
                let found = check(row, ["epoll", "uring"][i % 2]);
                wrong.lock().unwrap().extend(found);
            });
        }
    });
    let wrong = wrong.into_inner().unwrap();
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn the_table_covers_every_path_of_the_test_server() {
    for (path, _, _) in testserver::PATHS {
        assert!(TABLE.iter().any(|r| r.path == *path), "{path} has no row");
    }
}
