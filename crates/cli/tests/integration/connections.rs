//! As many connections as the machine allows (issue 9): the open-files limit is raised
//! or the run is refused before connecting; connections spread over 127.0.0.x source
//! addresses when one address has too few ports; `localhost` reaches a server on
//! either loopback address.
//!
//! The spreading is tested in a network namespace the test creates (`unshare -rn`),
//! whose `ip_local_port_range` is cut to 50 ports: that setting is per namespace, so
//! the machine's own range is never touched.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use crate::util::{read_json, run_bounded, text, wsgibench, Pong};

/// Set (to the outer test's network namespace) for the helper test that runs inside
/// the namespace; it refuses to run anywhere else.
const HELPER_ENV: &str = "WSGIBENCH_TEST_NETNS_OF_PARENT";
const HELPER: &str = "connections::inside_a_namespace_with_50_ports";
const RANGE: &str = "40000 40049";
const CONNECTIONS: usize = 120;
/// The server's port in the namespace: outside the cut range, so it takes none of it.
const PORT: u16 = 8080;

/// A test that cannot run here: fails under CI (a missing capability must not pass
/// silently, as `testkit::outside_tool` does for tools), otherwise says so on one line.
fn cannot_run(what: &str) {
    assert!(!testkit::in_ci(), "CI is set and {what}");
    eprintln!("skipped: {what}");
}

fn netns_id() -> String {
    std::fs::read_link("/proc/self/ns/net")
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[test]
fn connections_spread_over_loopback_sources_when_one_address_has_too_few_ports() {
    let probe = Command::new("unshare").args(["-rn", "true"]).output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return cannot_run(&format!(
                "`unshare -rn` cannot create a network namespace: {}",
                text(&out.stderr).trim()
            ))
        }
        Err(e) => return cannot_run(&format!("`unshare` cannot run: {e}")),
    }
    let out = crate::util::in_new_netns(HELPER, (HELPER_ENV, &netns_id()));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the helper failed in its namespace:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("spread:"), "{stdout}");
}

/// Runs only inside the namespace the test above creates (a fresh one: loopback down,
/// ports of its own), never in the machine's.
#[test]
#[ignore = "run by connections_spread_over_... inside the namespace it creates"]
fn inside_a_namespace_with_50_ports() {
    let parent = std::env::var(HELPER_ENV).expect("run by the spreading test, not by hand");
    assert_ne!(parent, netns_id(), "not in a namespace of its own");
    loopback_up();
    std::fs::write("/proc/sys/net/ipv4/ip_local_port_range", RANGE).expect("set the port range");
    let server = Pong::start_on(&format!("127.0.0.1:{PORT}")).expect("listen in the namespace");
    let json = std::env::temp_dir().join(format!("wsgibench-netns-{}.json", std::process::id()));

    // Open model: every connection is opened before the first planned instant, and
    // each then sends about two requests.
    let out = run_bounded(
        wsgibench()
            .arg("load")
            .arg(format!("http://127.0.0.1:{PORT}/"))
            .args([
                "-c",
                &CONNECTIONS.to_string(),
                "-t",
                "2",
                "--rate",
                "80",
                "-d",
                "3s",
            ])
            .args(["-q", "--timeout", "20s", "--json"])
            .arg(&json),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let summary = read_json(&json);
    let _ = std::fs::remove_file(&json);
    let _ = std::fs::remove_file(json.with_extension("intervals.jsonl"));
    assert_eq!(summary["errors_total"], 0, "{summary}");
    assert_eq!(summary["connections_opened"], CONNECTIONS, "{summary}");
    assert!(summary["requests"].as_u64().unwrap() > 0, "{summary}");
    let peers = server.peers();
    assert_eq!(peers.values().sum::<u64>(), CONNECTIONS as u64, "{peers:?}");
    assert!(
        peers.len() >= 3,
        "from {} source addresses: {peers:?}",
        peers.len()
    );
    assert!(peers.keys().all(|ip| ip.is_loopback()), "{peers:?}");

    // Control: the same count from one source address does not fit in 50 ports.
    let other = Pong::start_on(&format!("127.0.0.1:{}", PORT + 1)).unwrap();
    let target = SocketAddr::from(([127, 0, 0, 1], PORT + 1));
    let held: Vec<TcpStream> = (0..CONNECTIONS)
        .filter_map(|_| TcpStream::connect_timeout(&target, Duration::from_secs(5)).ok())
        .collect();
    assert!(
        held.len() <= 50,
        "one address held {} connections",
        held.len()
    );
    drop(other);
    println!(
        "spread: {CONNECTIONS} connections from {} source addresses {:?}; \
         from one address only {} of {CONNECTIONS} connect",
        peers.len(),
        peers.keys().collect::<Vec<&IpAddr>>(),
        held.len()
    );
}

/// Brings the namespace's loopback up (a new namespace starts with it down).
fn loopback_up() {
    // SAFETY: plain ioctls on a socket we own, with an ifreq we own and name "lo".
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        let ok = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut ifr) == 0 && {
            ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(fd, libc::SIOCSIFFLAGS, &ifr) == 0
        };
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        assert!(ok, "bringing lo up: {err}");
    }
}

#[test]
fn more_connections_than_open_files_allow_is_refused_before_connecting() {
    let server = Pong::start();
    // `ulimit -n` in sh sets both the soft and the hard limit.
    let out = run_bounded(
        Command::new("sh")
            .args(["-c", r#"ulimit -n 200 && exec "$0" "$@""#])
            .arg(env!("CARGO_BIN_EXE_wsgibench"))
            .arg("load")
            .arg(format!("http://127.0.0.1:{}/", server.port))
            .args(["-c", "500", "-d", "5s"]),
        Duration::from_secs(30),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    for part in ["-c 500", "hard limit of 200", "ulimit -Hn", "LimitNOFILE="] {
        assert!(stderr.contains(part), "{part:?} missing from {stderr}");
    }
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    assert!(server.peers().is_empty(), "connected anyway");
}

#[test]
fn a_low_soft_open_files_limit_is_raised_to_the_hard_one() {
    let hard: u64 = text(
        &Command::new("sh")
            .args(["-c", "ulimit -Hn"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .parse()
    .unwrap_or(u64::MAX);
    if hard < 1000 {
        return cannot_run(&format!("the hard open-files limit is {hard}, under 1000"));
    }
    let server = Pong::start();
    let json = tempfile::tempdir().unwrap();
    let json = json.path().join("out.json");
    // 300 connections would not open under a soft limit of 100 left as it is.
    let out = run_bounded(
        Command::new("sh")
            .args(["-c", r#"ulimit -Sn 100 && exec "$0" "$@""#])
            .arg(env!("CARGO_BIN_EXE_wsgibench"))
            .arg("load")
            .arg(format!("http://127.0.0.1:{}/", server.port))
            .args(["-c", "300", "-t", "2", "--rate", "200", "-d", "3s", "-q"])
            .args(["--timeout", "20s", "--json"])
            .arg(&json),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = read_json(&json);
    assert_eq!(summary["errors_total"], 0, "{summary}");
    assert_eq!(summary["connections_opened"], 300, "{summary}");
    assert_eq!(server.peers().values().sum::<u64>(), 300);
}

/// Issue 9: `load http://localhost:PORT/` against a server bound to ::1 only failed
/// with connect_refused, because only 127.0.0.1 was tried.
#[test]
fn localhost_reaches_a_server_on_v6_loopback_only() {
    let Ok(server) = Pong::start_on("[::1]:0") else {
        return cannot_run("::1 cannot be bound here (no IPv6 loopback)");
    };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = run_bounded(
        wsgibench()
            .arg("load")
            .arg(format!("http://localhost:{}/", server.port))
            .args(["-c", "4", "-t", "1", "-n", "40", "-q", "--json"])
            .arg(&json),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = read_json(&json);
    assert_eq!(summary["requests"], 40, "{summary}");
    assert_eq!(summary["errors_total"], 0, "{summary}");
    assert_eq!(server.requests(), 40);
    let peers: BTreeMap<IpAddr, u64> = server.peers();
    assert_eq!(peers.values().sum::<u64>(), 4, "{peers:?}");
}
