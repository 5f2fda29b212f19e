//! The collector: merges the workers' interval reports exactly and passes each whole
//! interval to the sinks as soon as every worker has reported it.

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use crate::recorder::Stats;
use crate::worker::WorkerReport;
use crate::{Digest, Interval, Sink, Summary};

/// What the collector knows of one worker.
#[derive(Default, Clone, Copy)]
struct WorkerState {
    /// Reports received so far (the next expected index).
    received: u32,
    finished: bool,
    /// CPU time at its final report, counted in every interval after it finished.
    final_cpu: Duration,
}

#[derive(Default)]
struct Pending {
    stats: Stats,
    end: Duration,
    users_active: u64,
    connections_open: u64,
    cpu: Duration,
}

struct Collector<'a, 'b> {
    workers: Vec<WorkerState>,
    pending: BTreeMap<u32, Pending>,
    next: u32,
    total: Stats,
    intervals: Vec<Interval>,
    last_end: Duration,
    last_cpu: Duration,
    sinks: &'a mut [&'b mut dyn Sink],
}

pub(crate) fn collect(
    reports: Receiver<WorkerReport>,
    workers: usize,
    sinks: &mut [&mut dyn Sink],
) -> Summary {
    let mut c = Collector {
        workers: vec![WorkerState::default(); workers],
        pending: BTreeMap::new(),
        next: 0,
        total: Stats::default(),
        intervals: Vec::new(),
        last_end: Duration::ZERO,
        last_cpu: Duration::ZERO,
        sinks,
    };
    // Every sender gone ends the loop, even if a worker died without its last report.
    while let Ok(report) = reports.recv() {
        c.accept(report);
        c.emit_ready();
    }
    // A worker that died owes nothing more: what the others measured is still emitted.
    for w in &mut c.workers {
        w.finished = true;
    }
    c.emit_ready();
    let cpu: Duration = c.workers.iter().map(|s| s.final_cpu).sum();
    Summary {
        digest: Digest::of(&c.total, c.last_end),
        generator_cpu_percent: percent(cpu, c.last_end),
        generator_threads: workers,
        interrupted: false,
        latency_distribution_us: crate::latency_distribution(&c.total.latency),
        total: c.total,
        intervals: c.intervals,
    }
}

impl Collector<'_, '_> {
    fn accept(&mut self, report: WorkerReport) {
        let state = &mut self.workers[report.worker];
        state.received = report.index + 1;
        if report.last {
            state.finished = true;
            state.final_cpu = report.cpu;
        }
        let slot = self.pending.entry(report.index).or_default();
        slot.stats.add(&report.stats);
        slot.end = slot.end.max(report.end);
        slot.users_active += report.users_active;
        slot.connections_open += report.connections_open;
        slot.cpu += report.cpu;
    }

    /// Emits, in order, every interval that no live worker still owes.
    fn emit_ready(&mut self) {
        loop {
            let next = self.next;
            if self
                .workers
                .iter()
                .any(|s| !s.finished && s.received <= next)
            {
                return;
            }
            let Some(ready) = self.pending.remove(&next) else {
                return;
            };
            // Workers that finished before this interval still count their CPU time.
            let cpu_now = ready.cpu
                + self
                    .workers
                    .iter()
                    .filter(|s| s.finished && s.received <= next)
                    .map(|s| s.final_cpu)
                    .sum::<Duration>();
            let wall = ready.end.saturating_sub(self.last_end);
            let interval = Interval {
                index: next,
                t_s: ready.end.as_secs_f64(),
                start_s: self.last_end.as_secs_f64(),
                users_active: ready.users_active,
                connections_open: ready.connections_open,
                generator_cpu_percent: percent(cpu_now.saturating_sub(self.last_cpu), wall),
                digest: Digest::of(&ready.stats, wall),
            };
            for sink in self.sinks.iter_mut() {
                sink.on_interval(&interval, &ready.stats);
            }
            self.total.add(&ready.stats);
            self.last_end = ready.end;
            self.last_cpu = cpu_now;
            self.next += 1;
            self.intervals.push(interval);
        }
    }
}

fn percent(cpu: Duration, wall: Duration) -> f64 {
    if wall.is_zero() {
        0.0
    } else {
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    }
}
