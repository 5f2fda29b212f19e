//! Tsung's JSON statistics log (`backend="json"`), written from wsgibench's intervals.
//!
//! People who ran Tsung have tools that read its `tsung.log` (plots, spreadsheets, the
//! original benchmark's scripts), so [`TsungLog`] writes the same layout with the same
//! sample names and fields, only from wsgibench's measurements:
//!
//! ```text
//! {
//!  "stats": [
//!  {"timestamp": 1795607233, "samples": []},
//!  {"timestamp": 1795607243, "samples": [{"name": "users", "value": 19, "max": 19}, ...]}]}
//! ```
//!
//! The first entry has no samples and carries the start time, as Tsung's does; then one
//! entry per interval. Unlike Tsung's file, ours is valid JSON at every instant: after
//! each interval the whole file is rewritten to a temporary name and renamed over the
//! old one, so a run killed with SIGKILL leaves a file that parses and holds every
//! finished interval (Tsung's needed a repair script for that).
//!
//! # Samples, and what each means (Tsung 1.7's `ts_mon` / `ts_stats_mon`)
//!
//! | name | fields | meaning here |
//! |---|---|---|
//! | `users` | `value`, `max` | users in a session at the interval's end; `max` is the highest seen so far (see below) |
//! | `session` | stat fields | whole-session time of the users that finished in the interval |
//! | `users_count`, `finish_users_count` | `value`, `total` | users started / finished in the interval, and since the start |
//! | `request`, `page` | stat fields | response time of every answer (`page` = `request`, see below) |
//! | `connect` | stat fields | TCP connect time of every connection opened |
//! | `http_<code>` | `value`, `total` | answers with that status |
//! | `error_*` | `value`, `total` | failures, named as Tsung names them (see [`tsung_error_name`]) |
//! | `size_rcv`, `size_sent` | `value`, `total` | bytes received and sent |
//! | `match`, `nomatch` | `value`, `total` | `<match>` rules tested and found, or not found |
//! | `connected` | `value`, `max` | change in open connections over the interval; `max` is the number open at its end (Tsung's "max" of a `sum` counter is its running sum) |
//!
//! The stat fields follow Tsung exactly, including its quirks: `value` is the number of
//! samples in the interval; `mean` and `stddev` (population) are over the interval, in
//! **milliseconds**; `max` and `min` are over the whole run so far (Tsung never resets
//! them); `global_mean` and `global_count` cover every interval *before* this one
//! (Tsung folds an interval into them only when it resets the interval's counters,
//! after printing). A sample that never had data is left out, as Tsung leaves it out;
//! once seen, it is printed in every entry, with `value` 0 in quiet intervals. Counters
//! likewise appear from their first non-zero interval on.
//!
//! Where wsgibench measures differently:
//! - `request` mean and stddev are exact (sums kept by the engine); `connect` and
//!   `session` come from HdrHistograms (3 significant digits), as do all `max`/`min`.
//! - `page`: Tsung times a page from its first request to its last answer, pages being
//!   split by think times. The engine does not record pages, so `page` repeats
//!   `request`; this is what Tsung itself writes for sessions without think times
//!   between requests (the reference log of the original benchmark has `page` =
//!   `request` to the digit).
//! - `users.max`: Tsung counts every arrival and departure; the engine reports users at
//!   interval ends only, so `max` is the largest lower bound those give (users at either
//!   end of an interval, and at least 1 if a user started in it). Short sessions that
//!   start and end inside one interval may make Tsung's `max` higher.
//! - Server monitoring samples (`cpu`, `freemem`, `load` with a `hostname`) are not
//!   written: they come from Tsung's `<monitoring>`, which wsgibench does not run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use engine::{ErrorKind, Interval, Sink, Stats, Summary};
use serde::Serialize;

use crate::files::write_atomic;
use crate::OutputError;

/// Tsung's counter name for each of wsgibench's error kinds.
///
/// Tsung's names come from its client (`ts_client.erl`, `ts_http_common.erl`); where
/// Tsung has no exact twin the nearest one is used, so Tsung's tools, which treat any
/// `error_*` sample as an error counter, show them all. Two kinds share `error_closed`,
/// because Tsung does not tell them apart; wsgibench's own outputs (`--json`) keep them
/// separate.
pub fn tsung_error_name(kind: ErrorKind) -> &'static str {
    match kind {
        // Tsung: "error_connect_" ++ Reason for a failed connect.
        ErrorKind::ConnectRefused => "error_connect_econnrefused",
        ErrorKind::ConnectTimeout => "error_connect_timeout",
        // Tsung counts a failed ssl connect as "error_connect_" ++ Reason too; its
        // reasons are Erlang's ssl alerts, which have no fixed names, so these are ours.
        ErrorKind::TlsCertificate => "error_connect_tls_certificate",
        ErrorKind::TlsHandshake => "error_connect_tls_handshake",
        // Tsung's `error_timeout` is the answer not arriving within the idle timeout.
        ErrorKind::ResponseTimeout => "error_timeout",
        // Tsung: "error_inet_" ++ Reason for a socket error while connected.
        ErrorKind::Reset => "error_inet_econnreset",
        ErrorKind::ClosedBeforeResponse | ErrorKind::ClosedMidResponse => "error_closed",
        // Tsung counts an answer without a parsable status line this way.
        ErrorKind::Malformed => "error_no_http_status",
        ErrorKind::BodyLengthMismatch => "error_http_bad_content_length",
        ErrorKind::Io => "error_unknown",
    }
}

/// One element of an entry's `samples`, with Tsung's field names and order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Sample {
    /// `users` and `connected`: a level and its `max` (see the module table).
    Level {
        name: &'static str,
        value: i64,
        max: i64,
    },
    /// Counters (`users_count`, `http_200`, `size_rcv`, `error_*`, ...).
    Counter {
        name: String,
        value: u64,
        total: u64,
    },
    /// Timings in milliseconds (`request`, `page`, `connect`, `session`).
    Stat {
        name: &'static str,
        value: u64,
        mean: f64,
        stddev: f64,
        max: f64,
        min: f64,
        global_mean: f64,
        global_count: u64,
    },
}

/// One entry of the `stats` array.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub timestamp: u64,
    pub samples: Vec<Sample>,
}

/// One interval's view of a timing: count, mean, stddev, max, min, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    count: u64,
    mean: f64,
    stddev: f64,
    max: f64,
    min: f64,
}

/// Reads a `Stats` histogram (µs) as [`Moments`] in ms. A macro rather than a function
/// so this crate need not depend on `hdrhistogram` just to name the type.
macro_rules! histogram_moments {
    ($h:expr) => {{
        let h = &$h;
        if h.is_empty() {
            Moments::default()
        } else {
            Moments {
                count: h.len(),
                mean: h.mean() / 1000.0,
                stddev: h.stdev() / 1000.0,
                max: h.max() as f64 / 1000.0,
                min: h.min() as f64 / 1000.0,
            }
        }
    }};
}

impl Moments {
    /// Request latency: mean and stddev from the engine's exact sums.
    fn of_latency(stats: &Stats) -> Moments {
        Moments {
            mean: stats.latency_mean_us() / 1000.0,
            stddev: stats.latency_stddev_us() / 1000.0,
            ..histogram_moments!(stats.latency)
        }
    }
}

/// What Tsung keeps of a timing across intervals.
#[derive(Debug, Clone, Copy, Default)]
struct Running {
    /// Samples in all intervals printed so far, and their mean (Tsung's `CountFB`,
    /// `MeanFB`).
    count: u64,
    mean: f64,
    max: f64,
    min: f64,
}

impl Running {
    /// The sample for this interval, or `None` while the timing never had data.
    fn sample(&mut self, name: &'static str, m: Moments) -> Option<Sample> {
        if m.count == 0 && self.count == 0 {
            return None;
        }
        if m.count > 0 {
            // Max and min include this interval before printing, as in Tsung.
            if self.count == 0 {
                (self.max, self.min) = (m.max, m.min);
            } else {
                self.max = self.max.max(m.max);
                self.min = self.min.min(m.min);
            }
        }
        let sample = Sample::Stat {
            name,
            value: m.count,
            mean: m.mean,
            stddev: m.stddev,
            max: self.max,
            min: self.min,
            global_mean: self.mean,
            global_count: self.count,
        };
        // The global figures take this interval in only after printing it.
        let total = self.count + m.count;
        if total > 0 {
            self.mean = (self.mean * self.count as f64 + m.mean * m.count as f64) / total as f64;
        }
        self.count = total;
        Some(sample)
    }
}

/// Turns intervals into Tsung entries, keeping the running figures Tsung keeps. Pure:
/// no clock and no file, so the numbers can be tested apart from [`TsungLog`].
#[derive(Debug, Default)]
pub struct TsungSeries {
    request: Running,
    page: Running,
    connect: Running,
    session: Running,
    users_max: u64,
    users_prev: u64,
    users_started: u64,
    users_finished: u64,
    /// Totals of counters, by name; a name is printed once present.
    http: BTreeMap<u16, u64>,
    errors: BTreeMap<&'static str, u64>,
    bytes_received: u64,
    bytes_sent: u64,
    matches: u64,
    nomatches: u64,
    connected_seen: bool,
    connected_prev: u64,
}

impl TsungSeries {
    pub fn new() -> TsungSeries {
        TsungSeries::default()
    }

    /// The samples of one interval, in the order Tsung 1.7 prints them for an HTTP run.
    pub fn samples(&mut self, interval: &Interval, stats: &Stats) -> Vec<Sample> {
        let mut out = Vec::new();

        let mut users_low = interval.users_active.max(self.users_prev);
        if stats.users_started > 0 {
            users_low = users_low.max(1);
        }
        self.users_max = self.users_max.max(users_low);
        self.users_prev = interval.users_active;
        out.push(Sample::Level {
            name: "users",
            value: interval.users_active as i64,
            max: self.users_max as i64,
        });

        out.extend(
            self.session
                .sample("session", histogram_moments!(stats.session)),
        );
        self.users_started += stats.users_started;
        self.users_finished += stats.users_finished;
        // Tsung prints both user counters in every entry, zero or not.
        out.push(counter(
            "users_count",
            stats.users_started,
            self.users_started,
        ));
        out.push(counter(
            "finish_users_count",
            stats.users_finished,
            self.users_finished,
        ));

        let latency = Moments::of_latency(stats);
        out.extend(self.request.sample("request", latency));
        out.extend(
            self.connect
                .sample("connect", histogram_moments!(stats.connect)),
        );
        // `page` repeats `request` (module docs): same input, same running figures.
        out.extend(self.page.sample("page", latency));

        for (code, n) in stats.statuses() {
            *self.http.entry(code).or_default() += n;
        }
        let now: BTreeMap<u16, u64> = stats.statuses().collect();
        for (code, total) in &self.http {
            out.push(counter(
                &format!("http_{code}"),
                now.get(code).copied().unwrap_or(0),
                *total,
            ));
        }

        let mut errors_now: BTreeMap<&'static str, u64> = BTreeMap::new();
        for (kind, n) in stats.errors() {
            *errors_now.entry(tsung_error_name(kind)).or_default() += n;
        }
        for (name, n) in &errors_now {
            *self.errors.entry(name).or_default() += n;
        }
        for (name, total) in &self.errors {
            out.push(counter(
                name,
                errors_now.get(name).copied().unwrap_or(0),
                *total,
            ));
        }

        // Tsung's <match> counters, printed once a rule has been tested.
        self.matches += stats.matches;
        self.nomatches += stats.nomatches;
        if self.matches > 0 {
            out.push(counter("match", stats.matches, self.matches));
        }
        if self.nomatches > 0 {
            out.push(counter("nomatch", stats.nomatches, self.nomatches));
        }

        self.bytes_received += stats.bytes_received;
        self.bytes_sent += stats.bytes_sent;
        if self.bytes_received > 0 {
            out.push(counter(
                "size_rcv",
                stats.bytes_received,
                self.bytes_received,
            ));
        }
        if self.bytes_sent > 0 {
            out.push(counter("size_sent", stats.bytes_sent, self.bytes_sent));
        }

        self.connected_seen |= stats.connections_opened > 0 || interval.connections_open > 0;
        if self.connected_seen {
            out.push(Sample::Level {
                name: "connected",
                value: interval.connections_open as i64 - self.connected_prev as i64,
                max: interval.connections_open as i64,
            });
        }
        self.connected_prev = interval.connections_open;
        out
    }
}

fn counter(name: &str, value: u64, total: u64) -> Sample {
    Sample::Counter {
        name: name.to_string(),
        value,
        total,
    }
}

/// A [`Sink`] that keeps a Tsung JSON log up to date on disk (see the module docs).
pub struct TsungLog {
    path: PathBuf,
    /// Unix time of the run's start, in seconds; entries are stamped start + `t_s`.
    start_unix: f64,
    series: TsungSeries,
    /// The entries so far, serialized and joined, so each rewrite only adds one.
    body: Vec<u8>,
    /// The first write error; the run goes on, and the caller reports it at the end.
    pub error: Option<OutputError>,
}

impl TsungLog {
    /// Writes the opening entry (start time, no samples) right away, so the file parses
    /// even if the run dies before its first interval. Call it just before the run.
    pub fn create(path: &Path) -> Result<TsungLog, OutputError> {
        let start_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        TsungLog::starting_at(path, start_unix)
    }

    /// Like [`TsungLog::create`] with a given start time (Unix seconds), for tests and
    /// for callers that know the start better.
    pub fn starting_at(path: &Path, start_unix: f64) -> Result<TsungLog, OutputError> {
        let mut log = TsungLog {
            path: path.to_path_buf(),
            start_unix,
            series: TsungSeries::new(),
            body: Vec::new(),
            error: None,
        };
        log.push(&Entry {
            timestamp: start_unix as u64,
            samples: Vec::new(),
        });
        log.write()?;
        Ok(log)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn push(&mut self, entry: &Entry) {
        if !self.body.is_empty() {
            self.body.extend_from_slice(b",\n");
        }
        self.body.push(b' ');
        serde_json::to_writer(&mut self.body, entry).expect("an entry serializes");
    }

    /// The whole file: Tsung's framing around the entries, one entry per line.
    fn contents(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 32);
        out.extend_from_slice(b"{\n \"stats\": [\n");
        out.extend_from_slice(&self.body);
        out.extend_from_slice(b"]}\n");
        out
    }

    fn write(&self) -> Result<(), OutputError> {
        write_atomic(&self.path, &self.contents())
    }
}

impl Sink for TsungLog {
    fn on_interval(&mut self, interval: &Interval, stats: &Stats) {
        let samples = self.series.samples(interval, stats);
        self.push(&Entry {
            timestamp: (self.start_unix + interval.t_s) as u64,
            samples,
        });
        // Keep accumulating after an error, but stop touching the disk: the caller
        // reports the first error, and later ones would only repeat it.
        if self.error.is_none() {
            if let Err(e) = self.write() {
                self.error = Some(e);
            }
        }
    }

    fn on_finish(&mut self, _summary: &Summary) {}
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use engine::{Digest, Recorder};
    use serde_json::Value;

    use super::*;

    /// Tsung 1.7.0's own log of the original benchmark (three dumps of an HTTP run).
    const REFERENCE: &str =
        include_str!("../../../tests/data/tsung/tsung-1.7.0-json-log-sample.json");

    fn interval(index: u32, t_s: f64, stats: &Stats, users: u64, conns: u64) -> Interval {
        Interval {
            index,
            t_s,
            start_s: t_s - 10.0,
            digest: Digest::of(stats, Duration::from_secs(10)),
            users_active: users,
            connections_open: conns,
            generator_cpu_percent: 0.0,
        }
    }

    /// Name → sample object, for the HTTP samples (monitoring ones carry a hostname).
    fn http_samples(entry: &Value) -> Vec<(String, serde_json::Map<String, Value>)> {
        entry["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_object().unwrap().clone())
            .filter(|s| !s.contains_key("hostname"))
            .map(|s| (s["name"].as_str().unwrap().to_string(), s))
            .collect()
    }

    /// A busy interval: every kind of sample present.
    fn busy() -> Stats {
        let mut r = Recorder::default();
        r.record_user_started();
        r.record_user_started();
        r.record_connect(Duration::from_micros(300), false);
        r.record_connect(Duration::from_micros(500), false);
        r.record_response(200, Duration::from_micros(1000));
        r.record_response(200, Duration::from_micros(1500));
        r.record_bytes(120, 300);
        r.record_user_finished(Duration::from_millis(1));
        r.take()
    }

    #[test]
    fn same_names_fields_and_order_as_tsung() {
        let reference: Value = serde_json::from_str(REFERENCE).unwrap();
        let stats = reference["stats"].as_array().unwrap();
        assert_eq!(stats[0]["samples"], Value::Array(vec![]));
        let theirs = http_samples(&stats[1]);

        let mut series = TsungSeries::new();
        let ours = serde_json::to_value(Entry {
            timestamp: 1,
            samples: series.samples(&interval(0, 10.0, &busy(), 1, 2), &busy()),
        })
        .unwrap();
        let ours = http_samples(&ours);

        let names = |v: &[(String, serde_json::Map<String, Value>)]| -> Vec<String> {
            v.iter().map(|(n, _)| n.clone()).collect()
        };
        assert_eq!(names(&ours), names(&theirs));
        for ((name, a), (_, b)) in ours.iter().zip(&theirs) {
            let keys =
                |m: &serde_json::Map<String, Value>| -> Vec<String> { m.keys().cloned().collect() };
            assert_eq!(keys(a), keys(b), "fields of {name}");
            for (k, v) in a {
                let t = &b[k];
                if t.is_string() {
                    assert_eq!(v, t, "{name}.{k}");
                    continue;
                }
                assert!(v.is_number() && t.is_number(), "{name}.{k}: {v} vs {t}");
                // Counts are integers in both; timings may be either in Tsung's.
                let count = !b.contains_key("mean") || k == "value" || k == "global_count";
                if count {
                    assert!(t.is_u64() || t.is_i64(), "{name}.{k}: Tsung's {t}");
                    assert!(
                        v.is_u64() || v.is_i64(),
                        "{name}.{k}: ours {v}, Tsung's {t}"
                    );
                }
            }
        }
    }

    #[test]
    fn field_order_matches_tsung_text() {
        // Tools that grep Tsung's log rely on the order inside each object.
        let mut series = TsungSeries::new();
        let s = busy();
        let text =
            serde_json::to_string(&series.samples(&interval(0, 10.0, &s, 1, 2), &s)).unwrap();
        assert!(
            text.contains(r#"{"name":"users","value":1,"max":1}"#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"name":"request","value":2,"mean":1.25,"stddev":0.25,"max":1.5,"min":1.0,"global_mean":0.0,"global_count":0}"#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"name":"http_200","value":2,"total":2}"#),
            "{text}"
        );
    }

    #[test]
    fn numbers_follow_tsung_semantics() {
        let mut series = TsungSeries::new();

        // Interval 1: two answers (1.0 and 1.5 ms), two connections, two users.
        let s1 = busy();
        let e1 = series.samples(&interval(0, 10.0, &s1, 1, 2), &s1);
        // Interval 2: one slower answer, a 503, errors of kinds Tsung merges.
        let mut r = Recorder::default();
        r.record_response(503, Duration::from_micros(2000));
        r.record_error(ErrorKind::ClosedBeforeResponse);
        r.record_error(ErrorKind::ClosedMidResponse);
        r.record_error(ErrorKind::ConnectRefused);
        r.record_user_finished(Duration::from_millis(3));
        let s2 = r.take();
        let e2 = series.samples(&interval(1, 20.0, &s2, 0, 0), &s2);
        // Interval 3: nothing at all.
        let s3 = Stats::default();
        let e3 = series.samples(&interval(2, 30.0, &s3, 0, 0), &s3);

        let find = |e: &[Sample], name: &str| -> Sample {
            e.iter()
                .find(|s| match s {
                    Sample::Level { name: n, .. } | Sample::Stat { name: n, .. } => *n == name,
                    Sample::Counter { name: n, .. } => n == name,
                })
                .cloned()
                .unwrap_or_else(|| panic!("no {name} in {e:?}"))
        };
        let stat = |value, mean, stddev, max, min, global_mean, global_count| Sample::Stat {
            name: "request",
            value,
            mean,
            stddev,
            max,
            min,
            global_mean,
            global_count,
        };
        assert_eq!(find(&e1, "request"), stat(2, 1.25, 0.25, 1.5, 1.0, 0.0, 0));
        // Max and min run over the whole run; global_* cover the intervals before.
        assert_eq!(find(&e2, "request"), stat(1, 2.0, 0.0, 2.0, 1.0, 1.25, 2));
        let avg = (1.0 + 1.5 + 2.0) / 3.0;
        assert_eq!(find(&e3, "request"), stat(0, 0.0, 0.0, 2.0, 1.0, avg, 3));
        assert!(matches!(
            find(&e3, "page"),
            Sample::Stat {
                name: "page",
                value: 0,
                global_count: 3,
                ..
            }
        ));

        let counter = |name: &str, value, total| Sample::Counter {
            name: name.into(),
            value,
            total,
        };
        assert_eq!(find(&e2, "http_200"), counter("http_200", 0, 2));
        assert_eq!(find(&e2, "http_503"), counter("http_503", 1, 1));
        assert!(!e1
            .iter()
            .any(|s| matches!(s, Sample::Counter { name, .. } if name == "http_503")));
        assert_eq!(find(&e2, "error_closed"), counter("error_closed", 2, 2));
        assert_eq!(
            find(&e3, "error_connect_econnrefused"),
            counter("error_connect_econnrefused", 0, 1)
        );
        assert_eq!(find(&e1, "users_count"), counter("users_count", 2, 2));
        assert_eq!(
            find(&e3, "finish_users_count"),
            counter("finish_users_count", 0, 2)
        );
        assert_eq!(find(&e3, "size_rcv"), counter("size_rcv", 0, 300));

        // `connected` is Tsung's running sum: value = change, max = open now.
        let level = |name, value, max| Sample::Level { name, value, max };
        assert_eq!(find(&e1, "connected"), level("connected", 2, 2));
        assert_eq!(find(&e2, "connected"), level("connected", -2, 0));
        // `users.max` keeps the highest level seen (here: 1 at the end of interval 1,
        // and at least 1 while users were starting).
        assert_eq!(find(&e3, "users"), level("users", 0, 1));

        // Connect times never recur after interval 1, but stay printed.
        assert!(matches!(
            find(&e3, "connect"),
            Sample::Stat { value: 0, global_count: 2, max, min, .. } if max == 0.5 && min == 0.3
        ));
    }

    /// The `name` of each sample, as it is written to the log.
    fn sample_names(samples: &[impl serde::Serialize]) -> Vec<String> {
        samples
            .iter()
            .map(|x| {
                serde_json::to_value(x).unwrap()["name"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn samples_without_data_are_left_out_as_tsung_does() {
        let mut series = TsungSeries::new();
        let s = Stats::default();
        let names: Vec<String> = sample_names(&series.samples(&interval(0, 10.0, &s, 0, 0), &s));
        assert_eq!(names, ["users", "users_count", "finish_users_count"]);
    }

    #[test]
    fn every_kind_has_a_tsung_error_name() {
        let names: BTreeSet<&str> = ErrorKind::ALL
            .iter()
            .map(|k| tsung_error_name(*k))
            .collect();
        assert!(names.iter().all(|n| n.starts_with("error_")));
        // Only the two "closed" kinds share a name.
        assert_eq!(names.len(), ErrorKind::ALL.len() - 1);
    }

    #[test]
    fn file_is_valid_json_after_create_and_every_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.tsung.json");
        let mut log = TsungLog::starting_at(&path, 1_795_607_233.4).unwrap();
        let read = || -> Value { serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap() };
        assert_eq!(
            read(),
            serde_json::json!({"stats": [{"timestamp": 1_795_607_233u64, "samples": []}]})
        );
        let s = busy();
        log.on_interval(&interval(0, 10.0, &s, 1, 2), &s);
        log.on_interval(&interval(1, 14.7, &s, 0, 0), &s);
        let v = read();
        let stamps: Vec<u64> = v["stats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["timestamp"].as_u64().unwrap())
            .collect();
        assert_eq!(stamps, [1_795_607_233, 1_795_607_243, 1_795_607_248]);
        assert!(log.error.is_none());
        // The temporary file was renamed over, never left behind.
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        // Laid out as Tsung lays it out: one entry per line.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("{\n \"stats\": [\n {\"timestamp\":"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 5);
    }

    #[test]
    fn real_tsung_logs_parse_with_the_same_reader() {
        // Our own fixture from a small real Tsung run parses; its HTTP names are a
        // subset of what we write.
        let small: Value = serde_json::from_str(include_str!(
            "../../../tests/data/tsung/tsung-1.7.0-small-run.log"
        ))
        .unwrap();
        let names: BTreeSet<String> = small["stats"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| http_samples(e).into_iter().map(|(n, _)| n))
            .collect();
        let mut series = TsungSeries::new();
        let s = busy();
        let ours: BTreeSet<String> =
            sample_names(&series.samples(&interval(0, 10.0, &s, 1, 2), &s))
                .into_iter()
                .collect();
        assert!(names.is_subset(&ours), "{names:?} vs {ours:?}");
    }
}
