//! The history database end to end: results folders recorded, listed, compared and
//! exported; and a database whose writer was SIGKILLed mid-record still opens whole.
//!
//! Run A is the committed quick-run folder (real output of `wsgibench run --quick`);
//! the others are copies of it with numbers changed, or synthetic folders, so every
//! expected delta is known exactly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use history::compare::{self, Metric, Noise};
use history::{self, HistoryError};
use serde_json::{json, Value};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/quick-run")
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

fn repeats(rps: &[f64], p50_us: u64) -> Value {
    rps.iter()
        .map(|&r| json!({"rps": r, "p50_us": p50_us, "p90_us": p50_us * 2, "p99_us": p50_us * 3, "mean_us": p50_us as f64, "errors": 0}))
        .collect()
}

/// Run A: the fixture with repeats on bjoern. Run B: bjoern 20 % faster (repeats
/// apart), gevent's p50 doubled (no repeats), gunicorn-sync gone, waitress new.
fn two_runs(tmp: &Path) -> (PathBuf, PathBuf) {
    let a = tmp.join("a");
    testkit::copy_dir(&fixture(), &a);
    edit_json(&a.join("bjoern/summary.json"), |v| {
        v["repeats"] = repeats(&[12500.0, 12660.125, 12800.0], 438);
    });
    let b = tmp.join("b");
    testkit::copy_dir(&a, &b);
    edit_json(&b.join("run.json"), |v| {
        v["started_utc"] = "2026-11-26T09-00-00Z".into();
        v["cases"] = json!(["bjoern", "gevent", "meinheld", "waitress"]);
    });
    edit_json(&b.join("bjoern/summary.json"), |v| {
        v["rps"] = json!(12660.125 * 1.2);
        v["repeats"] = repeats(&[15000.0, 12660.125 * 1.2, 15400.0], 438);
    });
    edit_json(&b.join("gevent/summary.json"), |v| {
        v["latency_us"]["p50"] = json!(44095 * 2);
    });
    std::fs::remove_dir_all(b.join("gunicorn-sync")).unwrap();
    std::fs::create_dir_all(b.join("waitress")).unwrap();
    std::fs::write(
        b.join("waitress/summary.json"),
        r#"{"case": "waitress", "status": "ok", "requests": 100, "duration_s": 1.0,
            "rps": 100.0, "latency_us": {"mean": 1000.0, "p50": 900, "p90": 1500,
            "p99": 2000, "max": 3000}, "errors_total": 0, "intervals": []}"#,
    )
    .unwrap();
    (a, b)
}

#[test]
fn two_runs_recorded_listed_compared_and_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("deep/folder/history.sqlite3");
    let (a, b) = two_runs(tmp.path());
    let id_a = history::record(&db, &a).unwrap();
    let id_b = history::record(&db, &b).unwrap();
    assert_eq!((id_a, id_b), (1, 2));

    let runs = history::list(&db).unwrap();
    assert_eq!(runs.len(), 2);
    let ra = &runs[0];
    assert_eq!(ra.id, 1);
    assert_eq!(ra.started_utc.as_deref(), Some("2026-11-25T12-23-43Z"));
    assert_eq!((ra.cases, ra.cases_ok), (4, 3), "meinheld crashed");
    assert_eq!(ra.best, Some(("bjoern".to_string(), 12660.125)));
    assert_eq!(ra.interrupted, Some(false));
    assert!(ra.protocol.as_deref().unwrap().starts_with("quick look"));
    assert_eq!(Path::new(&ra.dir), std::fs::canonicalize(&a).unwrap());
    assert_eq!(runs[1].best.as_ref().unwrap().1, 12660.125 * 1.2);

    // The stored rows are the results table of the folder, in the suite's order.
    let stored = history::run(&db, id_a).unwrap();
    let loaded = results::read_run(&a).unwrap();
    let expected: Vec<_> = loaded
        .cases
        .iter()
        .map(render::table::CaseRow::of)
        .collect();
    let rows: Vec<_> = stored.cases.iter().map(|c| c.row.clone()).collect();
    assert_eq!(rows, expected);
    assert_eq!(rows[0].p50_ms, Some(0.438));
    assert_eq!(rows[3].status, results::CaseStatus::Crashed);
    assert_eq!(rows[3].rps, None);
    assert_eq!(stored.cases[0].repeats.len(), 3);
    assert!(stored.cases[1].repeats.is_empty());
    assert_eq!(stored.machine["cores"], 2);
    assert_eq!(
        render::table::to_csv(&rows),
        render::table::to_csv(&expected)
    );
    let series = history::intervals(&db, id_a, "bjoern").unwrap();
    assert_eq!(series.len(), 4);
    assert!(series.windows(2).all(|w| w[0].t_s < w[1].t_s));
    let total: u64 = series.iter().map(|i| i.requests).sum();
    assert_eq!(
        total,
        loaded.cases[0].measured.as_ref().unwrap().digest.requests
    );

    let c = compare::compare(&db, id_a, id_b).unwrap();
    assert_eq!(c.only_in_a, ["gunicorn-sync"]);
    assert_eq!(c.only_in_b, ["waitress"]);
    let names: Vec<&str> = c.servers.iter().map(|s| s.case.as_str()).collect();
    assert_eq!(names, ["bjoern", "gevent", "meinheld"]);
    let bj = &c.servers[0].metrics;
    assert_eq!(bj[0].metric, Metric::Rps);
    assert!((bj[0].change().unwrap() - 12660.125 * 0.2).abs() < 1e-6);
    assert!((bj[0].percent().unwrap() - 20.0).abs() < 1e-9);
    assert_eq!(bj[0].noise, Noise::Beyond);
    assert_eq!(bj[0].improved(), Some(true));
    assert_eq!(bj[1].change(), Some(0.0));
    assert_eq!(bj[1].noise, Noise::Within);
    let ge = &c.servers[1].metrics;
    assert_eq!(ge[1].metric, Metric::P50);
    assert!((ge[1].change().unwrap() - 44.095).abs() < 1e-9);
    assert!((ge[1].percent().unwrap() - 100.0).abs() < 1e-9);
    assert_eq!(ge[1].improved(), Some(false));
    assert_eq!(ge[1].noise, Noise::Unknown);
    assert_eq!(c.servers[2].status_b, results::CaseStatus::Crashed);
    assert_eq!(c.servers[2].metrics[0].change(), None);

    let text = c.to_text();
    assert!(text.contains("+2532 (+20.0%)"), "{text}");
    assert!(text.contains("beyond noise: better"), "{text}");
    assert!(text.contains("no repeats: noise unknown"), "{text}");
    assert!(text.contains("only in run 2: waitress"), "{text}");
    let html = c.to_html();
    assert!(!html.contains("http:") && !html.contains("https:"));
    assert!(html.contains("gunicorn-sync"));

    let e = compare::compare(&db, id_a, 99).unwrap_err();
    assert!(matches!(e, HistoryError::UnknownRun { id: 99, .. }), "{e}");
    assert!(e.to_string().starts_with("no run 99 in "), "{e}");
}

#[test]
fn a_folder_without_run_json_records_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("h.sqlite3");
    history::record(&db, &fixture()).unwrap();
    let e = history::record(&db, tmp.path()).unwrap_err();
    assert!(e.to_string().contains("run.json"), "{e}");
    assert_eq!(history::list(&db).unwrap().len(), 1);
}

/// A results folder with `cases` cases of `intervals` intervals each: big enough that
/// recording it takes a while, so a SIGKILL is likely to land inside a transaction.
fn heavy_run(dir: &Path, cases: usize, intervals: usize) {
    let names: Vec<String> = (0..cases).map(|i| format!("server{i}")).collect();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("run.json"),
        json!({"cases": names, "started_utc": "2026-01-01T00-00-00Z"}).to_string(),
    )
    .unwrap();
    for name in &names {
        let series: Vec<Value> = (0..intervals)
            .map(|i| {
                json!({"index": i, "t_s": i as f64 + 1.0, "requests": 10, "rps": 10.0,
                            "latency_us": {"mean": 100.0, "p50": 100, "p99": 200}})
            })
            .collect();
        std::fs::create_dir_all(dir.join(name)).unwrap();
        std::fs::write(
            dir.join(name).join("summary.json"),
            json!({"case": name, "status": "ok", "requests": 10 * intervals,
                   "rps": 10.0, "intervals": series})
            .to_string(),
        )
        .unwrap();
    }
}

const CHILD_DB: &str = "WSGIBENCH_TEST_HISTORY_DB";
const CHILD_DIR: &str = "WSGIBENCH_TEST_HISTORY_DIR";

/// Not a test on its own: the writer that `killed_writer_leaves_a_database_that_opens`
/// starts as a child process (this test binary, filtered to this name). Without the
/// variables it returns at once.
#[test]
fn child_records_in_a_loop() {
    let (Some(db), Some(dir)) = (std::env::var_os(CHILD_DB), std::env::var_os(CHILD_DIR)) else {
        return;
    };
    loop {
        history::record(Path::new(&db), Path::new(&dir)).unwrap();
    }
}

#[test]
fn killed_writer_leaves_a_database_that_opens() {
    const CASES: usize = 3;
    const INTERVALS: usize = 2000;
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("h.sqlite3");
    let dir = tmp.path().join("run");
    heavy_run(&dir, CASES, INTERVALS);
    let mut seen = 0;
    // Several kills at different moments, on the same file: each one must leave it
    // whole, and recovery from one must not break the next. One record takes ~80 ms
    // in a debug build (about 50 reading the JSON, then the transaction), so delays
    // of 0 to 105 ms after a commit put some kills inside a transaction.
    for round in 0..8u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child_records_in_a_loop", "--exact", "--nocapture"])
            .env(CHILD_DB, &db)
            .env(CHILD_DIR, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        // Wait for two new commits, so the child is surely in its loop.
        while history::list(&db).map(|r| r.len()).unwrap_or(0) < seen + 2 {
            assert!(Instant::now() < deadline, "the writer recorded nothing");
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
                panic!("the writer exited with {status}: {err}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(round * 15));
        // std's Child::kill is SIGKILL on Unix, sent to this child's PID only.
        child.kill().unwrap();
        child.wait().unwrap();

        let runs = history::list(&db).unwrap();
        assert!(runs.len() >= seen + 2, "committed runs were lost");
        seen = runs.len();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        for r in &runs {
            assert_eq!(r.cases, CASES, "run {} lost cases", r.id);
            let run = history::run(&db, r.id).unwrap();
            assert_eq!(run.cases.len(), CASES);
            for c in &run.cases {
                let n = history::intervals(&db, r.id, &c.row.case).unwrap().len();
                assert_eq!(n, INTERVALS, "run {} case {}", r.id, c.row.case);
            }
        }
        // Nothing half-written outside the listed runs either.
        let orphans: i64 = conn
            .query_row(
                "SELECT count(*) FROM intervals WHERE run_id NOT IN (SELECT id FROM runs)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0);
    }
}
