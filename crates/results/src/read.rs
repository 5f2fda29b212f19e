//! Reads a results folder written by `wsgibench run` back into plain structs, so the
//! HTML report and the diagnosis work from the files alone (a run from last week, a
//! folder copied from another machine) and never from the engine's live state.
//!
//! The structs mirror the JSON the run writes (`run.json`, `<case>/summary.json`,
//! `<case>/intervals.jsonl`) rather than reuse the engine's types: those only
//! serialize, and a report should still open when a newer wsgibench added a field or
//! an older one lacked it, so most fields default when absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A results folder could not be read, or the report could not be written. Each
/// variant names the file, since a run leaves many.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The file is missing or unreadable. `run.json` is the one file every run writes
    /// first: without it the folder is not a `wsgibench run` output.
    #[error("{}: {error}", path.display())]
    Read {
        path: PathBuf,
        // Not a `#[source]`: the message already holds it, and a chain printer
        // (anyhow's `{:#}`) would print it twice.
        error: std::io::Error,
    },
    /// The file is not the JSON a run writes; the message has the line and column.
    #[error("{}: {error}", path.display())]
    Parse {
        path: PathBuf,
        error: serde_json::Error,
    },
    /// A chart could not be drawn; the message is plotters' own.
    #[error("chart `{title}`: {message}")]
    Chart { title: String, message: String },
    /// Writing `report.html` failed (a read-only folder, a full disk).
    #[error(transparent)]
    Write(#[from] crate::OutputError),
}

/// `run.json`: what was run, where and when.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RunMeta {
    pub wsgibench_version: Option<String>,
    pub started_utc: Option<String>,
    pub finished_utc: Option<String>,
    pub command: Option<String>,
    /// The protocol in one sentence (the suite file's description).
    pub protocol: Option<String>,
    pub suite_file: Option<String>,
    pub interval_s: Option<f64>,
    /// Which CPUs the server and the generator had, as a sentence.
    pub placement: Option<String>,
    pub server_cpu: Option<usize>,
    pub generator_cpus: Vec<usize>,
    pub machine: Machine,
    /// The cases in the order they were meant to run.
    pub cases: Vec<String>,
    /// `None` while the run is still going or was killed before it could say.
    pub interrupted: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Machine {
    pub cpu_model: Option<String>,
    pub cores: Option<u32>,
    pub kernel: Option<String>,
}

/// Latency in microseconds, as the engine's `LatencyDigest`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Latency {
    pub mean: f64,
    pub stdev: f64,
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// The numbers shared by a whole run and each of its intervals (the engine's `Digest`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Digest {
    /// Answers received, any status.
    pub requests: u64,
    pub duration_s: f64,
    pub rps: f64,
    pub latency_us: Latency,
    /// Answers by HTTP status code.
    #[serde(deserialize_with = "codes_or_nothing")]
    pub status: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub errors_total: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub connections_opened: u64,
    pub reconnects: u64,
    pub users_started: u64,
    pub users_finished: u64,
}

impl Digest {
    /// Answers whose status is not 2xx (a 3xx counts: the benchmark's app never
    /// redirects, so one means something is off).
    pub fn non_2xx(&self) -> u64 {
        self.status
            .iter()
            .filter(|(code, _)| !code.starts_with('2'))
            .map(|(_, n)| n)
            .sum()
    }
}

/// In a case's summary.json `status` is the case's status (`"ok"`) and the answers by
/// code are under `status_codes`; a string here means "no codes here", and
/// [`read_case`] reads `status_codes` instead.
fn codes_or_nothing<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Codes {
        Map(BTreeMap<String, u64>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Codes::deserialize(d)? {
        Codes::Map(m) => m,
        Codes::Other(_) => BTreeMap::new(),
    })
}

/// One reporting interval.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Interval {
    pub index: u32,
    /// End of the interval, seconds from the start of the load.
    pub t_s: f64,
    pub start_s: f64,
    #[serde(flatten)]
    pub digest: Digest,
    pub users_active: u64,
    pub connections_open: u64,
    /// Percent of one core (200 = two cores busy).
    pub generator_cpu_percent: f64,
}

/// What the engine measured for one case: present when the load ran, even if the
/// server crashed part way.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Measured {
    #[serde(flatten)]
    pub digest: Digest,
    pub generator_cpu_percent: f64,
    pub generator_threads: usize,
    pub generator_bound: bool,
    pub interrupted: bool,
    pub intervals: Vec<Interval>,
    /// Empty in summaries written before the engine wrote it.
    pub latency_distribution_us: Vec<QuantilePoint>,
}

/// `q` of the answers took `us` microseconds or less.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct QuantilePoint {
    pub q: f64,
    pub us: u64,
}

/// One sample of the server's process tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ServerSample {
    pub t_s: f64,
    /// Percent of one CPU.
    pub cpu_percent: f64,
    pub rss_mib: f64,
    pub processes: u32,
    /// Processes of the server's tree that appeared / ended since the previous sample.
    pub processes_started: u32,
    pub processes_exited: u32,
}

/// A case's status when it ran to the end.
pub const STATUS_OK: &str = "ok";
/// A case whose folder has no `summary.json`: the run was killed during it (a run that
/// stops any other way writes one). Inferred here, since a killed run writes nothing.
pub const STATUS_KILLED: &str = "killed";

/// One case: `<case>/summary.json` plus the tail of `<case>/server.log`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Case {
    pub name: String,
    /// `ok`, `not installed`, `failed to start`, `crashed`, or (inferred by this
    /// module, never written by a run) `not run` and [`STATUS_KILLED`].
    pub status: String,
    pub server_version: Option<String>,
    /// Mean over the samples, percent of one CPU.
    pub server_cpu_percent: Option<f64>,
    /// Largest resident memory seen.
    pub server_rss_mib: Option<f64>,
    pub server_samples: Vec<ServerSample>,
    /// Why the case failed, in the suite's words (often the server's own output).
    pub detail: Option<String>,
    pub measured: Option<Measured>,
    /// The last lines of `server.log`, oldest first; empty when there is no log.
    pub log_tail: Vec<String>,
    /// Every repetition's numbers with `wsgibench run --repeat N`; empty otherwise.
    pub repeats: Vec<Repeat>,
}

/// One repetition of a case under `wsgibench run --repeat N`, as summary.json's
/// `repeats` holds it. Latency in microseconds, like the rest of summary.json.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct Repeat {
    pub rps: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub mean_us: f64,
    pub errors: u64,
}

impl Case {
    pub fn is_ok(&self) -> bool {
        self.status == STATUS_OK && self.measured.is_some()
    }
}

/// The extra fields `wsgibench run` adds to the engine's summary.
#[derive(Debug, Deserialize)]
struct CaseFields {
    #[serde(default)]
    case: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    server_version: Option<String>,
    #[serde(default)]
    server_cpu_percent: Option<f64>,
    #[serde(default)]
    server_rss_mib: Option<f64>,
    #[serde(default)]
    server_samples: Vec<ServerSample>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    repeats: Vec<Repeat>,
}

/// A whole results folder.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub dir: PathBuf,
    pub meta: RunMeta,
    /// In `run.json`'s order, then any case folder it does not list.
    pub cases: Vec<Case>,
}

/// How many lines of each server's log the report shows: enough for a traceback.
pub const LOG_TAIL_LINES: usize = 40;

/// Reads `dir`. Only `run.json` must exist; a case whose folder is missing (the run
/// ended before it) is kept as `not run`, and one whose folder has no summary (the run
/// was killed during it) as [`STATUS_KILLED`], with the intervals it had finished.
pub fn read_run(dir: &Path) -> Result<Run, ReportError> {
    let meta: RunMeta = parse_file(&dir.join("run.json"))?;
    let mut names = meta.cases.clone();
    // Case folders are those holding a summary.json; run.json may be older than them.
    let mut extra = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().join("summary.json").is_file() && !names.contains(&name) {
                extra.push(name);
            }
        }
    }
    extra.sort();
    names.extend(extra);
    let cases = names
        .iter()
        .map(|name| read_case(&dir.join(name), name))
        .collect::<Result<_, _>>()?;
    Ok(Run {
        dir: dir.to_path_buf(),
        meta,
        cases,
    })
}

/// Reads one case folder; `name` is what run.json calls it.
pub fn read_case(dir: &Path, name: &str) -> Result<Case, ReportError> {
    let summary_path = dir.join("summary.json");
    let log_tail = read_log_tail(&dir.join("server.log"), LOG_TAIL_LINES);
    if !dir.is_dir() {
        return Ok(Case {
            name: name.to_string(),
            status: "not run".into(),
            detail: Some("the run ended before this case started".into()),
            ..Case::default()
        });
    }
    if !summary_path.is_file() {
        // The case's folder and its intervals.jsonl are made before its server starts,
        // and summary.json is written whenever it ends, even interrupted by Ctrl-C.
        let intervals = read_intervals(&dir.join("intervals.jsonl"))?;
        let detail = match intervals.len() {
            0 => "the run was killed during this case, before its first interval \
                  (its folder has no summary.json)"
                .to_string(),
            n => format!(
                "the run was killed during this case (its folder has no summary.json); \
                 the {n} interval(s) it had finished are shown"
            ),
        };
        let measured = (!intervals.is_empty()).then(|| Measured {
            intervals,
            ..Measured::default()
        });
        return Ok(Case {
            name: name.to_string(),
            status: STATUS_KILLED.into(),
            detail: Some(detail),
            measured,
            log_tail,
            ..Case::default()
        });
    }
    let bytes = read_file(&summary_path)?;
    // Parsed from the bytes each time, not from a Value, so errors keep their line.
    let value: serde_json::Value = parse_bytes(&summary_path, &bytes)?;
    let fields: CaseFields = parse_bytes(&summary_path, &bytes)?;
    // A failed case has only the suite's fields; `requests` marks an engine summary.
    let measured = if value.get("requests").is_some() {
        let mut m: Measured = parse_bytes(&summary_path, &bytes)?;
        if let Some(codes) = value.get("status_codes").and_then(|c| c.as_object()) {
            m.digest.status = codes
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect();
        }
        // Summaries written before `status_codes` existed: add the codes up from the intervals.
        if m.digest.status.is_empty() {
            for i in &m.intervals {
                for (code, n) in &i.digest.status {
                    *m.digest.status.entry(code.clone()).or_default() += n;
                }
            }
        }
        Some(m)
    } else {
        None
    };
    Ok(Case {
        name: fields.case.unwrap_or_else(|| name.to_string()),
        status: fields.status.unwrap_or_else(|| STATUS_OK.to_string()),
        server_version: fields.server_version,
        server_cpu_percent: fields.server_cpu_percent,
        server_rss_mib: fields.server_rss_mib,
        server_samples: fields.server_samples,
        detail: fields.detail,
        repeats: fields.repeats,
        measured,
        log_tail,
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, ReportError> {
    std::fs::read(path).map_err(|error| ReportError::Read {
        path: path.to_path_buf(),
        error,
    })
}

fn parse_bytes<T: serde::de::DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
) -> Result<T, ReportError> {
    serde_json::from_slice(bytes).map_err(|error| ReportError::Parse {
        path: path.to_path_buf(),
        error,
    })
}

fn parse_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    parse_bytes(path, &read_file(path)?)
}

/// Reads a JSON Lines series. A torn last line (the run was killed mid-write) is
/// dropped; a bad line elsewhere is an error naming the line.
fn read_intervals(path: &Path) -> Result<Vec<Interval>, ReportError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Vec::new());
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(interval) => out.push(interval),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(error) => {
                return Err(ReportError::Parse {
                    path: PathBuf::from(format!("{}:{}", path.display(), i + 1)),
                    error,
                })
            }
        }
    }
    Ok(out)
}

/// The last `n` lines of a log, lossily decoded: a server may print anything, and a
/// log that cannot be read just shows no lines.
fn read_log_tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_ok_failed_missing_and_killed_cases() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            d,
            "run.json",
            r#"{"cases": ["a", "b", "c", "d"], "machine": {"cores": 2}}"#,
        );
        write(
            d,
            "a/summary.json",
            r#"{"case": "a", "status": "ok", "requests": 10, "rps": 5.0,
                "latency_us": {"p50": 100},
                "latency_distribution_us": [{"q": 0.5, "us": 100}, {"q": 1.0, "us": 900}],
                "intervals": [{"index": 0, "t_s": 2.0, "requests": 10, "status": {"200": 10}}],
                "server_samples": [{"t_s": 1.0, "cpu_percent": 50.0, "rss_mib": 9.0, "processes": 1}]}"#,
        );
        write(d, "a/server.log", "one\ntwo\n");
        write(
            d,
            "b/summary.json",
            r#"{"case": "b", "status": "failed to start", "detail": "boom"}"#,
        );
        write(
            d,
            "c/intervals.jsonl",
            "{\"index\":0,\"t_s\":2.0,\"requests\":3}\n{\"index\":1,\"t_",
        );
        let run = read_run(d).unwrap();
        assert_eq!(run.meta.machine.cores, Some(2));
        let [a, b, c, dd] = &run.cases[..] else {
            panic!("{:?}", run.cases)
        };
        assert!(a.is_ok());
        let m = a.measured.as_ref().unwrap();
        assert_eq!(
            m.latency_distribution_us,
            [
                QuantilePoint { q: 0.5, us: 100 },
                QuantilePoint { q: 1.0, us: 900 }
            ]
        );
        assert_eq!(m.intervals[0].digest.requests, 10);
        assert_eq!(m.digest.latency_us.p50, 100);
        // The case's "ok" overwrote the codes; they come back from the intervals.
        assert_eq!(m.digest.status.get("200"), Some(&10));
        assert_eq!(a.log_tail, ["one", "two"]);
        assert_eq!(a.server_samples.len(), 1);
        assert_eq!(
            (b.status.as_str(), b.detail.as_deref()),
            ("failed to start", Some("boom"))
        );
        assert!(b.measured.is_none());
        assert_eq!(c.status, STATUS_KILLED);
        assert!(c.detail.as_deref().unwrap().contains("killed"), "{c:?}");
        assert_eq!(c.measured.as_ref().unwrap().intervals.len(), 1);
        assert_eq!(dd.status, "not run");
    }

    #[test]
    fn errors_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let e = read_run(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("run.json"), "{e}");
        write(tmp.path(), "run.json", r#"{"cases": ["a"]}"#);
        write(tmp.path(), "a/summary.json", r#"{"requests": "many"}"#);
        let e = read_run(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("a/summary.json") && e.contains("line 1"), "{e}");
    }
}
