//! Test markers: with `WSGIBENCH_TEST_MARKERS=DIR` in its environment, a run touches
//! `DIR/<point>` each time it reaches a named point, so a test can act at exactly that
//! moment (kill the run there) instead of guessing with sleeps. Without the variable
//! this does nothing.
//!
//! The points:
//! - [`VENV_BUILDING`]: the virtualenv is about to be made or completed (pip follows);
//! - `case-started:<case>` ([`case_started`]): the case's server answers, the load is
//!   about to start;
//! - [`WRITING_REPORT`]: every case is done, the tables, charts and report follow.

use std::path::PathBuf;

/// The environment variable naming the folder that receives the markers.
pub const MARKERS_VAR: &str = "WSGIBENCH_TEST_MARKERS";

pub const VENV_BUILDING: &str = "venv-building";
pub const WRITING_REPORT: &str = "writing-report";

/// The point name for `case`'s server being ready.
pub fn case_started(case: &str) -> String {
    format!("case-started:{case}")
}

/// Touches the marker for `point` when markers are on. Best effort: a marker that
/// cannot be written only makes the waiting test time out.
pub fn reached(point: &str) {
    let Some(dir) = std::env::var_os(MARKERS_VAR).filter(|d| !d.is_empty()) else {
        return;
    };
    // A point is one file name, whatever a case is called.
    let name = point.replace('/', "_");
    let _ = std::fs::write(PathBuf::from(dir).join(name), b"");
}
