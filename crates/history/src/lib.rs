//! The history of runs.

pub mod compare;
pub mod store;

pub use store::*;
