//! Layout version 1 to 2 on a database the previous release wrote
//! (`tests/data/results-folders/history.sqlite3`, version 1): every run, case and
//! interval keeps its numbers and its id, a run recorded afterwards gets a fresh id,
//! the upgraded file has the layout of a new one, a failed upgrade leaves the v1 file
//! as it was, and v2 holds one case name once per app.
//!
//! The expected rows are read from the v1 file with plain SQL before any wsgibench code
//! opens it, so nothing here depends on the fixture's particular numbers.

use std::path::{Path, PathBuf};

use history::compare;
use history::{CaseRecord, HistoryError, IntervalRow, Repeat};
use render::table::CaseRow;
use rusqlite::types::Value;
use rusqlite::Connection;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/results-folders")
        .join(name)
}

/// The committed v1 file, copied: opening a WAL database writes beside it, and the
/// upgrade writes into it.
fn v1_copy(tmp: &Path) -> PathBuf {
    let db = tmp.join("history.sqlite3");
    std::fs::copy(fixture("history.sqlite3"), &db).unwrap();
    db
}

/// Every row of a query, as SQLite returns it: no conversion to hide a change.
fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Deletes run `id` through `conn` and checks that no case or interval of it is left:
/// the foreign keys cascade only on a connection that has them on.
fn assert_deleting_the_run_takes_its_rows(conn: &Connection, id: i64) {
    conn.execute("DELETE FROM runs WHERE id = ?1", [id])
        .unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM cases WHERE run_id = ?1)
                  + (SELECT count(*) FROM intervals WHERE run_id = ?1)",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "run {id}");
}

fn version(db: &Path) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap()
}

fn columns(conn: &Connection, table: &str) -> Vec<String> {
    rows(conn, &format!("PRAGMA table_info({table})"))
        .into_iter()
        .map(|r| text(&r[1]).unwrap())
        .collect()
}

fn real(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::Real(x) => Some(*x),
        Value::Integer(n) => Some(*n as f64),
        other => panic!("not a number: {other:?}"),
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Null => None,
        Value::Integer(n) => Some(*n),
        other => panic!("not an integer: {other:?}"),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Text(s) => Some(s.clone()),
        other => panic!("not text: {other:?}"),
    }
}

/// What the v1 file holds, read with plain SQL.
struct V1 {
    /// Every column of `runs`, by name, in id order.
    run_columns: Vec<String>,
    runs: Vec<Vec<Value>>,
    /// (rowid, run_id, position, case_name, status, rps, mean_ms, p50_ms, p90_ms,
    /// p99_ms, max_ms, errors, server_cpu_percent, server_rss_mib,
    /// generator_cpu_percent, server_version, repeats), by run and position.
    cases: Vec<Vec<Value>>,
    /// (run_id, case_name, t_s, requests, rps, mean_ms, p50_ms, p99_ms, errors).
    intervals: Vec<Vec<Value>>,
    /// AUTOINCREMENT's high-water mark for `runs`.
    sequence: i64,
}

/// The columns of `cases` both layouts have.
const CASE_COLUMNS: &str = "run_id, position, case_name, status, rps, mean_ms, p50_ms,
    p90_ms, p99_ms, max_ms, errors, server_cpu_percent, server_rss_mib,
    generator_cpu_percent, server_version, repeats";
const V1_INTERVALS: &str = "SELECT run_id, case_name, t_s, requests, rps, mean_ms, p50_ms,
    p99_ms, errors FROM intervals ORDER BY run_id, case_name, t_s";
/// The same rows from a v2 file: the case named through `case_id`.
const V2_INTERVALS: &str = "SELECT i.run_id, c.case_name, i.t_s, i.requests, i.rps,
    i.mean_ms, i.p50_ms, i.p99_ms, i.errors
    FROM intervals i JOIN cases c ON c.id = i.case_id ORDER BY i.run_id, c.case_name, i.t_s";

fn read_v1(db: &Path) -> V1 {
    let conn = Connection::open(db).unwrap();
    let run_columns = columns(&conn, "runs");
    V1 {
        runs: rows(
            &conn,
            &format!("SELECT {} FROM runs ORDER BY id", run_columns.join(", ")),
        ),
        run_columns,
        cases: rows(
            &conn,
            &format!("SELECT rowid, {CASE_COLUMNS} FROM cases ORDER BY run_id, position"),
        ),
        intervals: rows(&conn, V1_INTERVALS),
        sequence: conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'runs'",
                [],
                |r| r.get(0),
            )
            .unwrap(),
    }
}

impl V1 {
    fn run_ids(&self) -> Vec<i64> {
        self.runs.iter().map(|r| int(&r[0]).unwrap()).collect()
    }

    fn run_field(&self, run: &[Value], name: &str) -> Value {
        let i = self.run_columns.iter().position(|c| c == name).unwrap();
        run[i].clone()
    }

    /// The cases of run `id` as `history::run` should return them.
    fn case_records(&self, id: i64) -> Vec<CaseRecord> {
        self.cases
            .iter()
            .filter(|c| int(&c[1]) == Some(id))
            .map(|c| CaseRecord {
                row: CaseRow {
                    case: text(&c[3]).unwrap(),
                    app: None,
                    status: results::CaseStatus::parse(&text(&c[4]).unwrap()).unwrap(),
                    rps: real(&c[5]),
                    latency_mean_ms: real(&c[6]),
                    p50_ms: real(&c[7]),
                    p90_ms: real(&c[8]),
                    p99_ms: real(&c[9]),
                    max_ms: real(&c[10]),
                    errors: int(&c[11]).map(|n| n as u64),
                    server_cpu_percent: real(&c[12]),
                    server_rss_mib: real(&c[13]),
                    generator_cpu_percent: real(&c[14]),
                    server_version: text(&c[15]),
                },
                repeats: text(&c[16])
                    .map(|j| serde_json::from_str::<Vec<Repeat>>(&j).unwrap())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// The series of one case as `history::intervals` should return it.
    fn series(&self, id: i64, case: &str) -> Vec<IntervalRow> {
        self.intervals
            .iter()
            .filter(|i| int(&i[0]) == Some(id) && text(&i[1]).as_deref() == Some(case))
            .map(|i| IntervalRow {
                t_s: real(&i[2]).unwrap(),
                requests: int(&i[3]).unwrap() as u64,
                rps: real(&i[4]).unwrap(),
                mean_ms: real(&i[5]),
                p50_ms: real(&i[6]),
                p99_ms: real(&i[7]),
                errors: int(&i[8]).unwrap() as u64,
            })
            .collect()
    }
}

/// Everything the public API returns for a database: the list, each run in full with
/// each case's series, its export (the CSV `wsgibench export` writes) and the
/// comparison of each run with the next.
#[derive(Debug, PartialEq)]
struct Seen {
    list: Vec<history::RunRow>,
    runs: Vec<history::RecordedRun>,
    series: Vec<Vec<IntervalRow>>,
    exports: Vec<String>,
    comparisons: Vec<String>,
}

fn seen(db: &Path) -> Seen {
    let list = history::list(db).unwrap();
    let runs: Vec<_> = list
        .iter()
        .map(|r| history::run(db, r.id).unwrap())
        .collect();
    let series = runs
        .iter()
        .flat_map(|r| {
            r.cases
                .iter()
                .map(|c| history::intervals(db, r.run.id, &c.row.case).unwrap())
        })
        .collect();
    let exports = runs
        .iter()
        .map(|r| {
            let rows: Vec<_> = r.cases.iter().map(|c| c.row.clone()).collect();
            render::table::to_csv(&rows)
        })
        .collect();
    let comparisons = list
        .windows(2)
        .map(|w| compare::compare(db, w[0].id, w[1].id).unwrap().to_text())
        .collect();
    Seen {
        list,
        runs,
        series,
        exports,
        comparisons,
    }
}

#[test]
fn the_fixture_is_a_v1_file() {
    let tmp = tempfile::tempdir().unwrap();
    let db = v1_copy(tmp.path());
    assert_eq!(version(&db), 1);
    let conn = Connection::open(&db).unwrap();
    assert!(!columns(&conn, "cases").contains(&"app".to_string()));
    assert!(!columns(&conn, "runs").contains(&"agents".to_string()));
    let v1 = read_v1(&db);
    assert!(!v1.runs.is_empty() && !v1.cases.is_empty() && !v1.intervals.is_empty());
}

#[test]
fn reading_a_v1_file_does_not_upgrade_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = v1_copy(tmp.path());
    let v1 = read_v1(&db);
    let master = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name";
    let before = rows(&Connection::open(&db).unwrap(), master);

    let seen = seen(&db);
    assert_eq!(version(&db), 1);
    assert_eq!(rows(&Connection::open(&db).unwrap(), master), before);
    // Read in the v1 layout, everything is the pong app on one machine.
    assert_eq!(seen.list.len(), v1.runs.len());
    for run in &seen.runs {
        assert_eq!(run.agents, None);
        assert_eq!(run.cases, v1.case_records(run.run.id));
    }
    // No other app was served in v1.
    let id = seen.list[0].id;
    let case = &seen.runs[0].cases[0].row.case;
    assert!(!history::intervals(&db, id, case).unwrap().is_empty());
    assert!(history::intervals_for_app(&db, id, case, Some("json"))
        .unwrap()
        .is_empty());
}

#[test]
fn upgrading_keeps_every_run_case_and_interval_and_its_id() {
    let tmp = tempfile::tempdir().unwrap();
    let db = v1_copy(tmp.path());
    let v1 = read_v1(&db);
    // What the API shows of the v1 file, read before anything writes to it.
    let before = seen(&db);
    assert_eq!(version(&db), 1);

    // The first writer upgrades: recording a run is what a user does.
    let new_id = history::record(&db, &fixture("plain")).unwrap();
    assert_eq!(version(&db), 2);

    let conn = Connection::open(&db).unwrap();
    // Ids, every v1 column of every run, and AUTOINCREMENT's mark: unchanged.
    let runs_after = rows(
        &conn,
        &format!(
            "SELECT {} FROM runs WHERE id != {new_id} ORDER BY id",
            v1.run_columns.join(", ")
        ),
    );
    assert_eq!(runs_after, v1.runs);
    let max_old = *v1.run_ids().iter().max().unwrap();
    assert!(new_id > max_old && new_id > v1.sequence, "{new_id}");
    let sequence: i64 = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'runs'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sequence, new_id);
    let no_agents = rows(&conn, "SELECT count(*) FROM runs WHERE agents IS NOT NULL");
    assert_eq!(no_agents, [[Value::Integer(0)]]);
    // Each case kept its v1 rowid as its id, and every number.
    let cases_after = rows(
        &conn,
        &format!(
            "SELECT id, {CASE_COLUMNS} FROM cases WHERE run_id != {new_id}
             ORDER BY run_id, position"
        ),
    );
    assert_eq!(cases_after, v1.cases);
    let apps = rows(&conn, "SELECT count(*) FROM cases WHERE app IS NOT NULL");
    assert_eq!(apps, [[Value::Integer(0)]]);
    let old_intervals: Vec<_> = rows(&conn, V2_INTERVALS)
        .into_iter()
        .filter(|r| int(&r[0]) != Some(new_id))
        .collect();
    assert_eq!(old_intervals, v1.intervals);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert!(rows(&conn, "PRAGMA foreign_key_check").is_empty());
    drop(conn);

    // Through the API: the old runs read as they did before, and as the v1 rows say.
    let after = seen(&db);
    let old = |s: &Seen| Seen {
        list: s.list.iter().filter(|r| r.id != new_id).cloned().collect(),
        runs: s
            .runs
            .iter()
            .filter(|r| r.run.id != new_id)
            .cloned()
            .collect(),
        series: s.series[..before.series.len()].to_vec(),
        exports: s.exports[..before.exports.len()].to_vec(),
        comparisons: s.comparisons[..before.comparisons.len()].to_vec(),
    };
    assert_eq!(old(&after), before);
    assert_eq!(
        after.list.iter().map(|r| r.id).collect::<Vec<_>>(),
        [v1.run_ids(), vec![new_id]].concat()
    );
    for (raw, run) in v1.runs.iter().zip(&after.runs) {
        let id = run.run.id;
        let field = |name| v1.run_field(raw, name);
        assert_eq!(Value::Integer(id), field("id"));
        assert_eq!(run.run.started_utc, text(&field("started_utc")));
        assert_eq!(run.run.finished_utc, text(&field("finished_utc")));
        assert_eq!(run.run.command, text(&field("command")));
        assert_eq!(run.run.protocol, text(&field("protocol")));
        assert_eq!(Some(run.run.dir.clone()), text(&field("dir")));
        assert_eq!(
            run.run.interrupted,
            int(&field("interrupted")).map(|n| n != 0)
        );
        assert_eq!(run.placement, text(&field("placement")));
        assert_eq!(run.suite_file, text(&field("suite_file")));
        assert_eq!(run.wsgibench_version, text(&field("wsgibench_version")));
        let machine: serde_json::Value =
            serde_json::from_str(&text(&field("machine")).unwrap()).unwrap();
        assert_eq!(run.machine, machine);
        assert_eq!(run.agents, None);
        assert_eq!(run.cases, v1.case_records(id));
        assert_eq!(run.run.cases, run.cases.len());
        for case in &run.cases {
            let series = history::intervals(&db, id, &case.row.case).unwrap();
            assert_eq!(
                series,
                v1.series(id, &case.row.case),
                "{id} {}",
                case.row.case
            );
            assert!(!series.is_empty());
        }
    }
    // The new run is recorded in v2 like any other: pong app, one machine, its series.
    let new = after.runs.last().unwrap();
    assert!(new.cases.iter().all(|c| c.row.app.is_none()));
    assert_eq!(new.agents, None);
    let plain = results::read_run(&fixture("plain")).unwrap();
    for (case, read) in new.cases.iter().zip(&plain.cases) {
        let series = history::intervals(&db, new_id, &case.row.case).unwrap();
        assert_eq!(
            series.len(),
            read.measured.as_ref().unwrap().intervals.len()
        );
    }
}

#[test]
fn the_writer_s_connection_keeps_foreign_keys_on_after_upgrading() {
    let tmp = tempfile::tempdir().unwrap();
    let db = v1_copy(tmp.path());
    let conn = history::open_for_writing(&db).unwrap();
    assert_eq!(version(&db), 2);
    let on: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(on, 1);
    // Deleting a run still takes its cases and their series with it.
    let id = history::list(&db).unwrap()[0].id;
    assert_deleting_the_run_takes_its_rows(&conn, id);
}

#[test]
fn an_upgraded_file_has_the_layout_of_a_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let upgraded = v1_copy(tmp.path());
    drop(history::open_for_writing(&upgraded).unwrap());
    let new = tmp.path().join("new.sqlite3");
    drop(history::open_for_writing(&new).unwrap());

    let layout = |db: &Path| {
        let conn = Connection::open(db).unwrap();
        let mut out = Vec::new();
        for table in ["schema_version", "runs", "cases", "intervals"] {
            out.push((
                table.to_string(),
                rows(&conn, &format!("PRAGMA table_info({table})")),
            ));
            out.push((
                format!("{table} foreign keys"),
                rows(&conn, &format!("PRAGMA foreign_key_list({table})")),
            ));
            for index in rows(&conn, &format!("PRAGMA index_list({table})")) {
                let name = text(&index[1]).unwrap();
                out.push((name.clone(), vec![index[1..].to_vec()]));
                out.push((
                    format!("{name} columns"),
                    rows(&conn, &format!("PRAGMA index_xinfo({name})")),
                ));
            }
        }
        // `runs` only gained a column (its text says so); the rebuilt tables and
        // their indexes were made from the very text of a new file.
        out.push((
            "sql".into(),
            rows(
                &conn,
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name != 'runs'
                 ORDER BY name",
            ),
        ));
        out
    };
    assert_eq!(layout(&upgraded), layout(&new));
}

#[test]
fn the_id_sequence_survives_the_upgrade() {
    // The newest run deleted in v1: AUTOINCREMENT remembers its id, and must still
    // after the upgrade, or the next run would take it and `compare` would silently
    // mean another run than the one a user noted.
    let tmp = tempfile::tempdir().unwrap();
    let db = v1_copy(tmp.path());
    {
        let conn = Connection::open(&db).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        conn.execute("DELETE FROM runs WHERE id = (SELECT max(id) FROM runs)", [])
            .unwrap();
    }
    let v1 = read_v1(&db);
    let max_left = *v1.run_ids().iter().max().unwrap();
    assert!(v1.sequence > max_left, "{} {max_left}", v1.sequence);
    let id = history::record(&db, &fixture("plain")).unwrap();
    assert_eq!(version(&db), 2);
    assert_eq!(id, v1.sequence + 1);
}

#[test]
fn rows_v1_could_no_longer_reach_are_left_behind() {
    // A run deleted by hand with foreign keys off leaves its cases and series in a v1
    // file, where nothing lists them; v2 cannot hold a series without its case.
    let tmp = tempfile::tempdir().unwrap();
    let db = v1_copy(tmp.path());
    let left_of = |conn: &Connection, id: i64| -> i64 {
        conn.query_row(
            "SELECT (SELECT count(*) FROM cases WHERE run_id = ?1)
                  + (SELECT count(*) FROM intervals WHERE run_id = ?1)",
            [id],
            |r| r.get(0),
        )
        .unwrap()
    };
    let gone = {
        let conn = Connection::open(&db).unwrap();
        // Explicitly: rusqlite's bundled SQLite has them on by default.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let gone: i64 = conn
            .query_row("SELECT max(id) FROM runs", [], |r| r.get(0))
            .unwrap();
        conn.execute("DELETE FROM runs WHERE id = ?1", [gone])
            .unwrap();
        assert!(left_of(&conn, gone) > 0, "the orphans to leave behind");
        gone
    };
    let before = seen(&db);
    drop(history::open_for_writing(&db).unwrap());
    assert_eq!(version(&db), 2);
    assert_eq!(seen(&db), before);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(left_of(&conn, gone), 0);
    assert!(rows(&conn, "PRAGMA foreign_key_check").is_empty());
}

#[test]
fn a_failed_upgrade_leaves_the_v1_file_as_it_was() {
    // A v1 file whose `runs` already has an `agents` column: the upgrade gets through
    // rebuilding `cases` and `intervals`, then fails at its last step, adding that
    // column. What a process killed there would leave is what this failure leaves: the
    // transaction is not committed.
    let tmp = tempfile::tempdir().unwrap();
    let db = v1_copy(tmp.path());
    Connection::open(&db)
        .unwrap()
        .execute("ALTER TABLE runs ADD COLUMN agents TEXT", [])
        .unwrap();
    let everything = |db: &Path| {
        let conn = Connection::open(db).unwrap();
        let mut out = rows(
            &conn,
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name",
        );
        for table in [
            "schema_version",
            "sqlite_sequence",
            "runs",
            "cases",
            "intervals",
        ] {
            out.extend(rows(
                &conn,
                &format!("SELECT * FROM {table} ORDER BY rowid"),
            ));
        }
        out
    };
    let before = everything(&db);
    let v1 = read_v1(&db);

    let e = history::open_for_writing(&db).unwrap_err();
    assert!(matches!(e, HistoryError::Migrate { from: 1, .. }), "{e}");
    let message = e.to_string();
    assert!(message.contains("history.sqlite3"), "{message}");
    assert!(
        message.contains("agents"),
        "failed at the last step: {message}"
    );
    let e = history::record(&db, &fixture("plain")).unwrap_err();
    assert!(matches!(e, HistoryError::Migrate { .. }), "{e}");

    assert_eq!(version(&db), 1);
    assert_eq!(everything(&db), before);
    let conn = Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // And it still reads as v1.
    for id in v1.run_ids() {
        assert_eq!(history::run(&db, id).unwrap().cases, v1.case_records(id));
    }
}

#[test]
fn v2_holds_a_case_once_per_app() {
    let tmp = tempfile::tempdir().unwrap();
    let db = v1_copy(tmp.path());
    drop(history::open_for_writing(&db).unwrap());
    let run = history::list(&db).unwrap()[0].id;
    let pong = history::run(&db, run).unwrap();
    let name = pong.cases[0].row.case.clone();
    let pong_series = history::intervals(&db, run, &name).unwrap();

    let conn = Connection::open(&db).unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    let add_case = |app: Option<&str>| {
        conn.execute(
            "INSERT INTO cases (run_id, position, case_name, app, status, rps)
             VALUES (?1, (SELECT max(position) + 1 FROM cases WHERE run_id = ?1), ?2, ?3,
                 'ok', 123.5)",
            rusqlite::params![run, name, app],
        )
        .map(|_| conn.last_insert_rowid())
    };
    let json = add_case(Some("json")).unwrap();
    for t in [1.0, 2.0] {
        conn.execute(
            "INSERT INTO intervals (run_id, case_id, t_s, requests, rps, errors)
             VALUES (?1, ?2, ?3, 10, 10.0, 0)",
            rusqlite::params![run, json, t],
        )
        .unwrap();
    }
    // The key is (run, case, app), with NULL and '' both the pong app.
    for app in [None, Some(""), Some("json")] {
        let e = add_case(app).unwrap_err();
        assert!(e.to_string().contains("UNIQUE"), "{app:?}: {e}");
    }
    // A series cannot name a case of another run.
    let other_run = history::list(&db).unwrap()[1].id;
    let e = conn
        .execute(
            "INSERT INTO intervals (run_id, case_id, t_s, requests, rps, errors)
             VALUES (?1, ?2, 3.0, 1, 1.0, 0)",
            rusqlite::params![other_run, json],
        )
        .unwrap_err();
    assert!(e.to_string().contains("FOREIGN KEY"), "{e}");

    let both = history::run(&db, run).unwrap();
    let named: Vec<_> = both
        .cases
        .iter()
        .filter(|c| c.row.case == name)
        .map(|c| (c.row.app.as_deref(), c.row.rps))
        .collect();
    assert_eq!(
        named,
        [(None, pong.cases[0].row.rps), (Some("json"), Some(123.5))]
    );
    assert_eq!(history::intervals(&db, run, &name).unwrap(), pong_series);
    assert_eq!(
        history::intervals_for_app(&db, run, &name, None).unwrap(),
        pong_series
    );
    let json_series = history::intervals_for_app(&db, run, &name, Some("json")).unwrap();
    assert_eq!(
        json_series.iter().map(|i| i.t_s).collect::<Vec<_>>(),
        [1.0, 2.0]
    );

    // Deleting the run takes both cases and both series.
    assert_deleting_the_run_takes_its_rows(&conn, run);
}
