//! The results table: one row per case and app, as `results.csv` (for scripts and the
//! tests), `results.md` (for docs/ and issues) and an aligned block for the terminal.
//! The CSV has an `app` column; the other two rank the servers within each app, one
//! table per app under its name, since servers are compared on the same work.
//!
//! A row is read off a [`Case`] of the results model, the same way whether the case
//! was just measured, read from an old folder or from the history: a case that never
//! produced numbers still gets a row that says why.

use std::cmp::Ordering;
use std::fmt::Write;

use results::{Case, CaseStatus};

/// The column names, in order, shared by the CSV header and the Markdown table so the
/// two files can be read with the same names.
pub const COLUMNS: [&str; 14] = [
    "case",
    "app",
    "status",
    "rps",
    "latency_mean_ms",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "max_ms",
    "errors",
    "server_cpu_percent",
    "server_rss_mib",
    "generator_cpu_percent",
    "server_version",
];

/// One case's line in the results table. `None` means "not measured": the case
/// failed before it could be, or it answered no request, so there is no latency.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    pub case: String,
    /// The test case; `None` is the original's `pong`.
    pub app: Option<String>,
    /// Any status but ok puts the row at the bottom of the sorted tables.
    pub status: CaseStatus,
    pub rps: Option<f64>,
    pub latency_mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub errors: Option<u64>,
    pub server_cpu_percent: Option<f64>,
    pub server_rss_mib: Option<f64>,
    pub generator_cpu_percent: Option<f64>,
    pub server_version: Option<String>,
}

impl CaseRow {
    /// The row of `case`. A crashed case may have numbers: what it measured until the
    /// crash is kept. A killed case has only its finished intervals, so no totals.
    /// Latency columns stay empty when no request was answered, because the engine's
    /// zeros there would read as "infinitely fast".
    pub fn of(case: &Case) -> CaseRow {
        let mut row = CaseRow::failed(&case.name, case.status, case.server_version.clone());
        row.app = case.app.clone();
        let Some(m) = case.totals() else {
            return row;
        };
        let d = &m.digest;
        let l = &d.latency_us;
        let ms = |us: f64| (d.requests > 0).then_some(us / 1000.0);
        row.rps = Some(d.rps);
        row.latency_mean_ms = ms(l.mean);
        row.p50_ms = ms(l.p50 as f64);
        row.p90_ms = ms(l.p90 as f64);
        row.p99_ms = ms(l.p99 as f64);
        row.max_ms = ms(l.max as f64);
        row.errors = Some(d.errors_total);
        row.server_cpu_percent = case.server_cpu_percent;
        row.server_rss_mib = case.server_rss_mib;
        row.generator_cpu_percent = Some(m.generator_cpu_percent);
        row
    }

    /// A row with every measurement empty.
    pub fn failed(
        case: impl Into<String>,
        status: CaseStatus,
        server_version: Option<String>,
    ) -> CaseRow {
        CaseRow {
            case: case.into(),
            app: None,
            status,
            rps: None,
            latency_mean_ms: None,
            p50_ms: None,
            p90_ms: None,
            p99_ms: None,
            max_ms: None,
            errors: None,
            server_cpu_percent: None,
            server_rss_mib: None,
            generator_cpu_percent: None,
            server_version,
        }
    }

    /// The cells in [`COLUMNS`] order, numbers rounded by `digits` (one entry per
    /// kind of number), `None` as `missing`.
    fn cells(&self, digits: &Digits, missing: &str) -> [String; 14] {
        let f = |v: Option<f64>, places: usize| match v {
            Some(v) if v.is_finite() => format!("{v:.places$}"),
            _ => missing.to_string(),
        };
        [
            self.case.clone(),
            self.app_name().to_string(),
            self.status.as_str().to_string(),
            f(self.rps, digits.rps),
            f(self.latency_mean_ms, digits.ms),
            f(self.p50_ms, digits.ms),
            f(self.p90_ms, digits.ms),
            f(self.p99_ms, digits.ms),
            f(self.max_ms, digits.ms),
            self.errors
                .map_or_else(|| missing.to_string(), |n| n.to_string()),
            f(self.server_cpu_percent, digits.percent),
            f(self.server_rss_mib, digits.mib),
            f(self.generator_cpu_percent, digits.percent),
            self.server_version
                .clone()
                .unwrap_or_else(|| missing.to_string()),
        ]
    }

    fn is_ok(&self) -> bool {
        self.status.is_ok() && self.rps.is_some()
    }

    /// `bjoern`, or `bjoern (json)` for an app other than the original.
    pub fn label(&self) -> String {
        match &self.app {
            Some(app) => format!("{} ({app})", self.case),
            None => self.case.clone(),
        }
    }

    pub fn app_name(&self) -> &str {
        self.app.as_deref().unwrap_or(ORIGINAL_APP)
    }
}

/// What a row without an app served: the original's one-line app.
pub const ORIGINAL_APP: &str = "pong";

/// The rows of each app, apps in the order they first appear.
fn by_app(rows: &[CaseRow]) -> Vec<(&str, Vec<CaseRow>)> {
    let mut groups: Vec<(&str, Vec<CaseRow>)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|(app, _)| *app == row.app_name()) {
            Some((_, members)) => members.push(row.clone()),
            None => groups.push((row.app_name(), vec![row.clone()])),
        }
    }
    groups
}

/// Whether the tables need a heading per app: more than one app, or one that is not
/// the original.
fn grouped(rows: &[CaseRow]) -> bool {
    rows.iter().any(|r| r.app.is_some())
}

/// [`COLUMNS`] without `app`, for the tables grouped under each app's name.
fn without_app<T: Clone>(cells: [T; 14]) -> Vec<T> {
    let mut v = cells.to_vec();
    v.remove(1);
    v
}

/// Decimal places per kind of number.
struct Digits {
    rps: usize,
    ms: usize,
    percent: usize,
    mib: usize,
}

/// The CSV keeps more digits than people need, for scripts that compare runs: latency
/// to the microsecond the engine measures in.
const CSV_DIGITS: Digits = Digits {
    rps: 2,
    ms: 3,
    percent: 1,
    mib: 1,
};

/// For reading: whole requests per second, latency to 10 µs.
const HUMAN_DIGITS: Digits = Digits {
    rps: 0,
    ms: 2,
    percent: 1,
    mib: 1,
};

/// `results.csv`: a header with [`COLUMNS`], then one line per row in the order given
/// (the suite's order, so a script can line runs up), RFC 4180 quoting, empty cells
/// for `None`.
pub fn to_csv(rows: &[CaseRow]) -> String {
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let quoted: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&quoted.join(","));
        out.push_str("\r\n");
    };
    line(&mut out, &COLUMNS.map(str::to_string));
    for row in rows {
        line(&mut out, &row.cells(&CSV_DIGITS, ""));
    }
    out
}

/// Quotes a field only when it must be: it holds a separator, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Fastest first, then every case that did not finish, in the order given, so the
/// eye finds the ranking at the top and the failures together at the bottom.
fn ranked(rows: &[CaseRow]) -> Vec<&CaseRow> {
    let mut sorted: Vec<&CaseRow> = rows.iter().collect();
    // A stable sort: failed rows keep their relative order.
    sorted.sort_by(|a, b| match (a.is_ok(), b.is_ok()) {
        (true, true) => b
            .rps
            .unwrap_or(0.0)
            .partial_cmp(&a.rps.unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => Ordering::Equal,
    });
    sorted
}

/// In a table without the app column, the columns after the first two hold numbers
/// and are right-aligned, except the version.
fn is_numeric(column: usize) -> bool {
    (2..COLUMNS.len() - 2).contains(&column)
}

/// `results.md`: a GitHub table per app (under `### app`, when there are apps), ranked
/// by req/s (failed cases last), numbers rounded for reading, `—` for what was not
/// measured.
pub fn to_markdown(rows: &[CaseRow]) -> String {
    let mut out = String::new();
    let headers = without_app(COLUMNS);
    for (i, (app, members)) in by_app(rows).into_iter().enumerate() {
        if grouped(rows) {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "### {}\n", markdown_cell(app));
        }
        let _ = writeln!(out, "| {} |", headers.join(" | "));
        let rule: Vec<&str> = (0..headers.len())
            .map(|i| if is_numeric(i) { "---:" } else { "---" })
            .collect();
        let _ = writeln!(out, "|{}|", rule.join("|"));
        for row in ranked(&members) {
            let cells = without_app(row.cells(&HUMAN_DIGITS, "—"))
                .into_iter()
                .map(|c| markdown_cell(&c))
                .collect::<Vec<_>>();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    out
}

/// A pipe would end the cell and a line break the row.
fn markdown_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Shorter headers than [`COLUMNS`] so the table fits a terminal of ~130 columns.
const CONSOLE_HEADERS: [&str; 14] = [
    "case", "app", "status", "req/s", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors",
    "srv cpu%", "srv MiB", "gen cpu%", "version",
];

/// The table printed at the end of a run: ranked like the Markdown, one block per app
/// under its name when there are apps, columns padded to line up across the blocks in
/// a monospace terminal.
pub fn to_console(rows: &[CaseRow]) -> String {
    let groups: Vec<(&str, Vec<Vec<String>>)> = by_app(rows)
        .into_iter()
        .map(|(app, members)| {
            let body = ranked(&members)
                .into_iter()
                .map(|r| {
                    without_app(r.cells(&HUMAN_DIGITS, "-"))
                        .into_iter()
                        .map(|c| c.replace(['\r', '\n'], " "))
                        .collect()
                })
                .collect();
            (app, body)
        })
        .collect();
    let headers = without_app(CONSOLE_HEADERS.map(str::to_string));
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for cells in groups.iter().flat_map(|(_, body)| body) {
        for (w, c) in widths.iter_mut().zip(cells) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let pad = " ".repeat(width - cell.chars().count());
            if is_numeric(i) {
                text.push_str(&pad);
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&pad);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    for (i, (app, body)) in groups.iter().enumerate() {
        if grouped(rows) {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("app {app}\n"));
        }
        line(&mut out, &headers);
        for cells in body {
            line(&mut out, cells);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(case: &str, rps: f64) -> CaseRow {
        CaseRow {
            case: case.into(),
            app: None,
            status: CaseStatus::Ok,
            rps: Some(rps),
            latency_mean_ms: Some(1.23456),
            p50_ms: Some(1.0),
            p90_ms: Some(2.0),
            p99_ms: Some(3.0),
            max_ms: Some(40.5),
            errors: Some(0),
            server_cpu_percent: Some(99.5),
            server_rss_mib: Some(20.25),
            generator_cpu_percent: Some(45.0),
            server_version: Some("1.0".into()),
        }
    }

    fn rows() -> Vec<CaseRow> {
        vec![
            row("gunicorn", 1500.4),
            CaseRow::failed("broken", CaseStatus::FailedToStart, None),
            row("bjoern", 30000.6),
            CaseRow::failed("missing", CaseStatus::NotInstalled, Some("?".into())),
            row("waitress", 4000.0),
        ]
    }

    #[test]
    fn csv_header_is_exact_and_rows_keep_their_order() {
        let csv = to_csv(&rows());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "case,app,status,rps,latency_mean_ms,p50_ms,p90_ms,p99_ms,max_ms,errors,\
             server_cpu_percent,server_rss_mib,generator_cpu_percent,server_version"
        );
        assert_eq!(lines.len(), 6);
        assert!(lines[1].starts_with("gunicorn,pong,ok,1500.40,1.235,1.000,"));
        assert!(lines[2].starts_with("broken,"));
    }

    #[test]
    fn csv_none_cells_are_empty() {
        let csv = to_csv(&[CaseRow::failed("broken", CaseStatus::FailedToStart, None)]);
        assert_eq!(
            csv.lines().nth(1),
            Some("broken,pong,failed to start,,,,,,,,,,,")
        );
    }

    #[test]
    fn csv_quotes_separators_quotes_and_newlines() {
        let mut r = CaseRow::failed("a,b", CaseStatus::Crashed, Some("say \"hi\"\nnow".into()));
        r.errors = Some(3);
        let csv = to_csv(&[r]);
        let body = csv.split_once("\r\n").unwrap().1;
        assert_eq!(
            body,
            "\"a,b\",pong,crashed,,,,,,,3,,,,\"say \"\"hi\"\"\nnow\"\r\n"
        );
    }

    #[test]
    fn markdown_ranks_by_rps_with_failed_cases_last() {
        let md = to_markdown(&rows());
        let cases: Vec<&str> = md
            .lines()
            .skip(2)
            .map(|l| l.trim_start_matches("| ").split(" |").next().unwrap())
            .collect();
        assert_eq!(
            cases,
            ["bjoern", "waitress", "gunicorn", "broken", "missing"]
        );
        assert!(md.starts_with("| case | status | rps | latency_mean_ms |"));
        assert!(md.lines().nth(1).unwrap().starts_with("|---|---|---:|"));
    }

    #[test]
    fn markdown_rounds_and_marks_missing() {
        let md = to_markdown(&rows());
        let bjoern = md.lines().find(|l| l.starts_with("| bjoern")).unwrap();
        assert_eq!(
            bjoern,
            "| bjoern | ok | 30001 | 1.23 | 1.00 | 2.00 | 3.00 | 40.50 | 0 | 99.5 | 20.2 | 45.0 | 1.0 |"
        );
        let broken = md.lines().find(|l| l.starts_with("| broken")).unwrap();
        assert_eq!(broken.matches('—').count(), 11);
    }

    #[test]
    fn apps_get_a_table_each_ranked_within_the_app() {
        let with = |case: &str, app: &str, rps: f64| CaseRow {
            app: Some(app.into()),
            ..row(case, rps)
        };
        let rows = vec![
            row("bjoern", 30000.0),
            row("gevent", 200.0),
            with("bjoern", "io", 95.0),
            with("gevent", "io", 900.0),
        ];
        let md = to_markdown(&rows);
        let io = md.find("### io").expect("a heading per app");
        let pong = md.find("### pong").unwrap();
        assert!(pong < io, "apps in the order they ran:\n{md}");
        let io_part = &md[io..];
        assert!(
            io_part.find("| gevent").unwrap() < io_part.find("| bjoern").unwrap(),
            "ranked within the app:\n{md}"
        );
        assert!(!md.contains("| app |"), "the heading names the app");
        let text = to_console(&rows);
        assert!(
            text.contains("app pong\n") && text.contains("\napp io\n"),
            "{text}"
        );
        let csv = to_csv(&rows);
        assert!(csv.contains("\r\ngevent,io,ok,900.00,"), "{csv}");
        // The original alone: no headings, as before apps existed.
        assert!(!to_markdown(&rows[..2]).contains("###"));
    }

    #[test]
    fn markdown_escapes_pipes() {
        let md = to_markdown(&[CaseRow::failed("a|b", CaseStatus::Crashed, None)]);
        assert!(md.contains("| a\\|b | crashed |"));
    }

    #[test]
    fn a_crashed_case_with_numbers_still_sorts_last() {
        let mut crashed = row("meinheld", 90000.0);
        crashed.status = CaseStatus::Crashed;
        let md = to_markdown(&[crashed, row("bjoern", 100.0)]);
        assert!(md.find("bjoern").unwrap() < md.find("meinheld").unwrap());
    }

    fn case(status: CaseStatus, requests: u64) -> Case {
        let mut c = Case::new("bjoern", status);
        let mut digest = results::Digest {
            requests,
            rps: requests as f64 / 10.0,
            errors_total: 2,
            ..results::Digest::default()
        };
        digest.latency_us.mean = 1500.0;
        digest.latency_us.p99 = 4000;
        c.measured = Some(results::Measured {
            digest,
            generator_cpu_percent: 80.0,
            ..results::Measured::default()
        });
        c.server_rss_mib = Some(12.5);
        c.server_version = Some("3.2.2".into());
        c
    }

    #[test]
    fn a_row_converts_to_ms_and_keeps_the_suites_fields() {
        let r = CaseRow::of(&case(CaseStatus::Ok, 1000));
        assert_eq!(r.rps, Some(100.0));
        assert_eq!(r.latency_mean_ms, Some(1.5));
        assert_eq!(r.p99_ms, Some(4.0));
        assert_eq!(r.errors, Some(2));
        assert_eq!(r.generator_cpu_percent, Some(80.0));
        assert_eq!(r.server_rss_mib, Some(12.5));
        assert_eq!(r.server_version.as_deref(), Some("3.2.2"));
    }

    #[test]
    fn no_answered_request_means_no_latency() {
        let r = CaseRow::of(&case(CaseStatus::Crashed, 0));
        assert_eq!(r.rps, Some(0.0));
        assert_eq!(r.latency_mean_ms, None);
        assert_eq!(r.max_ms, None);
    }

    #[test]
    fn a_killed_case_has_no_totals_in_its_row() {
        let r = CaseRow::of(&case(CaseStatus::Killed, 1000));
        assert_eq!((r.rps, r.errors), (None, None));
        assert_eq!(r.status, CaseStatus::Killed);
    }

    #[test]
    fn console_columns_line_up() {
        let text = to_console(&rows());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[0].starts_with("case "));
        assert!(lines[1].starts_with("bjoern "));
        // Right-aligned numbers: every row's "errors" cell ends at the header's end.
        let end = lines[0].find("errors").unwrap() + "errors".len();
        for l in &lines[1..4] {
            assert_eq!(&l[end - 1..end], "0", "{l}");
        }
        assert!(lines[4].contains("failed to start"));
    }
}
