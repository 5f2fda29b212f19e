//! `wsgibench load https://...` and `wsgibench tsung` with `type="ssl"`, against a
//! rustls server on 127.0.0.1 whose certificates the test makes (testkit::tls).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use testkit::tls::{self_signed, Ca, Mode, TlsServer};

use crate::util::*;

const LIMIT: Duration = Duration::from_secs(60);

/// `wsgibench load URL -n N -c 1 ARGS --json DIR/s.json`: its output and summary.
fn load(dir: &Path, url: &str, n: u32, args: &[&str]) -> (std::process::Output, Value) {
    let json = dir.join("s.json");
    let out = run_bounded(
        wsgibench()
            .args([
                "load",
                url,
                "-n",
                &n.to_string(),
                "-c",
                "1",
                "-t",
                "1",
                "-q",
            ])
            .args(["--timeout", "20s"])
            .args(args)
            .arg("--json")
            .arg(&json),
        LIMIT,
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (out, read_json(&json))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn https_with_cacert_answers_every_request_over_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("test CA");
    let server = TlsServer::start(&ca.issue(&["localhost"]), Mode::Serve);
    let cacert = write(dir.path(), "ca.pem", &ca.pem());
    let url = format!("https://localhost:{}/", server.port);
    let (out, summary) = load(dir.path(), &url, 30, &["--cacert", &cacert]);
    assert_eq!(summary["requests"], 30, "{summary}");
    assert_eq!(summary["errors_total"], 0, "{summary}");
    assert_eq!(summary["connections_opened"], 1);
    assert_eq!((server.handshakes(), server.requests()), (1, 30));
    assert!(summary.get("tls_failure").is_none(), "{summary}");
    assert!(!text(&out.stderr).contains("TLS"), "{}", text(&out.stderr));
}

#[test]
fn insecure_loads_a_server_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server = TlsServer::start(&self_signed(&["localhost"]), Mode::Serve);
    let url = format!("https://localhost:{}/", server.port);
    let (_, summary) = load(dir.path(), &url, 10, &["--insecure"]);
    assert_eq!(summary["requests"], 10, "{summary}");
    assert_eq!(server.requests(), 10);
}

/// Without --cacert the test CA is unknown: every request is a `tls_certificate`
/// error, and the words of the first say so, once on stderr and in the summary.
#[test]
fn an_unknown_ca_is_counted_and_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("a CA nobody trusts");
    let server = TlsServer::start(&ca.issue(&["localhost"]), Mode::Serve);
    let url = format!("https://localhost:{}/", server.port);
    let (out, summary) = load(dir.path(), &url, 5, &[]);
    assert_eq!(summary["errors"]["tls_certificate"], 5, "{summary}");
    assert_eq!(summary["requests"], 0);
    let words = summary["tls_failure"].as_str().expect("tls_failure");
    assert!(words.contains("UnknownIssuer"), "{words}");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches(words).count(), 1, "{stderr}");
    assert_eq!(server.handshakes(), 0);
}

#[test]
fn a_certificate_for_another_name_or_expired_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("test CA");
    let cacert = write(dir.path(), "ca.pem", &ca.pem());
    for (identity, reason) in [
        (
            ca.issue(&["example.test"]),
            "certificate not valid for name \"localhost\"",
        ),
        (ca.issue_expired(&["localhost"]), "certificate expired"),
    ] {
        let server = TlsServer::start(&identity, Mode::Serve);
        let url = format!("https://localhost:{}/", server.port);
        let (out, summary) = load(dir.path(), &url, 3, &["--cacert", &cacert]);
        assert_eq!(summary["errors"]["tls_certificate"], 3, "{summary}");
        assert!(
            summary["tls_failure"].as_str().unwrap().contains(reason),
            "{summary}"
        );
        assert!(text(&out.stderr).contains(reason), "{}", text(&out.stderr));
    }
}

#[test]
fn a_server_that_closes_mid_handshake_or_speaks_plain_http_is_a_handshake_error() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [Mode::CloseMidHandshake, Mode::PlainHttp] {
        let server = TlsServer::start(&self_signed(&["localhost"]), mode);
        let url = format!("https://localhost:{}/", server.port);
        let (out, summary) = load(dir.path(), &url, 3, &["--insecure"]);
        assert_eq!(summary["errors"]["tls_handshake"], 3, "{mode:?}: {summary}");
        assert!(text(&out.stderr).contains("TLS: "), "{}", text(&out.stderr));
    }
}

#[test]
fn a_cacert_that_cannot_be_read_or_is_not_pem_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem").display().to_string();
    let not_pem = write(dir.path(), "notes.txt", "hello\n");
    for (file, why) in [
        (&missing, "cannot read"),
        (&not_pem, "no certificate in it"),
    ] {
        let out = run_bounded(
            wsgibench().args(["load", "https://localhost:1/", "-n", "1", "--cacert", file]),
            LIMIT,
        );
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("--cacert {file}")) && stderr.contains(why),
            "{stderr}"
        );
    }
}

/// `wsgibench tsung FILE` with `<server type="ssl">`, trusting the test CA: its
/// summary and its Tsung log.
fn tsung_ssl(dir: &Path, port: u16, args: &[&str]) -> (Value, Value) {
    let xml = tsung_xml(port, 5, 1, 20, &get_loop(2)).replace("type=\"tcp\"", "type=\"ssl\"");
    let file = write(dir, "ssl.xml", &xml);
    let (json, log) = (dir.join("t.json"), dir.join("t.tsung.json"));
    let out = run_bounded(
        wsgibench()
            .args(["tsung", &file, "-q", "-t", "1"])
            .args(args)
            .arg("--json")
            .arg(&json)
            .arg("--tsung-log")
            .arg(&log),
        LIMIT,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    (read_json(&json), read_json(&log))
}

#[test]
fn tsung_loads_an_ssl_server() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("test CA");
    let server = TlsServer::start(&ca.issue(&["127.0.0.1"]), Mode::Serve);
    let cacert = write(dir.path(), "ca.pem", &ca.pem());
    let (summary, _) = tsung_ssl(dir.path(), server.port, &["--cacert", &cacert]);
    assert_eq!(summary["errors_total"], 0, "{summary}");
    assert_eq!(summary["requests"], 10, "{summary}");
    assert_eq!((server.handshakes(), server.requests()), (5, 10));
}

/// The connect figure holds the TLS handshake: a server that waits 300 ms before
/// answering the ClientHello makes every connect in Tsung's log at least that long.
#[test]
fn the_handshake_is_in_the_connect_figure() {
    let dir = tempfile::tempdir().unwrap();
    let server = TlsServer::start(
        &self_signed(&["127.0.0.1"]),
        Mode::SlowHandshake(Duration::from_millis(300)),
    );
    let (summary, log) = tsung_ssl(dir.path(), server.port, &["--insecure"]);
    assert_eq!(summary["requests"], 10, "{summary}");
    let connect = entries(&log)
        .iter()
        .flat_map(|e| e["samples"].as_array().unwrap().iter())
        .find(|s| s["name"] == "connect" && s["value"].as_u64() > Some(0))
        .expect("a connect sample");
    let min_ms = connect["min"].as_f64().unwrap();
    assert!(min_ms >= 300.0, "{connect}");
}
