//! The history of runs: every `wsgibench run` recorded in one SQLite file, so runs
//! from different days can be listed, compared and exported long after their results
//! folders were moved or deleted. It records the results model ([`results::Run`]).
//!
//! Layout:
//! - [`store`] (re-exported here): the schema and its version ([`SCHEMA_VERSION`]; an
//!   older file is migrated when first opened for writing), [`record`] a folder or
//!   [`record_run`] a run in memory, [`list`], [`run`], [`all_runs`] and [`intervals`]
//!   to read back; [`HistoryError`] names the file.
//! - [`compare`]: two recorded runs side by side, as text and as an HTML page.
//! - [`trend`]: every recorded run as a static site (`wsgibench history --html DIR`):
//!   req/s and p99 per server over the run dates, drawn by `render::trend`.
//!
//! ```no_run
//! let db = history::default_db_path()?;
//! let id = history::record(&db, std::path::Path::new("results/2026-12-01T22-10-00Z"))?;
//! for run in history::list(&db)? {
//!     println!("{} {:?}", run.id, run.best);
//! }
//! # let _ = id;
//! # Ok::<(), history::HistoryError>(())
//! ```

pub mod compare;
pub mod store;
pub mod trend;

pub use store::*;
