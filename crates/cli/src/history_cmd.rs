//! `wsgibench history`, `wsgibench compare` and `wsgibench export`: the history
//! database from the command line, plus [`record_run`], which `wsgibench run` calls
//! last. Glue only: `history` stores and reads, `history::compare` compares,
//! `history::trend` writes the trend site.
//!
//! Exit codes: 0 done; 2 when the user must change the command (an unknown run id, a
//! database from a newer wsgibench, no place for the database); 1 when a file cannot
//! be written or the database is broken.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use history::{self, HistoryError, RunRow};

use crate::args::{CompareArgs, ExportArgs, HistoryArgs};

/// `wsgibench history`: one line per recorded run, oldest first; with `--html DIR`,
/// also the trend site (`history::trend`), even with no run yet (an index saying so).
pub fn history(a: HistoryArgs) -> Result<ExitCode> {
    let db = match db_path(a.db) {
        Ok(db) => db,
        Err(e) => return user_error(e),
    };
    let runs = match history::list(&db) {
        Ok(r) => r,
        Err(e) => return user_error(e),
    };
    if runs.is_empty() {
        println!(
            "no runs recorded yet in {}: `wsgibench run` records each run there",
            db.display()
        );
    } else {
        print!("{}", runs_table(&runs));
        println!();
        println!("database  {}", db.display());
        if let [.., a, b] = &runs[..] {
            println!("compare   wsgibench compare {} {}", a.id, b.id);
        }
    }
    if let Some(dir) = a.html {
        let site = match history::trend::write_site(&db, &dir) {
            Ok(s) => s,
            Err(e) => return user_error(e),
        };
        println!(
            "trend     {} ({} server page{})",
            site.index.display(),
            site.server_pages.len(),
            if site.server_pages.len() == 1 {
                ""
            } else {
                "s"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `wsgibench compare A B`: the table on the terminal, and the page with --html.
pub fn compare(a: CompareArgs) -> Result<ExitCode> {
    let db = match db_path(a.db) {
        Ok(db) => db,
        Err(e) => return user_error(e),
    };
    let comparison = match history::compare::compare(&db, a.run_a, a.run_b) {
        Ok(c) => c,
        Err(e) => return user_error(e),
    };
    print!("{}", comparison.to_text());
    if let Some(path) = a.html {
        results::files::write_atomic(&path, comparison.to_html().as_bytes())?;
        println!();
        println!("html      {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `wsgibench export RUN --csv [FILE]`: the run's results.csv, rebuilt from the
/// database (the results folder may be gone).
pub fn export(a: ExportArgs) -> Result<ExitCode> {
    let db = match db_path(a.db) {
        Ok(db) => db,
        Err(e) => return user_error(e),
    };
    let run = match history::run(&db, a.run) {
        Ok(r) => r,
        Err(e) => return user_error(e),
    };
    let rows: Vec<_> = run.cases.into_iter().map(|c| c.row).collect();
    let csv = render::table::to_csv(&rows);
    match a.csv.flatten() {
        Some(path) => results::files::write_atomic(&path, csv.as_bytes())?,
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(csv.as_bytes())
                .context("cannot write to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The end of `wsgibench run`: adds the results folder `out` to the history and says
/// where. A failure is printed, not returned: the run's files are already written,
/// and a broken history must not turn a finished benchmark into a failed one.
pub fn record_run(db: Option<&Path>, run: &results::Run) {
    let recorded = db_path(db.map(Path::to_path_buf))
        .and_then(|db| history::record_run(&db, run).map(|id| (db, id)));
    match recorded {
        Ok((db, id)) => println!(
            "history   run {id} in {} (`wsgibench history`, `wsgibench compare`)",
            db.display()
        ),
        Err(e) => println!("history   not recorded: {e}"),
    }
}

fn db_path(arg: Option<PathBuf>) -> Result<PathBuf, HistoryError> {
    match arg {
        Some(p) => Ok(p),
        None => history::default_db_path(),
    }
}

/// Errors the user fixes by changing the command get one line and exit code 2; the
/// rest (an unreadable or corrupt file) go up as failures.
fn user_error(e: HistoryError) -> Result<ExitCode> {
    match e {
        HistoryError::UnknownRun { .. } | HistoryError::TooNew { .. } | HistoryError::NoDataDir => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
        e => Err(e.into()),
    }
}

/// Columns: id, date, protocol, cases, best server by req/s.
fn runs_table(runs: &[RunRow]) -> String {
    let headers = ["id", "date (UTC)", "protocol", "cases", "best req/s"].map(String::from);
    let body: Vec<[String; 5]> = runs
        .iter()
        .map(|r| {
            let mut cases = format!("{}/{} ok", r.cases_ok, r.cases);
            // NULL means the run never wrote its end: killed, or recorded while running.
            match r.interrupted {
                Some(true) => cases.push_str(", interrupted"),
                None => cases.push_str(", unfinished"),
                Some(false) => {}
            }
            [
                r.id.to_string(),
                r.started_utc
                    .as_deref()
                    .map_or_else(|| "?".into(), readable_stamp),
                shorten(r.protocol.as_deref().unwrap_or("?"), 48),
                cases,
                r.best
                    .as_ref()
                    .map_or_else(|| "-".into(), |(name, rps)| format!("{name} {rps:.0}")),
            ]
        })
        .collect();
    let mut widths = headers.clone().map(|h| h.chars().count());
    for row in &body {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&headers).chain(&body) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| match i {
                // The id is a number: right-aligned.
                0 => format!("{c:>w$}"),
                _ => format!("{c:<w$}"),
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `2026-11-25T12-23-43Z` (the folder-safe stamp run.json holds) as
/// `2026-11-25 12:23:43`; anything else unchanged.
fn readable_stamp(s: &str) -> String {
    let b = s.as_bytes();
    if s.len() == 20 && b[10] == b'T' && b[13] == b'-' && b[16] == b'-' && b[19] == b'Z' {
        format!("{} {}:{}:{}", &s[..10], &s[11..13], &s[14..16], &s[17..19])
    } else {
        s.to_string()
    }
}

/// Cuts long text to `max` characters, marking the cut, so one long protocol
/// description does not push the other columns off the screen.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_long_text() {
        assert_eq!(
            readable_stamp("2026-11-25T12-23-43Z"),
            "2026-11-25 12:23:43"
        );
        assert_eq!(readable_stamp("yesterday"), "yesterday");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }

    /// `--html` writes the site even before any run (an index that says so), and a
    /// site folder that cannot be made is a failure (exit 1), not a user error.
    #[test]
    fn html_writes_the_site_or_fails_naming_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let args = |html: PathBuf| HistoryArgs {
            db: Some(tmp.path().join("none.sqlite3")),
            html: Some(html),
        };
        let site = tmp.path().join("site");
        assert_eq!(history(args(site.clone())).unwrap(), ExitCode::SUCCESS);
        let index = std::fs::read_to_string(site.join("index.html")).unwrap();
        assert!(index.contains("No run is recorded yet"), "{index}");
        assert!(
            !tmp.path().join("none.sqlite3").exists(),
            "reading made no database"
        );

        let file = tmp.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let e = history(args(file.join("site"))).unwrap_err();
        assert!(format!("{e:#}").contains("a-file"), "{e:#}");
    }

    #[test]
    fn unknown_run_is_one_line_and_exit_2() {
        let tmp = tempfile::tempdir().unwrap();
        let code = export(ExportArgs {
            run: 7,
            db: Some(tmp.path().join("h.sqlite3")),
            csv: Some(None),
        })
        .unwrap();
        assert_eq!(code, ExitCode::from(2));
    }
}
