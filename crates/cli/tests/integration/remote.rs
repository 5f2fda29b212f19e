//! A target off loopback is refused before any connect unless the user says
//! `--allow-remote`, on the command line and on an agent alike. "Off loopback" is a
//! veth pair in a network namespace this test creates (`unshare -rn`): 10.9.0.1 on one
//! end, a counting server on 10.9.0.2 on the other. No other network is touched.

use std::process::Command;
use std::time::Duration;

use crate::util::{run_bounded, text, wsgibench, Pong};

const HELPER_ENV: &str = "WSGIBENCH_TEST_REMOTE_NETNS";
const HELPER: &str = "remote::inside_a_namespace_with_a_veth_pair";
const TOKEN: &str = "remote-test-token-0123456789";

#[test]
fn a_remote_target_needs_allow_remote() {
    let probe = Command::new("unshare")
        .args([
            "-rn", "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1",
        ])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        other => {
            let why = match other {
                Ok(out) => text(&out.stderr),
                Err(e) => e.to_string(),
            };
            assert!(
                !testkit::in_ci(),
                "CI is set and a namespace with a veth pair cannot be made: {why}"
            );
            eprintln!("skipped: a namespace with a veth pair cannot be made: {why}");
            return;
        }
    }
    let out = crate::util::in_new_netns(HELPER, (HELPER_ENV, "1"));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the helper failed in its namespace:\n{stdout}\n{stderr}"
    );
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(out.status.success(), "ip {args:?}: {}", text(&out.stderr));
}

/// Runs only inside the namespace the test above creates.
#[test]
#[ignore = "run by a_remote_target_needs_allow_remote inside the namespace it creates"]
fn inside_a_namespace_with_a_veth_pair() {
    assert!(
        std::env::var_os(HELPER_ENV).is_some(),
        "run by a_remote_target_needs_allow_remote, not by hand"
    );
    ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    ip(&["addr", "add", "10.9.0.1/24", "dev", "v0"]);
    ip(&["addr", "add", "10.9.0.2/24", "dev", "v1"]);
    for dev in ["lo", "v0", "v1"] {
        ip(&["link", "set", dev, "up"]);
    }
    let server = Pong::start_on("10.9.0.2:8080").expect("listen on the veth's far end");
    let url = "http://10.9.0.2:8080/";

    // Refused before any connect: exit 2, and the server saw no connection.
    let out = run_bounded(
        wsgibench().args(["load", url, "-n", "10", "-c", "1", "-q"]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--allow-remote"),
        "{}",
        text(&out.stderr)
    );
    assert!(server.peers().is_empty(), "{:?}", server.peers());

    // An agent started without --allow-remote refuses it too, whoever asks.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let agent_addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let mut agent = wsgibench()
        .args(["agent", "--once", "--listen", &agent_addr])
        .env("WSGIBENCH_TOKEN", TOKEN)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let out = run_bounded(
        wsgibench()
            .args([
                "load",
                url,
                "-n",
                "10",
                "-c",
                "1",
                "-q",
                "--allow-remote",
                "--agents",
            ])
            .arg(&agent_addr)
            .env("WSGIBENCH_TOKEN", TOKEN),
        Duration::from_secs(30),
    );
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("refused"),
        "{}",
        text(&out.stderr)
    );
    assert!(server.peers().is_empty(), "{:?}", server.peers());

    // Said: the load goes, from 10.9.0.1 over the veth.
    let out = run_bounded(
        wsgibench().args(["load", url, "-n", "10", "-c", "1", "-q", "--allow-remote"]),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(server.requests(), 10);
    println!("peers: {:?}", server.peers());
}
