//! Fuzz target: the suite TOML reader (`suite::SuiteFile::parse`).
//!
//! Any text must give a suite or an error, never a panic, an endless loop or an
//! allocation sized by a number in the file. A suite it accepts must build a scenario
//! that passes the scenario's own checks, and every error must print.

use std::path::Path;

fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match suite::SuiteFile::parse(text, Path::new("fuzz.toml")) {
        Ok(suite) => {
            if let Err(e) = suite.scenario("127.0.0.1", 8000).validate() {
                panic!("the reader accepted a suite that does not validate: {e}");
            }
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with("fuzz.toml"), "{message}");
        }
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
