//! The suite runner: every case serving every app in turn (and every repetition,
//! interleaved), each launch → ready → the app's answer checked → load → stop → cool
//! down, building the results model as it goes.
//!
//! A case that is not installed, does not start, or crashes under load becomes a
//! [`Case`] with that status and the evidence (pip's error, the log's last lines); it
//! never stops the cases after it. What the engine measured before a crash is kept.
//! Each case's summary is written the moment it ends, so a run killed later loses
//! nothing already measured.

use std::net::ToSocketAddrs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use engine::{RunOptions, Sink, StopFlag};
use results::{
    median_by_rps, Case, CaseFolder, CaseStatus, IntervalLog, Measured, Repeat, ResultsError, Run,
    RunFolder, RunMeta,
};

use crate::apps::{compare_answers, App, Probe};
use crate::pyenv::EnvError;
use crate::supervise::{free_port, LaunchError, Server};
use crate::{PythonEnv, SuiteFile};

/// What a run reports as it goes. The suite decides what happens; the caller (the
/// command line) decides how it looks.
pub trait Progress {
    /// The load of `case` starts now; `live` has its counters, refreshed by the
    /// engine's workers. Returned to when the load ends ([`Progress::load_ended`]).
    fn load_started(&mut self, case: &str, live: Arc<engine::Live>, length: Duration);
    fn load_ended(&mut self) {}
    /// A case (or one repetition of it) ended, however it ended.
    fn case_ended(&mut self, case: &Case);
    /// The run was stopped (Ctrl-C) before `case` started.
    fn interrupted_before(&mut self, case: &str);
    /// A step worth a line that is not a case (comparing the servers' answers).
    fn note(&mut self, _line: &str) {}
}

/// Where the servers are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Servers {
    /// Started here, one at a time, pinned to the server's CPU.
    Launch,
    /// Already running, one per case, at `host:port` with `{case}` replaced by the
    /// case's name (a Kubernetes Service per case). Each is waited for until it answers.
    /// `samplers`, the same kind of template, names each server's `wsgibench sample`
    /// sidecar, for its CPU and memory.
    At {
        servers: String,
        samplers: Option<String>,
    },
}

/// Everything a suite run needs, fixed before it starts.
pub struct SuiteRun<'a> {
    pub cases: Vec<&'a crate::Case>,
    /// What every case serves; all the cases for one app run one after another, so
    /// the servers an app compares are measured close together.
    pub apps: Vec<&'a App>,
    pub protocol: &'a SuiteFile,
    pub placement: &'a Placement,
    pub folder: &'a RunFolder,
    /// How often each case runs; repetitions are interleaved (all cases, then all
    /// again) so that a slow drift of the machine spreads over every case.
    pub repeat: u32,
    /// Also write each case's series as Tsung's JSON log.
    pub tsung_log: bool,
    /// Start each case's server here, or find it already running elsewhere.
    pub servers: Servers,
    /// Make the load on these agents instead of here.
    pub agents: Option<agent::Agents>,
    /// The command line, for run.json.
    pub command: String,
    /// The I/O path asked for here (`--io`); the engine chooses within it.
    pub io: engine::IoChoice,
}

impl SuiteRun<'_> {
    /// Writes `run.json`: from here on the folder reads as a run, even one killed
    /// while the servers' environment is still being built.
    pub fn begin(&self) -> Result<RunMeta, ResultsError> {
        let meta = self.meta();
        self.folder.write_meta(&meta)?;
        Ok(meta)
    }

    /// Every (case, app) pair, in the order they run.
    fn pairs(&self) -> impl Iterator<Item = (&crate::Case, &App)> + '_ {
        self.apps
            .iter()
            .flat_map(|app| self.cases.iter().map(move |case| (*case, *app)))
    }

    /// Where the servers and the load run, in words: run.json's placement and the
    /// console's header.
    pub fn where_it_runs(&self) -> String {
        let cpus = |p: &Placement| match p.generator_cpus.as_slice() {
            [] => "the generator unpinned".to_string(),
            cpus => format!("generator on CPU {}", join(cpus)),
        };
        match (&self.servers, &self.agents) {
            (Servers::Launch, None) => self.placement.describe(),
            (Servers::Launch, Some(agents)) => format!(
                "{}, the load from {} agents",
                self.placement.server(),
                agents.addresses.len()
            ),
            (Servers::At { servers, .. }, None) => {
                format!("servers at {servers}, {} here", cpus(self.placement))
            }
            (Servers::At { servers, .. }, Some(agents)) => format!(
                "servers at {servers}, the load from {} agents: nothing measured runs here",
                agents.addresses.len()
            ),
        }
    }

    fn meta(&self) -> RunMeta {
        RunMeta {
            wsgibench_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            started_utc: Some(results::folder::utc_stamp()),
            finished_utc: None,
            command: Some(self.command.clone()),
            protocol: Some(self.protocol.description.clone()),
            suite_file: Some(self.protocol.path.display().to_string()),
            interval_s: Some(self.protocol.interval.as_secs_f64()),
            placement: Some(self.where_it_runs()),
            // Pinned here only when it runs here.
            server_cpu: self
                .placement
                .server_cpu
                .filter(|_| matches!(self.servers, Servers::Launch)),
            generator_cpus: match self.agents {
                None => self.placement.generator_cpus.clone(),
                Some(_) => Vec::new(),
            },
            server_cpus: match self.servers {
                Servers::Launch => self.placement.server_cpus.clone(),
                Servers::At { .. } => Vec::new(),
            },
            workers: self.placement.workers,
            // Shared only when both run here.
            shared_cpus: self.placement.shared
                && self.agents.is_none()
                && matches!(self.servers, Servers::Launch),
            machine: crate::machine::this_machine(),
            cases: self
                .pairs()
                .map(|(case, app)| {
                    results::folder::case_folder_name(&case.name, app.results_name().as_deref())
                })
                .collect(),
            run_tag: Some(crate::watchdog::run_tag().to_string()),
            interrupted: None,
        }
    }

    /// Runs every case, writing the folder as it goes, and returns the run as the
    /// folder now holds it, stopping between cases once `stop` is set (a stopped load
    /// still reports what it measured). `meta` is what [`SuiteRun::begin`] wrote; `env` is
    /// the servers' environment, or why it could not be made (then every case is `not
    /// installed`, with the reason, and the folder says so), or `None` when the servers
    /// run elsewhere ([`Servers::At`]). Errors are the folder's: a file that cannot be
    /// written.
    pub fn run(
        &self,
        mut meta: RunMeta,
        env: Option<&Result<PythonEnv, EnvError>>,
        stop: &StopFlag,
        progress: &mut dyn Progress,
    ) -> Result<Run, ResultsError> {
        let repeats = self.repeat.max(1);
        let pairs: Vec<_> = self.pairs().collect();
        let mut reps: Vec<Vec<(Case, CaseFolder)>> = pairs.iter().map(|_| Vec::new()).collect();
        // An app that declares no answer: the servers' answers are compared first.
        let mut verdicts: Vec<Option<(CaseStatus, String)>> = pairs.iter().map(|_| None).collect();
        for app in self.apps.iter().filter(|a| a.expect.is_none()) {
            if stopped(stop) {
                break;
            }
            progress.note(&format!(
                "comparing how each server answers the {} app, before any load",
                app.name
            ));
            let env = env.and_then(|e| e.as_ref().ok());
            for (case, verdict) in self.cases.iter().zip(self.survey(app, env)?) {
                if let Some(i) = pairs
                    .iter()
                    .position(|(c, a)| c.name == case.name && a.name == app.name)
                {
                    verdicts[i] = verdict;
                }
            }
        }
        'rounds: for round in 1..=repeats {
            for (i, (case, app)) in pairs.iter().enumerate() {
                let folder_name =
                    results::folder::case_folder_name(&case.name, app.results_name().as_deref());
                if stopped(stop) {
                    progress.interrupted_before(&folder_name);
                    break 'rounds;
                }
                let repetition = (repeats > 1).then_some(round);
                let dir = self.folder.case_dir(&folder_name, repetition)?;
                let mut result = match (env, &self.servers) {
                    _ if verdicts[i].is_some() => {
                        let (status, detail) = verdicts[i].clone().expect("checked");
                        let mut c = Case::new(&case.name, status);
                        c.detail = Some(detail);
                        c
                    }
                    (Some(Err(e)), Servers::Launch) => {
                        let mut c = Case::new(&case.name, CaseStatus::NotInstalled);
                        c.detail = Some(e.to_string());
                        c
                    }
                    (env, _) => {
                        let env = env.and_then(|e| e.as_ref().ok());
                        self.run_one(case, app, env, &dir, stop, progress)?
                    }
                };
                result.app = app.results_name();
                dir.write_case(&result)?;
                result.log_tail = dir.log_tail();
                progress.case_ended(&result);
                reps[i].push((result, dir));
                let last = round == repeats && i + 1 == pairs.len();
                if !last && !stopped(stop) {
                    cool_down(self.protocol);
                }
            }
        }
        let mut cases = Vec::new();
        for mut runs in reps.into_iter().filter(|r| !r.is_empty()) {
            if repeats == 1 {
                cases.extend(runs.into_iter().map(|(case, _)| case));
                continue;
            }
            let all: Vec<Case> = runs.iter().map(|(c, _)| c.clone()).collect();
            let median = median_by_rps(&all).expect("at least one repetition");
            let (mut chosen, dir) = runs.swap_remove(median);
            chosen.repeats = all.iter().filter_map(Repeat::of).collect();
            self.folder.write_median(&dir, &chosen)?;
            cases.push(chosen);
        }
        crate::markers::reached(crate::markers::WRITING_REPORT);
        meta.finished_utc = Some(results::folder::utc_stamp());
        meta.interrupted = Some(stopped(stop));
        self.folder.write_meta(&meta)?;
        Ok(Run {
            dir: self.folder.dir().to_path_buf(),
            meta,
            cases,
        })
    }

    /// Each case's server asked `app`'s requests twice, before any load; `None` for a
    /// case whose answers agree with most servers', else why it is not measured.
    fn survey(
        &self,
        app: &App,
        env: Option<&PythonEnv>,
    ) -> Result<Vec<Option<(CaseStatus, String)>>, ResultsError> {
        // Per case: its probes (one per request of the mix), or why there are none.
        let mut answered: Vec<Result<Vec<Probe>, (CaseStatus, String)>> = Vec::new();
        for case in &self.cases {
            let folder =
                results::folder::case_folder_name(&case.name, app.results_name().as_deref());
            let dir = self.folder.case_dir(&folder, None)?;
            answered.push(probe_case(
                case,
                app,
                env,
                &self.servers,
                self.protocol,
                &dir,
            ));
        }
        let mut verdicts: Vec<Option<(CaseStatus, String)>> =
            answered.iter().map(|a| a.as_ref().err().cloned()).collect();
        let requests = app.mix.len().min(SURVEYED_REQUESTS);
        for r in 0..requests {
            let (who, probes): (Vec<usize>, Vec<Probe>) = answered
                .iter()
                .enumerate()
                .filter_map(|(i, a)| a.as_ref().ok().map(|p| (i, p[r].clone())))
                .unzip();
            for (i, verdict) in who.into_iter().zip(compare_answers(&probes)) {
                if let (Err(why), None) = (verdict, &verdicts[i]) {
                    let (method, path) = (app.mix[r].0.method.as_str(), &app.mix[r].0.path);
                    verdicts[i] = Some((
                        CaseStatus::AnswersDifferently,
                        format!("{method} {path} {why}; not measured"),
                    ));
                }
            }
        }
        Ok(verdicts)
    }

    /// One case with the engine's live counters and the folder's streaming sinks.
    fn run_one(
        &self,
        case: &crate::Case,
        app: &App,
        env: Option<&PythonEnv>,
        dir: &CaseFolder,
        stop: &StopFlag,
        progress: &mut dyn Progress,
    ) -> Result<Case, ResultsError> {
        let threads = self.placement.generator_cpus.len().max(1);
        let parts = self.agents.as_ref().map_or(threads, |a| a.addresses.len());
        let live = Arc::new(engine::Live::new(parts));
        let options = RunOptions {
            threads,
            interval: self.protocol.interval,
            cpus: (!self.placement.generator_cpus.is_empty())
                .then(|| self.placement.generator_cpus.clone()),
            stop: stop.clone(),
            live: Some(live.clone()),
            segment: None,
            start_at: None,
            // A server elsewhere was allowed when the run was set up (--servers-at).
            allow_remote: matches!(self.servers, Servers::At { .. }),
            io: self.io,
        };
        let mut series = IntervalLog::create(&dir.path(results::folder::INTERVALS))?;
        let mut tsung = match self.tsung_log {
            true => Some(results::tsung_log::TsungLog::create(
                &dir.path(results::folder::TSUNG_LOG),
            )?),
            false => None,
        };
        let result = {
            let mut sinks: Vec<&mut dyn Sink> = vec![&mut series];
            if let Some(t) = tsung.as_mut() {
                sinks.push(t);
            }
            let mut started = |live: Arc<engine::Live>| {
                let label =
                    results::folder::case_folder_name(&case.name, app.results_name().as_deref());
                progress.load_started(&label, live, self.protocol.duration)
            };
            let load = CaseLoad {
                protocol: self.protocol,
                options: &options,
                sinks: &mut sinks,
                load_started: &mut started,
                agents: self.agents.as_ref(),
            };
            match (&self.servers, env) {
                (Servers::At { servers, samplers }, _) => {
                    run_remote_case(case, app, (servers, samplers.as_deref()), load)
                }
                (Servers::Launch, Some(env)) => {
                    run_case(case, app, env, self.placement, dir.dir(), load)
                }
                (Servers::Launch, None) => unreachable!("a launched case has its environment"),
            }
        };
        progress.load_ended();
        if let Some(e) = series.error.or(tsung.and_then(|t| t.error)) {
            return Err(e.into());
        }
        Ok(result)
    }
}

/// Where the server and the generator run. On a one-CPU machine both share it, and
/// so they do when `--workers N` asks for every CPU; [`Placement::describe`] says so.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The server's last CPU (its only one without `--workers`).
    pub server_cpu: Option<usize>,
    /// Every CPU the server is pinned to: the last N allowed.
    pub server_cpus: Vec<usize>,
    pub generator_cpus: Vec<usize>,
    /// `--workers N`; `None` without the flag.
    pub workers: Option<u32>,
    /// The server and the generator share CPUs: results understate both and rank apart.
    pub shared: bool,
}

impl Placement {
    /// The server gets the last allowed CPU, the generator all the others.
    pub fn split(allowed: &[usize]) -> Placement {
        Placement::for_workers(allowed, None)
    }

    /// With `workers` N, the server gets the last N allowed CPUs and the generator the
    /// rest. When N leaves the generator nothing (N >= the CPUs allowed), both get every
    /// allowed CPU and the placement is marked shared.
    pub fn for_workers(allowed: &[usize], workers: Option<u32>) -> Placement {
        let n = workers.unwrap_or(1).max(1) as usize;
        let Some(&last) = allowed.last() else {
            return Placement {
                server_cpu: None,
                server_cpus: Vec::new(),
                generator_cpus: Vec::new(),
                workers,
                shared: false,
            };
        };
        let (generator, server) = match allowed.len() > n {
            true => allowed.split_at(allowed.len() - n),
            false => (allowed, allowed),
        };
        Placement {
            server_cpu: Some(last),
            server_cpus: server.to_vec(),
            generator_cpus: generator.to_vec(),
            workers,
            shared: allowed.len() <= n,
        }
    }

    /// `server on CPU 3`, `server (2 workers) on CPU 2,3`.
    fn server(&self) -> String {
        let workers = match self.workers {
            Some(n) => format!(" ({n} worker{})", if n == 1 { "" } else { "s" }),
            None => String::new(),
        };
        match self.server_cpus.as_slice() {
            [] => format!("server{workers} unpinned"),
            cpus => format!("server{workers} on CPU {}", join(cpus)),
        }
    }

    pub fn describe(&self) -> String {
        match (self.server_cpu, self.workers) {
            (None, _) => "no CPU pinning (affinity unavailable)".into(),
            (Some(s), None) if self.shared => {
                format!("server and generator share CPU {s} (one CPU available): shared CPUs, results understate both")
            }
            (Some(_), Some(n)) if self.shared => format!(
                "{} and generator share CPU {} ({n} worker{} need{} every CPU): shared CPUs, results understate both and rank apart",
                self.server(),
                join(&self.generator_cpus),
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            ),
            _ => format!(
                "{}, generator on CPU {}",
                self.server(),
                join(&self.generator_cpus)
            ),
        }
    }
}

fn join(cpus: &[usize]) -> String {
    cpus.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// How one case's load is made, whoever runs its server.
pub struct CaseLoad<'a, 'b> {
    pub protocol: &'a SuiteFile,
    /// The generator's threads, CPUs and stop flag.
    pub options: &'a RunOptions,
    /// They receive the intervals as the load runs.
    pub sinks: &'a mut [&'b mut dyn Sink],
    /// Called with the live counters once the server answers.
    pub load_started: &'a mut dyn FnMut(Arc<engine::Live>),
    /// Make the load on these agents instead of here.
    pub agents: Option<&'a agent::Agents>,
}

/// Runs one case whose server this machine starts; `dir` receives the server's log.
pub fn run_case(
    case: &crate::Case,
    app: &App,
    env: &PythonEnv,
    placement: &Placement,
    dir: &Path,
    load: CaseLoad,
) -> Case {
    let CaseLoad {
        protocol,
        options,
        sinks,
        load_started,
        agents,
    } = load;
    let mut result = Case::new(&case.name, CaseStatus::Ok);
    result.server_version = env.case_version(case);
    result.workers = case.workers(placement.workers);
    let mut failed = |status, detail: String| {
        result.status = status;
        result.detail = Some(detail);
        result.clone()
    };
    if let Err(e) = env.installed(case) {
        return failed(CaseStatus::NotInstalled, e.to_string());
    }
    if let Err(e) = env.app_installed(app) {
        return failed(CaseStatus::NotInstalled, e.to_string());
    }
    let log_path = dir.join(results::folder::SERVER_LOG);
    let port = match free_port() {
        Ok(p) => p,
        Err(e) => return failed(CaseStatus::FailedToStart, format!("no free port: {e}")),
    };
    let mut server = match start(
        case,
        app,
        env,
        port,
        (placement.workers, &placement.server_cpus),
        protocol,
        &log_path,
    ) {
        Ok(s) => s,
        Err((status, detail)) => return failed(status, detail),
    };
    if let Err((status, detail)) = check_answer(app, "127.0.0.1", port) {
        let detail = match status {
            CaseStatus::AppError => format!("{detail}\n{}", server.log_tail(20)),
            _ => detail,
        };
        return failed(status, detail);
    }
    crate::markers::reached(&crate::markers::case_started(&case.name));
    server.start_sampler();
    let scenario = app_scenario(protocol, app, "127.0.0.1", port);
    if let Some(live) = &options.live {
        load_started(live.clone());
    }
    let outcome = load_here_or_on(&scenario, options, sinks, agents);
    let samples = server.stop_sampler();
    let crashed = server.exited();
    let tail = server.log_tail(20);
    if let Some(v) = server.version() {
        result.server_version = Some(v.to_string());
    }
    let stop = server.stop();
    let (status, detail) = match (&outcome, crashed) {
        (Err(e), _) => (
            CaseStatus::FailedToStart,
            Some(format!("the load could not start: {e}")),
        ),
        (Ok(spread), None) if spread.lost() => (CaseStatus::LostAgent, Some(spread.lost_detail())),
        (Ok(_), Some(exit)) => (
            CaseStatus::Crashed,
            Some(format!(
                "the server exited during the load ({exit}):\n{tail}"
            )),
        ),
        (Ok(_), None) if !stop.port_free => (
            CaseStatus::Ok,
            Some(format!(
                "port {port} still answered after the stop ({})",
                stop.status
            )),
        ),
        (Ok(_), None) => (CaseStatus::Ok, None),
    };
    result.status = status;
    // A case that cannot take N workers says so, never a silent 1.
    result.detail = match (detail, case.workers_remark(placement.workers)) {
        (Some(d), Some(w)) => Some(format!("{w}\n{d}")),
        (d, w) => d.or(w),
    };
    result.set_server_samples(samples);
    if let Ok(loaded) = outcome {
        result.measured = Some(Measured::from(&loaded.summary));
        result.agents = loaded.agents;
    }
    result
}

/// What one case's load measured, made here or by agents.
struct Loaded {
    summary: engine::Summary,
    agents: Option<Vec<results::AgentShare>>,
    lost_because: Vec<(String, String)>,
}

impl Loaded {
    fn lost(&self) -> bool {
        !self.lost_because.is_empty()
    }

    fn lost_detail(&self) -> String {
        let lines: Vec<String> = self
            .lost_because
            .iter()
            .map(|(address, why)| format!("agent {address} was lost: {why}"))
            .collect();
        lines.join("\n")
    }
}

/// Runs `scenario` here, or spread over `agents`.
fn load_here_or_on(
    scenario: &scenario::Scenario,
    options: &RunOptions,
    sinks: &mut [&mut dyn Sink],
    agents: Option<&agent::Agents>,
) -> Result<Loaded, String> {
    match agents {
        None => engine::run(scenario, options, sinks)
            .map(|summary| Loaded {
                summary,
                agents: None,
                lost_because: Vec::new(),
            })
            .map_err(|e| e.to_string()),
        Some(agents) => agent::controller::run(
            scenario,
            agents,
            options.interval,
            sinks,
            &options.stop,
            options.live.clone(),
        )
        .map(|run| Loaded {
            summary: run.summary,
            agents: Some(run.agents),
            lost_because: run.lost_because,
        })
        .map_err(|e| e.to_string()),
    }
}

/// A case whose server already runs at `template`'s address: waited for, then loaded.
/// Its process is not this machine's, so there are no CPU or memory samples.
fn run_remote_case(
    case: &crate::Case,
    app: &App,
    (template, samplers): (&str, Option<&str>),
    load: CaseLoad,
) -> Case {
    let mut result = Case::new(&case.name, CaseStatus::Ok);
    let address = template
        .replace("{case}", &case.name)
        .replace("{app}", &app.name);
    let Some((host, port)) = address
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
    else {
        result.status = CaseStatus::FailedToStart;
        result.detail = Some(format!("{address} is not HOST:PORT"));
        return result;
    };
    if let Err(why) = crate::supervise::wait_until_answers(host, port, load.protocol.ready_timeout)
    {
        result.status = CaseStatus::FailedToStart;
        result.detail = Some(format!("{address}: {why}"));
        return result;
    }
    if let Err((status, detail)) = check_answer(app, host, port) {
        result.status = status;
        result.detail = Some(format!("{address}: {detail}"));
        return result;
    }
    crate::markers::reached(&crate::markers::case_started(&case.name));
    let sampler = samplers.map(|t| t.replace("{case}", &case.name));
    let before = sampler.as_deref().map(crate::sidecar::fetch);
    if let Some(live) = &load.options.live {
        (load.load_started)(live.clone());
    }
    let outcome = load_here_or_on(
        &app_scenario(load.protocol, app, host, port),
        load.options,
        load.sinks,
        load.agents,
    );
    match (before, sampler.as_deref().map(crate::sidecar::fetch)) {
        (Some(Ok(b)), Some(Ok(after))) => {
            result.set_server_samples(crate::sidecar::between(&after, b.now_s, after.now_s))
        }
        (Some(Err(e)), _) | (_, Some(Err(e))) => {
            result.detail = Some(format!("no server CPU or memory: sampler {e}"))
        }
        _ => {}
    }
    match outcome {
        Err(e) => {
            result.status = CaseStatus::FailedToStart;
            result.detail = Some(format!("the load could not start: {e}"));
        }
        Ok(loaded) => {
            if loaded.lost() {
                result.status = CaseStatus::LostAgent;
                result.detail = Some(match result.detail.take() {
                    Some(d) => format!("{}\n{d}", loaded.lost_detail()),
                    None => loaded.lost_detail(),
                });
            }
            result.measured = Some(Measured::from(&loaded.summary));
            result.agents = loaded.agents;
        }
    }
    result
}

/// Starts `case` serving `app` and waits until it answers. A start that fails with a
/// traceback through the app's own module is the app failing ([`CaseStatus::AppError`]:
/// an import error, an exception at import), not the server.
fn start(
    case: &crate::Case,
    app: &App,
    env: &PythonEnv,
    port: u16,
    (workers, cpus): (Option<u32>, &[usize]),
    protocol: &SuiteFile,
    log_path: &Path,
) -> Result<Server, (CaseStatus, String)> {
    let started = Server::launch_workers(
        case,
        app.callable_for(case),
        app.dir.as_deref(),
        env,
        port,
        workers,
        cpus,
        log_path,
    )
    .and_then(|mut server| server.wait_ready(protocol.ready_timeout).map(|()| server));
    started.map_err(|e| {
        let detail = match &e {
            LaunchError::FailedToStart { .. } | LaunchError::NotReady { .. } => e.to_string(),
            _ => format!("{e}\n{}", crate::supervise::log_tail(log_path, 20)),
        };
        // The log's last lines pass through the app's own file (`shop/wsgi.py`), or
        // say its module cannot be found.
        let module = app.callable_for(case).split(':').next().unwrap_or_default();
        let file = module.replace('.', "/");
        let top = module.split('.').next().unwrap_or_default();
        let app_failed = !module.is_empty()
            && (detail.contains(&format!("/{file}.py\""))
                || detail.contains(&format!("/{file}/__init__.py\""))
                || detail.contains(&format!("No module named '{top}")));
        match app_failed {
            true => (
                CaseStatus::AppError,
                format!("the {} app failed as it loaded: {detail}", app.name),
            ),
            false => (CaseStatus::FailedToStart, detail),
        }
    })
}

fn resolve(host: &str, port: u16) -> Result<std::net::SocketAddr, (CaseStatus, String)> {
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            (
                CaseStatus::FailedToStart,
                format!("{host}:{port} resolves to no address"),
            )
        })
}

/// How many requests of an app's mix are compared across servers.
const SURVEYED_REQUESTS: usize = 8;

/// One case's answers to `app`'s requests (the first [`SURVEYED_REQUESTS`]), each asked
/// twice; or why it gave none. Its server is started for this and stopped after.
fn probe_case(
    case: &crate::Case,
    app: &App,
    env: Option<&PythonEnv>,
    servers: &Servers,
    protocol: &SuiteFile,
    dir: &CaseFolder,
) -> Result<Vec<Probe>, (CaseStatus, String)> {
    let ask_all = |host: &str, port: u16| -> Result<Vec<Probe>, (CaseStatus, String)> {
        let addr = resolve(host, port)?;
        app.mix
            .iter()
            .take(SURVEYED_REQUESTS)
            .map(|(request, _)| {
                let ask = || {
                    crate::answer::ask(addr, request, ANSWER_TIMEOUT).map_err(|e| {
                        (
                            CaseStatus::AnswersDifferently,
                            format!(
                                "{} {}: no whole answer: {e}",
                                request.method.as_str(),
                                request.path
                            ),
                        )
                    })
                };
                let (first, second) = (ask()?, ask()?);
                if first.status >= 500 {
                    return Err((
                        CaseStatus::AppError,
                        format!(
                            "{} {} answered status {}",
                            request.method.as_str(),
                            request.path,
                            first.status
                        ),
                    ));
                }
                Ok(Probe::of(&first, &second))
            })
            .collect()
    };
    match servers {
        Servers::At { servers, .. } => {
            let address = servers
                .replace("{case}", &case.name)
                .replace("{app}", &app.name);
            let (host, port) = address
                .rsplit_once(':')
                .and_then(|(h, p)| {
                    Some((
                        h.trim_matches(['[', ']']).to_string(),
                        p.parse::<u16>().ok()?,
                    ))
                })
                .ok_or_else(|| {
                    (
                        CaseStatus::FailedToStart,
                        format!("{address} is not HOST:PORT"),
                    )
                })?;
            crate::supervise::wait_until_answers(&host, port, protocol.ready_timeout)
                .map_err(|why| (CaseStatus::FailedToStart, format!("{address}: {why}")))?;
            ask_all(&host, port)
        }
        Servers::Launch => {
            let env = env.ok_or_else(|| {
                (
                    CaseStatus::NotInstalled,
                    "the servers' environment could not be made".to_string(),
                )
            })?;
            env.installed(case)
                .map_err(|e| (CaseStatus::NotInstalled, e.to_string()))?;
            let port = free_port()
                .map_err(|e| (CaseStatus::FailedToStart, format!("no free port: {e}")))?;
            let log = dir.path(results::folder::SERVER_LOG);
            let server = start(case, app, env, port, (None, &[]), protocol, &log)?;
            let probes = ask_all("127.0.0.1", port).map_err(|(status, detail)| match status {
                CaseStatus::AppError => (status, format!("{detail}:\n{}", server.log_tail(20))),
                _ => (status, detail),
            });
            drop(server);
            probes
        }
    }
}

/// How long the one request that checks an app's answer may take: the slowest shipped
/// app answers in milliseconds, a first request may import a framework.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Asks the server once, as the load will, and checks the answer against what the app
/// declares. A 5xx is the app failing ([`CaseStatus::AppError`]); any other difference
/// is the server answering differently. Either way the pair is not loaded.
fn check_answer(app: &App, host: &str, port: u16) -> Result<(), (CaseStatus, String)> {
    let Some(expect) = &app.expect else {
        // A user's app: its servers' answers were compared before any load.
        return Ok(());
    };
    let addr = resolve(host, port)?;
    let answer = crate::answer::ask(addr, &app.request, ANSWER_TIMEOUT).map_err(|e| {
        (
            CaseStatus::AnswersDifferently,
            format!("the {} app's request got no whole answer: {e}", app.name),
        )
    })?;
    expect.check(&answer).map_err(|what| {
        let status = match answer.status {
            500..=599 => CaseStatus::AppError,
            _ => CaseStatus::AnswersDifferently,
        };
        (
            status,
            format!("the {} app answered {what}; not measured", app.name),
        )
    })
}

/// The protocol's scenario with every request made the app's; the original app keeps
/// the protocol's own requests (a suite file may ask several paths of it).
fn app_scenario(protocol: &SuiteFile, app: &App, host: &str, port: u16) -> scenario::Scenario {
    let mut scenario = protocol.scenario(host, port);
    match (&app.sessions, &mut scenario.load) {
        (Some(theirs), scenario::Load::Sessions { sessions, .. }) => *sessions = theirs.clone(),
        _ if !app.is_original() => scenario.ask_mix(&app.mix),
        _ => {}
    }
    scenario
}

fn stopped(stop: &StopFlag) -> bool {
    stop.load(std::sync::atomic::Ordering::SeqCst)
}

/// The pause between cases, so one server's TIME_WAIT sockets and CPU heat do not
/// weigh on the next.
pub fn cool_down(protocol: &SuiteFile) {
    if !protocol.cool_down.is_zero() {
        std::thread::sleep(protocol.cool_down.min(Duration::from_secs(60)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_gives_the_server_the_last_cpu() {
        let p = Placement::split(&[0, 1, 2, 3]);
        assert_eq!(
            (p.server_cpu, p.generator_cpus.as_slice()),
            (Some(3), &[0, 1, 2][..])
        );
        assert!(p
            .describe()
            .contains("server on CPU 3, generator on CPU 0,1,2"));
        let one = Placement::split(&[5]);
        assert!(one.describe().contains("share CPU 5"));
        assert!(one.shared);
    }

    /// (allowed, workers, server CPUs, generator CPUs, shared)
    type Expected = (
        &'static [usize],
        Option<u32>,
        &'static [usize],
        &'static [usize],
        bool,
    );

    #[test]
    fn placement_for_n_workers_on_2_and_4_cpus() {
        let cases: [Expected; 7] = [
            (&[0, 1], None, &[1], &[0], false),
            (&[0, 1], Some(1), &[1], &[0], false),
            (&[0, 1], Some(2), &[0, 1], &[0, 1], true),
            (&[0, 1], Some(3), &[0, 1], &[0, 1], true),
            (&[0, 1, 2, 3], Some(1), &[3], &[0, 1, 2], false),
            (&[0, 1, 2, 3], Some(2), &[2, 3], &[0, 1], false),
            (&[0, 1, 2, 3], Some(4), &[0, 1, 2, 3], &[0, 1, 2, 3], true),
        ];
        for (allowed, workers, server, generator, shared) in cases {
            let p = Placement::for_workers(allowed, workers);
            assert_eq!(
                (
                    p.server_cpus.as_slice(),
                    p.generator_cpus.as_slice(),
                    p.shared
                ),
                (server, generator, shared),
                "{allowed:?} with {workers:?} workers"
            );
            assert_eq!(p.server_cpu, allowed.last().copied());
            assert_eq!(
                p.describe().contains("shared CPUs"),
                shared,
                "{}",
                p.describe()
            );
        }
        assert_eq!(
            Placement::for_workers(&[0, 1, 2, 3], Some(2)).describe(),
            "server (2 workers) on CPU 2,3, generator on CPU 0,1"
        );
        assert_eq!(
            Placement::for_workers(&[0, 1], Some(2)).describe(),
            "server (2 workers) on CPU 0,1 and generator share CPU 0,1 (2 workers need every CPU): shared CPUs, results understate both and rank apart"
        );
        // Without --workers, the words of every earlier run.
        assert_eq!(
            Placement::split(&[0, 1]).describe(),
            "server on CPU 1, generator on CPU 0"
        );
    }
}
