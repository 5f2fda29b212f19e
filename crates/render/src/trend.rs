//! The trend across runs (`wsgibench history --html DIR`): the original benchmark's
//! spreadsheet of results, run after run, as a static site.
//!
//! - `index.html`: every server, linking to its page, with its newest result; then
//!   every run: id, date, protocol, machine, cases ok, the fastest server and a link
//!   to the run's own report.html while its folder still has one.
//! - `server-<name>.html`, one page per server: req/s and p99 over the run dates, then
//!   the table of every run of that server. A page per server, not one long page: eleven
//!   servers of two charts each would make a page to scroll through, not to read, while
//!   one server's page fits a screen, prints on a sheet and is the link to send.
//!
//! Numbers are only comparable under the same protocol on the same machine, so each
//! (protocol, CPU model and cores, app) is a line of its own with its own colour and
//! marker, the same on every page ([`LineKey`]). A run where the server failed leaves a
//! gap in its line, not a zero: a crash is not a slow server. A run that did not
//! include the server leaves no point, and the line goes on.
//!
//! Built from plain data ([`Site`]) that the history gathers, so this crate knows no
//! database. Like report.html, each page stands alone: inline SVG charts drawn by
//! [`crate::plot`], the report's styles inline, no network, and no script but the
//! report's click-to-sort for the tables.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use results::{Machine, OutputError, ResultsError};

use crate::html::{pretty_utc, SCRIPT, STYLE};
use crate::plot::{self, Chart, Legend, Series, XAxis, YAxis};
use crate::style::{days_from_civil, escape};
use crate::table::CaseRow;
use crate::RenderError;

/// The site's front page.
pub const INDEX_HTML: &str = "index.html";

/// Everything the site shows: the recorded runs, gathered by the history.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// Where the runs were read from (the history database), named in each footer.
    pub source: String,
    /// In any order: the pages order them by date.
    pub runs: Vec<TrendRun>,
}

/// One recorded run.
#[derive(Debug, Clone, Default)]
pub struct TrendRun {
    pub id: i64,
    /// run.json's stamp, `2026-11-25T12-23-43Z` (colons work too). A run without a
    /// readable one is listed but cannot be placed on a chart.
    pub started_utc: Option<String>,
    pub protocol: Option<String>,
    pub machine: Machine,
    /// `None`: the run never said how it ended (killed).
    pub interrupted: Option<bool>,
    /// The results folder, as recorded.
    pub dir: String,
    /// The run's report.html, an absolute path, when it was there as the site was
    /// built; `None` when the folder is gone or has none.
    pub report: Option<PathBuf>,
    /// In the suite's order.
    pub cases: Vec<TrendCase>,
}

/// One case of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendCase {
    pub row: CaseRow,
    /// The test case the server served; `None` for the original one-line "Pong!" app.
    pub app: Option<String>,
}

/// A page of the site: its file name in the site's folder, and its HTML.
#[derive(Debug, Clone)]
pub struct Page {
    pub file: String,
    pub html: String,
}

/// What [`write_site`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub index: PathBuf,
    pub server_pages: Vec<PathBuf>,
}

/// Renders the site and writes it into `dir` (made if missing), each page atomically:
/// the server pages first and the index last, so the index never links to a page not
/// yet written. Pages of servers no longer in the history are left as they were.
pub fn write_site(site: &Site, dir: &Path) -> Result<Written, RenderError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RenderError::Results(ResultsError::Write(OutputError { path, source }))
    };
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    // Absolute and free of symlinks, as the reports' paths are: links are computed
    // between the two.
    let root = std::fs::canonicalize(dir).map_err(write_error(dir))?;
    let pages = render_site(site, &root)?;
    let mut server_pages = Vec::new();
    let mut index = root.join(INDEX_HTML);
    for page in pages {
        let path = root.join(&page.file);
        results::files::write_atomic(&path, page.html.as_bytes()).map_err(ResultsError::from)?;
        if page.file == INDEX_HTML {
            index = path;
        } else {
            server_pages.push(path);
        }
    }
    Ok(Written {
        index,
        server_pages,
    })
}

/// Every page of the site, the index last. `dir` is where the site goes (absolute),
/// from which the links to the reports are made ([`report_link`]).
pub fn render_site(site: &Site, dir: &Path) -> Result<Vec<Page>, RenderError> {
    let trend = Trend::new(site);
    let mut pages = Vec::with_capacity(trend.servers.len() + 1);
    for (name, file) in &trend.servers {
        pages.push(Page {
            file: file.clone(),
            html: server_page(site, &trend, name, dir)?,
        });
    }
    pages.push(Page {
        file: INDEX_HTML.into(),
        html: index_page(site, &trend, dir),
    });
    Ok(pages)
}

/// What makes two numbers comparable, and so one line of a chart: the same protocol,
/// on the same machine (CPU model and cores; a new kernel is what a trend should
/// show, so it is not part of the key), serving the same app.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineKey {
    pub protocol: String,
    pub machine: String,
    /// `None`: the one-line "Pong!" app.
    pub app: Option<String>,
}

impl LineKey {
    fn of(run: &TrendRun, app: Option<&str>) -> LineKey {
        LineKey {
            protocol: run
                .protocol
                .clone()
                .unwrap_or_else(|| "unknown protocol".into()),
            machine: machine_label(&run.machine),
            app: app.map(str::to_string),
        }
    }

    /// "quick look: ... · AMD EPYC, 2 cores", and the app when it is not Pong.
    pub fn label(&self) -> String {
        let mut label = format!("{} · {}", self.protocol, self.machine);
        if let Some(app) = &self.app {
            let _ = write!(label, " · app {app}");
        }
        label
    }
}

fn machine_label(m: &Machine) -> String {
    match (&m.cpu_model, m.cores) {
        (Some(cpu), Some(n)) => format!("{cpu}, {n} cores"),
        (Some(cpu), None) => cpu.clone(),
        (None, Some(n)) => format!("{n} cores"),
        (None, None) => "unknown machine".into(),
    }
}

/// The site's runs put in order once, for every page.
struct Trend<'a> {
    /// Oldest first (by date, undated first, then by id), each with its instant.
    runs: Vec<(&'a TrendRun, Option<f64>)>,
    /// Every line, in order of first appearance; a line's style (colour and marker) is
    /// its index here, so it looks the same on every page.
    keys: Vec<LineKey>,
    /// Each server and its page's file name, by name.
    servers: BTreeMap<&'a str, String>,
}

impl<'a> Trend<'a> {
    fn new(site: &'a Site) -> Trend<'a> {
        let mut runs: Vec<(&TrendRun, Option<f64>)> = site
            .runs
            .iter()
            .map(|r| (r, r.started_utc.as_deref().and_then(instant)))
            .collect();
        runs.sort_by(|(a, ta), (b, tb)| {
            let t = |t: &Option<f64>| t.unwrap_or(f64::NEG_INFINITY);
            t(ta).total_cmp(&t(tb)).then(a.id.cmp(&b.id))
        });
        let mut keys = Vec::new();
        let mut seen = HashSet::new();
        for (run, _) in &runs {
            for case in &run.cases {
                let key = LineKey::of(run, case.app.as_deref());
                if seen.insert(key.clone()) {
                    keys.push(key);
                }
            }
        }
        let names: BTreeSet<&str> = runs
            .iter()
            .flat_map(|(r, _)| r.cases.iter().map(|c| c.row.case.as_str()))
            .collect();
        Trend {
            runs,
            keys,
            servers: page_files(names),
        }
    }

    fn style(&self, key: &LineKey) -> usize {
        self.keys.iter().position(|k| k == key).unwrap_or(0)
    }

    /// The runs that had `server`, newest first, with its case in each.
    fn rows_of(&self, server: &str) -> Vec<(&'a TrendRun, &'a TrendCase)> {
        self.runs
            .iter()
            .rev()
            .flat_map(|(run, _)| {
                run.cases
                    .iter()
                    .filter(move |c| c.row.case == server)
                    .map(move |c| (*run, c))
            })
            .collect()
    }
}

/// `2026-11-25T12-23-43Z` (run.json's folder-safe stamp) or `2026-11-25T12:23:43Z` as
/// seconds since 1970-01-01 UTC; `None` for anything else.
pub fn instant(stamp: &str) -> Option<f64> {
    let b = stamp.as_bytes();
    let sep = |i: usize, ok: &[u8]| b.get(i).is_some_and(|c| ok.contains(c));
    if b.len() != 20 || !sep(4, b"-") || !sep(7, b"-") || !sep(10, b"T") || !sep(19, b"Z") {
        return None;
    }
    if !sep(13, b"-:") || !sep(16, b"-:") {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        let s = stamp.get(from..to)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, s) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    Some(days as f64 * 86_400.0 + f64::from(h * 3600 + mi * 60 + s))
}

/// A file name for each server's page: `server-` and the name with anything but ASCII
/// letters, digits, `-` and `_` made `_` (names come from the catalog and may hold
/// `/`, `..` or markup), cut to a sane length, and numbered when two names come out
/// the same.
fn page_files(names: BTreeSet<&str>) -> BTreeMap<&str, String> {
    let mut used = HashSet::new();
    let mut files = BTreeMap::new();
    for name in names {
        let mut slug: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        if slug.is_empty() {
            slug.push('_');
        }
        let mut file = format!("server-{slug}.html");
        let mut n = 2;
        while !used.insert(file.clone()) {
            file = format!("server-{slug}-{n}.html");
            n += 1;
        }
        files.insert(name, file);
    }
    files
}

/// How the site links to a run's report.html.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportLink {
    /// From the site's folder, when the site and the run's folder share a folder above
    /// them (anything but `/`): the link keeps working when that folder is moved,
    /// copied or served over HTTP as a whole, as the Kubernetes volume is.
    Relative(String),
    /// A `file://` URL, when the two share only `/`: a relative link would climb to the
    /// root, which no web server serves; this one opens on this machine only.
    Absolute(String),
}

impl ReportLink {
    pub fn href(&self) -> &str {
        match self {
            ReportLink::Relative(h) | ReportLink::Absolute(h) => h,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ReportLink::Relative(_) => {
                "relative link: it moves with the folder this site and the run share"
            }
            ReportLink::Absolute(_) => "absolute path: it opens on this machine only",
        }
    }
}

/// The link from the site in `site_dir` to `report`, both absolute paths: relative
/// when they share a folder above them, else absolute (see [`ReportLink`]). A path
/// that is not canonical (holding `..`) gets the absolute link: what `..` climbs out of
/// may be a symlink, so no relative link can be worked out from the text alone. Each
/// part of the path is percent-encoded, so a folder named `a#b` or `x:y` stays one path.
pub fn report_link(site_dir: &Path, report: &Path) -> ReportLink {
    let encoded = |p: &Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(percent_encode(part)),
                Component::ParentDir => Some("..".into()),
                Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
            })
            .collect()
    };
    let canonical =
        |p: &Path| p.is_absolute() && !p.components().any(|c| c == Component::ParentDir);
    let (site, target) = (encoded(site_dir), encoded(report));
    let shared = site.iter().zip(&target).take_while(|(a, b)| a == b).count();
    if !canonical(site_dir) || !canonical(report) || shared == 0 {
        return ReportLink::Absolute(format!("file:///{}", target.join("/")));
    }
    let mut href = "../".repeat(site.len() - shared);
    href.push_str(&target[shared..].join("/"));
    ReportLink::Relative(href)
}

/// A path segment for a URL: every byte but ASCII letters, digits and `-._~` as `%XX`,
/// so nothing in a folder's name can end the segment, start a query or a fragment, or
/// read as a scheme.
fn percent_encode(part: &OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in part.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// One line of a server's charts: its req/s and its p99, run by run, under one key.
pub struct Line {
    pub key: LineKey,
    pub style: usize,
    pub rps: Series,
    pub p99: Series,
}

/// The lines of `server`'s charts, one per [`LineKey`] it ran under, in the site's key
/// order. A point per dated run that had the server: its numbers when the case ended
/// ok, `None` (a gap) when it failed or measured nothing.
pub fn server_lines(site: &Site, server: &str) -> Vec<Line> {
    lines(&Trend::new(site), server)
}

fn lines(trend: &Trend, server: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for (run, t) in &trend.runs {
        let Some(t) = t else { continue };
        for case in run.cases.iter().filter(|c| c.row.case == server) {
            let key = LineKey::of(run, case.app.as_deref());
            let style = trend.style(&key);
            let i = match lines.iter().position(|l| l.key == key) {
                Some(i) => i,
                None => {
                    let series = || Series::new(&key.label(), style, Vec::new());
                    lines.push(Line {
                        rps: series(),
                        p99: series(),
                        key,
                        style,
                    });
                    lines.len() - 1
                }
            };
            let row = &case.row;
            let ok = row.status.is_ok();
            let value = |v: Option<f64>| v.filter(|v| ok && v.is_finite()).map(|v| (*t, v));
            lines[i].rps.points.push(value(row.rps));
            // Log axis: a zero latency is "no answer", not a value.
            lines[i]
                .p99
                .points
                .push(value(row.p99_ms.filter(|v| *v > 0.0)));
        }
    }
    lines.sort_by_key(|l| l.style);
    lines
}

const TREND_STYLE: &str = r#"
nav { margin: 0 0 14px; font-size: 14px; color: var(--dim); }
nav a { margin-right: 10px; }
table.trend { width: 100%; }
table.trend th { text-align: left; }
table.trend th.n { text-align: right; }
table.trend tbody tr:nth-child(1) td { font-weight: normal; }
table.trend td.wrap { white-space: normal; min-width: 14em; }
.legend span { display: block; white-space: normal; margin: 2px 0; }
@media print { nav { display: none; } }
"#;

fn head(h: &mut String, title: &str) {
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}{TREND_STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    );
}

fn foot(h: &mut String, site: &Site) {
    let _ = write!(
        h,
        "<footer>Made by wsgibench {} from the history in <code>{}</code>; rebuild it with \
         <code>wsgibench history --html DIR</code>. Links to a run's report.html are \
         relative where the run's folder and this site share a folder above them (the \
         two move together), and absolute file paths where they share only the root \
         (they open on this machine only).</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(env!("CARGO_PKG_VERSION")),
        escape(&site.source),
    );
}

fn date_text(run: &TrendRun) -> String {
    run.started_utc
        .as_deref()
        .map_or_else(|| "unknown".into(), pretty_utc)
}

/// A table cell that sorts by `key` and shows `html` (already escaped).
fn cell(class: &str, key: &str, html: &str) -> String {
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(" class=\"{class}\"")
    };
    format!("<td{class} data-v=\"{}\">{html}</td>", escape(key))
}

fn num(value: Option<f64>, places: usize) -> String {
    match value {
        Some(v) if v.is_finite() => cell("n", &v.to_string(), &format!("{v:.places$}")),
        _ => cell("n", "", "—"),
    }
}

fn status(row: &CaseRow) -> String {
    let class = if row.status.is_ok() { "ok" } else { "bad" };
    cell(
        "",
        row.status.as_str(),
        &format!("<span class=\"status {class}\">{}</span>", row.status),
    )
}

fn report_cell(run: &TrendRun, dir: &Path) -> String {
    match &run.report {
        Some(report) => {
            let link = report_link(dir, report);
            cell(
                "",
                "report",
                &format!(
                    "<a href=\"{}\" title=\"{}\">report</a>",
                    escape(link.href()),
                    link.title()
                ),
            )
        }
        None => cell(
            "",
            "",
            &format!(
                "<span class=\"dim\" title=\"no report.html in {}\">none</span>",
                escape(&run.dir)
            ),
        ),
    }
}

fn header_row(h: &mut String, columns: &[(&str, bool, &str)]) {
    h.push_str("<thead><tr>");
    for (name, numeric, title) in columns {
        let _ = write!(
            h,
            "<th{} title=\"{}\">{}</th>",
            if *numeric { " class=\"n\"" } else { "" },
            escape(title),
            escape(name)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
}

fn index_page(site: &Site, trend: &Trend, dir: &Path) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let n = trend.runs.len();
    head(
        &mut h,
        &format!("wsgibench: the trend across {n} run{}", plural(n)),
    );
    h.push_str("<header>\n<h1>How did each server do, run after run?</h1>\n");
    let dated: Vec<&TrendRun> = trend
        .runs
        .iter()
        .filter(|(_, t)| t.is_some())
        .map(|(r, _)| *r)
        .collect();
    let span = match (dated.first(), dated.last()) {
        (Some(a), Some(b)) => format!(", from {} to {}", date_text(a), date_text(b)),
        _ => String::new(),
    };
    let _ = writeln!(
        h,
        "<p class=\"lead\">{}</p>",
        escape(&if n == 0 {
            "No run is recorded yet: each `wsgibench run` records itself, and the next \
             `wsgibench history --html` shows it here."
                .to_string()
        } else {
            format!(
                "{n} run{} recorded{span}. Each server's page draws its req/s and p99 \
                 over the run dates; each run links to its full report while its \
                 folder still has one.",
                plural(n)
            )
        })
    );
    let _ = writeln!(
        h,
        "<dl class=\"meta\">\n<dt>History</dt><dd><code>{}</code></dd>\n\
         <dt>Lines</dt><dd>{} (protocol, machine) pair{}: runs under another protocol or on \
         another machine are never drawn on one line, since their numbers do not compare.</dd>\n</dl>\n</header>",
        escape(&site.source),
        trend.keys.len(),
        plural(trend.keys.len())
    );

    h.push_str(
        "<section id=\"servers\">\n<h2>Servers</h2>\n<p class=\"hint\">Each server's \
         newest result. Click a server for its trend, a column to sort.</p>\n\
         <table class=\"sortable trend\">\n",
    );
    header_row(
        &mut h,
        &[
            ("server", false, ""),
            ("runs", true, "runs that included the server"),
            ("failed", true, "runs where the server did not end ok"),
            ("newest run", false, ""),
            ("status", false, "in the newest run"),
            ("req/s", true, "in the newest run"),
            ("p99 ms", true, "in the newest run"),
        ],
    );
    for (name, file) in &trend.servers {
        let rows = trend.rows_of(name);
        let failed = rows.iter().filter(|(_, c)| !c.row.status.is_ok()).count();
        let Some((newest, case)) = rows.first() else {
            continue;
        };
        let _ = writeln!(
            h,
            "<tr>{}{}{}{}{}{}{}</tr>",
            cell(
                "",
                name,
                &format!("<a href=\"{}\">{}</a>", escape(file), escape(name))
            ),
            cell("n", &rows.len().to_string(), &rows.len().to_string()),
            cell("n", &failed.to_string(), &failed.to_string()),
            cell(
                "",
                newest.started_utc.as_deref().unwrap_or(""),
                &format!(
                    "<a href=\"#run-{}\">run {}</a>, {}",
                    newest.id,
                    newest.id,
                    escape(&date_text(newest))
                )
            ),
            status(&case.row),
            num(case.row.rps, 0),
            num(case.row.p99_ms, 2),
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");

    h.push_str(
        "<section id=\"runs\">\n<h2>Runs</h2>\n<p class=\"hint\">Newest first. \
         <b>fastest</b>: the most req/s among the cases that ended ok.</p>\n\
         <!-- Report links: relative where the run's folder and this site share a folder \
         above them, absolute file paths (file URLs) where they share only the root. -->\n\
         <table class=\"sortable trend\">\n",
    );
    header_row(
        &mut h,
        &[
            ("id", true, "the run's id in the history"),
            ("date (UTC)", false, "when the run started"),
            ("protocol", false, ""),
            ("machine", false, "CPU model and cores"),
            ("cases ok", true, "cases that ended ok, of those recorded"),
            ("fastest", false, ""),
            ("req/s", true, "the fastest server's"),
            ("report", false, "the run's report.html"),
        ],
    );
    for (run, _) in trend.runs.iter().rev() {
        let ok = run.cases.iter().filter(|c| c.row.status.is_ok()).count();
        let ended = match run.interrupted {
            Some(true) => ", interrupted",
            None => ", unfinished",
            Some(false) => "",
        };
        let fastest = run
            .cases
            .iter()
            .filter(|c| c.row.status.is_ok())
            .filter_map(|c| c.row.rps.filter(|v| v.is_finite()).map(|v| (c, v)))
            .fold(None, |best: Option<(&TrendCase, f64)>, (c, v)| match best {
                Some((_, b)) if b >= v => best,
                _ => Some((c, v)),
            });
        let fastest_cell = match fastest {
            Some((c, _)) => cell(
                "",
                &c.row.case,
                &format!(
                    "<a href=\"{}\">{}</a>",
                    escape(&trend.servers[c.row.case.as_str()]),
                    escape(&c.row.case)
                ),
            ),
            None => cell("", "", "—"),
        };
        let _ = writeln!(
            h,
            "<tr id=\"run-{id}\">{}{}{}{}{}{}{}{}</tr>",
            cell("n", &run.id.to_string(), &run.id.to_string()),
            cell(
                "",
                run.started_utc.as_deref().unwrap_or(""),
                &escape(&date_text(run))
            ),
            cell(
                "wrap",
                run.protocol.as_deref().unwrap_or(""),
                &escape(run.protocol.as_deref().unwrap_or("unknown"))
            ),
            cell(
                "wrap",
                &machine_label(&run.machine),
                &escape(&machine_label(&run.machine))
            ),
            cell(
                "n",
                &ok.to_string(),
                &format!("{ok}/{}{ended}", run.cases.len())
            ),
            fastest_cell,
            num(fastest.map(|(_, v)| v), 0),
            report_cell(run, dir),
            id = run.id,
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
    foot(&mut h, site);
    h
}

fn server_page(
    site: &Site,
    trend: &Trend,
    server: &str,
    dir: &Path,
) -> Result<String, RenderError> {
    let mut h = String::with_capacity(128 * 1024);
    head(&mut h, &format!("wsgibench: {server} across runs"));
    h.push_str("<nav><a href=\"index.html\">\u{2190} all runs</a> servers:");
    for (name, file) in &trend.servers {
        if *name == server {
            let _ = write!(h, " <b>{}</b>", escape(name));
        } else {
            let _ = write!(h, " <a href=\"{}\">{}</a>", escape(file), escape(name));
        }
    }
    h.push_str("</nav>\n");
    let rows = trend.rows_of(server);
    let failed = rows.iter().filter(|(_, c)| !c.row.status.is_ok()).count();
    let undated = rows
        .iter()
        .filter(|(r, _)| r.started_utc.as_deref().and_then(instant).is_none())
        .count();
    let _ = writeln!(
        h,
        "<header>\n<h1>{}: req/s and p99, run after run</h1>\n<p class=\"lead\">{}</p>\n</header>",
        escape(server),
        escape(&format!(
            "In {} of {} recorded run{}; {}.{}",
            rows.len(),
            trend.runs.len(),
            plural(trend.runs.len()),
            if failed == 0 {
                "it ended ok in each".to_string()
            } else {
                format!("it did not end ok in {failed} of them")
            },
            if undated > 0 {
                format!(
                    " {undated} run{} without a readable date {} listed below but not drawn.",
                    plural(undated),
                    if undated == 1 { "is" } else { "are" }
                )
            } else {
                String::new()
            }
        ))
    );

    let lines = lines(trend, server);
    h.push_str("<section id=\"trend\">\n<h2>Trend</h2>\n<p class=\"legend\">");
    for line in &lines {
        let _ = write!(
            h,
            "<span>{}{}</span>",
            plot::swatch(line.style),
            escape(&line.key.label())
        );
    }
    h.push_str("</p>\n<div class=\"charts\">\n");
    let (rps, p99): (Vec<Series>, Vec<Series>) = lines.into_iter().map(|l| (l.rps, l.p99)).unzip();
    for (chart, caption) in [
        (
            Chart {
                title: "Requests per second",
                x: XAxis::Date,
                x_desc: "run date (UTC)",
                y: YAxis::Linear { floor: 0.0 },
                y_desc: "req/s",
                series: rps,
                legend: Legend::Page,
            },
            "Higher is better. A gap: the server did not end ok in that run (the table \
             below says how it ended).",
        ),
        (
            Chart {
                title: "Tail latency (p99)",
                x: XAxis::Date,
                x_desc: "run date (UTC)",
                y: YAxis::Log,
                y_desc: "ms (log scale)",
                series: p99,
                legend: Legend::Page,
            },
            "Lower is better. One request in a hundred was slower than this. Log scale.",
        ),
    ] {
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            plot::svg(&chart)?,
            escape(caption)
        );
    }
    h.push_str("</div>\n</section>\n");

    h.push_str(
        "<section id=\"runs\">\n<h2>Every run</h2>\n<p class=\"hint\">Newest first. \
         Click a column to sort.</p>\n<table class=\"sortable trend\">\n",
    );
    header_row(
        &mut h,
        &[
            ("run", true, "the run's id in the history"),
            ("date (UTC)", false, ""),
            ("line", false, "protocol, machine (and app): the chart line"),
            ("status", false, ""),
            ("req/s", true, ""),
            ("p50 ms", true, ""),
            ("p99 ms", true, ""),
            ("errors", true, ""),
            ("version", false, "the server's version"),
            ("report", false, "the run's report.html"),
        ],
    );
    for (run, case) in &rows {
        let key = LineKey::of(run, case.app.as_deref());
        let r = &case.row;
        let _ = writeln!(
            h,
            "<tr>{}{}{}{}{}{}{}{}{}{}</tr>",
            cell(
                "n",
                &run.id.to_string(),
                &format!("<a href=\"index.html#run-{}\">{}</a>", run.id, run.id)
            ),
            cell(
                "",
                run.started_utc.as_deref().unwrap_or(""),
                &escape(&date_text(run))
            ),
            cell(
                "wrap",
                &key.label(),
                &format!(
                    "{}{}",
                    plot::swatch(trend.style(&key)),
                    escape(&key.label())
                )
            ),
            status(r),
            num(r.rps, 0),
            num(r.p50_ms, 2),
            num(r.p99_ms, 2),
            num(r.errors.map(|e| e as f64), 0),
            cell(
                "",
                r.server_version.as_deref().unwrap_or(""),
                &escape(r.server_version.as_deref().unwrap_or("unknown"))
            ),
            report_cell(run, dir),
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
    foot(&mut h, site);
    Ok(h)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use results::CaseStatus;

    fn ok(name: &str, rps: f64, p99: f64) -> TrendCase {
        let mut row = CaseRow::failed(name, CaseStatus::Ok, Some("1.0".into()));
        row.rps = Some(rps);
        row.p50_ms = Some(p99 / 4.0);
        row.p99_ms = Some(p99);
        row.errors = Some(0);
        TrendCase { row, app: None }
    }

    fn failed(name: &str, status: CaseStatus) -> TrendCase {
        TrendCase {
            row: CaseRow::failed(name, status, None),
            app: None,
        }
    }

    fn run(id: i64, day: u32, protocol: &str, cpu: &str, cases: Vec<TrendCase>) -> TrendRun {
        TrendRun {
            id,
            started_utc: Some(format!("2026-11-{day:02}T12-00-00Z")),
            protocol: Some(protocol.into()),
            machine: Machine {
                cpu_model: Some(cpu.into()),
                cores: Some(2),
                kernel: Some(format!("6.{id}")),
            },
            interrupted: Some(false),
            dir: format!("/data/results/run{id}"),
            report: None,
            cases,
        }
    }

    fn site(runs: Vec<TrendRun>) -> Site {
        Site {
            source: "/data/history.sqlite3".into(),
            runs,
        }
    }

    fn day(d: u32) -> f64 {
        instant(&format!("2026-11-{d:02}T12-00-00Z")).unwrap()
    }

    #[test]
    fn stamps_read_as_instants() {
        assert_eq!(instant("1970-01-01T00-00-00Z"), Some(0.0));
        assert_eq!(instant("1970-01-02T01:00:01Z"), Some(86_400.0 + 3601.0));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00-00-00Z",
            "2026-11-25 12:23:43",
            "2026-11-25T12-23-43",
            "+026-11-25T12-23-43Z",
        ] {
            assert_eq!(instant(bad), None, "{bad}");
        }
    }

    /// Runs of another protocol or machine are lines of their own; the kernel is not
    /// part of the key. The same key has the same style on every server's page.
    #[test]
    fn lines_are_kept_apart_by_protocol_and_machine() {
        let s = site(vec![
            run(
                1,
                1,
                "original",
                "EPYC",
                vec![ok("a", 100.0, 2.0), ok("b", 50.0, 4.0)],
            ),
            run(2, 2, "original", "Xeon", vec![ok("a", 200.0, 1.0)]),
            run(3, 3, "quick", "EPYC", vec![ok("a", 300.0, 1.5)]),
            run(
                4,
                4,
                "original",
                "EPYC",
                vec![ok("a", 110.0, 2.5), ok("b", 55.0, 3.0)],
            ),
        ]);
        let a = server_lines(&s, "a");
        let keys: Vec<(&str, &str)> = a
            .iter()
            .map(|l| (l.key.protocol.as_str(), l.key.machine.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("original", "EPYC, 2 cores"),
                ("original", "Xeon, 2 cores"),
                ("quick", "EPYC, 2 cores")
            ]
        );
        assert_eq!(a.iter().map(|l| l.style).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(
            a[0].rps.points,
            [Some((day(1), 100.0)), Some((day(4), 110.0))]
        );
        assert_eq!(a[0].p99.points, [Some((day(1), 2.0)), Some((day(4), 2.5))]);
        assert_eq!(a[1].rps.points, [Some((day(2), 200.0))]);
        let b = server_lines(&s, "b");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].style, 0, "the same key keeps its style on every page");

        let pages = render_site(&s, Path::new("/data/site")).unwrap();
        let page_a = &pages
            .iter()
            .find(|p| p.file == "server-a.html")
            .unwrap()
            .html;
        for line in &a {
            assert!(
                page_a.contains(&escape(&line.key.label())),
                "{}",
                line.key.label()
            );
        }
        // Two charts, each with one path per line at least.
        assert_eq!(page_a.matches("<figure>").count(), 2);
        let index = &pages.last().unwrap().html;
        assert_eq!(pages.last().unwrap().file, INDEX_HTML);
        assert!(index.contains("3 (protocol, machine) pairs"), "{index}");
    }

    /// A failed case is a gap (None), never a zero; a run without the server leaves no
    /// point at all; an ok case without a latency leaves a gap in p99 only.
    #[test]
    fn a_failed_case_is_a_gap_not_a_zero() {
        let mut no_answers = ok("a", 0.0, 0.0);
        no_answers.row.p99_ms = None;
        let s = site(vec![
            run(1, 1, "p", "m", vec![ok("a", 100.0, 2.0)]),
            run(2, 2, "p", "m", vec![failed("a", CaseStatus::Crashed)]),
            run(3, 3, "p", "m", vec![ok("other", 1.0, 1.0)]),
            run(4, 4, "p", "m", vec![ok("a", 120.0, 2.0)]),
            run(5, 5, "p", "m", vec![failed("a", CaseStatus::FailedToStart)]),
            run(6, 6, "p", "m", vec![no_answers]),
        ]);
        let a = server_lines(&s, "a");
        assert_eq!(a.len(), 1);
        assert_eq!(
            a[0].rps.points,
            [
                Some((day(1), 100.0)),
                None,
                Some((day(4), 120.0)),
                None,
                Some((day(6), 0.0))
            ]
        );
        assert_eq!(
            a[0].p99.points,
            [Some((day(1), 2.0)), None, Some((day(4), 2.0)), None, None]
        );
        // The page says how it failed, in the table.
        let pages = render_site(&s, Path::new("/data/site")).unwrap();
        let page = &pages
            .iter()
            .find(|p| p.file == "server-a.html")
            .unwrap()
            .html;
        assert!(page.contains(">crashed</span>") && page.contains(">failed to start</span>"));
        assert!(page.contains("it did not end ok in 2 of them"), "{page}");
    }

    /// Names, protocols, machines, versions and folders come from outside: markup in
    /// them stays text, and no name can choose where its page is written.
    #[test]
    fn hostile_names_are_escaped_and_make_safe_file_names() {
        let evil = "bjoern<script>alert(1)</script>";
        let mut evil_case = ok(evil, 10.0, 1.0);
        evil_case.row.server_version = Some("<img src=x onerror=alert(2)>".into());
        evil_case.app = Some("\"><script>alert(3)</script>".into());
        let mut r1 = run(
            1,
            1,
            "<b>proto</b>",
            "cpu<i>",
            vec![
                evil_case,
                ok("../../etc/passwd", 5.0, 1.0),
                ok("a b", 1.0, 1.0),
                ok("a_b", 1.0, 1.0),
                ok("", 1.0, 1.0),
            ],
        );
        r1.dir = "/data/<script>alert(4)</script>".into();
        r1.started_utc = Some("<script>alert(5)</script>".into());
        let mut s = site(vec![r1]);
        s.source = "/h/<script>alert(6)</script>.sqlite3".into();
        let pages = render_site(&s, Path::new("/data/site")).unwrap();
        let files: Vec<&str> = pages.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files.len(), 6, "{files:?}");
        assert_eq!(
            files.iter().collect::<HashSet<_>>().len(),
            files.len(),
            "one file per server: {files:?}"
        );
        for f in &files {
            assert!(
                f.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                    && !f.contains("..")
                    && f.ends_with(".html"),
                "{f}"
            );
        }
        for page in &pages {
            let html = &page.html;
            assert_eq!(html.matches("<script").count(), 1, "{}: {html}", page.file);
            for needle in ["<img", "<b>proto", "cpu<i>", "alert(1)</script>"] {
                assert!(!html.contains(needle), "{}: {needle}", page.file);
            }
        }
        let index = &pages.last().unwrap().html;
        assert!(index.contains("bjoern&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(index.contains("&lt;b&gt;proto&lt;/b&gt;"));
        assert!(index.contains("/h/&lt;script&gt;alert(6)&lt;/script&gt;.sqlite3"));
    }

    #[test]
    fn report_links_are_relative_under_a_shared_folder_else_absolute() {
        // (site, report, relative?, link)
        let cases = [
            (
                "/data/site",
                "/data/results/r1/report.html",
                true,
                "../results/r1/report.html",
            ),
            (
                "/data/site",
                "/data/site/r1/report.html",
                true,
                "r1/report.html",
            ),
            (
                "/data/results/r1/site",
                "/data/results/r1/report.html",
                true,
                "../report.html",
            ),
            // A name that would read as a scheme, a fragment, a query or markup.
            (
                "/data/site",
                "/data/x:y/a#b?c\"<d>/report.html",
                true,
                "../x%3Ay/a%23b%3Fc%22%3Cd%3E/report.html",
            ),
            // Only the root in common.
            (
                "/tmp/site",
                "/work/run 1/report.html",
                false,
                "file:///work/run%201/report.html",
            ),
            // A path that is not canonical gets no relative link.
            (
                "/data/site",
                "/data/x/../r/report.html",
                false,
                "file:///data/x/../r/report.html",
            ),
        ];
        for (site, report, relative, link) in cases {
            let want = match relative {
                true => ReportLink::Relative(link.to_string()),
                false => ReportLink::Absolute(link.to_string()),
            };
            assert_eq!(
                report_link(Path::new(site), Path::new(report)),
                want,
                "{site} {report}"
            );
        }
    }

    /// Every link of every page goes where the design says: to a page of the site,
    /// to an anchor, or to a report (relative or file://); nothing reaches a network.
    #[test]
    fn every_link_is_a_site_page_an_anchor_or_a_report() {
        let mut near = run(1, 1, "p", "m", vec![ok("a", 1.0, 1.0)]);
        near.report = Some("/data/results/run1/report.html".into());
        let mut far = run(2, 2, "p", "m", vec![ok("a", 2.0, 1.0), ok("b", 1.0, 1.0)]);
        far.report = Some("/elsewhere/run2/report.html".into());
        let gone = run(3, 3, "p", "m", vec![ok("a", 3.0, 1.0)]);
        let s = site(vec![near, far, gone]);
        let pages = render_site(&s, Path::new("/data/site")).unwrap();
        let files: HashSet<&str> = pages.iter().map(|p| p.file.as_str()).collect();
        for page in &pages {
            let html = &page.html;
            assert!(!html.contains(" src=\""), "{}", page.file);
            let hrefs: Vec<&str> = html
                .match_indices(" href=\"")
                .map(|(i, _)| {
                    let rest = &html[i + 7..];
                    &rest[..rest.find('"').unwrap()]
                })
                .collect();
            assert!(!hrefs.is_empty());
            for href in hrefs {
                let page_part = href.split('#').next().unwrap();
                assert!(
                    page_part.is_empty()
                        || files.contains(page_part)
                        || href == "../results/run1/report.html"
                        || href == "file:///elsewhere/run2/report.html",
                    "{}: href={href}",
                    page.file
                );
            }
            let outside: String = html.replace("file:///elsewhere", "");
            assert!(!outside.contains("://"), "{}: a URL", page.file);
        }
        let index = &pages.last().unwrap().html;
        assert_eq!(index.matches("title=\"relative link").count(), 1);
        assert_eq!(index.matches("title=\"absolute path").count(), 1);
        assert!(index.contains("no report.html in /data/results/run3"));
        // The newest run is listed first, and the fastest server of run 2 is "a".
        let rows: Vec<usize> = ["run-3", "run-2", "run-1"]
            .iter()
            .map(|id| index.find(&format!("id=\"{id}\"")).unwrap())
            .collect();
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "{rows:?}");
    }

    #[test]
    fn an_empty_history_still_makes_an_index() {
        let pages = render_site(&site(Vec::new()), Path::new("/s")).unwrap();
        assert_eq!(pages.len(), 1);
        assert!(pages[0].html.contains("No run is recorded yet"));
    }
}
