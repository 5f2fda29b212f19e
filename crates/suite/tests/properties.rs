//! The suite TOML reader on arbitrary input: it returns a suite or an error, never panics.
//!
//! Three kinds of input, from least to most structured:
//! - any string;
//! - suite files built from the reader's own keys and step shapes, with edge-case
//!   numbers (NaN, infinities, 1e300, negative, u64::MAX, ...) in every numeric field;
//! - suites/original.toml with its numbers swapped for such values.
//!
//! What must hold: an accepted suite builds a scenario that passes the scenario's own
//! checks; a refused one gets a message that starts with the file's name. The
//! coverage-guided fuzz target for the same reader is fuzz/fuzz_targets/suite.rs.

use std::path::Path;

use proptest::prelude::*;
use suite::SuiteFile;

const ORIGINAL: &str = include_str!("../../../suites/original.toml");

fn check(text: &str) -> Result<(), TestCaseError> {
    let read = SuiteFile::parse(text, Path::new("p.toml"));
    testkit::read_or_refused(read, "p.toml", |suite| {
        suite.scenario("127.0.0.1", 8000).validate()
    })
    .map_err(TestCaseError::fail)
}

/// TOML numbers (and a few non-numbers) on the edges of what the reader accepts.
fn edge_number() -> impl Strategy<Value = String> {
    // TOML's own: its spellings of NaN and infinity, hex, underscores, other types.
    let toml_edges: &[&str] = &[
        "1.7976931348623157e308",
        "nan",
        "+nan",
        "-nan",
        "+inf",
        "1000000000",
        "999999999.9",
        "0x7fffffffffffffff",
        "1_000_000",
        "\"10\"",
        "true",
        "[]",
        "{}",
    ];
    prop_oneof![
        prop::sample::select([testkit::EDGE_NUMBERS, toml_edges].concat()).prop_map(String::from),
        "-?[0-9]{1,20}(\\.[0-9]{1,4})?(e-?[0-9]{1,3})?",
    ]
}

/// Mostly ordinary seconds or rates, so that whole suites get accepted and reach the
/// scenario's checks, and sometimes an edge case.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => prop::sample::select(vec!["1", "2", "5", "10", "0.5", "30"]).prop_map(String::from),
        1 => edge_number(),
    ]
}

/// Mostly ordinary counts, sometimes an edge case.
fn count() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => prop::sample::select(vec!["1", "2", "10", "600"]).prop_map(String::from),
        1 => edge_number(),
    ]
}

fn toml_string() -> impl Strategy<Value = String> {
    "[ -~]{0,12}".prop_map(|s| format!("{s:?}"))
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec!["\"GET\"", "\"POST\"", "\"HEAD\""]).prop_map(String::from),
        1 => toml_string(),
    ]
}

/// One step as an inline table, loops and transactions nesting up to three deep.
fn step() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => toml_string().prop_map(|p| format!("{{ get = {p} }}")),
        1 => (number(), any::<bool>())
            .prop_map(|(m, r)| format!("{{ think = {{ mean_s = {m}, random = {r} }} }}")),
        1 => (method(), toml_string(), toml_string()).prop_map(|(m, p, b)| format!(
            "{{ request = {{ method = {m}, path = {p}, headers = [[\"a\", \"b\"]], body = {b} }} }}"
        )),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (count(), prop::collection::vec(inner.clone(), 1..4)).prop_map(|(n, s)| {
                format!("{{ loop = {{ count = {n}, steps = [{}] }} }}", s.join(", "))
            }),
            prop::collection::vec(inner, 1..4).prop_map(|s| format!(
                "{{ transaction = {{ name = \"t\", steps = [{}] }} }}",
                s.join(", ")
            )),
        ]
    })
}

/// `key = value` lines; optional keys (`?` after the name) are sometimes left out.
fn keys(names: &'static [(&'static str, bool)]) -> impl Strategy<Value = String> {
    let value = |is_count: bool| {
        if is_count {
            count().boxed()
        } else {
            number().boxed()
        }
    };
    let lines: Vec<_> = names
        .iter()
        .map(|&(name, is_count)| {
            let optional = name.ends_with('?');
            let key = name.trim_end_matches('?');
            (
                prop::bool::weighted(if optional { 0.7 } else { 0.97 }),
                value(is_count),
            )
                .prop_map(move |(keep, v)| {
                    if keep {
                        format!("{key} = {v}\n")
                    } else {
                        String::new()
                    }
                })
        })
        .collect();
    lines.prop_map(|lines| lines.concat())
}

fn suite_text() -> impl Strategy<Value = String> {
    let top = keys(&[
        ("interval_s", false),
        ("duration_s", false),
        ("cool_down_s?", false),
        ("ready_timeout_s?", false),
        ("max_users?", true),
    ]);
    let timeouts = prop::option::of(keys(&[("connect_s?", false), ("response_s?", false)]));
    let phase = keys(&[
        ("duration_s", false),
        ("users_per_second", false),
        ("max_users?", true),
    ]);
    let phases = prop::collection::vec(phase, 1..3);
    let sessions = prop::collection::vec(
        (
            prop::option::of(number()),
            prop::collection::vec(step(), 1..4),
        ),
        1..3,
    );
    (top, timeouts, phases, sessions).prop_map(|(top, timeouts, phases, sessions)| {
        let mut text = top;
        for p in phases {
            text.push_str(&format!("[[phase]]\n{p}"));
        }
        for (weight, steps) in sessions {
            text.push_str("[[session]]\nname = \"s\"\n");
            if let Some(w) = weight {
                text.push_str(&format!("weight = {w}\n"));
            }
            text.push_str(&format!("steps = [{}]\n", steps.join(", ")));
        }
        // A table last: keys after it would belong to it.
        if let Some(t) = timeouts {
            text.push_str(&format!("[timeouts]\n{t}"));
        }
        text
    })
}

/// The byte ranges of the numbers written right after `= ` in `text`.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("= ") {
        let start = from + i + 2;
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
            end += 1;
        }
        if end > start {
            spans.push((start, end));
        }
        from = start;
    }
    spans
}

/// `text` with the chosen numbers replaced.
fn with_numbers(text: &str, changes: &[(usize, String)]) -> String {
    testkit::replace_spans(text, &number_spans(text), changes)
}

proptest! {
    #[test]
    fn any_text_is_read_or_refused(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn any_suite_shaped_text_is_read_or_refused(text in suite_text()) {
        check(&text)?;
    }

    #[test]
    fn any_numbers_in_a_valid_suite_are_read_or_refused(
        changes in prop::collection::vec((any::<usize>(), edge_number()), 1..4),
    ) {
        check(&with_numbers(ORIGINAL, &changes))?;
    }
}

#[test]
fn the_base_suite_is_valid_and_has_numbers_to_change() {
    assert!(SuiteFile::parse(ORIGINAL, Path::new("original.toml")).is_ok());
    // interval_s, duration_s, max_users, cool_down_s, ready_timeout_s, the phase's
    // three and the loop count.
    assert_eq!(number_spans(ORIGINAL).len(), 9);
    let changed = with_numbers(ORIGINAL, &[(1, "nan".into())]);
    assert!(changed.contains("\nduration_s = nan\n"), "{changed}");
}
