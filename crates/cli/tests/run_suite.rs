//! `wsgibench run` end to end: every catalog case plus one with a broken command,
//! under the CI protocol (suites/ci.toml: 4 s of load per case), real servers in the
//! managed virtualenv on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The shipped catalog plus a case whose command exits at once.
fn catalog_with_a_broken_case(dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(repo().join("suites/servers.toml")).unwrap();
    text.push_str(
        "\n[[case]]\nname = \"broken\"\ndescription = \"exits at once\"\n\
         command = [\"{python}\", \"-c\", \"import sys; print('no such server'); sys.exit(3)\"]\n",
    );
    let path = dir.join("servers.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    // The test's values hold no quoted commas except the version column, which is last.
    text.lines()
        .skip(1)
        .map(|l| {
            l.splitn(14, ',')
                .map(|c| c.trim_matches('"').to_string())
                .collect()
        })
        .collect()
}

#[test]
fn run_benchmarks_every_case_and_reports_the_broken_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let catalog = catalog_with_a_broken_case(tmp.path());
    let output = Command::new(env!("CARGO_BIN_EXE_wsgibench"))
        .current_dir(repo())
        // The run records itself in the history: keep it out of the user's data folder.
        .env("XDG_DATA_HOME", tmp.path().join("data"))
        .args(["run", "-q", "--suite", "suites/ci.toml", "--catalog"])
        .arg(&catalog)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );

    let rows = csv_rows(&out.join("results.csv"));
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    for case in testkit::SHIPPED_CASES.into_iter().chain(["broken"]) {
        assert!(
            names.contains(&case),
            "{case} missing from results.csv: {names:?}"
        );
    }
    for r in &rows {
        let (case, app, status) = (r[0].as_str(), r[1].as_str(), r[2].as_str());
        assert_eq!(app, "pong", "{r:?}");
        if case == "broken" {
            assert_eq!(status, "failed to start", "{r:?}");
            continue;
        }
        assert_eq!(status, "ok", "{case}: {r:?}\n{stdout}");
        // Every case was measured. How fast is not asserted: under three busy loops on
        // two cores gunicorn-sync gave 36 req/s where a quiet machine gives thousands.
        let rps: f64 = r[3].parse().unwrap_or(0.0);
        assert!(rps > 1.0, "{case}: {rps} req/s");
        let errors: u64 = r[9].parse().unwrap_or(u64::MAX);
        assert_eq!(errors, 0, "{case}: {r:?}");
    }
    // The broken case says why, with its log.
    assert!(stdout.contains("no such server"), "{stdout}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        md.contains("| bjoern") && md.contains("failed to start"),
        "{md}"
    );
    for chart in ["request-mean", "request-count"] {
        for ext in ["png", "svg"] {
            let p = out.join(format!("{chart}.{ext}"));
            let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            assert!(len > 2_000, "{} is {len} bytes", p.display());
        }
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bjoern/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["status"], "ok");
    assert!(summary["server_rss_mib"].as_f64().unwrap() > 1.0);
    assert!(
        summary["users_started"].as_u64().unwrap() >= 9,
        "{}",
        summary["users_started"]
    );
    // The whole run's distribution, for the report's percentile plot: it climbs to
    // the slowest answer, which is the summary's max.
    let distribution = summary["latency_distribution_us"].as_array().unwrap();
    assert!(distribution.len() >= 20, "{distribution:?}");
    let last = distribution.last().unwrap();
    assert_eq!(last["q"], 1.0);
    assert_eq!(last["us"], summary["latency_us"]["max"]);
    // The same distribution for HdrHistogram's tools: its last row counts every answer.
    let hgrm = std::fs::read_to_string(out.join("bjoern/latency.hgrm")).unwrap();
    let last_row = hgrm.lines().rfind(|l| !l.starts_with('#')).unwrap();
    let total: u64 = last_row.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert_eq!(total, summary["requests"].as_u64().unwrap(), "{hgrm}");
    assert!(stdout.contains("history   run 1"), "{stdout}");
    assert!(out.join("report.html").is_file());
    let lines = std::fs::read_to_string(out.join("bjoern/intervals.jsonl")).unwrap();
    assert!(lines.lines().count() >= 3, "{lines}");
}

/// `--repeat 3`: each case runs three times, interleaved (every case, then every case
/// again); each repetition keeps its own folder; the case's summary is the median
/// repetition by req/s and lists all three under `repeats`; results.csv shows the median.
#[test]
fn repeat_runs_every_case_n_times_interleaved_and_reports_the_median() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_wsgibench"))
        .current_dir(repo())
        .env("XDG_DATA_HOME", tmp.path().join("data"))
        .args([
            "run",
            "-q",
            "--suite",
            "suites/ci.toml",
            "--cases",
            "bjoern,waitress",
        ])
        .args(["--repeat", "3", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("run-to-run spread (--repeat 3)"),
        "{stdout}"
    );

    let rows = csv_rows(&out.join("results.csv"));
    let modified = |path: PathBuf| std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut finished = Vec::new();
    for case in ["bjoern", "waitress"] {
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(case).join("summary.json")).unwrap())
                .unwrap();
        let repeats = summary["repeats"].as_array().expect("repeats");
        assert_eq!(repeats.len(), 3, "{case}: {repeats:?}");
        let mut rps: Vec<f64> = repeats.iter().map(|r| r["rps"].as_f64().unwrap()).collect();
        assert!(rps.iter().all(|r| *r > 0.0), "{case}: {rps:?}");
        rps.sort_by(f64::total_cmp);
        assert_eq!(
            summary["rps"].as_f64(),
            Some(rps[1]),
            "{case}: not the median"
        );
        let row = rows
            .iter()
            .find(|r| r[0] == case)
            .expect("a results.csv row");
        assert_eq!(row[3], format!("{:.2}", rps[1]), "{case}: {row:?}");
        for rep in 1..=3 {
            let summary = out
                .join(case)
                .join(format!("rep{rep}"))
                .join("summary.json");
            finished.push((modified(summary), case, rep));
        }
    }
    // Interleaved: ordered by when they ended, the repetitions go round by round.
    finished.sort();
    let order: Vec<(&str, i32)> = finished.iter().map(|(_, c, r)| (*c, *r)).collect();
    assert_eq!(
        order,
        [
            ("bjoern", 1),
            ("waitress", 1),
            ("bjoern", 2),
            ("waitress", 2),
            ("bjoern", 3),
            ("waitress", 3)
        ]
    );
}

/// `wsgibench serve-case`: the catalog's server in the foreground, as a container runs
/// it, from a venv made already (`--venv`, as the image's): it answers Pong! on the
/// port asked, and is stopped here by its PID.
#[test]
fn serve_case_runs_one_server_in_the_foreground() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    // The venv the suite tests use (built here the first time: minutes).
    let cache = suite::pyenv::default_cache_dir().expect("HOME is set");
    let env = suite::PythonEnv::ensure(Path::new("python3"), &repo().join("python"), &cache)
        .expect("the managed venv");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsgibench"))
        .current_dir(repo())
        .args([
            "serve-case",
            "gunicorn-sync",
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .arg("--venv")
        .arg(env.root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        let attempt = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text)
        });
        match attempt {
            Ok(text) if text.starts_with("HTTP/1.") => break text,
            _ if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("gunicorn-sync never answered on {port}");
            }
            _ => {
                assert!(child.try_wait().unwrap().is_none(), "serve-case exited");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    // SIGTERM, as a container stop sends: gunicorn's master then stops its worker.
    // SAFETY: kill(2) on the PID of the child this test started and has not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let stopped = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < stopped {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        answer.contains(" 200 ") && answer.ends_with("Pong!"),
        "{answer}"
    );
}

/// A copy of the checkout's python/ and suites/ (what `wsgibench run` reads from its
/// working directory), with two more apps: one whose declared answer no server gives,
/// and one that raises.
fn checkout_with_a_wrong_and_a_broken_app(dir: &Path) {
    testkit::copy_dir(&repo().join("python"), &dir.join("python"));
    testkit::copy_dir(&repo().join("suites"), &dir.join("suites"));
    std::fs::write(
        dir.join("python/apps/raises.py"),
        "def app(environ, start_response):\n    raise RuntimeError('the database is gone')\n",
    )
    .unwrap();
    let mut apps = std::fs::read_to_string(dir.join("suites/apps.toml")).unwrap();
    apps.push_str(
        "\n[[app]]\nname = \"wrong\"\ncallable = \"app:pong\"\n\
         request = { path = \"/\" }\nexpect = { body = \"Pang!\" }\n\
         \n[[app]]\nname = \"broken\"\ncallable = \"apps.raises:app\"\n\
         request = { path = \"/\" }\nexpect = { body = \"ok\" }\n",
    );
    std::fs::write(dir.join("suites/apps.toml"), apps).unwrap();
}

/// `--apps`: every case serves every app, each pair in its own folder and row; a
/// server that answers an app wrongly, or an app that fails, is reported and never
/// measured or ranked; report.html has the servers x apps matrix.
#[test]
fn apps_make_a_matrix_and_a_wrong_or_broken_app_is_never_ranked() {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("checkout");
    checkout_with_a_wrong_and_a_broken_app(&checkout);
    let out = tmp.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_wsgibench"))
        .current_dir(&checkout)
        .env("XDG_DATA_HOME", tmp.path().join("data"))
        .args([
            "run",
            "-q",
            "--suite",
            "suites/ci.toml",
            "--cases",
            "bjoern,gunicorn-sync",
            "--apps",
            "pong,upload,wrong,broken",
            "--out",
        ])
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The broken app failed: the run says so in its exit code.
    assert_eq!(output.status.code(), Some(4), "{stdout}\n{stderr}");
    let rows = csv_rows(&out.join("results.csv"));
    let pairs: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("bjoern", "pong", "ok"),
            ("gunicorn-sync", "pong", "ok"),
            ("bjoern", "upload", "ok"),
            ("gunicorn-sync", "upload", "ok"),
            ("bjoern", "wrong", "answers differently"),
            ("gunicorn-sync", "wrong", "answers differently"),
            ("bjoern", "broken", "app error"),
            ("gunicorn-sync", "broken", "app error"),
        ],
        "{stdout}"
    );
    for r in &rows {
        let measured = r[2] == "ok";
        assert_eq!(
            !r[3].is_empty(),
            measured,
            "req/s only when measured: {r:?}"
        );
    }
    // Each pair's folder; the original app keeps the bare name.
    for folder in [
        "bjoern",
        "bjoern@upload",
        "gunicorn-sync@wrong",
        "bjoern@broken",
    ] {
        assert!(out.join(folder).join("summary.json").is_file(), "{folder}");
    }
    let wrong: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("bjoern@wrong/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(wrong["app"], "wrong");
    let detail = wrong["detail"].as_str().unwrap();
    assert!(
        detail.contains("body \"Pong!\" (expected \"Pang!\")"),
        "{detail}"
    );
    // The app's own failure, with its traceback from the server's log.
    let broken: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("bjoern@broken/summary.json")).unwrap(),
    )
    .unwrap();
    let detail = broken["detail"].as_str().unwrap();
    assert!(detail.contains("status 500"), "{detail}");
    assert!(detail.contains("the database is gone"), "{detail}");
    // The upload was really sent: 16 KiB per request, and the body was read back.
    let upload: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("bjoern@upload/summary.json")).unwrap(),
    )
    .unwrap();
    let requests = upload["requests"].as_u64().unwrap();
    assert!(requests > 0);
    assert!(
        upload["bytes_sent"].as_u64().unwrap() > requests * 16384,
        "{upload}"
    );
    // The original's two charts per app: a chart mixing apps would compare a server
    // with itself.
    for chart in [
        "request-mean.png",
        "request-count.svg",
        "request-mean@upload.png",
    ] {
        assert!(out.join(chart).is_file(), "{chart}");
    }
    // The tables rank within each app, under its name.
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    for heading in ["### pong", "### upload", "### wrong", "### broken"] {
        assert!(md.contains(heading), "{md}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let matrix = &html[html.find("<section id=\"matrix\">").expect("the matrix")..];
    let matrix = &matrix[..matrix.find("</section>").unwrap()];
    assert_eq!(
        matrix.matches("class=\"n best\"").count(),
        2,
        "one best per measured app"
    );
    assert_eq!(matrix.matches("answers differently").count(), 2);
    assert_eq!(matrix.matches("app error").count(), 2);
}

fn own_app_dir() -> PathBuf {
    repo().join("crates/cli/tests/data/own_app")
}

/// `wsgibench run` in the repository with `args`, its history kept in `tmp`.
fn run_in_repo(tmp: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_wsgibench"))
        .current_dir(repo())
        .env("XDG_DATA_HOME", tmp.join("data"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `--app`: a user's app with its own requirements and two paths. Its servers'
/// answers are compared before any load: the one that answers differently is not
/// measured; the others are, on both paths.
#[test]
fn your_own_app_is_compared_across_servers_then_measured() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let dir = own_app_dir();
    let (code, stdout, stderr) = run_in_repo(
        tmp.path(),
        &[
            "run",
            "-q",
            "--suite",
            "suites/ci.toml",
            "--cases",
            "bjoern,gunicorn-sync,waitress",
            "--app",
            "shop.wsgi:app",
            "--app-path",
            dir.to_str().unwrap(),
            "--requirements",
            dir.join("requirements.txt").to_str().unwrap(),
            "--path",
            "/",
            "--path",
            "/time",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("comparing how each server answers the shop-wsgi app"),
        "{stdout}"
    );
    let rows = csv_rows(&out.join("results.csv"));
    let pairs: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("bjoern", "shop-wsgi", "ok"),
            ("gunicorn-sync", "shop-wsgi", "answers differently"),
            ("waitress", "shop-wsgi", "ok"),
        ],
        "{stdout}"
    );
    let odd: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("gunicorn-sync@shop-wsgi/summary.json")).unwrap(),
    )
    .unwrap();
    let detail = odd["detail"].as_str().unwrap();
    assert!(
        detail.contains("GET / answered status 200 with 23 bytes")
            && detail.contains("2 of 3 servers answered status 200 with 4 bytes"),
        "{detail}"
    );
    // Both paths were asked under load: the users were shared between them.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("bjoern@shop-wsgi/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["errors_total"], 0, "{summary}");
    assert!(summary["requests"].as_u64().unwrap() > 100, "{summary}");
}

/// An app that fails as it loads is an app error on every server, with its
/// traceback, never ranked; the run exits 4. Requirements that conflict with the
/// servers' pins are refused, naming the file, before anything runs.
#[test]
fn a_broken_app_or_conflicting_requirements_are_said_and_exit_non_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let dir = own_app_dir();
    let (code, stdout, stderr) = run_in_repo(
        tmp.path(),
        &[
            "run",
            "-q",
            "--suite",
            "suites/ci.toml",
            "--cases",
            "bjoern,gunicorn-sync",
            "--app",
            "broken.wsgi:app",
            "--app-path",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(4), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the app failed on bjoern (broken-wsgi)"),
        "{stderr}"
    );
    let rows = csv_rows(&out.join("results.csv"));
    for r in &rows {
        assert_eq!(r[2], "app error", "{r:?}\n{stdout}");
        assert!(r[3].is_empty(), "never measured: {r:?}");
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("gunicorn-sync@broken-wsgi/summary.json")).unwrap(),
    )
    .unwrap();
    let detail = summary["detail"].as_str().unwrap();
    assert!(detail.contains("SHOP_DATABASE_URL is not set"), "{detail}");

    let (code, stdout, stderr) = run_in_repo(
        tmp.path(),
        &[
            "run",
            "-q",
            "--suite",
            "suites/ci.toml",
            "--cases",
            "bjoern",
            "--app",
            "shop.wsgi:app",
            "--app-path",
            dir.to_str().unwrap(),
            "--requirements",
            dir.join("conflicting-requirements.txt").to_str().unwrap(),
            "--out",
            tmp.path().join("out2").to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("conflicting-requirements.txt")
            && stderr.contains("conflict with the servers' pins"),
        "{stderr}"
    );
}

/// `--requests`: a weighted mix from JSON Lines (a POST with a UTF-8 JSON body among
/// GETs), then a Tsung file's sessions under the protocol's phases.
#[test]
fn your_apps_requests_come_from_a_mix_file_or_a_tsung_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = own_app_dir();
    let requirements = dir.join("requirements.txt");
    for (file, cases, note) in [
        ("mix.jsonl", "bjoern,waitress", None),
        (
            "sessions.xml",
            "bjoern",
            Some("the protocol's phases apply, not the file's <load>"),
        ),
    ] {
        let out = tmp.path().join(file);
        let (code, stdout, stderr) = run_in_repo(
            tmp.path(),
            &[
                "run",
                "-q",
                "--suite",
                "suites/ci.toml",
                "--cases",
                cases,
                "--app",
                "shop.wsgi:app",
                "--app-path",
                dir.to_str().unwrap(),
                "--requirements",
                requirements.to_str().unwrap(),
                "--requests",
                dir.join(file).to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(code, Some(0), "{file}: {stdout}\n{stderr}");
        if let Some(note) = note {
            assert!(stdout.contains(note), "{stdout}");
        }
        for r in csv_rows(&out.join("results.csv")) {
            assert_eq!(r[2], "ok", "{file}: {r:?}\n{stdout}");
        }
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("bjoern@shop-wsgi/summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(summary["errors_total"], 0, "{file}: {summary}");
        let (requests, sent) = (
            summary["requests"].as_u64().unwrap(),
            summary["bytes_sent"].as_u64().unwrap(),
        );
        // A GET of / is about 40 bytes on the wire; the POSTs with a body make the
        // average larger, so some users asked them.
        assert!(requests > 100, "{file}: {summary}");
        assert!(
            sent > requests * 45,
            "{file}: {sent} bytes for {requests} requests: no POST was sent"
        );
    }
}

/// `--workers 2` on gunicorn-sync: run.json records the workers, the server's CPUs and,
/// on a machine of two CPUs or fewer, the shared-CPUs mark, which results.md repeats.
#[test]
fn run_with_two_workers_records_them_and_the_placement() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_wsgibench"))
        .current_dir(repo())
        .env("XDG_DATA_HOME", tmp.path().join("data"))
        .args([
            "run",
            "-q",
            "--workers",
            "2",
            "--suite",
            "suites/ci.toml",
            "--cases",
            "gunicorn-sync",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["workers"], 2, "{meta}");
    let cpus = suite::allowed_cpus();
    let shared = cpus.len() <= 2;
    assert_eq!(
        meta["shared_cpus"].as_bool().unwrap_or(false),
        shared,
        "{meta}"
    );
    let server_cpus: Vec<u64> = meta["server_cpus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    assert_eq!(server_cpus.len(), cpus.len().min(2), "{meta}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("gunicorn-sync/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["workers"], 2, "{summary}");
    assert_eq!(summary["status"], "ok", "{summary}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.starts_with("Workers: 2 per server"), "{md}");
    assert_eq!(md.contains("Shared CPUs"), shared, "{md}");
    assert_eq!(stdout.contains("shared CPUs"), shared, "{stdout}");
}
