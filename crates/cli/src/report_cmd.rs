//! `wsgibench report DIR`: (re)builds `DIR/report.html` from the files a
//! `wsgibench run` left in DIR, prints what the diagnosis found and the page's path.
//! `wsgibench run` builds the same page at its end; this rebuilds it for an old run,
//! or after a newer wsgibench improved the report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results folder written by `wsgibench run` (it holds run.json).
    pub dir: PathBuf,
}

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    // Read once for the console; `html::write` reads again, which costs milliseconds
    // and keeps its signature the one `wsgibench run` calls.
    // The error names the file (DIR/run.json when DIR is not a results folder).
    let loaded = report::load::read_run(&a.dir)?;
    for f in report::diagnosis::diagnose(&loaded) {
        let case = f.case.map(|c| format!("{c}: ")).unwrap_or_default();
        println!("{:<8} {case}{}", f.severity.label(), f.title);
    }
    let path = report::html::write(&a.dir)
        .with_context(|| format!("cannot write the report in {}", a.dir.display()))?;
    println!("report    {}", path.display());
    Ok(ExitCode::SUCCESS)
}
