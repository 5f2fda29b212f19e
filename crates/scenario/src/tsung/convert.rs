//! The element rules: which Tsung elements and attributes map to what, which are
//! accepted with a note, and which are refused.
//!
//! One function per element, in the order of Tsung's DTD. Each checks its attribute
//! names first (an unknown attribute is an error: it is usually a typo, or a feature
//! the user expects to work), then converts. Semantics follow Tsung's own reader
//! (`ts_config.erl`, `ts_config_http.erl`); a comment marks each place where wsgibench
//! differs and why.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::describe::secs;
use super::tree::{Node, Position, Source};
use super::{Backend, DumpTraffic, LogOptions, TsungError, TsungImport};
use crate::dynamic::{
    self, Auth, DynamicRequest, Extract, ExtractFrom, FileOrder, Match, MatchAction, RepeatEnd,
    SetVars, Test, VarSource,
};
use crate::{
    limits, Arrival, Load, Method, Phase, Request, Scenario, Session, Step, Target, Timeouts,
    WeightedServer,
};

const TOP_LEVEL: &str =
    "inside <tsung>: information, clients, servers, monitoring, load, options, sessions";
const SESSION_STEPS: &str = "HTTP sessions only: request/http, for, repeat, if, setdynvars, \
     transaction, thinktime; see README for the subset";
const HTTP_CHILDREN: &str =
    "inside <http>: http_header, add_cookie, www_authenticate (basic, digest), oauth, soap";

/// Tsung's defaults for `<match>` (`ts_config.erl`) and `<repeat>`.
const TSUNG_MAX_LOOP: u32 = 20;
const TSUNG_SLEEP_LOOP_S: f64 = 5.0;
const TSUNG_MAX_RESTART: u32 = 3;
const TSUNG_MAX_REPEAT: u64 = 20;

/// The largest `file_server` file read: its lines travel inside the scenario.
const MAX_DATA_FILE: u64 = 64 * 1024 * 1024;

/// Tsung's default think time when a `<thinktime/>` gives no value and no global
/// `<option name="thinktime">` does either (`thinktime_value` in Tsung's app env).
const TSUNG_DEFAULT_THINK_S: f64 = 5.0;

/// When `<load>` has no `duration`, Tsung runs until the last user finishes, however
/// long that takes. wsgibench needs a deadline, so it allows this much time for the
/// requests themselves on top of the arrivals and the think times (see
/// [`deadline_without_duration`]).
const REQUEST_ALLOWANCE: Duration = Duration::from_secs(60);

/// Tsung's default `Content-Type` for a request with a body (`ts_config_http.erl`).
const TSUNG_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// How a think time is drawn, as Tsung stores it after reading the file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Draw {
    Fixed,
    Exponential,
    Uniform(f64, f64),
}

/// The global `<option name="thinktime">`, with Tsung's defaults.
#[derive(Debug, Clone, Copy)]
struct GlobalThink {
    value: f64,
    draw: Draw,
    override_all: bool,
}

struct Server {
    host: String,
    port: u16,
    tls: bool,
}

struct Ctx<'a> {
    src: &'a Source<'a>,
    notes: Vec<String>,
    think: GlobalThink,
    /// `<option name="user_agent">`: (probability in %, agent).
    user_agents: Vec<(f64, String)>,
    /// The agent the session being converted sends.
    user_agent: Option<String>,
    /// The `<server>`s in file order, with their weights.
    servers: Vec<(Server, f64)>,
    timeouts: Timeouts,
    /// Where relative `file_server` paths start: the Tsung file's directory.
    base_dir: Option<PathBuf>,
    /// `<option name="file_server">` files by id; `None` lines when the file is missing.
    files: Vec<(String, PathBuf, Option<Vec<String>>)>,
    /// `<session_setup>` of each phase, in document order (before `loop` copies).
    setups: Vec<Vec<(String, f64, Position)>>,
    /// Each converted session's name in the file and its share of that session's
    /// weight (below 1 when user agents split it).
    session_bases: Vec<(String, f64)>,
}

pub(crate) fn convert(
    src: &Source<'_>,
    root: &Node,
    base_dir: Option<&Path>,
) -> Result<TsungImport, TsungError> {
    let mut cx = Ctx {
        src,
        notes: Vec::new(),
        think: GlobalThink {
            value: TSUNG_DEFAULT_THINK_S,
            draw: Draw::Fixed,
            override_all: false,
        },
        user_agents: Vec::new(),
        user_agent: None,
        servers: Vec::new(),
        timeouts: Timeouts::default(),
        base_dir: base_dir.map(Path::to_path_buf),
        files: Vec::new(),
        setups: Vec::new(),
        session_bases: Vec::new(),
    };
    if root.name != "tsung" {
        return Err(cx.unsupported(root, "the root element must be <tsung>"));
    }
    let log = cx.log_options(root)?;

    // Tsung reads the sections in document order and its DTD fixes that order; we
    // pick them by name so options are known before sessions whatever the order.
    let mut sections: [Option<&Node>; 7] = Default::default();
    const NAMES: [&str; 7] = [
        "information",
        "clients",
        "servers",
        "monitoring",
        "load",
        "options",
        "sessions",
    ];
    cx.no_text(root)?;
    for child in &root.children {
        let Some(i) = NAMES.iter().position(|n| *n == child.name) else {
            return Err(cx.unsupported(child, TOP_LEVEL));
        };
        if sections[i].is_some() {
            return Err(cx.invalid(child, format!("only one <{}> is allowed", child.name)));
        }
        sections[i] = Some(child);
    }
    let [_information, clients, servers, monitoring, load, options, sessions] = sections;
    let missing =
        |cx: &Ctx, name: &str| cx.invalid(root, format!("a <{name}> element is required"));
    // Sections are checked in the DTD's order, so the first error reported is the
    // first one in the file.
    let max_users = match clients {
        Some(c) => cx.clients(c)?,
        None => None,
    };
    let target = cx.servers(servers.ok_or_else(|| missing(&cx, "servers"))?)?;
    if let Some(m) = monitoring {
        cx.monitoring(m);
    }
    let load = load.ok_or_else(|| missing(&cx, "load"))?;
    let sessions_node = sessions.ok_or_else(|| missing(&cx, "sessions"))?;
    if let Some(o) = options {
        cx.options(o)?;
    }
    // A file that calls Erlang cannot run whatever else it holds: that is said first.
    cx.erlang_calls(sessions_node)?;
    let (mut phases, deadline) = cx.load(load)?;
    let sessions = cx.sessions(sessions_node)?;
    cx.session_setups(&mut phases)?;

    let duration = match deadline {
        Some(d) => d,
        None => {
            let d = deadline_without_duration(&phases, &sessions);
            cx.note(
                load,
                format!(
                    "no duration: Tsung would wait for the last user to finish; wsgibench cuts \
                     the run at {} (end of arrivals + longest session's think time + {} s for \
                     requests); add duration=\"...\" to <load> to choose",
                    secs(d),
                    REQUEST_ALLOWANCE.as_secs()
                ),
            );
            d
        }
    };

    let scenario = Scenario {
        target,
        load: Load::Sessions {
            phases,
            sessions,
            max_users,
            // Tsung draws exponential gaps; even ones make a file start the same
            // users every run. `wsgibench tsung --arrival poisson` restores Tsung's.
            arrival: Arrival::Uniform,
            servers: cx.weighted_servers(),
        },
        duration: Some(duration),
        timeouts: cx.timeouts,
        trust: Default::default(),
    };
    scenario
        .validate()
        .map_err(|e| cx.invalid(sessions_node, e.to_string()))?;
    let missing_files = cx
        .files
        .iter()
        .filter(|(_, _, lines)| lines.is_none())
        .map(|(_, path, _)| path.clone())
        .collect();
    Ok(TsungImport {
        scenario,
        notes: cx.notes,
        log,
        missing_files,
    })
}

/// Tsung has no deadline without `<load duration>`; ours is the end of the arrival
/// phases, plus the longest expected think time of one session, plus
/// [`REQUEST_ALLOWANCE`]. A user who arrives last and thinks as long as the average
/// user then still has a minute for its requests.
fn deadline_without_duration(phases: &[Phase], sessions: &[Session]) -> Duration {
    let arrivals: Duration = phases.iter().map(|p| p.duration).sum();
    let think = sessions
        .iter()
        .map(|s| expected_think(&s.steps))
        .max()
        .unwrap_or_default();
    arrivals + think + REQUEST_ALLOWANCE
}

/// The expected total think time of one run of `steps`, loops multiplied out.
pub(crate) fn expected_think(steps: &[Step]) -> Duration {
    steps
        .iter()
        .map(|s| match s {
            Step::Request(_) | Step::Dynamic(_) | Step::SetVars(_) | Step::Server(_) => {
                Duration::ZERO
            }
            Step::Think { mean, .. } => *mean,
            Step::ThinkBetween { min, max } => (*min + *max) / 2,
            Step::Loop { count, steps } | Step::Counted { count, steps, .. } => {
                expected_think(steps).saturating_mul(u32::try_from(*count).unwrap_or(u32::MAX))
            }
            Step::Repeat { end, steps } => {
                expected_think(steps).saturating_mul(u32::try_from(end.max).unwrap_or(u32::MAX))
            }
            Step::Transaction { steps, .. } | Step::If { steps, .. } => expected_think(steps),
        })
        .fold(Duration::ZERO, Duration::saturating_add)
}

fn unit_seconds(unit: &str) -> f64 {
    match unit {
        "hour" => 3600.0,
        "minute" => 60.0,
        "millisecond" => 0.001,
        _ => 1.0,
    }
}

/// `attribute` read as a number and turned into users per second by `to_rate`: `None`
/// when absent, `Some(Err(()))` when not a number or outside [`limits::rate`].
fn node_rate(
    node: &Node,
    attribute: &str,
    to_rate: &dyn Fn(f64) -> f64,
) -> Option<Result<f64, ()>> {
    let text = node.attr(attribute)?;
    Some(
        limits::parse_number(text, "")
            .and_then(|x| limits::rate(to_rate(x), "users"))
            .map_err(drop),
    )
}

fn is_loopback_name(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Ctx<'_> {
    // ---- helpers: positions, notes, errors, attribute readers ----

    fn at(&self, node: &Node) -> Position {
        self.src.position(node.offset)
    }

    fn note(&mut self, node: &Node, message: String) {
        let at = self.at(node);
        let note = format!("{at}: <{}>: {message}", node.name);
        // A session converted once per user agent says the same things each time.
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    fn unsupported(&self, node: &Node, supported: &str) -> TsungError {
        TsungError::Unsupported {
            at: self.at(node),
            element: node.name.clone(),
            supported: supported.to_string(),
        }
    }

    fn unsupported_attr(&self, node: &Node, attribute: &str, reason: &str) -> TsungError {
        TsungError::UnsupportedAttribute {
            at: self.at(node),
            element: node.name.clone(),
            attribute: attribute.to_string(),
            value: node.attr(attribute).unwrap_or_default().to_string(),
            reason: reason.to_string(),
        }
    }

    fn bad(&self, node: &Node, attribute: &str, expected: &str) -> TsungError {
        TsungError::BadValue {
            at: self.at(node),
            element: node.name.clone(),
            attribute: attribute.to_string(),
            value: node.attr(attribute).unwrap_or_default().to_string(),
            expected: expected.to_string(),
        }
    }

    fn invalid(&self, node: &Node, message: String) -> TsungError {
        TsungError::Invalid {
            at: self.at(node),
            element: node.name.clone(),
            message,
        }
    }

    /// Refuses attributes outside `known`: a typo or an unknown feature must not be
    /// silently dropped.
    fn attrs(&self, node: &Node, known: &[&str]) -> Result<(), TsungError> {
        for (k, _) in &node.attrs {
            if !known.contains(&k.as_str()) {
                let reason = if known.is_empty() {
                    format!("unknown attribute; <{}> takes none", node.name)
                } else {
                    format!(
                        "unknown attribute; <{}> takes {}",
                        node.name,
                        known.join(", ")
                    )
                };
                return Err(self.unsupported_attr(node, k, &reason));
            }
        }
        Ok(())
    }

    fn required<'n>(&self, node: &'n Node, attribute: &str) -> Result<&'n str, TsungError> {
        node.attr(attribute)
            .ok_or_else(|| self.invalid(node, format!("the {attribute} attribute is required")))
    }

    fn number(&self, node: &Node, attribute: &str) -> Result<Option<f64>, TsungError> {
        match node.attr(attribute) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.bad(node, attribute, "a number")),
            },
        }
    }

    fn positive(&self, node: &Node, attribute: &str) -> Result<Option<f64>, TsungError> {
        match node.attr(attribute) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
                _ => Err(self.bad(node, attribute, "a positive number")),
            },
        }
    }

    /// A duration attribute, `per_unit` seconds per unit, checked against
    /// [`limits::MAX_SECONDS`] after the unit is applied.
    fn duration(
        &self,
        node: &Node,
        attribute: &str,
        per_unit: f64,
        unit_name: &str,
        zero_ok: bool,
    ) -> Result<Option<Duration>, TsungError> {
        let Some(v) = node.attr(attribute) else {
            return Ok(None);
        };
        let expected =
            |e: limits::OutOfRange| format!("{} (the value in {unit_name}s)", e.expected);
        let x = limits::parse_number(v, "a number")
            .map_err(|e| self.bad(node, attribute, &expected(e)))?;
        let checked = if zero_ok {
            limits::seconds_or_zero(x * per_unit)
        } else {
            limits::seconds(x * per_unit)
        };
        checked
            .map(Some)
            .map_err(|e| self.bad(node, attribute, &expected(e)))
    }

    /// A think-time attribute in seconds: 0 to [`limits::MAX_SECONDS`].
    fn think_seconds(&self, node: &Node, attribute: &str) -> Result<Option<f64>, TsungError> {
        Ok(self
            .duration(node, attribute, 1.0, "second", true)?
            .map(|d| d.as_secs_f64()))
    }

    /// A whole-number attribute from `min` to `max`.
    fn bounded(
        &self,
        node: &Node,
        attribute: &str,
        min: u64,
        max: u64,
        what: &str,
    ) -> Result<Option<u64>, TsungError> {
        match node.attr(attribute) {
            None => Ok(None),
            Some(v) => limits::parse_count(v, min, max, what)
                .map(Some)
                .map_err(|e| self.bad(node, attribute, &e.expected)),
        }
    }

    fn integer(&self, node: &Node, attribute: &str) -> Result<Option<i64>, TsungError> {
        match node.attr(attribute) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                self.bad(
                    node,
                    attribute,
                    &format!("an integer from {} to {}", i64::MIN, i64::MAX),
                )
            }),
        }
    }

    fn positive_integer(&self, node: &Node, attribute: &str) -> Result<Option<u64>, TsungError> {
        match node.attr(attribute) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(x) if x > 0 => Ok(Some(x)),
                _ => Err(self.bad(node, attribute, "a positive integer")),
            },
        }
    }

    fn choice<'n>(
        &self,
        node: &'n Node,
        attribute: &str,
        allowed: &[&str],
    ) -> Result<Option<&'n str>, TsungError> {
        match node.attr(attribute) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v)),
            Some(_) => Err(self.bad(node, attribute, &format!("one of {}", allowed.join(", ")))),
        }
    }

    fn boolean(&self, node: &Node, attribute: &str) -> Result<Option<bool>, TsungError> {
        Ok(self
            .choice(node, attribute, &["true", "false"])?
            .map(|v| v == "true"))
    }

    /// Text inside structural elements is a mistake (often a stray character left by
    /// an edit); Tsung's validator refuses it too.
    fn no_text(&self, node: &Node) -> Result<(), TsungError> {
        if node.text.trim().is_empty() {
            Ok(())
        } else {
            Err(self.invalid(node, format!("unexpected text {:?}", node.text.trim())))
        }
    }

    fn leaf(&self, node: &Node) -> Result<(), TsungError> {
        self.no_text(node)?;
        match node.children.first() {
            Some(c) => {
                Err(self.unsupported(c, &format!("<{}> takes no child elements", node.name)))
            }
            None => Ok(()),
        }
    }

    // ---- <tsung> ----

    fn log_options(&mut self, root: &Node) -> Result<LogOptions, TsungError> {
        self.attrs(root, &["loglevel", "dumptraffic", "backend", "version"])?;
        let mut log = LogOptions::default();
        if let Some(l) = self.choice(
            root,
            "loglevel",
            &[
                "emergency",
                "critical",
                "error",
                "warning",
                "notice",
                "info",
                "debug",
            ],
        )? {
            log.loglevel = l.to_string();
        }
        let backend = self.choice(root, "backend", &["text", "json", "rrdtool", "fullstats"])?;
        log.backend = match backend {
            Some("json") => Backend::Json,
            Some("rrdtool") => Backend::Rrdtool,
            Some("fullstats") => Backend::Fullstats,
            _ => Backend::Text,
        };
        if log.backend != Backend::Json {
            self.note(
                root,
                format!(
                    "backend=\"{}\": wsgibench does not write Tsung's {} log; it writes its own \
                     results, and Tsung's JSON log on request",
                    backend.unwrap_or("text"),
                    backend.unwrap_or("text")
                ),
            );
        }
        let dump = self.choice(
            root,
            "dumptraffic",
            &["true", "false", "light", "protocol", "protocol_local"],
        )?;
        log.dumptraffic = match dump {
            Some("true") => DumpTraffic::True,
            Some("light") => DumpTraffic::Light,
            Some("protocol") => DumpTraffic::Protocol,
            Some("protocol_local") => DumpTraffic::ProtocolLocal,
            _ => DumpTraffic::False,
        };
        if let Some(d) = dump.filter(|d| *d != "false") {
            // Dumping traffic slows Tsung down considerably (its manual warns so);
            // wsgibench's hot path stays free of it and keeps per-status counts instead.
            self.note(
                root,
                format!("dumptraffic=\"{d}\": traffic is not dumped; wsgibench counts statuses and errors instead"),
            );
        }
        Ok(log)
    }

    // ---- <clients> ----

    fn clients(&mut self, clients: &Node) -> Result<Option<u64>, TsungError> {
        self.attrs(clients, &[])?;
        self.no_text(clients)?;
        let mut cap: Option<u64> = None;
        let mut hosts = Vec::new();
        for client in &clients.children {
            if client.name != "client" {
                return Err(self.unsupported(client, "inside <clients>: client"));
            }
            self.attrs(
                client,
                &[
                    "host",
                    "maxusers",
                    "use_controller_vm",
                    "cpu",
                    "weight",
                    "type",
                    "batch",
                    "scan_intf",
                ],
            )?;
            self.choice(client, "type", &["machine", "batch"])?;
            self.boolean(client, "use_controller_vm")?;
            self.positive_integer(client, "cpu")?;
            self.number(client, "weight")?;
            if let Some(m) = self.bounded(client, "maxusers", 1, limits::MAX_USERS, "users")? {
                cap = Some(cap.unwrap_or(0).saturating_add(m));
            }
            hosts.push(client.attr("host").unwrap_or("batch nodes").to_string());
            for ip in &client.children {
                if ip.name != "ip" && ip.name != "iprange" {
                    return Err(self.unsupported(ip, "inside <client>: ip, iprange"));
                }
                self.note(
                    ip,
                    "ignored: wsgibench connects from the loopback interface".into(),
                );
            }
        }
        // Tsung's maxusers bounds the users one client VM runs at once; with all of
        // wsgibench on this machine the sum over clients is the same bound.
        let cap_text = match cap {
            Some(c) => format!("; maxusers caps simultaneous users at {c}"),
            None => String::new(),
        };
        self.note(
            clients,
            format!(
                "wsgibench runs its own worker threads on this machine instead of Tsung \
                 client nodes ({}){cap_text}",
                hosts.join(", ")
            ),
        );
        Ok(cap)
    }

    // ---- <servers> ----

    fn servers(&mut self, servers: &Node) -> Result<Target, TsungError> {
        self.attrs(servers, &[])?;
        self.no_text(servers)?;
        let mut target = None;
        for server in &servers.children {
            if server.name != "server" {
                return Err(self.unsupported(server, "inside <servers>: server"));
            }
            self.attrs(server, &["host", "port", "type", "weight"])?;
            self.leaf(server)?;
            let host = self.required(server, "host")?.to_string();
            self.required(server, "port")?;
            let port = server
                .attr("port")
                .and_then(|p| p.trim().parse::<u16>().ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| self.bad(server, "port", "a TCP port, 1 to 65535"))?;
            let ty = self.required(server, "type")?;
            let tls = match ty {
                "tcp" | "tcp6" => false,
                "ssl" | "ssl6" => true,
                "udp" | "udp6" | "erlang" | "bosh" | "bosh_ssl" | "websocket"
                | "websocket_ssl" => {
                    return Err(self.unsupported_attr(
                        server,
                        "type",
                        "HTTP/1.1 over tcp or ssl only (type=\"tcp\", \"tcp6\", \"ssl\" or \"ssl6\")",
                    ))
                }
                _ => return Err(self.bad(server, "type", "tcp, tcp6, ssl or ssl6")),
            };
            // Tsung's default weight is 1; a user picks its server by weight.
            let weight = match self.number(server, "weight")? {
                None => 1.0,
                Some(w) if (0.0..=limits::MAX_WEIGHT).contains(&w) => w,
                Some(_) => {
                    return Err(self.bad(
                        server,
                        "weight",
                        &format!("a number from 0 to {}", limits::MAX_WEIGHT),
                    ))
                }
            };
            if self
                .servers
                .iter()
                .any(|(s, _)| s.port == port && s.host.eq_ignore_ascii_case(&host))
            {
                return Err(self.invalid(server, format!("{host}:{port} is listed twice")));
            }
            self.servers.push((
                Server {
                    host: host.clone(),
                    port,
                    tls,
                },
                weight,
            ));
            target.get_or_insert(Target { host, port, tls });
        }
        if !self.servers.is_empty() && self.servers.iter().all(|(_, w)| *w <= 0.0) {
            return Err(self.invalid(
                servers,
                "at least one <server> needs a positive weight".into(),
            ));
        }
        target.ok_or_else(|| self.invalid(servers, "one <server> is required".into()))
    }

    /// The run's servers with their weights, when there are several.
    fn weighted_servers(&self) -> Vec<WeightedServer> {
        if self.servers.len() < 2 {
            return Vec::new();
        }
        self.servers
            .iter()
            .map(|(s, w)| WeightedServer {
                target: Target {
                    host: s.host.clone(),
                    port: s.port,
                    tls: s.tls,
                },
                weight: *w,
            })
            .collect()
    }

    // ---- <monitoring> ----

    fn monitoring(&mut self, monitoring: &Node) {
        let hosts: Vec<&str> = monitoring
            .children
            .iter()
            .filter_map(|m| m.attr("host"))
            .collect();
        self.note(
            monitoring,
            format!(
                "ignored ({}): wsgibench samples the CPU and memory of the servers it \
                 launches itself",
                hosts.join(", ")
            ),
        );
    }

    // ---- <load> ----

    fn load(&mut self, load: &Node) -> Result<(Vec<Phase>, Option<Duration>), TsungError> {
        self.attrs(load, &["duration", "unit", "loop"])?;
        self.no_text(load)?;
        let unit = self
            .choice(load, "unit", &["hour", "minute", "second"])?
            .unwrap_or("second");
        let deadline = self.duration(load, "duration", unit_seconds(unit), unit, false)?;
        // loop="N" copies the phases N times: bounded, since the copies are kept.
        let repeat = self
            .bounded(load, "loop", 0, limits::MAX_PHASE_REPEATS, "extra passes")?
            .unwrap_or(0);

        let mut phases = Vec::new();
        // A set: a file may hold many phases, and a list made the check quadratic
        // (6 s for 100 000 phases).
        let mut numbers = std::collections::HashSet::new();
        for child in &load.children {
            match child.name.as_str() {
                "arrivalphase" => {
                    let (number, phase, setup) = self.arrivalphase(child)?;
                    self.setups.push(setup);
                    if !numbers.insert(number) {
                        // Tsung aborts on this too ("phase already defined").
                        return Err(self.bad(child, "phase", "a phase number not used before"));
                    }
                    phases.push(phase);
                }
                "user" => {
                    return Err(self.unsupported(
                        child,
                        "users started at a fixed time are not supported; use an <arrivalphase>",
                    ))
                }
                _ => return Err(self.unsupported(child, "inside <load>: arrivalphase")),
            }
        }
        if phases.is_empty() {
            return Err(self.invalid(load, "at least one <arrivalphase> is required".into()));
        }
        // loop="N" runs the whole sequence of phases N more times, as copies: their
        // total is bounded too, or a file of many phases would be multiplied by N.
        let total = (phases.len() as u64).saturating_mul(repeat + 1);
        if total > limits::MAX_PHASES {
            return Err(self.bad(
                load,
                "loop",
                &format!(
                    "at most {} phases in all ({} phases x {} passes is {total})",
                    limits::MAX_PHASES,
                    phases.len(),
                    repeat + 1
                ),
            ));
        }
        let once = phases.clone();
        let setups = self.setups.clone();
        for _ in 0..repeat {
            phases.extend(once.iter().cloned());
            self.setups.extend(setups.iter().cloned());
        }
        Ok((phases, deadline))
    }

    #[allow(clippy::type_complexity)]
    fn arrivalphase(
        &mut self,
        ap: &Node,
    ) -> Result<(i64, Phase, Vec<(String, f64, Position)>), TsungError> {
        self.attrs(ap, &["phase", "duration", "unit", "wait_all_sessions_end"])?;
        self.no_text(ap)?;
        self.required(ap, "phase")?;
        let number = self.integer(ap, "phase")?.unwrap_or_default();
        self.required(ap, "duration")?;
        // The DTD requires unit; Tsung's reader falls back to seconds, and so do we.
        let unit = self
            .choice(ap, "unit", &["hour", "minute", "second", "millisecond"])?
            .unwrap_or("second");
        let duration = self
            .duration(ap, "duration", unit_seconds(unit), unit, false)?
            .unwrap_or_default();
        if self.boolean(ap, "wait_all_sessions_end")? == Some(true) {
            return Err(self.unsupported_attr(
                ap,
                "wait_all_sessions_end",
                "phases follow each other on the clock in wsgibench; a phase cannot wait \
                 for the previous phase's users to finish",
            ));
        }
        let mut users = None;
        let mut setup = Vec::new();
        for child in &ap.children {
            match child.name.as_str() {
                "users" if users.is_none() => users = Some(self.users(child)?),
                "users" => {
                    return Err(self.invalid(child, "only one <users> per phase is allowed".into()))
                }
                "session_setup" => {
                    self.attrs(child, &["name", "probability"])?;
                    self.leaf(child)?;
                    let name = self.required(child, "name")?.to_string();
                    self.required(child, "probability")?;
                    let p = self
                        .number(child, "probability")?
                        .filter(|p| (0.0..=100.0).contains(p))
                        .ok_or_else(|| self.bad(child, "probability", "a percentage, 0 to 100"))?;
                    setup.push((name, p, self.at(child)));
                }
                _ => {
                    return Err(
                        self.unsupported(child, "inside <arrivalphase>: users, session_setup")
                    )
                }
            }
        }
        let (rate, max) =
            users.ok_or_else(|| self.invalid(ap, "a <users> element is required".into()))?;
        Ok((
            number,
            Phase {
                duration,
                users_per_second: rate,
                max_users: max,
                session_weights: None,
            },
            setup,
        ))
    }

    fn users(&mut self, users: &Node) -> Result<(f64, Option<u64>), TsungError> {
        self.attrs(users, &["arrivalrate", "interarrival", "unit", "maxnumber"])?;
        self.leaf(users)?;
        let unit_name = self
            .choice(users, "unit", &["hour", "minute", "second"])?
            .unwrap_or("second");
        let unit = unit_seconds(unit_name);
        // Both forms become users per second, checked against the same limits.
        let read = |attribute: &str, to_rate: &dyn Fn(f64) -> f64, expected: String| {
            node_rate(users, attribute, to_rate)
                .transpose()
                .map_err(|()| self.bad(users, attribute, &expected))
        };
        let arrivalrate = read(
            "arrivalrate",
            &|r| r / unit,
            format!(
                "users per second from {} to {} (the value per {unit_name})",
                limits::MIN_RATE,
                limits::MAX_RATE
            ),
        )?;
        let interarrival = read(
            "interarrival",
            &|i| 1.0 / (i * unit),
            format!(
                "a time between users from {} to {} s (the value in {unit_name}s)",
                limits::show(1.0 / limits::MAX_RATE),
                1.0 / limits::MIN_RATE
            ),
        )?;
        let rate = match (arrivalrate, interarrival) {
            (Some(r), None) | (None, Some(r)) => r,
            (None, None) => {
                return Err(self.invalid(users, "arrivalrate or interarrival is required".into()))
            }
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    users,
                    "arrivalrate and interarrival cannot both be set".into(),
                ))
            }
        };
        let max = self.bounded(users, "maxnumber", 1, limits::MAX_USERS, "users")?;
        Ok((rate, max))
    }

    // ---- <options> ----

    fn options(&mut self, options: &Node) -> Result<(), TsungError> {
        self.attrs(options, &[])?;
        self.no_text(options)?;
        for option in &options.children {
            if option.name != "option" {
                return Err(self.unsupported(option, "inside <options>: option"));
            }
            self.option(option)?;
        }
        Ok(())
    }

    fn option(&mut self, option: &Node) -> Result<(), TsungError> {
        self.attrs(
            option,
            &[
                "name", "type", "value", "random", "override", "min", "max", "id",
            ],
        )?;
        let name = self.required(option, "name")?;
        match option.attr("type") {
            None => {}
            Some("ts_http") => return self.http_option(option, name),
            Some(other) => {
                // Options for other protocols may hold children we do not model; they
                // cannot affect HTTP sessions, so the whole option is noted and skipped.
                self.note(
                    option,
                    format!("name=\"{name}\" for {other} ignored: this file's sessions are HTTP"),
                );
                return Ok(());
            }
        }
        self.leaf(option)?;
        let ignored = |reason: &str| format!("name=\"{name}\" ignored: {reason}");
        match name {
            "thinktime" => {
                let value = match option.attr("value") {
                    None => self.think.value,
                    Some(_) => self.think_seconds(option, "value")?.unwrap_or_default(),
                };
                let min = self.think_seconds(option, "min")?;
                let max = self.think_seconds(option, "max")?;
                let draw = match (min, max) {
                    (Some(lo), Some(hi)) if hi > 0.0 && hi >= lo && lo >= 0.0 => {
                        Draw::Uniform(lo, hi)
                    }
                    (None, None) => match self.boolean(option, "random")? {
                        Some(true) => Draw::Exponential,
                        Some(false) | None => Draw::Fixed,
                    },
                    _ => {
                        return Err(self.invalid(
                            option,
                            "min and max go together, with 0 <= min <= max and max > 0".into(),
                        ))
                    }
                };
                let override_all = self.boolean(option, "override")?.unwrap_or(false);
                self.think = GlobalThink {
                    value,
                    draw,
                    override_all,
                };
            }
            "connect_timeout" | "idle_timeout" => {
                // Tsung gives both in milliseconds; idle_timeout is how long it waits
                // for data of a parsed (HTTP) response, our response timeout.
                let ms = match option.attr("value") {
                    Some("infinity") => {
                        self.note(
                            option,
                            format!(
                                "value=\"infinity\": wsgibench keeps its default {} timeout",
                                if name == "connect_timeout" {
                                    "connect"
                                } else {
                                    "response"
                                }
                            ),
                        );
                        return Ok(());
                    }
                    _ => self
                        .duration(option, "value", 0.001, "millisecond", false)?
                        .ok_or_else(|| self.bad(option, "value", "milliseconds, or infinity"))?,
                };
                let d = ms;
                if name == "connect_timeout" {
                    self.timeouts.connect = d;
                } else {
                    self.timeouts.response = d;
                }
            }
            "tcp_rcv_buffer" | "tcp_snd_buffer" | "udp_rcv_buffer" | "udp_snd_buffer" => {
                let n = ignored("wsgibench leaves socket buffer sizes to the kernel");
                self.note(option, n);
            }
            "ssl_ciphers" | "ssl_versions" | "ssl_reuse_sessions" => {
                let n = ignored("wsgibench's TLS (rustls) chooses its own ciphers and versions");
                self.note(option, n);
            }
            "hibernate" => {
                let n = ignored("an Erlang memory setting of Tsung's users");
                self.note(option, n);
            }
            "ports_range" | "ip_transparent" | "tcp_reuseaddr" => {
                let n = ignored("client socket setting not needed on loopback");
                self.note(option, n);
            }
            "seed" => {
                let n = ignored("wsgibench seeds its own random generators");
                self.note(option, n);
            }
            "max_retries" | "retry_timeout" => {
                let n = ignored("wsgibench does not retry a failed connection; it counts an error");
                self.note(option, n);
            }
            "tcp_timeout" | "global_ack_timeout" | "max_ssh_startup_per_core" => {
                let n = ignored("a Tsung cluster or non-HTTP setting");
                self.note(option, n);
            }
            "file_server" => self.file_server(option)?,
            "rate_limit" => {
                return Err(self.unsupported_attr(
                    option,
                    "name",
                    "wsgibench does not limit its users' bandwidth; remove the option",
                ))
            }
            _ => return Err(self.unsupported_attr(option, "name", "unknown option")),
        }
        Ok(())
    }

    fn http_option(&mut self, option: &Node, name: &str) -> Result<(), TsungError> {
        match name {
            "user_agent" => {}
            "http_use_server_as_proxy" => {
                return Err(self.unsupported_attr(
                    option,
                    "name",
                    "benchmarking a proxy is not supported",
                ))
            }
            _ => return Err(self.unsupported_attr(option, "name", "ts_http options: user_agent")),
        }
        self.no_text(option)?;
        let mut agents: Vec<(f64, String)> = Vec::new();
        for ua in &option.children {
            if ua.name != "user_agent" {
                return Err(self.unsupported(ua, "inside <option name=\"user_agent\">: user_agent"));
            }
            self.attrs(ua, &["probability"])?;
            self.required(ua, "probability")?;
            let p = self
                .number(ua, "probability")?
                .filter(|p| (0.0..=100.0).contains(p))
                .ok_or_else(|| self.bad(ua, "probability", "a percentage, 0 to 100"))?;
            if let Some(c) = ua.children.first() {
                return Err(self.unsupported(c, "<user_agent> holds text only"));
            }
            // Tsung strips the line breaks and indentation around the text.
            let text = ua.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if text.is_empty() || text.contains("%%") {
                return Err(
                    self.invalid(ua, "needs a literal user agent string as its text".into())
                );
            }
            agents.push((p, text));
        }
        let sum: f64 = agents.iter().map(|(p, _)| p).sum();
        if agents.is_empty() || (sum - 100.0).abs() > 0.01 {
            return Err(self.invalid(
                option,
                format!("expected the user_agent probabilities to sum to 100, got {sum}"),
            ));
        }
        agents.retain(|(p, _)| *p > 0.0);
        self.user_agents = agents;
        Ok(())
    }

    // ---- <sessions> ----

    fn sessions(&mut self, sessions: &Node) -> Result<Vec<Session>, TsungError> {
        self.attrs(sessions, &[])?;
        self.no_text(sessions)?;
        let mut out = Vec::new();
        // Tsung wants either probabilities summing to 100 or relative weights, not
        // both; remember which the first session used.
        let mut by_probability: Option<bool> = None;
        for s in &sessions.children {
            if s.name != "session" {
                return Err(self.unsupported(s, "inside <sessions>: session"));
            }
            self.attrs(
                s,
                &[
                    "name",
                    "probability",
                    "weight",
                    "type",
                    "persistent",
                    "bidi",
                ],
            )?;
            self.no_text(s)?;
            let name = self.required(s, "name")?.to_string();
            match self.required(s, "type")? {
                "ts_http" => {}
                _ => {
                    return Err(self.unsupported_attr(
                        s,
                        "type",
                        "HTTP sessions only (type=\"ts_http\")",
                    ))
                }
            }
            let (weight, is_probability) = match (s.attr("probability"), s.attr("weight")) {
                (Some(_), None) => {
                    let p = self
                        .number(s, "probability")?
                        .filter(|p| (0.0..=100.0).contains(p))
                        .ok_or_else(|| self.bad(s, "probability", "a percentage, 0 to 100"))?;
                    (p, true)
                }
                (None, Some(_)) => {
                    let w = self
                        .number(s, "weight")?
                        .filter(|w| (0.0..=limits::MAX_WEIGHT).contains(w))
                        .ok_or_else(|| {
                            self.bad(
                                s,
                                "weight",
                                &format!("a number from 0 to {}", limits::MAX_WEIGHT),
                            )
                        })?;
                    (w, false)
                }
                (Some(_), Some(_)) => {
                    return Err(self.invalid(s, "set probability or weight, not both".into()))
                }
                (None, None) => {
                    return Err(self.invalid(s, "probability or weight is required".into()))
                }
            };
            if *by_probability.get_or_insert(is_probability) != is_probability {
                return Err(self.invalid(
                    s,
                    "all sessions must use probability, or all weight, not a mix".into(),
                ));
            }
            if s.attr("persistent").is_some() || s.attr("bidi").is_some() {
                self.boolean(s, "persistent")?;
                self.boolean(s, "bidi")?;
                self.note(
                    s,
                    "persistent/bidi ignored: wsgibench users keep one HTTP/1.1 connection and \
                     reconnect when the server closes it"
                        .into(),
                );
            }
            out.extend(self.session_per_user_agent(s, name, weight)?);
        }
        if out.is_empty() {
            return Err(self.invalid(sessions, "at least one <session> is required".into()));
        }
        if by_probability == Some(true) {
            let sum: f64 = out.iter().map(|s| s.weight).sum();
            if (sum - 100.0).abs() > 0.01 {
                return Err(self.invalid(
                    sessions,
                    format!("expected the session probabilities to sum to 100, got {sum}"),
                ));
            }
        }
        Ok(out)
    }

    /// Tsung draws a user's agent at its start, independently of its session. The
    /// engine draws only sessions, so a session becomes one per agent, weighted by
    /// both probabilities; each keeps request bytes built once.
    fn session_per_user_agent(
        &mut self,
        s: &Node,
        name: String,
        weight: f64,
    ) -> Result<Vec<Session>, TsungError> {
        if self.user_agents.is_empty() {
            let steps = self.steps(s, &[])?;
            self.session_bases.push((name.clone(), 1.0));
            return Ok(vec![Session {
                name,
                weight,
                steps,
            }]);
        }
        let agents = self.user_agents.clone();
        let mut out = Vec::with_capacity(agents.len());
        for (i, (probability, agent)) in agents.iter().enumerate() {
            self.user_agent = Some(agent.clone());
            let steps = self.steps(s, &[])?;
            self.session_bases.push((name.clone(), probability / 100.0));
            out.push(Session {
                name: if agents.len() == 1 {
                    name.clone()
                } else {
                    format!("{name} (user agent {} of {})", i + 1, agents.len())
                },
                weight: weight * probability / 100.0,
                steps,
            });
        }
        self.user_agent = None;
        Ok(out)
    }

    /// The steps inside a session, `<for>` or `<transaction>`. `loop_vars` are the
    /// variables of the enclosing `<for>` loops (for messages only).
    fn steps(&mut self, parent: &Node, loop_vars: &[&str]) -> Result<Vec<Step>, TsungError> {
        let mut steps = Vec::new();
        for node in &parent.children {
            let step = match node.name.as_str() {
                "request" => {
                    steps.extend(self.request(node)?);
                    continue;
                }
                "thinktime" => self.thinktime(node)?,
                "transaction" => {
                    self.attrs(node, &["name"])?;
                    self.no_text(node)?;
                    let name = self.required(node, "name")?.to_string();
                    let inner = self.steps(node, loop_vars)?;
                    if inner.is_empty() {
                        return Err(
                            self.invalid(node, "a transaction needs at least one step".into())
                        );
                    }
                    Step::Transaction { name, steps: inner }
                }
                "for" => self.for_loop(node, loop_vars)?,
                "repeat" => self.repeat(node, loop_vars)?,
                "setdynvars" => Step::SetVars(self.setdynvars(node)?),
                "if" => {
                    self.attrs(node, &["var", "eq", "neq"])?;
                    self.no_text(node)?;
                    let test = self.test(node)?;
                    let inner = self.steps(node, loop_vars)?;
                    if inner.is_empty() {
                        return Err(self.invalid(node, "an <if> needs at least one step".into()));
                    }
                    Step::If { test, steps: inner }
                }
                "foreach" => {
                    return Err(self.unsupported(
                        node,
                        "it walks a list variable, which wsgibench does not have (variables \
                         are text); use <repeat> or <for>",
                    ))
                }
                "change_type" => {
                    return Err(self.unsupported(node, "sessions cannot switch protocol; HTTP only"))
                }
                "set_option" => {
                    return Err(self
                        .unsupported(node, "per-session options are not supported; use <options>"))
                }
                _ => return Err(self.unsupported(node, SESSION_STEPS)),
            };
            steps.push(step);
        }
        Ok(steps)
    }

    fn for_loop(&mut self, node: &Node, loop_vars: &[&str]) -> Result<Step, TsungError> {
        self.attrs(node, &["var", "from", "to", "incr"])?;
        self.no_text(node)?;
        let var = self.required(node, "var")?;
        self.required(node, "from")?;
        self.required(node, "to")?;
        let from = self.integer(node, "from")?.unwrap_or_default();
        let to = self.integer(node, "to")?.unwrap_or_default();
        let incr = match self.integer(node, "incr")? {
            None => 1,
            Some(i) if i >= 1 => i,
            Some(_) => return Err(self.bad(node, "incr", "a positive integer")),
        };
        // Tsung runs the body, then stops once the counter is >= to, else adds incr:
        // from=1 to=10000 is 10000 passes, and from > to still runs one.
        let count = if from >= to {
            1
        } else {
            let passes = 1 + (to as i128 - from as i128 + incr as i128 - 1) / incr as i128;
            match u64::try_from(passes)
                .ok()
                .filter(|n| *n <= limits::MAX_LOOP)
            {
                Some(n) => n,
                None => {
                    return Err(self.bad(
                        node,
                        "to",
                        &format!(
                            "at most {} passes from `from` by `incr`, got {passes}",
                            limits::MAX_LOOP
                        ),
                    ))
                }
            }
        };
        if from > to {
            self.note(
                node,
                format!("from={from} > to={to}: the body runs once, as in Tsung"),
            );
        }
        let mut vars = loop_vars.to_vec();
        vars.push(var);
        let steps = self.steps(node, &vars)?;
        if steps.is_empty() {
            return Err(self.invalid(node, "a loop needs at least one step".into()));
        }
        // A body that reads variables may read the counter; one that does not keeps
        // the plain loop, so a static file's program is unchanged.
        if dynamic::steps_are_dynamic(&steps) {
            return Ok(Step::Counted {
                var: var.to_string(),
                from,
                incr,
                count,
                steps,
            });
        }
        Ok(Step::Loop { count, steps })
    }

    /// `<repeat name max_repeat>` whose last child is `<while>` or `<until>`.
    fn repeat(&mut self, node: &Node, loop_vars: &[&str]) -> Result<Step, TsungError> {
        self.attrs(node, &["name", "max_repeat"])?;
        self.no_text(node)?;
        self.required(node, "name")?;
        // Tsung counts passes after the body and stops once more than max_repeat are
        // done (ts_client's ctrl_struct_impl): at most max_repeat + 1 passes, so
        // max_repeat="0" runs the body once.
        let max_repeat = self
            .bounded(node, "max_repeat", 0, limits::MAX_LOOP - 1, "passes")?
            .unwrap_or(TSUNG_MAX_REPEAT);
        let max = max_repeat + 1;
        let Some((last, body)) = node.children.split_last() else {
            return Err(self.invalid(
                node,
                "a <repeat> needs steps and a <while> or <until>".into(),
            ));
        };
        let until = match last.name.as_str() {
            "while" => false,
            "until" => true,
            other => {
                return Err(self.invalid(
                    node,
                    format!("expected <while> or <until> as its last element, got <{other}>"),
                ))
            }
        };
        self.attrs(last, &["var", "eq", "neq"])?;
        self.leaf(last)?;
        let test = self.test(last)?;
        let shell = Node {
            children: body.to_vec(),
            ..node.clone()
        };
        let steps = self.steps(&shell, loop_vars)?;
        if steps.is_empty() {
            return Err(self.invalid(node, "a <repeat> needs at least one step".into()));
        }
        Ok(Step::Repeat {
            end: RepeatEnd { test, until, max },
            steps,
        })
    }

    /// `var` with `eq` or `neq`, as `<if>`, `<while>` and `<until>` write it.
    fn test(&self, node: &Node) -> Result<Test, TsungError> {
        let var = self.required(node, "var")?;
        if !dynamic::is_var_name(var) {
            return Err(self.bad(node, "var", "a variable name (letters, digits, _ and -)"));
        }
        let (equal, value) = match (node.attr("eq"), node.attr("neq")) {
            (Some(v), None) => (true, v),
            (None, Some(v)) => (false, v),
            _ => return Err(self.invalid(node, "set eq or neq (one of them)".into())),
        };
        Ok(Test {
            var: var.to_string(),
            equal,
            value: value.to_string(),
        })
    }

    /// `<setdynvars sourcetype=...>` with its `<var name>` children.
    fn setdynvars(&mut self, node: &Node) -> Result<SetVars, TsungError> {
        self.attrs(
            node,
            &[
                "sourcetype",
                "callback",
                "start",
                "end",
                "length",
                "fileid",
                "delimiter",
                "order",
                "value",
                "code",
            ],
        )?;
        self.no_text(node)?;
        let mut vars = Vec::new();
        for v in &node.children {
            if v.name != "var" {
                return Err(self.unsupported(v, "inside <setdynvars>: var"));
            }
            self.attrs(v, &["name"])?;
            self.leaf(v)?;
            let name = self.required(v, "name")?;
            if !dynamic::is_var_name(name) {
                return Err(self.bad(v, "name", "a variable name (letters, digits, _ and -)"));
            }
            vars.push(name.to_string());
        }
        if vars.is_empty() {
            return Err(self.invalid(node, "a <setdynvars> needs at least one <var>".into()));
        }
        let source = match self.required(node, "sourcetype")? {
            "random_number" => {
                self.required(node, "start")?;
                self.required(node, "end")?;
                let start = self.integer(node, "start")?.unwrap_or_default();
                let end = self.integer(node, "end")?.unwrap_or_default();
                if end < start {
                    return Err(self.bad(node, "end", "an integer not below start"));
                }
                VarSource::RandomNumber { start, end }
            }
            "random_string" => {
                self.required(node, "length")?;
                // 0 is the empty text, as Tsung's `randomstr(0)` gives.
                let length = self
                    .bounded(node, "length", 0, limits::MAX_RANDOM_STRING, "characters")?
                    .unwrap_or(1);
                VarSource::RandomString {
                    length: length as usize,
                }
            }
            "value" => VarSource::Value(self.required(node, "value")?.to_string()),
            "file" => {
                let id = self.required(node, "fileid")?;
                let order = match self.choice(node, "order", &["iter", "random"])? {
                    Some("random") => FileOrder::Random,
                    _ => FileOrder::Iter,
                };
                let delimiter = node.attr("delimiter").unwrap_or(";").to_string();
                if delimiter.is_empty() {
                    return Err(self.bad(node, "delimiter", "one or more characters"));
                }
                let Some((_, _, lines)) = self.files.iter().find(|(f, _, _)| f == id) else {
                    let known: Vec<&str> = self.files.iter().map(|(f, _, _)| f.as_str()).collect();
                    return Err(self.bad(
                        node,
                        "fileid",
                        &format!(
                            "the id of an <option name=\"file_server\"> ({})",
                            if known.is_empty() {
                                "this file declares none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ));
                };
                VarSource::File {
                    id: id.to_string(),
                    lines: lines.clone().unwrap_or_default(),
                    delimiter,
                    order,
                }
            }
            "erlang" => {
                let callback = self.required(node, "callback")?;
                dynamic::builtin_callback(callback).ok_or_else(|| {
                    self.unsupported_attr(
                        node,
                        "callback",
                        &format!(
                            "it calls Erlang ({callback}), which wsgibench cannot run; only \
                             Tsung's ts_user_server:get_unique_id and get_really_unique_id are \
                             emulated"
                        ),
                    )
                })?
            }
            "eval" => {
                return Err(self.unsupported_attr(
                    node,
                    "sourcetype",
                    "eval runs Erlang code, which wsgibench cannot run; use random_number, \
                     random_string, file or value",
                ))
            }
            _ => return Err(self.bad(
                node,
                "sourcetype",
                "random_number, random_string, file, value, or erlang with Tsung's id callbacks",
            )),
        };
        Ok(SetVars { vars, source })
    }

    /// Reads a `file_server` file now, so the scenario carries its lines (an agent on
    /// another machine needs no copy). A missing file is not an error here: the plan
    /// names it, and the run refuses to start.
    fn file_server(&mut self, option: &Node) -> Result<(), TsungError> {
        let id = option.attr("id").unwrap_or("default").to_string();
        let value = self.required(option, "value")?;
        let path = match &self.base_dir {
            Some(dir) if Path::new(value).is_relative() => dir.join(value),
            _ => PathBuf::from(value),
        };
        if self.files.iter().any(|(f, _, _)| *f == id) {
            return Err(self.bad(option, "id", "an id not used by another file_server"));
        }
        let lines = match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.note(
                    option,
                    format!(
                        "file_server {id}: {} is missing; the run will refuse to start until it exists",
                        path.display()
                    ),
                );
                None
            }
            Err(e) => {
                return Err(self.invalid(option, format!("{}: {e}", path.display())));
            }
            Ok(m) if m.is_dir() => {
                return Err(self.invalid(
                    option,
                    format!(
                        "{}: expected a file of lines, got a directory",
                        path.display()
                    ),
                ));
            }
            // A device or FIFO has no length to check first (/dev/zero would be read
            // until memory runs out, a FIFO would block the import).
            Ok(m) if !m.is_file() => {
                return Err(self.invalid(
                    option,
                    format!(
                        "{}: expected a regular file of lines, not a device, FIFO or socket",
                        path.display()
                    ),
                ));
            }
            Ok(m) if m.len() > MAX_DATA_FILE => {
                return Err(self.invalid(
                    option,
                    format!(
                        "{}: {} bytes; at most {MAX_DATA_FILE} are read",
                        path.display(),
                        m.len()
                    ),
                ));
            }
            Ok(_) => {
                // Read no more than the bound, even if the file grew since its length
                // was checked.
                let mut text = Vec::new();
                std::fs::File::open(&path)
                    .and_then(|f| f.take(MAX_DATA_FILE + 1).read_to_end(&mut text))
                    .map_err(|e| self.invalid(option, format!("{}: {e}", path.display())))?;
                if text.len() as u64 > MAX_DATA_FILE {
                    return Err(self.invalid(
                        option,
                        format!("{}: at most {MAX_DATA_FILE} bytes are read", path.display()),
                    ));
                }
                let text = String::from_utf8_lossy(&text);
                let lines: Vec<String> = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect();
                if lines.is_empty() {
                    return Err(self.invalid(
                        option,
                        format!("{}: expected lines of values, got none", path.display()),
                    ));
                }
                Some(lines)
            }
        };
        self.files.push((id, path, lines));
        Ok(())
    }

    /// Turns each phase's `<session_setup>` into weights in the sessions' order.
    fn session_setups(&mut self, phases: &mut [Phase]) -> Result<(), TsungError> {
        for (phase, setup) in phases.iter_mut().zip(&self.setups) {
            if setup.is_empty() {
                continue;
            }
            let mut weights = Vec::with_capacity(self.session_bases.len());
            for (base, share) in &self.session_bases {
                let p = setup
                    .iter()
                    .find(|(name, _, _)| name == base)
                    .map_or(0.0, |(_, p, _)| *p);
                weights.push(p * share);
            }
            for (name, _, at) in setup {
                if !self.session_bases.iter().any(|(b, _)| b == name) {
                    return Err(TsungError::Invalid {
                        at: at.clone(),
                        element: "session_setup".into(),
                        message: format!(
                            "<session_setup name=\"{name}\">: no session has this name"
                        ),
                    });
                }
            }
            let sum: f64 = setup.iter().map(|(_, p, _)| p).sum();
            if (sum - 100.0).abs() > 0.01 {
                return Err(TsungError::Invalid {
                    at: setup[0].2.clone(),
                    element: "session_setup".into(),
                    message: format!(
                        "expected a phase's session_setup probabilities to sum to 100, got {sum}"
                    ),
                });
            }
            phase.session_weights = Some(weights);
        }
        Ok(())
    }

    fn thinktime(&mut self, node: &Node) -> Result<Step, TsungError> {
        self.attrs(node, &["value", "random", "min", "max"])?;
        self.leaf(node)?;
        if let Some(v) = node.attr("value") {
            if v.contains("%%") || v.starts_with("wait_") {
                return Err(self.unsupported_attr(
                    node,
                    "value",
                    "only a number of seconds; dynamic and synchronised think times are outside the subset",
                ));
            }
        }
        // override="true" in the global option replaces every think time of the file.
        let (value, draw) = if self.think.override_all {
            (self.think.value, self.think.draw)
        } else {
            let random = self.boolean(node, "random")?;
            let draw_from = |d: Draw| match random {
                Some(true) => Draw::Exponential,
                Some(false) => Draw::Fixed,
                None => d,
            };
            match (
                self.think_seconds(node, "min")?,
                self.think_seconds(node, "max")?,
                node.attr("value"),
            ) {
                (Some(lo), Some(hi), None) if lo >= 0.0 && hi > lo => (0.0, Draw::Uniform(lo, hi)),
                (None, None, None) => (self.think.value, draw_from(self.think.draw)),
                (None, None, Some(_)) => {
                    self.positive(node, "value")?;
                    let v = self.think_seconds(node, "value")?.unwrap_or_default();
                    (v, draw_from(self.think.draw))
                }
                _ => {
                    return Err(self.invalid(
                        node,
                        "use value=\"seconds\" (with random), or min and max with 0 <= min < max"
                            .into(),
                    ))
                }
            }
        };
        // Every value went through `think_seconds`: finite, 0 to the limit.
        let d = |s: f64| Duration::from_secs_f64(s);
        Ok(match draw {
            Draw::Fixed => Step::Think {
                mean: d(value),
                random: false,
            },
            Draw::Exponential => Step::Think {
                mean: d(value),
                random: true,
            },
            Draw::Uniform(lo, hi) => Step::ThinkBetween {
                min: d(lo),
                max: d(hi),
            },
        })
    }

    // ---- <request> and <http> ----

    /// The request, after a switch of server when its absolute URL names another of
    /// the file's servers.
    fn request(&mut self, req: &Node) -> Result<Vec<Step>, TsungError> {
        self.attrs(req, &["subst", "tag"])?;
        self.no_text(req)?;
        let subst_attr = self.choice(req, "subst", &["true", "false", "all_except_body"])?;
        let subst = matches!(subst_attr, Some("true" | "all_except_body"));
        let mut http = None;
        let mut extract = Vec::new();
        let mut matches = Vec::new();
        for child in &req.children {
            match child.name.as_str() {
                "http" if http.is_none() => http = Some(child),
                "http" => return Err(self.invalid(child, "one <http> per <request>".into())),
                "dyn_variable" => extract.push(self.dyn_variable(child)?),
                "match" => matches.push(self.match_rule(child)?),
                _ => return Err(self.unsupported(child, SESSION_STEPS)),
            }
        }
        let http = http.ok_or_else(|| self.invalid(req, "an <http> element is required".into()))?;
        let marked = mentions_substitution(http);
        if subst_attr == Some("all_except_body") && http.attr("contents").is_some() {
            self.note(
                req,
                "subst=\"all_except_body\": wsgibench substitutes the body too".into(),
            );
        }
        if marked && subst {
            self.check_marks(http, true)?;
        } else if marked {
            self.note(
                req,
                "%%...%% marks without subst=\"true\": sent as written, as Tsung does".into(),
            );
        }
        let (request, auth, server) = self.http(http, subst && marked)?;
        let mut steps: Vec<Step> = server.map(Step::Server).into_iter().collect();
        if (subst && marked) || !extract.is_empty() || !matches.is_empty() || auth.is_some() {
            steps.push(Step::Dynamic(Box::new(DynamicRequest {
                request,
                subst: subst && marked,
                extract,
                matches,
                auth,
                answer_cap: dynamic::DEFAULT_CAPTURE_CAP,
            })));
            return Ok(steps);
        }
        if subst {
            self.note(
                req,
                "subst=\"true\" but nothing to substitute: sent as written".into(),
            );
        }
        steps.push(Step::Request(request));
        Ok(steps)
    }

    /// Every `%%...%%` of a substituted request is a variable, one of Tsung's two id
    /// callbacks, or a mark Tsung itself cuts the text at; any other Erlang call is
    /// refused, naming it.
    fn check_marks(&mut self, node: &Node, note_cuts: bool) -> Result<(), TsungError> {
        let texts = node
            .attrs
            .iter()
            .map(|(_, v)| v.as_str())
            .chain(std::iter::once(node.text.as_str()));
        let mut cut = Vec::new();
        for text in texts {
            for mark in dynamic::marks(text) {
                match mark {
                    Ok(_) => {}
                    Err(call) if dynamic::builtin_callback(call).is_some() => {}
                    Err(call) if call.contains(':') => {
                        return Err(self.unsupported(
                            node,
                            &format!(
                                "%%{call}%% calls Erlang, which wsgibench cannot run; variables \
                                 (%%_name%%) and Tsung's ts_user_server:get_unique_id and \
                                 get_really_unique_id are supported"
                            ),
                        ))
                    }
                    Err(other) => cut.push(other.to_string()),
                }
            }
        }
        for other in cut.into_iter().filter(|_| note_cuts) {
            self.note(
                node,
                format!(
                    "%%{other}%% is neither a variable (%%_{other}%%) nor a call \
                     (%%module:function%%): Tsung drops the text from there on, and so does \
                     wsgibench"
                ),
            );
        }
        for child in &node.children {
            self.check_marks(child, note_cuts)?;
        }
        Ok(())
    }

    /// Refuses the first substituted `%%module:function%%` that is not one of Tsung's
    /// two id callbacks, anywhere under `node`.
    fn erlang_calls(&mut self, node: &Node) -> Result<(), TsungError> {
        if node.name == "request" && matches!(node.attr("subst"), Some("true" | "all_except_body"))
        {
            for child in node.children.iter().filter(|c| c.name == "http") {
                self.check_marks(child, false)?;
            }
        }
        for child in &node.children {
            self.erlang_calls(child)?;
        }
        Ok(())
    }

    /// `<dyn_variable name [re|jsonpath|xpath|header]>`.
    fn dyn_variable(&mut self, node: &Node) -> Result<Extract, TsungError> {
        self.attrs(
            node,
            &[
                "name",
                "re",
                "regexp",
                "jsonpath",
                "xpath",
                "header",
                "pgsql_expr",
            ],
        )?;
        self.leaf(node)?;
        let var = self.required(node, "name")?;
        if !dynamic::is_var_name(var) {
            return Err(self.bad(node, "name", "a variable name (letters, digits, _ and -)"));
        }
        let given: Vec<&str> = ["re", "regexp", "jsonpath", "xpath", "header", "pgsql_expr"]
            .into_iter()
            .filter(|a| node.attr(a).is_some())
            .collect();
        if given.len() > 1 {
            return Err(self.invalid(
                node,
                format!(
                    "one of re, jsonpath, xpath or header, not {}",
                    given.join(" and ")
                ),
            ));
        }
        let from = match given.first().copied() {
            None => {
                // Tsung's default: the value of the HTML form field of that name.
                let re = format!(
                    r#"name=["']{}["'][^>]*?value=["']([^"']*)["']"#,
                    regex::escape(var)
                );
                ExtractFrom::Regex(re)
            }
            Some(attr @ ("re" | "regexp")) => {
                let re = node.attr(attr).unwrap_or_default();
                self.regex(node, attr, re)?;
                ExtractFrom::Regex(re.to_string())
            }
            Some("jsonpath") => {
                let path = node.attr("jsonpath").unwrap_or_default();
                // The query's own message names the expression, the part at fault and
                // the dialect; "expected" in front of it would not read.
                crate::query::JsonPath::parse(path).map_err(|e| self.invalid(node, e))?;
                ExtractFrom::JsonPath(path.to_string())
            }
            Some("xpath") => {
                let path = node.attr("xpath").unwrap_or_default();
                crate::query::XPath::parse(path).map_err(|e| self.invalid(node, e))?;
                ExtractFrom::XPath(path.to_string())
            }
            Some("header") => {
                let spec = node.attr("header").unwrap_or_default();
                let (name, field) = match spec.split_once('/') {
                    Some((n, f)) => (n, Some(f.to_string())),
                    None => (spec, None),
                };
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                    return Err(self.bad(node, "header", "a header name, or name/field"));
                }
                ExtractFrom::Header {
                    name: name.to_string(),
                    field: field.filter(|f| !f.is_empty()),
                }
            }
            Some(_) => {
                return Err(self.unsupported_attr(
                    node,
                    "pgsql_expr",
                    "PostgreSQL sessions are not HTTP; use re, jsonpath, xpath or header",
                ))
            }
        };
        Ok(Extract {
            var: var.to_string(),
            from,
        })
    }

    /// `pattern` is the attribute's value, or the text of a `<match>` (shown as its
    /// `pattern`).
    fn regex(&self, node: &Node, attribute: &str, pattern: &str) -> Result<(), TsungError> {
        let refuse = |why: &str| TsungError::BadValue {
            at: self.at(node),
            element: node.name.clone(),
            attribute: attribute.to_string(),
            value: pattern.to_string(),
            expected: format!(
                "a regular expression wsgibench can run (Rust regex syntax: no look-around \
                 or back-references): {why}"
            ),
        };
        if pattern.is_empty() {
            return Err(refuse("an empty one matches everywhere"));
        }
        regex::bytes::Regex::new(pattern)
            .map(drop)
            .map_err(|e| refuse(e.to_string().lines().last().unwrap_or_default().trim()))
    }

    /// `<match do when ...>PATTERN</match>`.
    fn match_rule(&mut self, node: &Node) -> Result<Match, TsungError> {
        self.attrs(
            node,
            &[
                "do",
                "when",
                "name",
                "sleep_loop",
                "max_loop",
                "max_restart",
                "skip_headers",
                "apply_to_content",
                "subst",
                "loop_back",
            ],
        )?;
        if let Some(c) = node.children.first() {
            return Err(self.unsupported(c, "<match> holds its pattern as text only"));
        }
        if node.attr("apply_to_content").is_some() {
            return Err(self.unsupported_attr(
                node,
                "apply_to_content",
                "it calls Erlang on the answer, which wsgibench cannot run",
            ));
        }
        if self.boolean(node, "subst")? == Some(true) {
            return Err(self.unsupported_attr(
                node,
                "subst",
                "a pattern built from variables is not supported; match a fixed pattern",
            ));
        }
        if node.attr("loop_back").is_some_and(|v| v.trim() != "0") {
            return Err(self.unsupported_attr(
                node,
                "loop_back",
                "looping back over earlier requests is not supported; do=\"loop\" repeats this one",
            ));
        }
        let pattern = node.text.clone();
        self.regex(node, "pattern", &pattern)?;
        let when_found = self.choice(node, "when", &["match", "nomatch"])? != Some("nomatch");
        // Tsung loops (or restarts) once before it first compares its count with the
        // maximum (ts_search:setcount), so 0 acts as 1 there, and here.
        let max_loop = self
            .bounded(node, "max_loop", 0, limits::MAX_MATCH_REPEATS, "passes")?
            .map_or(TSUNG_MAX_LOOP, |n| n.max(1) as u32);
        let max_restart = self
            .bounded(
                node,
                "max_restart",
                0,
                limits::MAX_MATCH_REPEATS,
                "restarts",
            )?
            .map_or(TSUNG_MAX_RESTART, |n| n.max(1) as u32);
        let sleep = self
            .think_seconds(node, "sleep_loop")?
            .unwrap_or(TSUNG_SLEEP_LOOP_S);
        let action =
            match self
                .choice(
                    node,
                    "do",
                    &[
                        "continue",
                        "loop",
                        "abort",
                        "restart",
                        "log",
                        "dump",
                        "abort_test",
                    ],
                )?
                .unwrap_or("continue")
            {
                "continue" => MatchAction::Continue,
                "loop" => MatchAction::Loop {
                    max: max_loop,
                    sleep: Duration::from_secs_f64(sleep),
                },
                "abort" => MatchAction::Abort,
                "restart" => MatchAction::Restart { max: max_restart },
                "log" => MatchAction::Log,
                "dump" => {
                    self.note(
                        node,
                        "do=\"dump\": logged like do=\"log\", without the answer's bytes".into(),
                    );
                    MatchAction::Log
                }
                _ => return Err(self.unsupported_attr(
                    node,
                    "do",
                    "abort_test stops a whole Tsung cluster; end the run with a duration instead",
                )),
            };
        let body_only = self.choice(node, "skip_headers", &["http", "no"])? == Some("http");
        Ok(Match {
            pattern,
            when_found,
            action,
            body_only,
        })
    }

    /// The request, and the authentication computed per request (digest, OAuth).
    /// `substituted`: `%%...%%` marks are replaced per user, so the URL may hold them.
    fn http(
        &mut self,
        http: &Node,
        substituted: bool,
    ) -> Result<(Request, Option<Auth>, Option<usize>), TsungError> {
        self.attrs(
            http,
            &[
                "url",
                "method",
                "version",
                "contents",
                "contents_from_file",
                "content_type",
                "if_modified_since",
            ],
        )?;
        self.no_text(http)?;
        if http.attr("contents_from_file").is_some() {
            return Err(self.unsupported_attr(
                http,
                "contents_from_file",
                "bodies read from files are not supported; put the body in contents",
            ));
        }
        let method = match http.attr("method") {
            None => Method::Get,
            Some(m) => Method::parse(m).ok_or_else(|| {
                self.bad(
                    http,
                    "method",
                    "one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (WebDAV methods are \
                     not supported)",
                )
            })?,
        };
        if self.choice(http, "version", &["1.0", "1.1"])? == Some("1.0") {
            return Err(self.unsupported_attr(
                http,
                "version",
                "wsgibench sends HTTP/1.1 with keep-alive; HTTP/1.0 (a connection per \
                 request) is not supported",
            ));
        }
        let url = self.required(http, "url")?;
        let (path, host_header, server) = self.url(http, url, substituted)?;

        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some(h) = host_header {
            headers.push(("Host".into(), h));
        }
        if let Some(ua) = &self.user_agent {
            headers.push(("User-Agent".into(), ua.clone()));
        }
        let body = http
            .attr("contents")
            .unwrap_or_default()
            .as_bytes()
            .to_vec();
        if let Some(ims) = http.attr("if_modified_since") {
            headers.push((
                "If-Modified-Since".into(),
                self.header_value(http, "if_modified_since", ims)?,
            ));
        }
        match http.attr("content_type") {
            Some(ct) => headers.push((
                "Content-Type".into(),
                self.header_value(http, "content_type", ct)?,
            )),
            None if !body.is_empty() => {
                headers.push(("Content-Type".into(), TSUNG_CONTENT_TYPE.into()))
            }
            None => {}
        }
        let mut cookies = Vec::new();
        let mut extra = Vec::new();
        let mut seen_auth = false;
        let mut auth = None;
        for child in &http.children {
            match child.name.as_str() {
                "http_header" => {
                    self.attrs(child, &["name", "value", "encoding"])?;
                    self.leaf(child)?;
                    let name = self.required(child, "name")?;
                    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                        return Err(self.bad(child, "name", "a header name (no spaces or colon)"));
                    }
                    let raw = child.attr("value").unwrap_or_default();
                    let value = match child.attr("encoding") {
                        None => raw.to_string(),
                        Some("base64") => base64(raw.as_bytes()),
                        Some(_) => return Err(self.bad(child, "encoding", "base64")),
                    };
                    let value = self.header_value(child, "value", &value)?;
                    extra.push((name.to_string(), value));
                }
                "add_cookie" => {
                    self.attrs(child, &["key", "value", "domain", "path"])?;
                    self.leaf(child)?;
                    let key = self.required(child, "key")?;
                    let value = self.required(child, "value")?;
                    cookies.push(format!("{key}={value}"));
                }
                "www_authenticate" if !seen_auth => {
                    seen_auth = true;
                    self.attrs(
                        child,
                        &[
                            "userid", "passwd", "type", "nonce", "opaque", "cnonce", "nc", "realm",
                            "qop",
                        ],
                    )?;
                    self.leaf(child)?;
                    let user = self.required(child, "userid")?;
                    let pass = self.required(child, "passwd")?;
                    if self.choice(child, "type", &["basic", "digest"])? == Some("digest") {
                        let field = |name: &str| child.attr(name).map(str::to_string);
                        auth = Some(Auth::Digest {
                            user: user.to_string(),
                            password: pass.to_string(),
                            realm: self.required(child, "realm")?.to_string(),
                            nonce: self.required(child, "nonce")?.to_string(),
                            qop: field("qop"),
                            cnonce: field("cnonce"),
                            nc: field("nc"),
                            opaque: field("opaque"),
                        });
                        continue;
                    }
                    let credentials = format!("{user}:{pass}");
                    headers.push((
                        "Authorization".into(),
                        format!("Basic {}", base64(credentials.as_bytes())),
                    ));
                }
                "soap" => {
                    self.attrs(child, &["action"])?;
                    self.leaf(child)?;
                    let action = self.required(child, "action")?;
                    headers.push(("SOAPAction".into(), format!("\"{action}\"")));
                }
                "oauth" if auth.is_none() => {
                    self.attrs(
                        child,
                        &[
                            "consumer_key",
                            "consumer_secret",
                            "access_token",
                            "access_token_secret",
                            "method",
                            "type",
                            "realm",
                        ],
                    )?;
                    self.leaf(child)?;
                    if let Some(m) = child.attr("method").filter(|m| *m != "HMAC-SHA1") {
                        return Err(self.unsupported_attr(
                            child,
                            "method",
                            &format!("{m}: only HMAC-SHA1 signing is supported"),
                        ));
                    }
                    auth = Some(Auth::OAuth {
                        consumer_key: self.required(child, "consumer_key")?.to_string(),
                        consumer_secret: self.required(child, "consumer_secret")?.to_string(),
                        token: child.attr("access_token").map(str::to_string),
                        token_secret: child.attr("access_token_secret").map(str::to_string),
                    });
                }
                _ => return Err(self.unsupported(child, HTTP_CHILDREN)),
            }
        }
        if !cookies.is_empty() {
            headers.push(("Cookie".into(), cookies.join("; ")));
        }
        // A header set by <http_header> replaces one Tsung would add itself.
        headers.retain(|(n, _)| !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(n)));
        headers.extend(extra);
        Ok((
            Request {
                method,
                path,
                headers,
                body,
            },
            auth,
            server,
        ))
    }

    fn header_value(&self, node: &Node, attribute: &str, v: &str) -> Result<String, TsungError> {
        if v.bytes()
            .any(|b| b == b'\r' || b == b'\n' || (b < 0x20 && b != b'\t'))
        {
            return Err(self.bad(node, attribute, "a header value without control characters"));
        }
        Ok(v.to_string())
    }

    /// Splits a Tsung URL into the origin-form path and, when the URL names this
    /// machine by another name than `<server>`, the Host header Tsung would send.
    /// Splits a Tsung URL into the origin-form path, the Host header Tsung would send
    /// when the URL names this machine by another name than its `<server>`, and, when
    /// the file lists several servers, which one an absolute URL names.
    #[allow(clippy::type_complexity)]
    fn url(
        &self,
        http: &Node,
        url: &str,
        substituted: bool,
    ) -> Result<(String, Option<String>, Option<usize>), TsungError> {
        if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(self.bad(http, "url", "a URL without spaces or control characters"));
        }
        if url.starts_with('/') || (substituted && url.starts_with("%%")) {
            // A URL that is a variable as a whole (taken from an answer) may be
            // absolute: the engine keeps its path, for the same server.
            return Ok((url.to_string(), None, None));
        }
        if url.contains("%%") && !substituted {
            return Err(self.bad(
                http,
                "url",
                "a URL without %%...%% marks, or subst=\"true\" on the <request>",
            ));
        }
        let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => {
                return Err(self.bad(
                    http,
                    "url",
                    "a path starting with / or an http:// or https:// URL",
                ))
            }
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        let (host, mut port) = split_authority(authority)
            .ok_or_else(|| self.bad(http, "url", "http://host[:port]/path"))?;
        if tls
            && !authority
                .rsplit(']')
                .next()
                .unwrap_or(authority)
                .contains(':')
        {
            port = 443;
        }
        let several = self.servers.len() > 1;
        let pick = |k: usize| several.then_some(k);
        // The server the URL names, by name; then the same socket under another
        // loopback name, which keeps the URL's name in the Host header.
        for (k, (server, _)) in self.servers.iter().enumerate() {
            if port == server.port && tls == server.tls && host.eq_ignore_ascii_case(&server.host) {
                return Ok((path, None, pick(k)));
            }
        }
        for (k, (server, _)) in self.servers.iter().enumerate() {
            if port == server.port
                && tls == server.tls
                && is_loopback_name(host)
                && is_loopback_name(&server.host)
            {
                let default_port = if tls { 443 } else { 80 };
                let host_header = if port == default_port {
                    host.to_string()
                } else {
                    format!("{host}:{port}")
                };
                return Ok((path, Some(host_header), pick(k)));
            }
        }
        let listed: Vec<String> = self
            .servers
            .iter()
            .map(|(s, _)| {
                format!(
                    "{}://{}:{}",
                    if s.tls { "https" } else { "http" },
                    s.host,
                    s.port
                )
            })
            .collect();
        Err(self.unsupported_attr(
            http,
            "url",
            &format!(
                "it names {}://{host}:{port}, which is not one of the file's <server>s ({}); \
                 wsgibench loads only the servers a file lists",
                if tls { "https" } else { "http" },
                listed.join(", ")
            ),
        ))
    }
}

/// `host[:port]`, with `[v6]` literals; port 80 when absent, as Tsung does.
fn split_authority(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &authority[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains('@') {
        return None;
    }
    let port = match port {
        None => 80,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0)?,
    };
    Some((host, port))
}

fn mentions_substitution(node: &Node) -> bool {
    node.attrs.iter().any(|(_, v)| v.contains("%%"))
        || node.text.contains("%%")
        || node.children.iter().any(mentions_substitution)
}

/// Standard base64 with padding, for Basic credentials and `encoding="base64"`
/// headers; a dependency for twenty lines would not pay.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
