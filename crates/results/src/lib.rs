//! A run's results: the typed model and the folder it is written to and read from.

pub mod files;
pub mod hgrm;
pub mod read;
pub mod tsung_log;

/// Writing an output failed. Names the file, since a run writes several.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct OutputError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}
