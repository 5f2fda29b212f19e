//! A request mix from a file (`wsgibench run --app ... --requests FILE`): what a user's
//! app is asked, with weights, in JSON Lines or TOML. Either can hold any body: JSON and
//! TOML strings take any text, and `body_base64` any bytes.
//!
//! ```text
//! {"method": "POST", "path": "/api/items", "headers": [["Content-Type", "application/json"]], "body": "{\"a\": 1}", "weight": 2}
//! {"path": "/"}
//! ```
//!
//! ```toml
//! [[request]]
//! method = "POST"
//! path = "/api/items"
//! headers = [["Content-Type", "application/json"]]
//! body = '{"a": 1}'
//! weight = 2
//! ```
//!
//! Every mistake is reported with its line, all at once.

use std::path::Path;

use base64::Engine as _;
use scenario::{Method, Request};
use serde::Deserialize;
use toml::Spanned;

use crate::source::{FileError, Problem, Source};

/// The most requests a mix may hold: each becomes a session of the protocol.
pub const MAX_REQUESTS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    #[serde(default)]
    method: Option<String>,
    path: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
    #[serde(default)]
    weight: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToml {
    #[serde(default)]
    request: Vec<Spanned<RawRequest>>,
}

/// Reads a mix: TOML when the file ends in `.toml`, JSON Lines otherwise.
pub fn read(path: &Path) -> Result<Vec<(Request, f64)>, FileError> {
    let text = Source::read(path)?;
    let src = Source { path, text: &text };
    let toml = path.extension().is_some_and(|e| e == "toml");
    let mut problems = Vec::new();
    let mut mix = Vec::new();
    if toml {
        let raw: RawToml = src.parse()?;
        for r in raw.request {
            let line = src.line_of(&r.span());
            push(&mut mix, &mut problems, r.into_inner(), line);
        }
    } else {
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() || l.trim_start().starts_with('#') {
                continue;
            }
            match serde_json::from_str::<RawRequest>(l) {
                Ok(r) => push(&mut mix, &mut problems, r, i + 1),
                Err(e) => {
                    // serde_json counts lines within the one it was given: drop that.
                    let text = e.to_string();
                    let what = text
                        .rsplit_once(" at line ")
                        .map_or(text.as_str(), |(w, _)| w);
                    problems.push(Problem {
                        line: Some(i + 1),
                        column: Some(e.column()),
                        message: format!(
                            "{what}; expected one JSON object per line: {{\"method\", \"path\", \"headers\", \"body\" or \"body_base64\", \"weight\"}}"
                        ),
                    })
                }
            }
        }
    }
    if mix.is_empty() && problems.is_empty() {
        problems.push(Problem {
            line: None,
            column: None,
            message: match toml {
                true => "no [[request]]; expected at least one".into(),
                false => "no request; expected one JSON object per line".into(),
            },
        });
    }
    if mix.len() > MAX_REQUESTS {
        problems.push(Problem {
            line: None,
            column: None,
            message: format!("{} requests; at most {MAX_REQUESTS}", mix.len()),
        });
    }
    match problems.is_empty() {
        true => Ok(mix),
        false => Err(src.invalid(problems)),
    }
}

fn push(mix: &mut Vec<(Request, f64)>, problems: &mut Vec<Problem>, r: RawRequest, line: usize) {
    let mut fail = |message: String| {
        problems.push(Problem {
            line: Some(line),
            column: None,
            message,
        })
    };
    let method = match &r.method {
        None => Method::Get,
        Some(m) => match Method::parse(m) {
            Some(m) => m,
            None => {
                fail(format!(
                    "unknown method `{m}`; expected GET, POST, PUT, DELETE, HEAD, PATCH or OPTIONS"
                ));
                return;
            }
        },
    };
    let body = match (r.body, r.body_base64) {
        (Some(_), Some(_)) => {
            fail("give `body` or `body_base64`, not both".into());
            return;
        }
        (Some(text), None) => text.into_bytes(),
        (None, Some(b64)) => match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            Ok(bytes) => bytes,
            Err(e) => {
                fail(format!("`body_base64` is not base64: {e}"));
                return;
            }
        },
        (None, None) => Vec::new(),
    };
    let weight = r.weight.unwrap_or(1.0);
    if !(weight.is_finite() && weight > 0.0 && weight <= 1_000_000.0) {
        fail(format!(
            "weight {weight} must be above 0 and at most 1 000 000"
        ));
        return;
    }
    let request = Request {
        method,
        path: r.path,
        headers: r.headers,
        body,
    };
    if let Err(e) = request.check() {
        fail(e);
        return;
    }
    mix.push((request, weight));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn json_lines_and_toml_give_the_same_mix() {
        let (_a, jsonl) = write(
            "mix.jsonl",
            "# a comment\n{\"method\": \"post\", \"path\": \"/api\", \"headers\": [[\"Content-Type\", \"application/json\"]], \"body\": \"{\\\"a\\\": \\\"é\\\"}\", \"weight\": 2}\n\n{\"path\": \"/bin\", \"body_base64\": \"AAEC/w==\"}\n",
        );
        let (_b, toml) = write(
            "mix.toml",
            "[[request]]\nmethod = \"POST\"\npath = \"/api\"\nheaders = [[\"Content-Type\", \"application/json\"]]\nbody = '{\"a\": \"é\"}'\nweight = 2\n\n[[request]]\npath = \"/bin\"\nbody_base64 = \"AAEC/w==\"\n",
        );
        let a = read(&jsonl).unwrap();
        assert_eq!(a, read(&toml).unwrap());
        assert_eq!(a[0].0.method, Method::Post);
        assert_eq!(a[0].0.body, "{\"a\": \"é\"}".as_bytes());
        assert_eq!(a[0].1, 2.0);
        assert_eq!(a[1].0.body, [0, 1, 2, 255]);
        assert_eq!(a[1].1, 1.0);
    }

    #[test]
    fn every_mistake_is_named_with_its_line() {
        let (_a, path) = write(
            "bad.jsonl",
            "{\"path\": \"/\"}\n{\"path\": \"/a b\"}\n{\"method\": \"FETCH\", \"path\": \"/\"}\nnot json\n{\"path\": \"/\", \"weight\": 0}\n{\"path\": \"/\", \"body\": \"x\", \"body_base64\": \"eA==\"}\n{\"path\": \"/\", \"colour\": 1}\n",
        );
        let e = read(&path).unwrap_err().to_string();
        for needle in [
            "bad.jsonl:2: path \"/a b\"",
            "bad.jsonl:3: unknown method `FETCH`",
            "bad.jsonl:4:2: expected ident;",
            "bad.jsonl:5: weight 0",
            "bad.jsonl:6: give `body` or `body_base64`",
            "bad.jsonl:7:",
            "unknown field `colour`",
        ] {
            assert!(e.contains(needle), "{needle:?} in:\n{e}");
        }
        let (_b, empty) = write("empty.toml", "# nothing\n");
        assert!(read(&empty)
            .unwrap_err()
            .to_string()
            .contains("no [[request]]"));
    }
}
