//! A run split into segments (the parts several machines would run) is exactly the
//! run one machine makes with as many workers: the parts' counts add up to the plan.
//! Here the parts are two `engine::run` calls in one process, against one server.

use std::time::{Duration, Instant};

use engine::{RunOptions, Segment, Summary};
use scenario::{Arrival, Load, Phase, Request, Scenario, Session, Step};

use crate::util::server::{Behaviour, TestServer};
use crate::util::{closed, open};

/// Runs `scenario` as `parts`, each `(first slot, threads)` of `total` slots, at once,
/// from one common start instant; returns each part's summary.
fn run_parts(scenario: &Scenario, parts: &[(usize, usize)], total: usize) -> Vec<Summary> {
    let start_at = Instant::now() + Duration::from_millis(200);
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .map(|&(first, threads)| {
                scope.spawn(move || {
                    let options = RunOptions {
                        threads,
                        interval: Duration::from_secs(1),
                        segment: Some(Segment { first, total }),
                        start_at: Some(start_at),
                        ..RunOptions::default()
                    };
                    engine::run(scenario, &options, &mut []).expect("the part runs")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn pong() -> TestServer {
    TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    })
}

#[test]
fn a_counted_run_split_in_parts_sends_exactly_the_count() {
    let server = pong();
    // 7 connections and 1001 requests over 5 slots: neither divides evenly.
    let scenario = closed(server.port, 7, Some(1001), Some(Duration::from_secs(60)));
    let parts = run_parts(&scenario, &[(0, 2), (2, 1), (3, 2)], 5);
    let requests: Vec<u64> = parts.iter().map(|s| s.digest.requests).collect();
    assert_eq!(requests.iter().sum::<u64>(), 1001, "{requests:?}");
    assert_eq!(server.requests(), 1001);
    let connections: u64 = parts.iter().map(|s| s.digest.connections_opened).sum();
    assert_eq!(connections, 7);
    // Slot i gets 1001/5 requests, plus one for the first 1001 % 5 slots.
    assert_eq!(requests, [201 + 200, 200, 200 + 200]);
}

#[test]
fn an_open_run_split_in_parts_keeps_the_planned_rate() {
    let server = pong();
    let scenario = open(server.port, 4, 200.0, Duration::from_secs(2));
    let parts = run_parts(&scenario, &[(0, 1), (1, 1)], 2);
    let total: u64 = parts.iter().map(|s| s.digest.requests).sum();
    // 200/s for 2 s: the parts take every other planned instant.
    assert!((396..=401).contains(&total), "{total}");
    let each: Vec<u64> = parts.iter().map(|s| s.digest.requests).collect();
    assert!(each[0].abs_diff(each[1]) <= 1, "{each:?}");
}

#[test]
fn a_session_run_split_in_parts_starts_exactly_the_planned_users() {
    let server = pong();
    let mut scenario = closed(server.port, 1, None, Some(Duration::from_secs(10)));
    scenario.load = Load::Sessions {
        phases: vec![Phase {
            duration: Duration::from_secs(1),
            users_per_second: 13.0,
            max_users: None,
            session_weights: None,
        }],
        sessions: vec![Session {
            name: "three".into(),
            weight: 1.0,
            steps: vec![Step::Loop {
                count: 3,
                steps: vec![Step::Request(Request::get("/"))],
            }],
        }],
        max_users: None,
        arrival: Arrival::Uniform,
        servers: Vec::new(),
    };
    let planned = match &scenario.load {
        Load::Sessions { phases, .. } => phases[0].planned_users(),
        _ => unreachable!(),
    };
    let parts = run_parts(&scenario, &[(0, 2), (2, 1)], 3);
    let users: u64 = parts.iter().map(|s| s.digest.users_started).sum();
    assert_eq!(users, planned);
    assert_eq!(server.requests(), 3 * planned);
}

#[test]
fn a_part_outside_the_run_is_refused() {
    let scenario = closed(9, 4, Some(10), None);
    let options = RunOptions {
        threads: 2,
        segment: Some(Segment { first: 3, total: 4 }),
        ..RunOptions::default()
    };
    let e = engine::run(&scenario, &options, &mut []).unwrap_err();
    assert!(e.to_string().contains("not within"), "{e}");
}

#[test]
fn a_zero_or_huge_interval_is_refused_not_run() {
    let scenario = closed(9, 1, Some(1), None);
    for interval in [Duration::ZERO, Duration::from_secs(31 * 86_400)] {
        let options = RunOptions {
            threads: 1,
            interval,
            ..RunOptions::default()
        };
        let e = engine::run(&scenario, &options, &mut []).unwrap_err();
        assert!(e.to_string().contains("reporting interval"), "{e}");
    }
}
