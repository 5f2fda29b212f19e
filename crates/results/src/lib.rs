//! A run's results: one typed model, and the folder it is written to and read from.
//!
//! Every writer of a results folder (the suite's runner; later, the merge of several
//! load agents) builds the same [`Case`]s and [`RunMeta`], and every reader (the
//! report, the history, `wsgibench report DIR`) gets them back from
//! [`folder::read_run`]. Nothing else opens the folder's JSON.
//!
//! Layout:
//! - [`model`]: the types, serde both ways: [`RunMeta`] (`run.json`), [`Case`]
//!   (`<case>/summary.json`) with its [`Measured`] numbers, [`Repeat`]s,
//!   [`ServerSample`]s and [`AgentShare`]s. The measured numbers are the engine's own
//!   [`Digest`], [`Interval`] and [`QuantilePoint`], re-exported.
//! - [`status`]: [`CaseStatus`], every way a case can end.
//! - [`folder`]: where each file goes ([`RunFolder`], [`CaseFolder`]), writing a case
//!   and the run's metadata, and reading a folder back, including folders written by
//!   earlier versions and by killed runs ([`ResultsError`] names the file).
//! - [`files`]: atomic writes and the interval series ([`IntervalLog`], a streaming
//!   [`engine::Sink`] flushed line by line).
//! - [`hgrm`]: the latency distribution in HdrHistogram's text format.
//! - [`tsung_log`]: Tsung's JSON log, as a streaming sink.
//! - [`single`]: the outputs of one `wsgibench load` or `tsung` run (`--json` and
//!   its series), which are files of their own, not a results folder.
//!
//! ```no_run
//! let run = results::read_run(std::path::Path::new("results/2026-12-01T22-10-00Z"))?;
//! for case in run.cases.iter().filter(|c| c.is_ok()) {
//!     let m = case.measured.as_ref().expect("ok cases are measured");
//!     println!("{} {} req/s", case.name, m.digest.rps);
//! }
//! # Ok::<(), results::ResultsError>(())
//! ```

pub mod files;
pub mod folder;
pub mod hgrm;
pub mod model;
pub mod single;
pub mod status;
pub mod tsung_log;

pub use files::IntervalLog;
pub use folder::{read_case, read_run, CaseFolder, ResultsError, RunFolder};
pub use model::{
    median_by_rps, non_2xx, AgentShare, AgentStatus, Case, Digest, Interval, Latency, Machine,
    Measured, QuantilePoint, Repeat, Run, RunMeta, ServerSample,
};
pub use status::CaseStatus;

/// Writing an output failed. Names the file, since a run writes several.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct OutputError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}
