//! What one run of `wsgibench load` or `wsgibench tsung` writes for `--json FILE`: the
//! summary as one JSON object, and the per-interval series beside it
//! ([`series_path`], written as the run goes by [`crate::files::IntervalLog`]).

use std::path::{Path, PathBuf};

use engine::Summary;
use serde::Serialize;

use crate::files::write_atomic;
use crate::OutputError;

/// What was run, beside the numbers: each command fills the fields it knows and the
/// others are left out of the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunLabels {
    /// `load`: the URL as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `load`: `-c`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// The load model in words, e.g. `closed model, 1000 requests` or `sessions (Tsung)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `tsung`: the XML file as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsung_file: Option<String>,
    /// `tsung`: `host:port` from the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// With `--agents`: each agent's share and how it fared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<crate::AgentShare>>,
}

/// `--json`'s document: the engine's [`Summary`] (its digest's fields, the generator's
/// CPU, `interrupted`, `intervals`, the latency distribution), whether the generator
/// was the bottleneck, and the run's [`RunLabels`], all at the top level.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    #[serde(flatten)]
    pub summary: &'a Summary,
    pub generator_bound: bool,
    #[serde(flatten)]
    pub labels: &'a RunLabels,
}

impl<'a> SummaryJson<'a> {
    pub fn new(summary: &'a Summary, labels: &'a RunLabels) -> SummaryJson<'a> {
        SummaryJson {
            summary,
            generator_bound: summary.generator_bound(),
            labels,
        }
    }

    /// Pretty-printed with a final newline. Every object's keys are in alphabetical
    /// order, as the files written before this type existed had them (they were built
    /// in a `serde_json::Map`), so a file's bytes do not depend on the field order here.
    pub fn to_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a summary serializes");
        let mut bytes = serde_json::to_vec_pretty(&value).expect("a value serializes");
        bytes.push(b'\n');
        bytes
    }
}

/// Writes `--json`'s summary to `path` atomically: a reader sees the old file or the
/// whole new one.
pub fn write_summary(
    path: &Path,
    summary: &Summary,
    labels: &RunLabels,
) -> Result<(), OutputError> {
    write_atomic(path, &SummaryJson::new(summary, labels).to_bytes())
}

/// `out.json` → `out.intervals.jsonl`, beside it.
pub fn series_path(summary: &Path) -> PathBuf {
    let stem = summary
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wsgibench".into());
    summary.with_file_name(format!("{stem}.intervals.jsonl"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use engine::{Digest, Interval, LatencyDigest, QuantilePoint, Stats};

    use super::*;

    fn summary() -> Summary {
        let digest = Digest {
            requests: 1234,
            duration_s: 2.5,
            rps: 493.6,
            latency_us: LatencyDigest {
                mean: 812.25,
                stdev: 40.5,
                min: 300,
                p50: 800,
                p90: 900,
                p99: 1500,
                p999: 2100,
                max: 2200,
            },
            status: BTreeMap::from([("200".to_string(), 1200), ("503".to_string(), 34)]),
            errors: BTreeMap::from([("timeout".to_string(), 3)]),
            errors_total: 3,
            bytes_sent: 99_000,
            bytes_received: 250_000,
            connections_opened: 10,
            reconnects: 1,
            users_started: 0,
            users_finished: 0,
        };
        Summary {
            intervals: vec![Interval {
                index: 0,
                t_s: 2.5,
                start_s: 0.0,
                digest: digest.clone(),
                users_active: 0,
                connections_open: 9,
                generator_cpu_percent: 97.5,
            }],
            digest,
            generator_cpu_percent: 97.5,
            generator_threads: 1,
            interrupted: true,
            tls_failure: None,
            latency_distribution_us: vec![
                QuantilePoint {
                    q: 0.5,
                    us: 800,
                    count: 617,
                },
                QuantilePoint {
                    q: 1.0,
                    us: 2200,
                    count: 1234,
                },
            ],
            total: Stats::default(),
            io: Default::default(),
        }
    }

    /// The bytes for the same keys built by hand, as `load` and `tsung` built them
    /// before this type: the summary's object, `generator_bound`, then the extra keys.
    fn by_hand(summary: &Summary, extra: &[(&str, serde_json::Value)]) -> Vec<u8> {
        let mut value = serde_json::to_value(summary).unwrap();
        let object = value.as_object_mut().unwrap();
        object.insert("generator_bound".into(), summary.generator_bound().into());
        for (k, v) in extra {
            object.insert(k.to_string(), v.clone());
        }
        let mut bytes = serde_json::to_vec_pretty(&value).expect("json");
        bytes.push(b'\n');
        bytes
    }

    #[test]
    fn load_summary_has_the_same_bytes_as_the_hand_built_one() {
        let s = summary();
        let labels = RunLabels {
            url: Some("http://127.0.0.1:8000/".into()),
            connections: Some(64),
            model: Some("closed model, 1000 requests".into()),
            ..RunLabels::default()
        };
        let expected = by_hand(
            &s,
            &[
                ("url", "http://127.0.0.1:8000/".into()),
                ("connections", 64u32.into()),
                ("model", "closed model, 1000 requests".into()),
            ],
        );
        let written = SummaryJson::new(&s, &labels).to_bytes();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn tsung_summary_has_the_same_bytes_as_the_hand_built_one() {
        let s = summary();
        let labels = RunLabels {
            tsung_file: Some("examples/seed.xml".into()),
            target: Some("127.0.0.1:8080".into()),
            model: Some("sessions (Tsung)".into()),
            ..RunLabels::default()
        };
        let expected = by_hand(
            &s,
            &[
                ("tsung_file", "examples/seed.xml".into()),
                ("target", "127.0.0.1:8080".into()),
                ("model", "sessions (Tsung)".into()),
            ],
        );
        let written = SummaryJson::new(&s, &labels).to_bytes();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn write_summary_writes_the_document_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let s = summary();
        let labels = RunLabels {
            model: Some("closed model".into()),
            ..RunLabels::default()
        };
        write_summary(&path, &s, &labels).unwrap();
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(value["model"], "closed model");
        assert_eq!(value["generator_bound"], true);
        assert_eq!(value["requests"], 1234);
        assert!(value.get("url").is_none(), "unset labels are left out");
        assert!(!dir.path().join("out.json.tmp").exists());
    }

    #[test]
    fn series_goes_beside_the_summary() {
        assert_eq!(
            series_path(Path::new("runs/out.json")),
            PathBuf::from("runs/out.intervals.jsonl")
        );
    }
}
