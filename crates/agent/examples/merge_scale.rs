//! What a controller pays to merge many agents: simulated agents replay a recorded
//! interval (its Stats on the wire, as an agent sends them) into the engine's collector,
//! one reader thread per agent as the controller has. As in a run, every agent sends
//! interval i, the collector merges and emits it, and only then do the agents send
//! interval i + 1 (a real interval lasts seconds; here the next starts at once). Prints
//! the cost per merged interval, per agent message, and the process's peak memory.
//!
//!     cargo run --release -p wsgibench-agent --example merge_scale -- 1000 10
//!
//! (agents, intervals). Nothing goes on the network: this measures the controller.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use engine::{Recorder, Stats, StatsWire, WorkerReport};

/// One agent's interval as a busy agent records it: 20 000 answers with latencies over
/// four decades, a few errors, bytes and connects.
fn recorded_interval(seed: u64) -> StatsWire {
    let mut r = Recorder::default();
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    for _ in 0..20_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let us = 50 + (x >> 33) % 50_000;
        r.record_response(200, Duration::from_micros(us));
    }
    r.record_error(engine::ErrorKind::Reset);
    r.record_bytes(2_000_000, 1_400_000);
    r.record_connect(Duration::from_micros(90), false);
    r.take().to_wire()
}

/// Releases the next interval once one is merged.
struct Pace(std::sync::Arc<(std::sync::Mutex<u32>, std::sync::Condvar)>);

impl engine::Sink for Pace {
    fn on_interval(&mut self, interval: &engine::Interval, _stats: &Stats) {
        let (lock, ready) = &*self.0;
        *lock.lock().unwrap() = interval.index + 1;
        ready.notify_all();
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let agents: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let intervals: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    // A few distinct recordings, replayed: recording 1000 would measure the recorder.
    let recordings: Vec<StatsWire> = (0..8).map(recorded_interval).collect();
    let message_bytes = serde_json::to_vec(&recordings[0]).unwrap().len();
    let rss_before = peak_rss_mib();

    let (tx, rx) = mpsc::channel::<WorkerReport>();
    // The index of the interval agents may send: bumped when the previous one is merged.
    let released = std::sync::Arc::new((std::sync::Mutex::new(0u32), std::sync::Condvar::new()));
    let decode_ns = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let began = Instant::now();
    let readers: Vec<_> = (0..agents)
        .map(|agent| {
            let tx = tx.clone();
            let text: Vec<Vec<u8>> = recordings
                .iter()
                .map(|w| serde_json::to_vec(w).unwrap())
                .collect();
            let decode_ns = decode_ns.clone();
            let released = released.clone();
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    for index in 0..intervals {
                        let (lock, ready) = &*released;
                        let mut now = lock.lock().unwrap();
                        while *now < index {
                            now = ready.wait(now).unwrap();
                        }
                        drop(now);
                        // What the controller's reader does per message: parse, decode.
                        let t = Instant::now();
                        let wire: StatsWire =
                            serde_json::from_slice(&text[(agent + index as usize) % text.len()])
                                .unwrap();
                        let stats = Stats::from_wire(&wire).unwrap();
                        decode_ns.fetch_add(
                            t.elapsed().as_nanos() as u64,
                            std::sync::atomic::Ordering::Relaxed,
                        );
                        let _ = tx.send(WorkerReport {
                            worker: agent,
                            index,
                            end: Duration::from_secs(u64::from(index) + 1),
                            stats,
                            users_active: 0,
                            connections_open: 50,
                            cpu: Duration::from_millis(u64::from(index) * 900),
                            last: index + 1 == intervals,
                        });
                    }
                })
                .expect("a reader thread per agent")
        })
        .collect();
    drop(tx);
    let mut pace = Pace(released.clone());
    let summary = engine::merge(rx, agents, &mut [&mut pace]);
    let wall = began.elapsed();
    for r in readers {
        r.join().unwrap();
    }
    let messages = agents as u64 * u64::from(intervals);
    println!("agents {agents}, intervals {intervals}, messages {messages}");
    println!(
        "answers merged {} (p99 {} µs)",
        summary.digest.requests, summary.digest.latency_us.p99
    );
    println!("one interval message: {message_bytes} bytes of JSON");
    println!(
        "wall {:.2} s: {:.1} ms per merged interval of {agents} agents",
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1000.0 / f64::from(intervals)
    );
    println!(
        "decode (parse + histogram inflate), summed over threads: {:.0} µs per message",
        decode_ns.load(std::sync::atomic::Ordering::Relaxed) as f64 / messages as f64 / 1000.0
    );
    println!(
        "peak RSS {:.0} MiB (before the agents: {:.0} MiB)",
        peak_rss_mib(),
        rss_before
    );
}
