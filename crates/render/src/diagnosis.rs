//! Says what the numbers mean: rules that turn a run's files into findings a newcomer
//! can act on ("the generator was the bottleneck", "this 44 ms is Nagle's algorithm,
//! not slowness").
//!
//! Each rule is a pure function over one loaded [`Case`] (and, where a comparison is
//! the point, the other cases), so it is tested on hand-made summaries. Thresholds are
//! constants next to their rule, with the reason they sit where they do.

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
    /// The case it is about; `None` for the run as a whole.
    pub case: Option<String>,
    /// A short headline.
    pub title: String,
    /// What happened, why, and what it means for the numbers.
    pub text: String,
}

impl Finding {
    fn new(severity: Severity, case: &Case, title: String, text: String) -> Finding {
        Finding {
            severity,
            case: Some(case.name.clone()),
            title,
            text,
        }
    }
}

/// Every rule over every case, worst first; cases keep the run's order within a
/// severity.
pub fn diagnose(run: &Run) -> Vec<Finding> {
    let mut out = Vec::new();
    for case in &run.cases {
        out.extend(case_failed(case));
        out.extend(generator_bound(case));
        out.extend(nagle_floor(case, &run.cases));
        out.extend(errors(case));
        out.extend(resets(case));
        out.extend(more_than_one_cpu(case));
        out.extend(restarted(case));
        out.extend(throughput_falls(case));
        out.extend(memory_grows(case));
    }
    out.sort_by_key(|f| f.severity);
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

/// The floor Nagle's algorithm plus delayed ACKs put under each request: Linux delays
/// an ACK by up to 40 ms, and observed floors sit between 40 and 48 ms.
const NAGLE_FLOOR_MS: std::ops::RangeInclusive<f64> = 35.0..=60.0;
/// A server this fast shows the machine itself adds no such delay.
const FAST_PEER_MS: f64 = 1.0;
/// Below this the server was mostly waiting, not working, for those 40 ms.
const IDLE_SERVER_CPU: f64 = 50.0;

/// Most requests take ~40 ms though the server is idle and others answer in under a
/// millisecond: the response goes out in two small writes, Nagle's algorithm holds the
/// second until the first is ACKed, and the client delays that ACK by up to 40 ms.
/// gevent's pywsgi with keep-alive on loopback measures ~44 ms per request this way.
pub fn nagle_floor(case: &Case, all: &[Case]) -> Option<Finding> {
    let m = case.measured.as_ref()?;
    if m.digest.requests == 0 {
        return None;
    }
    let l = &m.digest.latency_us;
    let (p50, p90) = (l.p50 as f64 / 1000.0, l.p90 as f64 / 1000.0);
    // A floor, not a tail: most requests wait about the same ~40 ms.
    if !(NAGLE_FLOOR_MS.contains(&p50) && NAGLE_FLOOR_MS.contains(&p90)) {
        return None;
    }
    if case
        .server_cpu_percent
        .is_some_and(|c| c >= IDLE_SERVER_CPU)
    {
        return None;
    }
    let fastest = all
        .iter()
        .filter(|c| c.name != case.name)
        .filter_map(|c| c.measured.as_ref())
        .filter(|m| m.digest.requests > 0)
        .map(|m| m.digest.latency_us.p50 as f64 / 1000.0)
        .filter(|p| *p < FAST_PEER_MS)
        .reduce(f64::min)?;
    Some(Finding::new(
        Severity::Warning,
        case,
        format!("a {p50:.0} ms floor under every request: Nagle's algorithm meets delayed ACK"),
        format!(
            "Half of the requests took {p50:.1} ms or more while the server was mostly idle \
             and another server answered in {fastest:.2} ms. That is the typical \
             signature of two TCP mechanisms waiting for each other: the server writes \
             its response in two pieces (headers, then body); Nagle's algorithm holds \
             the second piece until the first is acknowledged, and the client's kernel \
             delays that acknowledgement by up to 40 ms. The server is not slow, it is \
             waiting. Setting TCP_NODELAY on the server's sockets, or writing the \
             response in one piece, removes the delay; real clients that open a new \
             connection per request would not see it."
        ),
    ))
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

/// 100 % is one CPU; a little above it is sampling noise at interval edges.
const ONE_CPU_PERCENT: f64 = 110.0;

/// The server was pinned to one CPU but used more: the pinning did not hold (a
/// process or thread outside the pinned set), so the comparison is not one CPU each.
pub fn more_than_one_cpu(case: &Case) -> Option<Finding> {
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
    fn nagle_floor_needs_a_40ms_floor_an_idle_server_and_a_fast_peer() {
        let mut gevent = case("gevent");
        m(&mut gevent).digest.latency_us.p50 = 44_000;
        m(&mut gevent).digest.latency_us.p90 = 44_900;
        gevent.server_cpu_percent = Some(4.0);
        let fast = case("bjoern");
        let f = nagle_floor(&gevent, &[gevent.clone(), fast.clone()]).unwrap();
        assert!(
            f.title.contains("44 ms") && f.title.contains("Nagle"),
            "{}",
            f.title
        );
        assert!(f.text.contains("delayed") || f.text.contains("delays"));
        assert!(f.text.contains("0.30 ms"), "{}", f.text);
        // No fast peer: 44 ms may just be the app.
        assert!(nagle_floor(&gevent, &[gevent.clone()]).is_none());
        // A busy server at 44 ms is slow, not waiting.
        let mut busy = gevent.clone();
        busy.server_cpu_percent = Some(99.0);
        assert!(nagle_floor(&busy, &[busy.clone(), fast.clone()]).is_none());
        // A tail, not a floor.
        let mut tail = gevent.clone();
        m(&mut tail).digest.latency_us.p50 = 2_000;
        assert!(nagle_floor(&tail, &[tail.clone(), fast]).is_none());
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
