//! `wsgibench history --html DIR`: the trend across runs, a static site rendered from
//! every recorded run. The history gathers ([`crate::all_runs`]) and looks on disk for
//! each run's report.html; `render::trend` draws and writes the pages, from plain data.

use std::path::Path;

use render::trend::{Site, TrendCase, TrendRun, Written};
use results::folder::REPORT_HTML;

use crate::store::{self, HistoryError, RecordedRun};

/// Renders the trend site of the database `db` into `dir` (made if missing):
/// `index.html` and a page per server, each written atomically. A database that does
/// not exist yet gives an index that says so, and is not made.
pub fn write_site(db: &Path, dir: &Path) -> Result<Written, HistoryError> {
    Ok(render::trend::write_site(&site(db)?, dir)?)
}

/// What the site shows, read from the database `db`: every run with its cases, and
/// where each run's report.html is now.
pub fn site(db: &Path) -> Result<Site, HistoryError> {
    Ok(Site {
        source: db.display().to_string(),
        runs: store::all_runs(db)?.into_iter().map(trend_run).collect(),
    })
}

/// The run as the trend draws it. Its report.html is linked only while its folder
/// still has one: folders are moved and deleted long after the run was recorded.
fn trend_run(r: RecordedRun) -> TrendRun {
    let report = Path::new(&r.run.dir).join(REPORT_HTML);
    TrendRun {
        id: r.run.id,
        started_utc: r.run.started_utc,
        protocol: r.run.protocol,
        // Recorded from the model, so it reads back; a hand-edited one reads as unknown.
        machine: serde_json::from_value(r.machine).unwrap_or_default(),
        interrupted: r.run.interrupted,
        // Absolute and without symlinks, like the site's folder, so the two compare.
        report: report
            .is_file()
            .then(|| std::fs::canonicalize(&report).ok())
            .flatten(),
        dir: r.run.dir,
        cases: r
            .cases
            .into_iter()
            .map(|c| TrendCase {
                app: c.row.app.clone(),
                row: c.row,
            })
            .collect(),
    }
}
