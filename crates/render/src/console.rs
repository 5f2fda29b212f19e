//! The end-of-run summary for a terminal, in the spirit of wrk's: totals, latency
//! distribution, status codes, errors by kind, and the generator's own CPU use.

use std::fmt::Write;

use engine::Summary;

/// Formats microseconds with a unit a person reads at a glance.
pub fn duration_us(us: f64) -> String {
    if us >= 1_000_000.0 {
        format!("{:.2}s", us / 1_000_000.0)
    } else if us >= 1000.0 {
        format!("{:.2}ms", us / 1000.0)
    } else {
        format!("{us:.0}µs")
    }
}

pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", n / (1024.0 * 1024.0 * 1024.0))
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", n / (1024.0 * 1024.0))
    } else if n >= 1024.0 {
        format!("{:.2} KiB", n / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// The summary block printed after a run.
pub fn summary(s: &Summary) -> String {
    let d = &s.digest;
    let l = &d.latency_us;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  Requests    {} in {:.2}s, {:.1} req/s{}",
        d.requests,
        d.duration_s,
        d.rps,
        if s.interrupted { " (interrupted)" } else { "" }
    );
    let _ = writeln!(
        out,
        "  Transfer    {} received, {} sent",
        bytes(d.bytes_received),
        bytes(d.bytes_sent)
    );
    if d.requests > 0 {
        let _ = writeln!(
            out,
            "  Latency     mean {}  stdev {}",
            duration_us(l.mean),
            duration_us(l.stdev)
        );
        let _ = writeln!(
            out,
            "              p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            duration_us(l.p50 as f64),
            duration_us(l.p90 as f64),
            duration_us(l.p99 as f64),
            duration_us(l.p999 as f64),
            duration_us(l.max as f64)
        );
    }
    let status: Vec<String> = d.status.iter().map(|(c, n)| format!("{c}: {n}")).collect();
    let _ = writeln!(
        out,
        "  Status      {}",
        if status.is_empty() {
            "none".into()
        } else {
            status.join(", ")
        }
    );
    let errors: Vec<String> = d.errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let _ = writeln!(
        out,
        "  Errors      {}",
        if errors.is_empty() {
            "none".into()
        } else {
            errors.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "  Connections {} opened, {} reopened after a close",
        d.connections_opened, d.reconnects
    );
    if d.users_started > 0 {
        let _ = writeln!(
            out,
            "  Users       {} started, {} finished",
            d.users_started, d.users_finished
        );
    }
    let _ = writeln!(
        out,
        "  Generator   {:.0}% CPU over {} worker thread(s), {}",
        s.generator_cpu_percent,
        s.generator_threads,
        s.io.name()
    );
    if s.generator_bound() {
        let _ = writeln!(
            out,
            "  WARNING     the generator used over 90% of its cores: results may be limited by the generator, not the server"
        );
    }
    out
}
