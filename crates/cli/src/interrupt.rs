//! Ctrl-C: one handler for the process, installed by whichever command asks first.
//! It sets a [`StopFlag`]; a run ends early on it and still reports (and writes)
//! everything it measured until then.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use engine::StopFlag;

static STOP: Mutex<Option<StopFlag>> = Mutex::new(None);

/// The flag Ctrl-C sets. The first call installs the handler; later calls return the
/// same flag (the `ctrlc` crate takes one handler per process).
pub fn stop_flag() -> Result<StopFlag> {
    let mut slot = STOP.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(stop) = slot.as_ref() {
        return Ok(stop.clone());
    }
    let stop: StopFlag = Arc::new(AtomicBool::new(false));
    let on_signal = stop.clone();
    ctrlc::set_handler(move || on_signal.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;
    *slot = Some(stop.clone());
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_call_returns_the_same_flag() {
        let first = stop_flag().unwrap();
        let second = stop_flag().unwrap();
        assert!(Arc::ptr_eq(&first, &second));
    }
}
