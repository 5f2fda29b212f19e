//! The wsgibench load engine: runs a [`scenario::Scenario`] against an HTTP/1.1 server
//! and reports what happened, interval by interval.
//!
//! Layout, in the order data flows:
//! - `request`: request bytes, built once per template.
//! - `response`: an incremental response parser that skips bodies in place.
//! - `inbox`: what a connection keeps of an answer between reads (its parser, rarely
//!   a tail); the bytes are read into a buffer the worker owns.
//! - `connection`: one keep-alive connection; opened address by address from the
//!   target's [`Targets`], through TLS for https.
//! - `tls`: the run's rustls configuration ([`Tls`]) from the scenario's trust, and the
//!   kinds a failed handshake counts as.
//! - `resources`: what the machine allows (open files, source ports), checked before the
//!   run, and the run's [`SourceAddrs`] plan.
//! - `pacing`: when the next request goes (closed budget, open schedule, session program).
//! - `timer`: a timerfd for open-model send instants, finer than tokio's 1 ms tick.
//! - `uring`: the io_uring I/O path: a worker's requests go in batches through one
//!   ring, answers come into buffers the worker provides.
//! - `worker`: a thread with its own current-thread tokio runtime and [`Recorder`].
//! - `collector`: merges the workers' interval [`Stats`] exactly and feeds the [`Sink`]s.
//!
//! ```no_run
//! use engine::{run, RunOptions};
//! use scenario::{Load, Request, Scenario, Target, Timeouts};
//! let scenario = Scenario {
//!     target: Target { host: "127.0.0.1".into(), port: 8000, tls: false },
//!     load: Load::Closed { connections: 10, requests: Some(1000), script: vec![Request::get("/")] },
//!     duration: None,
//!     timeouts: Timeouts::default(),
//!     trust: Default::default(),
//! };
//! let summary = run(&scenario, &RunOptions::default(), &mut []).unwrap();
//! assert_eq!(summary.digest.requests + summary.total.errors_total(), 1000);
//! ```
//!
//! Caveats:
//! - Load goes only to loopback addresses ([`scenario::Target::check_local`]).
//! - Requests still in flight when the deadline passes are neither answers nor errors:
//!   they are cut, as Tsung cuts them.
//! - Latencies above 60 s are recorded as 60 s.
//! - A run raises its soft open-files limit to the hard one, and refuses to start
//!   when its connections cannot fit under the hard limit ([`LimitError`]).

mod collector;
mod connection;
mod dynamic;
mod inbox;
mod pacing;
mod recorder;
mod request;
mod resources;
mod response;
mod sys;
#[doc(hidden)]
pub mod timer;
mod tls;
mod uring;
pub mod wire;
mod worker;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use hdrhistogram::Histogram;
use scenario::{Load, Scenario, ScenarioError};
use serde::{Deserialize, Serialize};

pub use collector::collect as merge;
pub use connection::{OpenError, Targets};
pub use inbox::{MAX_HEAD, READ_BUFFER};
pub use recorder::{ErrorKind, Recorder, Stats, LATENCY_MAX_US};
pub use resources::{fd_margin, raise_open_files, LimitError, OpenFiles, PortRange, SourceAddrs};
pub use wire::{StatsWire, WireError};
pub use worker::WorkerReport;
// The parser alone, for the property tests and the fuzz target (fuzz/).
pub use request::RequestBytes;
pub use response::{Complete, ResponseParser};
pub use sys::allowed_cpus;
pub use tls::{check_roots, Tls, TrustError};
pub use uring::IoPath;

use worker::{Arrivals, Mode, Share, Shared};

/// Set to `true` to end a run early (Ctrl-C); the run still reports what it measured.
pub type StopFlag = Arc<AtomicBool>;

/// How to run a scenario, as opposed to what to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Worker threads; each owns a share of the connections, rate and users.
    pub threads: usize,
    /// Length of a reporting interval.
    pub interval: Duration,
    /// Pin worker `i` to `cpus[i % len]`; `None` leaves placement to the OS.
    pub cpus: Option<Vec<usize>>,
    pub stop: StopFlag,
    /// Counters for a live progress display, refreshed every 100 ms.
    pub live: Option<Arc<Live>>,
    /// This process's part of a run spread over several machines: its `threads`
    /// workers are the slots `first..first + threads` of `total`. The plan is the one
    /// `total` workers on one machine would have, so the parts together are exactly
    /// that run: connections, rate, users, their arrival instants, `-n`. `None`: the
    /// whole run is here.
    pub segment: Option<Segment>,
    /// When the load starts (a common instant for every part of a spread run);
    /// `None`: now.
    pub start_at: Option<std::time::Instant>,
    /// Load a target outside loopback. Off unless the user said so (`--allow-remote`,
    /// on the command line or on an agent): the engine refuses such a target itself.
    pub allow_remote: bool,
    /// How the workers' connections send and receive.
    pub io: IoChoice,
}

/// The I/O path asked for (`--io`); the summary's `io` says which ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IoChoice {
    /// io_uring where it pays ([`URING_FROM_CONNECTIONS`]) and the machine allows it,
    /// else epoll.
    #[default]
    Auto,
    /// io_uring, or the run does not start.
    Uring,
    Epoll,
}

/// Whether this machine can run the io_uring path; the error says why not
/// (`kernel.io_uring_disabled`, a seccomp profile, a kernel before 5.19).
pub fn io_uring_available() -> Result<(), String> {
    uring::probe().map_err(|e| e.to_string())
}

/// Connections per worker from which `auto` takes io_uring. Below, a request is mostly
/// a wake-up of the worker, which io_uring makes dearer: users one at a time cost
/// about 10 % more CPU per request on io_uring, and the original protocol's full run
/// 8 % more; at 50 connections io_uring costs 4 % less (docs/benchmarks.md).
pub const URING_FROM_CONNECTIONS: u64 = 32;

/// The path a run takes: `auto` takes io_uring for closed and open runs with at least
/// [`URING_FROM_CONNECTIONS`] connections per worker, where the machine allows it.
fn choose_io(choice: IoChoice, load: &Load, slots: usize) -> Result<IoPath, EngineError> {
    match choice {
        IoChoice::Epoll => Ok(IoPath::Epoll),
        IoChoice::Uring => match uring::probe() {
            Ok(()) => Ok(IoPath::IoUring),
            Err(e) => Err(EngineError::IoUring(e.to_string())),
        },
        IoChoice::Auto => {
            let per_worker = match load {
                Load::Closed { connections, .. } | Load::Open { connections, .. } => {
                    u64::from(*connections) / slots.max(1) as u64
                }
                Load::Sessions { .. } => 0,
            };
            let pays = per_worker >= URING_FROM_CONNECTIONS;
            Ok(match pays && uring::probe().is_ok() {
                true => IoPath::IoUring,
                false => IoPath::Epoll,
            })
        }
    }
}

/// Slots `first..first + threads` of a run planned for `total` workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub first: usize,
    pub total: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: allowed_cpus().len().max(1),
            interval: Duration::from_secs(10),
            cpus: None,
            stop: Arc::new(AtomicBool::new(false)),
            live: None,
            segment: None,
            start_at: None,
            allow_remote: false,
            io: IoChoice::Auto,
        }
    }
}

/// Receives each interval as soon as it is whole, then the summary.
pub trait Sink {
    fn on_interval(&mut self, interval: &Interval, stats: &Stats);
    fn on_finish(&mut self, _summary: &Summary) {}
}

/// Numbers read off a [`Stats`]: what summaries, JSON and tables show. Read back too
/// (by the results folder), so every field defaults: a file from an older wsgibench
/// that lacked one still reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Digest {
    /// Answers received (any status).
    pub requests: u64,
    pub duration_s: f64,
    pub rps: f64,
    pub latency_us: LatencyDigest,
    pub status: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub errors_total: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub connections_opened: u64,
    pub reconnects: u64,
    pub users_started: u64,
    pub users_finished: u64,
}

/// Latency in microseconds. The mean and stdev are exact; quantiles come from the
/// HdrHistogram (3 significant digits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LatencyDigest {
    pub mean: f64,
    pub stdev: f64,
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Digest {
    pub fn of(stats: &Stats, duration: Duration) -> Digest {
        let h = &stats.latency;
        let q = |q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        let secs = duration.as_secs_f64();
        let requests = stats.requests();
        Digest {
            requests,
            duration_s: secs,
            rps: if secs > 0.0 {
                requests as f64 / secs
            } else {
                0.0
            },
            latency_us: LatencyDigest {
                mean: stats.latency_mean_us(),
                stdev: stats.latency_stddev_us(),
                min: if h.is_empty() { 0 } else { h.min() },
                p50: q(0.5),
                p90: q(0.9),
                p99: q(0.99),
                p999: q(0.999),
                max: if h.is_empty() { 0 } else { h.max() },
            },
            status: stats.statuses().map(|(c, n)| (c.to_string(), n)).collect(),
            errors: stats
                .errors()
                .map(|(k, n)| (k.name().to_string(), n))
                .collect(),
            errors_total: stats.errors_total(),
            bytes_sent: stats.bytes_sent,
            bytes_received: stats.bytes_received,
            connections_opened: stats.connections_opened,
            reconnects: stats.reconnects,
            users_started: stats.users_started,
            users_finished: stats.users_finished,
        }
    }
}

/// One reporting interval, merged over all workers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Interval {
    pub index: u32,
    /// End of the interval, in seconds from the run's start.
    pub t_s: f64,
    pub start_s: f64,
    #[serde(flatten)]
    pub digest: Digest,
    /// Users in a session at the interval's end (session runs).
    pub users_active: u64,
    pub connections_open: u64,
    /// CPU used by the generator's workers, in percent of one core (200 = two cores).
    pub generator_cpu_percent: f64,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub digest: Digest,
    pub generator_cpu_percent: f64,
    pub generator_threads: usize,
    /// The run was ended early (Ctrl-C); what it measured until then is all here.
    pub interrupted: bool,
    pub intervals: Vec<Interval>,
    /// The whole run's latency distribution, for an HDR percentile plot.
    pub latency_distribution_us: Vec<QuantilePoint>,
    /// The words of the run's first failed TLS handshake, e.g. "invalid peer
    /// certificate: UnknownIssuer"; the errors count them as `tls_certificate` or
    /// `tls_handshake`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_failure: Option<String>,
    /// How the workers sent and received: `io_uring` or `epoll`.
    pub io: IoPath,
    #[serde(skip)]
    pub total: Stats,
}

/// One step of a latency distribution: `q` of the answers, `count` of them, took
/// `us` microseconds or less.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct QuantilePoint {
    pub q: f64,
    pub us: u64,
    /// Absent from files written before it was (read as 0).
    #[serde(default)]
    pub count: u64,
}

/// Steps per halving of the remaining share, as HdrHistogram's own percentile
/// output: 0.5, 0.75, 0.875, ... get this many points each, so the tail is as
/// detailed as the body, and a million answers make about a hundred points.
const DISTRIBUTION_STEPS_PER_HALF: u32 = 5;

/// The distribution of `latency`, from its smallest value to its largest (`q` = 1).
pub fn latency_distribution(latency: &Histogram<u64>) -> Vec<QuantilePoint> {
    if latency.is_empty() {
        return Vec::new();
    }
    let mut count = 0;
    let mut points: Vec<QuantilePoint> = latency
        .iter_quantiles(DISTRIBUTION_STEPS_PER_HALF)
        .map(|v| {
            count += v.count_since_last_iteration();
            QuantilePoint {
                q: v.quantile_iterated_to(),
                us: latency.highest_equivalent(v.value_iterated_to()),
                count,
            }
        })
        .collect();
    // The iterator may repeat a value at finer quantiles; one point per step is enough.
    points.dedup_by(|later, earlier| later.us == earlier.us && later.q == earlier.q);
    points
}

impl Summary {
    /// Whether the generator, not the server, may have been the limit: its workers used
    /// more than 90 % of the cores they had.
    pub fn generator_bound(&self) -> bool {
        self.generator_cpu_percent > 90.0 * self.generator_threads as f64
    }
}

/// Live counters for a progress display: one cache line per worker, written by its
/// owner every 100 ms and read by anyone, so the hot path never touches them.
#[derive(Debug)]
pub struct Live {
    slots: Box<[LiveSlot]>,
}

#[repr(align(128))]
#[derive(Debug, Default)]
struct LiveSlot {
    completed: AtomicU64,
    errors: AtomicU64,
    finished: AtomicBool,
}

impl Live {
    pub fn new(workers: usize) -> Live {
        Live {
            slots: (0..workers).map(|_| LiveSlot::default()).collect(),
        }
    }

    /// Worker (or agent) `worker`'s counters so far; `finished` once it is done.
    pub fn publish(&self, worker: usize, completed: u64, errors: u64, finished: bool) {
        let slot = &self.slots[worker];
        if finished {
            slot.finished.store(true, Ordering::Relaxed);
        } else {
            slot.completed.store(completed, Ordering::Relaxed);
            slot.errors.store(errors, Ordering::Relaxed);
        }
    }

    /// Answers and errors so far, over all workers.
    pub fn totals(&self) -> (u64, u64) {
        self.slots.iter().fold((0, 0), |(c, e), s| {
            (
                c + s.completed.load(Ordering::Relaxed),
                e + s.errors.load(Ordering::Relaxed),
            )
        })
    }
}

/// Why a run could not start. Once started, a run always ends with a [`Summary`].
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("threads must be from 1 to {max}, got {0}", max = scenario::limits::MAX_THREADS)]
    Threads(usize),
    /// `cpus` names a CPU this process may not run on (see `taskset -p $$`).
    #[error("CPU {cpu} is not one this process may run on (allowed: {allowed})")]
    CpuNotAllowed { cpu: usize, allowed: String },
    #[error("could not start worker thread: {0}")]
    Spawn(std::io::Error),
    #[error("the reporting interval must be above zero and at most 30 days, got {0:?}")]
    Interval(Duration),
    /// A part of a spread run that does not fit in it.
    #[error("slots {first}..{} are not within the run's {total}", first + threads)]
    Segment {
        first: usize,
        threads: usize,
        total: usize,
    },
    #[error(transparent)]
    Limits(#[from] LimitError),
    /// The https target's TLS settings cannot be built (an extra root that is not a
    /// certificate, a host no certificate can name).
    #[error("TLS: {0}")]
    Trust(#[from] TrustError),
    /// `--io uring` on a machine where a ring cannot be made.
    #[error("io_uring is not available here ({0}); use --io auto or --io epoll")]
    IoUring(String),
}

/// What a run needs from the machine, settled before its first connect.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// The target's addresses, in the order to try.
    pub addrs: Vec<SocketAddr>,
    /// Where each connection binds its source address.
    pub sources: SourceAddrs,
    /// The open-file limits after raising the soft one; `None` if they are unknown.
    pub open_files: Option<OpenFiles>,
}

/// Resolves the target, raises the soft open-files limit to the hard one, and plans
/// the source addresses; refuses a closed or open run whose connections cannot fit
/// (too many open files, or too many ports for a target that cannot spread). [`run`]
/// calls it; a front end may call it first to refuse a run before printing anything.
/// Session runs are planned for their most users at once and never refused: how many
/// are there at once depends on how long sessions last.
pub fn preflight(
    scenario: &Scenario,
    threads: usize,
    allow_remote: bool,
) -> Result<Preflight, EngineError> {
    preflight_part(scenario, threads, None, allow_remote)
}

/// [`preflight`] for one segment of a spread run: the open files this process needs
/// are its own connections', while the source addresses are planned for the whole
/// run, whose connection numbers the segment's workers carry.
fn preflight_part(
    scenario: &Scenario,
    threads: usize,
    segment: Option<Segment>,
    allow_remote: bool,
) -> Result<Preflight, EngineError> {
    let addrs = match allow_remote {
        true => scenario.target.resolve()?,
        false => scenario.target.check_local()?,
    };
    let open_files = raise_open_files().ok();
    let range = PortRange::read();
    let sources = match &scenario.load {
        Load::Closed { connections, .. } | Load::Open { connections, .. } => {
            let all = u64::from(*connections);
            let here = match segment {
                None => all,
                Some(s) => (s.first..s.first + threads)
                    .map(|i| all / s.total as u64 + u64::from((i as u64) < all % s.total as u64))
                    .sum(),
            };
            let threads = threads.clamp(1, here.max(1) as usize);
            if let Some(limits) = &open_files {
                limits.check(here, threads)?;
            }
            SourceAddrs::plan(&addrs, all, range)?
        }
        Load::Sessions {
            phases, max_users, ..
        } => {
            let planned: u64 = phases
                .iter()
                .map(|p| p.planned_users())
                .fold(0, u64::saturating_add);
            let at_once = max_users.map_or(planned, |m| m.min(planned));
            SourceAddrs::plan(&addrs, at_once, range).unwrap_or_default()
        }
    };
    Ok(Preflight {
        addrs,
        sources,
        open_files,
    })
}

/// Runs `scenario` to its end (deadline, request count, or last user), feeding each
/// interval to `sinks` as it completes, and returns the summary.
pub fn run(
    scenario: &Scenario,
    options: &RunOptions,
    sinks: &mut [&mut dyn Sink],
) -> Result<Summary, EngineError> {
    scenario.validate()?;
    if options.threads == 0 || options.threads as u64 > scenario::limits::MAX_THREADS {
        return Err(EngineError::Threads(options.threads));
    }
    // Checked here, not only by the flags: an agent takes its interval from the wire.
    if options.interval.is_zero() || options.interval.as_secs_f64() > scenario::limits::MAX_SECONDS
    {
        return Err(EngineError::Interval(options.interval));
    }
    if let Some(cpus) = &options.cpus {
        let allowed = allowed_cpus();
        if let Some(&cpu) = cpus.iter().find(|c| !allowed.contains(c)) {
            return Err(EngineError::CpuNotAllowed {
                cpu,
                allowed: cpu_list(&allowed),
            });
        }
    }
    let preflight = preflight_part(
        scenario,
        options.threads,
        options.segment,
        options.allow_remote,
    )?;
    // Built once: reading the system's roots and parsing the extra ones is not per
    // connection work.
    let tls = Tls::for_target(&scenario.target, &scenario.trust)?;
    // A session run may spread its users over several servers (Tsung's <servers>);
    // the first is the target, checked above.
    let servers: Vec<(scenario::Target, f64)> = scenario
        .servers()
        .into_iter()
        .map(|s| (s.target, s.weight))
        .collect();
    let mut targets = vec![Targets::new(preflight.addrs).with_tls(tls)];
    for (server, _) in &servers[1..] {
        let addrs = match options.allow_remote {
            true => server.resolve()?,
            false => server.check_local()?,
        };
        let tls = Tls::for_target(server, &scenario.trust)?;
        targets.push(Targets::new(addrs).with_tls(tls));
    }
    let server_targets: Vec<scenario::Target> = servers.iter().map(|(t, _)| t.clone()).collect();
    let mut templates = Vec::new();
    let (mode, threads) = match &scenario.load {
        Load::Closed {
            connections,
            script,
            ..
        }
        | Load::Open {
            connections,
            script,
            ..
        } => {
            templates.extend(script.iter().cloned());
            let mode = match &scenario.load {
                Load::Open { arrival, .. } => Mode::Open {
                    poisson: *arrival == scenario::Arrival::Poisson,
                },
                _ => Mode::Closed,
            };
            // A worker without a connection would only idle.
            (mode, options.threads.min(*connections as usize))
        }
        Load::Sessions { sessions, .. } => {
            let programs = sessions
                .iter()
                .map(|s| {
                    let program =
                        pacing::Program::compile(&s.steps, &mut templates, &server_targets);
                    (program, s.weight)
                })
                .collect();
            let server_weights = servers.iter().map(|(_, w)| *w).collect();
            (
                Mode::Sessions {
                    programs,
                    server_weights,
                },
                options.threads,
            )
        }
    };
    let segment = options.segment.unwrap_or(Segment {
        first: 0,
        total: threads,
    });
    if segment.first + threads > segment.total {
        return Err(EngineError::Segment {
            first: segment.first,
            threads,
            total: segment.total,
        });
    }
    let shares: Vec<Share> = plan_shares(scenario, segment.total)
        .into_iter()
        .skip(segment.first)
        .take(threads)
        .enumerate()
        .map(|(local, mut share)| {
            share.index = local;
            share.cpu = options
                .cpus
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| c[local % c.len()]);
            share
        })
        .collect();
    if let Some(at) = options.start_at {
        std::thread::sleep(at.saturating_duration_since(std::time::Instant::now()));
    }
    let io = choose_io(options.io, &scenario.load, segment.total)?;
    let start = tokio::time::Instant::now();
    let shared = Arc::new(Shared {
        targets,
        sources: preflight.sources,
        templates: server_targets
            .iter()
            .map(|target| {
                templates
                    .iter()
                    .map(|r| request::RequestBytes::build(r, target))
                    .collect()
            })
            .collect(),
        connect_timeout: scenario.timeouts.connect,
        response_timeout: scenario.timeouts.response,
        interval: options.interval,
        start,
        deadline: scenario.duration.map(|d| start + d),
        live: options.live.clone(),
        stop: options.stop.clone(),
        mode,
        slots: segment.total,
        run_tag: dynamic::run_tag(),
        io,
    });
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::with_capacity(threads);
    for share in shares {
        let (shared, tx) = (shared.clone(), tx.clone());
        let handle = std::thread::Builder::new()
            .name(format!("wsgibench-worker-{}", share.index))
            .spawn(move || worker::run(share, shared, tx))
            .map_err(EngineError::Spawn)?;
        handles.push(handle);
    }
    drop(tx);
    let mut summary = collector::collect(rx, threads, sinks);
    for h in handles {
        let _ = h.join();
    }
    summary.interrupted = options.stop.load(Ordering::Relaxed);
    summary.io = io;
    for sink in sinks.iter_mut() {
        sink.on_finish(&summary);
    }
    Ok(summary)
}

/// `0,1,2,5` as `0-2,5`, the way taskset prints a CPU list.
pub fn cpu_list(cpus: &[usize]) -> String {
    let mut ranges: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        ranges.push(if i == j {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    ranges.join(",")
}

/// Splits connections, request budget, rate and arrivals over `threads` workers so
/// that together they make exactly the scenario's load.
/// The shares of `threads` workers; worker `i` is slot `i` (its index until a segment
/// renumbers the ones this process runs).
fn plan_shares(scenario: &Scenario, threads: usize) -> Vec<Share> {
    let split = |total: u64, i: usize| {
        total / threads as u64 + u64::from((i as u64) < total % threads as u64)
    };
    (0..threads)
        .map(|i| {
            let mut share = Share {
                index: i,
                slot: i,
                cpu: None,
                connections: 0,
                first_connection: 0,
                budget: None,
                rate: 0.0,
                offset: Duration::ZERO,
                arrivals: Vec::new(),
                max_users_at_once: None,
            };
            match &scenario.load {
                Load::Closed {
                    connections,
                    requests,
                    ..
                } => {
                    share.connections = split(u64::from(*connections), i) as u32;
                    share.first_connection =
                        (0..i).map(|w| split(u64::from(*connections), w)).sum();
                    share.budget = requests.map(|n| split(n, i));
                }
                Load::Open {
                    connections, rate, ..
                } => {
                    share.connections = split(u64::from(*connections), i) as u32;
                    share.first_connection =
                        (0..i).map(|w| split(u64::from(*connections), w)).sum();
                    share.rate = rate / threads as f64;
                    // Worker i takes every threads-th planned instant, starting at its i-th.
                    share.offset = Duration::from_secs_f64(i as f64 / rate);
                }
                Load::Sessions {
                    phases,
                    max_users,
                    arrival,
                    ..
                } => {
                    let mut begin = Duration::ZERO;
                    share.max_users_at_once = max_users.map(|m| split(m, i));
                    for phase in phases {
                        let gap = Duration::from_secs_f64(threads as f64 / phase.users_per_second);
                        let cap = phase.planned_users();
                        // User k of the phase goes to worker k % threads.
                        let mine =
                            cap / threads as u64 + u64::from((i as u64) < cap % threads as u64);
                        share.arrivals.push(Arrivals {
                            first: begin
                                + Duration::from_secs_f64(i as f64 / phase.users_per_second),
                            gap,
                            end: begin + phase.duration,
                            max: Some(mine),
                            poisson: *arrival == scenario::Arrival::Poisson,
                            session_weights: phase.session_weights.clone(),
                        });
                        begin += phase.duration;
                    }
                }
            }
            share
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_distribution_climbs_from_the_body_to_the_slowest_answer() {
        let mut h = Stats::default().latency;
        assert!(latency_distribution(&h).is_empty());
        for us in 1..=10_000 {
            h.record(us).unwrap();
        }
        let d = latency_distribution(&h);
        assert!(d.windows(2).all(|w| w[0].q < w[1].q && w[0].us <= w[1].us));
        let last = d.last().unwrap();
        assert_eq!((last.q, last.us), (1.0, h.highest_equivalent(10_000)));
        assert_eq!(last.count, 10_000);
        assert!(d.windows(2).all(|w| w[0].count <= w[1].count));
        // At least the share q of the answers is at or below each step's value.
        assert!(
            d.iter().all(|p| p.count as f64 >= p.q * 10_000.0 - 0.5),
            "{d:?}"
        );
        // Uniform 1..=10 000 µs: q of the answers took 10 000·q µs or less, within
        // the histogram's 3 significant digits.
        for p in &d {
            assert!((p.us as f64 - 10_000.0 * p.q).abs() <= 12.0, "{p:?}");
        }
        assert!(d.iter().any(|p| p.q == 0.5));
        // Five steps per halving: the tail past p99 is drawn with points of its own.
        assert!(d.iter().filter(|p| p.q > 0.99 && p.q < 1.0).count() >= 10);
    }
}
