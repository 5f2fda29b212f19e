//! Helpers for the engine's tests: a small HTTP server with knobs for every
//! misbehaviour, and scenario builders.

pub mod server;

use std::time::Duration;

use engine::RunOptions;
use scenario::{Arrival, Load, Request, Scenario, Target, Timeouts};

pub fn target(port: u16) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port,
        tls: false,
    }
}

pub fn closed(
    port: u16,
    connections: u32,
    requests: Option<u64>,
    duration: Option<Duration>,
) -> Scenario {
    Scenario {
        target: target(port),
        load: Load::Closed {
            connections,
            requests,
            script: vec![Request::get("/")],
        },
        duration,
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            response: Duration::from_secs(2),
        },
        trust: Default::default(),
    }
}

pub fn open(port: u16, connections: u32, rate: f64, duration: Duration) -> Scenario {
    Scenario {
        target: target(port),
        load: Load::Open {
            connections,
            rate,
            arrival: Arrival::Uniform,
            script: vec![Request::get("/")],
        },
        duration: Some(duration),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            response: Duration::from_secs(5),
        },
        trust: Default::default(),
    }
}

pub fn options(threads: usize) -> RunOptions {
    RunOptions {
        threads,
        interval: Duration::from_secs(1),
        ..RunOptions::default()
    }
}

pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}
