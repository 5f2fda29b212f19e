//! The plan a Tsung file becomes, in words, for `wsgibench tsung FILE --dry-run`.
//!
//! A Tsung user checks a new tool by asking "will it do what Tsung did?", so the plan
//! shows the numbers they reason with: users per phase (with the `maxnumber` cut),
//! requests per session with loops multiplied out, think times, the deadline, and the
//! notes about what wsgibench does differently.

use std::fmt::Write;
use std::time::Duration;

use super::convert::expected_think;
use super::TsungImport;
use crate::dynamic::{Auth, DynamicRequest, ExtractFrom, FileOrder, MatchAction, Test, VarSource};
use crate::{Arrival, Load, Request, Step};

/// The human plan of an import; nothing is sent to compute it.
pub fn describe(import: &TsungImport) -> String {
    let s = &import.scenario;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "target    {}:{} ({}, one keep-alive connection per user)",
        s.target.host,
        s.target.port,
        if s.target.tls {
            "HTTPS: HTTP/1.1 over TLS"
        } else {
            "HTTP/1.1"
        }
    );
    if let Load::Sessions {
        phases,
        sessions,
        max_users,
        arrival,
        servers,
    } = &s.load
    {
        if !servers.is_empty() {
            let total: f64 = servers.iter().map(|s| s.weight).sum();
            let list: Vec<String> = servers
                .iter()
                .map(|s| {
                    format!(
                        "{}:{}{} {}%",
                        s.target.host,
                        s.target.port,
                        if s.target.tls { " (https)" } else { "" },
                        num(100.0 * s.weight / total)
                    )
                })
                .collect();
            let _ = writeln!(
                w,
                "servers   each user starts on one, by weight: {}",
                list.join(", ")
            );
        }
        let mut users_total = 0u64;
        let mut start = Duration::ZERO;
        for (i, p) in phases.iter().enumerate() {
            let users = p.planned_users();
            users_total += users;
            let cap = p
                .max_users
                .map(|m| format!(", at most {m}"))
                .unwrap_or_default();
            let setup = match &p.session_weights {
                Some(weights) => {
                    let total: f64 = weights.iter().sum();
                    let shares: Vec<String> = sessions
                        .iter()
                        .zip(weights)
                        .map(|(s, w)| format!("{} {}%", s.name, num(100.0 * w / total)))
                        .collect();
                    format!(" ({})", shares.join(", "))
                }
                None => String::new(),
            };
            let _ = writeln!(
                w,
                "{:<10}#{} from {}: {} users/s for {}{cap} -> {users} users{setup}",
                if i == 0 { "phases" } else { "" },
                i + 1,
                secs(start),
                num(p.users_per_second),
                secs(p.duration),
            );
            start += p.duration;
        }
        let spacing = match arrival {
            Arrival::Uniform => "evenly spaced (Tsung's are random: --arrival poisson)",
            Arrival::Poisson => "with exponential gaps, as in Tsung (about this many)",
        };
        let _ = writeln!(
            w,
            "{:<10}{users_total} users arrive in {}, {spacing}",
            "",
            secs(start)
        );
        if let Some(m) = max_users {
            let _ = writeln!(w, "user cap  {m} at once (<client maxusers>)");
        }
        let total_weight: f64 = sessions.iter().map(|x| x.weight).sum();
        let mut requests = 0.0;
        for (i, session) in sessions.iter().enumerate() {
            let share = if total_weight > 0.0 {
                session.weight / total_weight
            } else {
                0.0
            };
            let count = session.request_count();
            requests += share * users_total as f64 * count as f64;
            let think = expected_think(&session.steps);
            let think = if think.is_zero() {
                String::new()
            } else {
                format!(", {} think time expected", secs(think))
            };
            let _ = writeln!(
                w,
                "{:<10}{}: weight {} ({}%), {count} requests per user{think}",
                if i == 0 { "sessions" } else { "" },
                session.name,
                num(session.weight),
                num(share * 100.0),
            );
            steps(w, &session.steps, 12);
        }
        let _ = writeln!(
            w,
            "requests  about {requests:.0} in all if every user finishes"
        );
    }
    if let Some(d) = s.duration {
        let _ = writeln!(w, "deadline  {} (the run is cut there)", secs(d));
    }
    let _ = writeln!(
        w,
        "checks    the target must resolve to 127.0.0.0/8 or ::1 (checked when the run starts)"
    );
    let _ = writeln!(
        w,
        "timeouts  connect {}, response {}",
        secs(s.timeouts.connect),
        secs(s.timeouts.response)
    );
    let l = &import.log;
    let _ = writeln!(
        w,
        "log       backend {}, loglevel {}, dumptraffic {}, statistics every {}",
        l.backend.as_str(),
        l.loglevel,
        l.dumptraffic.as_str(),
        secs(l.dump_interval)
    );
    if !import.notes.is_empty() {
        let _ = writeln!(w, "notes");
        for n in &import.notes {
            let _ = writeln!(w, "  - {n}");
        }
    }
    out
}

fn steps(w: &mut String, list: &[Step], indent: usize) {
    for s in list {
        let pad = " ".repeat(indent);
        match s {
            Step::Request(r) => {
                let _ = writeln!(w, "{pad}{}", request(r));
            }
            Step::Loop {
                count,
                steps: inner,
            } => {
                let _ = writeln!(w, "{pad}loop {count}x:");
                steps(w, inner, indent + 2);
            }
            Step::Think { mean, random } => {
                let how = if *random { " (exponential, mean)" } else { "" };
                let _ = writeln!(w, "{pad}think {}{how}", secs(*mean));
            }
            Step::ThinkBetween { min, max } => {
                let _ = writeln!(w, "{pad}think {} to {} (uniform)", secs(*min), secs(*max));
            }
            Step::Transaction { name, steps: inner } => {
                let _ = writeln!(w, "{pad}transaction {name}:");
                steps(w, inner, indent + 2);
            }
            Step::Dynamic(d) => {
                let _ = writeln!(w, "{pad}{}{}", request(&d.request), dynamic_parts(d));
            }
            Step::Server(k) => {
                let _ = writeln!(w, "{pad}to server {} from here on", k + 1);
            }
            Step::SetVars(set) => {
                let _ = writeln!(
                    w,
                    "{pad}set {} from {}",
                    set.vars.join(", "),
                    var_source(&set.source)
                );
            }
            Step::If { test, steps: inner } => {
                let _ = writeln!(w, "{pad}if {}:", test_text(test));
                steps(w, inner, indent + 2);
            }
            Step::Repeat { end, steps: inner } => {
                let how = if end.until { "until" } else { "while" };
                let _ = writeln!(
                    w,
                    "{pad}repeat (at most {}x) {how} {}:",
                    end.max,
                    test_text(&end.test)
                );
                steps(w, inner, indent + 2);
            }
            Step::Counted {
                var,
                from,
                incr,
                count,
                steps: inner,
            } => {
                let _ = writeln!(w, "{pad}loop {count}x, {var} = {from} by {incr}:");
                steps(w, inner, indent + 2);
            }
        }
    }
}

fn request(r: &Request) -> String {
    let mut line = format!("{} {}", r.method.as_str(), r.path);
    if !r.headers.is_empty() {
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        let _ = write!(line, " [{}]", names.join(", "));
    }
    if !r.body.is_empty() {
        let _ = write!(line, " + {} bytes of body", r.body.len());
    }
    line
}

/// What a dynamic request does beyond its bytes, as a short tail of its line.
fn dynamic_parts(d: &DynamicRequest) -> String {
    let mut parts = Vec::new();
    for e in &d.extract {
        let from = match &e.from {
            ExtractFrom::Regex(re) => format!("re {re:?}"),
            ExtractFrom::JsonPath(p) => format!("jsonpath {p}"),
            ExtractFrom::XPath(p) => format!("xpath {p}"),
            ExtractFrom::Header { name, field: None } => format!("header {name}"),
            ExtractFrom::Header {
                name,
                field: Some(f),
            } => format!("header {name}/{f}"),
        };
        parts.push(format!("{} <- {from}", e.var));
    }
    for m in &d.matches {
        let when = if m.when_found { "match" } else { "nomatch" };
        let action = match m.action {
            MatchAction::Continue => "count".to_string(),
            MatchAction::Log => "log".to_string(),
            MatchAction::Abort => "abort".to_string(),
            MatchAction::Loop { max, sleep } => {
                format!("send again (at most {max}x, {} apart)", secs(sleep))
            }
            MatchAction::Restart { max } => format!("restart (at most {max}x)"),
        };
        parts.push(format!("{action} on {when} {:?}", m.pattern));
    }
    match &d.auth {
        Some(Auth::Digest { .. }) => parts.push("digest auth".into()),
        Some(Auth::OAuth { .. }) => parts.push("oauth signed".into()),
        None => {}
    }
    if d.subst {
        parts.insert(0, "substituted".into());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("  ({})", parts.join("; "))
    }
}

fn var_source(source: &VarSource) -> String {
    match source {
        VarSource::RandomNumber { start, end } => format!("random number {start}..={end}"),
        VarSource::RandomString { length } => format!("random string of {length}"),
        VarSource::Value(v) => format!("value {v:?}"),
        VarSource::File {
            id, lines, order, ..
        } => format!(
            "file {id} ({} lines, {})",
            lines.len(),
            match order {
                FileOrder::Iter => "in turn",
                FileOrder::Random => "at random",
            }
        ),
        VarSource::UniqueId => "the user's unique id".into(),
        VarSource::ReallyUniqueId => "a run-wide unique id".into(),
    }
}

fn test_text(t: &Test) -> String {
    format!(
        "{} {} {:?}",
        t.var,
        if t.equal { "==" } else { "!=" },
        t.value
    )
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{} s", num(d.as_secs_f64()))
}

/// A number with at most three decimals and no trailing zeros (5, 0.5, 0.333).
fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
