//! `wsgibench compare RUN_A RUN_B`: what changed for each server between two recorded
//! runs, and whether the change is larger than the run-to-run noise.
//!
//! A benchmark number moves a few percent between identical runs (CPU frequency,
//! other processes, the page cache). Without a measure of that noise a +3 % reads as
//! progress. Under `wsgibench run --repeat N` each case has N repetitions; a change
//! counts as beyond noise only when the two runs' repetition ranges (min..max) do not
//! overlap: a deliberately plain rule that a reader can check by eye, with no
//! distribution assumed from three to five samples.

use std::fmt::Write;
use std::path::Path;

use results::CaseStatus;

use crate::store::{self as history, CaseRecord, HistoryError, RecordedRun, Repeat, RunRow};
use render::style::escape;

/// The numbers compared, per server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Rps,
    P50,
    P90,
    P99,
}

impl Metric {
    pub const ALL: [Metric; 4] = [Metric::Rps, Metric::P50, Metric::P90, Metric::P99];

    pub fn label(self) -> &'static str {
        match self {
            Metric::Rps => "req/s",
            Metric::P50 => "p50 ms",
            Metric::P90 => "p90 ms",
            Metric::P99 => "p99 ms",
        }
    }

    /// More req/s is better; more latency is worse.
    pub fn higher_is_better(self) -> bool {
        self == Metric::Rps
    }

    fn of_case(self, c: &CaseRecord) -> Option<f64> {
        match self {
            Metric::Rps => c.row.rps,
            Metric::P50 => c.row.p50_ms,
            Metric::P90 => c.row.p90_ms,
            Metric::P99 => c.row.p99_ms,
        }
    }

    /// In the same unit as the case's own number (ms for latency).
    fn of_repeat(self, r: &Repeat) -> f64 {
        match self {
            Metric::Rps => r.rps,
            Metric::P50 => r.p50_us as f64 / 1000.0,
            Metric::P90 => r.p90_us as f64 / 1000.0,
            Metric::P99 => r.p99_us as f64 / 1000.0,
        }
    }

    /// Decimal places shown: whole req/s, latency to 10 µs (as the results table).
    fn places(self) -> usize {
        match self {
            Metric::Rps => 0,
            _ => 2,
        }
    }
}

/// Whether a change stands out from the run-to-run noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noise {
    /// Both runs have repeats and their ranges do not overlap.
    Beyond,
    /// Both runs have repeats and their ranges overlap: the change may be chance.
    Within,
    /// At least one run has no repeats (or fewer than two), so there is no range.
    Unknown,
}

impl Noise {
    /// The rule: repetition ranges (min..max) that do not overlap. Fewer than two
    /// repetitions in either run give no range.
    pub fn judge(a: &[f64], b: &[f64]) -> Noise {
        if a.len() < 2 || b.len() < 2 {
            return Noise::Unknown;
        }
        let range = |v: &[f64]| {
            v.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                })
        };
        let ((a_lo, a_hi), (b_lo, b_hi)) = (range(a), range(b));
        if a_hi < b_lo || b_hi < a_lo {
            Noise::Beyond
        } else {
            Noise::Within
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Noise::Beyond => "beyond noise",
            Noise::Within => "within noise",
            Noise::Unknown => "no repeats: noise unknown",
        }
    }
}

/// One number of one server in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDelta {
    pub metric: Metric,
    pub a: Option<f64>,
    pub b: Option<f64>,
    pub noise: Noise,
    /// The repetition ranges (min, max), when there are repeats.
    pub range_a: Option<(f64, f64)>,
    pub range_b: Option<(f64, f64)>,
}

impl MetricDelta {
    /// `b - a`, in the metric's unit; `None` when either run did not measure it.
    pub fn change(&self) -> Option<f64> {
        Some(self.b? - self.a?)
    }

    /// The change as a percentage of run A's number; `None` also when A's is zero.
    pub fn percent(&self) -> Option<f64> {
        let a = self.a?;
        (a != 0.0).then(|| self.change().map(|c| c / a * 100.0))?
    }

    /// `Some(true)` when B is better (more req/s, less latency), `None` when equal or
    /// not measured.
    pub fn improved(&self) -> Option<bool> {
        let c = self.change()?;
        (c != 0.0).then_some((c > 0.0) == self.metric.higher_is_better())
    }

    /// "+497 (+4.7%)", or "-" when not measured.
    fn change_text(&self) -> String {
        let places = self.metric.places();
        match (self.change(), self.percent()) {
            (Some(c), Some(p)) => format!("{c:+.places$} ({p:+.1}%)"),
            (Some(c), None) => format!("{c:+.places$}"),
            _ => "-".into(),
        }
    }

    /// "beyond noise: better", "within noise", ...; "-" when not measured.
    fn verdict_text(&self) -> String {
        if self.change().is_none() {
            return "-".into();
        }
        let verdict = match (self.noise, self.improved()) {
            (Noise::Beyond, Some(true)) => "beyond noise: better",
            (Noise::Beyond, Some(false)) => "beyond noise: worse",
            (noise, _) => noise.describe(),
        };
        // The ranges the rule compared, so a reader can check the verdict by eye.
        match (self.range_a, self.range_b) {
            (Some((a_lo, a_hi)), Some((b_lo, b_hi))) => {
                let p = self.metric.places();
                format!("{verdict} ({a_lo:.p$}..{a_hi:.p$} vs {b_lo:.p$}..{b_hi:.p$})")
            }
            _ => verdict.into(),
        }
    }

    fn value_text(&self, v: Option<f64>) -> String {
        let places = self.metric.places();
        v.map_or_else(|| "-".into(), |v| format!("{v:.places$}"))
    }
}

/// One server present in both runs, serving the same app.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerDelta {
    /// `bjoern`, or `bjoern (json)` for an app other than the original.
    pub case: String,
    pub status_a: CaseStatus,
    pub status_b: CaseStatus,
    /// In [`Metric::ALL`] order.
    pub metrics: Vec<MetricDelta>,
}

/// How a run placed its servers, as far as like-for-like goes: read from the recorded
/// placement sentence (`server (2 workers) on CPU 0,1 and generator share CPU 0,1 ...:
/// shared CPUs`), which every run since placement was recorded wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Setup {
    /// Worker processes per server; 1 for runs without `--workers`.
    workers: u32,
    /// The server and the generator shared CPUs.
    shared: bool,
}

impl Setup {
    fn of(run: &RecordedRun) -> Setup {
        let text = run.placement.as_deref().unwrap_or("");
        let workers = text
            .split_once("server (")
            .and_then(|(_, rest)| rest.split_once(" worker"))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or(1);
        Setup {
            workers,
            // Runs before "shared CPUs" was said wrote "server and generator share CPU".
            shared: text.contains("shared CPUs") || text.contains("generator share CPU"),
        }
    }

    fn workers_words(&self) -> String {
        match self.workers {
            1 => "1 worker".into(),
            n => format!("{n} workers"),
        }
    }
}

/// Two runs side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub a: RunRow,
    pub b: RunRow,
    /// Servers in both runs, in run A's order.
    pub servers: Vec<ServerDelta>,
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    /// What makes the two runs not like for like (another protocol, another machine).
    pub caveats: Vec<String>,
}

/// Compares runs `a` and `b` of the database; [`HistoryError::UnknownRun`] names the
/// first id that is not there.
pub fn compare(db: &Path, a: i64, b: i64) -> Result<Comparison, HistoryError> {
    let a = history::run(db, a)?;
    let b = history::run(db, b)?;
    Ok(Comparison::new(&a, &b))
}

impl Comparison {
    pub fn new(a: &RecordedRun, b: &RecordedRun) -> Comparison {
        // A server is compared with itself serving the same app.
        let find = |run: &RecordedRun, like: &CaseRecord| -> Option<CaseRecord> {
            run.cases
                .iter()
                .find(|c| c.row.case == like.row.case && c.row.app == like.row.app)
                .cloned()
        };
        let mut servers = Vec::new();
        let mut only_in_a = Vec::new();
        for ca in &a.cases {
            let Some(cb) = find(b, ca) else {
                only_in_a.push(ca.row.label());
                continue;
            };
            servers.push(ServerDelta {
                case: ca.row.label(),
                status_a: ca.row.status,
                status_b: cb.row.status,
                metrics: Metric::ALL
                    .iter()
                    .map(|&m| metric_delta(m, ca, &cb))
                    .collect(),
            });
        }
        let only_in_b = b
            .cases
            .iter()
            .filter(|c| find(a, c).is_none())
            .map(|c| c.row.label())
            .collect();
        let mut caveats = Vec::new();
        if a.run.protocol != b.run.protocol || a.suite_file != b.suite_file {
            caveats.push(format!(
                "the protocols differ: run {} used {}, run {} used {}",
                a.run.id,
                a.run.protocol.as_deref().unwrap_or("?"),
                b.run.id,
                b.run.protocol.as_deref().unwrap_or("?")
            ));
        }
        if a.machine != b.machine {
            caveats.push(format!(
                "the machines differ: run {} on {}, run {} on {}",
                a.run.id,
                describe_machine(&a.machine),
                b.run.id,
                describe_machine(&b.machine)
            ));
        }
        let (setup_a, setup_b) = (Setup::of(a), Setup::of(b));
        if setup_a.workers != setup_b.workers {
            caveats.push(format!(
                "the worker counts differ: run {} ran {} per server, run {} ran {}",
                a.run.id,
                setup_a.workers_words(),
                b.run.id,
                setup_b.workers_words()
            ));
        }
        if setup_a.shared != setup_b.shared {
            let (shared, own) = match setup_a.shared {
                true => (a.run.id, b.run.id),
                false => (b.run.id, a.run.id),
            };
            caveats.push(format!(
                "run {shared} had the server and the generator share CPUs (shared CPUs: its numbers understate both), run {own} gave each its own"
            ));
        }
        Comparison {
            a: a.run.clone(),
            b: b.run.clone(),
            servers,
            only_in_a,
            only_in_b,
            caveats,
        }
    }

    /// Every row as cells: server, metric, A, B, change, verdict. The server name is
    /// on its first row only, so the eye groups a server's rows.
    fn rows(&self) -> Vec<[String; 6]> {
        let mut rows = Vec::new();
        for s in &self.servers {
            for (i, m) in s.metrics.iter().enumerate() {
                rows.push([
                    if i == 0 {
                        s.case.clone()
                    } else {
                        String::new()
                    },
                    m.metric.label().into(),
                    m.value_text(m.a),
                    m.value_text(m.b),
                    m.change_text(),
                    m.verdict_text(),
                ]);
            }
            if s.status_a != s.status_b || !s.status_a.is_ok() {
                rows.push([
                    String::new(),
                    "status".into(),
                    s.status_a.to_string(),
                    s.status_b.to_string(),
                    String::new(),
                    String::new(),
                ]);
            }
        }
        rows
    }

    fn headers(&self) -> [String; 6] {
        [
            "server".into(),
            "metric".into(),
            format!("run {}", self.a.id),
            format!("run {}", self.b.id),
            "change".into(),
            "noise".into(),
        ]
    }

    fn title(&self) -> String {
        format!(
            "run {} ({}) -> run {} ({})",
            self.a.id,
            self.a.started_utc.as_deref().unwrap_or("?"),
            self.b.id,
            self.b.started_utc.as_deref().unwrap_or("?")
        )
    }

    /// Lines under the table: servers in one run only, caveats.
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.only_in_a.is_empty() {
            notes.push(format!(
                "only in run {}: {}",
                self.a.id,
                self.only_in_a.join(", ")
            ));
        }
        if !self.only_in_b.is_empty() {
            notes.push(format!(
                "only in run {}: {}",
                self.b.id,
                self.only_in_b.join(", ")
            ));
        }
        notes.extend(self.caveats.iter().map(|c| format!("caution: {c}")));
        notes
    }

    /// An aligned table for the terminal: names left, numbers right.
    pub fn to_text(&self) -> String {
        let headers = self.headers();
        let rows = self.rows();
        let mut widths = headers.clone().map(|h| h.chars().count());
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "compare {}", self.title());
        let _ = writeln!(out);
        let mut line = |cells: &[String; 6]| {
            let mut text = String::new();
            for (i, (cell, &width)) in cells.iter().zip(&widths).enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                let pad = " ".repeat(width - cell.chars().count());
                // Columns 2..=4 hold numbers.
                if (2..=4).contains(&i) {
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
        line(&headers);
        for r in &rows {
            line(r);
        }
        let notes = self.notes();
        if !notes.is_empty() {
            out.push('\n');
            for n in notes {
                out.push_str(&n);
                out.push('\n');
            }
        }
        out
    }

    /// A small HTML page with the same table, standing alone: inline styles, no
    /// script, no external URL, so it can be mailed or attached to an issue.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        let title = format!(
            "wsgibench compare: run {} \u{2192} run {}",
            self.a.id, self.b.id
        );
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{}</title>\n</head>\n\
             <body style=\"font-family: system-ui, sans-serif; margin: 2em; color: #222;\">\n\
             <h1 style=\"font-size: 1.4em;\">{}</h1>\n",
            escape(&title),
            escape(&title)
        );
        for (run, label) in [(&self.a, "A"), (&self.b, "B")] {
            let _ = writeln!(
                out,
                "<p style=\"margin: 0.2em 0;\"><b>{label}: run {}</b>, {}, {} ({})</p>",
                run.id,
                escape(run.started_utc.as_deref().unwrap_or("?")),
                escape(run.protocol.as_deref().unwrap_or("protocol unknown")),
                escape(&run.dir)
            );
        }
        let cell = "padding: 0.25em 0.8em; border-bottom: 1px solid #ddd;";
        let _ = writeln!(
            out,
            "<table style=\"border-collapse: collapse; margin-top: 1em;\">\n<tr>"
        );
        for (i, h) in self.headers().iter().enumerate() {
            let align = if (2..=4).contains(&i) {
                "right"
            } else {
                "left"
            };
            let _ = write!(
                out,
                "<th style=\"{cell} text-align: {align}; border-bottom: 2px solid #888;\">{}</th>",
                escape(h)
            );
        }
        out.push_str("</tr>\n");
        let verdicts = self
            .servers
            .iter()
            .flat_map(|s| {
                let extra = (s.status_a != s.status_b || !s.status_a.is_ok()).then_some(None);
                s.metrics.iter().map(Some).chain(extra)
            })
            .collect::<Vec<_>>();
        for (r, m) in self.rows().iter().zip(verdicts) {
            // Green or red only for changes beyond noise; the rest stays plain so the
            // page does not shout about chance.
            let colour = match m.map(|m| (m.noise, m.improved())) {
                Some((Noise::Beyond, Some(true))) => "background: #dff5e1;",
                Some((Noise::Beyond, Some(false))) => "background: #fbe0e0;",
                _ => "",
            };
            out.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                let align = if (2..=4).contains(&i) {
                    "right"
                } else {
                    "left"
                };
                let weight = if i == 0 { " font-weight: bold;" } else { "" };
                let _ = write!(
                    out,
                    "<td style=\"{cell} text-align: {align};{weight} {colour}\">{}</td>",
                    escape(c)
                );
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
        for n in self.notes() {
            let _ = writeln!(out, "<p>{}</p>", escape(&n));
        }
        let _ = writeln!(
            out,
            "<p style=\"color: #666; font-size: 0.9em;\">A change is beyond noise when the \
             two runs' repetition ranges (min..max, from <code>wsgibench run --repeat N</code>) \
             do not overlap. Percent changes are relative to run {}.</p>\n</body>\n</html>",
            self.a.id
        );
        out
    }
}

fn metric_delta(metric: Metric, a: &CaseRecord, b: &CaseRecord) -> MetricDelta {
    let values =
        |c: &CaseRecord| -> Vec<f64> { c.repeats.iter().map(|r| metric.of_repeat(r)).collect() };
    let (va, vb) = (values(a), values(b));
    let range = |v: &[f64]| {
        (v.len() >= 2).then(|| {
            v.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                })
        })
    };
    MetricDelta {
        metric,
        a: metric.of_case(a),
        b: metric.of_case(b),
        noise: Noise::judge(&va, &vb),
        range_a: range(&va),
        range_b: range(&vb),
    }
}

fn describe_machine(m: &serde_json::Value) -> String {
    let s = |k: &str| {
        m.get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
    };
    format!(
        "{} x{} (kernel {})",
        s("cpu_model").unwrap_or_else(|| "?".into()),
        s("cores").unwrap_or_else(|| "?".into()),
        s("kernel").unwrap_or_else(|| "?".into())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use render::table::CaseRow;

    fn case(name: &str, rps: f64, p50: f64, repeats: &[f64]) -> CaseRecord {
        CaseRecord {
            row: CaseRow {
                case: name.into(),
                app: None,
                status: CaseStatus::Ok,
                rps: Some(rps),
                latency_mean_ms: Some(p50),
                p50_ms: Some(p50),
                p90_ms: Some(p50 * 2.0),
                p99_ms: Some(p50 * 4.0),
                max_ms: Some(p50 * 10.0),
                errors: Some(0),
                server_cpu_percent: None,
                server_rss_mib: None,
                generator_cpu_percent: None,
                server_version: None,
            },
            // Each repeat's latency tracks the case's: only rps varies.
            repeats: repeats
                .iter()
                .map(|&r| Repeat {
                    rps: r,
                    p50_us: (p50 * 1000.0) as u64,
                    p90_us: (p50 * 2000.0) as u64,
                    p99_us: (p50 * 4000.0) as u64,
                    mean_us: p50 * 1000.0,
                    errors: 0,
                    status: None,
                })
                .collect(),
        }
    }

    fn run(id: i64, cases: Vec<CaseRecord>) -> RecordedRun {
        RecordedRun {
            run: RunRow {
                id,
                started_utc: Some(format!("2026-01-0{id}T00-00-00Z")),
                finished_utc: None,
                command: None,
                protocol: Some("p".into()),
                dir: format!("/r/{id}"),
                interrupted: Some(false),
                cases: cases.len(),
                cases_ok: cases.len(),
                best: None,
            },
            placement: None,
            suite_file: None,
            machine: serde_json::json!({"cores": 2}),
            wsgibench_version: None,
            agents: None,
            cases,
        }
    }

    #[test]
    fn noise_rule_is_range_overlap() {
        assert_eq!(Noise::judge(&[1.0, 2.0], &[3.0, 4.0]), Noise::Beyond);
        assert_eq!(Noise::judge(&[3.0, 4.0], &[1.0, 2.0]), Noise::Beyond);
        // Touching ends overlap: the same value was seen in both runs.
        assert_eq!(Noise::judge(&[1.0, 2.0], &[2.0, 3.0]), Noise::Within);
        assert_eq!(Noise::judge(&[1.0, 5.0, 3.0], &[2.0, 2.5]), Noise::Within);
        assert_eq!(Noise::judge(&[], &[1.0, 2.0]), Noise::Unknown);
        assert_eq!(Noise::judge(&[1.0], &[5.0]), Noise::Unknown);
    }

    #[test]
    fn deltas_absolute_percent_and_direction() {
        let d = MetricDelta {
            metric: Metric::Rps,
            a: Some(1000.0),
            b: Some(1100.0),
            noise: Noise::Unknown,
            range_a: None,
            range_b: None,
        };
        assert_eq!(d.change(), Some(100.0));
        assert!((d.percent().unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(d.improved(), Some(true));
        assert_eq!(d.change_text(), "+100 (+10.0%)");
        let lat = MetricDelta {
            metric: Metric::P99,
            a: Some(2.0),
            b: Some(3.0),
            ..d.clone()
        };
        // More latency is worse.
        assert_eq!(lat.improved(), Some(false));
        assert_eq!(lat.change_text(), "+1.00 (+50.0%)");
        let zero = MetricDelta {
            a: Some(0.0),
            b: Some(5.0),
            ..d.clone()
        };
        assert_eq!((zero.change(), zero.percent()), (Some(5.0), None));
        let missing = MetricDelta { b: None, ..d };
        assert_eq!((missing.change(), missing.percent()), (None, None));
        assert_eq!(missing.verdict_text(), "-");
    }

    #[test]
    fn servers_matched_by_name_with_noise_per_metric() {
        let a = run(
            1,
            vec![
                case("bjoern", 1000.0, 1.0, &[990.0, 1000.0, 1010.0]),
                case("gevent", 500.0, 2.0, &[]),
                case("gone", 1.0, 1.0, &[]),
            ],
        );
        let b = run(
            2,
            vec![
                case("new", 1.0, 1.0, &[]),
                case("gevent", 450.0, 2.0, &[]),
                case("bjoern", 1200.0, 1.0, &[1150.0, 1200.0, 1250.0]),
            ],
        );
        let c = Comparison::new(&a, &b);
        assert_eq!(c.only_in_a, ["gone"]);
        assert_eq!(c.only_in_b, ["new"]);
        let names: Vec<&str> = c.servers.iter().map(|s| s.case.as_str()).collect();
        assert_eq!(names, ["bjoern", "gevent"]);
        let bj = &c.servers[0].metrics;
        assert_eq!(bj[0].noise, Noise::Beyond);
        assert_eq!(bj[0].range_b, Some((1150.0, 1250.0)));
        assert_eq!(
            bj[0].verdict_text(),
            "beyond noise: better (990..1010 vs 1150..1250)"
        );
        assert!((bj[0].percent().unwrap() - 20.0).abs() < 1e-9);
        // Same latency in every repeat of both runs: ranges equal, so within noise.
        assert_eq!(bj[1].noise, Noise::Within);
        let ge = &c.servers[1].metrics;
        assert_eq!(ge[0].noise, Noise::Unknown);
        assert_eq!(ge[0].change(), Some(-50.0));
        assert!(c.caveats.is_empty(), "{:?}", c.caveats);

        let text = c.to_text();
        assert!(text.contains("beyond noise: better"), "{text}");
        assert!(text.contains("no repeats: noise unknown"), "{text}");
        assert!(text.contains("only in run 1: gone"), "{text}");
        assert!(text.contains("-50 (-10.0%)"), "{text}");
        // Aligned: every table line has its change column ending at the same place.
        let table: Vec<&str> = text.lines().skip(2).take_while(|l| !l.is_empty()).collect();
        let ends: Vec<usize> = table
            .iter()
            .filter_map(|l| l.find(" (").map(|i| l[i..].find(')').unwrap() + i))
            .collect();
        assert!(ends.windows(2).all(|w| w[0] == w[1]), "{text}");

        let html = c.to_html();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="));
        assert!(html.contains("#dff5e1"), "a better change is green");
    }

    #[test]
    fn caveats_and_failed_cases() {
        let a = run(1, vec![case("x", 10.0, 1.0, &[])]);
        let mut b = run(2, vec![case("x", 10.0, 1.0, &[])]);
        b.run.protocol = Some("other".into());
        b.cases[0].row = CaseRow::failed("x", CaseStatus::Crashed, None);
        let c = Comparison::new(&a, &b);
        assert_eq!(c.caveats.len(), 1, "{:?}", c.caveats);
        let text = c.to_text();
        assert!(
            text.contains("status") && text.contains("crashed"),
            "{text}"
        );
        assert!(text.contains("caution: the protocols differ"), "{text}");
        let html = c.to_html();
        assert_eq!(html.matches("<tr>").count(), 1 + 4 + 1, "{html}");
    }

    #[test]
    fn worker_counts_and_shared_cpus_are_not_like_for_like() {
        let mut a = run(1, vec![case("x", 10.0, 1.0, &[])]);
        let mut b = run(2, vec![case("x", 10.0, 1.0, &[])]);
        a.placement = Some("server on CPU 1, generator on CPU 0".into());
        b.placement = Some("server (2 workers) on CPU 0,1 and generator share CPU 0,1 (2 workers need every CPU): shared CPUs, results understate both and rank apart".into());
        let c = Comparison::new(&a, &b);
        assert_eq!(c.caveats.len(), 2, "{:?}", c.caveats);
        assert!(c.caveats[0].contains("run 1 ran 1 worker per server, run 2 ran 2 workers"));
        assert!(c.caveats[1].starts_with("run 2 had the server and the generator share CPUs"));
        // Two workers on four CPUs: their own CPUs, one caveat (the count).
        b.placement = Some("server (2 workers) on CPU 2,3, generator on CPU 0,1".into());
        assert_eq!(Comparison::new(&a, &b).caveats.len(), 1);
        // --workers 1 is the default's argv and placement.
        b.placement = Some("server (1 worker) on CPU 1, generator on CPU 0".into());
        assert!(Comparison::new(&a, &b).caveats.is_empty());
        a.placement = None;
        assert!(Comparison::new(&a, &b).caveats.is_empty());
    }
}
