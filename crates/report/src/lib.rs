//! What a run leaves behind, read only from the engine's public [`engine::Summary`],
//! [`engine::Interval`] and [`engine::Stats`]:
//!
//! - [`files`]: the interval series as JSON Lines (flushed per line, so a killed run
//!   keeps every finished interval) and the summary JSON (written atomically).
//! - [`console`]: the end-of-run summary in the spirit of wrk's.

pub mod charts;
pub mod compare;
pub mod console;
pub mod diagnosis;
pub mod files;
pub mod hgrm;
pub mod history;
pub mod html;
pub mod load;
pub mod plot;
pub mod style;
pub mod table;
pub mod tsung_log;

/// Writing an output failed. Names the file, since a run writes several.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct OutputError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}
