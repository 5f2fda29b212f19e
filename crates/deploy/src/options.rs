//! What `wsgibench k8s render` is asked for, and the checks on each value.
//!
//! Each `parse_*` function takes the text a user typed and returns the value or an
//! [`Expected`] that says what was expected and what came: the command line turns it
//! into `invalid value "X" for '--flag'`, and [`crate::render`] (which checks an
//! [`Options`] built in code again) into `--flag: expected ...`. One check, two doors.

use std::fmt;
use std::path::PathBuf;

/// A value refused: what was expected, with what came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {got:?}")]
pub struct Expected {
    pub expected: String,
    pub got: String,
}

fn expected(what: impl Into<String>, got: &str) -> Expected {
    Expected {
        expected: what.into(),
        got: got.to_string(),
    }
}

/// Most agents one render asks for: each is a pod, and the controller keeps one
/// connection per agent; past this, make the agents bigger (`--cpus`) instead.
pub const MAX_AGENTS: u32 = 64;
/// Most whole CPUs per pod.
pub const MAX_CPUS: u32 = 256;
/// Least memory per pod: a Python server and wsgibench need more than this.
pub const MIN_MEMORY_BYTES: u64 = 64 << 20;
/// Most memory per pod.
pub const MAX_MEMORY_BYTES: u64 = 4 << 40;

/// Everything a render takes. [`Options::default`] is `wsgibench k8s render` with no flag.
#[derive(Debug, Clone)]
pub struct Options {
    /// The suite file (the load protocol); [default: the original protocol,
    /// suites/original.toml]. Its text goes into a ConfigMap, so a suite of one's own
    /// needs no new image.
    pub suite: Option<PathBuf>,
    /// The server catalog [default: suites/servers.toml]. The image must hold the same
    /// cases: the servers are started from its copy.
    pub catalog: Option<PathBuf>,
    /// Cases by name; empty is every case of the catalog.
    pub cases: Vec<String>,
    /// Load agents, besides the controller (`1..=MAX_AGENTS`).
    pub agents: u32,
    pub image: String,
    pub namespace: String,
    /// Five-field cron schedule, in UTC; `Some` renders a CronJob instead of a Job.
    pub schedule: Option<String>,
    /// Whole CPUs for each server pod and each load pod.
    pub cpus: u32,
    /// Memory for each server pod and each load pod.
    pub memory: Memory,
    /// The results volume's StorageClass [default: the cluster's default class].
    pub storage_class: Option<String>,
    pub results_access: ResultsAccess,
}

/// The default image: the name `docker build -t wsgibench:VERSION .` gives, which a
/// cluster can only pull after a push; README says to pass `--image`.
pub fn default_image() -> String {
    format!("wsgibench:{}", env!("CARGO_PKG_VERSION"))
}

pub const DEFAULT_NAMESPACE: &str = "wsgibench";
pub const DEFAULT_AGENTS: u32 = 3;
pub const DEFAULT_CPUS: u32 = 1;
pub const DEFAULT_MEMORY: &str = "1Gi";

impl Default for Options {
    fn default() -> Options {
        Options {
            suite: None,
            catalog: None,
            cases: Vec::new(),
            agents: DEFAULT_AGENTS,
            image: default_image(),
            namespace: DEFAULT_NAMESPACE.to_string(),
            schedule: None,
            cpus: DEFAULT_CPUS,
            memory: parse_memory(DEFAULT_MEMORY).expect("the default parses"),
            storage_class: None,
            results_access: ResultsAccess::ReadWriteMany,
        }
    }
}

/// How the results volume may be mounted; see deploy/README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultsAccess {
    /// Any number of nodes at once: the controller pod and the results viewer may run
    /// on different nodes. Needs a StorageClass that offers it (NFS, CephFS, cloud
    /// file stores).
    ReadWriteMany,
    /// One node: the viewer and every pod of the run's Job (the agents share its pod
    /// template) must land on the node that holds the volume. Works with node-local
    /// storage (local-path, as in kind), which pins those pods there by itself.
    ReadWriteOnce,
}

impl ResultsAccess {
    pub fn api_name(self) -> &'static str {
        match self {
            ResultsAccess::ReadWriteMany => "ReadWriteMany",
            ResultsAccess::ReadWriteOnce => "ReadWriteOnce",
        }
    }
}

/// A memory size as Kubernetes writes it: a whole number and a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub value: u64,
    pub unit: &'static str,
}

impl Memory {
    pub fn bytes(&self) -> u64 {
        self.value.saturating_mul(unit_bytes(self.unit))
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.value, self.unit)
    }
}

const UNITS: &[(&str, u64)] = &[
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
];

fn unit_bytes(unit: &str) -> u64 {
    UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map_or(1, |(_, b)| *b)
}

/// `512Mi`, `2Gi`, `4G`: a whole number and one of Ki, Mi, Gi, Ti, k, M, G, T; from
/// 64Mi to 4Ti.
pub fn parse_memory(text: &str) -> Result<Memory, Expected> {
    let what = "a memory size like 512Mi or 2Gi (a whole number and one of Ki, Mi, Gi, Ti, k, M, G, T), from 64Mi to 4Ti";
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let unit = UNITS
        .iter()
        .map(|(u, _)| *u)
        .find(|u| *u == unit)
        .ok_or_else(|| expected(what, text))?;
    let value: u64 = digits.parse().map_err(|_| expected(what, text))?;
    let memory = Memory { value, unit };
    let bytes = value.checked_mul(unit_bytes(unit));
    match bytes {
        Some(b) if (MIN_MEMORY_BYTES..=MAX_MEMORY_BYTES).contains(&b) => Ok(memory),
        _ => Err(expected(what, text)),
    }
}

/// A whole number of agents, 1 to [`MAX_AGENTS`].
pub fn parse_agents(text: &str) -> Result<u32, Expected> {
    whole(text, 1, MAX_AGENTS, "agents")
}

/// Whole CPUs per pod, 1 to [`MAX_CPUS`]: the static CPU manager gives exclusive cores
/// only to whole CPUs.
pub fn parse_cpus(text: &str) -> Result<u32, Expected> {
    whole(text, 1, MAX_CPUS, "CPUs per pod")
}

fn whole(text: &str, min: u32, max: u32, what: &str) -> Result<u32, Expected> {
    let refuse = || {
        expected(
            format!("a whole number of {what} from {min} to {max}"),
            text,
        )
    };
    let n: u32 = text.trim().parse().map_err(|_| refuse())?;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(refuse())
    }
}

/// What a DNS label is, for messages.
const DNS_LABEL: &str =
    "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";

/// Whether `s` is an RFC 1123 DNS label: what a namespace name must be.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether `s` is an RFC 1035 label (a DNS label that starts with a letter): what a
/// Service name must be.
pub fn is_service_name(s: &str) -> bool {
    is_dns_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// A namespace name: a DNS label.
pub fn parse_namespace(text: &str) -> Result<String, Expected> {
    if is_dns_label(text) {
        Ok(text.to_string())
    } else {
        Err(expected(format!("a namespace name: {DNS_LABEL}"), text))
    }
}

/// A StorageClass name: a DNS subdomain (labels joined by dots, 253 at most).
pub fn parse_storage_class(text: &str) -> Result<String, Expected> {
    if text.len() <= 253 && text.split('.').all(is_dns_label) {
        Ok(text.to_string())
    } else {
        Err(expected(
            "a StorageClass name: lowercase letters, digits, '-' and '.', as `kubectl get storageclass` lists them",
            text,
        ))
    }
}

/// An image reference: no space or control character, at most 512 bytes. The registry
/// checks the rest when the kubelet pulls.
pub fn parse_image(text: &str) -> Result<String, Expected> {
    let ok = !text.is_empty()
        && text.len() <= 512
        && !text.starts_with(['-', ':', '/', '@'])
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(text.to_string())
    } else {
        Err(expected(
            "an image reference like registry.example/wsgibench:0.1.0, without spaces",
            text,
        ))
    }
}

/// A five-field cron schedule (minute hour day-of-month month day-of-week), each field
/// made of `*`, numbers in the field's range, names (JAN, MON), `,`, `-` and `/`.
pub fn parse_schedule(text: &str) -> Result<String, Expected> {
    const FIELDS: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("day of week", 0, 7),
    ];
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(expected(
            format!(
                "a cron schedule of 5 fields (minute hour day-of-month month day-of-week, in UTC), e.g. \"0 3 * * *\", not {} field{}",
                fields.len(),
                if fields.len() == 1 { "" } else { "s" }
            ),
            text,
        ));
    }
    for (field, (name, min, max)) in fields.iter().zip(FIELDS) {
        if let Err(why) = check_cron_field(field, min, max) {
            return Err(expected(
                format!("a cron schedule whose {name} field is `*`, numbers {min}-{max}, ranges, lists or steps ({why})"),
                text,
            ));
        }
    }
    Ok(fields.join(" "))
}

fn check_cron_field(field: &str, min: u32, max: u32) -> Result<(), String> {
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(s) if s >= 1 => {}
                _ => return Err(format!("`{part}`: a step is a whole number from 1")),
            }
        }
        if range == "*" || range == "?" {
            continue;
        }
        for bound in range.split('-') {
            let named = bound.len() == 3 && bound.bytes().all(|b| b.is_ascii_alphabetic());
            if named {
                continue;
            }
            match bound.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => {}
                _ => return Err(format!("`{part}` is not in {min}-{max}")),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_dns_labels() {
        assert!(parse_namespace("wsgibench").is_ok());
        assert!(parse_namespace("bench-2").is_ok());
        for bad in ["", "Bench", "-a", "a-", "a_b", "a.b", &"a".repeat(64)] {
            let e = parse_namespace(bad).unwrap_err();
            assert!(e.to_string().contains("namespace name"), "{e}");
        }
    }

    #[test]
    fn schedules_have_five_fields_in_range() {
        assert_eq!(parse_schedule("0 3 * * *").unwrap(), "0 3 * * *");
        assert_eq!(
            parse_schedule(" */15  1-5 * JAN,FEB mon ").unwrap(),
            "*/15 1-5 * JAN,FEB mon"
        );
        let e = parse_schedule("0 3 * *").unwrap_err().to_string();
        assert!(e.contains("5 fields") && e.contains("not 4 fields"), "{e}");
        assert!(parse_schedule("@daily")
            .unwrap_err()
            .to_string()
            .contains("not 1 field,"));
        let e = parse_schedule("60 3 * * *").unwrap_err().to_string();
        assert!(
            e.contains("minute field") && e.contains("`60` is not in 0-59"),
            "{e}"
        );
        assert!(parse_schedule("0 3 * * */0").is_err());
        assert!(parse_schedule("CRON_TZ=UTC 0 3 * * *").is_err());
    }

    #[test]
    fn counts_memory_and_images() {
        assert_eq!(parse_agents("64"), Ok(64));
        for bad in ["0", "65", "-1", "nan", "1e300", "2.5"] {
            assert!(parse_agents(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_cpus("4"), Ok(4));
        assert!(parse_cpus("0.5").unwrap_err().to_string().contains("whole"));
        assert_eq!(parse_memory("2Gi").unwrap().to_string(), "2Gi");
        assert_eq!(parse_memory("512Mi").unwrap().bytes(), 512 << 20);
        for bad in [
            "",
            "2",
            "2gb",
            "1.5Gi",
            "1Mi",
            "5Ti",
            "99999999999999999999Gi",
            "-1Gi",
        ] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
        assert!(parse_image("registry.example:5000/wsgibench:0.1.0").is_ok());
        assert!(parse_image("a b").is_err());
        assert!(parse_image("").is_err());
        assert!(parse_storage_class("nfs-client").is_ok());
        assert!(parse_storage_class("Bad_Class").is_err());
    }
}
