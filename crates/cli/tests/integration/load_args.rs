//! `wsgibench load` refuses bad flags before sending anything: exit 2, naming the flag.

use std::time::Duration;

use crate::util::*;

fn refused(args: &[&str], names: &str) {
    let out = run_bounded(wsgibench().arg("load").args(args), Duration::from_secs(10));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(names), "{args:?} should name {names}: {err}");
}

#[test]
fn zero_connections() {
    refused(&["http://127.0.0.1:9/", "-c", "0"], "--connections");
}

#[test]
fn not_an_http_url() {
    refused(&["ftp://127.0.0.1/"], "<URL>");
    refused(&["ftp://127.0.0.1/"], "http://");
}

#[test]
fn rate_without_duration() {
    refused(&["http://127.0.0.1:9/", "--rate", "100"], "--duration");
}

#[test]
fn remote_targets_are_refused() {
    // 192.0.2.0/24 is TEST-NET-1: never a real host, and not loopback.
    refused(&["http://192.0.2.1:8000/", "-d", "1s"], "192.0.2.1");
}
