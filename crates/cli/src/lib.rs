//! The `wsgibench` binary's code: glue. It parses flags, builds a `Scenario`, wires the
//! engine to the outputs and turns the result into an exit code. A library so that the
//! tests can walk the command definition (every numeric flag gets the bad-input table).
//!
//! Exit codes (README's table): 0 done; 3 a run over agents lost some of them; 1 the
//! run could not be carried out (a file that
//! cannot be written, a server that cannot be reached at all); 2 the input was refused
//! (a flag, a suite or Tsung file), before anything was sent.

mod agent_cmd;
pub mod args;
mod drive;
mod history_cmd;
mod interrupt;
mod k8s_cmd;
mod load;
mod progress;
mod report_cmd;
mod run;
mod serve_case_cmd;
mod tsung;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;

/// Exit code of input refused before anything ran.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Exit code of a run spread over agents of which some were lost: what the others
/// measured is reported and written, but it is not the load that was asked.
pub const EXIT_PARTIAL: u8 = 3;

/// Exit code of a suite run in which an app failed (an exception, an import error) on
/// some server: those pairs are reported with the traceback and not ranked.
pub const EXIT_APP_FAILED: u8 = 4;

pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return refuse(e),
    };
    let result = match cli.command {
        args::Command::Run(a) => run::run(a),
        args::Command::Load(a) => load::run(a),
        args::Command::Report(a) => report_cmd::run(a),
        args::Command::History(a) => history_cmd::history(a),
        args::Command::Compare(a) => history_cmd::compare(a),
        args::Command::Export(a) => history_cmd::export(a),
        args::Command::Tsung(a) => tsung::run(a),
        args::Command::Agent(a) => agent_cmd::run(a),
        args::Command::ServeCase(a) => serve_case_cmd::run(a),
        args::Command::Sample(a) => serve_case_cmd::sample(a),
        args::Command::K8s(a) => k8s_cmd::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A value clap refused is one line: the flag, the value and the allowed range. Other
/// clap messages (help, a missing argument with its usage) are printed as clap writes them.
fn refuse(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let context = |kind| match e.get(kind) {
                Some(ContextValue::String(s)) => Some(s.clone()),
                _ => None,
            };
            let line = match (
                context(ContextKind::InvalidArg),
                context(ContextKind::InvalidValue),
                std::error::Error::source(&e),
            ) {
                // The value is quoted with escapes: one that holds a newline stays one line.
                (Some(arg), Some(value), Some(why)) => {
                    format!("error: invalid value {value:?} for '{arg}': {why}")
                }
                _ => {
                    let text = e.render().to_string();
                    text.lines()
                        .next()
                        .unwrap_or("error: invalid value")
                        .to_string()
                }
            };
            eprintln!("{line}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
        _ => e.exit(),
    }
}
