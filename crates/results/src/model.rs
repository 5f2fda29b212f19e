//! The types of a run's results, the same in memory and on disk: what was run
//! ([`RunMeta`], `run.json`), and for each case what happened and what was measured
//! ([`Case`], `<case>/summary.json`).
//!
//! The measured numbers are the engine's own types ([`Digest`], [`Interval`],
//! [`QuantilePoint`]), read back as they were written: one definition, no mirror.
//! Every field defaults when absent, so a folder written by an older wsgibench (which
//! lacked a field) still reads; [`crate::folder`] tests that on committed fixtures.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use engine::{Digest, Interval, LatencyDigest as Latency, QuantilePoint};

use crate::status::CaseStatus;

/// `run.json`: what was run, where and when. Written when the run starts and again
/// when it ends (with `finished_utc` and `interrupted`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunMeta {
    pub wsgibench_version: Option<String>,
    pub started_utc: Option<String>,
    /// Absent while the run goes on, and in a run that was killed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_utc: Option<String>,
    pub command: Option<String>,
    /// The protocol in one sentence (the suite file's description).
    pub protocol: Option<String>,
    pub suite_file: Option<String>,
    pub interval_s: Option<f64>,
    /// Which CPUs the server and the generator had, as a sentence.
    pub placement: Option<String>,
    pub server_cpu: Option<usize>,
    pub generator_cpus: Vec<usize>,
    /// Every CPU the server was pinned to: N with `--workers N`. Empty in runs made
    /// before it was recorded (they had [`RunMeta::server_cpu`] alone).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub server_cpus: Vec<usize>,
    /// `wsgibench run --workers N`; `None` without the flag (one worker process each,
    /// as the original benchmark ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<u32>,
    /// The server and the generator had to share CPUs (N workers took every CPU, or
    /// the machine has one): the numbers understate both, and are not like for like
    /// with a run where each had its own.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shared_cpus: bool,
    pub machine: Machine,
    /// The cases in the order they were meant to run.
    pub cases: Vec<String>,
    /// In the environment of every process the run starts, to find any left behind.
    pub run_tag: Option<String>,
    /// `None` while the run is still going or was killed before it could say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<bool>,
}

/// The machine a run measured on, for the report's header and the history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Machine {
    pub cpu_model: Option<String>,
    pub cores: Option<u32>,
    pub kernel: Option<String>,
}

/// What the engine measured for one case: present when the load ran, even if the
/// server crashed part way. The engine's summary, as summary.json holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Measured {
    #[serde(flatten)]
    pub digest: Digest,
    /// Percent of one core (200 = two cores busy).
    pub generator_cpu_percent: f64,
    pub generator_threads: usize,
    /// The generator, not the server, may have been the limit (see
    /// [`engine::Summary::generator_bound`]).
    pub generator_bound: bool,
    /// The load was ended early (Ctrl-C); what it measured until then is all here.
    pub interrupted: bool,
    pub intervals: Vec<Interval>,
    /// Empty in summaries written before the engine wrote it.
    pub latency_distribution_us: Vec<QuantilePoint>,
    /// How the generator's connections sent and received. Written only when not
    /// epoll: absent means epoll, in older summaries (the only path then) as in new
    /// ones, so an older folder written again keeps its keys.
    #[serde(skip_serializing_if = "engine::IoPath::is_epoll")]
    pub io: engine::IoPath,
}

impl From<&engine::Summary> for Measured {
    fn from(s: &engine::Summary) -> Measured {
        Measured {
            digest: s.digest.clone(),
            generator_cpu_percent: s.generator_cpu_percent,
            generator_threads: s.generator_threads,
            generator_bound: s.generator_bound(),
            interrupted: s.interrupted,
            intervals: s.intervals.clone(),
            latency_distribution_us: s.latency_distribution_us.clone(),
            io: s.io,
        }
    }
}

/// Answers whose status is not 2xx (a 3xx counts: the benchmark's apps never
/// redirect, so one means something is off).
pub fn non_2xx(digest: &Digest) -> u64 {
    digest
        .status
        .iter()
        .filter(|(code, _)| !code.starts_with('2'))
        .map(|(_, n)| n)
        .sum()
}

/// One sample of the server's process tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSample {
    /// Seconds since the sampler started.
    pub t_s: f64,
    /// CPU time used by the tree over the last interval, in percent of one CPU.
    pub cpu_percent: f64,
    /// Resident memory of the tree, MiB (shared pages counted once per process, as
    /// `ps` does).
    pub rss_mib: f64,
    pub processes: u32,
    /// Processes of the tree that appeared and that ended since the previous sample:
    /// both at once, with the leader alive, is a worker restarted by its master.
    pub processes_started: u32,
    pub processes_exited: u32,
}

/// One repetition of a case under `wsgibench run --repeat N`, as summary.json's
/// `repeats` holds it. Latency in microseconds, like the rest of summary.json.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Repeat {
    pub rps: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub mean_us: f64,
    pub errors: u64,
    /// Absent from summaries written before it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CaseStatus>,
}

impl Repeat {
    /// The numbers of one repetition, or `None` when it measured nothing.
    pub fn of(case: &Case) -> Option<Repeat> {
        let d = &case.measured.as_ref()?.digest;
        Some(Repeat {
            rps: d.rps,
            mean_us: d.latency_us.mean,
            p50_us: d.latency_us.p50,
            p90_us: d.latency_us.p90,
            p99_us: d.latency_us.p99,
            errors: d.errors_total,
            status: Some(case.status),
        })
    }
}

/// How one load agent fared, when the load came from several machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentShare {
    /// `host:port` as the controller reached it.
    pub address: String,
    pub status: AgentStatus,
    pub requests: u64,
    pub errors: u64,
    pub generator_cpu_percent: f64,
    /// The agent's clock minus the controller's, measured over the connection.
    pub clock_offset_us: i64,
    /// Its workers' I/O path, as its last message said (absent: epoll).
    #[serde(default, skip_serializing_if = "engine::IoPath::is_epoll")]
    pub io: engine::IoPath,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Ok,
    /// Stopped reporting during the run; its finished intervals are kept.
    Lost,
    /// Would not run the share it was sent (a bad token, a refused target).
    Refused,
}

/// One case: what `<case>/summary.json` holds, plus the tail of `<case>/server.log`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    /// The test case the server ran; `None` is the original one-line "Pong!" app.
    pub app: Option<String>,
    pub status: CaseStatus,
    /// Why the case is not ok, in the suite's words (often the server's own output);
    /// or a remark on an ok case (a port that still answered after the stop).
    pub detail: Option<String>,
    pub server_version: Option<String>,
    /// Mean over the samples, percent of one CPU.
    pub server_cpu_percent: Option<f64>,
    /// Largest resident memory seen.
    pub server_rss_mib: Option<f64>,
    pub server_samples: Vec<ServerSample>,
    pub measured: Option<Measured>,
    /// Every repetition's numbers with `wsgibench run --repeat N`; empty otherwise.
    pub repeats: Vec<Repeat>,
    /// The load agents and their shares; `None` when one machine made the load.
    pub agents: Option<Vec<AgentShare>>,
    /// The worker processes the server ran with `--workers N`: N, or 1 for a case
    /// that runs one process whatever N (its detail says so). `None` without the flag.
    pub workers: Option<u32>,
    /// The last lines of `server.log`, oldest first; empty when there is no log.
    /// Read with the folder, never written into summary.json.
    pub log_tail: Vec<String>,
}

impl Case {
    /// Its folder in the run, and its entry in run.json: `bjoern`, `bjoern@json`.
    pub fn folder_name(&self) -> String {
        crate::folder::case_folder_name(&self.name, self.app.as_deref())
    }

    /// `bjoern` or `bjoern (json)`, for messages and tables that list pairs.
    pub fn label(&self) -> String {
        match &self.app {
            Some(app) => format!("{} ({app})", self.name),
            None => self.name.clone(),
        }
    }

    /// A case with nothing measured yet.
    pub fn new(name: impl Into<String>, status: CaseStatus) -> Case {
        Case {
            name: name.into(),
            app: None,
            status,
            detail: None,
            server_version: None,
            server_cpu_percent: None,
            server_rss_mib: None,
            server_samples: Vec::new(),
            measured: None,
            repeats: Vec::new(),
            agents: None,
            workers: None,
            log_tail: Vec::new(),
        }
    }

    /// Ran to the end with numbers: the cases that rank.
    pub fn is_ok(&self) -> bool {
        self.status.is_ok() && self.measured.is_some()
    }

    /// The whole case's totals: `None` when nothing was measured, or when the run was
    /// killed during the case (then only its finished intervals exist).
    pub fn totals(&self) -> Option<&Measured> {
        self.measured
            .as_ref()
            .filter(|_| self.status != CaseStatus::Killed)
    }

    /// Keeps the server's samples and the two figures the table shows from them: the
    /// mean CPU and the largest memory.
    pub fn set_server_samples(&mut self, samples: Vec<ServerSample>) {
        if !samples.is_empty() {
            self.server_cpu_percent =
                Some(samples.iter().map(|s| s.cpu_percent).sum::<f64>() / samples.len() as f64);
            self.server_rss_mib = Some(samples.iter().map(|s| s.rss_mib).fold(0.0, f64::max));
        }
        self.server_samples = samples;
    }
}

/// A whole results folder.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub dir: PathBuf,
    pub meta: RunMeta,
    /// In `run.json`'s order, then any case folder it does not list.
    pub cases: Vec<Case>,
}

/// Index of the repetition with the median req/s (the lower median for an even
/// count); repetitions without numbers rank lowest. `None` for no repetitions.
pub fn median_by_rps(reps: &[Case]) -> Option<usize> {
    let rps = |c: &Case| {
        c.measured
            .as_ref()
            .map_or(f64::NEG_INFINITY, |m| m.digest.rps)
    };
    let mut order: Vec<usize> = (0..reps.len()).collect();
    order.sort_by(|x, y| rps(&reps[*x]).total_cmp(&rps(&reps[*y])));
    order.get(order.len().checked_sub(1)? / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rps(rps: Option<f64>) -> Case {
        let mut c = Case::new("c", CaseStatus::Ok);
        c.measured = rps.map(|rps| Measured {
            digest: Digest {
                rps,
                ..Digest::default()
            },
            ..Measured::default()
        });
        c
    }

    #[test]
    fn the_median_repetition_is_the_lower_middle_by_rps() {
        let reps: Vec<Case> = [Some(30.0), Some(10.0), None, Some(20.0)]
            .into_iter()
            .map(with_rps)
            .collect();
        // Ordered: None, 10, 20, 30; the lower median of four is the second.
        assert_eq!(median_by_rps(&reps), Some(1));
        assert_eq!(median_by_rps(&reps[..3]), Some(1));
        assert_eq!(median_by_rps(&[]), None);
    }

    #[test]
    fn server_samples_give_mean_cpu_and_peak_memory() {
        let mut c = Case::new("c", CaseStatus::Ok);
        let sample = |cpu, rss| ServerSample {
            cpu_percent: cpu,
            rss_mib: rss,
            ..ServerSample::default()
        };
        c.set_server_samples(vec![
            sample(50.0, 10.0),
            sample(100.0, 30.0),
            sample(0.0, 20.0),
        ]);
        assert_eq!(c.server_cpu_percent, Some(50.0));
        assert_eq!(c.server_rss_mib, Some(30.0));
        let mut none = Case::new("c", CaseStatus::Ok);
        none.set_server_samples(Vec::new());
        assert_eq!((none.server_cpu_percent, none.server_rss_mib), (None, None));
    }
}
