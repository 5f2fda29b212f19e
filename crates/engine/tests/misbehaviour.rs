use std::time::Duration;

use super::util::server::{Behaviour, TestServer};
use super::util::{closed, run};

/// Runs 20 requests over 2 connections against `behaviour` and returns the summary.
fn against(behaviour: Behaviour) -> engine::Summary {
    let server = TestServer::start(behaviour);
    let mut scenario = closed(server.port, 2, Some(20), Some(Duration::from_secs(20)));
    scenario.timeouts.response = Duration::from_millis(300);
    run(&scenario, 1)
}

fn errors(s: &engine::Summary, kind: &str) -> u64 {
    s.digest.errors.get(kind).copied().unwrap_or(0)
}

#[test]
fn garbage_is_a_malformed_response() {
    let s = against(Behaviour::Garbage);
    assert_eq!(
        errors(&s, "malformed_response"),
        20,
        "{:?}",
        s.digest.errors
    );
    assert_eq!(s.digest.requests, 0);
}

#[test]
fn a_stalled_body_is_a_response_timeout() {
    let s = against(Behaviour::SlowBody);
    assert_eq!(errors(&s, "response_timeout"), 20, "{:?}", s.digest.errors);
}

#[test]
fn a_short_body_is_a_length_mismatch() {
    let s = against(Behaviour::ShortBody);
    assert_eq!(
        errors(&s, "body_length_mismatch"),
        20,
        "{:?}",
        s.digest.errors
    );
}

#[test]
fn a_close_without_answer_is_closed_before_response() {
    let s = against(Behaviour::CloseWithoutAnswer);
    assert_eq!(
        errors(&s, "closed_before_response"),
        20,
        "{:?}",
        s.digest.errors
    );
}

#[test]
fn a_close_mid_head_is_closed_mid_response() {
    let s = against(Behaviour::CloseMidHead);
    assert_eq!(
        errors(&s, "closed_mid_response"),
        20,
        "{:?}",
        s.digest.errors
    );
}

#[test]
fn a_reset_is_a_reset() {
    let s = against(Behaviour::Reset);
    // A RST can race the read that would see it; it must never be an answer.
    assert_eq!(
        errors(&s, "reset") + errors(&s, "closed_before_response"),
        20,
        "{:?}",
        s.digest.errors
    );
    assert!(errors(&s, "reset") > 0, "{:?}", s.digest.errors);
}

#[test]
fn nothing_listening_is_connect_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = run(&closed(port, 2, Some(20), Some(Duration::from_secs(20))), 1);
    assert_eq!(errors(&s, "connect_refused"), 20, "{:?}", s.digest.errors);
}

#[test]
fn closing_servers_are_reconnected_and_counted() {
    let s = against(Behaviour::CloseAfter(3));
    assert_eq!(s.digest.requests, 20, "{:?}", s.digest.errors);
    assert_eq!(s.digest.errors_total, 0);
    assert!(s.digest.reconnects >= 4, "{}", s.digest.reconnects);
    let s = against(Behaviour::ConnectionClose);
    assert_eq!(s.digest.requests, 20);
    assert_eq!(s.digest.connections_opened, 20);
}

#[test]
fn error_statuses_are_answers_counted_by_code() {
    let s = against(Behaviour::Unavailable);
    assert_eq!(s.digest.status.get("503"), Some(&20));
    assert_eq!(s.digest.errors_total, 0);
}

#[test]
fn each_request_gets_the_whole_timeout_on_a_reused_connection() {
    // 150 ms answers with a 400 ms timeout: the third request is still waiting when
    // the first one's deadline passes, which the connection's one timer meets first.
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::from_millis(150),
    });
    let mut scenario = closed(server.port, 1, Some(6), Some(Duration::from_secs(20)));
    scenario.timeouts.response = Duration::from_millis(400);
    let s = run(&scenario, 1);
    assert_eq!(s.digest.requests, 6, "{:?}", s.digest.errors);
    assert_eq!(s.digest.errors_total, 0, "{:?}", s.digest.errors);
    assert_eq!(s.digest.connections_opened, 1);
}
