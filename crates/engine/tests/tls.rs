// https: the engine against a rustls server on 127.0.0.1 with certificates made by the
// test (testkit::tls). Each refused handshake is counted by kind and its words kept.

use std::time::Duration;

use scenario::{Scenario, Trust};
use testkit::tls::{self_signed, Ca, Identity, Mode, TlsServer};

use super::util::{closed, run};

/// `requests` GETs over one connection to `https://HOST:port/`.
fn https(host: &str, port: u16, requests: u64, trust: Trust) -> Scenario {
    let mut s = closed(port, 1, Some(requests), Some(Duration::from_secs(60)));
    s.target.host = host.into();
    s.target.tls = true;
    s.timeouts.connect = Duration::from_secs(20);
    s.timeouts.response = Duration::from_secs(20);
    s.trust = trust;
    s
}

fn trusting(ca: &Ca) -> Trust {
    Trust {
        insecure: false,
        extra_roots_pem: vec![ca.pem()],
    }
}

fn errors(s: &engine::Summary, kind: &str) -> u64 {
    s.digest.errors.get(kind).copied().unwrap_or(0)
}

fn localhost(ca: &Ca) -> Identity {
    ca.issue(&["localhost", "127.0.0.1"])
}

#[test]
fn https_with_the_ca_as_an_extra_root_keeps_one_connection_for_every_request() {
    let ca = Ca::new("test CA");
    let server = TlsServer::start(&localhost(&ca), Mode::Serve);
    let s = run(&https("localhost", server.port, 25, trusting(&ca)), 1);
    assert_eq!(
        s.digest.requests, 25,
        "{:?} {:?}",
        s.digest.errors, s.tls_failure
    );
    assert_eq!(s.digest.status.get("200"), Some(&25));
    assert_eq!(s.digest.connections_opened, 1);
    assert_eq!((server.handshakes(), server.requests()), (1, 25));
    assert_eq!(s.tls_failure, None);
    // SNI names the host; the bytes counted are the records on the wire, more than the
    // 25 plaintext answers of 43 bytes.
    assert_eq!(server.last_sni().as_deref(), Some("localhost"));
    assert!(
        s.digest.bytes_received > 25 * 43,
        "{}",
        s.digest.bytes_received
    );
}

#[test]
fn an_ip_address_target_is_checked_against_the_address_and_sends_no_sni() {
    let ca = Ca::new("test CA");
    let server = TlsServer::start(&localhost(&ca), Mode::Serve);
    let s = run(&https("127.0.0.1", server.port, 3, trusting(&ca)), 1);
    assert_eq!(
        s.digest.requests, 3,
        "{:?} {:?}",
        s.digest.errors, s.tls_failure
    );
    assert_eq!(server.last_sni(), None);
}

#[test]
fn tls_1_2_servers_are_spoken_to_as_well() {
    let ca = Ca::new("test CA");
    let server = TlsServer::start(&localhost(&ca), Mode::Tls12);
    let s = run(&https("localhost", server.port, 5, trusting(&ca)), 1);
    assert_eq!(
        s.digest.requests, 5,
        "{:?} {:?}",
        s.digest.errors, s.tls_failure
    );
    assert_eq!(server.handshakes(), 1);
}

#[test]
fn insecure_accepts_a_self_signed_certificate() {
    let server = TlsServer::start(&self_signed(&["localhost"]), Mode::Serve);
    let trust = Trust {
        insecure: true,
        extra_roots_pem: Vec::new(),
    };
    let s = run(&https("localhost", server.port, 5, trust), 1);
    assert_eq!(
        s.digest.requests, 5,
        "{:?} {:?}",
        s.digest.errors, s.tls_failure
    );
}

#[test]
fn an_unknown_issuer_is_a_certificate_error_that_says_so() {
    let ca = Ca::new("a CA nobody trusts");
    let server = TlsServer::start(&localhost(&ca), Mode::Serve);
    let s = run(&https("localhost", server.port, 4, Trust::default()), 1);
    assert_eq!(errors(&s, "tls_certificate"), 4, "{:?}", s.digest.errors);
    assert_eq!((s.digest.requests, s.digest.connections_opened), (0, 0));
    let words = s.tls_failure.expect("the failure's words");
    assert!(words.contains("UnknownIssuer"), "{words}");
    assert_eq!(server.handshakes(), 0);
}

#[test]
fn a_certificate_for_another_name_is_refused_naming_the_name() {
    let ca = Ca::new("test CA");
    let server = TlsServer::start(&ca.issue(&["example.test"]), Mode::Serve);
    let s = run(&https("localhost", server.port, 2, trusting(&ca)), 1);
    assert_eq!(errors(&s, "tls_certificate"), 2, "{:?}", s.digest.errors);
    let words = s.tls_failure.expect("the failure's words");
    assert!(
        words.contains("certificate not valid for name \"localhost\""),
        "{words}"
    );
}

#[test]
fn an_expired_certificate_is_refused() {
    let ca = Ca::new("test CA");
    let server = TlsServer::start(&ca.issue_expired(&["localhost"]), Mode::Serve);
    let s = run(&https("localhost", server.port, 2, trusting(&ca)), 1);
    assert_eq!(errors(&s, "tls_certificate"), 2, "{:?}", s.digest.errors);
    let words = s.tls_failure.expect("the failure's words");
    assert!(words.contains("certificate expired"), "{words}");
}

/// The connect time of an https connection is its TCP and its TLS handshake: a server
/// that takes 300 ms to answer the ClientHello makes every connect at least that long.
#[test]
fn the_tls_handshake_counts_in_the_connect_time() {
    let ca = Ca::new("test CA");
    let delay = Duration::from_millis(300);
    let server = TlsServer::start(&localhost(&ca), Mode::SlowHandshake(delay));
    let s = run(&https("localhost", server.port, 2, trusting(&ca)), 1);
    assert_eq!(
        s.digest.requests, 2,
        "{:?} {:?}",
        s.digest.errors, s.tls_failure
    );
    assert_eq!(s.total.connect.len(), 1);
    assert!(
        s.total.connect.min() >= delay.as_micros() as u64,
        "connect took {} µs",
        s.total.connect.min()
    );
}

#[test]
fn a_server_that_closes_mid_handshake_is_a_handshake_error() {
    let server = TlsServer::start(&self_signed(&["localhost"]), Mode::CloseMidHandshake);
    let s = run(&https("localhost", server.port, 3, Trust::default()), 1);
    assert_eq!(errors(&s, "tls_handshake"), 3, "{:?}", s.digest.errors);
    let words = s.tls_failure.expect("the failure's words");
    assert!(
        words.contains("closed the connection during the TLS handshake"),
        "{words}"
    );
}

#[test]
fn a_plain_http_server_is_a_handshake_error_not_a_crash() {
    let server = TlsServer::start(&self_signed(&["localhost"]), Mode::PlainHttp);
    let s = run(&https("localhost", server.port, 3, Trust::default()), 1);
    assert_eq!(errors(&s, "tls_handshake"), 3, "{:?}", s.digest.errors);
    assert!(s.tls_failure.is_some());
}

#[test]
fn an_extra_root_that_is_not_a_certificate_stops_the_run_before_it_starts() {
    let mut s = https("localhost", 1, 1, Trust::default());
    s.trust.extra_roots_pem =
        vec!["-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n".into()];
    let e = engine::run(&s, &super::util::options(1), &mut []).unwrap_err();
    assert!(e.to_string().starts_with("TLS: extra root 1"), "{e}");
}
