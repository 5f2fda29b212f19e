//! The test cases: `suites/apps.toml` read into [`App`]s.
//!
//! An app is data, like a server case: the WSGI callable every server serves, the request
//! every request of the protocol becomes, and the answer every server must give before
//! it is loaded ([`Expect`]). A server that answers otherwise is not measured, so a
//! ranking never mixes a server that did the work with one that failed it quickly.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use scenario::{Method, Request};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::answer::Answer;
use crate::catalog::Case;
use crate::source::{FileError, Source};

/// The original's app: what a run serves without `--apps`.
pub const ORIGINAL_APP: &str = "pong";

/// Every app of `suites/apps.toml`, in the file's order.
#[derive(Debug, Clone)]
pub struct AppCatalog {
    pub path: PathBuf,
    pub apps: Vec<App>,
}

/// One test case.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub name: String,
    pub description: String,
    /// `module:callable`, imported from python/, or from `dir`.
    pub callable: String,
    /// Where a user's own app lives (`--app-path`); `None` for python/.
    pub dir: Option<PathBuf>,
    pub request: Request,
    /// Every request the app is asked, with its weight (the share of users that ask
    /// it). One entry, `request`, for the shipped apps; a user's app may have several
    /// (`--path`, `--requests FILE`).
    pub mix: Vec<(Request, f64)>,
    /// A Tsung file's sessions (`--requests FILE.xml`), which replace the protocol's
    /// while its phases still apply; `mix` then lists their requests for the
    /// comparison before load.
    pub sessions: Option<Vec<scenario::Session>>,
    /// `None` for a user's own app: no answer is declared, so the servers' answers are
    /// compared with one another before any load ([`compare_answers`]).
    pub expect: Option<Expect>,
    /// Python distributions the app needs beyond the server's own.
    pub packages: Vec<String>,
}

/// The answer every server must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub status: u16,
    pub body: Option<String>,
    pub length: Option<u64>,
    /// Lowercase hex.
    pub sha256: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(rename = "app", default)]
    apps: Vec<RawApp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    callable: Spanned<String>,
    request: Spanned<RawRequest>,
    expect: Spanned<RawExpect>,
    #[serde(default)]
    packages: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    #[serde(default)]
    method: Option<Spanned<String>>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    body_size: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default = "ok")]
    status: u16,
    body: Option<String>,
    length: Option<u64>,
    sha256: Option<String>,
}

fn ok() -> u16 {
    200
}

/// The largest request body an app may declare: an upload test, not a transfer.
const MAX_BODY: usize = 16 << 20;

impl AppCatalog {
    pub fn load(path: &Path) -> Result<AppCatalog, FileError> {
        let text = Source::read(path)?;
        AppCatalog::parse(&text, path)
    }

    /// Parses apps.toml text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<AppCatalog, FileError> {
        let src = Source { path, text };
        let raw: RawCatalog = src.parse()?;
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        let mut apps = Vec::new();
        if raw.apps.is_empty() {
            problems.push(src.problem(None, "no `[[app]]` entry; expected at least one"));
        }
        for raw in raw.apps {
            let name = raw.name.get_ref().clone();
            let mut fail = |span: std::ops::Range<usize>, what: String| {
                problems.push(src.problem(Some(&span), format!("app `{name}`: {what}")));
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                fail(
                    raw.name.span(),
                    "the name must be lowercase letters, digits and `-` (it names folders and `--apps a,b`)".into(),
                );
            }
            if !seen.insert(name.clone()) {
                fail(
                    raw.name.span(),
                    "defined twice; names must be unique".into(),
                );
            }
            if !raw.callable.get_ref().contains(':') {
                fail(
                    raw.callable.span(),
                    format!(
                        "`callable` must be `module:callable`, got `{}`",
                        raw.callable.get_ref()
                    ),
                );
            }
            let span = raw.request.span();
            let r = raw.request.into_inner();
            let method = match &r.method {
                None => Method::Get,
                Some(m) => Method::parse(m.get_ref()).unwrap_or_else(|| {
                    fail(
                        m.span(),
                        format!(
                            "unknown method `{}`; expected GET, POST, PUT, DELETE, HEAD, PATCH or OPTIONS",
                            m.get_ref()
                        ),
                    );
                    Method::Get
                }),
            };
            let body = match (r.body, r.body_size) {
                (Some(_), Some(_)) => {
                    fail(span.clone(), "give `body` or `body_size`, not both".into());
                    Vec::new()
                }
                (Some(text), None) => text.into_bytes(),
                (None, Some(n)) if n > MAX_BODY => {
                    fail(
                        span.clone(),
                        format!("`body_size` {n} is over the {MAX_BODY}-byte cap"),
                    );
                    Vec::new()
                }
                (None, Some(n)) => vec![b'x'; n],
                (None, None) => Vec::new(),
            };
            let request = Request {
                method,
                path: r.path.unwrap_or_else(|| "/".into()),
                headers: r.headers,
                body,
            };
            if let Err(problem) = request.check() {
                fail(span.clone(), problem);
            }
            let expect_span = raw.expect.span();
            let e = raw.expect.into_inner();
            if !(100..=599).contains(&e.status) {
                fail(
                    expect_span.clone(),
                    format!("status {} is not an HTTP status (100-599)", e.status),
                );
            }
            if e.body.is_none() && e.length.is_none() && e.sha256.is_none() {
                fail(
                    expect_span.clone(),
                    "`expect` needs `body`, `length` or `sha256`: a status alone passes an empty answer".into(),
                );
            }
            if let Some(h) = &e.sha256 {
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    fail(
                        expect_span.clone(),
                        format!("`sha256` must be 64 hex digits, got `{h}`"),
                    );
                }
            }
            apps.push(App {
                name,
                description: raw.description,
                callable: raw.callable.into_inner(),
                dir: None,
                mix: vec![(request.clone(), 1.0)],
                sessions: None,
                request,
                expect: Some(Expect {
                    status: e.status,
                    body: e.body,
                    length: e.length,
                    sha256: e.sha256.map(|h| h.to_ascii_lowercase()),
                }),
                packages: raw.packages,
            });
        }
        if problems.is_empty() {
            Ok(AppCatalog {
                path: path.to_path_buf(),
                apps,
            })
        } else {
            Err(src.invalid(problems))
        }
    }

    pub fn get(&self, name: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.name == name)
    }

    /// `--apps`: the named apps in the order asked, every app for `all`, the original
    /// alone for an empty list.
    pub fn select(&self, names: &[&str]) -> Result<Vec<&App>, String> {
        match names {
            [] => self
                .get(ORIGINAL_APP)
                .map(|a| vec![a])
                .ok_or_else(|| format!("{}: no `{ORIGINAL_APP}` app", self.path.display())),
            ["all"] => Ok(self.apps.iter().collect()),
            names => names
                .iter()
                .map(|n| {
                    self.get(n).ok_or_else(|| {
                        format!(
                            "unknown app `{n}` (in {}: {}, or all)",
                            self.path.display(),
                            self.apps
                                .iter()
                                .map(|a| a.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                })
                .collect(),
        }
    }
}

impl App {
    /// Whether this is the original's app: its results keep the original's folder and
    /// history key (no app).
    pub fn is_original(&self) -> bool {
        self.name == ORIGINAL_APP
    }

    /// What `case` serves for this app: for the original, a case's own variant of it
    /// (waitress's pong without the hop-by-hop header).
    pub fn callable_for<'a>(&'a self, case: &'a Case) -> &'a str {
        match (&case.app, self.is_original()) {
            (Some(own), true) => own,
            _ => &self.callable,
        }
    }

    /// The name results carry: `None` for the original.
    pub fn results_name(&self) -> Option<String> {
        (!self.is_original()).then(|| self.name.clone())
    }
}

impl Expect {
    /// `Ok` when `answer` is the expected one; else what differs, in words.
    pub fn check(&self, answer: &Answer) -> Result<(), String> {
        let mut wrong = Vec::new();
        if answer.status != self.status {
            wrong.push(format!(
                "status {} (expected {})",
                answer.status, self.status
            ));
        }
        if let Some(body) = &self.body {
            if answer.body != body.as_bytes() {
                wrong.push(format!(
                    "body {:?} (expected {body:?})",
                    preview(&answer.body)
                ));
            }
        }
        if let Some(length) = self.length {
            if answer.body.len() as u64 != length {
                wrong.push(format!(
                    "{} body bytes (expected {length})",
                    answer.body.len()
                ));
            }
        }
        if let Some(sha) = &self.sha256 {
            let got = sha256_hex(&answer.body);
            if &got != sha {
                wrong.push(format!("body sha256 {got} (expected {sha})"));
            }
        }
        match wrong.is_empty() {
            true => Ok(()),
            false => Err(wrong.join(", ")),
        }
    }
}

/// What one server answered a request twice in a row, for comparing servers that serve
/// an app with no declared answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub status: u16,
    pub length: usize,
    pub sha256: String,
    /// The second answer was the first, byte for byte.
    pub stable: bool,
}

impl Probe {
    pub fn of(first: &Answer, second: &Answer) -> Probe {
        Probe {
            status: first.status,
            length: first.body.len(),
            sha256: sha256_hex(&first.body),
            stable: first == second,
        }
    }

    fn describe(&self, by_hash: bool) -> String {
        match by_hash {
            true => format!(
                "status {} with {} bytes (sha256 {}…)",
                self.status,
                self.length,
                &self.sha256[..12]
            ),
            false => format!("status {} with {} bytes", self.status, self.length),
        }
    }
}

/// The servers' answers compared with one another: the answer most servers gave is
/// the reference (the first server's among equals), and each server that answered
/// otherwise gets why. Bodies are compared by hash unless one server's body changed
/// from one answer to the next (a timestamp, a token): then status and length only.
pub fn compare_answers(probes: &[Probe]) -> Vec<Result<(), String>> {
    let by_hash = probes.iter().all(|p| p.stable);
    let key = |p: &Probe| match by_hash {
        true => (p.status, p.length, p.sha256.clone()),
        false => (p.status, p.length, String::new()),
    };
    let mut counts: Vec<((u16, usize, String), usize)> = Vec::new();
    for p in probes {
        match counts.iter_mut().find(|(k, _)| *k == key(p)) {
            Some((_, n)) => *n += 1,
            None => counts.push((key(p), 1)),
        }
    }
    let Some(most) = counts.iter().map(|(_, n)| *n).max() else {
        return Vec::new();
    };
    let reference = counts
        .iter()
        .find(|(_, n)| *n == most)
        .map(|(k, _)| k.clone());
    let Some(reference_probe) = probes.iter().find(|p| Some(key(p)) == reference) else {
        return Vec::new();
    };
    probes
        .iter()
        .map(|p| match Some(key(p)) == reference {
            true => Ok(()),
            false => Err(format!(
                "answered {}, where {} of {} servers answered {}{}",
                p.describe(by_hash),
                most,
                probes.len(),
                reference_probe.describe(by_hash),
                if by_hash {
                    ""
                } else {
                    " (bodies change from one answer to the next, so only status and length are compared)"
                }
            )),
        })
        .collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The start of a body, for messages.
fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
    match body.len() > 120 {
        true => format!("{text}…"),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps_toml() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites/apps.toml")
    }

    #[test]
    fn the_shipped_apps_load_with_the_issues_cases() {
        let catalog = AppCatalog::load(&apps_toml()).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = catalog.apps.iter().map(|a| a.name.as_str()).collect();
        for name in [
            "pong", "json", "large", "stream", "upload", "io", "cpu", "flask", "django",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        let upload = catalog.get("upload").unwrap();
        assert_eq!(upload.request.method, Method::Post);
        assert_eq!(upload.request.body.len(), 16384);
        assert_eq!(catalog.select(&[]).unwrap()[0].name, "pong");
        assert_eq!(catalog.select(&["all"]).unwrap().len(), catalog.apps.len());
        let e = catalog.select(&["pong", "nope"]).unwrap_err();
        assert!(
            e.contains("unknown app `nope`") && e.contains("json"),
            "{e}"
        );
    }

    #[test]
    fn mistakes_name_their_line_and_all_are_listed() {
        let text = "[[app]]\nname = \"Bad Name\"\ncallable = \"nocolon\"\nrequest = { method = \"FETCH\" }\nexpect = { status = 200 }\n\n[[app]]\nname = \"b\"\ncallable = \"m:a\"\nrequest = { body = \"x\", body_size = 3 }\nexpect = { status = 700, sha256 = \"zz\" }\n";
        let e = AppCatalog::parse(text, Path::new("apps.toml"))
            .unwrap_err()
            .to_string();
        for needle in [
            "apps.toml:2:",
            "lowercase letters",
            "apps.toml:3:",
            "module:callable",
            "apps.toml:4:",
            "unknown method `FETCH`",
            "apps.toml:5:",
            "needs `body`, `length` or `sha256`",
            "apps.toml:10:",
            "not both",
            "apps.toml:11:",
            "status 700",
            "64 hex digits",
        ] {
            assert!(e.contains(needle), "{needle:?} in:\n{e}");
        }
    }

    #[test]
    fn servers_are_compared_by_hash_or_by_length_when_bodies_change() {
        let probe = |status, body: &[u8], again: &[u8]| {
            Probe::of(
                &Answer {
                    status,
                    body: body.to_vec(),
                },
                &Answer {
                    status,
                    body: again.to_vec(),
                },
            )
        };
        let same = compare_answers(&[
            probe(200, b"hello", b"hello"),
            probe(200, b"hello", b"hello"),
            probe(200, b"hellO", b"hellO"),
        ]);
        assert_eq!(same[..2], [Ok(()), Ok(())]);
        let e = same[2].clone().unwrap_err();
        assert!(e.contains("sha256") && e.contains("2 of 3 servers"), "{e}");
        // A clock in the body: the hash cannot agree, so length and status decide.
        let clocks = compare_answers(&[
            probe(200, b"t=0001", b"t=0002"),
            probe(200, b"t=0003", b"t=0004"),
            probe(404, b"nope", b"nope"),
        ]);
        assert_eq!(clocks[..2], [Ok(()), Ok(())]);
        let e = clocks[2].clone().unwrap_err();
        assert!(
            e.contains("status 404 with 4 bytes") && e.contains("only status and length"),
            "{e}"
        );
    }

    #[test]
    fn an_answer_is_checked_against_every_expectation() {
        let expect = Expect {
            status: 200,
            body: None,
            length: Some(3),
            sha256: Some(sha256_hex(b"abc")),
        };
        let answer = |status, body: &[u8]| Answer {
            status,
            body: body.to_vec(),
        };
        assert_eq!(expect.check(&answer(200, b"abc")), Ok(()));
        let e = expect.check(&answer(500, b"abcd")).unwrap_err();
        assert!(
            e.contains("status 500") && e.contains("4 body bytes") && e.contains("sha256"),
            "{e}"
        );
        let exact = Expect {
            status: 200,
            body: Some("Pong!".into()),
            length: None,
            sha256: None,
        };
        assert!(exact
            .check(&answer(200, b"Internal Server Error"))
            .unwrap_err()
            .contains("expected \"Pong!\""));
    }
}
