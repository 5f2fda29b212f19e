use std::time::Duration;

use scenario::{Arrival, Load, Phase, Request, Session, Step};

use super::util::server::{Behaviour, TestServer};
use super::util::{closed, ms, open, run};

#[test]
fn closed_run_with_a_count_sends_exactly_that_many() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    let s = run(
        &closed(server.port, 10, Some(10_000), Some(Duration::from_secs(60))),
        2,
    );
    assert_eq!(s.digest.requests, 10_000);
    assert_eq!(s.digest.status.get("200"), Some(&10_000));
    assert_eq!(s.digest.errors_total, 0);
    assert_eq!(server.requests(), 10_000);
    // Keep-alive: one connection per slot, never reopened.
    assert_eq!(s.digest.connections_opened, 10);
    assert_eq!(s.digest.bytes_received, 10_000 * 69);
}

#[test]
fn closed_run_with_a_duration_stops_on_time() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::from_millis(1),
    });
    let s = run(
        &closed(server.port, 4, None, Some(Duration::from_secs(2))),
        1,
    );
    assert!(
        (1.9..2.2).contains(&s.digest.duration_s),
        "{}",
        s.digest.duration_s
    );
    assert!(s.digest.requests > 1000, "{}", s.digest.requests);
    assert_eq!(s.intervals.len(), 2);
    let sum: u64 = s.intervals.iter().map(|i| i.digest.requests).sum();
    assert_eq!(sum, s.digest.requests);
}

#[test]
fn open_run_sends_the_planned_rate() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    let s = run(&open(server.port, 10, 1000.0, Duration::from_secs(3)), 2);
    assert!(
        (2970..=3030).contains(&s.digest.requests),
        "{}",
        s.digest.requests
    );
    assert_eq!(s.digest.errors_total, 0);
}

#[test]
fn open_run_holds_every_connection_open_even_when_idle() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    // 2 planned requests for 20 connections: 18 never send, yet stay connected.
    let s = run(&open(server.port, 20, 1.0, Duration::from_secs(2)), 1);
    assert_eq!(s.digest.requests, 2);
    assert_eq!(s.digest.connections_opened, 20);
    assert_eq!(s.intervals.last().unwrap().connections_open, 20);
}

#[test]
fn open_run_latency_matches_the_server_delay() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::from_millis(20),
    });
    let s = run(&open(server.port, 20, 200.0, Duration::from_secs(3)), 1);
    let p50 = ms(s.digest.latency_us.p50);
    eprintln!("open model, 20 ms server: p50 {p50} ms");
    // The server's delay is a floor no sample may go under, and the median stays near it
    // (200 requests/s spread over 20 connections leave each ~100 ms between requests).
    // How near, on a quiet machine, is a benchmark figure (docs/engine.md: 20.24 ms); a
    // loaded one measured 28.6 ms, so the bar here is wide.
    assert!((20.0..=100.0).contains(&p50), "p50 {p50} ms");
    // 19.9: the histogram's bucket around 20 ms starts a few µs below it.
    assert!(
        ms(s.digest.latency_us.min) >= 19.9,
        "an answer faster than the server's delay"
    );
}

#[test]
fn open_run_counts_the_wait_of_an_overloaded_server() {
    // One connection, 100 ms per answer, 20 planned per second: capacity is 10/s, so
    // requests queue. Measured from the planned instant, the queue shows; measured
    // from the send (coordinated omission) every answer would look like 100 ms.
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::from_millis(100),
    });
    let s = run(&open(server.port, 1, 20.0, Duration::from_secs(3)), 1);
    assert!(s.digest.requests >= 20, "{}", s.digest.requests);
    let p90 = ms(s.digest.latency_us.p90);
    assert!(p90 > 600.0, "p90 {p90} ms should include queueing");
}

#[test]
fn sessions_run_users_times_loops() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    let mut scenario = closed(server.port, 1, None, Some(Duration::from_secs(20)));
    scenario.load = Load::Sessions {
        phases: vec![
            Phase {
                duration: Duration::from_secs(1),
                users_per_second: 10.0,
                max_users: None,
                session_weights: None,
            },
            Phase {
                duration: Duration::from_millis(500),
                users_per_second: 10.0,
                max_users: Some(3),
                session_weights: None,
            },
        ],
        sessions: vec![Session {
            name: "loop".into(),
            weight: 1.0,
            steps: vec![
                Step::Request(Request::get("/first")),
                Step::Loop {
                    count: 50,
                    steps: vec![Step::Request(Request::get("/"))],
                },
            ],
        }],
        max_users: None,
        arrival: Arrival::Uniform,
        servers: Vec::new(),
    };
    let s = run(&scenario, 2);
    assert_eq!(s.digest.users_started, 13);
    assert_eq!(s.digest.users_finished, 13);
    assert_eq!(s.digest.requests, 13 * 51);
    assert_eq!(s.digest.connections_opened, 13);
    assert_eq!(server.requests(), 13 * 51);
    // The run ends when the last user does, not at the deadline.
    assert!(s.digest.duration_s < 5.0, "{}", s.digest.duration_s);
}

#[test]
fn sessions_are_cut_at_the_deadline() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::from_millis(5),
    });
    let mut scenario = closed(server.port, 1, None, Some(Duration::from_secs(2)));
    scenario.load = Load::Sessions {
        phases: vec![Phase {
            duration: Duration::from_secs(1),
            users_per_second: 5.0,
            max_users: None,
            session_weights: None,
        }],
        sessions: vec![Session {
            name: "long".into(),
            weight: 1.0,
            steps: vec![Step::Loop {
                count: 1_000_000,
                steps: vec![Step::Request(Request::get("/"))],
            }],
        }],
        max_users: Some(3),
        arrival: Arrival::Uniform,
        servers: Vec::new(),
    };
    let s = run(&scenario, 1);
    assert_eq!(s.digest.users_started, 3);
    assert_eq!(s.digest.users_finished, 0);
    assert!(
        (1.9..2.3).contains(&s.digest.duration_s),
        "{}",
        s.digest.duration_s
    );
    assert_eq!(s.intervals.last().unwrap().users_active, 3);
}

#[test]
fn max_users_caps_users_at_once_not_in_total() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::from_millis(2),
    });
    let mut scenario = closed(server.port, 1, None, Some(Duration::from_secs(5)));
    // Users of 4 requests (~10 ms each) arriving 10/s for 2 s: one at a time, so a cap
    // of 2 at once lets every one of the 20 in. (Users of 40 requests, ~0.1 s, were
    // sometimes 3 at once on a loaded machine, and one arrival was rightly skipped.)
    let session = |count| Session {
        name: "s".into(),
        weight: 1.0,
        steps: vec![Step::Loop {
            count,
            steps: vec![Step::Request(Request::get("/"))],
        }],
    };
    scenario.load = Load::Sessions {
        phases: vec![Phase {
            duration: Duration::from_secs(2),
            users_per_second: 10.0,
            max_users: None,
            session_weights: None,
        }],
        sessions: vec![session(4)],
        max_users: Some(2),
        arrival: Arrival::Uniform,
        servers: Vec::new(),
    };
    let s = run(&scenario, 1);
    assert_eq!(s.digest.users_started, 20);
    // Users that never end: only 2 ever run, the other arrivals are not started.
    scenario.load = Load::Sessions {
        phases: vec![Phase {
            duration: Duration::from_secs(1),
            users_per_second: 10.0,
            max_users: None,
            session_weights: None,
        }],
        sessions: vec![session(1_000_000)],
        max_users: Some(2),
        arrival: Arrival::Uniform,
        servers: Vec::new(),
    };
    scenario.duration = Some(Duration::from_secs(2));
    let s = run(&scenario, 1);
    assert_eq!(s.digest.users_started, 2);
}

#[test]
fn chunked_answers_are_read_whole() {
    let server = TestServer::start(Behaviour::Chunked);
    let s = run(&closed(server.port, 2, Some(500), None), 1);
    assert_eq!(s.digest.requests, 500);
    assert_eq!(s.digest.errors_total, 0);
    assert_eq!(s.digest.connections_opened, 2);
}

#[test]
fn ctrl_c_ends_the_run_and_keeps_the_results() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::from_millis(1),
    });
    let options = super::util::options(1);
    let stop = options.stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let scenario = closed(server.port, 2, None, Some(Duration::from_secs(30)));
    let s = engine::run(&scenario, &options, &mut []).unwrap();
    assert!(s.interrupted);
    assert!(s.digest.duration_s < 3.0, "{}", s.digest.duration_s);
    assert!(s.digest.requests > 100);
}

#[test]
fn poisson_arrivals_start_exactly_the_capped_users() {
    // Tsung's way to a fixed user count with random arrivals: a phase long enough
    // for the cap (maxnumber) to be reached. 40 users/s for 2 s would be 80 on
    // average; the cap stops at 12, reached after ~0.3 s.
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    let mut scenario = closed(server.port, 1, None, Some(Duration::from_secs(20)));
    scenario.load = Load::Sessions {
        phases: vec![Phase {
            duration: Duration::from_secs(2),
            users_per_second: 40.0,
            max_users: Some(12),
            session_weights: None,
        }],
        sessions: vec![Session {
            name: "loop".into(),
            weight: 1.0,
            steps: vec![Step::Loop {
                count: 25,
                steps: vec![Step::Request(Request::get("/"))],
            }],
        }],
        max_users: None,
        arrival: Arrival::Poisson,
        servers: Vec::new(),
    };
    let s = run(&scenario, 2);
    assert_eq!(s.digest.users_started, 12);
    assert_eq!(s.digest.users_finished, 12);
    assert_eq!(s.digest.requests, 12 * 25);
    assert_eq!(server.requests(), 12 * 25);
}

/// `<session_setup>`: a phase's own weights choose its users' sessions. Session "one"
/// sends one request and "three" three: phase 1 starts only "one", phase 2 only
/// "three", so the server sees exactly 10 x 1 + 5 x 3 requests (with the sessions'
/// own equal weights it would be a random mix).
#[test]
fn each_phase_picks_sessions_by_its_own_weights() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    let mut scenario = closed(server.port, 1, None, Some(Duration::from_secs(20)));
    let session = |name: &str, n: u64| Session {
        name: name.into(),
        weight: 1.0,
        steps: vec![Step::Loop {
            count: n,
            steps: vec![Step::Request(Request::get("/"))],
        }],
    };
    scenario.load = Load::Sessions {
        phases: vec![
            Phase {
                duration: Duration::from_secs(1),
                users_per_second: 10.0,
                max_users: None,
                session_weights: Some(vec![1.0, 0.0]),
            },
            Phase {
                duration: Duration::from_millis(500),
                users_per_second: 10.0,
                max_users: None,
                session_weights: Some(vec![0.0, 1.0]),
            },
        ],
        sessions: vec![session("one", 1), session("three", 3)],
        max_users: None,
        arrival: Arrival::Uniform,
        servers: Vec::new(),
    };
    let s = run(&scenario, 2);
    assert_eq!(s.digest.users_finished, 15);
    assert_eq!(server.requests(), 10 + 5 * 3);
}

/// `<match>`'s actions on a server that always answers `Pong!`, 5 users each:
/// `abort` ends the user after its first request, `loop` sends it again `max_loop`
/// times then goes on, `restart` starts the session over `max_restart` times then
/// ends it. Every rule tested is counted as found.
#[test]
fn match_rules_abort_loop_and_restart_users() {
    use scenario::dynamic::{DynamicRequest, Match, MatchAction, DEFAULT_CAPTURE_CAP};
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    let matching = |action: MatchAction| {
        Step::Dynamic(Box::new(DynamicRequest {
            request: Request::get("/"),
            subst: false,
            extract: Vec::new(),
            matches: vec![Match {
                pattern: "Pong".into(),
                when_found: true,
                action,
                body_only: true,
            }],
            auth: None,
            answer_cap: DEFAULT_CAPTURE_CAP,
        }))
    };
    let plain = || Step::Request(Request::get("/"));
    let cases = [
        // (steps, requests per user, matches per user)
        (vec![matching(MatchAction::Abort), plain(), plain()], 1, 1),
        (
            vec![
                matching(MatchAction::Loop {
                    max: 2,
                    sleep: Duration::ZERO,
                }),
                plain(),
            ],
            4,
            3,
        ),
        (
            vec![plain(), matching(MatchAction::Restart { max: 1 }), plain()],
            4,
            2,
        ),
    ];
    for (steps, per_user, matches) in cases {
        let before = server.requests();
        let mut scenario = closed(server.port, 1, None, Some(Duration::from_secs(20)));
        scenario.load = Load::Sessions {
            phases: vec![Phase {
                duration: Duration::from_millis(500),
                users_per_second: 10.0,
                max_users: None,
                session_weights: None,
            }],
            sessions: vec![Session {
                name: "m".into(),
                weight: 1.0,
                steps,
            }],
            max_users: None,
            arrival: Arrival::Uniform,
            servers: Vec::new(),
        };
        let s = run(&scenario, 1);
        assert_eq!(s.digest.users_finished, 5);
        assert_eq!(server.requests() - before, 5 * per_user);
        assert_eq!(s.total.matches, 5 * matches);
        assert_eq!(s.total.nomatches, 0);
    }
}

/// A loop whose `<if>` is never taken sends nothing, a trillion times over: the user
/// yields as it walks, so the deadline still ends the run.
#[test]
fn a_loop_that_never_sends_is_cut_at_the_deadline() {
    use scenario::dynamic::{SetVars, Test, VarSource};
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    let mut scenario = closed(server.port, 1, None, Some(Duration::from_secs(2)));
    scenario.load = Load::Sessions {
        phases: vec![Phase {
            duration: Duration::from_millis(100),
            users_per_second: 10.0,
            max_users: None,
            session_weights: None,
        }],
        sessions: vec![Session {
            name: "idle".into(),
            weight: 1.0,
            steps: vec![
                Step::SetVars(SetVars {
                    vars: vec!["v".into()],
                    source: VarSource::Value("other".into()),
                }),
                Step::Loop {
                    count: 1_000_000_000_000,
                    steps: vec![Step::If {
                        test: Test {
                            var: "v".into(),
                            equal: true,
                            value: "set".into(),
                        },
                        steps: vec![Step::Request(Request::get("/"))],
                    }],
                },
            ],
        }],
        max_users: None,
        arrival: Arrival::Uniform,
        servers: Vec::new(),
    };
    let began = std::time::Instant::now();
    let s = run(&scenario, 1);
    assert_eq!(s.digest.requests, 0);
    assert_eq!(server.requests(), 0);
    // The deadline is 2 s; a held worker would run for hours.
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "{:?}",
        began.elapsed()
    );
}
