//! How late the open model's precise clock wakes, beside tokio's own timer, on this
//! machine now. A benchmark, not a test: the figures depend on the machine's load.
//!
//! cargo run --release -p wsgibench-engine --example timer_precision [WAITS] [AHEAD_US]

use std::time::Duration;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let waits: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let ahead_us: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1500);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut precise, mut coarse) = runtime.block_on(engine::timer::lateness_sample(
        waits,
        Duration::from_micros(ahead_us),
    ))?;
    println!("{waits} waits of {ahead_us} µs each; lateness in µs");
    println!(
        "{:<14} {:>8} {:>8} {:>8} {:>8}",
        "timer", "p50", "p90", "p99", "max"
    );
    for (name, sample) in [("timerfd", &mut precise), ("tokio sleep", &mut coarse)] {
        sample.sort();
        let at = |q: f64| sample[((sample.len() - 1) as f64 * q) as usize].as_micros();
        println!(
            "{name:<14} {:>8} {:>8} {:>8} {:>8}",
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0)
        );
    }
    Ok(())
}
