//! `wsgibench load`: one URL, one load model, wrk-like output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use engine::{RunOptions, Sink};
use results::files::{write_summary, IntervalLog};
use scenario::{Load, Request, Scenario, Target, Timeouts};

use crate::args::LoadArgs;
use crate::progress::Progress;

pub fn run(a: LoadArgs) -> Result<ExitCode> {
    let body = match (&a.body, &a.body_file) {
        (Some(b), _) => b.clone().into_bytes(),
        (None, Some(f)) => {
            std::fs::read(f).with_context(|| format!("--body-file {}: cannot read", f.display()))?
        }
        (None, None) => Vec::new(),
    };
    let request = Request {
        method: a.method,
        path: a.url.path.clone(),
        headers: a.headers.clone(),
        body,
    };
    let duration = match (a.duration, a.requests) {
        (Some(d), _) => Some(d),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(10)),
    };
    let load = match a.rate {
        Some(rate) => Load::Open {
            connections: a.connections,
            rate,
            arrival: a.arrival.into(),
            script: vec![request],
        },
        None => Load::Closed {
            connections: a.connections,
            requests: a.requests,
            script: vec![request],
        },
    };
    let scenario = Scenario {
        target: Target {
            host: a.url.host.clone(),
            port: a.url.port,
        },
        load,
        duration,
        timeouts: Timeouts {
            connect: a.timeout,
            response: a.timeout,
        },
    };
    if let Err(e) = scenario
        .validate()
        .and_then(|()| scenario.target.check_local().map(drop))
    {
        eprintln!("error: {}: {e}", a.url.text);
        return Ok(ExitCode::from(2));
    }

    let threads = a
        .threads
        .map(|t| t as usize)
        .unwrap_or_else(|| engine::allowed_cpus().len())
        .max(1);
    let threads = threads.min(a.connections as usize);
    // Before connecting: raise the open-files limit, plan source addresses, or say why
    // this machine cannot hold -c connections.
    if let Err(e) = engine::preflight(&scenario, threads) {
        match e {
            engine::EngineError::Limits(e) => eprintln!("error: -c {}: {e}", a.connections),
            e => eprintln!("error: {}: {e}", a.url.text),
        }
        return Ok(ExitCode::from(2));
    }
    let live = Arc::new(engine::Live::new(threads));
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = stop.clone();
    // Ctrl-C ends the run early; the engine still returns everything measured so far.
    ctrlc::set_handler(move || on_signal.store(true, std::sync::atomic::Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;
    let options = RunOptions {
        threads,
        interval: a.interval,
        cpus: a.cpus.clone(),
        stop,
        live: Some(live.clone()),
    };

    let model = match (&scenario.load, a.requests) {
        (Load::Open { rate, .. }, _) => format!("open model, {rate} req/s planned"),
        (_, Some(n)) => format!("closed model, {n} requests"),
        _ => "closed model".to_string(),
    };
    println!(
        "Running {} test @ {}\n  {} threads and {} connections ({model})",
        duration
            .map(|d| format!("{:.1}s", d.as_secs_f64()))
            .unwrap_or_else(|| "counted".into()),
        a.url.text,
        threads,
        a.connections
    );

    let mut series = match &a.json {
        Some(path) => Some(IntervalLog::create(&series_path(path))?),
        None => None,
    };
    let mut sinks: Vec<&mut dyn Sink> = Vec::new();
    if let Some(s) = series.as_mut() {
        sinks.push(s);
    }
    let progress = (!a.quiet).then(|| Progress::start(live, duration, "load".into()));
    let result = engine::run(&scenario, &options, &mut sinks);
    if let Some(p) = progress {
        p.finish();
    }
    let summary = result.with_context(|| format!("cannot run against {}", a.url.text))?;
    print!("{}", render::console::summary(&summary));

    if let Some(path) = &a.json {
        let mut extra = serde_json::Map::new();
        extra.insert("url".into(), a.url.text.clone().into());
        extra.insert("connections".into(), a.connections.into());
        extra.insert("model".into(), model.into());
        write_summary(path, &summary, &extra)?;
        if let Some(e) = series.and_then(|s| s.error) {
            return Err(e.into());
        }
        println!("  Summary     {}", path.display());
    }
    if let Some(path) = &a.hgrm {
        write_hgrm(path, &summary)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `--hgrm FILE` and says so, or says why not.
pub fn write_hgrm(path: &Path, summary: &engine::Summary) -> Result<()> {
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

/// `out.json` → `out.intervals.jsonl`, beside it.
pub fn series_path(summary: &Path) -> PathBuf {
    let stem = summary
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wsgibench".into());
    summary.with_file_name(format!("{stem}.intervals.jsonl"))
}
