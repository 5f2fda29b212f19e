//! The server's CPU and memory when the server is not this machine's: `wsgibench
//! sample` runs beside it (a sidecar in a pod that shares its process namespace),
//! samples every process it can see but itself and PID 1 (the pod's pause process)
//! once a second, and serves the samples over HTTP; the suite's controller asks for
//! them before and after each case's load ([`fetch`]) and keeps those in between.
//!
//! `GET /samples` answers `{"now_s": T, "samples": [ServerSample, ...]}`: `t_s` and
//! `now_s` count from the sidecar's start, so the caller slices by its own two reads
//! and needs no clock in common. The last [`KEEP`] samples are kept (a day at 1 Hz).

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use results::ServerSample;
use serde::{Deserialize, Serialize};

use crate::supervise::{all_procs, sample_loop};

/// Samples kept: a day at one a second, about 4 MiB.
pub const KEEP: usize = 86_400;

/// What `GET /samples` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    /// Seconds since the sidecar started.
    pub now_s: f64,
    pub samples: Vec<ServerSample>,
}

/// Samples every process but this one and PID 1, every `every`, and serves them on
/// `listener` until the process ends.
pub fn serve(listener: TcpListener, every: Duration) -> std::io::Result<()> {
    let kept: Arc<Mutex<VecDeque<ServerSample>>> = Arc::new(Mutex::new(VecDeque::new()));
    let started = Instant::now();
    {
        let kept = kept.clone();
        let me = std::process::id() as i32;
        std::thread::spawn(move || {
            // Never sent: the sampler runs as long as the process.
            let (_keep_open, stopped) = mpsc::channel::<()>();
            let select = || {
                all_procs()
                    .into_iter()
                    .filter(|p| p.pid != me && p.pid != 1 && p.state != 'Z')
                    .collect()
            };
            sample_loop(select, every, &stopped, |s| {
                let mut k = kept.lock().unwrap_or_else(|e| e.into_inner());
                if k.len() == KEEP {
                    k.pop_front();
                }
                k.push_back(s);
            });
        });
    }
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        // The whole head, or what came before the client stopped or 4 KiB: answering
        // a part and closing would cut off a client still writing.
        let mut head = Vec::with_capacity(256);
        let mut chunk = [0u8; 512];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 4096 {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
        let asked = String::from_utf8_lossy(&head);
        let (status, body) = if asked.starts_with("GET /samples ") {
            let samples = kept
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .copied()
                .collect();
            let answer = Samples {
                now_s: started.elapsed().as_secs_f64(),
                samples,
            };
            (
                "200 OK",
                serde_json::to_string(&answer).expect("plain data"),
            )
        } else {
            (
                "404 Not Found",
                String::from("{\"error\":\"only GET /samples\"}"),
            )
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
    Ok(())
}

/// Asks the sidecar at `address` (HOST:PORT) for its samples.
pub fn fetch(address: &str) -> Result<Samples, String> {
    let addr = address
        .to_socket_addrs()
        .map_err(|e| format!("{address}: {e}"))?
        .next()
        .ok_or_else(|| format!("{address}: no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("{address}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let request = format!("GET /samples HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes())
        .map_err(|e| format!("{address}: {e}"))?;
    let mut answer = Vec::new();
    s.take(64 << 20)
        .read_to_end(&mut answer)
        .map_err(|e| format!("{address}: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{address}: not an HTTP answer"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "{address}: {}",
            head.lines().next().unwrap_or_default()
        ));
    }
    serde_json::from_str(body).map_err(|e| format!("{address}: not samples: {e}"))
}

/// The samples taken after `from` and up to `to` (both `now_s` of the sidecar), with
/// `t_s` counted from `from`, as the samples of a server this machine runs are.
pub fn between(samples: &Samples, from: f64, to: f64) -> Vec<ServerSample> {
    samples
        .samples
        .iter()
        .filter(|s| s.t_s > from && s.t_s <= to)
        .map(|s| ServerSample {
            t_s: s.t_s - from,
            ..*s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sidecar sees a busy process beside it and serves its CPU over HTTP.
    #[test]
    fn a_sidecar_serves_the_samples_of_the_processes_beside_it() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || serve(listener, Duration::from_millis(200)));
        // A process that burns CPU for a bounded count, one process (no child to
        // outlive it), ended by its PID; no pipe of ours to hold open.
        let mut busy = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 20000000 ]; do i=$((i+1)); done"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        let first = fetch(&address).unwrap();
        let _ = busy.kill();
        let _ = busy.wait();
        assert!(first.now_s > 1.0, "{first:?}");
        assert!(!first.samples.is_empty());
        // The busy loop used most of a CPU in some sample (a loaded machine shares it).
        let top = first
            .samples
            .iter()
            .map(|s| s.cpu_percent)
            .fold(0.0, f64::max);
        assert!(top > 30.0, "{:?}", first.samples);
        assert!(first
            .samples
            .iter()
            .all(|s| s.processes >= 1 && s.rss_mib > 0.0));
        let slice = between(&first, 0.5, first.now_s);
        assert!(slice
            .iter()
            .all(|s| s.t_s > 0.0 && s.t_s <= first.now_s - 0.5));
        assert!(fetch("127.0.0.1:1").is_err());
    }
}
