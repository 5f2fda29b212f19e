//! The suite runner: each case in turn, launch → ready → load → stop → cool down.
//!
//! A case that is not installed, does not start, or crashes under load becomes a
//! [`CaseResult`] with that status and the evidence (pip's error, the log's last
//! lines); it never stops the cases after it. What the engine measured before a crash
//! is kept.

use std::path::{Path, PathBuf};
use std::time::Duration;

use engine::{RunOptions, Sink, Summary};

use crate::supervise::{free_port, LaunchError, ResourceSample, ResourceSummary, Server};
use crate::{Case, PythonEnv, SuiteFile};

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    Ok,
    NotInstalled,
    FailedToStart,
    /// The server exited while the load ran; the numbers up to then are kept.
    Crashed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Ok => "ok",
            CaseStatus::NotInstalled => "not installed",
            CaseStatus::FailedToStart => "failed to start",
            CaseStatus::Crashed => "crashed",
        }
    }
}

/// Everything one case produced.
pub struct CaseResult {
    pub case: String,
    pub status: CaseStatus,
    /// Why it is not `Ok`: pip's error, or the server log's last lines.
    pub detail: Option<String>,
    pub summary: Option<Summary>,
    pub resources: Vec<ResourceSample>,
    pub version: Option<String>,
    pub log_path: Option<PathBuf>,
}

impl CaseResult {
    pub fn resource_summary(&self) -> Option<ResourceSummary> {
        ResourceSummary::of(&self.resources)
    }

    fn failed(
        case: &Case,
        status: CaseStatus,
        detail: String,
        version: Option<String>,
        log: Option<PathBuf>,
    ) -> Self {
        CaseResult {
            case: case.name.clone(),
            status,
            detail: Some(detail),
            summary: None,
            resources: Vec::new(),
            version,
            log_path: log,
        }
    }
}

/// Where the server and the generator run. On a one-CPU machine both share it and
/// [`Placement::describe`] says so.
#[derive(Debug, Clone)]
pub struct Placement {
    pub server_cpu: Option<usize>,
    pub generator_cpus: Vec<usize>,
}

impl Placement {
    /// The server gets the last allowed CPU, the generator all the others.
    pub fn split(allowed: &[usize]) -> Placement {
        match allowed {
            [] => Placement {
                server_cpu: None,
                generator_cpus: Vec::new(),
            },
            [only] => Placement {
                server_cpu: Some(*only),
                generator_cpus: vec![*only],
            },
            [rest @ .., last] => Placement {
                server_cpu: Some(*last),
                generator_cpus: rest.to_vec(),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self.server_cpu {
            None => "no CPU pinning (affinity unavailable)".into(),
            Some(s) if self.generator_cpus == [s] => {
                format!("server and generator share CPU {s} (one CPU available): results understate both")
            }
            Some(s) => format!(
                "server on CPU {s}, generator on CPU {}",
                join(&self.generator_cpus)
            ),
        }
    }
}

fn join(cpus: &[usize]) -> String {
    cpus.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs one case. `dir` receives the server's log; `sinks` receive the intervals as
/// the load runs; `options` carries the generator's threads, CPUs and stop flag.
pub fn run_case(
    case: &Case,
    env: &PythonEnv,
    protocol: &SuiteFile,
    placement: &Placement,
    dir: &Path,
    options: &RunOptions,
    sinks: &mut [&mut dyn Sink],
) -> CaseResult {
    let version = env.case_version(case);
    if let Err(e) = env.installed(case) {
        return CaseResult::failed(case, CaseStatus::NotInstalled, e.to_string(), version, None);
    }
    let log_path = dir.join("server.log");
    let port = match free_port() {
        Ok(p) => p,
        Err(e) => {
            return CaseResult::failed(
                case,
                CaseStatus::FailedToStart,
                format!("no free port: {e}"),
                version,
                None,
            )
        }
    };
    let started = Server::launch(case, env, port, placement.server_cpu, &log_path)
        .and_then(|mut server| server.wait_ready(protocol.ready_timeout).map(|()| server));
    let mut server = match started {
        Ok(s) => s,
        Err(e) => {
            let detail = match &e {
                LaunchError::FailedToStart { .. } | LaunchError::NotReady { .. } => e.to_string(),
                _ => format!("{e}\n{}", crate::supervise::log_tail(&log_path, 20)),
            };
            return CaseResult::failed(
                case,
                CaseStatus::FailedToStart,
                detail,
                version,
                Some(log_path),
            );
        }
    };
    crate::markers::reached(&crate::markers::case_started(&case.name));
    server.start_sampler();
    let scenario = protocol.scenario("127.0.0.1", port);
    let outcome = engine::run(&scenario, options, sinks);
    let resources = server.stop_sampler();
    let crashed = server.exited();
    let tail = server.log_tail(20);
    let version = server.version().map(str::to_string).or(version);
    let stop = server.stop();
    let (status, detail) = match (&outcome, crashed) {
        (Err(e), _) => (
            CaseStatus::FailedToStart,
            Some(format!("the load could not start: {e}")),
        ),
        (Ok(_), Some(exit)) => (
            CaseStatus::Crashed,
            Some(format!(
                "the server exited during the load ({exit}):\n{tail}"
            )),
        ),
        (Ok(_), None) if !stop.port_free => (
            CaseStatus::Ok,
            Some(format!(
                "port {port} still answered after the stop ({})",
                stop.status
            )),
        ),
        (Ok(_), None) => (CaseStatus::Ok, None),
    };
    CaseResult {
        case: case.name.clone(),
        status,
        detail,
        summary: outcome.ok(),
        resources,
        version,
        log_path: Some(log_path),
    }
}

/// The pause between cases, so one server's TIME_WAIT sockets and CPU heat do not
/// weigh on the next.
pub fn cool_down(protocol: &SuiteFile) {
    if !protocol.cool_down.is_zero() {
        std::thread::sleep(protocol.cool_down.min(Duration::from_secs(60)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_gives_the_server_the_last_cpu() {
        let p = Placement::split(&[0, 1, 2, 3]);
        assert_eq!(
            (p.server_cpu, p.generator_cpus.as_slice()),
            (Some(3), &[0, 1, 2][..])
        );
        assert!(p
            .describe()
            .contains("server on CPU 3, generator on CPU 0,1,2"));
        let one = Placement::split(&[5]);
        assert!(one.describe().contains("share CPU 5"));
    }
}
