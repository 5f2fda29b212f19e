//! `wsgibench tsung FILE.xml`: a Tsung scenario, run unchanged.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct TsungArgs {
    /// The Tsung XML file.
    pub file: PathBuf,

    /// Print the plan the file becomes (phases, users, sessions, requests); send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(a: TsungArgs) -> Result<ExitCode> {
    match scenario::tsung::parse_file(&a.file) {
        Ok(import) => {
            print!("{}", scenario::tsung::describe(&import));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
