//! `wsgibench run` killed with SIGKILL at any point (issue 9, "kill -9 anywhere") leaves
//! no process behind, a results folder that `wsgibench report` renders with the killed
//! case marked, a history database that opens, and a next run that works.
//!
//! Each test starts a real run with `WSGIBENCH_TEST_MARKERS=DIR` (the run touches
//! `DIR/<point>` at named points) and `WSGIBENCH_RUN_TAG=<unique>` (every process it
//! starts carries the tag in its environment), waits for a marker, SIGKILLs the run by
//! its PID, then looks for the tag in `/proc/*/environ`. Every wait polls with a wide
//! bound; none is a fixed sleep.
//!
//! Contents:
//! - [`killed_during_the_venv_build`]: pip/venv killed too; the next run rebuilds.
//! - [`killed_mid_case`]: gunicorn's master and worker killed; the case reads `killed`.
//! - [`killed_while_writing_the_report`]: the finished cases still render.
//!
//! The real-server tests share the managed venv in the default cache with
//! `run_suite.rs`; the first run on a fresh machine builds it (minutes), hence the
//! generous bound on the first marker.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The first marker of a run may wait for the venv to be built and for another run
/// to finish measuring.
const FIRST_MARKER: Duration = Duration::from_secs(1200);
/// For the watchdogs to act after the kill: they do at once; the bound is for a busy machine.
const LEFTOVERS_GONE: Duration = Duration::from_secs(60);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn wsgibench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsgibench"))
}

/// A tag no other test or run uses.
fn unique_tag(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("kill9-{test}-{}-{nanos}", std::process::id())
}

/// A `wsgibench run` in the background, its output going to files (a pipe nobody reads
/// could block it).
struct Run {
    child: Child,
    markers: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Run {
    fn start(work: &Path, cwd: &Path, tag: &str, args: &[&OsStr]) -> Run {
        let markers = work.join(format!("markers-{tag}"));
        std::fs::create_dir_all(&markers).unwrap();
        let stdout = work.join(format!("{tag}.stdout"));
        let stderr = work.join(format!("{tag}.stderr"));
        let child = wsgibench()
            .current_dir(cwd)
            .env("XDG_DATA_HOME", work.join("data"))
            .env("WSGIBENCH_RUN_TAG", tag)
            .env("WSGIBENCH_TEST_MARKERS", &markers)
            .arg("run")
            .arg("-q")
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Run {
            child,
            markers,
            stdout,
            stderr,
        }
    }

    fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// Waits until the run touches `point`; panics with its output if it ends first.
    fn wait_for(&mut self, point: &str, bound: Duration) {
        let marker = self.markers.join(point);
        let deadline = Instant::now() + bound;
        while !marker.exists() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the run ended ({status}) before `{point}`\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no `{point}` within {bound:?}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL by PID (what `Child::kill` sends), then reap it.
    fn kill9(mut self) -> String {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9), // SIGKILL
            "{}",
            self.output()
        );
        self.output()
    }
}

/// A living process carrying the tag.
#[derive(Debug)]
struct Tagged {
    pid: u32,
    comm: String,
    cmdline: String,
}

/// Every living (non-zombie) process whose environment holds `WSGIBENCH_RUN_TAG=tag`.
fn tagged(tag: &str) -> Vec<Tagged> {
    let entry = format!("WSGIBENCH_RUN_TAG={tag}");
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if !env.split(|&b| b == 0).any(|v| v == entry.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .map(|(_, r)| r.trim_start().chars().next());
        if matches!(state, Some(Some('Z' | 'X')) | None) {
            continue;
        }
        let read = |f: &str| std::fs::read(format!("/proc/{pid}/{f}")).unwrap_or_default();
        out.push(Tagged {
            pid,
            comm: String::from_utf8_lossy(&read("comm")).trim().to_string(),
            cmdline: String::from_utf8_lossy(&read("cmdline")).replace('\0', " "),
        });
    }
    out
}

/// Polls until nothing carries the tag; panics naming what is left.
fn assert_nothing_left(tag: &str, context: &str) {
    let deadline = Instant::now() + LEFTOVERS_GONE;
    loop {
        let left = tagged(tag);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still alive {LEFTOVERS_GONE:?} after the kill: {left:#?}\n{context}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `wsgibench ARGS` to its end.
fn finish(cmd: &mut Command) -> (Output, String) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    let text = format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// `wsgibench report DIR` exits 0 and returns the page it wrote.
fn report(dir: &Path) -> String {
    let (out, text) = finish(wsgibench().arg("report").arg(dir));
    assert!(out.status.success(), "{text}");
    std::fs::read_to_string(dir.join("report.html")).unwrap()
}

/// `wsgibench history --db DB` exits 0; returns its stdout.
fn history(db: &Path) -> String {
    let (out, text) = finish(wsgibench().arg("history").arg("--db").arg(db));
    assert!(out.status.success(), "{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The status `report.html` shows in `case`'s heading.
fn status_in_page(page: &str, case: &str) -> Option<String> {
    let heading = format!("{case} <span class=\"status ");
    let at = page.find(&heading)? + heading.len();
    let rest = &page[at..];
    let text = &rest[rest.find('>')? + 1..];
    Some(text[..text.find('<')?].to_string())
}

/// The status column of `case` in results.csv.
fn csv_status(dir: &Path, case: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("results.csv")).ok()?;
    text.lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|c| c.trim_matches('"'))
                .collect::<Vec<_>>()
        })
        .find(|r| r.first() == Some(&case))
        // case, app, status, ...
        .map(|r| r[2].to_string())
}

/// A [`Run`] of the repository's suites/ci.toml, its results folder and history
/// database in a temporary folder of its own.
struct CiRun {
    run: Run,
    tag: String,
    out: PathBuf,
    db: PathBuf,
    /// Holds `out` and `db`: they go when it is dropped.
    tmp: tempfile::TempDir,
}

impl CiRun {
    /// Starts `cases` (a `--cases` list); `test` names the run's tag.
    fn start(test: &str, cases: &str) -> CiRun {
        let tmp = tempfile::tempdir().unwrap();
        let (out, db) = (tmp.path().join("out"), tmp.path().join("history.sqlite3"));
        let tag = unique_tag(test);
        let run = Run::start(
            tmp.path(),
            &repo(),
            &tag,
            &[
                "--suite".as_ref(),
                "suites/ci.toml".as_ref(),
                "--cases".as_ref(),
                cases.as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
                "--db".as_ref(),
                db.as_os_str(),
            ],
        );
        CiRun {
            run,
            tag,
            out,
            db,
            tmp,
        }
    }
}

/// SIGKILLs `run`, waits until no process carrying `tag` is left, then renders the
/// results folder `out`: what every kill must leave. Returns the run's output and the page.
fn kill9_then_report(run: Run, tag: &str, out: &Path) -> (String, String) {
    let output = run.kill9();
    assert_nothing_left(tag, &output);
    let page = report(out);
    (output, page)
}

/// Mid-case: gunicorn's master and its worker are running when the run dies.
#[test]
fn killed_mid_case() {
    let CiRun {
        mut run,
        tag,
        out,
        db,
        tmp,
    } = CiRun::start("mid-case", "bjoern,gunicorn-sync");
    run.wait_for("case-started:gunicorn-sync", FIRST_MARKER);
    let before = tagged(&tag);
    let gunicorns = before
        .iter()
        .filter(|p| p.cmdline.contains("gunicorn"))
        .count();
    assert!(
        gunicorns >= 2,
        "the master and its worker carry the tag: {before:#?}"
    );
    let watchdogs = before
        .iter()
        .filter(|p| p.comm == "wsgibench-watch")
        .count();
    assert!(watchdogs >= 1, "{before:#?}");
    let (output, page) = kill9_then_report(run, &tag, &out);
    assert_eq!(
        status_in_page(&page, "gunicorn-sync").as_deref(),
        Some("killed"),
        "{output}"
    );
    assert!(out.join("gunicorn-sync/intervals.jsonl").is_file());
    assert!(!out.join("gunicorn-sync/summary.json").exists());
    // bjoern had finished before the kill (or was not installed on this machine).
    let bjoern = status_in_page(&page, "bjoern").unwrap();
    assert!(
        bjoern == "ok" || bjoern == "not installed",
        "{bjoern}\n{output}"
    );
    history(&db);

    // The next run works, into the same history, and leaves nothing behind either.
    let out2 = tmp.path().join("out2");
    let tag2 = unique_tag("mid-case-next");
    let (done, text) = finish(
        wsgibench()
            .current_dir(repo())
            .env("WSGIBENCH_RUN_TAG", &tag2)
            .args(["run", "-q", "--suite", "suites/ci.toml", "--cases"])
            .arg("gunicorn-sync")
            .arg("--out")
            .arg(&out2)
            .arg("--db")
            .arg(&db),
    );
    assert!(done.status.success(), "{text}");
    assert_eq!(
        csv_status(&out2, "gunicorn-sync").as_deref(),
        Some("ok"),
        "{text}"
    );
    assert_nothing_left(&tag2, &text);
    let listed = history(&db);
    assert!(listed.contains("gunicorn-sync"), "{listed}");
}

/// After the last case: the servers are stopped, the tables and report are being written.
#[test]
fn killed_while_writing_the_report() {
    let CiRun {
        mut run,
        tag,
        out,
        db,
        tmp: _tmp,
    } = CiRun::start("report", "gunicorn-sync");
    run.wait_for("writing-report", FIRST_MARKER);
    let (output, page) = kill9_then_report(run, &tag, &out);
    assert_eq!(
        status_in_page(&page, "gunicorn-sync").as_deref(),
        Some("ok"),
        "{output}"
    );
    history(&db);
}

/// During the venv build, in a checkout of its own whose only requirement is pip (no
/// network, seconds), with a case served by the standard library's wsgiref.
#[test]
fn killed_during_the_venv_build() {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("checkout");
    std::fs::create_dir_all(checkout.join("python")).unwrap();
    std::fs::create_dir_all(checkout.join("suites")).unwrap();
    std::fs::copy(repo().join("python/app.py"), checkout.join("python/app.py")).unwrap();
    std::fs::write(checkout.join("python/requirements.txt"), "pip\n").unwrap();
    for suite in ["ci.toml", "apps.toml"] {
        std::fs::copy(
            repo().join("suites").join(suite),
            checkout.join("suites").join(suite),
        )
        .unwrap();
    }
    std::fs::write(
        checkout.join("suites/servers.toml"),
        "[[case]]\nname = \"wsgiref\"\ndescription = \"the standard library's server\"\n\
         command = [\"{python}\", \"-c\", \"import sys, app, wsgiref.simple_server as w; \
         w.make_server(sys.argv[1], int(sys.argv[2]), app.pong_plain).serve_forever()\", \
         \"{host}\", \"{port}\"]\n",
    )
    .unwrap();
    let cache = tmp.path().join("cache");
    let args = |out: &Path| -> Vec<std::ffi::OsString> {
        vec![
            "--suite".into(),
            "suites/ci.toml".into(),
            "--cache-dir".into(),
            cache.clone().into(),
            "--out".into(),
            out.into(),
            "--db".into(),
            tmp.path().join("history.sqlite3").into(),
        ]
    };
    let out = tmp.path().join("out");
    let tag = unique_tag("venv");
    let first = args(&out);
    let first: Vec<&OsStr> = first.iter().map(|a| a.as_os_str()).collect();
    let mut run = Run::start(tmp.path(), &checkout, &tag, &first);
    run.wait_for("venv-building", FIRST_MARKER);
    // Kill while `python -m venv` or pip runs: a tagged process that is neither the run
    // nor its watchdog.
    let run_pid = run.child.id();
    let deadline = Instant::now() + Duration::from_secs(120);
    let builder = loop {
        let found = tagged(&tag)
            .into_iter()
            .find(|p| p.pid != run_pid && p.comm != "wsgibench-watch");
        if let Some(p) = found {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "no venv builder seen\n{}",
            run.output()
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = run.kill9();
    assert_nothing_left(&tag, &format!("builder {builder:?}\n{output}"));
    let page = report(&out);
    assert_eq!(status_in_page(&page, "wsgiref").as_deref(), Some("not run"));

    // The next run finds the build cut short, makes the venv again and runs the case.
    let out2 = tmp.path().join("out2");
    let next = args(&out2);
    let (done, text) = finish(
        wsgibench()
            .current_dir(&checkout)
            .env("XDG_DATA_HOME", tmp.path().join("data"))
            .arg("run")
            .arg("-q")
            .args(&next),
    );
    assert!(done.status.success(), "{text}");
    assert!(text.contains("cut short"), "{text}");
    assert_eq!(
        csv_status(&out2, "wsgiref").as_deref(),
        Some("ok"),
        "{text}"
    );
    let complete = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .any(|e| e.path().join("wsgibench-complete").is_file());
    assert!(complete, "{text}");
}
