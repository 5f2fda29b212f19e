//! `report.html`: one self-contained page per run, for a reader who has never seen
//! wsgibench. It opens from disk in any browser with no network (charts are inline
//! SVG, styles are inline, no font or script is fetched), prints on paper, and reads
//! top-down: what was run, what it means (the [`diagnosis`](crate::diagnosis)), who
//! won, the charts across servers, then one section per server.
//!
//! Built only from the results model ([`results::Run`]), the same whether the run just
//! ended or was read from an old folder, so `wsgibench report DIR` rebuilds it for any
//! old run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::charts;
use crate::diagnosis::Finding;
use crate::plot::{self, Chart, Legend, Series, Stroke, XAxis, YAxis};
use crate::style::escape;
use crate::RenderError;
use results::{Case, Interval, Latency, Run, ServerSample};

/// The page for `run` with `findings` (usually [`crate::diagnosis::diagnose`]'s).
pub fn render(run: &Run, findings: &[Finding]) -> Result<String, RenderError> {
    let mut h = String::with_capacity(512 * 1024);
    let servers = server_names(run);
    let groups = app_groups(run);
    let grouped = groups.len() > 1 || groups.iter().any(|(app, _)| app.is_some());
    let title = format!(
        "wsgibench report: {} server{}{}{}",
        servers.len(),
        if servers.len() == 1 { "" } else { "s" },
        if grouped {
            format!(" x {} apps", groups.len())
        } else {
            String::new()
        },
        run.meta
            .started_utc
            .as_deref()
            .map(|s| format!(", {}", pretty_utc(s)))
            .unwrap_or_default()
    );
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    header(&mut h, run);
    findings_section(&mut h, run, findings);
    if grouped {
        matrix(&mut h, &servers, &groups);
    }
    for (app, cases) in &groups {
        ranking(&mut h, app.as_deref().filter(|_| grouped), cases);
    }
    for (app, cases) in &groups {
        across_servers(&mut h, app.as_deref().filter(|_| grouped), cases)?;
    }
    for (_, cases) in &groups {
        for case in cases {
            case_section(&mut h, case, style_of(&servers, case))?;
        }
    }
    let _ = write!(
        h,
        "<footer>Made by wsgibench {} from the files in <code>{}</code> \
         (run.json, each server's summary.json and server.log). \
         The same numbers are in results.csv and results.md; rebuild this page with \
         <code>wsgibench report {}</code>.</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(run.meta.wsgibench_version.as_deref().unwrap_or("?")),
        escape(&run.dir.display().to_string()),
        escape(&run.dir.display().to_string()),
    );
    Ok(h)
}

/// The servers of the run, each once, in the run's order.
fn server_names(run: &Run) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for c in &run.cases {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    names
}

/// A server's colour: the same in every app's tables and charts.
fn style_of(servers: &[&str], case: &Case) -> usize {
    servers.iter().position(|s| *s == case.name).unwrap_or(0)
}

/// The cases of each app (`None`: the original's pong), apps in the run's order.
fn app_groups(run: &Run) -> Vec<(Option<String>, Vec<Case>)> {
    let mut groups: Vec<(Option<String>, Vec<Case>)> = Vec::new();
    for c in &run.cases {
        match groups.iter_mut().find(|(app, _)| *app == c.app) {
            Some((_, members)) => members.push(c.clone()),
            None => groups.push((c.app.clone(), vec![c.clone()])),
        }
    }
    groups
}

fn app_label(app: Option<&str>) -> &str {
    app.unwrap_or(crate::table::ORIGINAL_APP)
}

/// Servers x apps: req/s and p99 per pair, the fastest server of each app marked, so
/// a reader sees at once which server wins for which kind of app.
fn matrix(h: &mut String, servers: &[&str], groups: &[(Option<String>, Vec<Case>)]) {
    h.push_str(
        "<section id=\"matrix\">\n<h2>Servers x apps</h2>\n<p class=\"hint\">Each cell: \
         answers per second, and the p99 latency below it. <b>★</b> marks the most req/s \
         for that app. A server that answered an app wrongly, or failed, shows its status \
         and is not ranked.</p>\n<table class=\"matrix\">\n<thead><tr><th>server</th>",
    );
    for (app, _) in groups {
        let _ = write!(h, "<th>{}</th>", escape(app_label(app.as_deref())));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let rps = |c: &Case| {
        c.is_ok()
            .then(|| c.measured.as_ref().map(|m| m.digest.rps))
            .flatten()
    };
    let best: Vec<Option<f64>> = groups
        .iter()
        .map(|(_, cases)| cases.iter().filter_map(rps).reduce(f64::max))
        .collect();
    for (i, server) in servers.iter().enumerate() {
        let _ = write!(h, "<tr><th>{}{}</th>", plot::swatch(i), escape(server));
        for ((_, cases), best) in groups.iter().zip(&best) {
            let Some(c) = cases.iter().find(|c| c.name == *server) else {
                h.push_str("<td class=\"dim\">not run</td>");
                continue;
            };
            match rps(c) {
                Some(v) => {
                    let p99 = c
                        .measured
                        .as_ref()
                        .filter(|m| m.digest.requests > 0)
                        .map(|m| ms(m.digest.latency_us.p99 as f64))
                        .unwrap_or_else(|| "-".into());
                    let top = *best == Some(v);
                    let _ = write!(
                        h,
                        "<td class=\"n{}\"><a href=\"#{}\">{}{v:.0}</a><br><span class=\"dim\">p99 {p99} ms</span></td>",
                        if top { " best" } else { "" },
                        anchor(&c.folder_name()),
                        if top { "★ " } else { "" },
                    );
                }
                None => {
                    let _ = write!(
                        h,
                        "<td><a href=\"#{}\"><span class=\"status bad\">{}</span></a></td>",
                        anchor(&c.folder_name()),
                        c.status
                    );
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

/// A case's folder name as an element id: names come from the catalog and may hold
/// anything.
fn anchor(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("case-{id}")
}

/// `2026-11-25T12-23-43Z` (the folder-safe stamp a run writes) as `2026-11-25 12:23:43 UTC`.
pub(crate) fn pretty_utc(stamp: &str) -> String {
    match stamp.split_once('T') {
        Some((date, time)) if time.len() == 9 && time.ends_with('Z') => {
            format!("{date} {} UTC", time[..8].replace('-', ":"))
        }
        _ => stamp.to_string(),
    }
}

fn header(h: &mut String, run: &Run) {
    let m = &run.meta;
    let or_unknown = |v: Option<&str>| escape(v.unwrap_or("unknown"));
    let _ = write!(
        h,
        "<header>\n<h1>Which WSGI server answered fastest?</h1>\n<p class=\"lead\">{}</p>\n<dl class=\"meta\">\n",
        escape(&format!(
            "wsgibench sent the same HTTP load to {} on this machine and measured every answer.",
            list(server_names(run).into_iter())
        ))
    );
    let mut row = |k: &str, v: String| {
        let _ = writeln!(h, "<dt>{k}</dt><dd>{v}</dd>");
    };
    let when = match (&m.started_utc, &m.finished_utc) {
        (Some(a), Some(b)) => format!("{} to {}", pretty_utc(a), pretty_utc(b)),
        (Some(a), None) => format!("{} (no end recorded)", pretty_utc(a)),
        _ => "unknown".into(),
    };
    let interrupted = if m.interrupted == Some(true) {
        " <strong>(interrupted: not every case ran to the end)</strong>"
    } else {
        ""
    };
    row("When", format!("{}{interrupted}", escape(&when)));
    row(
        "Protocol",
        format!(
            "{}{}",
            or_unknown(m.protocol.as_deref()),
            m.suite_file
                .as_deref()
                .map(|f| format!(" <span class=\"dim\">({})</span>", escape(f)))
                .unwrap_or_default()
        ),
    );
    let machine = [
        m.machine.cpu_model.clone(),
        m.machine.cores.map(|c| format!("{c} cores")),
        m.machine.kernel.as_deref().map(|k| format!("Linux {k}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    row(
        "Machine",
        escape(if machine.is_empty() {
            "unknown"
        } else {
            &machine
        }),
    );
    let why = match (m.workers, m.shared_cpus) {
        (_, true) => "<strong>shared CPUs</strong>: server and generator shared CPUs, so the numbers understate both and rank apart from runs where each had its own".to_string(),
        (Some(n), false) => format!("each server gets {n} CPUs of its own for its {n} workers, so they compete on equal terms"),
        (None, false) => "each server gets one CPU of its own, so they compete on equal terms".to_string(),
    };
    row(
        "CPUs",
        format!(
            "{} <span class=\"dim\">({why})</span>",
            or_unknown(m.placement.as_deref())
        ),
    );
    row(
        "Command",
        format!("<code>{}</code>", or_unknown(m.command.as_deref())),
    );
    let servers = server_names(run);
    let versions: Vec<String> = servers
        .iter()
        .filter_map(|name| run.cases.iter().find(|c| c.name == *name))
        .map(|c| {
            format!(
                "{}: {}",
                escape(&c.name),
                escape(c.server_version.as_deref().unwrap_or("unknown"))
            )
        })
        .collect();
    row(
        "Versions",
        format!(
            "wsgibench {}; {}",
            or_unknown(m.wsgibench_version.as_deref()),
            versions.join("; ")
        ),
    );
    h.push_str("</dl>\n</header>\n");
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.as_slice() {
        [] => "no server".into(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn findings_section(h: &mut String, run: &Run, findings: &[Finding]) {
    h.push_str("<section id=\"findings\">\n<h2>What the numbers mean</h2>\n");
    if findings.is_empty() {
        h.push_str(
            "<p class=\"finding ok\">Nothing unusual: no server failed, no request \
             failed, the load generator had CPU to spare and every server kept its pace \
             and its memory steady. The ranking below can be read as it is.</p>\n",
        );
    }
    for f in findings {
        let servers = server_names(run);
        let who = f
            .case
            .as_deref()
            .zip(f.folder.as_deref())
            .map(|(label, folder)| {
                let style = run
                    .cases
                    .iter()
                    .find(|x| x.folder_name() == folder)
                    .map_or(0, |c| style_of(&servers, c));
                format!(
                    "<a href=\"#{}\">{}{}</a>: ",
                    anchor(folder),
                    plot::swatch(style),
                    escape(label)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<div class=\"finding {sev}\"><span class=\"badge {sev}\">{sev}</span> \
             <strong>{who}{}</strong><p>{}</p></div>",
            escape(&f.title),
            escape(&f.text),
            sev = f.severity.label(),
        );
    }
    h.push_str("</section>\n");
}

/// Milliseconds from microseconds with the decimals a reader needs: 0.312, 4.51, 44.1,
/// 165.
fn ms(us: f64) -> String {
    let v = us / 1000.0;
    let places = if v < 1.0 {
        3
    } else if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("{v:.places$}")
}

/// A table cell that sorts by `value` (missing values sort last either way).
fn num_cell(value: Option<f64>, text: impl FnOnce(f64) -> String) -> String {
    match value {
        Some(v) if v.is_finite() => format!("<td class=\"n\" data-v=\"{v}\">{}</td>", text(v)),
        _ => "<td class=\"n\" data-v=\"\">—</td>".into(),
    }
}

fn ranking(h: &mut String, app: Option<&str>, cases: &[Case]) {
    let _ = write!(
        h,
        "<section id=\"{}\">\n<h2>Ranking{}</h2>\n",
        match app {
            Some(app) => anchor(&format!("ranking@{app}")),
            None => "ranking".into(),
        },
        app.map(|a| format!(": {}", escape(a))).unwrap_or_default()
    );
    h.push_str(
        "<p class=\"hint\">Fastest first. \
         <b>req/s</b>: answers per second (higher is better). <b>p50/p90/p99</b>: half, \
         90 % and 99 % of requests were answered within this time (lower is better). \
         CPU is in % of one core. Click a column to sort.</p>\n\
         <table class=\"sortable\">\n<thead><tr>",
    );
    for (name, title) in [
        ("#", "rank by req/s"),
        ("server", ""),
        ("status", ""),
        ("req/s", "answers per second over the whole run"),
        ("p50 ms", "median latency"),
        ("p90 ms", ""),
        ("p99 ms", ""),
        ("max ms", "slowest answer"),
        (
            "errors",
            "requests without an answer, plus answers that were not 2xx",
        ),
        (
            "server CPU %",
            "mean CPU of the server's processes, % of one core",
        ),
        (
            "server MiB",
            "largest resident memory of the server's processes",
        ),
        (
            "generator CPU %",
            "CPU used by wsgibench itself, % of one core",
        ),
    ] {
        let _ = write!(h, "<th title=\"{}\">{}</th>", escape(title), escape(name));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let servers: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    let mut order: Vec<(usize, &Case)> = cases.iter().map(|c| (0, c)).collect();
    // Stable: failed cases keep the run's order, below every finished one.
    order.sort_by(|(_, a), (_, b)| {
        let rps = |c: &Case| {
            c.is_ok()
                .then(|| c.measured.as_ref().map_or(0.0, |m| m.digest.rps))
        };
        match (rps(a), rps(b)) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
    for (rank, (_, c)) in order.iter().enumerate() {
        let style = style_of(&servers, c);
        let m = c.measured.as_ref();
        let answered = m.filter(|m| m.digest.requests > 0);
        let lat = |f: fn(&Latency) -> f64| answered.map(|m| f(&m.digest.latency_us));
        let bad = m.map(|m| (m.digest.errors_total + results::non_2xx(&m.digest)) as f64);
        let status_class = if c.is_ok() { "ok" } else { "bad" };
        let _ = writeln!(
            h,
            "<tr><td class=\"n\" data-v=\"{}\">{}</td><td data-v=\"{}\"><a href=\"#{}\">{}{}</a></td>\
             <td data-v=\"{}\"><span class=\"status {status_class}\">{}</span></td>{}{}{}{}{}{}{}{}{}</tr>",
            rank + 1,
            if c.is_ok() { (rank + 1).to_string() } else { String::new() },
            escape(&c.name),
            anchor(&c.folder_name()),
            plot::swatch(style),
            escape(&c.name),
            c.status,
            c.status,
            num_cell(m.map(|m| m.digest.rps), |v| format!("{v:.0}")),
            num_cell(lat(|l| l.p50 as f64), ms),
            num_cell(lat(|l| l.p90 as f64), ms),
            num_cell(lat(|l| l.p99 as f64), ms),
            num_cell(lat(|l| l.max as f64), ms),
            num_cell(bad, |v| format!("{v:.0}")),
            num_cell(c.server_cpu_percent, |v| format!("{v:.0}")),
            num_cell(c.server_rss_mib, |v| format!("{v:.1}")),
            num_cell(m.map(|m| m.generator_cpu_percent), |v| format!("{v:.0}")),
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

/// A case's line in a cross-server chart, or `None` when it measured nothing.
fn interval_series(
    case: &Case,
    style: usize,
    value: impl Fn(&Interval) -> Option<f64>,
) -> Option<Series> {
    let m = case.measured.as_ref()?;
    Some(Series::new(
        &case.name,
        style,
        m.intervals
            .iter()
            .map(|i| value(i).map(|v| (i.t_s, v)))
            .collect(),
    ))
}

fn latency_ms(i: &Interval, f: fn(&Latency) -> u64) -> Option<f64> {
    let v = f(&i.digest.latency_us) as f64 / 1000.0;
    (i.digest.requests > 0 && v > 0.0).then_some(v)
}

/// The HDR percentile plot of a case: x is 1/(1-q) on a log scale, so each grid step
/// is ten times rarer; the slowest of N answers sits at N, its rank. Summaries older
/// than the full distribution give their six percentiles instead.
fn distribution(case: &Case, style: usize) -> Option<Series> {
    let m = case.measured.as_ref().filter(|m| m.digest.requests > 0)?;
    let l = &m.digest.latency_us;
    let max_x = (m.digest.requests as f64)
        .log10()
        .max(plot::percentile_x(0.999) + 0.3);
    let points: Vec<(f64, u64)> = if m.latency_distribution_us.is_empty() {
        vec![
            (0.0, l.min),
            (plot::percentile_x(0.5), l.p50),
            (plot::percentile_x(0.9), l.p90),
            (plot::percentile_x(0.99), l.p99),
            (plot::percentile_x(0.999), l.p999),
            (max_x, l.max),
        ]
    } else {
        m.latency_distribution_us
            .iter()
            .map(|p| (plot::percentile_x(p.q).min(max_x), p.us))
            .collect()
    };
    let points = points
        .into_iter()
        .map(|(x, us)| (us > 0).then_some((x, us as f64 / 1000.0)))
        .collect();
    let mut series = Series::new(&case.name, style, points);
    // Two markers per decade: enough to tell the lines apart where they cross.
    series.marker_spacing = 0.5;
    Some(series)
}

fn samples(case: &Case, style: usize, value: fn(&ServerSample) -> f64) -> Option<Series> {
    if case.server_samples.is_empty() {
        return None;
    }
    Some(Series::new(
        &case.name,
        style,
        case.server_samples
            .iter()
            .map(|s| Some((s.t_s, value(s))))
            .collect(),
    ))
}

const TIME: &str = "time since the load started (s)";
const SERVER_TIME: &str = "time since the server started (s)";
const DISTRIBUTION_NOTE: &str = "How many requests waited how long, over the whole run: \
    read a point as \"this share of requests took this long or less\". The further \
    right, the rarer: 99% is one request in a hundred. Each line ends at its slowest \
    request.";

struct Figure {
    chart: String,
    caption: &'static str,
}

fn figure(chart: Chart, caption: &'static str) -> Result<Figure, RenderError> {
    Ok(Figure {
        chart: plot::svg(&chart)?,
        caption,
    })
}

fn figures(h: &mut String, figs: Vec<Figure>, extra: &str) {
    h.push_str("<div class=\"charts\">\n");
    for f in figs {
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            f.chart,
            escape(f.caption)
        );
    }
    h.push_str(extra);
    h.push_str("</div>\n");
}

/// A chart over time, one line per server, with the page's legend: the shape of
/// every per-interval and per-sample chart across servers.
fn over_time(
    title: &'static str,
    x_desc: &'static str,
    y: YAxis,
    y_desc: &'static str,
    series: Vec<Series>,
) -> Chart<'static> {
    Chart {
        title,
        x: XAxis::Time,
        x_desc,
        y,
        y_desc,
        series,
        legend: Legend::Page,
    }
}

/// The server's samples over time; the same chart across servers and per server.
fn server_cpu(series: Vec<Series>) -> Chart<'static> {
    over_time(
        "Server CPU",
        SERVER_TIME,
        YAxis::Linear { floor: 100.0 },
        "% of one core",
        series,
    )
}

/// The server's samples over time; the same chart across servers and per server.
fn server_memory(series: Vec<Series>) -> Chart<'static> {
    over_time(
        "Server memory (resident)",
        SERVER_TIME,
        YAxis::Linear { floor: 0.0 },
        "MiB",
        series,
    )
}

fn across_servers(h: &mut String, app: Option<&str>, cases: &[Case]) -> Result<(), RenderError> {
    let _ = write!(
        h,
        "<section id=\"{}\">\n<h2>Across servers{}</h2>\n<p class=\"legend\">",
        match app {
            Some(app) => anchor(&format!("charts@{app}")),
            None => "charts".into(),
        },
        app.map(|a| format!(": {}", escape(a))).unwrap_or_default()
    );
    for (i, c) in cases.iter().enumerate() {
        let _ = write!(
            h,
            "<span>{}{}{}</span> ",
            plot::swatch(i),
            escape(&c.name),
            if c.measured.is_none() {
                " (no data)"
            } else {
                ""
            }
        );
    }
    h.push_str("</p>\n");
    let each = |f: &dyn Fn(&Case, usize) -> Option<Series>| -> Vec<Series> {
        cases
            .iter()
            .enumerate()
            .filter_map(|(i, c)| f(c, i))
            .collect()
    };
    let figs = vec![
        figure(
            charts::request_count(cases, Legend::Page),
            "Higher is better. A line that sinks over time means a server that slows down. \
             A last interval shorter than half the others (the run ended early) is not drawn.",
        )?,
        figure(
            charts::request_mean(cases, Legend::Page),
            "Lower is better. Log scale: each grid step is a factor, so fast servers stay visible.",
        )?,
        figure(
            over_time("Median latency (p50) per interval", TIME, YAxis::Log, "ms (log scale)", each(&|c, i| interval_series(c, i, |iv| latency_ms(iv, |l| l.p50)))),
            "Half of the requests in each interval were answered within this time.",
        )?,
        figure(
            over_time("Tail latency (p99) per interval", TIME, YAxis::Log, "ms (log scale)", each(&|c, i| interval_series(c, i, |iv| latency_ms(iv, |l| l.p99)))),
            "One request in a hundred was slower than this: what a busy user notices.",
        )?,
        figure(
            Chart {
                title: "Latency distribution over the whole run",
                x: XAxis::Percentile,
                x_desc: "percentile (each step: ten times rarer)",
                y: YAxis::Log,
                y_desc: "ms (log scale)",
                series: each(&distribution),
                legend: Legend::Page,
            },
            DISTRIBUTION_NOTE,
        )?,
        figure(
            server_cpu(each(&|c, i| samples(c, i, |s| s.cpu_percent))),
            "100 % is one core fully busy. A server below 100 % under load is waiting, not working.",
        )?,
        figure(
            server_memory(each(&|c, i| samples(c, i, |s| s.rss_mib))),
            "All of the server's processes together. A line that keeps rising may be a leak.",
        )?,
    ];
    figures(h, figs, "");
    h.push_str("</section>\n");
    Ok(())
}

fn case_section(h: &mut String, case: &Case, style: usize) -> Result<(), RenderError> {
    let status_class = if case.is_ok() { "ok" } else { "bad" };
    let _ = write!(
        h,
        "<section class=\"case\" id=\"{}\">\n<h2>{}{} <span class=\"status {status_class}\">{}</span></h2>\n\
         <p class=\"dim\">{}</p>\n",
        anchor(&case.folder_name()),
        plot::swatch(style),
        escape(&case.label()),
        case.status,
        escape(case.server_version.as_deref().unwrap_or("version unknown")),
    );
    if let Some(detail) = &case.detail {
        let _ = writeln!(
            h,
            "<pre class=\"detail\">{}</pre>",
            escape(detail.trim_end())
        );
    }
    if let Some(m) = &case.measured {
        let d = &m.digest;
        let _ = writeln!(
            h,
            "<p class=\"numbers\"><b>{}</b> requests in {:.1} s: <b>{:.0} req/s</b>; \
             latency mean {} ms, p50 {} ms, p99 {} ms, max {} ms; {} connections opened, \
             {} reconnects; server CPU {}; generator CPU {:.0} % of {} core{}.</p>",
            d.requests,
            d.duration_s,
            d.rps,
            ms(d.latency_us.mean),
            ms(d.latency_us.p50 as f64),
            ms(d.latency_us.p99 as f64),
            ms(d.latency_us.max as f64),
            d.connections_opened,
            d.reconnects,
            case.server_cpu_percent
                .map_or("unknown".into(), |c| format!("{c:.0} %")),
            m.generator_cpu_percent,
            m.generator_threads.max(1),
            if m.generator_threads > 1 { "s" } else { "" },
        );
        let percentile_series = |name: &str, f: fn(&Latency) -> u64, stroke, grey| {
            let mut s = interval_series(case, style, |iv| latency_ms(iv, f))
                .unwrap_or_else(|| Series::new(name, style, Vec::new()));
            s.name = name.to_string();
            s.stroke = stroke;
            if grey {
                s.colour = Some(plotters::style::RGBColor(150, 150, 150));
            }
            s
        };
        let single = |s: Option<Series>| s.into_iter().collect::<Vec<_>>();
        let mut requests_of_one = charts::request_count(std::slice::from_ref(case), Legend::Page);
        for line in &mut requests_of_one.series {
            line.style = style;
        }
        // The counts fill the grid's last cell, beside the odd fifth chart.
        let mut tables = String::from("<div class=\"counts\">");
        counts(&mut tables, "Status codes", &d.status, "no answer");
        counts(&mut tables, "Errors by kind", &d.errors, "none");
        tables.push_str("</div>\n");
        figures(
            h,
            vec![
                figure(requests_of_one, "")?,
                figure(
                    Chart {
                        title: "Latency percentiles per interval",
                        x: XAxis::Time,
                        x_desc: TIME,
                        y: YAxis::Log,
                        y_desc: "ms (log scale)",
                        series: vec![
                            percentile_series("p50", |l| l.p50, Stroke::Solid, false),
                            percentile_series("p90", |l| l.p90, Stroke::Dashed, false),
                            percentile_series("p99", |l| l.p99, Stroke::Solid, true),
                            percentile_series("max", |l| l.max, Stroke::Dashed, true),
                        ],
                        legend: Legend::Inside,
                    },
                    "",
                )?,
                figure(
                    Chart {
                        title: "Latency distribution",
                        x: XAxis::Percentile,
                        x_desc: "percentile (each step: ten times rarer)",
                        y: YAxis::Log,
                        y_desc: "ms (log scale)",
                        series: single(distribution(case, style)),
                        legend: Legend::Page,
                    },
                    "",
                )?,
                figure(
                    server_cpu(single(samples(case, style, |s| s.cpu_percent))),
                    "",
                )?,
                figure(
                    server_memory(single(samples(case, style, |s| s.rss_mib))),
                    "",
                )?,
            ],
            &tables,
        );
    }
    if case.log_tail.is_empty() {
        h.push_str("<p class=\"dim\">The server wrote nothing to its log.</p>\n");
    } else {
        let _ = writeln!(
            h,
            "<h3>The last {} lines of its log</h3>\n<pre class=\"log\">{}</pre>",
            case.log_tail.len(),
            escape(&case.log_tail.join("\n"))
        );
    }
    h.push_str("</section>\n");
    Ok(())
}

fn counts(h: &mut String, title: &str, map: &BTreeMap<String, u64>, empty: &str) {
    let _ = write!(
        h,
        "<table class=\"small\"><caption>{}</caption>",
        escape(title)
    );
    if map.is_empty() {
        let _ = write!(h, "<tr><td class=\"dim\">{}</td></tr>", escape(empty));
    }
    for (k, n) in map {
        let _ = write!(h, "<tr><td>{}</td><td class=\"n\">{n}</td></tr>", escape(k));
    }
    h.push_str("</table>");
}

/// Click-to-sort for the ranking (and the trend site's tables, `trend.rs`): numbers by
/// `data-v`, missing values always last.
pub(crate) const SCRIPT: &str = r#"
for (const th of document.querySelectorAll("table.sortable th")) th.onclick = () => {
  const body = th.closest("table").tBodies[0], col = th.cellIndex, up = th.dataset.dir !== "asc";
  th.dataset.dir = up ? "asc" : "desc";
  const key = r => r.cells[col].dataset.v ?? "", num = v => v !== "" && !isNaN(v);
  [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
    if (num(x) && num(y)) return up ? x - y : y - x; if (num(x) !== num(y)) return num(x) ? -1 : 1;
    return up ? x.localeCompare(y) : y.localeCompare(x); }).forEach(r => body.append(r));
};
"#;

/// The page's look, shared with the trend site (`trend.rs`), which adds a few rules.
pub(crate) const STYLE: &str = r#"
:root { --fg: #1d1d1f; --dim: #666; --line: #ddd; --bg2: #f6f6f4; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: var(--fg); margin: 0 auto; padding: 24px 32px 48px; max-width: 1320px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 6px; }
.lead { font-size: 17px; margin: 0 0 12px; }
.dim, .hint, figcaption { color: var(--dim); }
.hint { margin: 0 0 10px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 0;
  background: var(--bg2); padding: 12px 16px; border-radius: 6px; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
.finding { border-left: 5px solid #999; background: var(--bg2); padding: 8px 14px; margin: 8px 0; border-radius: 0 6px 6px 0; }
.finding p { margin: 4px 0 0; }
.finding.problem { border-color: #b2182b; } .finding.warning { border-color: #e69f00; }
.finding.note { border-color: #0072b2; } .finding.ok { border-color: #009e73; }
.badge { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase;
  letter-spacing: .05em; padding: 1px 7px; border-radius: 3px; color: #fff; background: #777; margin-right: 6px; }
.badge.problem { background: #b2182b; } .badge.warning { background: #9a6a00; } .badge.note { background: #0072b2; }
a { color: inherit; text-decoration: none; border-bottom: 1px dotted #999; }
table { border-collapse: collapse; }
table.sortable { width: 100%; }
table.sortable th { cursor: pointer; user-select: none; background: var(--bg2); }
table.sortable th:hover { background: #ebebe7; }
table.sortable th[data-dir="asc"]::after { content: " \25B2"; font-size: 10px; }
table.sortable th[data-dir="desc"]::after { content: " \25BC"; font-size: 10px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
td.n, th:nth-child(n+4) { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(1) td { font-weight: 600; }
table.matrix tbody tr td { font-weight: normal; vertical-align: top; }
table.matrix th { background: var(--bg2); }
table.matrix thead th:not(:first-child) { text-align: right; }
table.matrix td.best { background: #e6f4ea; font-weight: 600; }
table.matrix td a { color: inherit; text-decoration: none; }
.status { font-size: 12px; padding: 1px 7px; border-radius: 3px; }
.status.ok { background: #dff3ea; color: #00674b; } .status.bad { background: #f9dede; color: #8f1322; }
.swatch { vertical-align: -3px; margin-right: 5px; }
.legend span { display: inline-block; margin-right: 16px; white-space: nowrap; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px 22px; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 4px; }
figcaption { font-size: 13px; margin-top: 3px; }
.numbers { margin: 6px 0 12px; }
.counts { display: flex; gap: 40px; align-items: flex-start; padding: 8px 4px; }
table.small caption { text-align: left; font-weight: 600; padding-bottom: 2px; white-space: nowrap; }
table.small td { padding: 2px 10px 2px 0; }
pre.log, pre.detail { background: #1f2428; color: #e8e8e8; padding: 10px 12px; border-radius: 6px;
  overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-all; }
footer { margin-top: 40px; font-size: 13px; color: var(--dim); }
@media print {
  body { padding: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; }
  section.case { break-before: page; }
  figure, .finding, tr { break-inside: avoid; }
  .charts { grid-template-columns: 1fr 1fr; }
  pre.log, pre.detail { max-height: none; background: #fff; color: #000; border: 1px solid #999; }
  table.sortable th { cursor: auto; } table.sortable th::after { content: none !important; }
  a { border: 0; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distribution_plots_every_step_and_ends_at_the_slowest_of_n() {
        let steps = [
            (0.0, 100),
            (0.5, 400),
            (0.9, 900),
            (0.99, 2_000),
            (1.0, 7_000),
        ];
        let mut case = Case::new("s", results::CaseStatus::Ok);
        case.measured = Some(results::Measured {
            digest: results::Digest {
                requests: 100_000,
                ..Default::default()
            },
            latency_distribution_us: steps
                .iter()
                .map(|&(q, us)| results::QuantilePoint { q, us, count: 0 })
                .collect(),
            ..Default::default()
        });
        let series = distribution(&case, 0).unwrap();
        let points: Vec<(f64, f64)> = series.points.iter().map(|p| p.unwrap()).collect();
        // x is log10(1/(1-q)); the slowest of 100 000 answers sits at log10(100 000).
        let expected = [
            (0.0, 0.1),
            (std::f64::consts::LOG10_2, 0.4),
            (1.0, 0.9),
            (2.0, 2.0),
            (5.0, 7.0),
        ];
        assert_eq!(points.len(), expected.len());
        for ((x, ms), (want_x, want_ms)) in points.iter().zip(expected) {
            assert!(
                (x - want_x).abs() < 1e-4 && (ms - want_ms).abs() < 1e-9,
                "{points:?}"
            );
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn stamps_read_as_dates() {
        assert_eq!(
            pretty_utc("2026-11-25T12-23-43Z"),
            "2026-11-25 12:23:43 UTC"
        );
        assert_eq!(pretty_utc("yesterday"), "yesterday");
    }

    #[test]
    fn milliseconds_keep_three_significant_digits() {
        assert_eq!(ms(312.0), "0.312");
        assert_eq!(ms(4510.0), "4.51");
        assert_eq!(ms(44_095.0), "44.1");
        assert_eq!(ms(164_740.0), "165");
    }
}
