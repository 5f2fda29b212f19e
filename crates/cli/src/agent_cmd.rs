//! `wsgibench agent --listen ADDR`: serves controllers (`load` or `tsung` with
//! `--agents`) until stopped, or for one run with `--once`. The work is the `agent`
//! crate's; this parses, binds and prints.

use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Result;

use crate::args::AgentArgs;
use crate::drive;

pub fn run(a: AgentArgs) -> Result<ExitCode> {
    let Some(token) = a.token.as_deref() else {
        eprintln!("error: --token (or WSGIBENCH_TOKEN) is required: controllers must prove it");
        return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
    };
    let token = match agent::Token::new(token) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: --token: {e}");
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    };
    let listener = match TcpListener::bind(&a.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: --listen {}: {e}", a.listen);
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    };
    let threads = drive::threads(a.threads);
    let io: engine::IoChoice = a.engine.io.into();
    match drive::check_io(io) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    }
    println!(
        "wsgibench agent on {} ({threads} threads, --io {:?}{}); waiting for a controller",
        listener
            .local_addr()
            .map_or(a.listen.clone(), |l| l.to_string()),
        format!("{:?}", a.engine.io).to_lowercase(),
        if a.allow_remote {
            ", any target"
        } else {
            ", loopback targets only"
        }
    );
    agent::serve(
        listener,
        agent::AgentOptions {
            token,
            threads,
            cpus: a.cpus,
            allow_remote: a.allow_remote,
            once: a.once,
            save_shares: a.save_shares,
            io,
        },
        // The agent outlives whoever reads its output: a closed stdout is no reason
        // to stop serving.
        |line| {
            let _ = writeln!(std::io::stdout(), "{line}");
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
