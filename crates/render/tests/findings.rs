//! The findings rules (`render::diagnosis`) on real results folders from two runs, so a
//! rule tuned to one machine's numbers shows up as a miss or a false alarm on the other.
//!
//! - `full_run_2026_12_01`: the original protocol (300 users over 60 s, cut at 90 s),
//!   all ten cases, on a 2-core AMD EPYC. Before these rules it reported only "gevent:
//!   memory grew", and missed gevent's 44 ms floor (its server at 64 % CPU), waitress's
//!   208 timed-out requests and gunicorn-sync's new connection per request.
//! - `quick_run_2026_12_02`: `wsgibench run --quick` (25 users), all ten cases, on
//!   another 2-core AMD EPYC, the day after: gevent's floor with its server at 7 % CPU.
//!
//! - `apps_quick_2026_12_02`: `wsgibench run --quick --apps pong,json,io,large,upload`,
//!   fourteen cases x five apps (docs/results.md): uWSGI's floor under most requests of
//!   a 64 KiB answer, where the first fifth escape it.
//!
//! Each test lists every finding the run gives, by case, so a new false alarm on a
//! healthy case fails as surely as a missed one. The folders hold only what
//! `results::read_run` reads (run.json and each case's summary.json); see
//! tests/data/findings/README.md.

use std::path::{Path, PathBuf};

use render::diagnosis::{diagnose, Severity};

fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/findings")
        .join(name)
}

/// (severity, case, title) of every finding, in the report's order.
fn findings(name: &str) -> Vec<(Severity, String, String)> {
    let run = results::read_run(&folder(name)).unwrap();
    let expected = if name.starts_with("apps") { 70 } else { 10 };
    assert_eq!(run.cases.len(), expected, "{name}: every case reads");
    diagnose(&run)
        .into_iter()
        .map(|f| (f.severity, f.case.unwrap_or_default(), f.title))
        .collect()
}

fn finding(severity: Severity, case: &str, title: &str) -> (Severity, String, String) {
    (severity, case.to_string(), title.to_string())
}

const NAGLE: &str = "a 44 ms floor under every request: Nagle's algorithm meets delayed ACK";
const NEW_CONNECTIONS: &str =
    "a new connection for every request: the server closes after each answer";

#[test]
fn apps_quick_2026_12_02() {
    const MOST: &str = "a 44 ms floor under most requests: Nagle's algorithm meets delayed ACK";
    assert_eq!(
        findings("apps-quick-2026-12-02"),
        [
            finding(Severity::Warning, "gevent (pong, json, upload)", NAGLE),
            finding(
                Severity::Warning,
                "gunicorn-sync (pong, json, io, large, upload)",
                NEW_CONNECTIONS
            ),
            finding(
                Severity::Warning,
                "pyruvate (pong, large, upload)",
                "the load generator was the bottleneck"
            ),
            finding(
                Severity::Warning,
                "pyruvate (pong, json, io, large, upload)",
                NEW_CONNECTIONS
            ),
            finding(Severity::Warning, "uwsgi (large)", MOST),
            finding(Severity::Warning, "uwsgi-gevent (large)", MOST),
        ]
    );
}

#[test]
fn full_run_2026_12_01() {
    assert_eq!(
        findings("full-run-2026-12-01"),
        [
            finding(Severity::Warning, "gevent", NAGLE),
            finding(Severity::Warning, "gunicorn-sync", NEW_CONNECTIONS),
            finding(Severity::Warning, "waitress", "208 requests timed out"),
            finding(
                Severity::Note,
                "gevent",
                "memory grew with the open connections: 30 \u{2192} 34 MiB"
            ),
        ]
    );
}

#[test]
fn quick_run_2026_12_02() {
    assert_eq!(
        findings("quick-run-2026-12-02"),
        [
            finding(Severity::Warning, "gevent", NAGLE),
            finding(Severity::Warning, "gunicorn-sync", NEW_CONNECTIONS),
        ]
    );
}

/// The texts carry the run's own figures, so a reader can check them in the table.
#[test]
fn findings_quote_the_numbers_they_rest_on() {
    let run = results::read_run(&folder("full-run-2026-12-01")).unwrap();
    let text = |case: &str, start: &str| {
        diagnose(&run)
            .into_iter()
            .find(|f| f.case.as_deref() == Some(case) && f.title.starts_with(start))
            .unwrap_or_else(|| panic!("no finding {start:?} for {case}"))
            .text
    };
    let gevent = text("gevent", "a 44 ms floor");
    assert!(
        gevent.contains("43.8 ms")
            && gevent.contains("44.1 ms")
            && gevent.contains("0.38 ms")
            && gevent.contains("64 % of its CPU"),
        "{gevent}"
    );
    let waitress = text("waitress", "208 requests");
    assert!(
        waitress.starts_with("208 requests waited the whole response timeout")
            && waitress.contains("p99 of 17.8 ms"),
        "{waitress}"
    );
    let sync = text("gunicorn-sync", "a new connection");
    assert!(
        sync.contains("420662 connections for 420362 requests (1.0 requests per connection)"),
        "{sync}"
    );
}
