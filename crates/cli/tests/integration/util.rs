//! Helpers shared by the integration tests.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A tiny HTTP/1.1 server: one thread per connection, keep-alive, answers every
/// request `200 Pong!` with a Content-Length, and counts the requests it read, so a
/// test checks what the server received rather than what the client claims.
pub struct Pong {
    pub port: u16,
    requests: Arc<AtomicU64>,
    peers: Arc<Mutex<BTreeMap<IpAddr, u64>>>,
}

impl Pong {
    pub fn start() -> Pong {
        Pong::start_on("127.0.0.1:0").expect("bind 127.0.0.1:0")
    }

    /// A Pong server on `addr` (port 0: any free port).
    pub fn start_on(addr: &str) -> std::io::Result<Pong> {
        let listener = TcpListener::bind(addr)?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(AtomicU64::new(0));
        let peers = Arc::new(Mutex::new(BTreeMap::new()));
        let (counter, seen) = (requests.clone(), peers.clone());
        // The accept thread lives as long as the test binary; nothing to stop.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Ok(peer) = stream.peer_addr() {
                    *seen.lock().unwrap().entry(peer.ip()).or_insert(0) += 1;
                }
                let counter = counter.clone();
                std::thread::spawn(move || serve(stream, &counter));
            }
        });
        Ok(Pong {
            port,
            requests,
            peers,
        })
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Connections accepted so far, by the client's source address.
    pub fn peers(&self) -> BTreeMap<IpAddr, u64> {
        self.peers.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, counter: &AtomicU64) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        // Answer every complete request in the buffer (clients may pipeline).
        while let Some(end) = find(&buf, b"\r\n\r\n") {
            let body = content_length(&buf[..end]);
            if buf.len() < end + 4 + body {
                break;
            }
            buf.drain(..end + 4 + body);
            counter.fetch_add(1, Ordering::SeqCst);
            let answer =
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nPong!";
            if stream.write_all(answer).is_err() {
                return;
            }
        }
        match stream.read(&mut chunk) {
            // A stop and continue of the process interrupts a read with a timeout.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A Tsung file of the HTTP subset: `rate` users/s arrive for `phase_s` seconds, each
/// runs `body` (XML inside `<session>`); the whole test is cut at `duration_s`.
pub fn tsung_xml(port: u16, rate: u32, phase_s: u32, duration_s: u32, body: &str) -> String {
    tsung_xml_capped(port, rate, phase_s, None, duration_s, body)
}

/// [`tsung_xml`] with the phase's `maxnumber`. Tsung spaces arrivals as a Poisson
/// process, so only a cap reached well before the phase ends fixes its user count.
pub fn tsung_xml_capped(
    port: u16,
    rate: u32,
    phase_s: u32,
    max_users: Option<u32>,
    duration_s: u32,
    body: &str,
) -> String {
    let cap = max_users.map_or(String::new(), |m| format!(r#" maxnumber="{m}""#));
    format!(
        r#"<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="notice" backend="json" dumptraffic="false">
  <clients>
    <client host="localhost" use_controller_vm="true"/>
  </clients>
  <servers>
    <server host="127.0.0.1" port="{port}" type="tcp"/>
  </servers>
  <load duration="{duration_s}" unit="second">
    <arrivalphase phase="1" duration="{phase_s}" unit="second">
      <users arrivalrate="{rate}" unit="second"{cap}/>
    </arrivalphase>
  </load>
  <sessions>
    <session name="pong" probability="100" type="ts_http">
{body}
    </session>
  </sessions>
</tsung>
"#
    )
}

/// `count` GETs of `/` in a `<for>` loop.
pub fn get_loop(count: u32) -> String {
    format!(
        r#"      <for from="1" to="{count}" var="i">
        <request><http url="/" method="GET" version="1.1"/></request>
      </for>"#
    )
}

/// Tsung 1.7 (Debian package `tsung`; `$TSUNG` names another): None when it is not
/// installed, which under CI is a failure ([`testkit::outside_tool`]).
pub fn tsung() -> Option<PathBuf> {
    let candidate = std::env::var_os("TSUNG")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/tsung".into());
    testkit::outside_tool(
        &testkit::Tool {
            name: "tsung",
            debian_package: "tsung",
        },
        candidate.exists().then_some(candidate),
    )
}

/// Runs `tsung -f xml start` to its end within `limit`, in `work`, and returns its run
/// directory (`tsung.log`, dumps, the controller's log). Tsung gets its own HOME
/// (Erlang writes ~/.erlang.cookie, Tsung ~/.tsung), its own controller id so it never
/// meets another Tsung's Erlang node (the tests run in threads of one process), and no
/// web GUI (it would listen on port 8091 of every interface).
pub fn run_tsung(tsung: &Path, xml: &Path, work: &Path, limit: Duration) -> PathBuf {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run = RUNS.fetch_add(1, Ordering::SeqCst);
    let home = work.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let logs = work.join(format!("tsung-logs-{run}"));
    let id = format!("wsgibench{}n{run}", std::process::id());
    let out = run_bounded(
        Command::new(tsung)
            .env("HOME", &home)
            .current_dir(work)
            .args(["-n", "-i", &id, "-f"])
            .arg(xml)
            .arg("-l")
            .arg(&logs)
            .arg("start"),
        limit,
    );
    assert!(
        out.status.success(),
        "tsung: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The log directory holds one `YYYYMMDD-HHMM` directory per run.
    std::fs::read_dir(&logs)
        .expect("Tsung's log directory")
        .flatten()
        .find(|e| e.path().is_dir())
        .expect("a run directory")
        .path()
}

pub fn wsgibench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsgibench"))
}

/// Runs `cmd` to its end, or kills it and fails the test after `limit`.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_bounded(child, limit)
}

pub fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let began = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if began.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "still running after {limit:?}; stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{}", path.display(), text(&bytes)))
}

/// The `stats` entries of a Tsung log.
pub fn entries(log: &Value) -> &Vec<Value> {
    log["stats"].as_array().expect("a stats array")
}

/// Names of the HTTP samples (monitoring samples, which carry a hostname, left out).
pub fn http_sample_names(log: &Value) -> BTreeSet<String> {
    entries(log)
        .iter()
        .flat_map(|e| e["samples"].as_array().unwrap().iter())
        .filter(|s| s.get("hostname").is_none())
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

/// The value of `field` of sample `name` in the last entry that has it.
pub fn last(log: &Value, name: &str, field: &str) -> Option<u64> {
    entries(log)
        .iter()
        .rev()
        .flat_map(|e| e["samples"].as_array().unwrap().iter())
        .find(|s| s["name"] == name)
        .and_then(|s| s[field].as_u64())
}

pub fn timestamps(log: &Value) -> Vec<u64> {
    entries(log)
        .iter()
        .map(|e| e["timestamp"].as_u64().expect("an integer timestamp"))
        .collect()
}

/// Runs the ignored test `helper` of this test binary alone, inside a network
/// namespace of its own (`unshare -rn`), with `env` set so that it knows it was asked.
pub fn in_new_netns(helper: &str, env: (&str, &str)) -> Output {
    let me = std::env::current_exe().expect("the test binary's path");
    run_bounded(
        Command::new("unshare")
            .args(["-rn", "--"])
            .arg(me)
            .args([
                helper,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(env.0, env.1),
        Duration::from_secs(120),
    )
}
