//! The `Scenario`: what to send, to whom, and at which pace.
//!
//! Every front end (the `load` command's flags, TOML suites, Tsung XML, a cluster plan)
//! builds this one data type, and the engine runs only it. Keeping it pure data (no I/O,
//! no sockets) is what lets the Tsung importer and the CLI be tested without a network.
//!
//! Layout:
//! - [`Scenario`]: the target, the load model, the deadline and the timeouts.
//! - [`Load`]: one of the three load models: [`Load::Closed`], [`Load::Open`],
//!   [`Load::Sessions`].
//! - [`Request`]: one HTTP request template, turned into bytes once by the engine.
//! - [`Session`] and [`Step`]: Tsung's virtual-user script (requests, loops, think times).
//! - [`Target`]: where the load goes, with the loopback-only guard [`Target::check_local`].
//! - [`tsung`]: the reader of Tsung 1.7 XML files (HTTP subset) into a [`Scenario`].

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde::Serialize;

pub mod tsung;

/// One load test, as data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub target: Target,
    pub load: Load,
    /// The whole run is cut here, whatever is still in flight (Tsung's `<load duration>`).
    /// `None` only for closed runs bounded by a request count.
    pub duration: Option<Duration>,
    pub timeouts: Timeouts,
}

/// Where requests go. `host` is kept as written because it is also the `Host` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeouts {
    pub connect: Duration,
    pub response: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            response: Duration::from_secs(30),
        }
    }
}

/// The three load models. One engine runs them all; only the pacing differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Load {
    /// `connections` keep-alive connections; each sends its next request as soon as the
    /// previous answer is read. With `requests`, the run stops after exactly that many
    /// answers (or errors).
    Closed {
        connections: u32,
        requests: Option<u64>,
        script: Vec<Request>,
    },
    /// `rate` requests per second at planned instants, spread over `connections`.
    /// Latency counts from the planned instant, so a stalled server is not hidden
    /// (no coordinated omission).
    Open {
        connections: u32,
        rate: f64,
        arrival: Arrival,
        script: Vec<Request>,
    },
    /// Tsung's model: virtual users arrive in phases; each opens one keep-alive
    /// connection and runs one session picked by weight.
    Sessions {
        phases: Vec<Phase>,
        sessions: Vec<Session>,
        /// At most this many users at once (Tsung's `maxusers` with
        /// `use_controller_vm`): an arrival while the cap is reached is skipped.
        max_users: Option<u64>,
        /// How users' arrivals are spaced: evenly (each phase then starts exactly
        /// rate x duration users), or with exponential gaps as Tsung does.
        arrival: Arrival,
    },
}

/// How planned instants (open model) or users' arrivals (sessions) are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Arrival {
    Uniform,
    Poisson,
}

/// One arrival phase: users arrive at `users_per_second` for `duration`, at most
/// `max_users` of them in this phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    pub duration: Duration,
    pub users_per_second: f64,
    pub max_users: Option<u64>,
}

/// A virtual user's script. `weight` is relative to the other sessions of the scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub name: String,
    pub weight: f64,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Step {
    Request(Request),
    /// Run `steps` `count` times (Tsung's `<for from to>` and `<repeat>`).
    Loop {
        count: u64,
        steps: Vec<Step>,
    },
    /// Pause the user; with `random`, the pause is drawn from an exponential
    /// distribution of this mean, as Tsung does.
    Think {
        mean: Duration,
        random: bool,
    },
    /// Pause the user for a time drawn uniformly in `[min, max]` (Tsung's
    /// `<thinktime min max>`).
    ThinkBetween {
        min: Duration,
        max: Duration,
    },
    /// A named group of steps whose total time is reported (Tsung's `<transaction>`).
    Transaction {
        name: String,
        steps: Vec<Step>,
    },
}

/// One HTTP/1.1 request template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    pub method: Method,
    /// Origin-form path and query, e.g. `/` or `/search?q=1`.
    pub path: String,
    /// Extra headers; `Host` and `Content-Length` are added by the engine unless set here.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn get(path: &str) -> Request {
        Request {
            method: Method::Get,
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Head,
    Patch,
    Options,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Some(match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            _ => return None,
        })
    }
}

/// Why a scenario cannot run. Each variant says what was expected.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScenarioError {
    /// Load may only go to this machine; see the project's rules in DESIGN.md.
    #[error("target {host} resolves to {addr}, which is not a loopback address (127.0.0.0/8 or ::1); wsgibench only loads this machine")]
    NotLoopback { host: String, addr: IpAddr },
    #[error("target {host}:{port} does not resolve: {reason}")]
    Unresolvable {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Target {
    /// Resolves the target and refuses any address outside 127.0.0.0/8 and ::1.
    pub fn check_local(&self) -> Result<Vec<SocketAddr>, ScenarioError> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| ScenarioError::Unresolvable {
                host: self.host.clone(),
                port: self.port,
                reason: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(ScenarioError::Unresolvable {
                host: self.host.clone(),
                port: self.port,
                reason: "no address".into(),
            });
        }
        if let Some(bad) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(ScenarioError::NotLoopback {
                host: self.host.clone(),
                addr: bad.ip(),
            });
        }
        Ok(addrs)
    }
}

impl Scenario {
    /// Checks the rules the types cannot express; front ends call it after building.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |m: &str| Err(ScenarioError::Invalid(m.to_string()));
        match &self.load {
            Load::Closed {
                connections,
                requests,
                script,
            } => {
                if *connections == 0 {
                    return invalid("connections must be at least 1");
                }
                if script.is_empty() {
                    return invalid("the request script is empty");
                }
                if requests.is_none() && self.duration.is_none() {
                    return invalid("a closed run needs a duration or a request count");
                }
            }
            Load::Open {
                connections,
                rate,
                script,
                ..
            } => {
                if *connections == 0 {
                    return invalid("connections must be at least 1");
                }
                if !(rate.is_finite() && *rate > 0.0) {
                    return invalid("rate must be a positive number of requests per second");
                }
                if script.is_empty() {
                    return invalid("the request script is empty");
                }
                if self.duration.is_none() {
                    return invalid("an open-model run (a rate) needs a duration");
                }
            }
            Load::Sessions {
                phases, sessions, ..
            } => {
                if phases.is_empty() {
                    return invalid("a session run needs at least one arrival phase");
                }
                if sessions.is_empty() || sessions.iter().all(|s| s.weight <= 0.0) {
                    return invalid(
                        "a session run needs at least one session with a positive weight",
                    );
                }
                if phases
                    .iter()
                    .any(|p| !(p.users_per_second.is_finite() && p.users_per_second > 0.0))
                {
                    return invalid("every arrival phase needs a positive arrival rate");
                }
                if self.duration.is_none() {
                    return invalid("a session run needs a deadline (duration)");
                }
            }
        }
        Ok(())
    }

    /// The instant after which no new user arrives (the end of the last phase).
    pub fn arrivals_end(&self) -> Option<Duration> {
        match &self.load {
            Load::Sessions { phases, .. } => Some(phases.iter().map(|p| p.duration).sum()),
            _ => None,
        }
    }
}

impl Session {
    /// How many requests one run of this session sends (loops multiplied out).
    pub fn request_count(&self) -> u64 {
        fn count(steps: &[Step]) -> u64 {
            steps
                .iter()
                .map(|s| match s {
                    Step::Request(_) => 1,
                    Step::Loop { count: n, steps } => n.saturating_mul(count(steps)),
                    Step::Transaction { steps, .. } => count(steps),
                    Step::Think { .. } | Step::ThinkBetween { .. } => 0,
                })
                .fold(0u64, u64::saturating_add)
        }
        count(&self.steps)
    }

    /// Every request template in the session, in script order, loops not expanded.
    pub fn requests(&self) -> Vec<&Request> {
        fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a Request>) {
            for s in steps {
                match s {
                    Step::Request(r) => out.push(r),
                    Step::Loop { steps, .. } | Step::Transaction { steps, .. } => walk(steps, out),
                    Step::Think { .. } | Step::ThinkBetween { .. } => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.steps, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(connections: u32) -> Scenario {
        Scenario {
            target: Target {
                host: "127.0.0.1".into(),
                port: 8000,
            },
            load: Load::Closed {
                connections,
                requests: Some(10),
                script: vec![Request::get("/")],
            },
            duration: None,
            timeouts: Timeouts::default(),
        }
    }

    #[test]
    fn zero_connections_is_refused() {
        assert!(closed(0).validate().is_err());
        assert!(closed(1).validate().is_ok());
    }

    #[test]
    fn open_model_needs_a_duration() {
        let mut s = closed(1);
        s.load = Load::Open {
            connections: 1,
            rate: 10.0,
            arrival: Arrival::Uniform,
            script: vec![Request::get("/")],
        };
        assert!(s.validate().unwrap_err().to_string().contains("duration"));
        s.duration = Some(Duration::from_secs(1));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn only_loopback_targets_are_allowed() {
        let ok = Target {
            host: "127.0.0.1".into(),
            port: 1,
        };
        assert!(ok.check_local().is_ok());
        let v6 = Target {
            host: "::1".into(),
            port: 1,
        };
        assert!(v6.check_local().is_ok());
        let far = Target {
            host: "192.0.2.1".into(),
            port: 1,
        };
        assert!(matches!(
            far.check_local(),
            Err(ScenarioError::NotLoopback { .. })
        ));
    }

    #[test]
    fn session_request_count_multiplies_loops() {
        let s = Session {
            name: "s".into(),
            weight: 1.0,
            steps: vec![
                Step::Request(Request::get("/a")),
                Step::Loop {
                    count: 10000,
                    steps: vec![
                        Step::Request(Request::get("/")),
                        Step::Think {
                            mean: Duration::ZERO,
                            random: false,
                        },
                    ],
                },
            ],
        };
        assert_eq!(s.request_count(), 10001);
        assert_eq!(s.requests().len(), 2);
    }
}
