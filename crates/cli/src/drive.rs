//! One run of a validated scenario, as `wsgibench load` and `wsgibench tsung` make it:
//! the Ctrl-C flag, the worker threads and their live counters, the progress line, the
//! sinks that write as the run goes, the console summary, then the files asked for.
//! The commands keep only what differs: building the scenario and the header line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use engine::{RunOptions, Sink};
use results::files::IntervalLog;
use results::single::{self, RunLabels};
use results::tsung_log::TsungLog;
use scenario::Scenario;

use crate::args::{SpreadArgs, TrustArgs};
use crate::interrupt;
use crate::progress::Progress;

/// What to run and how.
pub struct Drive<'a> {
    /// Already validated (and checked to be local).
    pub scenario: &'a Scenario,
    pub threads: usize,
    pub interval: Duration,
    pub cpus: Option<Vec<usize>>,
    /// No progress line.
    pub quiet: bool,
    /// The progress line's prefix: the command's name.
    pub label: &'static str,
    /// Printed (with a newline) once the run is set up, just before it starts.
    pub header: String,
    /// What could not be run, for the error when the engine fails, e.g.
    /// `against http://...`: the error reads "cannot run {what}".
    pub what: String,
    /// Run on these agents instead of here.
    pub agents: Option<agent::Agents>,
    /// The user allowed a target off this machine.
    pub allow_remote: bool,
    /// `--io`.
    pub io: engine::IoChoice,
}

/// The files asked for; each is said on the console once written.
#[derive(Default)]
pub struct Outputs {
    /// `--json FILE`: the summary there, the series beside it ([`single::series_path`]).
    pub json: Option<(PathBuf, RunLabels)>,
    /// Tsung's JSON log.
    pub tsung_log: Option<PathBuf>,
    /// `--hgrm FILE`.
    pub hgrm: Option<PathBuf>,
}

/// Checks a scenario a command built, against the target policy, and reads
/// `--agents`; the error is the line to print (exit 2).
pub fn accept(scenario: &Scenario, spread: &SpreadArgs) -> Result<Option<agent::Agents>, String> {
    scenario.validate().map_err(|e| e.to_string())?;
    check_target(scenario, spread)?;
    agents(spread)
}

/// `--insecure` and `--cacert` as the scenario carries them: each file's PEM text,
/// checked as the engine will read it. The error names the file (exit 2).
pub fn trust(args: &TrustArgs) -> Result<scenario::Trust, String> {
    let mut extra_roots_pem = Vec::with_capacity(args.cacert.len());
    for path in &args.cacert {
        let name = path.display();
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("--cacert {name}: cannot read: {e}"))?;
        engine::check_roots(&pem).map_err(|e| {
            let why = match e {
                engine::TrustError::Pem { reason, .. } => reason,
                engine::TrustError::Root { reason, .. } => {
                    format!("not a usable root certificate: {reason}")
                }
                e => e.to_string(),
            };
            format!("--cacert {name}: expected PEM CA certificates: {why}")
        })?;
        extra_roots_pem.push(pem);
    }
    Ok(scenario::Trust {
        insecure: args.insecure,
        extra_roots_pem,
    })
}

/// The agents of `--agents`, with the token they need; `Ok(None)` without agents.
pub fn agents(spread: &SpreadArgs) -> Result<Option<agent::Agents>, String> {
    if spread.agents.is_empty() {
        return Ok(None);
    }
    let token = spread
        .token
        .as_deref()
        .ok_or("--agents needs --token (or WSGIBENCH_TOKEN): the agents' shared token")?;
    let token = agent::Token::new(token).map_err(|e| format!("--token: {e}"))?;
    Ok(Some(agent::Agents {
        addresses: spread.agents.clone(),
        token,
    }))
}

/// The target is on this machine, or the user said a remote one is meant.
fn check_target(scenario: &Scenario, spread: &SpreadArgs) -> Result<(), String> {
    if spread.allow_remote {
        return Ok(());
    }
    for server in scenario.servers() {
        server
            .target
            .check_local()
            .map_err(|e| format!("{e}; pass --allow-remote to load another host"))?;
    }
    Ok(())
}

/// Who makes the load, for a command's header: this machine's threads, or the agents.
pub fn makers(threads: usize, agents: Option<&agent::Agents>) -> String {
    match agents {
        Some(a) => format!("{} agents", a.addresses.len()),
        None => format!("{threads} threads"),
    }
}

/// Whether `--io` can be had here: `auto` on a machine without io_uring says so in one
/// line and runs on epoll; `uring` there is an error, the line to print (exit 2).
pub fn check_io(asked: engine::IoChoice) -> Result<(), String> {
    if asked == engine::IoChoice::Epoll {
        return Ok(());
    }
    match (engine::io_uring_available(), asked) {
        (Ok(()), _) => Ok(()),
        (Err(why), engine::IoChoice::Uring) => Err(format!(
            "io_uring is not available here ({why}); use --io auto or --io epoll"
        )),
        (Err(why), _) => {
            eprintln!("io_uring is not available here ({why}): running on epoll");
            Ok(())
        }
    }
}

/// Worker threads: as asked, or the CPUs this process may run on; at least one.
pub fn threads(asked: Option<u32>) -> usize {
    asked
        .map(|t| t as usize)
        .unwrap_or_else(|| engine::allowed_cpus().len())
        .max(1)
}

/// Runs `d.scenario` and writes `outputs`. Exit code 0 when the run happened, whatever
/// the server answered; an error when it could not run or an output not be written.
pub fn run(d: Drive<'_>, outputs: &Outputs) -> Result<ExitCode> {
    let parts = d.agents.as_ref().map_or(d.threads, |a| a.addresses.len());
    let live = Arc::new(engine::Live::new(parts));
    // Ctrl-C ends the run early; the engine still returns everything measured so far,
    // and every output below is still written.
    let stop = interrupt::stop_flag()?;
    let options = RunOptions {
        threads: d.threads,
        interval: d.interval,
        cpus: d.cpus,
        stop,
        live: Some(live.clone()),
        segment: None,
        start_at: None,
        allow_remote: d.allow_remote,
        io: d.io,
    };
    if d.agents.is_none() {
        if let Err(e) = check_io(d.io) {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    }
    println!("{}", d.header);

    let mut series = match &outputs.json {
        Some((path, _)) => Some(IntervalLog::create(&single::series_path(path))?),
        None => None,
    };
    // Created last, just before the run, because its first entry is the start time.
    let mut tsung_log = match &outputs.tsung_log {
        Some(path) => Some(TsungLog::create(path)?),
        None => None,
    };
    let mut sinks: Vec<&mut dyn Sink> = Vec::new();
    if let Some(s) = series.as_mut() {
        sinks.push(s);
    }
    if let Some(s) = tsung_log.as_mut() {
        sinks.push(s);
    }
    let progress =
        (!d.quiet).then(|| Progress::start(live.clone(), d.scenario.duration, d.label.into()));
    let (summary, spread) = match &d.agents {
        None => {
            let result = engine::run(d.scenario, &options, &mut sinks);
            (
                result.with_context(|| format!("cannot run {}", d.what)),
                None,
            )
        }
        Some(agents) => {
            let result = agent::controller::run(
                d.scenario,
                agents,
                d.interval,
                &mut sinks,
                &options.stop,
                Some(live.clone()),
            );
            match result {
                Ok(run) => (
                    Ok(run.summary),
                    Some((run.agents, run.lost_because, run.worst_clock_uncertainty_us)),
                ),
                Err(e) => {
                    if let Some(p) = progress {
                        p.finish();
                    }
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
                }
            }
        }
    };
    if let Some(p) = progress {
        p.finish();
    }
    let summary = summary?;
    print!("{}", render::console::summary(&summary));
    // Counted by kind in the summary; the words of the first say what to fix. Also in
    // --json as `tls_failure`.
    if let Some(words) = &summary.tls_failure {
        eprintln!("TLS: the first failed handshake: {words}");
    }
    let mut code = ExitCode::SUCCESS;
    let mut labels_agents = None;
    if let Some((agents, lost_because, uncertainty_us)) = spread {
        println!("  Agents      clocks aligned to within {uncertainty_us} µs");
        for a in &agents {
            println!(
                "    {:<24} {:<5} {:>10} requests {:>6} errors  cpu {:>4.0}%  clock {:+} µs",
                a.address,
                format!("{:?}", a.status).to_lowercase(),
                a.requests,
                a.errors,
                a.generator_cpu_percent,
                a.clock_offset_us
            );
        }
        for (address, why) in &lost_because {
            println!("  lost agent  {address}: {why}");
        }
        if !lost_because.is_empty() {
            code = ExitCode::from(crate::EXIT_PARTIAL);
        }
        labels_agents = Some(agents);
    }

    if let Some(log) = tsung_log {
        if let Some(e) = log.error {
            return Err(e.into());
        }
        println!("  Tsung log   {}", log.path().display());
    }
    if let Some((path, labels)) = &outputs.json {
        let labels = RunLabels {
            agents: labels_agents,
            ..labels.clone()
        };
        single::write_summary(path, &summary, &labels)?;
        if let Some(e) = series.and_then(|s| s.error) {
            return Err(e.into());
        }
        println!("  Summary     {}", path.display());
    }
    if let Some(path) = &outputs.hgrm {
        write_hgrm(path, &summary)?;
    }
    Ok(code)
}

/// Writes `--hgrm FILE` and says so, or says why not.
fn write_hgrm(path: &Path, summary: &engine::Summary) -> Result<()> {
    if results::hgrm::write(path, &summary.latency_distribution_us, &summary.digest)? {
        println!(
            "  Latency     {} (HdrHistogram percentile distribution)",
            path.display()
        );
    } else {
        println!("  Latency     no answers, so no {}", path.display());
    }
    Ok(())
}
