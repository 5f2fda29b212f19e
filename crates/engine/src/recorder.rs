//! What a worker records, and the snapshots it hands over once per interval.
//!
//! A [`Recorder`] belongs to one worker thread: recording is a few additions into
//! fixed-size arrays and pre-sized HdrHistograms, with no lock, no atomic and no
//! allocation. Once per interval the worker takes a [`Stats`] out of it (the only
//! allocation: cloning the histograms) and sends it to the collector, which merges
//! workers exactly with [`Stats::add`] (histogram `add`, never averaged percentiles).

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Lowest and highest recordable latency, in microseconds (1 µs to 60 s); values above
/// are clamped to the top instead of being dropped, so a stalled request still counts.
pub const LATENCY_MIN_US: u64 = 1;
pub const LATENCY_MAX_US: u64 = 60_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// Status codes are counted in a flat array indexed by the code: cheaper than a map.
const STATUS_SLOTS: usize = 600;

/// Every way a request can fail without an HTTP status. Each is counted apart, because
/// "the server reset the connection" and "the server is slow" call for different fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Nothing listens on the port (ECONNREFUSED).
    ConnectRefused,
    /// The TCP handshake, or the TLS handshake after it, did not finish within the
    /// connect timeout.
    ConnectTimeout,
    /// The server's certificate was refused: unknown issuer, wrong name, expired, ...
    /// The run keeps the first such failure's words ([`Stats::tls_failure`]).
    TlsCertificate,
    /// The TLS handshake failed otherwise: an alert from the server, no common version
    /// or cipher, bytes that are not TLS, a close in the middle.
    TlsHandshake,
    /// The answer did not complete within the response timeout.
    ResponseTimeout,
    /// The server reset the connection (ECONNRESET, EPIPE).
    Reset,
    /// The connection closed before any byte of the answer arrived.
    ClosedBeforeResponse,
    /// The connection closed in the middle of the status line, headers or a chunked body.
    ClosedMidResponse,
    /// The bytes are not an HTTP/1.x response (bad status line, header, chunk size).
    Malformed,
    /// The connection closed before the body reached its Content-Length.
    BodyLengthMismatch,
    /// Any other socket error (out of ports, no route, ...).
    Io,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::ConnectRefused,
        ErrorKind::ConnectTimeout,
        ErrorKind::TlsCertificate,
        ErrorKind::TlsHandshake,
        ErrorKind::ResponseTimeout,
        ErrorKind::Reset,
        ErrorKind::ClosedBeforeResponse,
        ErrorKind::ClosedMidResponse,
        ErrorKind::Malformed,
        ErrorKind::BodyLengthMismatch,
        ErrorKind::Io,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ConnectRefused => "connect_refused",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::TlsCertificate => "tls_certificate",
            ErrorKind::TlsHandshake => "tls_handshake",
            ErrorKind::ResponseTimeout => "response_timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::ClosedBeforeResponse => "closed_before_response",
            ErrorKind::ClosedMidResponse => "closed_mid_response",
            ErrorKind::Malformed => "malformed_response",
            ErrorKind::BodyLengthMismatch => "body_length_mismatch",
            ErrorKind::Io => "io",
        }
    }

    /// Whether the connection is unusable after this error and must be reopened.
    /// The connect-time kinds had no connection to break.
    pub fn breaks_connection(self) -> bool {
        !matches!(
            self,
            ErrorKind::ConnectRefused
                | ErrorKind::ConnectTimeout
                | ErrorKind::TlsCertificate
                | ErrorKind::TlsHandshake
        )
    }
}

/// Counters and histograms for one interval (or, merged, one whole run).
#[derive(Debug, Clone)]
pub struct Stats {
    /// Request latency in µs, from the send (closed, sessions) or the planned instant (open).
    pub latency: Histogram<u64>,
    /// Sum and sum of squares of the latencies, for an exact mean and stddev (Tsung's
    /// fields); the histogram's own mean is bucketed.
    pub latency_sum_us: u128,
    pub latency_sum_sq_us: u128,
    /// TCP connect time in µs, one sample per connection opened.
    pub connect: Histogram<u64>,
    /// Whole-session time in µs, one sample per finished virtual user.
    pub session: Histogram<u64>,
    status: Box<[u64; STATUS_SLOTS]>,
    errors: [u64; ErrorKind::ALL.len()],
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub connections_opened: u64,
    /// Reconnections forced by the server (Connection: close or an unexpected close).
    pub reconnects: u64,
    pub users_started: u64,
    pub users_finished: u64,
    /// `<match>` rules tested on answers, found and not found (Tsung's `match` and
    /// `nomatch` counters).
    pub matches: u64,
    pub nomatches: u64,
    /// The words of the first TLS handshake failure (rustls's, e.g. "invalid peer
    /// certificate: UnknownIssuer"): the counts say how many failed, this says why.
    /// Kept through merges, so a run, even one spread over agents, has one.
    pub tls_failure: Option<String>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LATENCY_MIN_US, LATENCY_MAX_US, SIGNIFICANT_DIGITS)
        .expect("static histogram bounds are valid")
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            latency: histogram(),
            latency_sum_us: 0,
            latency_sum_sq_us: 0,
            connect: histogram(),
            session: histogram(),
            status: Box::new([0; STATUS_SLOTS]),
            errors: [0; ErrorKind::ALL.len()],
            bytes_sent: 0,
            bytes_received: 0,
            connections_opened: 0,
            reconnects: 0,
            users_started: 0,
            users_finished: 0,
            matches: 0,
            nomatches: 0,
            tls_failure: None,
        }
    }
}

impl Stats {
    /// Completed requests: answers with a status line, whatever the status.
    pub fn requests(&self) -> u64 {
        self.status.iter().sum()
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    pub fn error_count(&self, kind: ErrorKind) -> u64 {
        self.errors[kind as usize]
    }

    /// `(kind, count)` for every kind seen at least once.
    pub fn errors(&self) -> impl Iterator<Item = (ErrorKind, u64)> + '_ {
        ErrorKind::ALL
            .iter()
            .map(|k| (*k, self.errors[*k as usize]))
            .filter(|(_, n)| *n > 0)
    }

    /// `(status code, count)` for every code seen at least once, ascending.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (c as u16, *n))
    }

    /// Answers whose status is not 2xx or 3xx.
    pub fn non_success(&self) -> u64 {
        self.statuses()
            .filter(|(c, _)| !(200..400).contains(c))
            .map(|(_, n)| n)
            .sum()
    }

    /// Exact mean latency in µs (0 when nothing completed).
    pub fn latency_mean_us(&self) -> f64 {
        let n = self.latency.len();
        if n == 0 {
            return 0.0;
        }
        self.latency_sum_us as f64 / n as f64
    }

    /// Exact population standard deviation of the latency in µs.
    pub fn latency_stddev_us(&self) -> f64 {
        let n = self.latency.len() as f64;
        if n == 0.0 {
            return 0.0;
        }
        let mean = self.latency_sum_us as f64 / n;
        (self.latency_sum_sq_us as f64 / n - mean * mean)
            .max(0.0)
            .sqrt()
    }

    /// Merges another worker's or interval's stats into this one, exactly.
    pub fn add(&mut self, other: &Stats) {
        // Both histograms share the same bounds, so `add` cannot fail.
        self.latency
            .add(&other.latency)
            .expect("same histogram bounds");
        self.connect
            .add(&other.connect)
            .expect("same histogram bounds");
        self.session
            .add(&other.session)
            .expect("same histogram bounds");
        self.latency_sum_us += other.latency_sum_us;
        self.latency_sum_sq_us += other.latency_sum_sq_us;
        for (a, b) in self.status.iter_mut().zip(other.status.iter()) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(other.errors.iter()) {
            *a += b;
        }
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.connections_opened += other.connections_opened;
        self.reconnects += other.reconnects;
        self.users_started += other.users_started;
        self.users_finished += other.users_finished;
        self.matches += other.matches;
        self.nomatches += other.nomatches;
        if self.tls_failure.is_none() {
            self.tls_failure.clone_from(&other.tls_failure);
        }
    }

    /// Counts `n` answers with status `code`; `None` for a code no answer can have.
    pub(crate) fn add_status(&mut self, code: u16, n: u64) -> Option<()> {
        *self.status.get_mut(usize::from(code))? += n;
        Some(())
    }

    pub(crate) fn add_errors(&mut self, kind: ErrorKind, n: u64) {
        self.errors[kind as usize] += n;
    }

    fn reset(&mut self) {
        self.latency.reset();
        self.connect.reset();
        self.session.reset();
        self.latency_sum_us = 0;
        self.latency_sum_sq_us = 0;
        self.status.fill(0);
        self.errors.fill(0);
        self.bytes_sent = 0;
        self.bytes_received = 0;
        self.connections_opened = 0;
        self.reconnects = 0;
        self.users_started = 0;
        self.users_finished = 0;
        self.matches = 0;
        self.nomatches = 0;
        self.tls_failure = None;
    }
}

/// A worker's recording side: the hot path calls only the `record_*` methods.
#[derive(Debug, Default)]
pub struct Recorder {
    current: Stats,
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(LATENCY_MIN_US, LATENCY_MAX_US)
}

impl Recorder {
    pub fn record_response(&mut self, status: u16, latency: Duration) {
        let us = micros(latency);
        self.current.latency.saturating_record(us);
        self.current.latency_sum_us += us as u128;
        self.current.latency_sum_sq_us += (us as u128) * (us as u128);
        // Codes outside 100..=599 are refused by the parser, so the index is in range.
        self.current.status[usize::from(status).min(STATUS_SLOTS - 1)] += 1;
    }

    pub fn record_error(&mut self, kind: ErrorKind) {
        self.current.errors[kind as usize] += 1;
    }

    /// Keeps the words of a failed handshake, if none were kept this interval.
    pub fn record_tls_failure(&mut self, words: String) {
        if self.current.tls_failure.is_none() {
            self.current.tls_failure = Some(words);
        }
    }

    pub fn record_connect(&mut self, took: Duration, reconnect: bool) {
        self.current.connect.saturating_record(micros(took));
        self.current.connections_opened += 1;
        if reconnect {
            self.current.reconnects += 1;
        }
    }

    pub fn record_bytes(&mut self, sent: usize, received: usize) {
        self.current.bytes_sent += sent as u64;
        self.current.bytes_received += received as u64;
    }

    pub fn record_match(&mut self, found: bool) {
        if found {
            self.current.matches += 1;
        } else {
            self.current.nomatches += 1;
        }
    }

    pub fn record_user_started(&mut self) {
        self.current.users_started += 1;
    }

    pub fn record_user_finished(&mut self, session_time: Duration) {
        self.current.users_finished += 1;
        self.current.session.saturating_record(micros(session_time));
    }

    /// Counters for the live progress line, read without taking a snapshot.
    pub fn completed_and_errors(&self) -> (u64, u64) {
        (self.current.latency.len(), self.current.errors_total())
    }

    /// Hands over everything recorded since the last snapshot and starts afresh.
    pub fn take(&mut self) -> Stats {
        let out = self.current.clone();
        self.current.reset();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_exact() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 1..=1000u64 {
            a.record_response(200, Duration::from_micros(i));
            b.record_response(503, Duration::from_micros(i + 1000));
        }
        b.record_error(ErrorKind::Reset);
        let mut merged = a.take();
        merged.add(&b.take());
        assert_eq!(merged.requests(), 2000);
        assert_eq!(merged.non_success(), 1000);
        assert_eq!(merged.error_count(ErrorKind::Reset), 1);
        assert_eq!(merged.latency_mean_us(), 1000.5);
        let p50 = merged.latency.value_at_quantile(0.5);
        assert!((999..=1001).contains(&p50), "p50 {p50}");
        // take() leaves the recorder empty.
        assert_eq!(a.take().requests(), 0);
    }

    #[test]
    fn stalls_beyond_the_top_are_clamped_not_lost() {
        let mut r = Recorder::default();
        r.record_response(200, Duration::from_secs(600));
        let s = r.take();
        assert_eq!(s.latency.len(), 1);
        assert!(s.latency.max() >= LATENCY_MAX_US - LATENCY_MAX_US / 1000);
    }
}
