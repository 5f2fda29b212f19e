//! `wsgibench report DIR`: (re)builds `DIR/report.html` from the files a
//! `wsgibench run` left in DIR, prints what the diagnosis found and the page's path.
//! `wsgibench run` builds the same page at its end; this rebuilds it for an old run,
//! or after a newer wsgibench improved the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results folder written by `wsgibench run` (it holds run.json).
    pub dir: PathBuf,
}

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    build(&a.dir)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the diagnosis's findings and writes `dir/report.html`; `wsgibench run` ends
/// with this too.
pub fn build(dir: &Path) -> Result<PathBuf> {
    // Read once for the console; `html::write` reads again, which costs milliseconds.
    // The error names the file (DIR/run.json when DIR is not a results folder).
    let loaded = results::read::read_run(dir)?;
    let findings = render::diagnosis::diagnose(&loaded);
    if !findings.is_empty() {
        println!("findings:");
    }
    for f in findings {
        let case = f.case.map(|c| format!("{c}: ")).unwrap_or_default();
        println!("  {:<8} {case}{}", f.severity.label(), f.title);
    }
    let path = render::html::write(dir)
        .with_context(|| format!("cannot write the report in {}", dir.display()))?;
    println!("report    {}", path.display());
    Ok(path)
}
