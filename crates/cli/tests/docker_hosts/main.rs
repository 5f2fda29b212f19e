//! Load from several machines across real separate hosts: Docker containers on a
//! private network of each test's own (internal, 10.123.X.0/24), each with its own
//! address. One runs the test server (`wsgibench-testserver --bind 0.0.0.0:8000`),
//! three run `wsgibench agent --listen 0.0.0.0:7701 --allow-remote`, and one runs the
//! controller, `wsgibench load http://SERVER:8000/pong --agents A1:7701,A2:7701,A3:7701
//! --allow-remote --json /out/out.json` (a bind-mounted folder). Checked:
//!
//! - [`three_agent_hosts_make_exactly_the_asked_run`]: the summary's count, the agents'
//!   shares and the server's own count (`GET /count`) are all exactly `-n`; `--once`
//!   agents exit 0 after their run.
//! - [`an_agent_host_killed_mid_run_is_lost_and_the_others_are_kept`]: `docker kill`
//!   during a `--rate` run: exit 3, that agent `lost`, the others' load kept.
//! - [`an_agent_host_cut_off_is_lost_in_time_and_serves_again_once_back`]:
//!   `docker network disconnect` (a cut, not a death): lost within two intervals + 2 s
//!   of the cut, the run ends; the agent's host keeps running, and once
//!   `docker network connect`ed back the same agent serves the next run, exactly.
//! - [`an_agent_host_not_up_yet_is_refused_by_name`]: a controller started before an
//!   agent listens is refused with exit 2 naming it, before any load; once the agent
//!   is up, the same command runs.
//!
//! And the project's own image and compose file, as a user runs them (`compose`):
//!
//! - [`compose::the_compose_file_runs_the_suite_from_the_projects_image_over_three_agents`]:
//!   the repository's `Dockerfile` built for real, then `deploy/compose.yaml` runs the
//!   suite on a real server case over three agents; the agents exit after their run,
//!   the shares add up, and the viewer serves report.html and the trend site.
//!
//! No registry is needed: the images are made here (`image`), from debootstrap, the
//! host's freshly built binaries and wheels built from pip's cache; no Rust is compiled
//! in Docker. A cold build of the project's image takes 2.5 minutes here (the
//! two stages' apt-get), a warm one none.
//! Without Docker the tests skip in one line, and fail under CI (`testkit::in_ci`).
//! Every wait is bounded; every container and network a test makes is removed when it
//! ends, failed or not (`hosts`).
//!
//! ```text
//! cargo test -p wsgibench --test docker_hosts -- --nocapture   # timings on stderr
//! ```

mod compose;
mod hosts;
mod image;
mod run;

use std::time::{Duration, Instant};

use serde_json::Value;

use hosts::{Container, Ended, Hosts, Serves};

/// Each controller run, whole.
const RUN_BOUND: Duration = Duration::from_secs(120);

fn hosts() -> Option<Hosts> {
    image::test_image().map(|image| Hosts::new(&image))
}

fn agents_of(summary: &Value) -> &Vec<Value> {
    summary["agents"].as_array().expect("an agents list")
}

fn requests(share: &Value) -> u64 {
    share["requests"].as_u64().unwrap()
}

/// The controller's output and how it ended, for assertion messages.
fn said(ended: &Ended) -> String {
    format!(
        "exit {} after {:.1} s\nstdout:\n{}\nstderr:\n{}",
        ended.code,
        ended.took.as_secs_f64(),
        ended.output.stdout,
        ended.output.stderr
    )
}

/// Each share names its agent, in the order given, with the status expected.
fn check_shares(summary: &Value, agents: &[&Container], statuses: &[&str]) {
    let shares = agents_of(summary);
    assert_eq!(shares.len(), agents.len(), "{shares:?}");
    for ((share, agent), status) in shares.iter().zip(agents).zip(statuses) {
        assert_eq!(share["address"], agent.agent_address(), "{shares:?}");
        assert_eq!(share["status"], *status, "{shares:?}");
    }
}

#[test]
fn three_agent_hosts_make_exactly_the_asked_run() {
    let Some(h) = hosts() else { return };
    let server = h.server(10);
    let agents: Vec<Container> = (21..=23).map(|n| h.agent(n, Serves::Once)).collect();
    let refs: Vec<&Container> = agents.iter().collect();
    let mut run = h.load(30, &server, &refs, &["-n", "6007", "-c", "9"]);
    let ended = run.wait(&h, RUN_BOUND);
    assert_eq!(ended.code, 0, "{}", said(&ended));
    let summary = run.summary();
    assert_eq!(summary["requests"], 6007, "{}", said(&ended));
    check_shares(&summary, &refs, &["ok", "ok", "ok"]);
    let shares = agents_of(&summary);
    assert_eq!(shares.iter().map(requests).sum::<u64>(), 6007);
    assert!(shares.iter().all(|s| requests(s) > 0), "{shares:?}");
    assert_eq!(h.server_count(&server), 6007, "the server's own count");
    // Each served its one run and ended.
    for a in &agents {
        assert_eq!(h.exit_code(a, Duration::from_secs(30)), 0, "{}", h.logs(a));
    }
    eprintln!(
        "three agent hosts: 6007 requests in {:.1} s",
        ended.took.as_secs_f64()
    );
}

/// A 6 s run at 300/s over three agents whose third was lost: the console and the
/// summary say so, the lost agent's finished intervals are kept, and the others ran
/// to the end. Returns the summary.
fn the_third_agent_was_lost(ended: &Ended, summary: Value, agents: &[&Container]) -> Value {
    assert!(
        ended
            .output
            .stdout
            .contains(&format!("lost agent  {}", agents[2].agent_address())),
        "{}",
        said(ended)
    );
    check_shares(&summary, agents, &["ok", "ok", "lost"]);
    let shares = agents_of(&summary);
    assert!(requests(&shares[2]) > 0, "{shares:?}");
    assert!(
        requests(&shares[0]) >= 570 && requests(&shares[1]) >= 570,
        "{shares:?}"
    );
    summary
}

#[test]
fn an_agent_host_killed_mid_run_is_lost_and_the_others_are_kept() {
    let Some(h) = hosts() else { return };
    let server = h.server(10);
    let agents: Vec<Container> = (21..=23).map(|n| h.agent(n, Serves::Once)).collect();
    let refs: Vec<&Container> = agents.iter().collect();
    // 300 requests/s over three one-thread agents: 100/s each for 6 s.
    let mut run = h.load(
        30,
        &server,
        &refs,
        &["-c", "3", "-d", "6s", "--rate", "300"],
    );
    run.wait_for_intervals(2, Duration::from_secs(60));
    h.kill(&agents[2]);
    let killed = Instant::now();
    let ended = run.wait(&h, RUN_BOUND);
    let after_kill = killed.elapsed();
    assert_eq!(
        ended.code,
        3,
        "a run that lost an agent exits 3\n{}",
        said(&ended)
    );
    let summary = the_third_agent_was_lost(&ended, run.summary(), &refs);
    let shares = agents_of(&summary);
    assert_eq!(
        summary["requests"].as_u64().unwrap(),
        shares.iter().map(requests).sum::<u64>()
    );
    // The server got all that was counted, and what the dead agent sent after its
    // last interval.
    assert!(h.server_count(&server) >= summary["requests"].as_u64().unwrap());
    // The run was due 6 s after its start; the kill was a death the controller sees
    // at once (the connection closes), so no wait for a timeout.
    assert!(after_kill < Duration::from_secs(12), "{after_kill:?}");
    eprintln!(
        "killed agent: the run ended {:.1} s after the kill ({:.1} s in all)",
        after_kill.as_secs_f64(),
        ended.took.as_secs_f64()
    );
}

#[test]
fn an_agent_host_cut_off_is_lost_in_time_and_serves_again_once_back() {
    let Some(h) = hosts() else { return };
    let server = h.server(10);
    // Long-lived agents, as on load machines: a next run follows the first.
    let agents: Vec<Container> = (21..=23).map(|n| h.agent(n, Serves::Runs)).collect();
    let refs: Vec<&Container> = agents.iter().collect();
    let cut = &agents[2];
    let mut run = h.load(
        30,
        &server,
        &refs,
        &["-c", "3", "-d", "6s", "--rate", "300", "--timeout", "2s"],
    );
    // Late in the run (4 of 6 intervals), so the loss must be found by the controller's
    // read timeout, not by the run's end: two intervals (1 s) + 2 s after the agent's
    // last word, which came before the cut.
    run.wait_for_intervals(4, Duration::from_secs(60));
    h.disconnect(cut);
    let cut_at = Instant::now();
    let ended = run.wait(&h, RUN_BOUND);
    let after_cut = cut_at.elapsed();
    assert_eq!(ended.code, 3, "{}", said(&ended));
    the_third_agent_was_lost(&ended, run.summary(), &refs);
    // Lost within 2 × 1 s + 2 s of the cut, plus 2 s for the container to end and
    // `docker start --attach` to return.
    assert!(
        after_cut < Duration::from_secs(6),
        "the run ended {after_cut:?} after the cut\n{}",
        said(&ended)
    );
    eprintln!(
        "cut agent: the run ended {:.1} s after the cut ({:.1} s in all)",
        after_cut.as_secs_f64(),
        ended.took.as_secs_f64()
    );

    // The cut host is alive; back on the network with its address, its agent serves
    // the next controller. It ran its share to the share's planned end (it cannot tell
    // a cut from a quiet controller: none speaks during the load), then said so.
    assert_eq!(
        h.inspect(cut, "{{.State.Running}}"),
        "true",
        "{}",
        h.logs(cut)
    );
    h.connect(cut);
    let first_controller = format!("{}:", h.ip(30));
    let logs = h.wait_for_log(cut, &first_controller);
    let served = logs
        .lines()
        .find(|l| l.starts_with(&first_controller))
        .unwrap()
        .to_string();
    eprintln!("cut agent, about the first run: {served}");
    // A fresh server: packets the cut agent's load connections still had to send
    // reach the first one once the host is back.
    let server2 = h.server(11);
    let mut run = h.load(31, &server2, &refs, &["-n", "3001", "-c", "6"]);
    let ended = run.wait(&h, RUN_BOUND);
    assert_eq!(ended.code, 0, "{}", said(&ended));
    let summary = run.summary();
    assert_eq!(summary["requests"], 3001);
    check_shares(&summary, &refs, &["ok", "ok", "ok"]);
    let shares = agents_of(&summary);
    assert_eq!(shares.iter().map(requests).sum::<u64>(), 3001);
    assert!(requests(&shares[2]) > 0, "{shares:?}");
    assert_eq!(h.server_count(&server2), 3001);
}

#[test]
fn an_agent_host_not_up_yet_is_refused_by_name() {
    let Some(h) = hosts() else { return };
    let server = h.server(10);
    let a1 = h.agent(21, Serves::Once);
    let a2 = h.agent(22, Serves::Once);
    // Its host has its address, but its agent waits for the test's word.
    let late = h.late_agent(23);
    let refs = [&a1, &a2, &late];
    let mut run = h.load(30, &server, &refs, &["-n", "2000", "-c", "3"]);
    let ended = run.wait(&h, RUN_BOUND);
    assert_eq!(ended.code, 2, "{}", said(&ended));
    let err = &ended.output.stderr;
    assert!(
        err.contains(&format!("agent {}", late.agent_address())) && err.contains("cannot connect"),
        "{}",
        said(&ended)
    );
    assert!(!run.wrote_summary());
    assert_eq!(h.server_count(&server), 0, "no load before the refusal");
    eprintln!(
        "late agent: refused {:.1} s after the controller's start: {}",
        ended.took.as_secs_f64(),
        err.trim()
    );
    // The controller had handshaken with the first two (in order), then let them go.
    let refused_controller = format!("{}:", h.ip(30));
    for a in [&a1, &a2] {
        let logs = h.wait_for_log(a, &refused_controller);
        let line = logs.lines().find(|l| l.starts_with(&refused_controller));
        eprintln!("{}, about the refused run: {}", a.name, line.unwrap());
    }
    // Strict before the load, so a controller starts once its agents are ready
    // (compose's healthchecks, Kubernetes' readiness): then the same command runs,
    // and the refusal did not use up the other two `--once` agents.
    h.let_late_agent_start(&late);
    let mut run = h.load(31, &server, &refs, &["-n", "2000", "-c", "3"]);
    let ended = run.wait(&h, RUN_BOUND);
    assert_eq!(ended.code, 0, "{}", said(&ended));
    let summary = run.summary();
    assert_eq!(summary["requests"], 2000);
    check_shares(&summary, &refs, &["ok", "ok", "ok"]);
    assert_eq!(h.server_count(&server), 2000);
}
