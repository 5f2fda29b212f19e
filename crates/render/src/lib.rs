//! What people read.

pub mod charts;
pub mod console;
pub mod diagnosis;
pub mod html;
pub mod plot;
pub mod style;
pub mod table;
