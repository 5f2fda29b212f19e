//! placeholder
pub mod catalog;
pub mod pyenv;
pub mod source;
pub mod supervise;
