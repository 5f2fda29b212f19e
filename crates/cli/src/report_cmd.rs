//! `wsgibench report DIR`: renders a results folder again (results.csv, results.md,
//! the charts, report.html) from the files a `wsgibench run` left in DIR, prints what
//! the diagnosis found and the page's path. `wsgibench run` renders the same at its
//! end; this is for an old run, or after a newer wsgibench improved the report.

use std::process::ExitCode;

use anyhow::{Context, Result};
use render::diagnosis::Finding;

use crate::args::ReportArgs;

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    // The error names the file (DIR/run.json when DIR is not a results folder).
    let rendered = render::rebuild(&a.dir)
        .with_context(|| format!("cannot write the report in {}", a.dir.display()))?;
    print_findings(&rendered.findings);
    println!("report    {}", rendered.report_html.display());
    Ok(ExitCode::SUCCESS)
}

/// The diagnosis's findings, worst first, one line each.
pub fn print_findings(findings: &[Finding]) {
    if !findings.is_empty() {
        println!("findings:");
    }
    for f in findings {
        let case = f
            .case
            .as_ref()
            .map(|c| format!("{c}: "))
            .unwrap_or_default();
        println!("  {:<8} {case}{}", f.severity.label(), f.title);
    }
}
