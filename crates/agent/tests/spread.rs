//! A controller and three agents on 127.0.0.2-4, in this process, against a real
//! HTTP server on 127.0.0.1: the run is split exactly, merged losslessly, and a wrong
//! token or a refused target stops it before any load.

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use agent::{AgentOptions, Agents, ControllerError, Token};
use engine::{Stats, StatsWire};
use scenario::{Load, Request, Scenario, Target, Timeouts};

const TOKEN: &str = "a-token-for-the-tests-only";

/// Starts an agent on `ip`, serving one run; returns its address.
fn agent_on(ip: &str, threads: usize, token: &str, save: Option<&Path>) -> String {
    let listener = TcpListener::bind((ip, 0)).expect("127.0.0.x binds on Linux");
    let address = listener.local_addr().unwrap().to_string();
    let options = AgentOptions {
        token: Token::new(token).unwrap(),
        threads,
        cpus: None,
        allow_remote: false,
        once: true,
        save_shares: save.map(Path::to_path_buf),
        io: engine::IoChoice::Auto,
    };
    std::thread::spawn(move || agent::serve(listener, options, |_| {}));
    address
}

fn scenario(port: u16, connections: u32, requests: u64) -> Scenario {
    Scenario {
        target: Target {
            host: "127.0.0.1".into(),
            port,
            tls: false,
        },
        load: Load::Closed {
            connections,
            requests: Some(requests),
            script: vec![Request::get("/pong")],
        },
        duration: Some(Duration::from_secs(60)),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            response: Duration::from_secs(5),
        },
        trust: Default::default(),
    }
}

fn agents(addresses: Vec<String>, token: &str) -> Agents {
    Agents {
        addresses,
        token: Token::new(token).unwrap(),
    }
}

/// One controller's run of `s` on `agents`, with nothing to stop it.
fn control(
    s: &Scenario,
    agents: Agents,
    interval: Duration,
) -> Result<agent::SpreadRun, ControllerError> {
    let stop = Arc::new(AtomicBool::new(false));
    agent::controller::run(s, &agents, interval, &mut [], &stop, None)
}

#[test]
fn three_agents_send_exactly_the_count_and_merge_losslessly() {
    let server = testserver::Server::start(0).unwrap();
    let saved = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = (0..3).map(|i| saved.path().join(format!("a{i}"))).collect();
    for d in &dirs {
        std::fs::create_dir_all(d).unwrap();
    }
    let addresses = vec![
        agent_on("127.0.0.2", 2, TOKEN, Some(&dirs[0])),
        agent_on("127.0.0.3", 1, TOKEN, Some(&dirs[1])),
        agent_on("127.0.0.4", 2, TOKEN, Some(&dirs[2])),
    ];
    // 7 connections and 5003 requests over 5 slots: nothing divides evenly.
    let run = control(
        &scenario(server.port, 7, 5003),
        agents(addresses.clone(), TOKEN),
        Duration::from_millis(500),
    )
    .expect("the run starts");
    let s = &run.summary;
    assert_eq!(s.digest.requests, 5003);
    assert_eq!(server.requests(), 5003, "the server's own count");
    assert_eq!(s.digest.connections_opened, 7);
    assert_eq!(s.digest.errors_total, 0);
    // Per-agent figures add up to the whole.
    let shares: Vec<u64> = run.agents.iter().map(|a| a.requests).collect();
    assert_eq!(shares.iter().sum::<u64>(), 5003, "{shares:?}");
    assert!(run
        .agents
        .iter()
        .all(|a| a.status == results::AgentStatus::Ok));
    let addresses_back: Vec<&str> = run.agents.iter().map(|a| a.address.as_str()).collect();
    assert_eq!(addresses_back, addresses);
    // Slots 0-2 of 5 have 1001 requests, 3-4 have 1000; the agents hold 0-1, 2, 3-4.
    assert_eq!(shares, [2002, 1001, 2000]);
    // The merge equals one histogram holding every agent's own samples.
    let mut merged = Stats::default();
    for d in &dirs {
        let text = std::fs::read(d.join("share-1.json")).expect("each agent saved its share");
        let wire: StatsWire = serde_json::from_slice(&text).unwrap();
        merged.add(&Stats::from_wire(&wire).unwrap());
    }
    assert_eq!(s.total.latency, merged.latency);
    assert_eq!(s.total.to_wire(), merged.to_wire());
    assert_eq!(
        s.latency_distribution_us,
        engine::latency_distribution(&merged.latency)
    );
    // Intervals of the merged series add up to the total too.
    let from_intervals: u64 = s.intervals.iter().map(|i| i.digest.requests).sum();
    assert_eq!(from_intervals, 5003);
}

/// https through agents: the extra root travels in the scenario (no file on the
/// agents), and a refused certificate's words come back with the merged stats.
#[test]
fn https_trust_travels_with_the_scenario_and_a_refusal_comes_back_named() {
    use testkit::tls::{Ca, Mode, TlsServer};
    let ca = Ca::new("agents' test CA");
    let server = TlsServer::start(&ca.issue(&["127.0.0.1"]), Mode::Serve);
    let mut s = scenario(server.port, 2, 40);
    s.target.tls = true;
    s.trust.extra_roots_pem = vec![ca.pem()];
    let addresses = vec![
        agent_on("127.0.0.2", 1, TOKEN, None),
        agent_on("127.0.0.3", 1, TOKEN, None),
    ];
    let run =
        control(&s, agents(addresses, TOKEN), Duration::from_millis(500)).expect("the run starts");
    assert_eq!(
        run.summary.digest.requests, 40,
        "{:?}",
        run.summary.tls_failure
    );
    assert_eq!((server.handshakes(), server.requests()), (2, 40));

    s.trust = Default::default();
    let addresses = vec![agent_on("127.0.0.2", 1, TOKEN, None)];
    let run =
        control(&s, agents(addresses, TOKEN), Duration::from_millis(500)).expect("the run starts");
    assert_eq!(run.summary.digest.errors.get("tls_certificate"), Some(&40));
    let words = run.summary.tls_failure.expect("the words came back");
    assert!(words.contains("UnknownIssuer"), "{words}");
}

#[test]
fn a_wrong_token_stops_the_run_before_any_load() {
    let server = testserver::Server::start(0).unwrap();
    let address = agent_on("127.0.0.2", 1, "the-agents-token-is-this", None);
    let e = control(
        &scenario(server.port, 1, 10),
        agents(vec![address.clone()], "the-controllers-is-other"),
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(
        matches!(&e, ControllerError::WrongToken { address: a } if *a == address),
        "{e}"
    );
    assert_eq!(server.requests(), 0);
}

#[test]
fn an_agent_refuses_a_target_off_loopback_without_allow_remote() {
    let address = agent_on("127.0.0.3", 1, TOKEN, None);
    let mut s = scenario(9, 1, 10);
    // TEST-NET-1 (RFC 5737): never routed, and the agent refuses before any connect.
    s.target.host = "192.0.2.1".into();
    let e = control(&s, agents(vec![address], TOKEN), Duration::from_secs(1)).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("refused") && text.contains("--allow-remote"),
        "{text}"
    );
}

#[test]
fn an_unreachable_agent_is_named() {
    // A port nothing listens on: bound, then closed.
    let address = TcpListener::bind("127.0.0.2:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let e = control(
        &scenario(9, 1, 10),
        agents(vec![address.clone()], TOKEN),
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(e.to_string().contains(&address), "{e}");
}

#[test]
fn a_second_controller_is_refused_while_a_run_goes_on() {
    let server = testserver::Server::start(0).unwrap();
    let address = agent_on("127.0.0.4", 1, TOKEN, None);
    let mut long = scenario(server.port, 1, 1_000_000_000);
    long.duration = Some(Duration::from_secs(2));
    let first = {
        let (address, long) = (address.clone(), long.clone());
        std::thread::spawn(move || {
            control(
                &long,
                agents(vec![address], TOKEN),
                Duration::from_millis(500),
            )
        })
    };
    // Let the first controller's run begin.
    std::thread::sleep(Duration::from_millis(800));
    let second = control(
        &scenario(server.port, 1, 10),
        agents(vec![address.clone()], TOKEN),
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(second.to_string().contains("busy"), "{second}");
    let first = first
        .join()
        .unwrap()
        .expect("the first run is not disturbed");
    assert!(first.summary.digest.requests > 0);
    assert!(first.lost_because.is_empty(), "{:?}", first.lost_because);
}
