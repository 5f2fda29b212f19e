//! [`Stats`] as they travel between machines, for a run spread over several load
//! agents: the histograms in HdrHistogram's V2 format, deflated and base64-encoded
//! (the format HdrHistogram's own tools exchange), the counters as they are. The round
//! trip is lossless: a histogram read back holds the same counts in the same buckets,
//! so a merge of read-back stats equals a merge of the originals, bit for bit.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::recorder::{ErrorKind, Stats};

/// One interval's (or one run's) [`Stats`], ready for JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsWire {
    pub latency: String,
    pub connect: String,
    pub session: String,
    /// Decimal text: the sums are 128-bit, more than a JSON number holds everywhere.
    pub latency_sum_us: String,
    pub latency_sum_sq_us: String,
    /// `(status code, answers)` for every code seen.
    pub status: Vec<(u16, u64)>,
    /// `(error kind's name, count)` for every kind seen.
    pub errors: Vec<(String, u64)>,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub connections_opened: u64,
    pub reconnects: u64,
    pub users_started: u64,
    pub users_finished: u64,
    /// Absent from agents older than dynamic sessions.
    #[serde(default)]
    pub matches: u64,
    #[serde(default)]
    pub nomatches: u64,
    /// The first TLS failure's words; absent from agents that predate TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_failure: Option<String>,
}

/// Stats from another machine that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("`{field}` is not base64: {reason}")]
    Base64 { field: &'static str, reason: String },
    #[error("`{field}` is not an HdrHistogram V2 histogram: {reason}")]
    Histogram { field: &'static str, reason: String },
    /// The histogram's range is wider than the engine's (1 µs to 60 s, 3 digits), so
    /// merging it could not be exact.
    #[error("`{field}` holds values outside 1 µs to {max} µs: {reason}", max = crate::LATENCY_MAX_US)]
    Range { field: &'static str, reason: String },
    #[error("`{field}` is not a whole number: {value:?}")]
    Number { field: &'static str, value: String },
    #[error("status code {0} is not one an answer can have")]
    Status(u16),
    #[error("unknown error kind {0:?}")]
    ErrorKind(String),
}

impl Stats {
    pub fn to_wire(&self) -> StatsWire {
        StatsWire {
            latency: encode(&self.latency),
            connect: encode(&self.connect),
            session: encode(&self.session),
            latency_sum_us: self.latency_sum_us.to_string(),
            latency_sum_sq_us: self.latency_sum_sq_us.to_string(),
            status: self.statuses().collect(),
            errors: self
                .errors()
                .map(|(k, n)| (k.name().to_string(), n))
                .collect(),
            bytes_sent: self.bytes_sent,
            bytes_received: self.bytes_received,
            connections_opened: self.connections_opened,
            reconnects: self.reconnects,
            users_started: self.users_started,
            users_finished: self.users_finished,
            matches: self.matches,
            nomatches: self.nomatches,
            tls_failure: self.tls_failure.clone(),
        }
    }

    pub fn from_wire(w: &StatsWire) -> Result<Stats, WireError> {
        let mut s = Stats::default();
        decode_into(&mut s.latency, &w.latency, "latency")?;
        decode_into(&mut s.connect, &w.connect, "connect")?;
        decode_into(&mut s.session, &w.session, "session")?;
        s.latency_sum_us = number(&w.latency_sum_us, "latency_sum_us")?;
        s.latency_sum_sq_us = number(&w.latency_sum_sq_us, "latency_sum_sq_us")?;
        for &(code, n) in &w.status {
            s.add_status(code, n).ok_or(WireError::Status(code))?;
        }
        for (name, n) in &w.errors {
            let kind = ErrorKind::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .ok_or_else(|| WireError::ErrorKind(name.clone()))?;
            s.add_errors(kind, *n);
        }
        s.bytes_sent = w.bytes_sent;
        s.bytes_received = w.bytes_received;
        s.connections_opened = w.connections_opened;
        s.reconnects = w.reconnects;
        s.users_started = w.users_started;
        s.users_finished = w.users_finished;
        s.matches = w.matches;
        s.nomatches = w.nomatches;
        s.tls_failure.clone_from(&w.tls_failure);
        Ok(s)
    }
}

fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("a histogram serializes into memory");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Adds the histogram in `text` into `into`, which has the engine's bounds: a
/// histogram recorded elsewhere with other bounds is refused rather than clipped.
fn decode_into(
    into: &mut Histogram<u64>,
    text: &str,
    field: &'static str,
) -> Result<(), WireError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| WireError::Base64 {
            field,
            reason: e.to_string(),
        })?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| WireError::Histogram {
            field,
            reason: format!("{e:?}"),
        })?;
    into.add(&h).map_err(|e| WireError::Range {
        field,
        reason: format!("{e:?}"),
    })
}

fn number(text: &str, field: &'static str) -> Result<u128, WireError> {
    text.parse().map_err(|_| WireError::Number {
        field,
        value: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::recorder::Recorder;

    fn recorded(seed: u64) -> Stats {
        let mut r = Recorder::default();
        for i in 0..5000u64 {
            // A spread over six decades, different per seed.
            let us = 1 + (i * 7919 + seed * 104_729) % 10_000_000 / (1 + i % 97);
            r.record_response(
                if i % 50 == 0 { 503 } else { 200 },
                Duration::from_micros(us),
            );
        }
        r.record_error(ErrorKind::Reset);
        r.record_connect(Duration::from_micros(80 + seed), seed.is_multiple_of(2));
        r.record_bytes(1000, 2000 + seed as usize);
        r.record_user_started();
        r.record_user_finished(Duration::from_millis(40 + seed));
        r.record_tls_failure(format!("unknown issuer {seed}"));
        r.take()
    }

    #[test]
    fn stats_survive_the_round_trip_exactly() {
        let s = recorded(3);
        let json = serde_json::to_string(&s.to_wire()).unwrap();
        let back = Stats::from_wire(&serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(back.to_wire(), s.to_wire());
        assert_eq!(back.latency, s.latency);
        assert_eq!(back.connect, s.connect);
        assert_eq!(back.session, s.session);
        assert_eq!(back.latency_sum_sq_us, s.latency_sum_sq_us);
        assert_eq!(back.tls_failure.as_deref(), Some("unknown issuer 3"));
    }

    /// The merge across machines is the merge on one: adding read-back stats gives
    /// the same histogram, bucket for bucket, as adding the originals.
    #[test]
    fn a_merge_of_read_back_stats_equals_the_merge_of_the_originals() {
        let parts: Vec<Stats> = (0..4).map(recorded).collect();
        let mut here = Stats::default();
        let mut there = Stats::default();
        for p in &parts {
            here.add(p);
            there.add(&Stats::from_wire(&p.to_wire()).unwrap());
        }
        assert_eq!(there.latency, here.latency);
        for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                there.latency.value_at_quantile(q),
                here.latency.value_at_quantile(q)
            );
        }
        assert_eq!(there.to_wire(), here.to_wire());
        assert_eq!(there.tls_failure.as_deref(), Some("unknown issuer 0"));
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let mut w = recorded(1).to_wire();
        w.latency = "not base64!".into();
        let e = Stats::from_wire(&w).unwrap_err().to_string();
        assert!(e.contains("`latency`"), "{e}");
        let mut w = recorded(1).to_wire();
        w.errors.push(("exploded".into(), 1));
        assert!(Stats::from_wire(&w).is_err());
        let mut w = recorded(1).to_wire();
        w.status.push((1000, 1));
        assert!(Stats::from_wire(&w).is_err());
        // A histogram with a wider range than the engine's.
        let mut wide = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        wide.record(3_000_000_000).unwrap();
        let mut w = recorded(1).to_wire();
        w.latency = encode(&wide);
        let e = Stats::from_wire(&w).unwrap_err().to_string();
        assert!(e.contains("outside"), "{e}");
    }
}
