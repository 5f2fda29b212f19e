//! The project's own image and compose file, run as a user runs them (deploy/compose.yaml's
//! header): a real server case (`serve-case bjoern`, from the image's venv), three
//! `--once` agents and a controller running `wsgibench run --servers-at --agents`, each
//! its own container on the compose file's internal network; then the viewer, published
//! on this machine's loopback. The image is built from the repository's `Dockerfile`
//! (`image::project_image`).
//!
//! A test killed with SIGKILL leaves its compose project behind; its name starts with
//! `wsgibench-compose-test-`: `docker-compose -p NAME -f deploy/compose.yaml down -v`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::{find_program, outside_tool, Tool};

use crate::hosts::random_hex;
use crate::image::{self, DOCKER_BOUND};
use crate::run::{bounded, checked, Ran};

/// `up` waits for the server's and the agents' health checks.
const UP_BOUND: Duration = Duration::from_secs(240);
/// suites/ci.toml cuts the case at 4 s; the rest is the server's start and the reports.
const RUN_BOUND: Duration = Duration::from_secs(180);
/// A `--once` agent exits once its controller has gone.
const AGENT_EXIT_BOUND: Duration = Duration::from_secs(30);
const VIEWER_BOUND: Duration = Duration::from_secs(60);
const CASE: &str = "bjoern";

/// A compose project of this test's, taken down with its volume when dropped.
struct Project {
    program: PathBuf,
    name: String,
    image: String,
    token: String,
    viewer_port: u16,
}

impl Project {
    fn compose(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(["-p", &self.name, "-f"])
            .arg(image::project_root().join("deploy/compose.yaml"))
            .env("WSGIBENCH_IMAGE", &self.image)
            .env("WSGIBENCH_TOKEN", &self.token)
            .env("CASE", CASE)
            .env("SUITE", "suites/ci.toml")
            .env("VIEWER_PORT", self.viewer_port.to_string());
        c
    }

    fn run(&self, args: &[&str], limit: Duration) -> String {
        checked(self.compose().args(args), limit)
    }

    /// The ID of a service's one container.
    fn container(&self, service: &str) -> String {
        let id = self.run(&["ps", "-q", service], DOCKER_BOUND);
        let id = id.trim();
        assert!(!id.is_empty(), "no container for {service}");
        id.to_string()
    }

    /// What a shell command prints, run in a container of the image with the results
    /// volume mounted read-only at /results.
    fn in_results(&self, command: &str) -> String {
        let volumes = checked(
            Command::new("docker").args([
                "volume",
                "ls",
                "--quiet",
                "--filter",
                &format!("label=com.docker.compose.project={}", self.name),
                "--filter",
                "label=com.docker.compose.volume=results",
            ]),
            DOCKER_BOUND,
        );
        let volume = volumes.trim();
        assert!(
            !volume.is_empty() && !volume.contains('\n'),
            "one results volume of {}: {volumes:?}",
            self.name
        );
        checked(
            Command::new("docker")
                .args(["run", "--rm", "--network", "none", "-v"])
                .arg(format!("{volume}:/results:ro"))
                .args([&self.image, "sh", "-c", command]),
            DOCKER_BOUND,
        )
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let down = bounded(
            self.compose().args(["down", "-v", "--timeout", "5"]),
            DOCKER_BOUND,
        );
        if !down.ok() {
            eprintln!(
                "docker-compose down of {} failed: {}",
                self.name, down.stderr
            );
        }
    }
}

fn compose_program() -> Option<PathBuf> {
    outside_tool(
        &Tool {
            name: "docker-compose",
            debian_package: "docker-compose",
        },
        find_program(&["docker-compose"]),
    )
}

/// A port free on this machine's loopback now, for the viewer to publish on.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An HTTP/1.0 GET from 127.0.0.1:`port`: the status and the body, or `None` while
/// nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(5))
            .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = Vec::new();
    stream.take(8 << 20).read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

fn state(id: &str) -> String {
    checked(
        Command::new("docker").args([
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            id,
        ]),
        DOCKER_BOUND,
    )
    .trim()
    .to_string()
}

fn said(ran: &Ran) -> String {
    format!("stdout:\n{}\nstderr:\n{}", ran.stdout, ran.stderr)
}

#[test]
fn the_compose_file_runs_the_suite_from_the_projects_image_over_three_agents() {
    let Some(image) = image::project_image() else {
        return;
    };
    let Some(program) = compose_program() else {
        return;
    };
    let project = Project {
        program,
        name: format!("wsgibench-compose-test-{}", random_hex(6)),
        image,
        token: random_hex(32),
        viewer_port: free_port(),
    };
    let began = Instant::now();
    // Starts the server and the agents first, waiting for their health checks.
    project.run(&["up", "-d", "controller"], UP_BOUND);
    let controller = project.container("controller");
    let waited = bounded(
        Command::new("docker").args(["wait", &controller]),
        RUN_BOUND,
    );
    let logs = bounded(
        Command::new("docker").args(["logs", &controller]),
        DOCKER_BOUND,
    );
    assert_eq!(
        waited.stdout.trim(),
        "0",
        "the controller's exit code, after {:.1} s; its output:\n{}",
        began.elapsed().as_secs_f64(),
        said(&logs)
    );
    // The agents serve one controller each, then exit: the next run is never blocked.
    let agents: Vec<String> = ["agent1", "agent2", "agent3"]
        .iter()
        .map(|a| project.container(a))
        .collect();
    let until = Instant::now() + AGENT_EXIT_BOUND;
    for agent in &agents {
        while state(agent) != "exited 0" {
            assert!(
                Instant::now() < until,
                "agent {agent} is `{}` {AGENT_EXIT_BOUND:?} after its controller ended",
                state(agent)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // The run as the results volume holds it: `runs/<date>/`, one run.
    let run_dirs = project.in_results("ls /results/runs");
    let runs: Vec<&str> = run_dirs.lines().collect();
    assert_eq!(runs.len(), 1, "{run_dirs}");
    let summary: Value = serde_json::from_str(&project.in_results(&format!(
        "cat /results/runs/{}/{CASE}/summary.json",
        runs[0]
    )))
    .expect("summary.json is JSON");
    assert_eq!(summary["status"], "ok", "{summary:#}");
    let requests = summary["requests"].as_u64().expect("requests");
    assert!(
        requests > 1000,
        "a real server answered {requests} requests"
    );
    assert_eq!(summary["errors_total"], 0, "{summary:#}");
    let shares = summary["agents"].as_array().expect("an agents list");
    assert_eq!(shares.len(), 3, "{summary:#}");
    for share in shares {
        assert_eq!(share["status"], "ok", "{share}");
        assert!(share["requests"].as_u64().unwrap() > 0, "{share}");
    }
    let summed: u64 = shares.iter().map(|s| s["requests"].as_u64().unwrap()).sum();
    assert_eq!(summed, requests, "the agents' shares add up: {summary:#}");

    // The viewer serves the run's report and the trend site on this machine's loopback.
    project.run(&["up", "-d", "viewer"], UP_BOUND);
    let report = format!("/runs/{}/report.html", runs[0]);
    let until = Instant::now() + VIEWER_BOUND;
    let (status, body) = loop {
        if let Some(answer) = get(project.viewer_port, &report) {
            break answer;
        }
        assert!(
            Instant::now() < until,
            "the viewer does not answer on 127.0.0.1:{} within {VIEWER_BOUND:?}",
            project.viewer_port
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(status, 200, "{report}: {body}");
    assert!(body.contains(CASE), "{report} names the case");
    let (status, site) = get(project.viewer_port, "/site/index.html").expect("the trend site");
    assert_eq!(status, 200, "{site}");
    assert!(
        site.contains(&format!("server-{CASE}.html")),
        "the trend site links the case's page:\n{site}"
    );
    eprintln!(
        "compose run of {CASE} over 3 agents: {requests} requests, {:.1} s",
        began.elapsed().as_secs_f64()
    );
}
