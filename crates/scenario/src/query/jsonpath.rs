//! Tsung's JSONPath dialect for `<dyn_variable jsonpath=".."/>`.
//!
//! Tsung's dialect is not the JSONPath of Goessner or RFC 9535: it is a key path
//! (`ts_utils:jsonpath` in Tsung's source) with a few extras, and scenarios are written
//! against it. We read the same expressions the same way:
//! - an optional leading `$.` (or a lone `$`, the whole document);
//! - keys separated by dots: `menu.popup.name`;
//! - indexes from 0, bracketed or dotted alike: `items[2]` is `items.2`;
//! - `*`: every item of an array (on anything else Tsung skips it, and so do we);
//! - a filter `[?key=value]`: the array items whose `key` is `value`, compared with the
//!   string's text or the number's JSON text (`titi[?val=123].name`).
//!
//! Where we part from Tsung, it is to refuse early rather than return nothing later:
//! `..`, quoted keys, slices, unions, negative indexes and `?(@...)` filters are parse
//! errors (Tsung would split them on dots and match nothing, or crash). And a numeric
//! key also finds an object member of that name, where Tsung finds nothing.
//!
//! The value bound is text: a string's content, a number's, boolean's or null's JSON
//! text, an object's or array's compact JSON (Tsung binds an object as JSON too).
//! Object members come out in serde_json's map order, which sorts keys: a server reads
//! the same object, though not byte for byte the same text.

use serde_json::Value;

/// Segments of one path. serde_json reads no document nested deeper than 128, and
/// the walk recurses once per segment (a `*` on a non-array is skipped without
/// descending), so a longer path could only overflow the stack of a worker.
const MAX_SEGMENTS: usize = 128;

const SUBSET: &str = "Tsung's jsonpath reads dotted keys (a.b), an optional leading $., \
     indexes from 0 (a[2] or a.2), * and filters [?key=value]";

/// A parsed Tsung jsonpath expression; see the module doc for the dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    /// An index, with its text for objects that use digits as keys. An index too large
    /// for `usize` matches no array item.
    Index(Option<usize>, String),
    Wildcard,
    Filter {
        key: String,
        value: String,
    },
}

impl JsonPath {
    /// Reads an expression, refusing the JSONPath features Tsung's dialect lacks, with
    /// a message naming the part and the dialect.
    pub fn parse(expr: &str) -> Result<JsonPath, String> {
        let src = expr.trim();
        if src.is_empty() {
            return Err(format!(
                "the jsonpath is empty (write $ for the whole document); {SUBSET}"
            ));
        }
        if src.starts_with("$..") {
            return Err(format!(
                "jsonpath `{src}`: recursive descent `..` is not supported; {SUBSET}"
            ));
        }
        let body = if src == "$" {
            ""
        } else if let Some(rest) = src.strip_prefix("$.") {
            rest
        } else if src.starts_with("$[") {
            &src[1..]
        } else {
            src
        };
        let mut segments = Vec::new();
        let mut rest = body;
        // After a bracket only `.`, `[` or the end may come: `a[1]b` is a typo.
        let mut after_bracket = false;
        while !rest.is_empty() {
            if segments.len() == MAX_SEGMENTS {
                return Err(format!(
                    "jsonpath `{}...`: more than {MAX_SEGMENTS} keys, indexes and filters",
                    src.chars().take(40).collect::<String>()
                ));
            }
            if let Some(inner) = rest.strip_prefix('[') {
                let close = inner.find(']').ok_or_else(|| {
                    format!("jsonpath `{src}`: `{rest}` has no closing ]; {SUBSET}")
                })?;
                let text = &inner[..close];
                if text.contains('[') {
                    return Err(unsupported(src, rest));
                }
                segments.push(segment(src, text, true)?);
                rest = &inner[close + 1..];
                after_bracket = true;
                continue;
            }
            if let Some(next) = rest.strip_prefix('.') {
                if next.starts_with('.') {
                    return Err(format!(
                        "jsonpath `{src}`: recursive descent `..` is not supported; {SUBSET}"
                    ));
                }
                if next.is_empty() || next.starts_with('[') {
                    return Err(format!(
                        "jsonpath `{src}`: a `.` must be followed by a key; {SUBSET}"
                    ));
                }
                rest = next;
            } else if after_bracket {
                return Err(format!(
                    "jsonpath `{src}`: `{rest}` must follow ] with . or [; {SUBSET}"
                ));
            }
            after_bracket = false;
            let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
            if rest[end..].starts_with(']') {
                return Err(format!("jsonpath `{src}`: a ] without its [; {SUBSET}"));
            }
            segments.push(segment(src, &rest[..end], false)?);
            rest = &rest[end..];
        }
        Ok(JsonPath { segments })
    }

    /// The first value the path reaches in `document`, as text (see the module doc).
    pub fn first(&self, document: &Value) -> Option<String> {
        walk(&self.segments, document)
    }

    /// [`JsonPath::first`] over an answer's body; `None` when the body is not JSON.
    /// A UTF-8 byte order mark is skipped, as some servers send one.
    pub fn first_in(&self, body: &[u8]) -> Option<String> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let document: Value = serde_json::from_slice(body).ok()?;
        self.first(&document)
    }
}

fn segment(src: &str, text: &str, bracketed: bool) -> Result<Segment, String> {
    let shown = || {
        if bracketed {
            format!("[{text}]")
        } else {
            text.to_string()
        }
    };
    if text.is_empty() {
        return Err(format!(
            "jsonpath `{src}`: `{}` names nothing; {SUBSET}",
            shown()
        ));
    }
    if text == "*" {
        return Ok(Segment::Wildcard);
    }
    if let Some(filter) = text.strip_prefix('?') {
        let Some((key, value)) = filter.split_once('=') else {
            return Err(unsupported(src, &shown()));
        };
        let operator = key.ends_with(['!', '<', '>', '='])
            || value.starts_with(['=', '<', '>'])
            || key.starts_with(['(', '@']);
        if key.is_empty() || operator {
            return Err(unsupported(src, &shown()));
        }
        return Ok(Segment::Filter {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Segment::Index(text.parse().ok(), text.to_string()));
    }
    let negative = text
        .strip_prefix('-')
        .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
    if negative || text.contains([':', ',', '\'', '"', '(', ')']) {
        return Err(unsupported(src, &shown()));
    }
    Ok(Segment::Key(text.to_string()))
}

fn unsupported(src: &str, part: &str) -> String {
    format!("jsonpath `{src}`: `{part}` is not supported; {SUBSET}")
}

fn walk(segments: &[Segment], value: &Value) -> Option<String> {
    let Some((segment, rest)) = segments.split_first() else {
        return render(value);
    };
    match (segment, value) {
        (Segment::Key(key), Value::Object(map)) => walk(rest, map.get(key)?),
        (Segment::Index(index, _), Value::Array(items)) => walk(rest, items.get((*index)?)?),
        (Segment::Index(_, key), Value::Object(map)) => walk(rest, map.get(key)?),
        (Segment::Wildcard, Value::Array(items)) => items.iter().find_map(|v| walk(rest, v)),
        (Segment::Wildcard, other) => walk(rest, other),
        (Segment::Filter { key, value }, Value::Array(items)) => items
            .iter()
            .filter(|item| {
                let field = match item {
                    Value::Object(map) => map.get(key),
                    _ => None,
                };
                field.is_some_and(|f| scalar_text(f).as_deref() == Some(value.as_str()))
            })
            .find_map(|item| walk(rest, item)),
        _ => None,
    }
}

/// What a filter compares: a string's content, or a number's or boolean's JSON text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn render(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        other => serde_json::to_string(other).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(expr: &str, doc: &str) -> Option<String> {
        JsonPath::parse(expr).unwrap().first_in(doc.as_bytes())
    }

    const TITI: &str = r#"{"titi": [{"val": 123, "name": "foo"}, {"val": 42, "name": "bar"}]}"#;

    /// The cases of Tsung's src/test/ts_test_search.erl (parse_dyn_var_jsonpath*),
    /// with the same documents and answers. Where Tsung binds a list, we bind its
    /// first item.
    #[test]
    fn tsungs_own_cases_give_tsungs_answers() {
        assert_eq!(
            first("titi[1]", r#"{"titi": [23,45]}"#).as_deref(),
            Some("45")
        );
        assert_eq!(first("titi[3]", r#"{"titi": [23,45]}"#), None);
        assert_eq!(first("titi[?name=bar].val", TITI).as_deref(), Some("42"));
        assert_eq!(first("titi[?name=void].val", TITI), None);
        let ok = r#"{"titi": [{"val": 123, "status": "foo"}, {"val": 42, "status": "OK"},
                    {"val": 48, "status": "OK"}]}"#;
        assert_eq!(first("titi[?status=OK].val", ok).as_deref(), Some("42"));
        assert_eq!(first("titi[*].val", TITI).as_deref(), Some("123"));
        assert_eq!(first("titi[?val=123].name", TITI).as_deref(), Some("foo"));
        let menu = r#"{"menu": {"id": "file", "value": "File", "popup": {"name": "glop",
            "menuitem": [{"value": "New", "onclick": "CreateNewDoc()"},
                         {"value": "Open", "onclick": "OpenDoc()"}]}}}"#;
        assert_eq!(first("menu.popup.name", menu).as_deref(), Some("glop"));
        assert_eq!(
            first("menu.popup.menuitem[0].value", menu).as_deref(),
            Some("New")
        );
        let token = r#"{"accessToken":{"id":"78548a96","lists":["testlist1"]},
                        "accessTokenSignature":"gWAL+zvDcQjqLmNdSwcG/TOWyta5g=="}"#;
        assert_eq!(
            first("accessToken", token).as_deref(),
            Some(r#"{"id":"78548a96","lists":["testlist1"]}"#)
        );
        assert_eq!(
            first("accessTokenSignature", token).as_deref(),
            Some("gWAL+zvDcQjqLmNdSwcG/TOWyta5g==")
        );
    }

    #[test]
    fn dollar_dot_and_dotted_indexes_read_as_tsung_reads_them() {
        let doc = r#"{"a": {"b": [10, {"c": true}, null, 1.5]}}"#;
        assert_eq!(first("$.a.b[1].c", doc).as_deref(), Some("true"));
        assert_eq!(first("a.b.1.c", doc).as_deref(), Some("true"));
        assert_eq!(first("a.b.2", doc).as_deref(), Some("null"));
        assert_eq!(first("a.b.3", doc).as_deref(), Some("1.5"));
        assert_eq!(
            first("a.b", doc).as_deref(),
            Some(r#"[10,{"c":true},null,1.5]"#)
        );
        assert_eq!(first("$", "[1, 2]").as_deref(), Some("[1,2]"));
        assert_eq!(first("$[1]", "[1, 2]").as_deref(), Some("2"));
        assert_eq!(first("a.b[99999999999999999999999]", doc), None);
        // A key on an array, an index on a string: nothing, not a panic.
        assert_eq!(first("a.b.c", doc), None);
        assert_eq!(first("a.b[1].c[0]", doc), None);
    }

    #[test]
    fn star_skips_what_is_not_an_array_and_digits_also_name_members() {
        let doc = r#"{"a": {"b": 1}, "m": {"0": "zero"}}"#;
        assert_eq!(first("a.*.b", doc).as_deref(), Some("1"));
        assert_eq!(first("m.0", doc).as_deref(), Some("zero"));
        assert_eq!(first("*", "[]"), None);
    }

    #[test]
    fn a_filter_compares_numbers_and_booleans_by_their_text() {
        let doc = r#"[{"id": 1.5, "on": true, "n": null, "v": "a"},
                      {"id": 2, "on": false, "v": "b"}]"#;
        assert_eq!(first("[?id=1.5].v", doc).as_deref(), Some("a"));
        assert_eq!(first("[?on=false].v", doc).as_deref(), Some("b"));
        assert_eq!(first("[?n=null].v", doc), None);
        assert_eq!(
            first("[?v=b]", doc).as_deref(),
            Some(r#"{"id":2,"on":false,"v":"b"}"#)
        );
    }

    #[test]
    fn a_body_that_is_not_json_gives_none() {
        let path = JsonPath::parse("a").unwrap();
        assert_eq!(path.first_in(b"{\"a\": "), None);
        assert_eq!(path.first_in(b"<html>"), None);
        assert_eq!(path.first_in(b"\xff\xfe"), None);
        assert_eq!(
            path.first_in(b"\xEF\xBB\xBF{\"a\": \"x\"}").as_deref(),
            Some("x")
        );
    }

    #[test]
    fn what_the_dialect_does_not_hold_is_named() {
        for (expr, part) in [
            ("$..book", "`..`"),
            ("a['b']", "['b']"),
            ("a[0:2]", "[0:2]"),
            ("a[0,1]", "[0,1]"),
            ("a[-1]", "[-1]"),
            ("a[?(@.k=='v')]", "[?(@.k=='v')]"),
            ("a[?k!=v]", "[?k!=v]"),
            ("a[?k]", "[?k]"),
            ("a[1", "no closing ]"),
            ("a]", "without its ["),
            ("a[1]b", "must follow ]"),
            ("a.", "followed by a key"),
            ("a[]", "`[]` names nothing"),
            ("a[[1]]", "not supported"),
        ] {
            let e = JsonPath::parse(expr).unwrap_err();
            assert!(e.contains(part), "{expr}: {e}");
        }
    }

    #[test]
    fn an_empty_path_is_refused_and_dollar_is_the_whole_document() {
        assert!(JsonPath::parse("").unwrap_err().contains("empty"));
        assert!(JsonPath::parse("  ").is_err());
        assert_eq!(first("$", r#"{"a":1}"#).as_deref(), Some(r#"{"a":1}"#));
    }

    /// Each `*` on a scalar is skipped without descending: 100 000 of them recursed
    /// once each, deep enough to overflow a worker's stack.
    #[test]
    fn a_path_longer_than_any_document_is_deep_is_refused() {
        let long = vec!["*"; 100_000].join(".");
        let e = JsonPath::parse(&long).unwrap_err();
        assert!(e.contains("more than 128"), "{e}");
        let most = vec!["*"; MAX_SEGMENTS].join(".");
        assert_eq!(
            JsonPath::parse(&most).unwrap().first_in(b"7").as_deref(),
            Some("7")
        );
    }
}
