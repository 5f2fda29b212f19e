//! The history database: every `wsgibench run` recorded in one SQLite file, so runs
//! from different days (a new server version, another kernel, a changed protocol) can
//! be listed and compared long after their results folders were moved or deleted.
//!
//! It records the results model ([`results::Run`]), never the engine's live state:
//! `wsgibench run` hands it the run it just measured, and `record` reads a folder
//! (one copied from another machine, say) into the same model first.
//!
//! Layout (version 2, see [`SCHEMA`]):
//!
//! - `schema_version`: one row, the layout's version; a newer file is refused rather
//!   than misread.
//! - `runs`: one row per recorded folder (`run.json`), `id` never reused. `agents`:
//!   the load agents that drove the run (JSON array), NULL when one machine did.
//! - `cases`: one row per case and app, the same numbers as `results.csv` plus the
//!   repeats. `app` is the test case served, NULL for the original one-line "Pong!"
//!   app; a case name appears once per app in a run. `id` is internal, for `intervals`.
//! - `intervals`: the interval series, for charts of old runs, each row tied to its
//!   case by `case_id` (and `run_id`, so a series cannot point into another run).
//!
//! Version 1 (before apps and agents) keyed `cases` by (run_id, case_name), and
//! `intervals` named its case by name; `migrate` rebuilds those two tables on the first
//! open for writing, and readers read either layout (see `open_for_reading`).
//!
//! A run is inserted in one transaction, in WAL mode: a process killed while
//! recording leaves a file that opens and holds every run committed before.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use render::table::CaseRow;
use results::{CaseStatus, ResultsError, Run};

/// The layout this code writes and reads. Raise it, and add a migration in
/// `migrate`, when a table changes.
pub const SCHEMA_VERSION: i64 = 2;

/// The v2 `cases` and `intervals` with their indexes: part of [`SCHEMA`] for a new file,
/// and run as they are by the v1 → v2 migration, so an upgraded file and a new one end
/// with the same tables. A macro because `concat!` takes literals only.
macro_rules! cases_and_intervals {
    () => {
        "
-- `id` is a rowid alias, internal: the key people use is (run_id, case_name, app),
-- which cannot be the primary key because `app` is NULL for the pong app and SQLite
-- lets NULLs repeat in a key. Deleting a run deletes its cases and their series, so a
-- reused case id never meets an old series: no AUTOINCREMENT needed here.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,   -- the suite's order, kept for export
    case_name TEXT NOT NULL,
    app TEXT,                    -- the test case served; NULL: the one-line Pong! app
    status TEXT NOT NULL,
    rps REAL,
    mean_ms REAL,
    p50_ms REAL,
    p90_ms REAL,
    p99_ms REAL,
    max_ms REAL,
    errors INTEGER,
    server_cpu_percent REAL,
    server_rss_mib REAL,
    generator_cpu_percent REAL,
    server_version TEXT,
    repeats TEXT,                -- JSON array of Repeat, NULL without --repeat
    -- Redundant with `id` alone, but a foreign key needs a unique parent key, and
    -- this one lets `intervals` hold its run too without being able to disagree.
    UNIQUE (run_id, id)
);
-- COALESCE: a plain unique index treats NULLs as distinct, and would let the pong app
-- appear twice. An empty app name therefore also means the pong app.
CREATE UNIQUE INDEX cases_by_name ON cases(run_id, case_name, COALESCE(app, ''));
CREATE TABLE intervals (
    run_id INTEGER NOT NULL,
    case_id INTEGER NOT NULL,
    t_s REAL NOT NULL,
    requests INTEGER NOT NULL,
    rps REAL NOT NULL,
    mean_ms REAL,
    p50_ms REAL,
    p99_ms REAL,
    errors INTEGER NOT NULL,
    FOREIGN KEY (run_id, case_id) REFERENCES cases(run_id, id) ON DELETE CASCADE
);
-- Also the child-side index the foreign key needs, or each deleted case scans the series.
CREATE INDEX intervals_by_case ON intervals(run_id, case_id);
"
    };
}

/// The tables of a new file. `case_name`, not `case`: CASE is an SQL keyword, and
/// someone querying the file by hand in `sqlite3` should not have to quote it.
pub const SCHEMA: &str = concat!(
    "
CREATE TABLE schema_version (version INTEGER NOT NULL);
-- AUTOINCREMENT so an id is never given twice, even after the newest run is deleted:
-- `wsgibench compare 3 5` must not silently mean other runs later.
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_utc TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    started_utc TEXT,
    finished_utc TEXT,
    command TEXT,
    protocol TEXT,
    suite_file TEXT,
    placement TEXT,
    machine TEXT,            -- run.json's machine object, as JSON
    dir TEXT NOT NULL,       -- the results folder, absolute when it could be resolved
    interrupted INTEGER,     -- 0, 1, or NULL when the run was killed before saying
    wsgibench_version TEXT,
    agents TEXT              -- JSON array of the load agents, NULL: one machine
);
",
    cases_and_intervals!()
);

/// Version 1 to 2, run inside the caller's transaction.
///
/// SQLite cannot change a primary key in place, so `cases` and `intervals` are
/// rebuilt: the v1 tables are renamed aside first, the v2 ones made under the final
/// names from the same text as a new file's, the rows copied, the v1 tables dropped.
/// Renaming aside first is also what lets foreign keys stay on: when a v1 table is
/// dropped nothing references it any more, so the implicit DELETE of the drop cascades
/// nowhere, and each copied row is checked against its parent as it is inserted.
///
/// `runs` only gains a column, which ALTER TABLE can do, so its ids and its
/// `sqlite_sequence` row (AUTOINCREMENT's high-water mark) are untouched. A case keeps
/// its v1 rowid as `id`. Rows v1 itself could no longer reach (a case whose run is
/// gone, a series whose case is gone: only possible by editing the file with foreign
/// keys off) are left behind, since v2 cannot hold a series without its case.
///
/// `runs` is altered last, after the copies: a failure anywhere rolls the whole
/// transaction back (tests/migration.rs makes it fail there on purpose).
const MIGRATE_V1_TO_V2: &str = concat!(
    "
ALTER TABLE cases RENAME TO cases_v1;
ALTER TABLE intervals RENAME TO intervals_v1;
-- Indexes keep their names when their table is renamed; v2 reuses this one.
DROP INDEX intervals_by_case;
",
    cases_and_intervals!(),
    "
INSERT INTO cases (id, run_id, position, case_name, app, status, rps, mean_ms, p50_ms,
    p90_ms, p99_ms, max_ms, errors, server_cpu_percent, server_rss_mib,
    generator_cpu_percent, server_version, repeats)
SELECT rowid, run_id, position, case_name, NULL, status, rps, mean_ms, p50_ms,
    p90_ms, p99_ms, max_ms, errors, server_cpu_percent, server_rss_mib,
    generator_cpu_percent, server_version, repeats
FROM cases_v1
WHERE run_id IN (SELECT id FROM runs)
ORDER BY rowid;
INSERT INTO intervals (run_id, case_id, t_s, requests, rps, mean_ms, p50_ms, p99_ms,
    errors)
SELECT i.run_id, c.rowid, i.t_s, i.requests, i.rps, i.mean_ms, i.p50_ms, i.p99_ms,
    i.errors
FROM intervals_v1 i
JOIN cases_v1 c ON c.run_id = i.run_id AND c.case_name = i.case_name
WHERE c.run_id IN (SELECT id FROM runs)
ORDER BY i.rowid;
DROP TABLE intervals_v1;
DROP TABLE cases_v1;
ALTER TABLE runs ADD COLUMN agents TEXT;
UPDATE schema_version SET version = 2;
"
);

/// Reading or writing the history failed. Each variant names the database file, since
/// `--db` may point anywhere.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The results folder could not be read (no `run.json`, a broken summary).
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// Neither `--db`, `XDG_DATA_HOME` nor `HOME` says where the database lives.
    #[error("no place for the history database: set XDG_DATA_HOME or HOME, or pass --db")]
    NoDataDir,
    /// The database's folder could not be made.
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused: not a database, locked past the timeout, a full disk.
    #[error("{}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer wsgibench; reading it with this one could
    /// misread columns, so upgrade wsgibench or pass another --db.
    #[error(
        "{}: history layout version {found}, newer than this wsgibench's {SCHEMA_VERSION}: \
         upgrade wsgibench or pass another --db",
        path.display()
    )]
    TooNew { path: PathBuf, found: i64 },
    /// Upgrading an older layout failed. The upgrade is one transaction, so the file
    /// is still the older layout, readable by this wsgibench and by the one that wrote it.
    #[error(
        "{}: cannot upgrade the history layout from version {from} to {SCHEMA_VERSION}, \
         the file is left as it was: {source}",
        path.display()
    )]
    Migrate {
        path: PathBuf,
        from: i64,
        #[source]
        source: rusqlite::Error,
    },
    /// No run has this id; `wsgibench history` lists the ids.
    #[error("no run {id} in {}: `wsgibench history` lists the recorded runs", path.display())]
    UnknownRun { path: PathBuf, id: i64 },
    /// A page read from the history could not be drawn or written (the message names
    /// the file or the chart).
    #[error(transparent)]
    Render(#[from] render::RenderError),
}

pub use results::Repeat;

/// A recorded run as `wsgibench history` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: i64,
    pub started_utc: Option<String>,
    pub finished_utc: Option<String>,
    pub command: Option<String>,
    pub protocol: Option<String>,
    pub dir: String,
    pub interrupted: Option<bool>,
    /// Cases recorded, whatever their status.
    pub cases: usize,
    /// Cases that ran to the end.
    pub cases_ok: usize,
    /// The case with the most req/s among those that ran to the end, and its req/s.
    pub best: Option<(String, f64)>,
}

/// One case of a recorded run: its results-table row and, under `--repeat`, the
/// numbers of each repetition (empty otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    /// Its `app` is `None` for the original one-line "Pong!" app, which every run
    /// recorded before apps existed served.
    pub row: CaseRow,
    pub repeats: Vec<Repeat>,
}

/// A recorded run in full, without its interval series (see [`intervals`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRun {
    pub run: RunRow,
    pub placement: Option<String>,
    pub suite_file: Option<String>,
    /// run.json's `machine` object (cpu_model, cores, kernel).
    pub machine: serde_json::Value,
    pub wsgibench_version: Option<String>,
    /// The load agents that drove the run, a JSON array as recorded; `None` when the
    /// run was driven from one machine. Untyped until the agents' own format settles.
    pub agents: Option<serde_json::Value>,
    /// In the suite's order.
    pub cases: Vec<CaseRecord>,
}

/// One interval of a case, as stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalRow {
    pub t_s: f64,
    pub requests: u64,
    pub rps: f64,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub errors: u64,
}

/// `$XDG_DATA_HOME/wsgibench/history.sqlite3`, else
/// `~/.local/share/wsgibench/history.sqlite3`: data, not cache, since deleting it
/// loses the past runs. A relative XDG_DATA_HOME is ignored, as the XDG spec says.
pub fn default_db_path() -> Result<PathBuf, HistoryError> {
    db_path_from(std::env::var_os("XDG_DATA_HOME"), std::env::var_os("HOME"))
}

/// [`default_db_path`] without the environment, so tests need not change it.
fn db_path_from(
    xdg_data_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Result<PathBuf, HistoryError> {
    let absolute = |v: Option<std::ffi::OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    let data = absolute(xdg_data_home)
        .or_else(|| absolute(home).map(|h| h.join(".local").join("share")))
        .ok_or(HistoryError::NoDataDir)?;
    Ok(data.join("wsgibench").join("history.sqlite3"))
}

/// Reads the results folder `dir` and adds it to the database at `db` (made, with its
/// folder, if missing) as a new run; returns the run's id. Recording the same folder
/// twice makes two runs. All or nothing: one transaction.
pub fn record(db: &Path, dir: &Path) -> Result<i64, HistoryError> {
    record_run(db, &results::read_run(dir)?)
}

/// Adds `run` to the database at `db`, as [`record`] does for a folder.
pub fn record_run(db: &Path, run: &Run) -> Result<i64, HistoryError> {
    let mut conn = open_for_writing(db)?;
    let sql = |source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let tx = conn.transaction().map_err(sql)?;
    let id = insert_run(&tx, run).map_err(sql)?;
    tx.commit().map_err(sql)?;
    Ok(id)
}

fn insert_run(tx: &rusqlite::Transaction, run: &Run) -> rusqlite::Result<i64> {
    let m = &run.meta;
    // Absolute, so `wsgibench history` still points at the folder from elsewhere.
    let dir = std::fs::canonicalize(&run.dir).unwrap_or_else(|_| run.dir.clone());
    let machine = serde_json::to_string(&m.machine).expect("plain data");
    // `runs.agents` stays NULL (one machine) until load from several machines writes
    // its agents into the results; `cases.app` is NULL for the pong app.
    tx.execute(
        "INSERT INTO runs (started_utc, finished_utc, command, protocol, suite_file,
             placement, machine, dir, interrupted, wsgibench_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            m.started_utc,
            m.finished_utc,
            m.command,
            m.protocol,
            m.suite_file,
            m.placement,
            machine,
            dir.to_string_lossy(),
            m.interrupted,
            m.wsgibench_version,
        ],
    )?;
    let id = tx.last_insert_rowid();
    let mut case_stmt = tx.prepare(
        "INSERT INTO cases (run_id, position, case_name, status, rps, mean_ms, p50_ms,
             p90_ms, p99_ms, max_ms, errors, server_cpu_percent, server_rss_mib,
             generator_cpu_percent, server_version, repeats, app)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut interval_stmt = tx.prepare(
        "INSERT INTO intervals (run_id, case_id, t_s, requests, rps, mean_ms, p50_ms,
             p99_ms, errors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (position, case) in run.cases.iter().enumerate() {
        let r = CaseRow::of(case);
        let repeats = &case.repeats;
        let repeats_json = (!repeats.is_empty())
            .then(|| serde_json::to_string(&repeats).expect("plain numbers serialize"));
        case_stmt.execute(params![
            id,
            position as i64,
            r.case,
            r.status.as_str(),
            r.rps,
            r.latency_mean_ms,
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.max_ms,
            r.errors.map(|n| n as i64),
            r.server_cpu_percent,
            r.server_rss_mib,
            r.generator_cpu_percent,
            r.server_version,
            repeats_json,
            r.app,
        ])?;
        let case_id = tx.last_insert_rowid();
        for i in case.measured.iter().flat_map(|m| &m.intervals) {
            let d = &i.digest;
            let ms = |us: f64| (d.requests > 0).then_some(us / 1000.0);
            interval_stmt.execute(params![
                id,
                case_id,
                i.t_s,
                d.requests as i64,
                d.rps,
                ms(d.latency_us.mean),
                ms(d.latency_us.p50 as f64),
                ms(d.latency_us.p99 as f64),
                d.errors_total as i64,
            ])?;
        }
    }
    Ok(id)
}

/// Every recorded run, oldest first. A database that does not exist yet has none
/// (and is not made: listing should leave no file behind).
pub fn list(db: &Path) -> Result<Vec<RunRow>, HistoryError> {
    let Some((conn, layout)) = open_for_reading(db)? else {
        return Ok(Vec::new());
    };
    let sql = |source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let mut stmt = conn
        .prepare(&format!("{} ORDER BY r.id", run_row_select(layout)))
        .map_err(sql)?;
    let rows = stmt
        .query_map([], run_row)
        .map_err(sql)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql);
    rows
}

/// One run with its cases; [`HistoryError::UnknownRun`] when no run has `id`.
pub fn run(db: &Path, id: i64) -> Result<RecordedRun, HistoryError> {
    let unknown = || HistoryError::UnknownRun {
        path: db.to_path_buf(),
        id,
    };
    let (conn, layout) = open_for_reading(db)?.ok_or_else(unknown)?;
    let sql = |source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let run = conn
        .query_row(
            &format!("{} WHERE r.id = ?1", run_row_select(layout)),
            [id],
            recorded_run,
        )
        .optional()
        .map_err(sql)?
        .ok_or_else(unknown)?;
    let mut stmt = conn
        .prepare(&format!(
            "{} WHERE run_id = ?1 ORDER BY position, rowid",
            case_select(layout)
        ))
        .map_err(sql)?;
    let cases = stmt
        .query_map([id], case_record)
        .map_err(sql)?
        .map(|c| c.map(|(_, case)| case))
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql)?;
    Ok(RecordedRun { cases, ..run })
}

/// Every recorded run with its cases, oldest first, in two queries whatever the
/// number of runs: what the trend across runs (`wsgibench history --html`) draws. A
/// database that does not exist yet has none (and is not made).
pub fn all_runs(db: &Path) -> Result<Vec<RecordedRun>, HistoryError> {
    let Some((conn, layout)) = open_for_reading(db)? else {
        return Ok(Vec::new());
    };
    let sql = |source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    // One transaction, so a run recorded between the two queries is either in both
    // or in neither (WAL readers see one snapshot per transaction).
    let tx = conn.unchecked_transaction().map_err(sql)?;
    let mut runs = tx
        .prepare(&format!("{} ORDER BY r.id", run_row_select(layout)))
        .map_err(sql)?
        .query_map([], recorded_run)
        .map_err(sql)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql)?;
    let mut stmt = tx
        .prepare(&format!(
            "{} ORDER BY run_id, position, rowid",
            case_select(layout)
        ))
        .map_err(sql)?;
    let cases = stmt.query_map([], case_record).map_err(sql)?;
    // Both in run id order: walk the runs alongside the cases.
    let mut at = 0;
    for case in cases {
        let (run_id, case) = case.map_err(sql)?;
        while runs.get(at).is_some_and(|r| r.run.id < run_id) {
            at += 1;
        }
        // A case whose run is gone is only possible with foreign keys off; skip it.
        if let Some(run) = runs.get_mut(at).filter(|r| r.run.id == run_id) {
            run.cases.push(case);
        }
    }
    Ok(runs)
}

/// A run's row of [`run_row_select`] as a [`RecordedRun`] without its cases.
fn recorded_run(row: &rusqlite::Row) -> rusqlite::Result<RecordedRun> {
    let machine: Option<String> = row.get("machine")?;
    let agents: Option<String> = row.get("agents")?;
    Ok(RecordedRun {
        run: run_row(row)?,
        placement: row.get("placement")?,
        suite_file: row.get("suite_file")?,
        machine: machine
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or(serde_json::Value::Null),
        wsgibench_version: row.get("wsgibench_version")?,
        // As for repeats: text that is not JSON was not written by `record`.
        agents: agents.and_then(|j| serde_json::from_str(&j).ok()),
        cases: Vec::new(),
    })
}

/// The columns [`case_record`] reads, from `cases`; the caller adds WHERE and ORDER BY.
/// rowid breaks ties in position, which only cases of several apps could share; it
/// is `id` in v2 and the implicit rowid in v1, so one query serves both.
fn case_select(layout: Layout) -> String {
    format!(
        "SELECT case_name, status, rps, mean_ms, p50_ms, p90_ms, p99_ms, max_ms, errors,
             server_cpu_percent, server_rss_mib, generator_cpu_percent, server_version,
             repeats, {} AS app, run_id
         FROM cases",
        layout.app_column()
    )
}

/// A row of [`case_select`]: its run's id and the case.
fn case_record(row: &rusqlite::Row) -> rusqlite::Result<(i64, CaseRecord)> {
    let repeats: Option<String> = row.get(13)?;
    let word: String = row.get(1)?;
    let status = CaseStatus::parse(&word).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Text,
            format!("unknown case status {word:?}").into(),
        )
    })?;
    let case = CaseRecord {
        row: CaseRow {
            case: row.get(0)?,
            app: row.get(14)?,
            status,
            rps: row.get(2)?,
            latency_mean_ms: row.get(3)?,
            p50_ms: row.get(4)?,
            p90_ms: row.get(5)?,
            p99_ms: row.get(6)?,
            max_ms: row.get(7)?,
            errors: row.get::<_, Option<i64>>(8)?.map(|n| n.max(0) as u64),
            server_cpu_percent: row.get(9)?,
            server_rss_mib: row.get(10)?,
            generator_cpu_percent: row.get(11)?,
            server_version: row.get(12)?,
        },
        // Written by `record` from typed values, so a parse failure means a
        // hand-edited file; showing no repeats is the honest fallback.
        repeats: repeats
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
    };
    Ok((row.get(15)?, case))
}

/// The interval series of one case of a run, as the original pong app served it, in
/// time order; empty when the run or the case is unknown. [`intervals_for_app`] for
/// another app.
pub fn intervals(db: &Path, id: i64, case: &str) -> Result<Vec<IntervalRow>, HistoryError> {
    intervals_for_app(db, id, case, None)
}

/// The interval series of the case `case` that served `app` (`None`: the pong app) in
/// run `id`, in time order; empty when there is no such case.
pub fn intervals_for_app(
    db: &Path,
    id: i64,
    case: &str,
    app: Option<&str>,
) -> Result<Vec<IntervalRow>, HistoryError> {
    let Some((conn, layout)) = open_for_reading(db)? else {
        return Ok(Vec::new());
    };
    let sql = |source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    // The app is compared as the unique index `cases_by_name` compares it, so the
    // lookup finds exactly the case the key allows once.
    let query = match layout {
        Layout::V2 => {
            "SELECT i.t_s, i.requests, i.rps, i.mean_ms, i.p50_ms, i.p99_ms, i.errors
             FROM intervals i JOIN cases c ON c.run_id = i.run_id AND c.id = i.case_id
             WHERE c.run_id = ?1 AND c.case_name = ?2
                 AND COALESCE(c.app, '') = COALESCE(?3, '')
             ORDER BY i.t_s"
        }
        // Every v1 case served the pong app.
        Layout::V1 => {
            "SELECT t_s, requests, rps, mean_ms, p50_ms, p99_ms, errors FROM intervals
             WHERE run_id = ?1 AND case_name = ?2 AND COALESCE(?3, '') = ''
             ORDER BY t_s"
        }
    };
    let mut stmt = conn.prepare(query).map_err(sql)?;
    let rows = stmt
        .query_map(params![id, case, app], |row| {
            Ok(IntervalRow {
                t_s: row.get(0)?,
                requests: row.get::<_, i64>(1)?.max(0) as u64,
                rps: row.get(2)?,
                mean_ms: row.get(3)?,
                p50_ms: row.get(4)?,
                p99_ms: row.get(5)?,
                errors: row.get::<_, i64>(6)?.max(0) as u64,
            })
        })
        .map_err(sql)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql);
    rows
}

/// The columns [`run_row`] and [`run`] read, with the case counts and the best case
/// computed in SQL so listing many runs stays one query.
fn run_row_select(layout: Layout) -> String {
    format!(
        "
SELECT r.id, r.started_utc, r.finished_utc, r.command, r.protocol, r.dir, r.interrupted,
    r.placement, r.suite_file, r.machine, r.wsgibench_version, {} AS agents,
    (SELECT count(*) FROM cases c WHERE c.run_id = r.id) AS n_cases,
    (SELECT count(*) FROM cases c WHERE c.run_id = r.id AND c.status = 'ok') AS n_ok,
    (SELECT c.case_name FROM cases c WHERE c.run_id = r.id AND c.status = 'ok'
        AND c.rps IS NOT NULL ORDER BY c.rps DESC, c.position LIMIT 1) AS best_case,
    (SELECT max(c.rps) FROM cases c WHERE c.run_id = r.id AND c.status = 'ok') AS best_rps
FROM runs r",
        layout.agents_column()
    )
}

fn run_row(row: &rusqlite::Row) -> rusqlite::Result<RunRow> {
    let best_case: Option<String> = row.get("best_case")?;
    let best_rps: Option<f64> = row.get("best_rps")?;
    Ok(RunRow {
        id: row.get("id")?,
        started_utc: row.get("started_utc")?,
        finished_utc: row.get("finished_utc")?,
        command: row.get("command")?,
        protocol: row.get("protocol")?,
        dir: row.get("dir")?,
        interrupted: row.get("interrupted")?,
        cases: row.get::<_, i64>("n_cases")? as usize,
        cases_ok: row.get::<_, i64>("n_ok")? as usize,
        best: best_case.zip(best_rps),
    })
}

/// How long a writer or reader waits for another process's write to finish before
/// giving up: longer than any one `record` takes, short enough to not look hung.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens (making it and its folder if needed) and brings the layout up to date.
pub fn open_for_writing(db: &Path) -> Result<Connection, HistoryError> {
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| HistoryError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let sql = |source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let mut conn = Connection::open(db).map_err(sql)?;
    configure(&conn).map_err(sql)?;
    // WAL: a commit is one append to the -wal file, and a process killed at any
    // point leaves the main file intact; the next open replays the committed frames
    // and drops the torn ones. It also lets `history` read while a run records.
    // Persistent: stored in the file, so readers see WAL too.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sql)?;
    // NORMAL is durable against a killed process (the kernel keeps what was written);
    // only a power cut may lose the last commits, never corrupt the file.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sql)?;
    migrate(&mut conn, db)?;
    Ok(conn)
}

/// Opens an existing database without creating it, with the layout it holds; `None`
/// when there is no file or no run was ever recorded in it.
///
/// An older layout is read as it is, not upgraded. Upgrading takes the write lock,
/// which a reader must not wait on while a run is recording; and it would change a
/// file the user only looked at, possibly one an older wsgibench still records into
/// and would then refuse as too new. So readers know every layout since v1 (see
/// [`Layout`]), and only a writer, which must write v2 rows anyway, upgrades.
fn open_for_reading(db: &Path) -> Result<Option<(Connection, Layout)>, HistoryError> {
    if !db.exists() {
        return Ok(None);
    }
    let sql = |source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    // Read-write, not read-only: opening a WAL database whose writer was killed
    // replays its -wal file, which needs write access to the -shm index.
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    configure(&conn).map_err(sql)?;
    let layout = match check_version(&conn, db)? {
        0 => return Ok(None),
        1 => Layout::V1,
        _ => Layout::V2,
    };
    Ok(Some((conn, layout)))
}

/// The layouts readers accept, and the SQL that differs between them. Only what the
/// readers' queries touch differs: the columns v2 added, and how a series names its
/// case (by name in v1, by `case_id` in v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    V1,
    V2,
}

impl Layout {
    /// `cases.app`: every v1 case served the pong app, which is NULL.
    fn app_column(self) -> &'static str {
        match self {
            Layout::V1 => "NULL",
            Layout::V2 => "app",
        }
    }

    /// `runs.agents` of the run aliased `r`: every v1 run was driven from one machine.
    fn agents_column(self) -> &'static str {
        match self {
            Layout::V1 => "NULL",
            Layout::V2 => "r.agents",
        }
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Off by default in SQLite; on, deleting a run also deletes its cases and series.
    conn.pragma_update(None, "foreign_keys", "ON")
}

/// The layout version stored in the file; 0 for a file without our tables (new).
fn stored_version(conn: &Connection) -> rusqlite::Result<i64> {
    let has_table: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_table {
        return Ok(0);
    }
    conn.query_row("SELECT max(version) FROM schema_version", [], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .map(|v| v.unwrap_or(0))
}

/// Refuses a layout newer than this code's, which it could misread.
fn check_version(conn: &Connection, db: &Path) -> Result<i64, HistoryError> {
    let version = stored_version(conn).map_err(|source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    })?;
    if version > SCHEMA_VERSION {
        return Err(HistoryError::TooNew {
            path: db.to_path_buf(),
            found: version,
        });
    }
    Ok(version)
}

/// Creates the tables in a new file, or upgrades an older layout to this one; each
/// in one transaction with the version bump, so a process killed mid-way leaves the
/// file as it was. Readers never call this: it takes the write lock, and `history`
/// must not wait for a run that is recording.
fn migrate(conn: &mut Connection, db: &Path) -> Result<(), HistoryError> {
    if check_version(conn, db)? == SCHEMA_VERSION {
        return Ok(());
    }
    let sql = |source| HistoryError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    // IMMEDIATE takes the write lock before looking again, so two processes opening
    // an older or new file at once do not both upgrade or create it.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql)?;
    match check_version(&tx, db)? {
        0 => {
            tx.execute_batch(SCHEMA).map_err(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)
        }
        1 => {
            let failed = |source| HistoryError::Migrate {
                path: db.to_path_buf(),
                from: 1,
                source,
            };
            tx.execute_batch(MIGRATE_V1_TO_V2).map_err(failed)?;
            tx.commit().map_err(failed)
        }
        // Another process upgraded it between the two looks; dropping `tx` rolls back
        // a transaction that did nothing.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model's case app and repeats reach the database as they are, so runs of
    /// several apps stay apart.
    #[test]
    fn a_run_from_the_model_keeps_its_apps_and_repeats() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("h.sqlite3");
        let mut pong = results::Case::new("bjoern", CaseStatus::Ok);
        pong.measured = Some(results::Measured::default());
        let mut json = pong.clone();
        json.app = Some("json".into());
        json.repeats = vec![results::Repeat {
            rps: 5.0,
            ..results::Repeat::default()
        }];
        let run = Run {
            dir: tmp.path().to_path_buf(),
            cases: vec![pong, json],
            ..Run::default()
        };
        let id = record_run(&db, &run).unwrap();
        let stored = super::run(&db, id).unwrap();
        let apps: Vec<Option<&str>> = stored.cases.iter().map(|c| c.row.app.as_deref()).collect();
        assert_eq!(apps, [None, Some("json")]);
        assert_eq!(stored.cases[1].repeats[0].rps, 5.0);
    }

    #[test]
    fn default_path_prefers_xdg_data_home() {
        let os = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(
            db_path_from(os("/data"), os("/home/u")).unwrap(),
            Path::new("/data/wsgibench/history.sqlite3")
        );
        assert_eq!(
            db_path_from(os("relative"), os("/home/u")).unwrap(),
            Path::new("/home/u/.local/share/wsgibench/history.sqlite3")
        );
        assert!(matches!(
            db_path_from(None, None),
            Err(HistoryError::NoDataDir)
        ));
    }

    #[test]
    fn a_newer_layout_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("h.sqlite3");
        drop(open_for_writing(&db).unwrap());
        Connection::open(&db)
            .unwrap()
            .execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        let e = list(&db).unwrap_err();
        assert!(matches!(e, HistoryError::TooNew { found: 99, .. }), "{e}");
        assert!(e.to_string().contains("h.sqlite3"), "{e}");
    }

    #[test]
    fn reading_a_missing_database_makes_no_file() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("none.sqlite3");
        assert!(list(&db).unwrap().is_empty());
        assert!(matches!(
            run(&db, 1),
            Err(HistoryError::UnknownRun { id: 1, .. })
        ));
        assert!(!db.exists());
    }
}
