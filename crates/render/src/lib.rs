//! What people read: everything shown from a run's results, rendered from the model
//! ([`results::Run`]) alone, so a run just measured and a folder read from disk (last
//! week's, another machine's) render the same.
//!
//! Layout:
//! - [`write_all`]: every output of a run, once, into its folder; [`rebuild`] reads a
//!   folder and does the same (`wsgibench report DIR`).
//! - [`table`]: [`table::CaseRow`], one row per case, as CSV, Markdown and console text.
//! - [`charts`]: the original's two charts, one spec each, drawn as files and inline;
//!   the rule that leaves out a short last interval.
//! - [`html`]: report.html, one self-contained page.
//! - [`trend`]: the trend across runs (`wsgibench history --html DIR`), a static site
//!   from plain data the history gathers: an index of the runs, a page per server.
//! - [`diagnosis`]: plain-language findings, one rule per function.
//! - [`plot`]: the one chart drawing, in the page's frame and a file's.
//! - [`style`]: palette, markers, the embedded font, ticks and number formats; the
//!   one HTML [`style::escape`].
//! - [`console`]: the end-of-load summary `wsgibench load` and `tsung` print, from the
//!   engine's live [`engine::Summary`].
//!
//! ```no_run
//! let dir = std::path::Path::new("results/2026-12-01T22-10-00Z");
//! let rendered = render::rebuild(dir)?;
//! print!("{}", rendered.console_table);
//! println!("{}", rendered.report_html.display());
//! # Ok::<(), render::RenderError>(())
//! ```

pub mod charts;
pub mod console;
pub mod diagnosis;
pub mod html;
pub mod plot;
pub mod style;
pub mod table;
pub mod trend;

use std::path::PathBuf;

/// Rendering failed. Names the chart or file.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// An inline chart could not be drawn; the message is plotters' own.
    #[error("chart `{title}`: {message}")]
    Chart { title: String, message: String },
    /// A chart file could not be drawn or saved (an unwritable directory, most
    /// likely); the message is plotters' own.
    #[error("{}: could not draw the chart: {message}", path.display())]
    Draw { path: PathBuf, message: String },
    /// The font compiled into the crate did not parse: the file under assets/ is broken.
    #[error("the embedded chart font (assets/DejaVuSans.ttf) is not a valid font")]
    Font,
    /// The results folder could not be read or written.
    #[error(transparent)]
    Results(#[from] results::ResultsError),
}

/// What [`write_all`] wrote, for the console.
#[derive(Debug)]
pub struct Rendered {
    pub findings: Vec<diagnosis::Finding>,
    /// The results table, ranked and aligned for a terminal.
    pub console_table: String,
    pub results_md: PathBuf,
    /// The original's two charts, as PNG (an SVG lies beside each).
    pub charts: [PathBuf; 2],
    pub report_html: PathBuf,
}

/// Renders every output of `run` once, from the model, into `folder`: results.csv,
/// results.md, the two charts and report.html. `wsgibench run` calls it with the run
/// it just measured, `wsgibench report DIR` with a run read from DIR ([`rebuild`]):
/// the same model, so the same files.
pub fn write_all(run: &results::Run, folder: &results::RunFolder) -> Result<Rendered, RenderError> {
    use results::folder::{REPORT_HTML, RESULTS_CSV, RESULTS_MD};
    let rows: Vec<table::CaseRow> = run.cases.iter().map(table::CaseRow::of).collect();
    folder.write_output(RESULTS_CSV, table::to_csv(&rows).as_bytes())?;
    let note = placement_note(&run.meta).unwrap_or_default();
    let results_md = folder.write_output(
        RESULTS_MD,
        format!("{note}{}", table::to_markdown(&rows)).as_bytes(),
    )?;
    let charts = charts::write_files(&run.cases, folder)?;
    let findings = diagnosis::diagnose(run);
    let page = html::render(run, &findings)?;
    let report_html = folder.write_output(REPORT_HTML, page.as_bytes())?;
    Ok(Rendered {
        findings,
        console_table: format!("{note}{}", table::to_console(&rows)),
        results_md,
        charts,
        report_html,
    })
}

/// The line above the tables of a `--workers` run, or of one where the server and the
/// generator shared CPUs: its numbers are not like for like with other runs'. `None`
/// for a run without either, whose tables stay as they always were.
pub fn placement_note(meta: &results::RunMeta) -> Option<String> {
    if meta.workers.is_none() && !meta.shared_cpus {
        return None;
    }
    let mut note = String::new();
    if let Some(n) = meta.workers {
        note.push_str(&format!("Workers: {n} per server (--workers {n}). "));
    }
    if meta.shared_cpus {
        note.push_str("Shared CPUs: the servers and the generator shared CPUs, so the numbers understate both; rank them apart from runs where each had its own. ");
    }
    if let Some(p) = &meta.placement {
        note.push_str(&format!("Placement: {p}."));
    }
    Some(format!("{}\n\n", note.trim_end()))
}

/// Reads the results folder `dir` and renders it again ([`write_all`]): for an old
/// run, or after a newer wsgibench improved the report.
pub fn rebuild(dir: &std::path::Path) -> Result<Rendered, RenderError> {
    let run = results::read_run(dir)?;
    write_all(&run, &results::RunFolder::open(dir))
}
