//! Suite files (`suites/*.toml`): the load protocol a suite run applies to every case.
//!
//! A suite file is the seed benchmark's Tsung config in TOML: arrival phases, the
//! session each user runs, the deadline, and the stats interval. It holds no address:
//! each case gets its own port, so [`SuiteFile::scenario`] builds the engine's
//! [`Scenario`] for a given host and port.
//!
//! ```toml
//! interval_s = 10     # stats every 10 s
//! duration_s = 90     # the run is cut here
//! max_users = 600
//!
//! [[phase]]
//! duration_s = 60
//! users_per_second = 5
//!
//! [[session]]
//! name = "pong"
//! steps = [{ loop = { count = 10000, steps = [{ get = "/" }] } }]
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use scenario::{
    limits, Arrival, Load, Method, Phase, Request, Scenario, Session, Step, Target, Timeouts,
};
use serde::Deserialize;
use toml::Spanned;

use crate::source::{FileError, Problem, Source};

/// A parsed, checked suite file.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteFile {
    pub path: PathBuf,
    pub description: String,
    /// How often interval stats are taken (Tsung's dump interval).
    pub interval: Duration,
    /// The run is cut here, whatever is in flight.
    pub duration: Duration,
    /// Pause between two cases, so one server's TIME_WAIT sockets and CPU heat do not
    /// weigh on the next.
    pub cool_down: Duration,
    /// How long a server may take to answer its first `GET /`.
    pub ready_timeout: Duration,
    pub max_users: Option<u64>,
    pub phases: Vec<Phase>,
    pub sessions: Vec<Session>,
    pub timeouts: Timeouts,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    #[serde(default)]
    description: String,
    interval_s: Spanned<f64>,
    duration_s: Spanned<f64>,
    #[serde(default)]
    cool_down_s: Option<Spanned<f64>>,
    #[serde(default)]
    ready_timeout_s: Option<Spanned<f64>>,
    max_users: Option<Spanned<u64>>,
    timeouts: Option<RawTimeouts>,
    #[serde(rename = "phase", default)]
    phases: Vec<RawPhase>,
    #[serde(rename = "session", default)]
    sessions: Vec<RawSession>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeouts {
    connect_s: Option<Spanned<f64>>,
    response_s: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    duration_s: Spanned<f64>,
    users_per_second: Spanned<f64>,
    max_users: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    name: String,
    #[serde(default = "one")]
    weight: Spanned<f64>,
    steps: Spanned<Vec<RawStep>>,
}

fn one() -> Spanned<f64> {
    Spanned::new(0..0, 1.0)
}

/// One step; in TOML an inline table with one key, e.g. `{ get = "/" }`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RawStep {
    Get(Spanned<String>),
    Request(RawRequest),
    Loop {
        count: Spanned<u64>,
        steps: Vec<RawStep>,
    },
    Think {
        mean_s: Spanned<f64>,
        #[serde(default)]
        random: bool,
    },
    Transaction {
        name: String,
        steps: Vec<RawStep>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    #[serde(default = "get")]
    method: Spanned<String>,
    path: Spanned<String>,
    #[serde(default = "no_headers")]
    headers: Spanned<Vec<(String, String)>>,
    #[serde(default)]
    body: String,
}

fn no_headers() -> Spanned<Vec<(String, String)>> {
    Spanned::new(0..0, Vec::new())
}

fn get() -> Spanned<String> {
    Spanned::new(0..0, "GET".into())
}

/// Collects located problems while converting, so every mistake is reported at once.
struct Checker<'a> {
    src: Source<'a>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    /// A duration in seconds that must be > 0 (or >= 0 with `zero_ok`), within
    /// [`limits::MAX_SECONDS`].
    fn seconds(&mut self, v: &Spanned<f64>, what: &str, zero_ok: bool) -> Duration {
        let x = *v.get_ref();
        let checked = if zero_ok {
            limits::seconds_or_zero(x)
        } else {
            limits::seconds(x)
        };
        checked.unwrap_or_else(|e| {
            self.fail(v.span(), format!("`{what}`: {e}"));
            Duration::ZERO
        })
    }

    /// A whole number within `min..=max`.
    fn count(&mut self, v: &Spanned<u64>, what: &str, min: u64, max: u64, unit: &str) -> u64 {
        limits::count(*v.get_ref(), min, max, unit).unwrap_or_else(|e| {
            self.fail(v.span(), format!("`{what}`: {e}"));
            min
        })
    }

    /// A request as it will go on the wire; `span` locates it.
    fn request(&mut self, request: Request, span: std::ops::Range<usize>) -> Request {
        if let Err(problem) = request.check() {
            self.fail(span, problem);
        }
        request
    }

    fn fail(&mut self, span: std::ops::Range<usize>, message: String) {
        // Defaults carry an empty span at 0: no line to show.
        let span = (span != (0..0)).then_some(span);
        let p = self.src.problem(span.as_ref(), message);
        self.problems.push(p);
    }

    fn steps(&mut self, raw: Vec<RawStep>) -> Vec<Step> {
        raw.into_iter().map(|s| self.step(s)).collect()
    }

    fn step(&mut self, raw: RawStep) -> Step {
        match raw {
            RawStep::Get(path) => {
                let span = path.span();
                Step::Request(self.request(Request::get(path.get_ref()), span))
            }
            RawStep::Request(r) => {
                let method = Method::parse(r.method.get_ref()).unwrap_or_else(|| {
                    self.fail(
                        r.method.span(),
                        format!(
                            "unknown method `{}`; expected GET, POST, PUT, DELETE, HEAD, PATCH or OPTIONS",
                            r.method.get_ref()
                        ),
                    );
                    Method::Get
                });
                let span = if r.headers.get_ref().is_empty() {
                    r.path.span()
                } else {
                    r.headers.span()
                };
                let request = Request {
                    method,
                    path: r.path.into_inner(),
                    headers: r.headers.into_inner(),
                    body: r.body.into_bytes(),
                };
                Step::Request(self.request(request, span))
            }
            RawStep::Loop { count, steps } => {
                let count = self.count(&count, "count", 1, limits::MAX_LOOP, "passes");
                Step::Loop {
                    count,
                    steps: self.steps(steps),
                }
            }
            RawStep::Think { mean_s, random } => Step::Think {
                mean: self.seconds(&mean_s, "mean_s", true),
                random,
            },
            RawStep::Transaction { name, steps } => Step::Transaction {
                name,
                steps: self.steps(steps),
            },
        }
    }
}

impl SuiteFile {
    pub fn load(path: &Path) -> Result<SuiteFile, FileError> {
        let text = Source::read(path)?;
        SuiteFile::parse(&text, path)
    }

    /// Parses suite text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<SuiteFile, FileError> {
        let src = Source { path, text };
        let raw: RawSuite = src.parse()?;
        let mut c = Checker {
            src: Source { path, text },
            problems: Vec::new(),
        };
        let interval = c.seconds(&raw.interval_s, "interval_s", false);
        let duration = c.seconds(&raw.duration_s, "duration_s", false);
        let cool_down = raw.cool_down_s.map_or(Duration::from_secs(5), |v| {
            c.seconds(&v, "cool_down_s", true)
        });
        let ready_timeout = raw.ready_timeout_s.map_or(Duration::from_secs(30), |v| {
            c.seconds(&v, "ready_timeout_s", false)
        });
        let mut timeouts = Timeouts::default();
        if let Some(t) = raw.timeouts {
            if let Some(v) = t.connect_s {
                timeouts.connect = c.seconds(&v, "timeouts.connect_s", false);
            }
            if let Some(v) = t.response_s {
                timeouts.response = c.seconds(&v, "timeouts.response_s", false);
            }
        }
        let max_users = raw
            .max_users
            .map(|m| c.count(&m, "max_users", 1, limits::MAX_USERS, "users"));
        let phases: Vec<Phase> = raw
            .phases
            .into_iter()
            .map(|p| Phase {
                duration: c.seconds(&p.duration_s, "duration_s", false),
                users_per_second: {
                    let r = *p.users_per_second.get_ref();
                    limits::rate(r, "users").unwrap_or_else(|e| {
                        c.fail(
                            p.users_per_second.span(),
                            format!("`users_per_second`: {e}"),
                        );
                        1.0
                    })
                },
                max_users: p
                    .max_users
                    .map(|m| c.count(&m, "max_users", 1, limits::MAX_USERS, "users")),
                session_weights: None,
            })
            .collect();
        let sessions: Vec<Session> = raw
            .sessions
            .into_iter()
            .map(|s| {
                let w = limits::weight(*s.weight.get_ref()).unwrap_or_else(|e| {
                    c.fail(s.weight.span(), format!("`weight`: {e}"));
                    1.0
                });
                let span = s.steps.span();
                let steps = c.steps(s.steps.into_inner());
                let session = Session {
                    name: s.name,
                    weight: w,
                    steps,
                };
                if session.request_count() == 0 {
                    c.fail(span, format!("session `{}` sends no request", session.name));
                }
                session
            })
            .collect();
        if phases.is_empty() {
            c.problems.push(c.src.problem(
                None,
                "no `[[phase]]`; expected at least one arrival phase (duration_s, users_per_second)",
            ));
        }
        if sessions.is_empty() {
            c.problems.push(c.src.problem(
                None,
                "no `[[session]]`; expected at least one session with steps",
            ));
        }
        let suite = SuiteFile {
            path: path.to_path_buf(),
            description: raw.description,
            interval,
            duration,
            cool_down,
            ready_timeout,
            max_users,
            phases,
            sessions,
            timeouts,
        };
        if c.problems.is_empty() {
            // The Scenario's own rules, in case they grow beyond what is checked above.
            if let Err(e) = suite.scenario("127.0.0.1", 1).validate() {
                c.problems.push(c.src.problem(None, e.to_string()));
            }
        }
        if c.problems.is_empty() {
            Ok(suite)
        } else {
            Err(c.src.invalid(c.problems))
        }
    }

    /// The engine's scenario against `host:port`.
    pub fn scenario(&self, host: &str, port: u16) -> Scenario {
        Scenario {
            target: Target {
                host: host.to_string(),
                port,
                tls: false,
            },
            load: Load::Sessions {
                phases: self.phases.clone(),
                sessions: self.sessions.clone(),
                max_users: self.max_users,
                // The suite's protocol is ours: even arrivals make every run start
                // the same users, so runs compare.
                arrival: Arrival::Uniform,
                servers: Vec::new(),
            },
            duration: Some(self.duration),
            timeouts: self.timeouts,
            trust: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suites_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites")
    }

    #[test]
    fn the_original_protocol_is_the_seed_tsung_config() {
        let s = SuiteFile::load(&suites_dir().join("original.toml")).unwrap();
        assert_eq!(s.interval, Duration::from_secs(10));
        let sc = s.scenario("127.0.0.1", 8080);
        assert_eq!(sc.duration, Some(Duration::from_secs(90)));
        assert_eq!(sc.target.port, 8080);
        let Load::Sessions {
            phases,
            sessions,
            max_users,
            arrival,
            ..
        } = &sc.load
        else {
            panic!("expected a session load")
        };
        // 300 users in 60 s, exactly, in every run.
        assert_eq!(*arrival, Arrival::Uniform);
        assert_eq!(
            phases,
            &[Phase {
                duration: Duration::from_secs(60),
                users_per_second: 5.0,
                max_users: Some(600),
                session_weights: None,
            }]
        );
        assert_eq!(*max_users, Some(600));
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].request_count(), 10000);
        assert_eq!(sessions[0].requests(), [&Request::get("/")]);
        assert!(sc.validate().is_ok());
    }

    #[test]
    fn every_shipped_suite_loads_and_is_shorter_than_the_original() {
        let original = SuiteFile::load(&suites_dir().join("original.toml")).unwrap();
        for name in ["quick.toml", "ci.toml"] {
            let s = SuiteFile::load(&suites_dir().join(name)).unwrap();
            assert!(s.duration < original.duration, "{name}");
            assert!(s.scenario("127.0.0.1", 1).validate().is_ok(), "{name}");
        }
    }

    const MINI: &str = "interval_s = 1\nduration_s = 2\n\n[[phase]]\nduration_s = 1\nusers_per_second = 5\n\n[[session]]\nname = \"s\"\nsteps = [{ get = \"/\" }]\n";

    #[test]
    fn bad_numbers_name_their_line_and_all_are_listed() {
        let text = MINI
            .replace("users_per_second = 5", "users_per_second = -5")
            .replace("interval_s = 1", "interval_s = 0");
        let e = SuiteFile::parse(&text, Path::new("suites/quick.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "suites/quick.toml:1:14: `interval_s`: expected a duration above 0 and at most 2592000 s (30 days), got 0 s\n\
             suites/quick.toml:6:20: `users_per_second`: expected users per second from 0.000001 to 10000000, got -5"
        );
    }

    #[test]
    fn steps_cover_requests_loops_thinks_and_transactions() {
        let text = MINI.replace(
            "steps = [{ get = \"/\" }]",
            "steps = [\n  { request = { method = \"post\", path = \"/p\", headers = [[\"X-A\", \"1\"]], body = \"hi\" } },\n  { transaction = { name = \"t\", steps = [{ think = { mean_s = 0.5, random = true } }, { loop = { count = 3, steps = [{ get = \"/\" }] } }] } },\n]",
        );
        let s = SuiteFile::parse(&text, Path::new("x.toml")).unwrap();
        let steps = &s.sessions[0].steps;
        assert_eq!(
            steps[0],
            Step::Request(Request {
                method: Method::Post,
                path: "/p".into(),
                headers: vec![("X-A".into(), "1".into())],
                body: b"hi".to_vec(),
            })
        );
        assert_eq!(s.sessions[0].request_count(), 4);
    }

    #[test]
    fn a_bad_method_or_unknown_step_is_located() {
        let text = MINI.replace(
            "steps = [{ get = \"/\" }]",
            "steps = [{ request = { method = \"FETCH\", path = \"/\" } }]",
        );
        let e = SuiteFile::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.toml:10:33: unknown method `FETCH`"), "{e}");
        let text = MINI.replace("{ get = \"/\" }", "{ gett = \"/\" }");
        let e = SuiteFile::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.toml:10:"), "{e}");
        assert!(e.contains("gett"), "{e}");
    }

    #[test]
    fn missing_phases_and_sessions_are_both_reported() {
        let e = SuiteFile::parse("interval_s = 1\nduration_s = 2\n", Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no `[[phase]]`") && e.contains("no `[[session]]`"),
            "{e}"
        );
    }
}
