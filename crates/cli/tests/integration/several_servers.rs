//! Tsung's several `<server>`s: each user starts on one, drawn by weight; a request
//! whose absolute URL names another listed server moves the user there, and later
//! relative URLs follow it (Tsung's "latest server config").

use std::time::Duration;

use crate::util::*;

/// Two servers weighted 3:1; each user asks its own server once, then moves to the
/// second by an absolute URL and asks it twice.
fn two_servers(a: u16, b: u16, users: u32) -> String {
    let body = format!(
        r#"<request><http url="/" method="GET" version="1.1"/></request>
<request><http url="http://127.0.0.1:{b}/" method="GET" version="1.1"/></request>
<request><http url="/" method="GET" version="1.1"/></request>"#
    );
    tsung_xml_capped(a, 20, 4, Some(users), 30, &body).replace(
        &format!(r#"<server host="127.0.0.1" port="{a}" type="tcp"/>"#),
        &format!(
            r#"<server host="127.0.0.1" port="{a}" type="tcp" weight="3"/>
    <server host="127.0.0.1" port="{b}" type="tcp" weight="1"/>"#
        ),
    )
}

#[test]
fn users_are_spread_over_the_servers_by_weight_and_follow_an_absolute_url() {
    let a = Pong::start();
    let b = Pong::start();
    let users = 60;
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("two.xml");
    std::fs::write(&xml, two_servers(a.port, b.port, users)).unwrap();

    let plan = run_bounded(
        wsgibench().arg("tsung").arg(&xml).arg("--dry-run"),
        Duration::from_secs(20),
    );
    let plan = text(&plan.stdout);
    assert!(
        plan.contains(&format!(
            "servers   each user starts on one, by weight: 127.0.0.1:{} 75%, 127.0.0.1:{} 25%",
            a.port, b.port
        )),
        "{plan}"
    );
    assert!(plan.contains("to server 2 from here on"), "{plan}");

    let out = run_bounded(
        // In the temporary folder: the file's backend="json" writes its Tsung log to
        // the working directory.
        wsgibench()
            .current_dir(dir.path())
            .arg("tsung")
            .arg(&xml)
            .args(["-q", "-t", "2"]),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (on_a, on_b) = (a.requests(), b.requests());
    assert_eq!(on_a + on_b, 3 * u64::from(users), "a={on_a} b={on_b}");
    // The first request of each user goes to the server it drew: 45 expected on the
    // first (3:1), with a standard deviation of 3.4; the other two go to the second.
    assert!((25..=59).contains(&on_a), "a={on_a} b={on_b}");
    assert_eq!(on_b, 2 * u64::from(users) + (u64::from(users) - on_a));
}

#[test]
fn an_absolute_url_to_a_server_the_file_does_not_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("other.xml");
    let body = r#"<request><http url="http://127.0.0.1:9/" method="GET" version="1.1"/></request>"#;
    std::fs::write(&xml, tsung_xml(8000, 1, 1, 5, body)).unwrap();
    let out = run_bounded(
        wsgibench().arg("tsung").arg(&xml).arg("--dry-run"),
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("it names http://127.0.0.1:9, which is not one of the file's <server>s (http://127.0.0.1:8000)"),
        "{err}"
    );
}
