//! `wsgibench run`: the suite. Prepares the Python environment, runs each server case
//! in turn under the chosen protocol, and writes the table and charts.
//!
//! Killed at any point (even by SIGKILL), a run leaves no process behind: pip and every
//! server run under a watchdog (`suite::watchdog`). Its folder stays readable: each
//! file is written whole or appended line by line, and `wsgibench report` calls a case
//! folder without `summary.json` killed. Two runs at once take turns: one venv build at
//! a time, and one run measuring on the CPUs at a time (`suite::lock`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::Args;
use engine::{RunOptions, Sink};
use results::files::{write_atomic, write_summary, IntervalLog};
use render::table::CaseRow;
use results::tsung_log::TsungLog;
use suite::{CaseResult, CaseStatus, Catalog, Placement, PythonEnv, SuiteFile};

use crate::assets::Assets;
use crate::progress::Progress;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The same cases under a short protocol (suites/quick.toml): a first look in about 2 minutes.
    #[arg(long, conflicts_with = "suite")]
    pub quick: bool,

    /// The protocol to run [default: suites/original.toml, the original benchmark: 90 s per case].
    #[arg(long)]
    pub suite: Option<PathBuf>,

    /// Cases to run, by name, comma-separated [default: every case in the catalog].
    #[arg(long, value_delimiter = ',')]
    pub cases: Vec<String>,

    /// The server catalog [default: suites/servers.toml].
    #[arg(long)]
    pub catalog: Option<PathBuf>,

    /// Output folder [default: results/<UTC timestamp>/].
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Python 3 interpreter that makes the servers' virtualenv.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,

    /// Folder for the virtualenv and data files [default: ~/.cache/wsgibench].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,

    /// Run each case N times, interleaved (all cases, then all again); the table shows the
    /// median run by req/s and each summary.json lists every repetition under `repeats`.
    #[arg(long, default_value_t = 1, value_parser = crate::args::parse_repeat, allow_negative_numbers = true)]
    pub repeat: u32,

    /// Also write each case's series as Tsung's JSON log, `<out>/<case>/tsung.json`.
    #[arg(long)]
    pub tsung_log: bool,

    /// The run history database [default: ~/.local/share/wsgibench/history.sqlite3].
    #[arg(long)]
    pub db: Option<PathBuf>,

    /// No live progress bars.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let cache = match &a.cache_dir {
        Some(c) => c.clone(),
        None => suite::pyenv::default_cache_dir()
            .context("set --cache-dir: neither XDG_CACHE_HOME nor HOME is set")?,
    };
    let assets = Assets::locate(&cache)?;
    let catalog_path = a
        .catalog
        .clone()
        .unwrap_or_else(|| assets.suite("servers.toml"));
    let catalog = match Catalog::load(&catalog_path) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let suite_path = match (&a.suite, a.quick) {
        (Some(p), _) => p.clone(),
        (None, true) => assets.suite("quick.toml"),
        (None, false) => assets.suite("original.toml"),
    };
    let protocol = match SuiteFile::load(&suite_path) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let names: Vec<&str> = a.cases.iter().map(String::as_str).collect();
    let cases = if names.is_empty() {
        catalog.cases.iter().collect()
    } else {
        match catalog.select(&names) {
            Ok(c) => c,
            Err(e) => return usage(e),
        }
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(utc_stamp()));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let placement = Placement::split(&engine::allowed_cpus());

    println!("wsgibench run: {}", protocol.description);
    println!("  protocol  {}", suite_path.display());
    println!(
        "  cases     {}",
        cases
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  pinning   {}", placement.describe());
    println!("  output    {}", out.display());
    let mut meta = serde_json::json!({
        "wsgibench_version": env!("CARGO_PKG_VERSION"),
        "started_utc": utc_stamp(),
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "protocol": protocol.description,
        "suite_file": suite_path.display().to_string(),
        "interval_s": protocol.interval.as_secs_f64(),
        "placement": placement.describe(),
        "server_cpu": placement.server_cpu,
        "generator_cpus": placement.generator_cpus,
        "machine": machine(),
        "cases": cases.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        // In the environment of every process this run starts, to find any left behind.
        "run_tag": suite::watchdog::run_tag(),
    });
    write_atomic(
        &out.join("run.json"),
        &serde_json::to_vec_pretty(&meta).expect("json"),
    )?;
    println!("preparing the Python environment (the first time builds uWSGI, bjoern and meinheld: minutes)...");
    let env = PythonEnv::ensure_with_notes(&a.python, &assets.python_dir(), &cache, &mut |n| {
        println!("  {n}")
    });
    if let Ok(env) = &env {
        for (req, failure) in env.failures() {
            println!(
                "  could not install {req}: {}",
                failure.pip_tail.lines().last().unwrap_or("")
            );
        }
    }

    // Without this lock a second run would pin its server to the same CPU and its
    // generator to the same others: each would measure the other. Held until the report
    // is written (or the kernel drops it with a killed run); taken before the Ctrl-C
    // handler is installed, so Ctrl-C still ends a wait.
    let lock_path = suite::lock::measure_lock_path();
    let _measuring = match suite::FileLock::acquire(&lock_path, |holder| {
        println!(
            "waiting for another wsgibench run{} to finish measuring: two at once would share CPUs (lock {})",
            holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
            lock_path.display()
        )
    }) {
        Ok(lock) => Some(lock),
        Err(e) => {
            println!(
                "  warning: cannot take {}: {e}; another run at the same time would share the CPUs",
                lock_path.display()
            );
            None
        }
    };

    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = stop.clone();
    ctrlc::set_handler(move || on_signal.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;

    // Repeats are interleaved (all cases, then all cases again) so that a slow drift
    // of the machine spreads over every case instead of landing on one.
    let repeats = a.repeat.max(1) as usize;
    let mut runs: Vec<Vec<CaseResult>> = cases.iter().map(|_| Vec::new()).collect();
    'rounds: for round in 0..repeats {
        for (i, case) in cases.iter().enumerate() {
            if stop.load(Ordering::SeqCst) {
                println!(
                    "interrupted: {} and the runs after it were not made",
                    case.name
                );
                break 'rounds;
            }
            let dir = match repeats {
                1 => out.join(&case.name),
                _ => out.join(&case.name).join(format!("rep{}", round + 1)),
            };
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let result = match &env {
                Err(e) => CaseResult {
                    case: case.name.clone(),
                    status: CaseStatus::NotInstalled,
                    detail: Some(e.to_string()),
                    summary: None,
                    resources: Vec::new(),
                    version: None,
                    log_path: None,
                },
                Ok(env) => run_one(case, env, &protocol, &placement, &dir, &stop, &a)?,
            };
            write_case_summary(&dir, &result, &[])?;
            print_case_line(&result);
            runs[i].push(result);
            let last = round + 1 == repeats && i + 1 == cases.len();
            if !last && !stop.load(Ordering::SeqCst) {
                suite::runner::cool_down(&protocol);
            }
        }
    }
    let mut results: Vec<CaseResult> = Vec::new();
    let mut spreads: Vec<String> = Vec::new();
    for (case, mut reps) in cases.iter().zip(runs) {
        if reps.is_empty() {
            continue;
        }
        if repeats == 1 {
            results.extend(reps);
            continue;
        }
        let spread: Vec<serde_json::Value> = reps.iter().filter_map(repeat_digest).collect();
        let median = median_by_rps(&reps);
        let chosen = reps.swap_remove(median);
        let dir = out.join(&case.name);
        // The median repetition stands for the case; its series and log are copied up
        // so that every reader of `<case>/` finds the same files with or without repeats.
        if let Some(src) = chosen.log_path.as_ref().and_then(|p| p.parent()) {
            for file in ["intervals.jsonl", "server.log"] {
                let _ = std::fs::copy(src.join(file), dir.join(file));
            }
        }
        write_case_summary(&dir, &chosen, &spread)?;
        let all: Vec<f64> = spread.iter().filter_map(|v| v["rps"].as_f64()).collect();
        let (lo, hi) = all
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        if let Some(s) = &chosen.summary {
            spreads.push(format!(
                "  {:<18} median {:.0} req/s, range {:.0}-{:.0} over {} runs",
                case.name,
                s.digest.rps,
                lo,
                hi,
                all.len()
            ));
        }
        results.push(chosen);
    }

    suite::markers::reached(suite::markers::WRITING_REPORT);
    meta["finished_utc"] = utc_stamp().into();
    meta["interrupted"] = stop.load(Ordering::SeqCst).into();
    write_atomic(
        &out.join("run.json"),
        &serde_json::to_vec_pretty(&meta).expect("json"),
    )?;
    let rows: Vec<CaseRow> = results.iter().map(row).collect();
    write_atomic(
        &out.join("results.csv"),
        render::table::to_csv(&rows).as_bytes(),
    )?;
    write_atomic(
        &out.join("results.md"),
        render::table::to_markdown(&rows).as_bytes(),
    )?;
    let finished: Vec<&CaseResult> = results.iter().filter(|r| r.summary.is_some()).collect();
    let series: Vec<render::charts::Series> = finished
        .iter()
        .map(|r| render::charts::Series {
            name: &r.case,
            intervals: &r.summary.as_ref().expect("filtered").intervals,
        })
        .collect();
    render::charts::request_mean(&series, &out.join("request-mean"))?;
    render::charts::request_count(&series, &out.join("request-count"))?;

    println!();
    print!("{}", render::table::to_console(&rows));
    if !spreads.is_empty() {
        println!("\nrun-to-run spread (--repeat {repeats}):");
        for line in &spreads {
            println!("{line}");
        }
    }
    println!();
    crate::report_cmd::build(&out)?;
    crate::history_cmd::record_run(a.db.as_deref(), &out);
    println!("results   {}", out.join("results.md").display());
    println!(
        "charts    {} and {}",
        out.join("request-mean.png").display(),
        out.join("request-count.png").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn usage(e: impl std::fmt::Display) -> Result<ExitCode> {
    eprintln!("error: {e}");
    Ok(ExitCode::from(2))
}

fn run_one(
    case: &suite::Case,
    env: &PythonEnv,
    protocol: &SuiteFile,
    placement: &Placement,
    dir: &Path,
    stop: &Arc<AtomicBool>,
    a: &RunArgs,
) -> Result<CaseResult> {
    let threads = placement.generator_cpus.len().max(1);
    let live = Arc::new(engine::Live::new(threads));
    let options = RunOptions {
        threads,
        interval: protocol.interval,
        cpus: (!placement.generator_cpus.is_empty()).then(|| placement.generator_cpus.clone()),
        stop: stop.clone(),
        live: Some(live.clone()),
    };
    let mut series = IntervalLog::create(&dir.join("intervals.jsonl"))?;
    let mut tsung = match a.tsung_log {
        true => Some(TsungLog::create(&dir.join("tsung.json"))?),
        false => None,
    };
    let progress = (!a.quiet)
        .then(|| Progress::start(live, Some(protocol.duration), format!("{:<18}", case.name)));
    let result = {
        let mut sinks: Vec<&mut dyn Sink> = vec![&mut series];
        if let Some(t) = tsung.as_mut() {
            sinks.push(t);
        }
        suite::run_case(case, env, protocol, placement, dir, &options, &mut sinks)
    };
    if let Some(p) = progress {
        p.finish();
    }
    if let Some(e) = series.error.or(tsung.and_then(|t| t.error)) {
        return Err(e.into());
    }
    Ok(result)
}

fn row(r: &CaseResult) -> CaseRow {
    let version = r.version.clone();
    match &r.summary {
        Some(s) => {
            let res = r.resource_summary();
            CaseRow::from_summary(
                &r.case,
                r.status.as_str(),
                s,
                res.as_ref().map(|x| x.cpu_percent_mean),
                res.as_ref().map(|x| x.rss_mib_max),
                version,
            )
        }
        None => CaseRow::failed(&r.case, r.status.as_str(), version),
    }
}

/// The numbers of one repetition, for `repeats` in the case's summary.
fn repeat_digest(r: &CaseResult) -> Option<serde_json::Value> {
    let d = &r.summary.as_ref()?.digest;
    Some(serde_json::json!({
        "rps": d.rps,
        "mean_us": d.latency_us.mean,
        "p50_us": d.latency_us.p50,
        "p90_us": d.latency_us.p90,
        "p99_us": d.latency_us.p99,
        "errors": d.errors_total,
        "status": r.status.as_str(),
    }))
}

/// Index of the repetition with the median req/s (the lower median for an even count);
/// repetitions without a summary rank lowest.
fn median_by_rps(reps: &[CaseResult]) -> usize {
    let rps = |r: &CaseResult| {
        r.summary
            .as_ref()
            .map_or(f64::NEG_INFINITY, |s| s.digest.rps)
    };
    let mut order: Vec<usize> = (0..reps.len()).collect();
    order.sort_by(|x, y| rps(&reps[*x]).total_cmp(&rps(&reps[*y])));
    order[(order.len() - 1) / 2]
}

fn write_case_summary(dir: &Path, r: &CaseResult, repeats: &[serde_json::Value]) -> Result<()> {
    let mut extra = serde_json::Map::new();
    if !repeats.is_empty() {
        extra.insert("repeats".into(), repeats.to_vec().into());
    }
    extra.insert("case".into(), r.case.clone().into());
    // `status` below is the case's status (issue #4's field); the engine's answers by
    // code move to `status_codes` so that neither hides the other.
    if let Some(s) = &r.summary {
        extra.insert(
            "status_codes".into(),
            serde_json::to_value(&s.digest.status).expect("json"),
        );
    }
    extra.insert("status".into(), r.status.as_str().into());
    extra.insert("server_version".into(), r.version.clone().into());
    let res = r.resource_summary();
    extra.insert(
        "server_cpu_percent".into(),
        res.as_ref().map(|x| x.cpu_percent_mean).into(),
    );
    extra.insert(
        "server_rss_mib".into(),
        res.as_ref().map(|x| x.rss_mib_max).into(),
    );
    extra.insert(
        "server_samples".into(),
        r.resources
            .iter()
            .map(|s| serde_json::to_value(s).expect("json"))
            .collect::<Vec<_>>()
            .into(),
    );
    extra.insert("detail".into(), r.detail.clone().into());
    let path = dir.join("summary.json");
    match &r.summary {
        Some(s) => {
            write_summary(&path, s, &extra)?;
            results::hgrm::write(&dir.join("latency.hgrm"), s)?;
        }
        None => {
            let bytes = serde_json::to_vec_pretty(&serde_json::Value::Object(extra)).expect("json");
            write_atomic(&path, &bytes)?;
        }
    }
    Ok(())
}

fn print_case_line(r: &CaseResult) {
    match (&r.summary, r.status) {
        (Some(s), CaseStatus::Ok) => println!(
            "  {:<18} ok       {:>9.0} req/s  mean {:>8}  p99 {:>8}  errors {}",
            r.case,
            s.digest.rps,
            render::console::duration_us(s.digest.latency_us.mean),
            render::console::duration_us(s.digest.latency_us.p99 as f64),
            s.digest.errors_total
        ),
        _ => {
            println!("  {:<18} {}", r.case, r.status.as_str().to_uppercase());
            if let Some(d) = &r.detail {
                for line in d.lines().take(20) {
                    println!("      | {line}");
                }
            }
        }
    }
}

/// CPU model, core count and kernel, for the report's header.
fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")
            .and_then(|r| r.split_once(':'))
            .map(|(_, m)| m.trim().to_string())
    });
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .ok();
    serde_json::json!({"cpu_model": model, "cores": cores, "kernel": kernel})
}

/// `2026-11-25T12-01-26Z`: sortable, and valid in a folder name everywhere.
fn utc_stamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}-{:02}-{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
