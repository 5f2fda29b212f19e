//! The `wsgibench-testserver` binary as a person (or a container) starts it: loopback by
//! default, another address with `--bind`, `/count` from outside, bad flags refused.
//!
//! This file also makes `cargo test --workspace` build the binary: the Docker test
//! (crates/cli/tests/docker_hosts.rs) copies it into its image from beside `wsgibench`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_wsgibench-testserver");

/// The server process, killed when dropped.
struct Running {
    child: Child,
    /// Its stdout, kept open while it runs.
    _stdout: BufReader<std::process::ChildStdout>,
    /// `IP:PORT` from its first line.
    address: String,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the test server starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // "listening on http://127.0.0.1:41234/"
        let address = first
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.strip_suffix('/'))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        Running {
            child,
            _stdout: stdout,
            address,
        }
    }

    fn get(&self, path: &str) -> String {
        let mut s = TcpStream::connect(&self.address).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = Vec::new();
        if path == "/count" {
            // It closes after this answer.
            s.read_to_end(&mut answer).unwrap();
        } else {
            let mut got = [0u8; 256];
            // A signal may interrupt the read before any byte (seen once in CI: EINTR);
            // read_to_end retries that itself, a plain read does not.
            let n = loop {
                match s.read(&mut got) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other.unwrap(),
                }
            };
            answer.extend_from_slice(&got[..n]);
        }
        String::from_utf8_lossy(&answer).into_owned()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn it_listens_on_loopback_by_default_and_counts() {
    let server = Running::start(&[]);
    assert!(
        server.address.starts_with("127.0.0.1:"),
        "{}",
        server.address
    );
    assert!(server.get("/pong").ends_with("Pong!"));
    assert!(server.get("/status-599").starts_with("HTTP/1.1 599"));
    let count = server.get("/count");
    assert!(count.starts_with("HTTP/1.1 200 OK"), "{count}");
    assert!(count.ends_with("\r\n\r\n2"), "{count}");
    // /count is not counted itself.
    assert!(server.get("/count").ends_with("\r\n\r\n2"));
}

#[test]
fn bind_takes_another_address() {
    let server = Running::start(&["--bind", "127.0.0.2:0"]);
    assert!(
        server.address.starts_with("127.0.0.2:"),
        "{}",
        server.address
    );
    assert!(server.get("/pong").ends_with("Pong!"));
    assert!(server.get("/count").ends_with("\r\n\r\n1"));
}

#[test]
fn bad_flags_are_refused() {
    for args in [
        &["--bind", "0.0.0.0"][..],
        &["--bind", "nowhere:80"],
        &["--port", "70000"],
        &["--listen", "1"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}
