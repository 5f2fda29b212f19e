//! The results folder: where each file of a run goes, and the only code that writes
//! or reads them.
//!
//! ```text
//! results/2026-12-01T22-10-00Z/
//!   run.json                 RunMeta: written at the start, rewritten at the end
//!   <case>/summary.json      Case: written whole when the case ends, however it ends
//!   <case>/intervals.jsonl   the engine's intervals, one line each as the load runs
//!   <case>/server.log        the server's output
//!   <case>/latency.hgrm      the latency distribution, HdrHistogram's text format
//!   <case>/tsung.json        Tsung's JSON log (--tsung-log)
//!   <case>/rep<N>/...        with --repeat: each repetition's own files; the median
//!                            repetition's are also copied up to <case>/
//!   results.csv, results.md, request-mean.{png,svg}, request-count.{png,svg},
//!   report.html              rendered from the model at the end (crate `render`)
//! ```
//!
//! Every file is valid at every instant: whole files are written to a temporary name
//! and renamed; the series is appended and flushed line by line. So a run killed even
//! by SIGKILL leaves a folder that reads: a case folder without `summary.json` is read
//! as [`CaseStatus::Killed`] with the intervals it had finished, and a case without a
//! folder as [`CaseStatus::NotRun`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::write_atomic;
use crate::model::{AgentShare, Case, Measured, Repeat, Run, RunMeta, ServerSample};
use crate::status::CaseStatus;
use crate::OutputError;

pub const RUN_JSON: &str = "run.json";
pub const SUMMARY_JSON: &str = "summary.json";
pub const INTERVALS: &str = "intervals.jsonl";
pub const SERVER_LOG: &str = "server.log";
pub const HGRM: &str = "latency.hgrm";
pub const TSUNG_LOG: &str = "tsung.json";
pub const RESULTS_CSV: &str = "results.csv";
pub const RESULTS_MD: &str = "results.md";
pub const REPORT_HTML: &str = "report.html";
/// The original benchmark's two charts, each as `<name>.png` and `<name>.svg`.
pub const CHART_REQUEST_MEAN: &str = "request-mean";
pub const CHART_REQUEST_COUNT: &str = "request-count";

/// How many lines of each server's log are read with a case: enough for a traceback.
pub const LOG_TAIL_LINES: usize = 40;

/// A results folder could not be read or written. Each variant names the file, since
/// a run leaves many.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The file is missing or unreadable. `run.json` is the one file every run writes
    /// first: without it the folder is not a `wsgibench run` output.
    #[error("{}: {error}", path.display())]
    Read {
        path: PathBuf,
        // Not a `#[source]`: the message already holds it, and a chain printer
        // (anyhow's `{:#}`) would print it twice.
        error: std::io::Error,
    },
    /// The file is not what a run writes: the message has the line and column, or the
    /// key whose value is wrong.
    #[error("{}: {what}", path.display())]
    Parse { path: PathBuf, what: String },
    /// A file could not be written (a read-only folder, a full disk).
    #[error(transparent)]
    Write(#[from] OutputError),
}

/// A results folder being written.
#[derive(Debug, Clone)]
pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    /// Makes `dir` (and its parents) for a new run.
    pub fn create(dir: &Path) -> Result<RunFolder, ResultsError> {
        make_dir(dir)?;
        Ok(RunFolder {
            dir: dir.to_path_buf(),
        })
    }

    /// A folder that exists already, to render into or read.
    pub fn open(dir: &Path) -> RunFolder {
        RunFolder {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file at the top of the folder ([`RESULTS_CSV`], [`REPORT_HTML`], ...).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn write_meta(&self, meta: &RunMeta) -> Result<(), ResultsError> {
        write_json(&self.dir.join(RUN_JSON), meta)
    }

    /// A rendered output at the top of the folder, written atomically.
    pub fn write_output(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, ResultsError> {
        let path = self.dir.join(name);
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// Makes and returns the folder of one case (named by [`case_folder_name`]), or of
    /// one repetition of it (`repetition` counts from 1) under `--repeat`.
    pub fn case_dir(
        &self,
        case: &str,
        repetition: Option<u32>,
    ) -> Result<CaseFolder, ResultsError> {
        let mut dir = self.dir.join(case);
        if let Some(n) = repetition {
            dir = dir.join(format!("rep{n}"));
        }
        make_dir(&dir)?;
        Ok(CaseFolder { dir })
    }

    /// Makes the median repetition stand for the case: its series and server log are
    /// copied up to `<case>/`, so every reader of `<case>/` finds the same files with
    /// or without `--repeat`, and `case` (with every repetition's numbers in
    /// `repeats`) is written there.
    pub fn write_median(&self, median: &CaseFolder, case: &Case) -> Result<(), ResultsError> {
        let top = self.case_dir(&case.folder_name(), None)?;
        for file in [INTERVALS, SERVER_LOG] {
            let from = median.dir.join(file);
            if from.is_file() {
                std::fs::copy(&from, top.dir.join(file)).map_err(|source| OutputError {
                    path: top.dir.join(file),
                    source,
                })?;
            }
        }
        top.write_case(case)
    }

    /// Reads the folder back.
    pub fn read(&self) -> Result<Run, ResultsError> {
        read_run(&self.dir)
    }
}

/// The folder of one case (or one repetition).
#[derive(Debug, Clone)]
pub struct CaseFolder {
    dir: PathBuf,
}

impl CaseFolder {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `summary.json`, and `latency.hgrm` when the case answered anything.
    pub fn write_case(&self, case: &Case) -> Result<(), ResultsError> {
        let mut bytes = serde_json::to_vec_pretty(&summary_json(case)).expect("plain data");
        bytes.push(b'\n');
        write_atomic(&self.dir.join(SUMMARY_JSON), &bytes)?;
        if let Some(m) = &case.measured {
            crate::hgrm::write(&self.dir.join(HGRM), &m.latency_distribution_us, &m.digest)?;
        }
        Ok(())
    }

    /// The last [`LOG_TAIL_LINES`] of the server's log.
    pub fn log_tail(&self) -> Vec<String> {
        read_log_tail(&self.dir.join(SERVER_LOG), LOG_TAIL_LINES)
    }
}

/// The time now as `2026-11-25T12-01-26Z` (UTC): sortable, and valid in a folder
/// name everywhere, so it names a run's folder as well as stamping its start.
pub fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    stamp_of(secs)
}

fn stamp_of(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}-{:02}-{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn make_dir(dir: &Path) -> Result<(), ResultsError> {
    std::fs::create_dir_all(dir).map_err(|source| {
        ResultsError::Write(OutputError {
            path: dir.to_path_buf(),
            source,
        })
    })
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), ResultsError> {
    let bytes = serde_json::to_vec_pretty(value).expect("plain data");
    write_atomic(path, &bytes)?;
    Ok(())
}

/// The case's own fields in summary.json, beside the engine's.
#[derive(Debug, Serialize, Deserialize)]
struct CaseFields {
    #[serde(default)]
    case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app: Option<String>,
    /// A summary without it is the engine's alone, from before the suite wrote one.
    #[serde(default)]
    status: Option<CaseStatus>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    server_version: Option<String>,
    #[serde(default)]
    server_cpu_percent: Option<f64>,
    #[serde(default)]
    server_rss_mib: Option<f64>,
    #[serde(default)]
    server_samples: Vec<ServerSample>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    repeats: Vec<Repeat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agents: Option<Vec<AgentShare>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workers: Option<u32>,
}

/// summary.json's layout: the engine's summary at the top level, as `wsgibench load
/// --json` writes it, and the case's fields beside it. Both name a field `status`; the
/// case's status keeps that name (people and scripts read it) and the engine's answers
/// by code move to `status_codes`.
fn summary_json(case: &Case) -> serde_json::Value {
    let mut object = match &case.measured {
        Some(m) => match serde_json::to_value(m).expect("plain data") {
            serde_json::Value::Object(o) => o,
            _ => unreachable!("a struct serializes as an object"),
        },
        None => serde_json::Map::new(),
    };
    if let Some(codes) = object.remove("status") {
        object.insert("status_codes".into(), codes);
    }
    let fields = CaseFields {
        case: Some(case.name.clone()),
        app: case.app.clone(),
        status: Some(case.status),
        detail: case.detail.clone(),
        server_version: case.server_version.clone(),
        server_cpu_percent: case.server_cpu_percent,
        server_rss_mib: case.server_rss_mib,
        server_samples: case.server_samples.clone(),
        repeats: case.repeats.clone(),
        agents: case.agents.clone(),
        workers: case.workers,
    };
    if let serde_json::Value::Object(f) = serde_json::to_value(fields).expect("plain data") {
        object.extend(f);
    }
    serde_json::Value::Object(object)
}

/// Between a server case and its app in a case folder's name: `bjoern@json`. The
/// original's app (no app) keeps the case's bare name, as before there were apps.
pub const APP_SEPARATOR: char = '@';

/// The folder (and run.json entry) of `case` serving `app`.
pub fn case_folder_name(case: &str, app: Option<&str>) -> String {
    match app {
        Some(app) => format!("{case}{APP_SEPARATOR}{app}"),
        None => case.to_string(),
    }
}

/// [`case_folder_name`] read back: the case, and the app if any.
pub fn split_case_folder_name(name: &str) -> (&str, Option<&str>) {
    match name.split_once(APP_SEPARATOR) {
        Some((case, app)) => (case, Some(app)),
        None => (name, None),
    }
}

/// Reads `dir`. Only `run.json` must exist; a case whose folder is missing (the run
/// ended before it) is kept as [`CaseStatus::NotRun`], and one whose folder has no
/// summary (the run was killed during it) as [`CaseStatus::Killed`], with the
/// intervals it had finished.
pub fn read_run(dir: &Path) -> Result<Run, ResultsError> {
    let meta: RunMeta = parse(&dir.join(RUN_JSON), &read_file(&dir.join(RUN_JSON))?)?;
    let mut names = meta.cases.clone();
    // Case folders are those holding a summary.json; run.json may be older than them.
    let mut extra = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().join(SUMMARY_JSON).is_file() && !names.contains(&name) {
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
pub fn read_case(dir: &Path, name: &str) -> Result<Case, ResultsError> {
    let (case_name, app) = split_case_folder_name(name);
    let named = |status| {
        let mut case = Case::new(case_name, status);
        case.app = app.map(str::to_string);
        case
    };
    if !dir.is_dir() {
        let mut case = named(CaseStatus::NotRun);
        case.detail = Some("the run ended before this case started".into());
        return Ok(case);
    }
    let folder = CaseFolder {
        dir: dir.to_path_buf(),
    };
    let summary_path = dir.join(SUMMARY_JSON);
    if !summary_path.is_file() {
        // The case's folder and its intervals.jsonl are made before its server starts,
        // and summary.json is written whenever it ends, even interrupted by Ctrl-C.
        let intervals = read_json_lines(&dir.join(INTERVALS))?;
        let mut case = named(CaseStatus::Killed);
        case.detail = Some(match intervals.len() {
            0 => "the run was killed during this case, before its first interval \
                  (its folder has no summary.json)"
                .to_string(),
            n => format!(
                "the run was killed during this case (its folder has no summary.json); \
                 the {n} interval(s) it had finished are shown"
            ),
        });
        case.measured = (!intervals.is_empty()).then(|| Measured {
            intervals,
            ..Measured::default()
        });
        case.log_tail = folder.log_tail();
        return Ok(case);
    }
    let mut case = parse_summary(&summary_path, &read_file(&summary_path)?)?;
    if case.name.is_empty() {
        case.name = case_name.to_string();
        case.app = app.map(str::to_string);
    }
    case.log_tail = folder.log_tail();
    Ok(case)
}

/// summary.json back into a [`Case`]; see [`summary_json`] for the layout.
fn parse_summary(path: &Path, bytes: &[u8]) -> Result<Case, ResultsError> {
    // Syntax first, from the bytes, so its errors keep their line and column.
    let mut object: serde_json::Map<String, serde_json::Value> = parse(path, bytes)?;
    let fields: CaseFields = from_value(path, serde_json::Value::Object(object.clone()))?;
    // A failed case has only the suite's fields; `requests` marks an engine summary.
    let measured = if object.contains_key("requests") {
        object.remove("status");
        if let Some(codes) = object.remove("status_codes") {
            object.insert("status".into(), codes);
        }
        let object = serde_json::Value::Object(object);
        // The digest alone first: through `Measured`'s flatten, an error would lose
        // the name of its key.
        from_value::<crate::model::Digest>(path, object.clone())?;
        let mut m: Measured = from_value(path, object)?;
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
    let mut case = Case::new(
        fields.case.unwrap_or_default(),
        fields.status.unwrap_or(CaseStatus::Ok),
    );
    case.app = fields.app;
    case.detail = fields.detail;
    case.server_version = fields.server_version;
    case.server_cpu_percent = fields.server_cpu_percent;
    case.server_rss_mib = fields.server_rss_mib;
    case.server_samples = fields.server_samples;
    case.repeats = fields.repeats;
    case.agents = fields.agents;
    case.workers = fields.workers;
    case.measured = measured;
    Ok(case)
}

fn read_file(path: &Path) -> Result<Vec<u8>, ResultsError> {
    std::fs::read(path).map_err(|error| ResultsError::Read {
        path: path.to_path_buf(),
        error,
    })
}

/// Parses JSON bytes; an error says where: the key path, and the line and column.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
) -> Result<T, ResultsError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| parse_error(path, e))
}

/// As [`parse`], from a value already parsed: the error names the key.
fn from_value<T: serde::de::DeserializeOwned>(
    path: &Path,
    value: serde_json::Value,
) -> Result<T, ResultsError> {
    serde_path_to_error::deserialize(value).map_err(|e| parse_error(path, e))
}

fn parse_error(path: &Path, e: serde_path_to_error::Error<serde_json::Error>) -> ResultsError {
    let key = e.path().to_string();
    let what = match key.as_str() {
        "." | "" => e.inner().to_string(),
        _ => format!("`{key}`: {}", e.inner()),
    };
    ResultsError::Parse {
        path: path.to_path_buf(),
        what,
    }
}

/// Reads a JSON Lines series. A torn last line (the run was killed mid-write) is
/// dropped; a bad line elsewhere is an error naming the line. A missing file is an
/// empty series: the case ended before its first interval.
pub fn read_json_lines<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Vec<T>, ResultsError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Vec::new());
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match parse(path, line.as_bytes()) {
            Ok(item) => out.push(item),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(ResultsError::Parse { what, .. }) => {
                return Err(ResultsError::Parse {
                    path: PathBuf::from(format!("{}:{}", path.display(), i + 1)),
                    what,
                })
            }
            Err(e) => return Err(e),
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
    use crate::model::{Digest, Interval, QuantilePoint};

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
                QuantilePoint {
                    q: 0.5,
                    us: 100,
                    count: 0
                },
                QuantilePoint {
                    q: 1.0,
                    us: 900,
                    count: 0
                }
            ]
        );
        assert_eq!(m.intervals[0].digest.requests, 10);
        assert_eq!(m.digest.latency_us.p50, 100);
        // Written before `status_codes`: the codes come back from the intervals.
        assert_eq!(m.digest.status.get("200"), Some(&10));
        assert_eq!(a.log_tail, ["one", "two"]);
        assert_eq!(a.server_samples.len(), 1);
        assert_eq!(
            (b.status, b.detail.as_deref()),
            (CaseStatus::FailedToStart, Some("boom"))
        );
        assert!(b.measured.is_none());
        assert_eq!(c.status, CaseStatus::Killed);
        assert!(c.detail.as_deref().unwrap().contains("killed"), "{c:?}");
        assert_eq!(c.measured.as_ref().unwrap().intervals.len(), 1);
        assert!(c.totals().is_none(), "a killed case has no totals");
        assert_eq!(dd.status, CaseStatus::NotRun);
    }

    #[test]
    fn errors_name_the_file_and_the_key_or_line() {
        let tmp = tempfile::tempdir().unwrap();
        let e = read_run(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("run.json"), "{e}");
        write(
            tmp.path(),
            "run.json",
            "{\"cases\": [\"a\"],\n \"interval_s\": \"ten\"}",
        );
        let e = read_run(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("run.json") && e.contains("interval_s") && e.contains("line 2"),
            "{e}"
        );
        write(tmp.path(), "run.json", r#"{"cases": ["a"]}"#);
        write(tmp.path(), "a/summary.json", r#"{"requests": "many"}"#);
        let e = read_run(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("a/summary.json") && e.contains("`requests`"),
            "{e}"
        );
        write(
            tmp.path(),
            "a/summary.json",
            r#"{"case": "a", "status": "fine"}"#,
        );
        let e = read_run(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("`status`") && e.contains("fine"), "{e}");
        write(tmp.path(), "a/summary.json", "{\"case\": \n\n [");
        let e = read_run(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn stamps_are_civil_utc_dates() {
        assert_eq!(stamp_of(0), "1970-01-01T00-00-00Z");
        // A leap day, and the last second of a year.
        assert_eq!(stamp_of(951_782_400), "2000-02-29T00-00-00Z");
        assert_eq!(stamp_of(1_798_761_599), "2026-12-31T23-59-59Z");
    }

    /// Every field of a case survives a write and a read, and the file keeps the
    /// layout older readers know: the case's status as text, the codes beside it.
    #[test]
    fn a_case_written_reads_back_the_same() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = RunFolder::create(&tmp.path().join("run")).unwrap();
        let meta = RunMeta {
            cases: vec!["a".into()],
            started_utc: Some("2026-12-02T01-00-00Z".into()),
            ..RunMeta::default()
        };
        folder.write_meta(&meta).unwrap();
        let mut digest = Digest {
            requests: 3,
            rps: 1.5,
            ..Digest::default()
        };
        digest.status.insert("200".into(), 2);
        digest.status.insert("500".into(), 1);
        let mut case = Case::new("a", CaseStatus::Crashed);
        case.app = Some("json".into());
        case.detail = Some("the server exited".into());
        case.set_server_samples(vec![ServerSample {
            t_s: 1.0,
            cpu_percent: 40.0,
            rss_mib: 12.0,
            processes: 2,
            processes_started: 0,
            processes_exited: 1,
        }]);
        case.measured = Some(Measured {
            digest: digest.clone(),
            generator_threads: 1,
            intervals: vec![Interval {
                index: 0,
                t_s: 2.0,
                digest,
                ..Interval::default()
            }],
            latency_distribution_us: vec![QuantilePoint {
                q: 1.0,
                us: 7,
                count: 3,
            }],
            ..Measured::default()
        });
        case.repeats = vec![Repeat::of(&case).unwrap()];
        case.agents = Some(vec![AgentShare {
            address: "10.0.0.2:7701".into(),
            status: crate::model::AgentStatus::Lost,
            requests: 3,
            errors: 0,
            generator_cpu_percent: 12.5,
            clock_offset_us: -40,
            io: engine::IoPath::Epoll,
        }]);
        let dir = folder.case_dir("a", None).unwrap();
        dir.write_case(&case).unwrap();
        let text: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path(SUMMARY_JSON)).unwrap()).unwrap();
        assert_eq!(text["status"], "crashed");
        assert_eq!(text["status_codes"]["500"], 1);
        assert!(dir.path(HGRM).is_file());
        let run = folder.read().unwrap();
        assert_eq!(run.meta, meta);
        assert_eq!(run.cases, [case]);
    }
}
