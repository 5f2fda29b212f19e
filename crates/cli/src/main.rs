//! `wsgibench`: see the library (`src/lib.rs`) for the wiring and the exit codes.

fn main() -> std::process::ExitCode {
    wsgibench::main()
}
