//! Requests that depend on earlier answers: Tsung's dynamic sessions, as data.
//!
//! A user of a dynamic session carries variables (bytes, by name) from one request to
//! the next: values taken from answers (`<dyn_variable>`), drawn or read
//! (`<setdynvars>`), or counted (`<for var>`). Requests name them as `%%_name%%` in
//! their path, headers and body, and the session's flow tests them (`<if>`,
//! `<repeat>`) or the answers themselves (`<match>`).
//!
//! Everything here is still data: texts keep their `%%_name%%` marks as written, and
//! the engine compiles them once per run into literal bytes and variable slots
//! (`engine::dynamic`), so a request without variables stays prebuilt bytes.

use serde::{Deserialize, Serialize};

use crate::{Request, Step};

/// The largest part of one answer kept for extraction and matching, unless the
/// scenario says otherwise: an answer longer than this is still read whole, but only
/// its first bytes are searched.
pub const DEFAULT_CAPTURE_CAP: usize = 1024 * 1024;

/// A request whose bytes are built per user, from its variables and its cookie jar,
/// and whose answer may set variables or change the user's course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicRequest {
    /// Path, header values and body may hold `%%_name%%` marks (when `subst`).
    pub request: Request,
    /// Tsung's `subst="true"`: the marks are replaced; otherwise sent as written.
    pub subst: bool,
    pub extract: Vec<Extract>,
    pub matches: Vec<Match>,
    pub auth: Option<Auth>,
    /// The most of each answer kept for `extract` and `matches`; the rest is read
    /// and skipped (`wsgibench tsung --keep-answer`).
    #[serde(default = "default_cap")]
    pub answer_cap: usize,
}

fn default_cap() -> usize {
    DEFAULT_CAPTURE_CAP
}

impl DynamicRequest {
    /// Every pattern and path compiles, and the kept answer is within bounds: the
    /// engine compiles them per run and must not meet one that fails (a scenario may
    /// come from an agent's controller, not from the Tsung reader).
    pub fn check(&self) -> Result<(), String> {
        for e in &self.extract {
            match &e.from {
                ExtractFrom::Regex(re) => check_regex(re)?,
                ExtractFrom::JsonPath(p) => {
                    crate::query::JsonPath::parse(p).map_err(|m| format!("jsonpath {p:?}: {m}"))?;
                }
                ExtractFrom::XPath(p) => {
                    crate::query::XPath::parse(p).map_err(|m| format!("xpath {p:?}: {m}"))?;
                }
                ExtractFrom::Header { .. } => {}
            }
        }
        for m in &self.matches {
            check_regex(&m.pattern)?;
        }
        if self.answer_cap == 0 || self.answer_cap > MAX_CAPTURE_CAP {
            return Err(format!(
                "the kept answer must be 1 byte to {MAX_CAPTURE_CAP} bytes, got {}",
                self.answer_cap
            ));
        }
        Ok(())
    }

    /// Whether the answer must be kept (up to the cap) for this request: only then is
    /// its body read into memory instead of skipped in place.
    pub fn reads_answer(&self) -> bool {
        !self.extract.is_empty() || !self.matches.is_empty()
    }
}

/// One `<dyn_variable>`: where a variable's new value is found in an answer. A value
/// not found leaves the variable as it was, as in Tsung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extract {
    pub var: String,
    pub from: ExtractFrom,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ExtractFrom {
    /// A regular expression over the whole answer, head and body; the first group's
    /// text (or the whole match, without a group).
    Regex(String),
    /// Tsung's JSONPath over the body.
    JsonPath(String),
    /// An XPath over the body (XML or XHTML).
    XPath(String),
    /// A response header's value, or one `field=value` of it
    /// (`header="www-authenticate/nonce"`).
    Header { name: String, field: Option<String> },
}

/// One `<match>`: a regular expression tested on each answer to the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    pub pattern: String,
    /// Act when the pattern is found (`true`) or when it is not.
    pub when_found: bool,
    pub action: MatchAction,
    /// Tsung's `skip_headers="http"`: search the body only.
    pub body_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum MatchAction {
    /// Count it and go on.
    Continue,
    /// Send the same request again after `sleep`, at most `max` times.
    Loop {
        max: u32,
        sleep: std::time::Duration,
    },
    /// End the user's session.
    Abort,
    /// Start the session over, at most `max` times.
    Restart { max: u32 },
    /// Go on, and say so once on stderr.
    Log,
}

/// Authentication computed per request from (substituted) fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Auth {
    /// `<www_authenticate type="digest">`; each field may hold `%%_name%%` marks.
    Digest {
        user: String,
        password: String,
        realm: String,
        nonce: String,
        qop: Option<String>,
        cnonce: Option<String>,
        nc: Option<String>,
        opaque: Option<String>,
    },
    /// `<oauth>` HMAC-SHA1 signing (RFC 5849), with a fresh nonce and timestamp per
    /// request.
    OAuth {
        consumer_key: String,
        consumer_secret: String,
        token: Option<String>,
        token_secret: Option<String>,
    },
}

fn check_regex(re: &str) -> Result<(), String> {
    regex::bytes::Regex::new(re)
        .map(drop)
        .map_err(|e| format!("regular expression {re:?}: {e}"))
}

/// The most of one answer a scenario may ask to keep (`--keep-answer`'s ceiling).
pub const MAX_CAPTURE_CAP: usize = 1024 * 1024 * 1024;

impl SetVars {
    /// Values the engine can draw: a range not upside down, a string within bounds.
    pub fn check(&self) -> Result<(), String> {
        if self.vars.is_empty() {
            return Err("setdynvars: at least one variable".into());
        }
        match &self.source {
            VarSource::RandomNumber { start, end } if end < start => Err(format!(
                "setdynvars: random_number end {end} is below start {start}"
            )),
            VarSource::RandomString { length }
                if *length as u64 > crate::limits::MAX_RANDOM_STRING =>
            {
                Err(format!(
                    "setdynvars: random_string length {length}; at most {}",
                    crate::limits::MAX_RANDOM_STRING
                ))
            }
            VarSource::File { delimiter, .. } if delimiter.is_empty() => {
                Err("setdynvars: a file's delimiter cannot be empty".into())
            }
            _ => Ok(()),
        }
    }
}

/// One `<setdynvars>`: gives values to `vars`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetVars {
    pub vars: Vec<String>,
    pub source: VarSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VarSource {
    /// An integer drawn uniformly in `start..=end`, one per variable.
    RandomNumber { start: i64, end: i64 },
    /// Letters and digits drawn at random, `length` of them, one per variable.
    RandomString { length: usize },
    /// The same text for every variable.
    Value(String),
    /// The next line of a `file_server` file (or a random one), split at `delimiter`
    /// into the variables in order.
    File {
        id: String,
        lines: Vec<String>,
        delimiter: String,
        order: FileOrder,
    },
    /// Tsung's `ts_user_server:get_unique_id`: the user's number in the run, from 1.
    UniqueId,
    /// Tsung's `ts_user_server:get_really_unique_id`: unique across runs and machines
    /// too (the run's start and the user's number).
    ReallyUniqueId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileOrder {
    /// Line after line, starting over at the end; users share the walk.
    Iter,
    Random,
}

/// `<if var eq|neq>`, `<while>` and `<until>`: a variable's text against a value. An
/// unset variable is the empty text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Test {
    pub var: String,
    pub equal: bool,
    pub value: String,
}

/// How a `<repeat>` ends: it runs its body, then tests; `while` goes on while the test
/// holds, `until` until it holds; never more than `max` passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatEnd {
    pub test: Test,
    pub until: bool,
    pub max: u64,
}

/// The `%%...%%` marks of a text, in order: `Ok(name)` for a variable `%%_name%%`,
/// `Err(call)` for anything else (an Erlang `%%module:function%%` call).
pub fn marks(text: &str) -> Vec<Result<&str, &str>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("%%") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("%%") else {
            break;
        };
        let inner = &after[..close];
        out.push(match inner.strip_prefix('_') {
            Some(name) if is_var_name(name) => Ok(name),
            _ => Err(inner),
        });
        rest = &after[close + 2..];
    }
    out
}

/// Tsung's variable names: letters, digits, `_` and `-`.
pub fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The two Erlang callbacks of Tsung's own user server, emulated (as marks and as
/// `<setdynvars sourcetype="erlang">`).
pub fn builtin_callback(call: &str) -> Option<VarSource> {
    match call {
        "ts_user_server:get_unique_id" => Some(VarSource::UniqueId),
        "ts_user_server:get_really_unique_id" => Some(VarSource::ReallyUniqueId),
        _ => None,
    }
}

/// Whether a script holds anything that needs per-user variables.
pub fn steps_are_dynamic(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::Request(_) | Step::Think { .. } | Step::ThinkBetween { .. } | Step::Server(_) => {
            false
        }
        Step::Loop { steps, .. } | Step::Transaction { steps, .. } => steps_are_dynamic(steps),
        Step::Dynamic(_)
        | Step::SetVars(_)
        | Step::If { .. }
        | Step::Repeat { .. }
        | Step::Counted { .. } => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_variables_or_calls() {
        assert_eq!(
            marks("/a?t=%%_token%%&u=%%ts_user_server:get_unique_id%%&x=%%_b-2%%"),
            vec![Ok("token"), Err("ts_user_server:get_unique_id"), Ok("b-2")]
        );
        assert_eq!(marks("100%% sure, 50%"), Vec::<Result<&str, &str>>::new());
        assert_eq!(marks("%%_%%"), vec![Err("_")]);
    }
}
