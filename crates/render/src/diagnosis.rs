//! Says what the numbers mean: rules that turn a run's files into findings a newcomer
//! can act on ("the generator was the bottleneck", "this 44 ms is Nagle's algorithm,
//! not slowness").
//!
//! Each rule is a pure function over one loaded [`Case`], so it is tested on hand-made
//! summaries, and on two real runs' folders in tests/findings.rs. Thresholds are
//! constants next to their rule, with the reason they sit where they do.
//!
//! A rule must hold on any machine: it reads the shape of the data (how the latencies
//! spread, which kinds of error, connections opened against requests), or a constant of
//! the kernel (the 40 ms delayed ACK), never a speed or CPU share that one machine
//! happened to show.

use results::{Case, CaseStatus, Run, ServerSample};

/// How much a finding should worry the reader. Ordered: the report lists the worst
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The numbers for this case cannot be trusted or do not exist.
    Problem,
    /// The numbers are real but mean something other than they seem.
    Warning,
    /// Worth knowing; nothing is wrong.
    Note,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Problem => "problem",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One thing the report tells the reader, in plain language.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    /// The case it is about, as people read it (`gevent`, `gevent (io)`); `None` for
    /// the run as a whole.
    pub case: Option<String>,
    /// That case's folder name (`gevent@io`): the report links the finding to it.
    pub folder: Option<String>,
    /// A short headline.
    pub title: String,
    /// What happened, why, and what it means for the numbers.
    pub text: String,
}

impl Finding {
    fn new(severity: Severity, case: &Case, title: String, text: String) -> Finding {
        Finding {
            severity,
            case: Some(case.label()),
            folder: Some(case.folder_name()),
            title,
            text,
        }
    }
}

/// Every rule over every case, worst first; cases keep the run's order within a
/// severity.
pub fn diagnose(run: &Run) -> Vec<Finding> {
    // (the finding, its server, the apps it holds for)
    let mut found: Vec<(Finding, &str, Vec<&str>)> = Vec::new();
    for case in &run.cases {
        let app = case.app.as_deref().unwrap_or(crate::table::ORIGINAL_APP);
        for f in case_findings(case) {
            // The same finding for a server in several apps is said once, naming them.
            match found.iter_mut().find(|(g, server, _)| {
                *server == case.name && g.severity == f.severity && g.title == f.title
            }) {
                Some((_, _, apps)) => apps.push(app),
                None => found.push((f, &case.name, vec![app])),
            }
        }
    }
    let mut out: Vec<Finding> = found
        .into_iter()
        .map(|(mut f, server, apps)| {
            if apps.len() > 1 {
                f.case = Some(format!("{server} ({})", apps.join(", ")));
                f.text.push_str(&format!(
                    " (The figures are the {} app's; the same holds for {}.)",
                    apps[0],
                    apps[1..].join(", ")
                ));
            }
            f
        })
        .collect();
    out.sort_by_key(|f| f.severity);
    out
}

/// Every rule over one case.
fn case_findings(case: &Case) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(case_failed(case));
    out.extend(generator_bound(case));
    out.extend(nagle_floor(case));
    out.extend(errors(case));
    out.extend(resets(case));
    out.extend(timeouts(case));
    out.extend(new_connection_per_request(case));
    out.extend(more_than_one_cpu(case));
    out.extend(restarted(case));
    out.extend(throughput_falls(case));
    out.extend(memory_grows(case));
    out
}

/// The server did not run to the end: not installed, did not start, crashed, or the
/// run stopped before it.
pub fn case_failed(case: &Case) -> Option<Finding> {
    let detail = case
        .detail
        .as_deref()
        .and_then(|d| d.lines().rev().find(|l| !l.trim().is_empty()))
        .map(|l| format!(" Last words: \u{201c}{}\u{201d}", l.trim()))
        .unwrap_or_default();
    let (severity, title, text) = match case.status {
        CaseStatus::Ok => return None,
        CaseStatus::Crashed => (
            Severity::Problem,
            "the server crashed during the run",
            "The server process exited while it was under load, so its numbers stop \
             where it died and are not comparable with the others. Its log, at the end \
             of its section, usually says why.",
        ),
        CaseStatus::FailedToStart => (
            Severity::Problem,
            "the server did not start",
            "The server never answered on its port, so nothing was measured. Its \
             section shows the reason.",
        ),
        CaseStatus::NotInstalled => (
            Severity::Note,
            "the server is not installed",
            "Its Python package could not be installed on this machine (often a \
             missing C library or compiler), so it was skipped.",
        ),
        CaseStatus::NotRun | CaseStatus::Killed => (
            Severity::Warning,
            "the run stopped before this case finished",
            "The run was interrupted (Ctrl-C) or killed; what this case measured, if \
             anything, is incomplete.",
        ),
        CaseStatus::LostAgent | CaseStatus::Partial => (
            Severity::Problem,
            "not all of the planned load was made",
            "Some load agents were lost or refused their share, so the server saw less \
             load than planned and its numbers are not comparable with the others'. \
             Its section lists the agents.",
        ),
        CaseStatus::AppError => (
            Severity::Problem,
            "the app failed on this server",
            "The test app raised an error (an import error or an exception), so the \
             answers measured are error pages, not the app's work.",
        ),
        CaseStatus::AnswersDifferently => (
            Severity::Problem,
            "the server answered differently from the others",
            "Its answer to the app's probe (status, length or body) differs from the \
             other servers', so it did different work and is not ranked.",
        ),
    };
    Some(Finding::new(
        severity,
        case,
        title.to_string(),
        format!("{text}{detail}"),
    ))
}

/// Above this share of its cores the generator, not the server, may have set the pace.
const GENERATOR_BOUND_SHARE: f64 = 0.9;

/// The load generator used more than ~90 % of the cores it had: it was (close to)
/// saturated, so the server might have answered faster had it been asked faster.
pub fn generator_bound(case: &Case) -> Option<Finding> {
    let m = case.measured.as_ref()?;
    let threads = m.generator_threads.max(1) as f64;
    let share = m.generator_cpu_percent / 100.0 / threads;
    if !(m.generator_bound || share > GENERATOR_BOUND_SHARE) {
        return None;
    }
    Some(Finding::new(
        Severity::Warning,
        case,
        "the load generator was the bottleneck".into(),
        format!(
            "wsgibench itself used {:.0} % of its {} core{} during this case, so it \
             could not send requests any faster. The server's real limit is higher \
             than the {:.0} req/s measured here; give the generator more cores to \
             find it.",
            share * 100.0,
            threads,
            if threads == 1.0 { "" } else { "s" },
            m.digest.rps
        ),
    ))
}

/// Where Nagle's algorithm meeting a delayed ACK puts the floor. Linux's delayed-ACK
/// timer waits at least 40 ms (`TCP_DELACK_MIN`, a kernel constant, not a property of
/// the machine's speed) and fires on a timer tick, so floors sit at 40 to 48 ms; a
/// busy server adds a few ms on top.
const NAGLE_FLOOR_MS: std::ops::RangeInclusive<f64> = 38.0..=60.0;
/// A floor is a timer, not a queue: from the 10th percentile to the median, latency
/// rises by less than this factor. A queue's wait grows and shrinks with the users
/// waiting in it, and the protocols ramp their users up and down, so a queue spreads
/// its latencies wider: 1.2x to 6x from p10 to p50 for every other case of both
/// reference runs (the narrowest at 0.1 ms, where no timer sits), against 1.00x and
/// 1.01x for gevent's floor.
const FLOOR_BAND: f64 = 1.1;
/// Some answers came this many times faster than the floor: the server can answer
/// quickly (those answers escaped the timer, such as a connection's first), so the
/// floor is a wait, not its work.
const FLOOR_OVER_FASTEST: f64 = 10.0;

/// Most requests wait the same ~40 ms, though the server answered some of them far
/// faster: the response goes out in two small writes, Nagle's algorithm holds the
/// second until the first is ACKed, and the client delays that ACK by up to 40 ms.
/// gevent's pywsgi with keep-alive on loopback measures ~44 ms per request this way.
///
/// The rule reads the shape of the case's own latency distribution, nothing that
/// depends on how fast the machine is: a narrow band (p10 to p50) at the delayed-ACK
/// timer's value, far above the fastest answer. It does not ask the server to be idle:
/// with many connections each waiting 40 ms, a server still works between the waits
/// (gevent ran at 64 % of its CPU with the full protocol's 300 users, at 7 % with the
/// quick protocol's 25).
pub fn nagle_floor(case: &Case) -> Option<Finding> {
    let m = case.measured.as_ref()?;
    if m.digest.requests == 0 {
        return None;
    }
    let l = &m.digest.latency_us;
    let (p50, p90) = (l.p50 as f64 / 1000.0, l.p90 as f64 / 1000.0);
    let fastest = l.min as f64 / 1000.0;
    // The lowest of the 10th to 40th percentiles from which latency stays in a narrow
    // band up to the median: the share of requests the timer held. A connection's
    // first answers may escape it (uWSGI's router on 64 KiB answers: the first fifth).
    let from = [0.1, 0.2, 0.3, 0.4].into_iter().find_map(|q| {
        // That very percentile: a sparse distribution's next point would be the median.
        let pq = m
            .latency_distribution_us
            .iter()
            .find(|p| (p.q - q).abs() < 1e-6)
            .map(|p| p.us as f64 / 1000.0)?;
        (NAGLE_FLOOR_MS.contains(&pq) && p50 <= pq * FLOOR_BAND).then_some((q, pq))
    });
    let (floor, narrow, band) = match (from, quantile_ms(m, 0.1)) {
        (Some((q, pq)), _) => (
            pq,
            true,
            format!(
                "{} requests in ten took {pq:.1} ms or more and half took {p50:.1} ms or more",
                ["Nine", "Eight", "Seven", "Six"]
                    [((q * 10.0).round() as usize).saturating_sub(1).min(3)]
            ),
        ),
        (None, Some(p10)) => (p10, false, String::new()),
        // A summary written before the distribution has no p10: there the band is
        // p50 to p90, both at the timer's value, as this rule asked before.
        (None, None) => (
            p50,
            NAGLE_FLOOR_MS.contains(&p90),
            format!(
                "Half of the requests took {p50:.1} ms or more and nine in ten {p90:.1} ms or less"
            ),
        ),
    };
    if !(NAGLE_FLOOR_MS.contains(&floor) && narrow && fastest * FLOOR_OVER_FASTEST <= floor) {
        return None;
    }
    let cpu = case
        .server_cpu_percent
        .map(|c| {
            format!(
                " The server used {c:.0} % of its CPU meanwhile: the wait, not the work, \
                 set its pace."
            )
        })
        .unwrap_or_default();
    let under = match from {
        Some((q, _)) if q > 0.1 => "most requests",
        _ => "every request",
    };
    Some(Finding::new(
        Severity::Warning,
        case,
        format!("a {p50:.0} ms floor under {under}: Nagle's algorithm meets delayed ACK"),
        format!(
            "{band}, a band too narrow for a queue, though the server answered its fastest \
             request in {fastest:.2} ms.{cpu} That is the signature of two TCP \
             mechanisms waiting for each other: the server writes its response in two \
             pieces (headers, then body); Nagle's algorithm holds the second piece until \
             the first is acknowledged, and the client's kernel delays that \
             acknowledgement by up to 40 ms. The server is not slow, it is waiting. \
             Setting TCP_NODELAY on the server's sockets, or writing the response in \
             one piece, removes the delay; real clients that open a new connection per \
             request would not see it."
        ),
    ))
}

/// The latency (ms) at quantile `q` of the case's distribution; `None` where the
/// summary predates the distribution.
fn quantile_ms(m: &results::Measured, q: f64) -> Option<f64> {
    m.latency_distribution_us
        .iter()
        .find(|p| p.q >= q - 1e-9)
        .map(|p| p.us as f64 / 1000.0)
}

/// Above this share of failed or non-2xx answers a result is not a clean measurement.
const ERROR_SHARE: f64 = 0.001;

/// More than 0.1 % of requests failed or got a non-2xx answer.
pub fn errors(case: &Case) -> Option<Finding> {
    let m = case.measured.as_ref()?;
    let d = &m.digest;
    let failed = d.errors_total;
    let non_2xx = results::non_2xx(d);
    let attempts = d.requests + failed;
    if attempts == 0 || ((failed + non_2xx) as f64 / attempts as f64) <= ERROR_SHARE {
        return None;
    }
    let share = 100.0 * (failed + non_2xx) as f64 / attempts as f64;
    let mut parts = Vec::new();
    if failed > 0 {
        let kinds: Vec<String> = d.errors.iter().map(|(k, n)| format!("{n} {k}")).collect();
        parts.push(format!("{failed} got no answer ({})", kinds.join(", ")));
    }
    if non_2xx > 0 {
        let codes: Vec<String> = d
            .status
            .iter()
            .filter(|(c, _)| !c.starts_with('2'))
            .map(|(c, n)| format!("{n} \u{00d7} {c}"))
            .collect();
        parts.push(format!(
            "{non_2xx} got an error status ({})",
            codes.join(", ")
        ));
    }
    Some(Finding::new(
        if share >= 1.0 {
            Severity::Problem
        } else {
            Severity::Warning
        },
        case,
        format!("{share:.2} % of requests failed"),
        format!(
            "Of {attempts} requests, {}. A fast server that fails requests is not fast: \
             failed requests are often answered (or refused) quickly, which flatters \
             req/s and latency. Check its log below.",
            parts.join(" and ")
        ),
    ))
}

/// The server reset connections (RST): it dropped clients rather than answering.
pub fn resets(case: &Case) -> Option<Finding> {
    let m = case.measured.as_ref()?;
    let n = m.digest.errors.get("reset").copied().unwrap_or(0);
    if n == 0 {
        return None;
    }
    Some(Finding::new(
        Severity::Warning,
        case,
        format!(
            "the server reset {n} connection{}",
            if n == 1 { "" } else { "s" }
        ),
        "The server's kernel answered with a TCP reset: usually its listen backlog \
         overflowed or it closed sockets with unread data, which happens when it \
         accepts more connections than it can serve. Those users saw an error, not a \
         slow page."
            .into(),
    ))
}

/// Requests that got no answer before the run's timeout: the response timeout (30 s
/// unless the suite sets another) or the connect timeout (5 s by default).
///
/// Reported however few, like resets: a timed-out request has no latency, so the
/// percentiles leave it out, and a case can show a p99 of 18 ms while some users
/// waited 30 s for nothing. No share of the requests excuses that, on any machine.
pub fn timeouts(case: &Case) -> Option<Finding> {
    let m = case.measured.as_ref()?;
    let count = |kind: &str| m.digest.errors.get(kind).copied().unwrap_or(0);
    let (response, connect) = (count("response_timeout"), count("connect_timeout"));
    if response + connect == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if response > 0 {
        parts.push(format!(
            "{response} request{} waited the whole response timeout (30 s unless the \
             suite sets another) and got no answer",
            plural(response)
        ));
    }
    if connect > 0 {
        parts.push(format!(
            "{connect} connection{} could not be opened within the connect timeout",
            plural(connect)
        ));
    }
    let p99 = m.digest.latency_us.p99 as f64 / 1000.0;
    Some(Finding::new(
        Severity::Warning,
        case,
        format!(
            "{} request{} timed out",
            response + connect,
            plural(response + connect)
        ),
        format!(
            "{}. A request that times out has no latency, so the percentiles leave it \
             out: this case's p99 of {p99:.1} ms describes the answered requests only. \
             The server left some connections unserved while it answered others, which \
             is what a user of a busy site sees as a page that never loads. Its log may \
             say why.",
            upper_first(&parts.join(", and "))
        ),
    ))
}

/// At least this share of the requests was followed by a new connection that no error
/// explains: the server closed after (nearly) every answer. With keep-alive, as every
/// user here asks for, a connection lives as long as its user, so this count is about
/// zero whatever the machine; a server that closes answers one request per connection
/// and the count equals the requests.
const NEW_CONNECTION_SHARE: f64 = 0.5;

/// The server closed the connection after each answer, so the generator opened a new
/// one for every request though it asked for keep-alive (gunicorn's sync worker does
/// this by design): each request also paid a TCP handshake, and the case measured
/// something other than the keep-alive cases.
pub fn new_connection_per_request(case: &Case) -> Option<Finding> {
    let m = case.measured.as_ref()?;
    let d = &m.digest;
    // Errors that break a connection force a reconnect too; those are the errors
    // rules' business, not the server's way of closing.
    let broken: u64 = d
        .errors
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "connect_refused" | "connect_timeout" | "tls_certificate" | "tls_handshake"
            )
        })
        .map(|(_, n)| n)
        .sum();
    let closed = d.reconnects.saturating_sub(broken);
    if d.requests == 0 || (closed as f64) < NEW_CONNECTION_SHARE * d.requests as f64 {
        return None;
    }
    let per_connection = d.requests as f64 / d.connections_opened.max(1) as f64;
    Some(Finding::new(
        Severity::Warning,
        case,
        "a new connection for every request: the server closes after each answer".into(),
        format!(
            "The generator asked for keep-alive, yet it opened {} connections for {} \
             requests ({per_connection:.1} requests per connection): the server closed \
             the connection after its answers. Every request here also paid a TCP \
             connect, so its req/s and latency are not comparable with the cases that \
             keep connections open. That is how this server works, not a fault of the \
             run: servers that close this way are meant to sit behind a proxy that keeps \
             the clients' connections open.",
            d.connections_opened, d.requests
        ),
    ))
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// 100 % is one CPU; a little above it is sampling noise at interval edges.
const ONE_CPU_PERCENT: f64 = 110.0;

/// The server was pinned to one CPU but used more: the pinning did not hold (a
/// process or thread outside the pinned set), so the comparison is not one CPU each.
/// A `--workers N` run (the case records its workers) pins each server to N CPUs on
/// purpose, and a case that runs one process gets them too: the rule is for one CPU.
pub fn more_than_one_cpu(case: &Case) -> Option<Finding> {
    if case.workers.is_some() {
        return None;
    }
    let cpu = case.server_cpu_percent?;
    if cpu <= ONE_CPU_PERCENT {
        return None;
    }
    Some(Finding::new(
        Severity::Warning,
        case,
        format!(
            "the server used {:.1} CPUs though pinned to one",
            cpu / 100.0
        ),
        format!(
            "Every server gets one CPU so they compete on equal terms, but this one \
             averaged {cpu:.0} % of a CPU: some of its processes or threads ran outside \
             the pinned CPU. Its req/s is not comparable with single-CPU results."
        ),
    ))
}

/// Processes of the server's tree ended and new ones started while the load ran (the
/// leader stayed up, or the case would be "crashed"): a master restarted its worker,
/// so the run measured a cold worker and lost the requests the old one held.
pub fn restarted(case: &Case) -> Option<Finding> {
    let exited: u32 = case.server_samples.iter().map(|s| s.processes_exited).sum();
    let started: u32 = case
        .server_samples
        .iter()
        .map(|s| s.processes_started)
        .sum();
    if exited == 0 || started == 0 {
        return None;
    }
    Some(Finding::new(
        Severity::Warning,
        case,
        format!(
            "the server restarted a process during the run ({exited} ended, {started} started)"
        ),
        "While the load ran, processes of the server's tree ended and new ones took their \
         place, with the main process still up: its master restarted a worker (after a \
         timeout, a crash, or a request limit). Requests in flight on the old worker \
         were lost, and the new one started cold. Look at the end of its log."
            .to_string(),
    ))
}

/// A drop larger than this from the first third of the run to the last.
const THROUGHPUT_DROP: f64 = 0.2;
/// Intervals (after the first) needed before a trend means anything.
const MIN_TREND_POINTS: usize = 6;

/// Requests per second fell by more than 20 % between the first and the last third
/// of the intervals: the server slowed down as the run went on (a leak, a growing
/// queue, a garbage collector), so its average hides a decline.
pub fn throughput_falls(case: &Case) -> Option<Finding> {
    let m = case.measured.as_ref()?;
    // The first interval holds the ramp-up (connections opening, users arriving), so
    // it is left out; rps (not the request count) keeps a cut-short last interval
    // comparable. Intervals that end with no user and no connection had no demand
    // left (a fast server's users all finished once arrivals stopped): the load fell,
    // not the server. Fewer than six intervals say more about the ramp than a trend.
    let rps: Vec<f64> = m
        .intervals
        .iter()
        .skip(1)
        .filter(|i| i.digest.duration_s > 0.0)
        .filter(|i| i.users_active > 0 || i.connections_open > 0)
        .map(|i| i.digest.rps)
        .collect();
    if rps.len() < MIN_TREND_POINTS {
        return None;
    }
    let (first, _, last) = thirds(&rps)?;
    if first <= 0.0 || last >= first * (1.0 - THROUGHPUT_DROP) {
        return None;
    }
    Some(Finding::new(
        Severity::Warning,
        case,
        format!(
            "throughput fell by {:.0} % during the run",
            100.0 * (1.0 - last / first)
        ),
        format!(
            "The first third of the run averaged {first:.0} req/s and the last third \
             {last:.0} req/s. A server that slows down as it goes has something that \
             accumulates (memory, a queue, open connections); its mean req/s is \
             optimistic for a longer run. Look at its requests-per-interval chart."
        ),
    ))
}

/// Growth from the first third to the last that counts as "keeps growing": enough to
/// be more than allocator noise.
const RSS_GROWTH: f64 = 0.1;
const RSS_GROWTH_MIB: f64 = 2.0;

/// Resident memory rose through the whole run (each third above the one before, the
/// last at least 10 % and 2 MiB above the first): the shape of a leak rather than of
/// a warm-up that levels off.
pub fn memory_grows(case: &Case) -> Option<Finding> {
    let rss: Vec<f64> = case
        .server_samples
        .iter()
        .map(|s: &ServerSample| s.rss_mib)
        .collect();
    let (first, middle, last) = thirds(&rss)?;
    let grew = last - first;
    if !(first < middle && middle < last && grew > RSS_GROWTH * first && grew > RSS_GROWTH_MIB) {
        return None;
    }
    // Memory that grows with the open connections (users piling up on a slow server)
    // is the load growing, not a leak: say so, as a note.
    let open: Vec<f64> = case
        .measured
        .as_ref()
        .map(|m| {
            m.intervals
                .iter()
                .map(|i| i.connections_open as f64)
                .collect()
        })
        .unwrap_or_default();
    if let Some((c_first, _, c_last)) = thirds(&open) {
        if c_last > c_first * (1.0 + RSS_GROWTH) {
            return Some(Finding::new(
                Severity::Note,
                case,
                format!("memory grew with the open connections: {first:.0} \u{2192} {last:.0} MiB"),
                format!(
                    "The server's resident memory rose by {grew:.1} MiB while its open \
                     connections rose from about {c_first:.0} to {c_last:.0} (users kept \
                     arriving faster than they finished): memory per connection, not \
                     necessarily a leak."
                ),
            ));
        }
    }
    Some(Finding::new(
        Severity::Warning,
        case,
        format!("memory kept growing: {first:.0} \u{2192} {last:.0} MiB"),
        format!(
            "The server's resident memory rose in every third of the run, by {grew:.1} MiB \
             in all, instead of levelling off after a warm-up. Under a longer run this \
             looks like a leak; check with a longer run before trusting it in \
             production."
        ),
    ))
}

/// Means of the first, middle and last third; `None` for fewer than 3 values.
fn thirds(values: &[f64]) -> Option<(f64, f64, f64)> {
    let n = values.len();
    if n < 3 {
        return None;
    }
    let k = n / 3;
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    Some((
        mean(&values[..k]),
        mean(&values[k..n - k]),
        mean(&values[n - k..]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use results::{Interval, Measured};

    /// A healthy case: 10 intervals of 1000 req/s at 0.3 ms, one CPU, flat memory.
    fn case(name: &str) -> Case {
        let mut m = Measured {
            generator_cpu_percent: 40.0,
            generator_threads: 1,
            ..Measured::default()
        };
        m.digest.requests = 10_000;
        m.digest.rps = 1000.0;
        m.digest.duration_s = 10.0;
        m.digest.status.insert("200".into(), 10_000);
        m.digest.latency_us.p50 = 300;
        m.digest.latency_us.p90 = 400;
        m.intervals = (0..10)
            .map(|i| {
                let mut iv = Interval {
                    index: i,
                    t_s: f64::from(i + 1),
                    ..Interval::default()
                };
                iv.digest.duration_s = 1.0;
                iv.digest.rps = 1000.0;
                iv.digest.requests = 1000;
                iv.connections_open = 10;
                iv
            })
            .collect();
        let mut c = Case::new(name, CaseStatus::Ok);
        c.server_cpu_percent = Some(95.0);
        c.measured = Some(m);
        c.server_samples = (0..10)
            .map(|i| ServerSample {
                t_s: f64::from(i),
                cpu_percent: 95.0,
                rss_mib: 30.0,
                processes: 1,
                ..ServerSample::default()
            })
            .collect();
        c
    }

    fn m(c: &mut Case) -> &mut Measured {
        c.measured.as_mut().unwrap()
    }

    #[test]
    fn a_healthy_case_has_no_findings() {
        let c = case("bjoern");
        let run = Run {
            cases: vec![c],
            ..Run::default()
        };
        assert_eq!(diagnose(&run), []);
    }

    #[test]
    fn generator_bound_above_90_percent_of_its_cores() {
        let mut c = case("x");
        m(&mut c).generator_threads = 2;
        m(&mut c).generator_cpu_percent = 170.0;
        assert!(generator_bound(&c).is_none());
        m(&mut c).generator_cpu_percent = 186.0;
        let f = generator_bound(&c).unwrap();
        assert!(f.text.contains("real limit is higher"), "{}", f.text);
        assert!(f.text.contains("93 % of its 2 cores"), "{}", f.text);
    }

    #[test]
    fn one_finding_for_a_server_in_several_apps_names_them() {
        let bound = |app: Option<&str>, cpu: f64| {
            let mut c = case("x");
            c.app = app.map(str::to_string);
            m(&mut c).generator_threads = 1;
            m(&mut c).generator_cpu_percent = cpu;
            c
        };
        let run = Run {
            cases: vec![
                bound(None, 95.0),
                bound(Some("json"), 95.0),
                bound(Some("io"), 10.0),
                bound(Some("cpu"), 95.0),
            ],
            ..Run::default()
        };
        let f = diagnose(&run);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].case.as_deref(), Some("x (pong, json, cpu)"));
        assert_eq!(f[0].folder.as_deref(), Some("x"));
        assert!(
            f[0].text
                .ends_with("(The figures are the pong app's; the same holds for json, cpu.)"),
            "{}",
            f[0].text
        );
        // Alone, a pair is named with its app.
        let run = Run {
            cases: vec![bound(Some("json"), 95.0)],
            ..Run::default()
        };
        assert_eq!(diagnose(&run)[0].case.as_deref(), Some("x (json)"));
    }

    /// Sets a latency distribution with these (quantile, µs) points, and p50 from it.
    fn distribution(c: &mut Case, min: u64, points: &[(f64, u64)]) {
        let m = m(c);
        m.digest.latency_us.min = min;
        m.latency_distribution_us = std::iter::once((0.0, min))
            .chain(points.iter().copied())
            .map(|(q, us)| results::QuantilePoint { q, us, count: 0 })
            .collect();
        m.digest.latency_us.p50 = points.iter().find(|p| p.0 >= 0.5).unwrap().1;
    }

    #[test]
    fn nagle_floor_is_a_narrow_band_at_40ms_far_above_the_fastest_answer() {
        let mut gevent = case("gevent");
        distribution(
            &mut gevent,
            377,
            &[(0.1, 43_839), (0.5, 44_127), (0.9, 55_999), (1.0, 96_127)],
        );
        gevent.server_cpu_percent = Some(64.0);
        let f = nagle_floor(&gevent).unwrap();
        assert!(
            f.title.contains("44 ms") && f.title.contains("Nagle"),
            "{}",
            f.title
        );
        assert!(f.text.contains("delays"), "{}", f.text);
        assert!(
            f.text.contains("0.38 ms") && f.text.contains("64 %"),
            "{}",
            f.text
        );
        // A busy server waits too: the CPU does not decide.
        let mut busy = gevent.clone();
        busy.server_cpu_percent = Some(99.0);
        assert!(nagle_floor(&busy).is_some());
        // A queue: the same median, but spread from 11 ms (gunicorn-sync on an EPYC).
        let mut queue = gevent.clone();
        distribution(
            &mut queue,
            145,
            &[(0.1, 11_375), (0.5, 45_311), (1.0, 90_943)],
        );
        assert!(nagle_floor(&queue).is_none());
        // Never faster than the floor: 44 ms is the app's own work.
        let mut slow_app = gevent.clone();
        distribution(&mut slow_app, 43_000, &[(0.1, 43_839), (0.5, 44_127)]);
        assert!(nagle_floor(&slow_app).is_none());
        // A narrow band elsewhere is not the delayed-ACK timer.
        let mut fast = gevent.clone();
        distribution(&mut fast, 20, &[(0.1, 300), (0.5, 310)]);
        assert!(nagle_floor(&fast).is_none());
        // The first fifth escaped the timer (uWSGI's router on a 64 KiB answer): the
        // rest still sit on the floor.
        let mut most = gevent.clone();
        distribution(
            &mut most,
            325,
            &[
                (0.1, 1_232),
                (0.2, 2_431),
                (0.3, 42_783),
                (0.5, 43_967),
                (1.0, 49_663),
            ],
        );
        let f = nagle_floor(&most).unwrap();
        assert!(
            f.title.contains("44 ms floor under most requests"),
            "{}",
            f.title
        );
        assert!(
            f.text.starts_with("Seven requests in ten took 42.8 ms"),
            "{}",
            f.text
        );
        // Half the requests escaping is not a floor under most of them.
        let mut half = gevent.clone();
        distribution(
            &mut half,
            325,
            &[(0.1, 1_232), (0.4, 2_431), (0.5, 43_967), (1.0, 49_663)],
        );
        assert!(nagle_floor(&half).is_none());
        // A summary from before the distribution: p50 to p90 must both sit at the
        // timer's value.
        let mut old = gevent.clone();
        m(&mut old).latency_distribution_us.clear();
        m(&mut old).digest.latency_us.p90 = 48_255;
        assert!(nagle_floor(&old).is_some());
        m(&mut old).digest.latency_us.p90 = 70_207;
        assert!(nagle_floor(&old).is_none());
    }

    #[test]
    fn timeouts_are_reported_even_when_few() {
        let mut c = case("waitress");
        assert!(timeouts(&c).is_none());
        m(&mut c)
            .digest
            .errors
            .insert("response_timeout".into(), 208);
        m(&mut c).digest.errors_total = 208;
        let f = timeouts(&c).unwrap();
        assert_eq!(f.title, "208 requests timed out");
        assert!(f.text.starts_with("208 requests waited"), "{}", f.text);
        m(&mut c).digest.errors.insert("connect_timeout".into(), 1);
        let f = timeouts(&c).unwrap();
        assert!(f.text.contains("and 1 connection could not"), "{}", f.text);
    }

    #[test]
    fn a_new_connection_per_request_is_found_from_the_counts() {
        let mut c = case("gunicorn-sync");
        assert!(new_connection_per_request(&c).is_none());
        m(&mut c).digest.connections_opened = 10_010;
        m(&mut c).digest.reconnects = 10_000;
        let f = new_connection_per_request(&c).unwrap();
        assert!(
            f.text.contains("10010 connections for 10000 requests"),
            "{}",
            f.text
        );
        // Reconnects after errors are the errors' doing, not the server's way.
        let mut broken = case("waitress");
        m(&mut broken).digest.reconnects = 6_000;
        m(&mut broken)
            .digest
            .errors
            .insert("response_timeout".into(), 6_000);
        assert!(new_connection_per_request(&broken).is_none());
        // A server that closes now and then (after many answers) is not this.
        m(&mut c).digest.reconnects = 100;
        assert!(new_connection_per_request(&c).is_none());
    }

    #[test]
    fn errors_and_non_2xx_above_a_tenth_of_a_percent() {
        let mut c = case("x");
        m(&mut c).digest.status.insert("500".into(), 10);
        assert!(errors(&c).is_none(), "0.1 % exactly is tolerated");
        m(&mut c).digest.errors_total = 5;
        m(&mut c).digest.errors.insert("reset".into(), 5);
        let f = errors(&c).unwrap();
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.text.contains("5 got no answer (5 reset)"), "{}", f.text);
        assert!(
            f.text.contains("10 got an error status (10 \u{00d7} 500)"),
            "{}",
            f.text
        );
        m(&mut c).digest.errors_total = 500;
        assert_eq!(errors(&c).unwrap().severity, Severity::Problem);
    }

    #[test]
    fn resets_are_reported_even_when_few() {
        let mut c = case("x");
        assert!(resets(&c).is_none());
        m(&mut c).digest.errors.insert("reset".into(), 1);
        assert_eq!(resets(&c).unwrap().title, "the server reset 1 connection");
    }

    #[test]
    fn failed_cases_say_why() {
        let mut c = case("meinheld");
        c.status = CaseStatus::Crashed;
        c.detail = Some("Traceback...\nSegmentation fault\n".into());
        let f = case_failed(&c).unwrap();
        assert_eq!(f.severity, Severity::Problem);
        assert!(f.text.contains("Segmentation fault"));
        c.status = CaseStatus::NotInstalled;
        assert_eq!(case_failed(&c).unwrap().severity, Severity::Note);
        c.status = CaseStatus::Ok;
        assert!(case_failed(&c).is_none());
    }

    #[test]
    fn more_than_one_cpu_above_110_percent() {
        let mut c = case("uwsgi");
        c.server_cpu_percent = Some(108.0);
        assert!(more_than_one_cpu(&c).is_none());
        c.server_cpu_percent = Some(180.0);
        assert!(more_than_one_cpu(&c).unwrap().title.contains("1.8 CPUs"));
    }

    #[test]
    fn a_worker_restart_is_found() {
        let mut c = case("gunicorn-sync");
        assert!(restarted(&c).is_none());
        c.server_samples[3].processes_exited = 1;
        assert!(restarted(&c).is_none(), "an exit alone is not a restart");
        c.server_samples[4].processes_started = 1;
        assert!(restarted(&c).unwrap().title.contains("1 ended, 1 started"));
    }

    #[test]
    fn throughput_falling_by_more_than_a_fifth() {
        let mut c = case("x");
        let set = |c: &mut Case, last: f64| {
            for iv in &mut m(c).intervals[7..] {
                iv.digest.rps = last;
            }
        };
        set(&mut c, 850.0);
        assert!(throughput_falls(&c).is_none());
        set(&mut c, 600.0);
        let f = throughput_falls(&c).unwrap();
        assert!(f.title.contains("40 %"), "{}", f.title);
        // Zero-length intervals are ignored rather than read as 0 req/s.
        let mut c = case("y");
        for iv in &mut m(&mut c).intervals[7..] {
            iv.digest.rps = 0.0;
            iv.digest.duration_s = 0.0;
        }
        assert!(throughput_falls(&c).is_none());
        // Once every user has finished and left, the load fell, not the server.
        let mut c = case("w");
        for iv in &mut m(&mut c).intervals[7..] {
            iv.digest.rps = 100.0;
            iv.connections_open = 0;
        }
        assert!(throughput_falls(&c).is_none());
        // A quick run's four intervals are all ramp: no verdict.
        let mut c = case("z");
        m(&mut c).intervals.truncate(4);
        m(&mut c).intervals[3].digest.rps = 100.0;
        assert!(throughput_falls(&c).is_none());
    }

    #[test]
    fn memory_growing_with_the_connections_is_a_note() {
        let mut c = case("gevent");
        for (i, s) in c.server_samples.iter_mut().enumerate() {
            s.rss_mib = 30.0 + 2.0 * i as f64;
        }
        for (i, iv) in m(&mut c).intervals.iter_mut().enumerate() {
            iv.connections_open = 10 * (i as u64 + 1);
        }
        let f = memory_grows(&c).unwrap();
        assert_eq!(f.severity, Severity::Note);
        assert!(f.title.contains("open connections"), "{}", f.title);
    }

    #[test]
    fn memory_growing_in_every_third() {
        let mut c = case("x");
        for (i, s) in c.server_samples.iter_mut().enumerate() {
            s.rss_mib = 30.0 + 2.0 * i as f64;
        }
        let f = memory_grows(&c).unwrap();
        assert!(f.title.contains("32 \u{2192} 46 MiB"), "{}", f.title);
        // A warm-up that levels off is not a leak.
        for (i, s) in c.server_samples.iter_mut().enumerate() {
            s.rss_mib = if i < 3 { 30.0 + 5.0 * i as f64 } else { 50.0 };
        }
        assert!(memory_grows(&c).is_none());
    }

    #[test]
    fn findings_are_sorted_worst_first() {
        let mut a = case("a");
        a.server_cpu_percent = Some(200.0);
        let mut b = case("b");
        b.status = CaseStatus::Crashed;
        let run = Run {
            cases: vec![a, b],
            ..Run::default()
        };
        let f = diagnose(&run);
        assert_eq!(f[0].case.as_deref(), Some("b"));
        assert_eq!(f[0].severity, Severity::Problem);
        assert_eq!(f[1].severity, Severity::Warning);
    }
}
