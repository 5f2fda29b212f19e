//! The agent: waits for a controller, proves the token both ways, then runs the share
//! of the load it is sent and streams each interval back as the engine finishes it.
//!
//! One controller at a time: a second one is refused (busy) while a run goes on, so
//! two controllers never share one machine's CPUs unknowingly. The agent's own target
//! policy is set when it starts: without `allow_remote` it refuses any target outside
//! loopback, whoever asks, so the token alone does not make it a load generator to be
//! pointed anywhere.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::{Interval, RunOptions, Sink, Stats};
use scenario::Scenario;

use crate::auth::{nonce, Token};
use crate::clock::monotonic_ns;
use crate::protocol::{read_message, write_message, Message, ProtocolError, PROTOCOL_VERSION};

/// How long a controller may take to say each thing before the agent gives up on it.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The furthest ahead a start instant may be: the controller sends it a few hundred
/// ms early; one far in the future would hold the agent for nothing.
const MAX_START_WAIT: Duration = Duration::from_secs(60);

/// While a run goes on, the agent polls its connection this often for a Stop.
const POLL: Duration = Duration::from_millis(100);
/// A controller that takes no frame for this long has stopped reading (stopped, or its
/// host cut off with a full window): the agent stops its load rather than block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How an agent serves.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    pub token: Token,
    /// Worker threads for a share of the load.
    pub threads: usize,
    /// Pin them to these CPUs.
    pub cpus: Option<Vec<usize>>,
    /// Accept targets outside loopback.
    pub allow_remote: bool,
    /// Serve one controller's run, then return.
    pub once: bool,
    /// Keep each share's whole stats here (`share-<n>.json`, [`engine::StatsWire`]),
    /// to check the controller's merge against.
    pub save_shares: Option<std::path::PathBuf>,
    /// The I/O path of its workers.
    pub io: engine::IoChoice,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot accept connections: {0}")]
    Accept(std::io::Error),
}

/// Serves controllers on `listener` until one run is served (`once`) or forever.
/// Progress and refusals go to `log`, one line each.
pub fn serve(
    listener: TcpListener,
    options: AgentOptions,
    log: impl Fn(&str) + Send + Sync + 'static,
) -> Result<(), AgentError> {
    let busy = Arc::new(AtomicBool::new(false));
    let log = Arc::new(log);
    let (served_tx, served_rx) = std::sync::mpsc::channel::<()>();
    listener.set_nonblocking(true).map_err(AgentError::Accept)?;
    loop {
        if options.once && served_rx.try_recv().is_ok() {
            return Ok(());
        }
        let (stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(AgentError::Accept(e)),
        };
        let (options, busy, log, served) = (
            options.clone(),
            busy.clone(),
            log.clone(),
            served_tx.clone(),
        );
        std::thread::spawn(move || {
            let _ = stream.set_nonblocking(false);
            match converse(stream, &options, &busy) {
                Ok(Some(done)) => {
                    log(&format!("{peer}: {done}"));
                    let _ = served.send(());
                }
                Ok(None) => {}
                Err(why) => log(&format!("{peer}: {why}")),
            }
        });
    }
}

/// One controller's connection. `Ok(Some(what))` when a run was served.
fn converse(
    mut stream: TcpStream,
    options: &AgentOptions,
    busy: &AtomicBool,
) -> Result<Option<String>, String> {
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let read = |s: &mut TcpStream| read_message(s, HANDSHAKE_TIMEOUT).map_err(|e| e.to_string());
    let send = |s: &mut TcpStream, m: &Message| write_message(s, m).map_err(|e| e.to_string());
    let refuse = |s: &mut TcpStream, reason: String| {
        let _ = write_message(
            s,
            &Message::Refused {
                reason: reason.clone(),
            },
        );
        Err(reason)
    };
    let Message::Hello {
        version,
        nonce: theirs,
    } = read(&mut stream)?
    else {
        return refuse(&mut stream, "expected Hello".into());
    };
    if version != PROTOCOL_VERSION {
        return refuse(
            &mut stream,
            format!("protocol version {version}; this agent speaks {PROTOCOL_VERSION}"),
        );
    }
    if busy
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return refuse(
            &mut stream,
            "busy: another controller's run is going on".into(),
        );
    }
    // From here the agent is this controller's until the connection ends.
    struct Release<'a>(&'a AtomicBool);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            self.0.store(false, Ordering::SeqCst);
        }
    }
    let _release = Release(busy);
    let ours = nonce();
    send(
        &mut stream,
        &Message::Challenge {
            version: PROTOCOL_VERSION,
            nonce: ours.clone(),
            threads: options.threads,
            proof: options.token.proof("agent", &theirs, &ours),
        },
    )?;
    match read(&mut stream)? {
        Message::Proof { proof } if options.token.verify(&proof, "controller", &ours, &theirs) => {}
        Message::Proof { .. } => {
            return refuse(&mut stream, "wrong token".into());
        }
        _ => return refuse(&mut stream, "expected Proof".into()),
    }
    send(&mut stream, &Message::Ready)?;
    let mut scenario: Option<Scenario> = None;
    loop {
        match read(&mut stream)? {
            Message::Ping { t0 } => send(
                &mut stream,
                &Message::Pong {
                    t0,
                    t1: monotonic_ns(),
                },
            )?,
            Message::Check { scenario: s } => match check(&s, options.allow_remote) {
                Ok(()) => {
                    scenario = Some(*s);
                    send(&mut stream, &Message::Accepted)?;
                }
                Err(reason) => {
                    let _ = send(&mut stream, &Message::Refused { reason });
                }
            },
            Message::Start {
                segment,
                threads,
                interval_ns,
                start_at_ns,
            } => {
                let Some(s) = scenario.take() else {
                    return refuse(&mut stream, "Start before an accepted Check".into());
                };
                let wait = Duration::from_nanos(start_at_ns.saturating_sub(monotonic_ns()));
                if wait > MAX_START_WAIT {
                    return refuse(
                        &mut stream,
                        format!("a start {wait:?} ahead; at most {MAX_START_WAIT:?}"),
                    );
                }
                let run = RunOptions {
                    allow_remote: options.allow_remote,
                    threads,
                    interval: Duration::from_nanos(interval_ns),
                    cpus: options.cpus.clone(),
                    stop: Arc::new(AtomicBool::new(false)),
                    live: None,
                    segment: Some(segment),
                    start_at: Some(Instant::now() + wait),
                    io: options.io,
                };
                let save = self_save(options.save_shares.as_deref());
                return run_share(stream, &s, run, save.as_deref()).map(Some);
            }
            Message::Stop => return Ok(None),
            other => return refuse(&mut stream, format!("unexpected {other:?}")),
        }
    }
}

/// The agent's own policy, whatever the controller says.
fn check(scenario: &Scenario, allow_remote: bool) -> Result<(), String> {
    scenario.validate().map_err(|e| e.to_string())?;
    if !allow_remote {
        scenario
            .target
            .check_local()
            .map_err(|e| format!("{e} (this agent was started without --allow-remote)"))?;
    }
    Ok(())
}

/// Where this share's stats go, when shares are saved: the next free `share-<n>.json`.
fn self_save(dir: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    let dir = dir?;
    (1..)
        .map(|n| dir.join(format!("share-{n}.json")))
        .find(|p| !p.exists())
}

/// Runs the share and streams it; a Stop or a closed connection from the controller
/// stops the load (what it measured is still sent, if the connection still takes it).
fn run_share(
    stream: TcpStream,
    scenario: &Scenario,
    options: RunOptions,
    save: Option<&std::path::Path>,
) -> Result<String, String> {
    let writer = Arc::new(Mutex::new(stream.try_clone().map_err(|e| e.to_string())?));
    let stop = options.stop.clone();
    let finished = Arc::new(AtomicBool::new(false));
    let listener = {
        let (mut stream, stop, finished) = (stream, stop.clone(), finished.clone());
        std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(POLL));
            while !finished.load(Ordering::SeqCst) {
                match read_message(&mut stream, POLL) {
                    Ok(Message::Stop) | Err(ProtocolError::Closed) => {
                        stop.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(ProtocolError::Timeout(_)) | Ok(_) => {}
                    Err(_) => {
                        stop.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            }
        })
    };
    let mut sink = Stream {
        out: writer.clone(),
        cpu_ns: 0,
        stop,
    };
    let outcome = engine::run(scenario, &options, &mut [&mut sink]);
    finished.store(true, Ordering::SeqCst);
    if let (Some(path), Ok(summary)) = (save, &outcome) {
        let bytes = serde_json::to_vec(&summary.total.to_wire()).expect("stats serialize");
        results::files::write_atomic(path, &bytes).map_err(|e| e.to_string())?;
    }
    let done = match &outcome {
        Ok(s) => Message::Done {
            interrupted: s.interrupted,
            error: None,
            io: s.io,
        },
        Err(e) => Message::Done {
            interrupted: false,
            error: Some(e.to_string()),
            io: engine::IoPath::Epoll,
        },
    };
    let sent = write_message(
        &mut *writer.lock().unwrap_or_else(|e| e.into_inner()),
        &done,
    );
    let _ = listener.join();
    sent.map_err(|e| format!("the controller went away: {e}"))?;
    match outcome {
        Ok(s) => Ok(format!(
            "served a share: {} requests, {} errors",
            s.digest.requests, s.digest.errors_total
        )),
        Err(e) => Err(format!("the share could not run: {e}")),
    }
}

/// The sink that sends each interval to the controller as it ends.
struct Stream {
    out: Arc<Mutex<TcpStream>>,
    /// The workers' CPU time so far: the engine reports it per interval as a percent.
    cpu_ns: u64,
    stop: engine::StopFlag,
}

impl Sink for Stream {
    fn on_interval(&mut self, interval: &Interval, stats: &Stats) {
        let wall = (interval.t_s - interval.start_s).max(0.0);
        self.cpu_ns += (interval.generator_cpu_percent / 100.0 * wall * 1e9) as u64;
        let message = Message::Interval {
            index: interval.index,
            end_ns: (interval.t_s * 1e9) as u64,
            users_active: interval.users_active,
            connections_open: interval.connections_open,
            cpu_ns: self.cpu_ns,
            stats: Box::new(stats.to_wire()),
        };
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // A controller that closed stops the run through the listener thread; one that
        // stopped reading is found here, by the write timeout.
        let sent = write_message(&mut *out, &message)
            .and_then(|()| out.flush().map_err(crate::protocol::ProtocolError::Io));
        if sent.is_err() {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}
