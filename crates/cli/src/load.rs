//! `wsgibench load`: one URL, one load model, wrk-like output.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use results::single::RunLabels;
use scenario::{Load, Request, Scenario, Target, Timeouts};

use crate::args::LoadArgs;
use crate::drive::{self, Drive, Outputs};

pub fn run(a: LoadArgs) -> Result<ExitCode> {
    let trust = match drive::trust(&a.trust) {
        Ok(trust) => trust,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    };
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
            tls: a.url.tls,
        },
        load,
        duration,
        timeouts: Timeouts {
            connect: a.timeout,
            response: a.timeout,
        },
        trust,
    };
    let agents = match drive::accept(&scenario, &a.spread) {
        Ok(agents) => agents,
        Err(e) => {
            eprintln!("error: {}: {e}", a.url.text);
            return Ok(ExitCode::from(2));
        }
    };

    let threads = drive::threads(a.threads).min(a.connections as usize);
    // Before connecting: raise the open-files limit, plan source addresses, or say why
    // this machine cannot hold -c connections. Agents check their own machines.
    let preflight = match agents {
        None => engine::preflight(&scenario, threads, a.spread.allow_remote).map(drop),
        Some(_) => Ok(()),
    };
    if let Err(e) = preflight {
        match e {
            engine::EngineError::Limits(e) => eprintln!("error: -c {}: {e}", a.connections),
            e => eprintln!("error: {}: {e}", a.url.text),
        }
        return Ok(ExitCode::from(2));
    }
    let model = match (&scenario.load, a.requests) {
        (Load::Open { rate, .. }, _) => format!("open model, {rate} req/s planned"),
        (_, Some(n)) => format!("closed model, {n} requests"),
        _ => "closed model".to_string(),
    };
    let header = format!(
        "Running {} test @ {}\n  {} and {} connections ({model})",
        duration
            .map(|d| format!("{:.1}s", d.as_secs_f64()))
            .unwrap_or_else(|| "counted".into()),
        a.url.text,
        drive::makers(threads, agents.as_ref()),
        a.connections
    );
    let outputs = Outputs {
        json: a.json.clone().map(|path| {
            let labels = RunLabels {
                url: Some(a.url.text.clone()),
                connections: Some(a.connections),
                model: Some(model),
                ..RunLabels::default()
            };
            (path, labels)
        }),
        tsung_log: None,
        hgrm: a.hgrm.clone(),
    };
    drive::run(
        Drive {
            scenario: &scenario,
            threads,
            interval: a.interval,
            cpus: a.cpus.clone(),
            quiet: a.quiet,
            label: "load",
            header,
            what: format!("against {}", a.url.text),
            agents,
            allow_remote: a.spread.allow_remote,
            io: a.engine.io.into(),
        },
        &outputs,
    )
}
