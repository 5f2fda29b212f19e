//! `wsgibench agent` processes on 127.0.0.2-4 and `wsgibench load --agents` as their
//! controller, against a counting server on 127.0.0.1: exact counts, a merge equal to
//! the agents' own histograms, an agent killed or stopped mid-run (lost, the others'
//! numbers kept, exit 3), a wrong token (refused before any load), and a clock offset
//! measured on an agent whose monotonic clock is shifted (`unshare --time`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engine::{Stats, StatsWire};
use serde_json::Value;

use crate::util::{read_json, run_bounded, text, wsgibench, Pong};

const TOKEN: &str = "agents-test-token-0123456789";

/// An agent process serving one run; killed by its PID when dropped if still running.
struct Agent {
    child: Child,
    address: String,
}

impl Agent {
    fn start(ip: &str, threads: u32, save: Option<&Path>) -> Agent {
        Agent::start_under(&[], ip, threads, save)
    }

    /// The agent under `wrapper` (a command line that runs the rest), e.g. `unshare`.
    fn start_under(wrapper: &[&str], ip: &str, threads: u32, save: Option<&Path>) -> Agent {
        let bin = env!("CARGO_BIN_EXE_wsgibench");
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.args(["agent", "--listen", &format!("{ip}:0"), "--once", "-t"])
            .arg(threads.to_string())
            .env("WSGIBENCH_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(dir) = save {
            cmd.arg("--save-shares").arg(dir);
        }
        let mut child = cmd.spawn().expect("the agent starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // "wsgibench agent on 127.0.0.2:41234 (...)"
        let address = first
            .split_whitespace()
            .nth(3)
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        Agent { child, address }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the PID of a child this test started and has not reaped.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process this test started, killed by its PID when dropped, even when an
/// assertion fails first.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn load(server: &Pong, agents: &[&Agent], extra: &[&str], json: &Path) -> Command {
    let mut cmd = wsgibench();
    cmd.args(["load", &format!("http://127.0.0.1:{}/", server.port), "-q"])
        .args(extra)
        .arg("--agents")
        .arg(
            agents
                .iter()
                .map(|a| a.address.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )
        .arg("--json")
        .arg(json)
        .env("WSGIBENCH_TOKEN", TOKEN);
    cmd
}

fn agents_of(summary: &Value) -> &Vec<Value> {
    summary["agents"].as_array().expect("an agents list")
}

#[test]
fn three_agents_make_exactly_the_asked_run_and_a_true_merge() {
    let server = Pong::start();
    let saved = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = (2..5).map(|i| saved.path().join(format!("a{i}"))).collect();
    let agents: Vec<Agent> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            std::fs::create_dir_all(d).unwrap();
            Agent::start(&format!("127.0.0.{}", i + 2), 2, Some(d))
        })
        .collect();
    let json = saved.path().join("out.json");
    let refs: Vec<&Agent> = agents.iter().collect();
    let out = run_bounded(
        &mut load(&server, &refs, &["-n", "6007", "-c", "9"], &json),
        Duration::from_secs(120),
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let summary = read_json(&json);
    assert_eq!(summary["requests"], 6007);
    assert_eq!(server.requests(), 6007, "the server's own count");
    // Nine connections, one per -c, all kept alive.
    assert_eq!(server.peers().values().sum::<u64>(), 9);
    let shares = agents_of(&summary);
    assert_eq!(shares.len(), 3);
    let total: u64 = shares.iter().map(|a| a["requests"].as_u64().unwrap()).sum();
    assert_eq!(total, 6007);
    assert!(shares.iter().all(|a| a["status"] == "ok"), "{shares:?}");
    // The merged distribution is the one of all the agents' samples in one histogram.
    let mut merged = Stats::default();
    for d in &dirs {
        let wire: StatsWire =
            serde_json::from_slice(&std::fs::read(d.join("share-1.json")).unwrap()).unwrap();
        merged.add(&Stats::from_wire(&wire).unwrap());
    }
    // Every step's latency and count match exactly; the step's quantile label is a
    // float the two sides may round in its last digit.
    let steps = |v: &Value| -> Vec<(u64, u64, f64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["us"].as_u64().unwrap(),
                    p["count"].as_u64().unwrap(),
                    p["q"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let got = steps(&summary["latency_distribution_us"]);
    let want = steps(&serde_json::to_value(engine::latency_distribution(&merged.latency)).unwrap());
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1), (w.0, w.1));
        assert!((g.2 - w.2).abs() < 1e-12, "{g:?} {w:?}");
    }
    assert_eq!(
        summary["latency_us"]["p99"],
        merged.latency.value_at_quantile(0.99)
    );
    assert_eq!(summary["latency_us"]["max"], merged.latency.max());
}

/// A duration run over two agents in which `fault` strikes the second after a second.
fn one_agent_fails(fault: i32) -> (Value, i32, Duration) {
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let a = Agent::start("127.0.0.2", 1, None);
    let b = Agent::start("127.0.0.3", 1, None);
    let json = dir.path().join("out.json");
    let child = load(
        &server,
        &[&a, &b],
        &["-c", "2", "-d", "6s", "--interval", "1s", "--rate", "400"],
        &json,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let began = Instant::now();
    std::thread::sleep(Duration::from_millis(1800));
    b.signal(fault);
    let out = crate::util::wait_bounded(child, Duration::from_secs(60));
    let took = began.elapsed();
    assert!(
        text(&out.stdout).contains("lost agent"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (read_json(&json), out.status.code().unwrap_or(-1), took)
}

#[test]
fn an_agent_killed_mid_run_is_lost_and_the_others_are_kept() {
    let (summary, code, took) = one_agent_fails(libc::SIGKILL);
    assert_eq!(code, 3, "a run that lost an agent exits 3");
    let shares = agents_of(&summary);
    assert_eq!(shares[0]["status"], "ok");
    assert_eq!(shares[1]["status"], "lost");
    // The lost agent's finished intervals are kept; the other ran to the end.
    assert!(shares[1]["requests"].as_u64().unwrap() > 0, "{shares:?}");
    // 400/s over two slots for 6 s: the survivor sent its 1200 planned requests.
    assert!(
        shares[0]["requests"].as_u64().unwrap() >= 1150,
        "{shares:?}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn a_stopped_agent_is_lost_within_two_intervals_and_never_hangs_the_run() {
    let (summary, code, took) = one_agent_fails(libc::SIGSTOP);
    assert_eq!(code, 3);
    assert_eq!(agents_of(&summary)[1]["status"], "lost");
    // 6 s of load; the stalled agent is given up 2 intervals + 2 s after its last word.
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn a_wrong_token_is_refused_before_any_load() {
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let a = Agent::start("127.0.0.2", 1, None);
    let json = dir.path().join("out.json");
    let mut cmd = load(&server, &[&a], &["-n", "100", "-c", "1"], &json);
    cmd.env("WSGIBENCH_TOKEN", "some-other-token-0123456789");
    let out = run_bounded(&mut cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(&a.address) && err.contains("token"), "{err}");
    assert_eq!(server.requests(), 0);
    assert!(!json.exists());
}

#[test]
fn a_shifted_monotonic_clock_is_measured() {
    let shift_s: i64 = 1000;
    let probe = Command::new("unshare")
        .args(["--time", "--monotonic", "1", "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "unshare --time is needed under CI (util-linux, a kernel with time namespaces)"
        );
        eprintln!("skipped: unshare --time does not work here");
        return;
    }
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let shifted = Agent::start_under(
        &[
            "unshare",
            "--time",
            "--monotonic",
            &shift_s.to_string(),
            "--fork",
            "--kill-child",
            "--",
        ],
        "127.0.0.2",
        1,
        None,
    );
    let plain = Agent::start("127.0.0.3", 1, None);
    let json = dir.path().join("out.json");
    let out = run_bounded(
        &mut load(
            &server,
            &[&shifted, &plain],
            &["-n", "200", "-c", "2"],
            &json,
        ),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let shares = agents_of(&read_json(&json)).clone();
    let offset = |i: usize| shares[i]["clock_offset_us"].as_i64().unwrap();
    // To within 50 ms: the exchange's own uncertainty is far smaller on loopback.
    assert!(
        (offset(0) - shift_s * 1_000_000).abs() < 50_000,
        "measured {} µs for a {shift_s} s shift",
        offset(0)
    );
    assert!(offset(1).abs() < 50_000, "{}", offset(1));
    assert_eq!(server.requests(), 200);
}

/// The suite the way a cluster runs it: the case's server already runs elsewhere
/// (`--servers-at`), a sampler beside it (`wsgibench sample`, `--samplers-at`), and
/// two agents make the load. The case's summary lists both agents, whose requests
/// add up to what the server counted, and the server's samples.
#[test]
fn a_suite_case_on_a_running_server_loaded_by_agents() {
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let a = Agent::start("127.0.0.2", 1, None);
    let b = Agent::start("127.0.0.3", 1, None);
    let sampler_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let _sampler = Stopped(
        wsgibench()
            .args(["sample", "--every", "200ms", "--listen", &sampler_addr])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Up before the run asks it, as a readiness probe makes sure in a cluster.
    let up = std::time::Instant::now();
    while std::net::TcpStream::connect(&sampler_addr).is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(20),
            "the sampler never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites/ci.toml");
    let out_dir = dir.path().join("out");
    let mut cmd = wsgibench();
    cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .args(["run", "-q", "--cases", "bjoern", "--suite"])
        .arg(&suite)
        .arg("--servers-at")
        .arg(format!("127.0.0.1:{}", server.port))
        .arg("--samplers-at")
        .arg(&sampler_addr)
        .arg("--agents")
        .arg(format!("{},{}", a.address, b.address))
        .arg("--out")
        .arg(&out_dir)
        .arg("--db")
        .arg(dir.path().join("history.sqlite3"))
        .env("WSGIBENCH_TOKEN", TOKEN);
    let out = run_bounded(&mut cmd, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let run = results::read_run(&out_dir).unwrap();
    // Nothing measured ran on this machine's CPUs: run.json says where it did.
    let placement = run.meta.placement.as_deref().unwrap_or_default();
    assert!(
        placement.starts_with("servers at ") && placement.contains("the load from 2 agents"),
        "{placement}"
    );
    assert_eq!(run.meta.server_cpu, None);
    assert!(run.meta.generator_cpus.is_empty());
    let case = &run.cases[0];
    assert_eq!(case.status, results::CaseStatus::Ok, "{:?}", case.detail);
    let shares = case.agents.as_ref().expect("the agents are in the summary");
    assert_eq!(shares.len(), 2);
    let requests: u64 = shares.iter().map(|s| s.requests).sum();
    let measured = case.measured.as_ref().unwrap().digest.requests;
    assert_eq!(requests, measured);
    // The server's own count: the load, the readiness probe and the check of the app's
    // answer before the load (one request each), and the requests the cut at 4 s caught
    // in flight (at most one per user's connection, 10). Under load all ten can be.
    let served = server.requests();
    assert!(
        (measured + 2..=measured + 2 + 10).contains(&served),
        "the server read {served}, the run counted {measured}"
    );
    // ci.toml: 5 users/s for 2 s, capped at 10, each one connection.
    assert_eq!(case.measured.as_ref().unwrap().digest.users_started, 10);
    assert!(out_dir.join("report.html").is_file());
    // The sampler saw the machine's processes through the 4 s of load: samples every
    // 200 ms, counted from the load's start, and the table's two server columns.
    assert!(
        case.server_samples.len() >= 10,
        "{:?} {:?}",
        case.server_samples,
        case.detail
    );
    assert!(case
        .server_samples
        .iter()
        .all(|s| s.t_s > 0.0 && s.t_s < 10.0));
    assert!(case.server_cpu_percent.is_some() && case.server_rss_mib.is_some());
}
