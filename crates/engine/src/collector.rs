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
    /// CPU time at its latest report. Once it has finished, or died without its final
    /// report, this is all it used, and it counts in every interval after it.
    cpu: Duration,
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

/// Merges the interval reports of `workers` parts (this process's worker threads, or
/// the load agents of a spread run) into whole intervals, fed to `sinks` in order as
/// soon as every part still running has sent its own, and returns the run's summary.
/// A part that stops sending (its sender dropped) holds nothing up once every sender
/// is gone; one that sends a report with `last` set is done.
pub fn collect(
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
    let cpu: Duration = c.workers.iter().map(|s| s.cpu).sum();
    Summary {
        digest: Digest::of(&c.total, c.last_end),
        generator_cpu_percent: percent(cpu, c.last_end),
        generator_threads: workers,
        interrupted: false,
        latency_distribution_us: crate::latency_distribution(&c.total.latency),
        tls_failure: c.total.tls_failure.clone(),
        // The caller knows the path its workers took.
        io: crate::IoPath::default(),
        total: c.total,
        intervals: c.intervals,
    }
}

impl Collector<'_, '_> {
    fn accept(&mut self, report: WorkerReport) {
        let state = &mut self.workers[report.worker];
        state.received = report.index + 1;
        // Kept from every report, not only the final one: a worker that dies sends no
        // final report, and dropping what it used would make the CPU time go backwards.
        state.cpu = report.cpu;
        if report.last {
            state.finished = true;
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
                    .map(|s| s.cpu)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use hdrhistogram::Histogram;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::collect;
    use crate::recorder::{ErrorKind, Recorder, Stats, LATENCY_MAX_US, LATENCY_MIN_US};
    use crate::worker::WorkerReport;
    use crate::{Digest, Interval, Sink, Summary};

    /// Far beyond what any step takes, even on a loaded machine: reaching it means the
    /// collector is stuck, and the test fails instead of hanging.
    const HANG: Duration = Duration::from_secs(30);
    /// How long to wait for an interval between two attempts to hand over a report.
    const POLL: Duration = Duration::from_millis(1);

    /// A report as sent: (worker, interval index, last).
    type Sent = (usize, u32, bool);

    /// What one worker recorded in one interval: the inputs every expectation is
    /// derived from.
    #[derive(Default, Clone)]
    struct Traffic {
        /// (status, latency in µs)
        responses: Vec<(u16, u64)>,
        errors: Vec<ErrorKind>,
        bytes_sent: u64,
        bytes_received: u64,
        /// (connect time in µs, was a reconnect)
        connects: Vec<(u64, bool)>,
        users_started: u64,
        /// Session times in µs.
        sessions: Vec<u64>,
    }

    /// Distinct traffic for every (worker, interval). Each worker has its own latency
    /// scale, so the merged tail comes from one worker and the body from the others:
    /// a merge that averaged percentiles instead of adding histograms would show.
    fn traffic(worker: usize, index: u32) -> Traffic {
        let (w, i) = (worker as u64, u64::from(index));
        let n = 40 + 13 * w + 7 * i;
        Traffic {
            responses: (0..n)
                .map(|k| {
                    let status = match (k + w) % 10 {
                        0 => 503,
                        1 => 404,
                        2 => 302,
                        _ => 200,
                    };
                    (status, (k * k % 997 + 1) * 10u64.pow(worker as u32) + i)
                })
                .collect(),
            errors: (0..=w + i)
                .map(|k| ErrorKind::ALL[((k + 3 * w + i) % ErrorKind::ALL.len() as u64) as usize])
                .collect(),
            bytes_sent: n * 120 + w,
            bytes_received: n * 4096 + i,
            connects: (0..1 + (w + i) % 3)
                .map(|k| (50 + 10 * k + w, k % 2 == 1))
                .collect(),
            users_started: w + i,
            sessions: (0..i).map(|k| 1_000 * (k + 1) + w).collect(),
        }
    }

    impl Traffic {
        /// Recorded the way a worker records, and taken the way it takes a snapshot.
        fn stats(&self) -> Stats {
            let mut r = Recorder::default();
            for &(status, us) in &self.responses {
                r.record_response(status, Duration::from_micros(us));
            }
            for &kind in &self.errors {
                r.record_error(kind);
            }
            r.record_bytes(self.bytes_sent as usize, self.bytes_received as usize);
            for &(us, reconnect) in &self.connects {
                r.record_connect(Duration::from_micros(us), reconnect);
            }
            for _ in 0..self.users_started {
                r.record_user_started();
            }
            for &us in &self.sessions {
                r.record_user_finished(Duration::from_micros(us));
            }
            r.take()
        }

        fn add(&mut self, other: &Traffic) {
            self.responses.extend_from_slice(&other.responses);
            self.errors.extend_from_slice(&other.errors);
            self.bytes_sent += other.bytes_sent;
            self.bytes_received += other.bytes_received;
            self.connects.extend_from_slice(&other.connects);
            self.users_started += other.users_started;
            self.sessions.extend_from_slice(&other.sessions);
        }

        /// A histogram of every latency sample, built apart from the recorder and the
        /// merge, with the recorder's bounds and precision.
        fn latency_histogram(&self) -> Histogram<u64> {
            let mut h = Histogram::new_with_bounds(LATENCY_MIN_US, LATENCY_MAX_US, 3).unwrap();
            for &(_, us) in &self.responses {
                h.record(us).unwrap();
            }
            h
        }
    }

    /// The latest end moves from worker to worker across intervals, so an interval that
    /// took any one worker's end instead of the latest would show.
    fn end_of(worker: usize, index: u32) -> Duration {
        Duration::from_secs(u64::from(index) + 1)
            + Duration::from_micros(((worker as u64 + u64::from(index)) % 3) * 700)
    }

    /// Cumulative, as the thread's CPU clock is; each worker burns at its own pace.
    fn cpu_of(worker: usize, index: u32) -> Duration {
        Duration::from_millis((u64::from(index) + 1) * (150 + 40 * worker as u64))
    }

    fn users_of(worker: usize, index: u32) -> u64 {
        3 * worker as u64 + u64::from(index) + 1
    }

    fn connections_of(worker: usize, index: u32) -> u64 {
        100 * (worker as u64 + 1) + u64::from(index)
    }

    fn report(worker: usize, index: u32, last: bool) -> WorkerReport {
        WorkerReport {
            worker,
            index,
            end: end_of(worker, index),
            stats: traffic(worker, index).stats(),
            users_active: users_of(worker, index),
            connections_open: connections_of(worker, index),
            cpu: cpu_of(worker, index),
            last,
        }
    }

    /// Hands each interval to the test and waits until the test has taken it, so the
    /// collector cannot emit anything the test has not seen before its next report.
    struct Recording(SyncSender<(Interval, Stats)>);

    impl Sink for Recording {
        fn on_interval(&mut self, interval: &Interval, stats: &Stats) {
            // A test that is gone has already failed; the collector need not wait for it.
            let _ = self.0.send((interval.clone(), stats.clone()));
        }
    }

    struct Emitted {
        interval: Interval,
        stats: Stats,
        /// Reports the collector had taken when it emitted this interval: it was
        /// emitted because of them, and before the next one.
        reports_taken: usize,
    }

    /// `collect` on its own thread, fed one report at a time in lockstep.
    struct Run {
        /// One sender per worker, as in a real run: dropping it is the worker dying.
        senders: Vec<Option<SyncSender<WorkerReport>>>,
        emitted_rx: Receiver<(Interval, Stats)>,
        collector: JoinHandle<Summary>,
        reports_taken: usize,
        emitted: Vec<Emitted>,
    }

    impl Run {
        fn start(workers: usize) -> Run {
            // Zero capacity on both channels: a report is handed over only when the
            // collector asks for the next one, i.e. has finished with the previous one
            // and has had every interval it emitted taken by the test. So each
            // interval is attributed to exactly the reports that released it.
            let (tx, rx) = mpsc::sync_channel(0);
            let (sink_tx, emitted_rx) = mpsc::sync_channel(0);
            let collector = std::thread::spawn(move || {
                let mut sink = Recording(sink_tx);
                collect(rx, workers, &mut [&mut sink])
            });
            Run {
                senders: vec![Some(tx); workers],
                emitted_rx,
                collector,
                reports_taken: 0,
                emitted: Vec::new(),
            }
        }

        fn send(&mut self, report: WorkerReport) {
            let tx = self.senders[report.worker]
                .as_ref()
                .expect("only a live worker reports");
            let deadline = Instant::now() + HANG;
            let mut report = report;
            loop {
                match tx.try_send(report) {
                    Ok(()) => break,
                    Err(TrySendError::Full(r)) => report = r,
                    Err(TrySendError::Disconnected(_)) => {
                        panic!("the collector stopped taking reports")
                    }
                }
                // Still busy with the previous report: what it emits now, it emits because
                // of the reports taken so far.
                match self.emitted_rx.recv_timeout(POLL) {
                    Ok((interval, stats)) => self.emitted.push(Emitted {
                        interval,
                        stats,
                        reports_taken: self.reports_taken,
                    }),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => panic!("the collector ended early"),
                }
                assert!(
                    Instant::now() < deadline,
                    "the collector took no report for {HANG:?}"
                );
            }
            self.reports_taken += 1;
        }

        fn send_all(&mut self, order: &[Sent]) {
            for &(worker, index, last) in order {
                self.send(report(worker, index, last));
            }
        }

        /// The worker's thread ends without its last report.
        fn die(&mut self, worker: usize) {
            self.senders[worker] = None;
        }

        /// Drops every sender left and waits, bounded, for `collect` to return.
        fn finish(mut self) -> (Summary, Vec<Emitted>) {
            self.senders.clear();
            let deadline = Instant::now() + HANG;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.emitted_rx.recv_timeout(left) {
                    Ok((interval, stats)) => self.emitted.push(Emitted {
                        interval,
                        stats,
                        reports_taken: self.reports_taken,
                    }),
                    // The sink goes only when `collect` has returned.
                    Err(RecvTimeoutError::Disconnected) => break,
                    Err(RecvTimeoutError::Timeout) => {
                        panic!("collect did not return within {HANG:?} of its last sender going")
                    }
                }
            }
            let summary = self
                .collector
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (summary, self.emitted)
        }
    }

    /// Sends `(worker, index, last)` reports in this order, then lets every worker go.
    fn run(workers: usize, order: &[Sent]) -> (Summary, Vec<Emitted>) {
        let mut run = Run::start(workers);
        run.send_all(order);
        run.finish()
    }

    /// A worker's reports for intervals `0..intervals`, the last one flagged `last`.
    fn full_reports(worker: usize, intervals: u32) -> impl Iterator<Item = Sent> {
        (0..intervals).map(move |i| (worker, i, i + 1 == intervals))
    }

    /// What `digest` and `stats` must say about exactly `traffic`.
    fn assert_describes(digest: &Digest, stats: &Stats, traffic: &Traffic, what: &str) {
        let responses = traffic.responses.len() as u64;
        let connects = traffic.connects.len() as u64;
        let reconnects = traffic.connects.iter().filter(|c| c.1).count() as u64;
        let sessions = traffic.sessions.len() as u64;
        // (what, collected, sent): a counter added to Digest or Stats gets one row here.
        let counts = [
            ("latency samples", stats.latency.len(), responses),
            ("requests", digest.requests, responses),
            (
                "errors total",
                digest.errors_total,
                traffic.errors.len() as u64,
            ),
            ("bytes sent", digest.bytes_sent, traffic.bytes_sent),
            (
                "bytes received",
                digest.bytes_received,
                traffic.bytes_received,
            ),
            ("connects", digest.connections_opened, connects),
            ("reconnects", digest.reconnects, reconnects),
            ("connect samples", stats.connect.len(), connects),
            ("users started", digest.users_started, traffic.users_started),
            ("users finished", digest.users_finished, sessions),
            ("session samples", stats.session.len(), sessions),
        ];
        for (count, collected, sent) in counts {
            assert_eq!(collected, sent, "{what}: {count}");
        }

        let reference = traffic.latency_histogram();
        assert!(stats.latency == reference, "{what}: latency histogram");
        let l = &digest.latency_us;
        for (got, q) in [(l.p50, 0.5), (l.p90, 0.9), (l.p99, 0.99), (l.p999, 0.999)] {
            assert_eq!(
                got,
                reference.value_at_quantile(q),
                "{what}: p{}",
                q * 100.0
            );
        }
        assert_eq!(l.max, reference.max(), "{what}: max latency");
        assert_eq!(l.min, reference.min(), "{what}: min latency");
        let sum: u64 = traffic.responses.iter().map(|r| r.1).sum();
        assert_eq!(
            l.mean,
            sum as f64 / traffic.responses.len() as f64,
            "{what}: mean latency"
        );

        let mut status = BTreeMap::new();
        for (code, _) in &traffic.responses {
            *status.entry(code.to_string()).or_insert(0) += 1;
        }
        assert_eq!(digest.status, status, "{what}: status codes");
        let mut errors = BTreeMap::new();
        for kind in &traffic.errors {
            *errors.entry(kind.name().to_string()).or_insert(0) += 1;
        }
        assert_eq!(digest.errors, errors, "{what}: errors");
    }

    /// Every emitted interval describes exactly what `order` reported for it.
    fn assert_each_interval_describes(emitted: &[Emitted], order: &[Sent]) {
        for e in emitted {
            let index = e.interval.index;
            assert_describes(
                &e.interval.digest,
                &e.stats,
                &traffic_of_interval(order, index),
                &format!("interval {index}"),
            );
        }
    }

    /// The summary describes exactly everything `order` reported.
    fn assert_run_describes(summary: &Summary, order: &[Sent]) {
        assert_describes(
            &summary.digest,
            &summary.total,
            &traffic_of_run(order),
            "run",
        );
    }

    /// The traffic of every report in `order` for interval `index`.
    fn traffic_of_interval(order: &[Sent], index: u32) -> Traffic {
        let mut t = Traffic::default();
        for &(w, i, _) in order.iter().filter(|r| r.1 == index) {
            t.add(&traffic(w, i));
        }
        t
    }

    fn traffic_of_run(order: &[Sent]) -> Traffic {
        let mut t = Traffic::default();
        for &(w, i, _) in order {
            t.add(&traffic(w, i));
        }
        t
    }

    fn indices(emitted: &[Emitted]) -> Vec<u32> {
        emitted.iter().map(|e| e.interval.index).collect()
    }

    fn reports_taken(emitted: &[Emitted]) -> Vec<usize> {
        emitted.iter().map(|e| e.reports_taken).collect()
    }

    /// How many reports must have been handed over before each interval comes out:
    /// every worker still going has reported it, and the interval before it is out.
    /// A worker that finished (`last`) at a lower index owes nothing more.
    fn released_after(order: &[Sent], workers: usize, intervals: u32) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for index in 0..intervals {
            let owed = (0..workers).map(|w| {
                let mine = || order.iter().enumerate().filter(move |(_, r)| r.0 == w);
                match mine().find(|(_, r)| r.1 == index) {
                    Some((at, _)) => at + 1,
                    None => {
                        assert!(
                            mine().any(|(_, r)| r.2 && r.1 < index),
                            "worker {w} owes {index}"
                        );
                        0
                    }
                }
            });
            let whole = owed.max().unwrap_or(0);
            out.push(whole.max(out.last().copied().unwrap_or(0)));
        }
        out
    }

    fn assert_close(got: f64, expected: f64, what: &str) {
        assert!(
            (got - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{what}: got {got}, expected {expected}"
        );
    }

    fn percent(cpu: Duration, wall: Duration) -> f64 {
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    }

    /// The generator's CPU clock at the end of interval `index`: every worker's CPU
    /// time at its latest report up to then, whether it is still going, finished or
    /// died (its clock stopped, but what it used stays used).
    fn generator_cpu_at(order: &[Sent], workers: usize, index: u32) -> Duration {
        (0..workers)
            .filter_map(|w| {
                order
                    .iter()
                    .filter(|r| r.0 == w && r.1 <= index)
                    .map(|r| r.1)
                    .max()
                    .map(|latest| cpu_of(w, latest))
            })
            .sum()
    }

    fn end_at(order: &[Sent], index: u32) -> Duration {
        order
            .iter()
            .filter(|r| r.1 == index)
            .map(|r| end_of(r.0, r.1))
            .max()
            .expect("someone reported the interval")
    }

    /// Interval by interval, the CPU percent is the generator's CPU time added during
    /// the interval over the wall time it spans; the summary's, all of it over the run.
    fn assert_cpu_percent(order: &[Sent], workers: usize, summary: &Summary) {
        let mut before = (Duration::ZERO, Duration::ZERO);
        for interval in &summary.intervals {
            let now = (
                generator_cpu_at(order, workers, interval.index),
                end_at(order, interval.index),
            );
            assert_close(
                interval.generator_cpu_percent,
                percent(now.0 - before.0, now.1 - before.1),
                &format!("interval {} CPU percent", interval.index),
            );
            before = now;
        }
        assert_close(
            summary.generator_cpu_percent,
            percent(before.0, before.1),
            "run CPU percent",
        );
    }

    /// Worker 2's interval 1 comes before worker 0's interval 0, and the workers take
    /// turns out of step, as threads do.
    const SCRAMBLED: [Sent; 9] = [
        (2, 0, false),
        (2, 1, false),
        (1, 0, false),
        (0, 0, false),
        (1, 1, false),
        (2, 2, true),
        (0, 1, false),
        (0, 2, true),
        (1, 2, true),
    ];

    #[test]
    fn each_interval_is_the_exact_sum_of_the_workers_reports_for_it() {
        let (_, emitted) = run(3, &SCRAMBLED);
        assert_eq!(indices(&emitted), [0, 1, 2], "emitted in order, once each");
        assert_each_interval_describes(&emitted, &SCRAMBLED);
    }

    #[test]
    fn the_summary_is_the_exact_sum_of_its_intervals() {
        let (summary, emitted) = run(3, &SCRAMBLED);
        assert_eq!(indices(&emitted), [0, 1, 2]);
        let summary_indices: Vec<u32> = summary.intervals.iter().map(|i| i.index).collect();
        assert_eq!(
            summary_indices,
            indices(&emitted),
            "the summary keeps what the sinks got"
        );
        assert_eq!(summary.generator_threads, 3);
        assert_run_describes(&summary, &SCRAMBLED);

        let mut summed = Stats::default();
        for e in &emitted {
            summed.add(&e.stats);
        }
        assert!(
            summed.latency == summary.total.latency,
            "run histogram = sum of intervals'"
        );
        let digests = || summary.intervals.iter().map(|i| &i.digest);
        type Counter = fn(&Digest) -> u64;
        let counters: [(&str, Counter); 4] = [
            ("requests", |d| d.requests),
            ("errors total", |d| d.errors_total),
            ("bytes sent", |d| d.bytes_sent),
            ("bytes received", |d| d.bytes_received),
        ];
        for (name, counter) in counters {
            assert_eq!(
                counter(&summary.digest),
                digests().map(counter).sum::<u64>(),
                "{name}"
            );
        }
        let mut status: BTreeMap<String, u64> = BTreeMap::new();
        for d in digests() {
            for (code, n) in &d.status {
                *status.entry(code.clone()).or_default() += n;
            }
        }
        assert_eq!(summary.digest.status, status);
        let last = summary.intervals.last().unwrap();
        assert_eq!(
            summary.digest.duration_s, last.t_s,
            "the run lasts until its last interval's end"
        );
    }

    #[test]
    fn an_interval_is_emitted_once_its_last_live_worker_reports_it_and_not_before() {
        let mut orders = vec![SCRAMBLED.to_vec()];
        // Random interleavings of three workers' reports, each worker's in its own order.
        let mut rng = SmallRng::seed_from_u64(0x5eed);
        for _ in 0..20 {
            let mut next = [0u32; 3];
            let mut order = Vec::new();
            while order.len() < 9 {
                let w = rng.gen_range(0..3);
                if next[w] < 3 {
                    order.push((w, next[w], next[w] == 2));
                    next[w] += 1;
                }
            }
            orders.push(order);
        }
        for order in orders {
            let (summary, emitted) = run(3, &order);
            assert_eq!(indices(&emitted), [0, 1, 2], "order {order:?}");
            assert_eq!(
                reports_taken(&emitted),
                released_after(&order, 3, 3),
                "reports taken at each emission, order {order:?}"
            );
            assert_eq!(summary.intervals.len(), 3);
        }
    }

    /// Worker 1 dies after interval 0, without its last report, while 0 and 2 go on to
    /// interval 2. Returns what was sent, how many reports came before the death, and
    /// the run.
    fn run_with_a_death() -> (Vec<Sent>, usize, Summary, Vec<Emitted>) {
        let mut run = Run::start(3);
        let mut sent = Vec::new();
        for w in 0..3 {
            run.send(report(w, 0, false));
            sent.push((w, 0, false));
        }
        let before_death = sent.len();
        run.die(1);
        for r in [(0, 1, false), (2, 1, false), (0, 2, true), (2, 2, true)] {
            run.send(report(r.0, r.1, r.2));
            sent.push(r);
        }
        let (summary, emitted) = run.finish();
        (sent, before_death, summary, emitted)
    }

    #[test]
    fn a_worker_that_dies_without_its_last_report_holds_back_nothing_once_every_sender_is_gone() {
        let (sent, before_death, summary, emitted) = run_with_a_death();
        assert_eq!(indices(&emitted), [0, 1, 2], "emitted in order, once each");
        assert_eq!(
            emitted[0].reports_taken, before_death,
            "interval 0 was whole before the death"
        );
        for e in &emitted[1..] {
            // Nothing tells the collector that worker 1 died but its sender going.
            assert_eq!(
                e.reports_taken,
                sent.len(),
                "interval {} waited for worker 1",
                e.interval.index
            );
        }
        assert_each_interval_describes(&emitted, &sent);
        assert_run_describes(&summary, &sent);
    }

    #[test]
    fn a_dead_workers_cpu_time_up_to_its_last_report_still_counts() {
        let (sent, _, summary, _) = run_with_a_death();
        assert_cpu_percent(&sent, 3, &summary);
    }

    #[test]
    fn a_worker_that_dies_before_its_first_report_does_not_stop_the_others() {
        let order: Vec<_> = full_reports(0, 2).chain(full_reports(2, 2)).collect();
        let mut run = Run::start(3);
        run.die(1);
        run.send_all(&order);
        let (summary, emitted) = run.finish();
        assert_eq!(indices(&emitted), [0, 1]);
        assert_run_describes(&summary, &order);
    }

    #[test]
    fn a_worker_that_finishes_early_owes_nothing_and_its_final_cpu_time_keeps_counting() {
        // Worker 0 ends at interval 0 while the others go on for three.
        let order: Vec<_> = [(0, 0, true)]
            .into_iter()
            .chain(
                full_reports(1, 3)
                    .zip(full_reports(2, 3))
                    .flat_map(|(a, b)| [a, b]),
            )
            .collect();
        let (summary, emitted) = run(3, &order);
        assert_eq!(indices(&emitted), [0, 1, 2]);
        assert_eq!(
            reports_taken(&emitted),
            released_after(&order, 3, 3),
            "no interval waits for worker 0"
        );
        assert_each_interval_describes(&emitted, &order);
        assert_cpu_percent(&order, 3, &summary);
    }

    #[test]
    fn users_and_connections_are_summed_over_the_workers() {
        let (summary, _) = run(3, &SCRAMBLED);
        for interval in &summary.intervals {
            let reports = || SCRAMBLED.iter().filter(|r| r.1 == interval.index);
            let users: u64 = reports().map(|r| users_of(r.0, r.1)).sum();
            let connections: u64 = reports().map(|r| connections_of(r.0, r.1)).sum();
            assert_eq!(interval.users_active, users, "interval {}", interval.index);
            assert_eq!(
                interval.connections_open, connections,
                "interval {}",
                interval.index
            );
        }
    }

    #[test]
    fn an_interval_ends_at_its_latest_workers_end_and_starts_where_the_previous_one_ended() {
        let (summary, _) = run(3, &SCRAMBLED);
        let mut start = Duration::ZERO;
        for interval in &summary.intervals {
            let end = end_at(&SCRAMBLED, interval.index);
            assert_eq!(
                interval.t_s,
                end.as_secs_f64(),
                "interval {} end",
                interval.index
            );
            assert_eq!(
                interval.start_s,
                start.as_secs_f64(),
                "interval {} start",
                interval.index
            );
            assert_eq!(interval.digest.duration_s, (end - start).as_secs_f64());
            start = end;
        }
    }

    #[test]
    fn generator_cpu_percent_is_the_cpu_time_used_over_the_wall_time_elapsed() {
        let (summary, _) = run(3, &SCRAMBLED);
        assert_cpu_percent(&SCRAMBLED, 3, &summary);
    }
}
