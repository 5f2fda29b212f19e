//! The `wsgibench` binary: glue. It parses flags, builds a `Scenario`, wires the engine
//! to the outputs and turns the result into an exit code.

mod args;
mod assets;
mod history_cmd;
mod load;
mod progress;
mod report_cmd;
mod run;
mod tsung;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Run(a) => run::run(a),
        args::Command::Load(a) => load::run(a),
        args::Command::Report(a) => report_cmd::run(a),
        args::Command::History(a) => history_cmd::history(a),
        args::Command::Compare(a) => history_cmd::compare(a),
        args::Command::Export(a) => history_cmd::export(a),
        args::Command::Tsung(a) => tsung::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
