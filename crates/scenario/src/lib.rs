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
//! - [`Session`] and [`Step`]: Tsung's virtual-user script (requests, loops, think times,
//!   and the dynamic steps of [`dynamic`]).
//! - [`dynamic`]: requests built per user (variables, extraction, `<match>`, `<if>`,
//!   `<repeat>`, data files, digest and OAuth), as data.
//! - [`query`]: Tsung's jsonpath and an XPath subset, evaluated on an answer's body.
//! - [`auth`]: HTTP Digest (RFC 2617) and OAuth 1.0 HMAC-SHA1 (RFC 5849) headers.
//! - [`WeightedServer`]: a session run's several servers (Tsung's `<servers>`).
//! - [`Target`]: where the load goes, with the loopback-only guard [`Target::check_local`].
//! - [`Trust`]: which server certificates an https target may present.
//! - [`limits`]: the ceiling on every number a user gives, checked by every front end.
//! - [`tsung`]: the reader of Tsung 1.7 XML files (HTTP subset) into a [`Scenario`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod auth;
pub mod dynamic;
pub mod limits;
pub mod query;
pub mod tsung;

/// One load test, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub target: Target,
    pub load: Load,
    /// The whole run is cut here, whatever is still in flight (Tsung's `<load duration>`).
    /// `None` only for closed runs bounded by a request count.
    pub duration: Option<Duration>,
    pub timeouts: Timeouts,
    /// The certificates an https target may present. Part of the scenario, not of the
    /// machine: a load agent elsewhere receives it with the rest, so it needs no file.
    #[serde(default)]
    pub trust: Trust,
}

/// Where requests go. `host` is kept as written because it is also the `Host` header,
/// and, for TLS, the name the certificate must carry (sent as SNI unless it is an IP
/// address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// Speak TLS (an `https://` URL, Tsung's `type="ssl"`).
    #[serde(default)]
    pub tls: bool,
}

/// Which server certificates are accepted: those that chain to the system's roots or
/// to one of `extra_roots_pem`, for the target's name, and in their validity period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Trust {
    /// Accept any certificate, for a server with a self-signed one (`--insecure`). The
    /// handshake's signatures are still checked, so the server must hold the key of
    /// the certificate it shows.
    pub insecure: bool,
    /// More roots, each the PEM text of a file (`--cacert FILE`), read by the front end
    /// so that an agent on another machine needs no file.
    pub extra_roots_pem: Vec<String>,
}

/// The PEM line that opens a certificate.
const PEM_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";

impl Trust {
    /// Each extra root holds at least one PEM certificate, and all of them fit in
    /// [`limits::MAX_ROOTS_PEM_BYTES`]. Whether the certificates parse is the engine's
    /// to say: this crate reads no cryptography.
    pub fn check(&self) -> Result<(), String> {
        let bytes: usize = self.extra_roots_pem.iter().map(String::len).sum();
        if bytes > limits::MAX_ROOTS_PEM_BYTES {
            return Err(format!(
                "the extra roots are {bytes} bytes of PEM; at most {} are allowed",
                limits::MAX_ROOTS_PEM_BYTES
            ));
        }
        for (i, pem) in self.extra_roots_pem.iter().enumerate() {
            if !pem.contains(PEM_CERTIFICATE) {
                return Err(format!(
                    "extra root {}: expected PEM text with a `{PEM_CERTIFICATE}` line",
                    i + 1
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        /// Tsung's several `<server>`s: each user starts on one, drawn by weight.
        /// Empty: every user talks to the scenario's `target` (which is otherwise
        /// the first of these).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        servers: Vec<WeightedServer>,
    },
}

/// One of a session run's servers and its share of the users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedServer {
    pub target: Target,
    pub weight: f64,
}

/// How planned instants (open model) or users' arrivals (sessions) are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arrival {
    Uniform,
    Poisson,
}

/// One arrival phase: users arrive at `users_per_second` for `duration`, at most
/// `max_users` of them in this phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub duration: Duration,
    pub users_per_second: f64,
    pub max_users: Option<u64>,
    /// Tsung's `<session_setup>`: this phase's weight for each session, in the
    /// scenario's session order, instead of the sessions' own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_weights: Option<Vec<f64>>,
}

impl Phase {
    /// Users the phase starts when evenly spaced: one at its start and one every
    /// 1/rate after it while the phase lasts, at most `max_users`. A phase shorter than
    /// one gap still starts its first user. The engine and the dry-run plan both count
    /// with this.
    pub fn planned_users(&self) -> u64 {
        let nominal = self.duration.as_secs_f64() * self.users_per_second;
        // The epsilon keeps 5/s x 1 s at 5 where float noise would make it 5.000000001.
        let n = (nominal - 1e-9).ceil().clamp(0.0, limits::MAX_USERS as f64) as u64;
        self.max_users.map_or(n, |m| n.min(m))
    }
}

/// A virtual user's script. `weight` is relative to the other sessions of the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub name: String,
    pub weight: f64,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// A request built per user from its variables and cookies, whose answer may set
    /// variables or change the user's course (see [`dynamic`]).
    Dynamic(Box<dynamic::DynamicRequest>),
    /// Gives values to variables (Tsung's `<setdynvars>`).
    SetVars(dynamic::SetVars),
    /// Runs `steps` only when the test holds (Tsung's `<if>`).
    If {
        test: dynamic::Test,
        steps: Vec<Step>,
    },
    /// Runs `steps`, then tests (Tsung's `<repeat>` with `<while>` or `<until>`).
    Repeat {
        end: dynamic::RepeatEnd,
        steps: Vec<Step>,
    },
    /// From here on the user talks to server `k` of the run's `servers` (a Tsung
    /// request whose absolute URL names that server; later relative URLs follow it).
    Server(usize),
    /// A `<for>` whose counter the body reads as `%%_var%%`: `count` passes, the
    /// variable `from`, then `from + incr`, and so on.
    Counted {
        var: String,
        from: i64,
        incr: i64,
        count: u64,
        steps: Vec<Step>,
    },
}

/// One HTTP/1.1 request template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub method: Method,
    /// Origin-form path and query, e.g. `/` or `/search?q=1`.
    pub path: String,
    /// Extra headers; `Host` and `Content-Length` are added by the engine unless set here.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a header name or value cannot go on the wire as given.
pub fn header_problem(name: &str, value: &str) -> Option<String> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Some(format!(
            "header name {name:?} must be a token (letters, digits and !#$%&'*+-.^_`|~)"
        ));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n') {
        return Some(format!(
            "header {name}: the value holds CR or LF, which would inject lines onto the wire: {value:?}"
        ));
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Some(format!(
            "header {name}: the value holds a control character (only tab is allowed): {value:?}"
        ));
    }
    None
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl Request {
    /// The request line and headers must reach the server as written: no byte of the
    /// path or of a header may end a line early.
    pub fn check(&self) -> Result<(), String> {
        if !self.path.starts_with('/') && self.path != "*" {
            return Err(format!("path {:?} must start with /", self.path));
        }
        if self
            .path
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(format!(
                "path {:?} holds a space or control character; percent-encode it",
                self.path
            ));
        }
        for (name, value) in &self.headers {
            if let Some(problem) = header_problem(name, value) {
                return Err(problem);
            }
        }
        Ok(())
    }

    /// As [`Request::check`], for a template whose path may start with a `%%_name%%`
    /// mark (a URL taken from an earlier answer).
    pub fn check_dynamic(&self) -> Result<(), String> {
        if self.path.starts_with("%%") {
            let mut rest = self.clone();
            rest.path = format!("/{}", self.path);
            return rest.check();
        }
        self.check()
    }

    pub fn get(path: &str) -> Request {
        Request {
            method: Method::Get,
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Every address is kept, in the resolver's order, for the engine to try in turn.
    /// `localhost` (and `*.localhost`) is 127.0.0.1 and ::1 whatever the resolver says
    /// (RFC 6761, and what curl does): /etc/hosts often lists only one of them, and a
    /// server bound to the other must still be reached.
    pub fn check_local(&self) -> Result<Vec<SocketAddr>, ScenarioError> {
        let addrs = self.resolve()?;
        if let Some(bad) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(ScenarioError::NotLoopback {
                host: self.host.clone(),
                addr: bad.ip(),
            });
        }
        Ok(addrs)
    }

    /// Every address of the target, in the resolver's order, with no policy: for a
    /// target the user allowed off this machine (`--allow-remote`).
    pub fn resolve(&self) -> Result<Vec<SocketAddr>, ScenarioError> {
        if is_localhost(&self.host) {
            return Ok(vec![
                SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
                SocketAddr::from((Ipv6Addr::LOCALHOST, self.port)),
            ]);
        }
        let mut addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| ScenarioError::Unresolvable {
                host: self.host.clone(),
                port: self.port,
                reason: e.to_string(),
            })?
            .collect();
        // getaddrinfo may list an address once per socket type; once is enough.
        let mut seen = Vec::with_capacity(addrs.len());
        addrs.retain(|a| {
            let new = !seen.contains(a);
            seen.push(*a);
            new
        });
        if addrs.is_empty() {
            return Err(ScenarioError::Unresolvable {
                host: self.host.clone(),
                port: self.port,
                reason: "no address".into(),
            });
        }
        Ok(addrs)
    }
}

/// Whether `host` is a name RFC 6761 reserves for the loopback.
fn is_localhost(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

impl Scenario {
    /// Makes the scripts ask a weighted mix of requests. Sessions: each session
    /// becomes one session per request of the mix, asking only it, its weight shared
    /// by the mix's weights (users pick a session by weight, as in Tsung). A script
    /// (closed and open models) becomes the mix's requests in turn.
    pub fn ask_mix(&mut self, mix: &[(Request, f64)]) {
        match mix {
            [] => {}
            [(one, _)] => self.ask_only(one),
            mix => match &mut self.load {
                Load::Closed { script, .. } | Load::Open { script, .. } => {
                    *script = mix.iter().map(|(r, _)| r.clone()).collect();
                }
                Load::Sessions { sessions, .. } => {
                    let total: f64 = mix.iter().map(|(_, w)| w).sum();
                    *sessions = sessions
                        .iter()
                        .flat_map(|s| {
                            mix.iter().map(move |(r, w)| {
                                let mut one = s.clone();
                                one.name = format!("{} {} {}", s.name, r.method.as_str(), r.path);
                                one.weight = s.weight * w / total;
                                one.ask_only(r);
                                one
                            })
                        })
                        .collect();
                }
            },
        }
    }

    /// Keeps at most `cap` bytes of each answer a dynamic request reads.
    pub fn keep_answers(&mut self, cap: usize) {
        fn walk(steps: &mut [Step], cap: usize) {
            for s in steps {
                match s {
                    Step::Dynamic(d) => d.answer_cap = cap,
                    Step::Loop { steps, .. }
                    | Step::Transaction { steps, .. }
                    | Step::Counted { steps, .. }
                    | Step::If { steps, .. }
                    | Step::Repeat { steps, .. } => walk(steps, cap),
                    Step::Request(_)
                    | Step::Think { .. }
                    | Step::ThinkBetween { .. }
                    | Step::SetVars(_)
                    | Step::Server(_) => {}
                }
            }
        }
        if let Load::Sessions { sessions, .. } = &mut self.load {
            for session in sessions {
                walk(&mut session.steps, cap);
            }
        }
    }

    /// Makes every request of every script `request` (see [`Session::ask_only`]).
    pub fn ask_only(&mut self, request: &Request) {
        match &mut self.load {
            Load::Closed { script, .. } | Load::Open { script, .. } => {
                for r in script {
                    *r = request.clone();
                }
            }
            Load::Sessions { sessions, .. } => {
                for session in sessions {
                    session.ask_only(request);
                }
            }
        }
    }

    /// Checks the rules the types cannot express, and the [`limits`]; front ends call it
    /// after building (and report their own, located, errors first). The engine calls it
    /// again, so a scenario built in code is held to the same rules.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |m: String| Err(ScenarioError::Invalid(m));
        self.trust.check().map_err(ScenarioError::Invalid)?;
        if let Some(d) = self.duration {
            check("duration", limits::seconds(d.as_secs_f64()))?;
        }
        check(
            "connect timeout",
            limits::seconds(self.timeouts.connect.as_secs_f64()),
        )?;
        check(
            "response timeout",
            limits::seconds(self.timeouts.response.as_secs_f64()),
        )?;
        match &self.load {
            Load::Closed {
                connections,
                requests,
                script,
            } => {
                check_connections(*connections)?;
                if let Some(n) = requests {
                    check(
                        "requests",
                        limits::count(*n, 1, limits::MAX_REQUESTS, "requests"),
                    )?;
                }
                check_script(script)?;
                if requests.is_none() && self.duration.is_none() {
                    return invalid("a closed run needs a duration or a request count".into());
                }
            }
            Load::Open {
                connections,
                rate,
                script,
                ..
            } => {
                check_connections(*connections)?;
                check("rate", limits::rate(*rate, "requests"))?;
                check_script(script)?;
                if self.duration.is_none() {
                    return invalid("an open-model run (a rate) needs a duration".into());
                }
            }
            Load::Sessions {
                phases,
                sessions,
                max_users,
                servers,
                ..
            } => {
                if phases.is_empty() {
                    return invalid("a session run needs at least one arrival phase".into());
                }
                if phases.len() as u64 > limits::MAX_PHASE_REPEATS * 100 {
                    return invalid(format!(
                        "{} arrival phases; at most {} are allowed",
                        phases.len(),
                        limits::MAX_PHASE_REPEATS * 100
                    ));
                }
                for (i, p) in phases.iter().enumerate() {
                    let n = i + 1;
                    check(
                        &format!("phase {n} duration"),
                        limits::seconds(p.duration.as_secs_f64()),
                    )?;
                    check(
                        &format!("phase {n} arrival rate"),
                        limits::rate(p.users_per_second, "users"),
                    )?;
                    if let Some(m) = p.max_users {
                        check(
                            &format!("phase {n} maximum users"),
                            limits::count(m, 1, limits::MAX_USERS, "users"),
                        )?;
                    }
                }
                if let Some(m) = max_users {
                    check(
                        "users at once",
                        limits::count(*m, 1, limits::MAX_USERS, "users"),
                    )?;
                }
                if sessions.is_empty()
                    || sessions
                        .iter()
                        .any(|s| !(s.weight >= 0.0 && s.weight <= limits::MAX_WEIGHT))
                    || sessions.iter().all(|s| s.weight <= 0.0)
                {
                    return invalid(
                        "a session run needs sessions with finite weights, at least one positive"
                            .into(),
                    );
                }
                for session in sessions {
                    check_steps(&session.steps).map_err(|m| {
                        ScenarioError::Invalid(format!("session {}: {m}", session.name))
                    })?;
                    if let Some(k) = highest_server(&session.steps) {
                        if k >= servers.len().max(1) {
                            return invalid(format!(
                                "session {}: it switches to server {} of {}",
                                session.name,
                                k + 1,
                                servers.len().max(1)
                            ));
                        }
                    }
                }
                let weights_ok = |w: &[f64]| {
                    w.iter().all(|w| (0.0..=limits::MAX_WEIGHT).contains(w))
                        && w.iter().any(|w| *w > 0.0)
                };
                for (i, p) in phases.iter().enumerate() {
                    if let Some(w) = &p.session_weights {
                        if w.len() != sessions.len() || !weights_ok(w) {
                            return invalid(format!(
                                "phase {}: one finite session weight per session ({}), at \
                                 least one positive",
                                i + 1,
                                sessions.len()
                            ));
                        }
                    }
                }
                if !servers.is_empty() {
                    let w: Vec<f64> = servers.iter().map(|s| s.weight).collect();
                    if !weights_ok(&w) {
                        return invalid(
                            "servers need finite weights, at least one positive".into(),
                        );
                    }
                    if servers[0].target != self.target {
                        return invalid("the first server must be the scenario's target".into());
                    }
                }
                if self.duration.is_none() {
                    return invalid("a session run needs a deadline (duration)".into());
                }
            }
        }
        Ok(())
    }

    /// Every server the run loads, with its share of the users: a session run's
    /// `servers`, or the target alone.
    pub fn servers(&self) -> Vec<WeightedServer> {
        match &self.load {
            Load::Sessions { servers, .. } if !servers.is_empty() => servers.clone(),
            _ => vec![WeightedServer {
                target: self.target.clone(),
                weight: 1.0,
            }],
        }
    }

    /// The instant after which no new user arrives (the end of the last phase).
    pub fn arrivals_end(&self) -> Option<Duration> {
        match &self.load {
            Load::Sessions { phases, .. } => Some(
                phases
                    .iter()
                    .map(|p| p.duration)
                    .fold(Duration::ZERO, Duration::saturating_add),
            ),
            _ => None,
        }
    }
}

/// The highest server a script switches to, if it switches at all.
fn highest_server(steps: &[Step]) -> Option<usize> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Server(k) => Some(*k),
            Step::Loop { steps, .. }
            | Step::Transaction { steps, .. }
            | Step::Counted { steps, .. }
            | Step::If { steps, .. }
            | Step::Repeat { steps, .. } => highest_server(steps),
            _ => None,
        })
        .max()
}

fn check<T>(what: &str, r: Result<T, limits::OutOfRange>) -> Result<(), ScenarioError> {
    r.map(drop)
        .map_err(|e| ScenarioError::Invalid(format!("{what}: {e}")))
}

fn check_connections(connections: u32) -> Result<(), ScenarioError> {
    limits::count(
        u64::from(connections),
        1,
        limits::MAX_CONNECTIONS,
        "connections",
    )
    .map(drop)
    .map_err(|e| ScenarioError::Invalid(format!("connections: {e}")))
}

fn check_script(script: &[Request]) -> Result<(), ScenarioError> {
    if script.is_empty() {
        return Err(ScenarioError::Invalid("the request script is empty".into()));
    }
    for r in script {
        r.check().map_err(ScenarioError::Invalid)?;
    }
    Ok(())
}

/// Loops in range and holding a request (a loop of think times alone would spin a
/// worker without end), think times in range, every request well-formed.
fn check_steps(steps: &[Step]) -> Result<(), String> {
    for step in steps {
        match step {
            Step::Request(r) => r.check()?,
            Step::Loop { count, steps } => {
                limits::count(*count, 1, limits::MAX_LOOP, "passes")
                    .map_err(|e| format!("loop: {e}"))?;
                if !steps_send(steps) {
                    return Err("a loop must hold at least one request".into());
                }
                check_steps(steps)?;
            }
            Step::Think { mean, .. } => {
                limits::seconds_or_zero(mean.as_secs_f64())
                    .map_err(|e| format!("think time: {e}"))?;
            }
            Step::ThinkBetween { min, max } => {
                limits::seconds_or_zero(max.as_secs_f64())
                    .map_err(|e| format!("think time: {e}"))?;
                if min > max {
                    return Err("think time: min must not exceed max".into());
                }
            }
            Step::Transaction { steps, .. } | Step::If { steps, .. } => check_steps(steps)?,
            Step::Dynamic(d) => {
                d.request.check_dynamic()?;
                d.check()?;
            }
            // Checked against the run's servers by `Scenario::validate`.
            Step::Server(_) => {}
            Step::SetVars(set) => set.check()?,
            Step::Repeat { end, steps } => {
                limits::count(end.max, 1, limits::MAX_LOOP, "passes")
                    .map_err(|e| format!("repeat: {e}"))?;
                if !steps_send(steps) {
                    return Err("a repeat must hold at least one request".into());
                }
                check_steps(steps)?;
            }
            Step::Counted { count, steps, .. } => {
                limits::count(*count, 1, limits::MAX_LOOP, "passes")
                    .map_err(|e| format!("loop: {e}"))?;
                if !steps_send(steps) {
                    return Err("a loop must hold at least one request".into());
                }
                check_steps(steps)?;
            }
        }
    }
    Ok(())
}

fn steps_send(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::Request(_) | Step::Dynamic(_) => true,
        Step::Loop { steps, .. }
        | Step::Transaction { steps, .. }
        | Step::Counted { steps, .. }
        | Step::Repeat { steps, .. } => steps_send(steps),
        // A branch that may not be taken still counts: the engine yields in a loop
        // that sends nothing, so it cannot hold its worker.
        Step::If { steps, .. } => steps_send(steps),
        Step::Think { .. } | Step::ThinkBetween { .. } | Step::SetVars(_) | Step::Server(_) => {
            false
        }
    })
}

impl Session {
    /// How many requests one run of this session sends (loops multiplied out). A
    /// dynamic session's count is its most: every `<if>` taken, every `<repeat>` to
    /// its `max_repeat`, no `<match>` loop or abort.
    pub fn request_count(&self) -> u64 {
        fn count(steps: &[Step]) -> u64 {
            steps
                .iter()
                .map(|s| match s {
                    Step::Request(_) | Step::Dynamic(_) => 1,
                    Step::Loop { count: n, steps }
                    | Step::Counted {
                        count: n, steps, ..
                    } => n.saturating_mul(count(steps)),
                    Step::Repeat { end, steps } => end.max.saturating_mul(count(steps)),
                    Step::Transaction { steps, .. } | Step::If { steps, .. } => count(steps),
                    Step::Think { .. }
                    | Step::ThinkBetween { .. }
                    | Step::SetVars(_)
                    | Step::Server(_) => 0,
                })
                .fold(0u64, u64::saturating_add)
        }
        count(&self.steps)
    }

    /// Makes every request of the script `request`, keeping its shape: loops, thinks
    /// and transactions. A test case (an app) declares what its server is asked; the
    /// protocol keeps deciding how often and when.
    pub fn ask_only(&mut self, request: &Request) {
        fn walk(steps: &mut [Step], request: &Request) {
            for s in steps {
                match s {
                    Step::Request(r) => *r = request.clone(),
                    Step::Dynamic(_) => *s = Step::Request(request.clone()),
                    Step::Loop { steps, .. }
                    | Step::Transaction { steps, .. }
                    | Step::Counted { steps, .. }
                    | Step::If { steps, .. }
                    | Step::Repeat { steps, .. } => walk(steps, request),
                    Step::Think { .. }
                    | Step::ThinkBetween { .. }
                    | Step::SetVars(_)
                    | Step::Server(_) => {}
                }
            }
        }
        walk(&mut self.steps, request);
    }

    /// Every request template in the session, in script order, loops not expanded.
    pub fn requests(&self) -> Vec<&Request> {
        fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a Request>) {
            for s in steps {
                match s {
                    Step::Request(r) => out.push(r),
                    Step::Dynamic(d) => out.push(&d.request),
                    Step::Loop { steps, .. }
                    | Step::Transaction { steps, .. }
                    | Step::Counted { steps, .. }
                    | Step::If { steps, .. }
                    | Step::Repeat { steps, .. } => walk(steps, out),
                    Step::Think { .. }
                    | Step::ThinkBetween { .. }
                    | Step::SetVars(_)
                    | Step::Server(_) => {}
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
                tls: false,
            },
            load: Load::Closed {
                connections,
                requests: Some(10),
                script: vec![Request::get("/")],
            },
            duration: None,
            timeouts: Timeouts::default(),
            trust: Default::default(),
        }
    }

    #[test]
    fn zero_connections_is_refused() {
        assert!(closed(0).validate().is_err());
        assert!(closed(1).validate().is_ok());
    }

    #[test]
    fn extra_roots_must_be_pem_certificates_within_the_limit() {
        let mut s = closed(1);
        s.trust.extra_roots_pem = vec![format!("{PEM_CERTIFICATE}\nMIIB\n")];
        assert!(s.validate().is_ok());
        s.trust
            .extra_roots_pem
            .push("-----BEGIN PRIVATE KEY-----\n".into());
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "extra root 2: expected PEM text with a `-----BEGIN CERTIFICATE-----` line"
        );
        s.trust.extra_roots_pem = vec![PEM_CERTIFICATE.repeat(limits::MAX_ROOTS_PEM_BYTES / 20)];
        assert!(s.validate().unwrap_err().to_string().contains("at most"));
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
            tls: false,
        };
        assert!(ok.check_local().is_ok());
        let v6 = Target {
            host: "::1".into(),
            port: 1,
            tls: false,
        };
        assert!(v6.check_local().is_ok());
        let far = Target {
            host: "192.0.2.1".into(),
            port: 1,
            tls: false,
        };
        assert!(matches!(
            far.check_local(),
            Err(ScenarioError::NotLoopback { .. })
        ));
    }

    fn sessions(steps: Vec<Step>) -> Scenario {
        let mut s = closed(1);
        s.duration = Some(Duration::from_secs(10));
        s.load = Load::Sessions {
            phases: vec![Phase {
                duration: Duration::from_secs(1),
                users_per_second: 5.0,
                max_users: None,
                session_weights: None,
            }],
            sessions: vec![Session {
                name: "s".into(),
                weight: 1.0,
                steps,
            }],
            max_users: None,
            arrival: Arrival::Uniform,
            servers: Vec::new(),
        };
        s
    }

    #[test]
    fn a_loop_of_a_trillion_is_a_counter_but_a_loop_without_a_request_is_refused() {
        let big = Step::Loop {
            count: limits::MAX_LOOP,
            steps: vec![Step::Request(Request::get("/"))],
        };
        let s = sessions(vec![big]);
        assert!(s.validate().is_ok());
        let Load::Sessions { sessions: list, .. } = &s.load else {
            unreachable!()
        };
        assert_eq!(list[0].request_count(), limits::MAX_LOOP);
        // Think times alone would spin a worker without end: nothing to wait on the wire.
        let idle = Step::Loop {
            count: 1000,
            steps: vec![Step::Think {
                mean: Duration::ZERO,
                random: false,
            }],
        };
        let e = sessions(vec![Step::Request(Request::get("/")), idle])
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("at least one request"), "{e}");
        let over = Step::Loop {
            count: limits::MAX_LOOP + 1,
            steps: vec![Step::Request(Request::get("/"))],
        };
        assert!(sessions(vec![over]).validate().is_err());
    }

    #[test]
    fn numbers_built_in_code_meet_the_same_limits() {
        let mut s = closed(1);
        s.duration = Some(Duration::from_secs(400 * 86_400));
        assert!(s.validate().unwrap_err().to_string().contains("30 days"));
        let mut s = closed(1);
        s.timeouts.response = Duration::ZERO;
        assert!(s.validate().is_err());
        let mut s = sessions(vec![Step::Request(Request::get("/"))]);
        if let Load::Sessions { phases, .. } = &mut s.load {
            phases[0].users_per_second = 1e-30;
        }
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("users per second"));
    }

    #[test]
    fn a_request_that_would_break_its_lines_is_refused() {
        let mut r = Request::get("/");
        r.headers
            .push(("X-A".into(), "b\r\nX-Injected: yes".into()));
        assert!(r.check().unwrap_err().contains("inject"));
        assert!(Request::get("/a b").check().is_err());
        assert!(Request::get("/a\r\n").check().is_err());
        let mut r = Request::get("/");
        r.headers.push(("Bad Name".into(), "v".into()));
        assert!(r.check().unwrap_err().contains("token"));
        let mut r = Request::get("/?q=1");
        r.headers.push(("X-Tab".into(), "a\tb".into()));
        assert!(r.check().is_ok());
    }

    #[test]
    fn a_phase_shorter_than_one_gap_still_starts_its_first_user() {
        let p = |duration_s: f64, rate: f64, max: Option<u64>| {
            Phase {
                duration: Duration::from_secs_f64(duration_s),
                users_per_second: rate,
                max_users: max,
                session_weights: None,
            }
            .planned_users()
        };
        assert_eq!(p(1.0, 5.0, None), 5);
        assert_eq!(p(1.0, 2.5, None), 3);
        assert_eq!(p(60.0, 0.001, None), 1);
        assert_eq!(p(60.0, 5.0, Some(7)), 7);
    }

    /// Issue 9: `localhost` against a server bound to ::1 only failed, because the
    /// resolver (/etc/hosts here) gave 127.0.0.1 alone.
    #[test]
    fn localhost_is_both_loopback_addresses_whatever_the_resolver_says() {
        for host in ["localhost", "LocalHost", "localhost.", "app.localhost"] {
            let t = Target {
                host: host.into(),
                port: 8000,
                tls: false,
            };
            let addrs: Vec<String> = t
                .check_local()
                .unwrap()
                .iter()
                .map(|a| a.to_string())
                .collect();
            assert_eq!(addrs, ["127.0.0.1:8000", "[::1]:8000"], "{host}");
        }
        assert!(!is_localhost("localhost.example"));
        assert!(!is_localhost("notlocalhost"));
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
        let mut asked = s.clone();
        let post = Request {
            method: Method::Post,
            path: "/upload".into(),
            headers: vec![],
            body: b"xx".to_vec(),
        };
        asked.ask_only(&post);
        assert_eq!(asked.requests(), [&post, &post]);
        assert_eq!(asked.request_count(), 10001, "the loops are kept");
    }
}
