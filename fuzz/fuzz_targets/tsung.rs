//! Fuzz target: the Tsung XML reader (`scenario::tsung::parse_str`, with its tree,
//! converter and plan description).
//!
//! Any text must give a scenario or an error, never a panic, an endless loop or an
//! allocation sized by a number in the file. What it accepts must also pass the
//! scenario's own checks, be describable (`--dry-run`), and every error must print.

fn check(data: &[u8]) {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    match scenario::tsung::parse_str(xml, "fuzz.xml") {
        Ok(import) => {
            let _ = scenario::tsung::describe(&import);
            if let Err(e) = import.scenario.validate() {
                panic!("the reader accepted a scenario that does not validate: {e}");
            }
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with("fuzz.xml:"), "{message}");
        }
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
