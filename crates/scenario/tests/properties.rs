//! The Tsung reader on arbitrary input: it returns a scenario or an error, never panics.
//!
//! Three kinds of input, from least to most structured:
//! - any string;
//! - a soup of Tsung's own element names, attributes and edge-case values, so the
//!   converter's rules are reached and not only the XML syntax check;
//! - the repository's richest example (tests/data/tsung/mixed.xml) with attribute
//!   values swapped for edge cases (huge, tiny, negative, NaN, empty, words).
//!
//! What must hold: an accepted file passes the scenario's own checks and can be
//! described (`--dry-run`); a refused one gets a message that starts with the file's
//! name. The coverage-guided fuzz target for the same reader is fuzz/fuzz_targets/tsung.rs.

use proptest::prelude::*;

const MIXED: &str = include_str!("../../../tests/data/tsung/mixed.xml");

fn check(xml: &str) -> Result<(), TestCaseError> {
    let read = scenario::tsung::parse_str(xml, "p.xml");
    testkit::read_or_refused(read, "p.xml:", |import| {
        let _ = scenario::tsung::describe(import);
        import.scenario.validate()
    })
    .map_err(TestCaseError::fail)
}

/// Numbers and words that sit on the edges of what the reader accepts.
fn edge_value() -> impl Strategy<Value = String> {
    // Tsung's own: its spellings of infinity, just past the limits, and its words.
    let tsung_edges: &[&str] = &[
        "",
        "1e308",
        "1.8e308",
        "NaN",
        "infinity",
        "9223372036854775808",
        "18446744073709551616",
        "1000000000000",
        "65535",
        "65536",
        "true",
        "false",
        "second",
        "minute",
        "hour",
        "millisecond",
        "json",
        "ts_http",
        "tcp",
        "GET",
        "POST",
        "HEAD",
        "1.1",
        "/",
        "http://127.0.0.1:8000/x",
        "http://[::1]:1/",
        "%%_v%%",
        "wait_global",
        "127.0.0.1",
        "localhost",
        "a&#10;b",
    ];
    prop_oneof![
        prop::sample::select([testkit::EDGE_NUMBERS, tsung_edges].concat()).prop_map(String::from),
        "-?[0-9]{1,22}(\\.[0-9]{0,4})?(e-?[0-9]{1,3})?",
        "[ -~]{0,12}".prop_map(|s| s.replace(['"', '<', '&'], "")),
    ]
}

const ELEMENTS: &[&str] = &[
    "tsung",
    "clients",
    "client",
    "servers",
    "server",
    "monitoring",
    "monitor",
    "load",
    "arrivalphase",
    "users",
    "options",
    "option",
    "user_agent",
    "sessions",
    "session",
    "request",
    "http",
    "http_header",
    "thinktime",
    "transaction",
    "for",
    "repeat",
    "add_cookie",
    "www_authenticate",
    "soap",
    "setdynvars",
    "if",
    "match",
    "user",
];

const ATTRIBUTES: &[&str] = &[
    "host",
    "port",
    "type",
    "maxusers",
    "duration",
    "unit",
    "loop",
    "phase",
    "arrivalrate",
    "interarrival",
    "maxnumber",
    "name",
    "value",
    "random",
    "override",
    "probability",
    "weight",
    "url",
    "method",
    "version",
    "contents",
    "content_type",
    "if_modified_since",
    "var",
    "from",
    "to",
    "incr",
    "min",
    "max",
    "backend",
    "loglevel",
    "dumptraffic",
    "userid",
    "passwd",
    "action",
    "wait_all_sessions_end",
];

/// Up to `max` attributes with edge-case values.
fn some_attributes(max: usize) -> impl Strategy<Value = Vec<(&'static str, String)>> {
    prop::collection::vec((prop::sample::select(ATTRIBUTES), edge_value()), 0..max)
}

/// One element with random attributes, and maybe children: depth-limited.
fn element() -> impl Strategy<Value = String> {
    let leaf = (prop::sample::select(ELEMENTS), some_attributes(5))
        .prop_map(|(name, attrs)| format!("<{name}{}/>", attributes(&attrs)));
    leaf.prop_recursive(4, 40, 6, |inner| {
        (
            prop::sample::select(ELEMENTS),
            some_attributes(5),
            prop::collection::vec(inner, 0..6),
        )
            .prop_map(|(name, attrs, children)| {
                format!(
                    "<{name}{}>{}</{name}>",
                    attributes(&attrs),
                    children.concat()
                )
            })
    })
}

/// ` k="v"` for each attribute, the first of a repeated name only (a repeated one is
/// malformed XML, which the plain-string property already covers).
fn attributes(attrs: &[(&str, String)]) -> String {
    let mut seen = Vec::new();
    let mut out = String::new();
    for (k, v) in attrs {
        if !seen.contains(k) {
            seen.push(k);
            out.push_str(&format!(" {k}=\"{v}\""));
        }
    }
    out
}

/// The byte ranges of every attribute value in `xml` (between `="` and `"`).
fn value_spans(xml: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(i) = xml[from..].find("=\"") {
        let start = from + i + 2;
        let Some(len) = xml[start..].find('"') else {
            break;
        };
        spans.push((start, start + len));
        from = start + len + 1;
    }
    spans
}

/// `xml` with the chosen attribute values replaced.
fn with_values(xml: &str, changes: &[(usize, String)]) -> String {
    testkit::replace_spans(xml, &value_spans(xml), changes)
}

proptest! {
    #[test]
    fn any_text_is_read_or_refused(xml in any::<String>()) {
        check(&xml)?;
    }

    #[test]
    fn any_soup_of_tsung_elements_is_read_or_refused(
        root_attrs in some_attributes(3),
        children in prop::collection::vec(element(), 0..6),
    ) {
        let xml = format!("<tsung{}>{}</tsung>", attributes(&root_attrs), children.concat());
        check(&xml)?;
    }

    #[test]
    fn any_values_in_a_valid_file_are_read_or_refused(
        changes in prop::collection::vec((any::<usize>(), edge_value()), 1..5),
    ) {
        check(&with_values(MIXED, &changes))?;
    }
}

#[test]
fn the_base_file_is_valid_and_has_values_to_change() {
    assert!(scenario::tsung::parse_str(MIXED, "mixed.xml").is_ok());
    assert!(value_spans(MIXED).len() > 40);
    let changed = with_values(MIXED, &[(0, "X".into())]);
    assert!(changed.starts_with("<?xml version=\"X\"?>"), "{changed}");
}
