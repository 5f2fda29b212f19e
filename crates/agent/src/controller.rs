//! The controller: connects to every agent, proves the token both ways, measures each
//! agent's clock, splits the run into segments that add up exactly to the one-machine
//! plan, starts them at one common instant, and merges the agents' intervals with the
//! engine's own collector, so the merged percentiles are a true merge of histograms.
//!
//! Strict before the load, forgiving during it: an agent that cannot be reached, does
//! not know the token, speaks another version, is busy, or refuses the target stops
//! the run before anything is sent. An agent that dies or stalls during the load is
//! marked lost within two intervals; what it had finished is kept, and the run goes on
//! with the others.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::{Live, Segment, Sink, Stats, StopFlag, Summary, WorkerReport};
use results::{AgentShare, AgentStatus};
use scenario::{Load, Scenario};

use crate::auth::{nonce, Token};
use crate::clock::{monotonic_ns, Offset};
use crate::protocol::{read_message, write_message, Message, ProtocolError, PROTOCOL_VERSION};

/// How long to wait for an agent to connect and to answer each handshake step.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Clock exchanges per agent; the tightest one counts.
const CLOCK_EXCHANGES: usize = 8;

/// Where the load comes from.
#[derive(Debug, Clone)]
pub struct Agents {
    /// `host:port` of each agent.
    pub addresses: Vec<String>,
    pub token: Token,
}

/// A spread run, merged.
#[derive(Debug)]
pub struct SpreadRun {
    pub summary: Summary,
    pub agents: Vec<AgentShare>,
    /// The largest clock uncertainty (half a round trip) over the agents, µs: the
    /// intervals of different agents line up to within this.
    pub worst_clock_uncertainty_us: u64,
    /// Why each lost agent was lost, by address.
    pub lost_because: Vec<(String, String)>,
}

impl SpreadRun {
    pub fn lost(&self) -> impl Iterator<Item = &AgentShare> {
        self.agents.iter().filter(|a| a.status != AgentStatus::Ok)
    }
}

/// The run could not start. Each names the agent.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("agent {address}: cannot connect: {reason}")]
    Connect { address: String, reason: String },
    #[error("agent {address} refused: {reason}")]
    Refused { address: String, reason: String },
    #[error("agent {address} does not know the token (its proof is wrong)")]
    WrongToken { address: String },
    #[error("agent {address}: {reason}")]
    Protocol { address: String, reason: String },
    #[error("no agents given")]
    NoAgents,
}

/// One agent, ready to run.
struct Ready {
    address: String,
    stream: TcpStream,
    threads: usize,
    offset: Offset,
}

/// Runs `scenario` on the agents and merges it; `interval` as the engine's. `live`
/// gets each agent's counts (one slot per agent); `stop` (Ctrl-C) stops every agent.
pub fn run(
    scenario: &Scenario,
    agents: &Agents,
    interval: Duration,
    sinks: &mut [&mut dyn Sink],
    stop: &StopFlag,
    live: Option<Arc<Live>>,
) -> Result<SpreadRun, ControllerError> {
    if agents.addresses.is_empty() {
        return Err(ControllerError::NoAgents);
    }
    let mut ready = Vec::with_capacity(agents.addresses.len());
    for address in &agents.addresses {
        ready.push(handshake(address, &agents.token)?);
    }
    for agent in &mut ready {
        let address = agent.address.clone();
        ask(
            &mut agent.stream,
            &address,
            &Message::Check {
                scenario: Box::new(scenario.clone()),
            },
        )
        .and_then(|m| match m {
            Message::Accepted => Ok(()),
            Message::Refused { reason } => Err(ControllerError::Refused {
                address: address.clone(),
                reason,
            }),
            other => Err(unexpected(&address, &other)),
        })?;
    }
    let threads: Vec<usize> = ready.iter().map(|a| a.threads).collect();
    let total_slots = scenario_slots(&scenario.load, &threads);
    let plan = segments(&scenario.load, &threads);
    let worst_rtt = ready
        .iter()
        .map(|a| a.offset.uncertainty_ns * 2)
        .max()
        .unwrap_or(0);
    // Time for every Start to arrive before the instant it names.
    let start = monotonic_ns() + 300_000_000 + 4 * worst_rtt;
    let read_timeout = interval * 2 + Duration::from_secs(2);
    let (tx, rx) = mpsc::channel::<WorkerReport>();
    let shares: Arc<Mutex<Vec<AgentShare>>> = Arc::new(Mutex::new(
        ready
            .iter()
            .map(|a| AgentShare {
                address: a.address.clone(),
                status: AgentStatus::Ok,
                requests: 0,
                errors: 0,
                generator_cpu_percent: 0.0,
                clock_offset_us: a.offset.offset_ns / 1000,
                io: engine::IoPath::Epoll,
            })
            .collect(),
    ));
    let reasons: Arc<Reasons> = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for (i, (mut agent, segment)) in ready.into_iter().zip(plan).enumerate() {
        let Some((segment, threads)) = segment else {
            // More agents than slots: this one has nothing to run.
            let _ = write_message(&mut agent.stream, &Message::Stop);
            let _ = tx.send(empty_last(i));
            continue;
        };
        let start_message = Message::Start {
            segment,
            threads,
            interval_ns: interval.as_nanos() as u64,
            start_at_ns: agent.offset.to_agent(start),
        };
        if let Err(e) = write_message(&mut agent.stream, &start_message) {
            mark_lost(&shares, &reasons, i, &format!("{e}"));
            let _ = tx.send(empty_last(i));
            continue;
        }
        if let Ok(w) = agent.stream.try_clone() {
            writers.push(w);
        }
        let _ = agent.stream.set_read_timeout(Some(read_timeout));
        let (tx, shares, reasons, live) =
            (tx.clone(), shares.clone(), reasons.clone(), live.clone());
        readers.push(std::thread::spawn(move || {
            follow(
                agent.stream,
                i,
                read_timeout,
                &tx,
                (&shares, &reasons),
                live.as_deref(),
            )
        }));
    }
    drop(tx);
    let stopper = {
        let (stop, done) = (
            stop.clone(),
            Arc::new(std::sync::atomic::AtomicBool::new(false)),
        );
        let done2 = done.clone();
        let handle = std::thread::spawn(move || {
            while !done2.load(Ordering::SeqCst) {
                if stop.load(Ordering::SeqCst) {
                    for w in &mut writers {
                        let _ = write_message(w, &Message::Stop);
                    }
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        (handle, done)
    };
    let agent_count = shares.lock().map(|s| s.len()).unwrap_or(0);
    let mut summary = engine::merge(rx, agent_count, sinks);
    stopper.1.store(true, Ordering::SeqCst);
    let _ = stopper.0.join();
    for r in readers {
        let _ = r.join();
    }
    summary.interrupted = stop.load(Ordering::SeqCst);
    summary.generator_threads = total_slots.max(1);
    let mut agents_out = Arc::try_unwrap(shares)
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .unwrap_or_else(|arc| arc.lock().map(|v| v.clone()).unwrap_or_default());
    // io_uring only if every agent that finished ran it.
    summary.io = match agents_out
        .iter()
        .filter(|a| a.status == AgentStatus::Ok)
        .all(|a| a.io == engine::IoPath::IoUring)
    {
        true => engine::IoPath::IoUring,
        false => engine::IoPath::Epoll,
    };
    let wall = summary.digest.duration_s;
    for a in &mut agents_out {
        if wall > 0.0 {
            a.generator_cpu_percent /= wall;
        }
    }
    let lost_because = reasons.lock().map(|r| r.clone()).unwrap_or_default();
    Ok(SpreadRun {
        summary,
        agents: agents_out,
        worst_clock_uncertainty_us: worst_rtt / 2 / 1000,
        lost_because,
    })
}

/// Connects, proves the token both ways, measures the clock.
fn handshake(address: &str, token: &Token) -> Result<Ready, ControllerError> {
    let connect_error = |reason: String| ControllerError::Connect {
        address: address.to_string(),
        reason,
    };
    let addr = address
        .to_socket_addrs()
        .map_err(|e| connect_error(e.to_string()))?
        .next()
        .ok_or_else(|| connect_error("the name resolves to no address".into()))?;
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|e| connect_error(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    // The controller's frames are small (a share, a Stop): a write that cannot finish
    // in this time faces a stopped agent.
    stream
        .set_read_timeout(Some(CONNECT_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(CONNECT_TIMEOUT)))
        .map_err(|e| connect_error(e.to_string()))?;
    let ours = nonce();
    let (theirs, threads) = match ask(
        &mut stream,
        address,
        &Message::Hello {
            version: PROTOCOL_VERSION,
            nonce: ours.clone(),
        },
    )? {
        Message::Challenge {
            version,
            nonce,
            threads,
            proof,
        } => {
            if version != PROTOCOL_VERSION {
                return Err(ControllerError::Protocol {
                    address: address.to_string(),
                    reason: format!(
                        "protocol version {version}; this controller speaks {PROTOCOL_VERSION}"
                    ),
                });
            }
            if !token.verify(&proof, "agent", &ours, &nonce) {
                return Err(ControllerError::WrongToken {
                    address: address.to_string(),
                });
            }
            // An agent's word, bounded: the slots of all agents are summed.
            (
                nonce,
                threads.clamp(1, scenario::limits::MAX_THREADS as usize),
            )
        }
        Message::Refused { reason } => {
            return Err(ControllerError::Refused {
                address: address.to_string(),
                reason,
            })
        }
        other => return Err(unexpected(address, &other)),
    };
    match ask(
        &mut stream,
        address,
        &Message::Proof {
            proof: token.proof("controller", &theirs, &ours),
        },
    )? {
        Message::Ready => {}
        Message::Refused { reason } => {
            return Err(ControllerError::Refused {
                address: address.to_string(),
                reason,
            })
        }
        other => return Err(unexpected(address, &other)),
    }
    let mut exchanges = Vec::with_capacity(CLOCK_EXCHANGES);
    for _ in 0..CLOCK_EXCHANGES {
        let t0 = monotonic_ns();
        match ask(&mut stream, address, &Message::Ping { t0 })? {
            Message::Pong { t0: echoed, t1 } if echoed == t0 => {
                exchanges.push((t0, t1, monotonic_ns()))
            }
            other => return Err(unexpected(address, &other)),
        }
    }
    let offset = Offset::from_exchanges(&exchanges).expect("eight exchanges were made");
    Ok(Ready {
        address: address.to_string(),
        stream,
        threads,
        offset,
    })
}

fn ask(stream: &mut TcpStream, address: &str, m: &Message) -> Result<Message, ControllerError> {
    let protocol = |e: ProtocolError| ControllerError::Protocol {
        address: address.to_string(),
        reason: e.to_string(),
    };
    write_message(stream, m).map_err(protocol)?;
    read_message(stream, CONNECT_TIMEOUT).map_err(protocol)
}

fn unexpected(address: &str, m: &Message) -> ControllerError {
    ControllerError::Protocol {
        address: address.to_string(),
        reason: format!("unexpected answer {m:?}"),
    }
}

/// How many worker slots the run has: every agent's threads, but no more than the
/// connections of a closed or open model (a slot without a connection would idle).
fn scenario_slots(load: &Load, threads: &[usize]) -> usize {
    let offered: usize = threads.iter().sum();
    match load {
        Load::Closed { connections, .. } | Load::Open { connections, .. }
            if !threads.is_empty() =>
        {
            offered.min(*connections as usize)
        }
        Load::Closed { connections, .. } | Load::Open { connections, .. } => *connections as usize,
        Load::Sessions { .. } => offered,
    }
}

/// Each agent's segment and threads, in order; `None` for an agent left without slots.
fn segments(load: &Load, threads: &[usize]) -> Vec<Option<(Segment, usize)>> {
    let total = scenario_slots(load, threads);
    let mut first = 0;
    threads
        .iter()
        .map(|&t| {
            let mine = t.min(total - first);
            let seg = (mine > 0).then_some((Segment { first, total }, mine));
            first += mine;
            seg
        })
        .collect()
}

/// Reads one agent's intervals into the merge. Each report is held until the next
/// message, so the agent's last one can be marked last (the collector then knows the
/// agent is done); a lost agent's last finished interval is marked last the same way.
fn follow(
    mut stream: TcpStream,
    agent: usize,
    timeout: Duration,
    tx: &Sender<WorkerReport>,
    (shares, reasons): (&Mutex<Vec<AgentShare>>, &Reasons),
    live: Option<&Live>,
) {
    let mut held: Option<WorkerReport> = None;
    let (mut requests, mut errors) = (0u64, 0u64);
    let mut next_index = 0u32;
    let ending = loop {
        match read_message(&mut stream, timeout) {
            // The collector files reports by index: only the next one is taken.
            Ok(Message::Interval { index, .. }) if index != next_index => {
                break Err(format!("sent interval {index} where {next_index} was due"));
            }
            Ok(Message::Interval {
                index,
                end_ns,
                users_active,
                connections_open,
                cpu_ns,
                stats,
            }) => {
                next_index = index.saturating_add(1);
                let stats = match Stats::from_wire(&stats) {
                    Ok(s) => s,
                    Err(e) => break Err(format!("sent unreadable stats: {e}")),
                };
                requests += stats.requests();
                errors += stats.errors_total();
                if let Some(live) = live {
                    live.publish(agent, requests, errors, false);
                }
                if let Ok(mut s) = shares.lock() {
                    s[agent].requests = requests;
                    s[agent].errors = errors;
                    // Seconds of CPU until divided by the run's wall time at the end.
                    s[agent].generator_cpu_percent = cpu_ns as f64 / 1e9 * 100.0;
                }
                if let Some(previous) = held.replace(WorkerReport {
                    worker: agent,
                    index,
                    end: Duration::from_nanos(end_ns),
                    stats,
                    users_active,
                    connections_open,
                    cpu: Duration::from_nanos(cpu_ns),
                    last: false,
                }) {
                    let _ = tx.send(previous);
                }
            }
            Ok(Message::Done {
                error: None, io, ..
            }) => {
                if let Ok(mut s) = shares.lock() {
                    s[agent].io = io;
                }
                break Ok(());
            }
            Ok(Message::Done { error: Some(e), .. }) => break Err(format!("its load failed: {e}")),
            Ok(other) => break Err(format!("sent {other:?} during the run")),
            Err(ProtocolError::Timeout(t)) => break Err(format!("sent nothing for {t:?}")),
            Err(e) => break Err(e.to_string()),
        }
    };
    if let Err(why) = ending {
        mark_lost(shares, reasons, agent, &why);
    }
    if let Some(live) = live {
        live.publish(agent, requests, errors, true);
    }
    let last = match held {
        Some(mut report) => {
            report.last = true;
            report
        }
        None => empty_last(agent),
    };
    let _ = tx.send(last);
}

/// Why agents were lost, by address, in the order it happened.
type Reasons = Mutex<Vec<(String, String)>>;

fn mark_lost(shares: &Mutex<Vec<AgentShare>>, reasons: &Reasons, agent: usize, why: &str) {
    if let Ok(mut s) = shares.lock() {
        s[agent].status = AgentStatus::Lost;
        if let Ok(mut r) = reasons.lock() {
            r.push((s[agent].address.clone(), why.to_string()));
        }
    }
}

/// "This agent is done" for one that sent no interval.
fn empty_last(agent: usize) -> WorkerReport {
    WorkerReport {
        worker: agent,
        index: 0,
        end: Duration::ZERO,
        stats: Stats::default(),
        users_active: 0,
        connections_open: 0,
        cpu: Duration::ZERO,
        last: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenario::Request;

    fn closed(connections: u32) -> Load {
        Load::Closed {
            connections,
            requests: Some(10),
            script: vec![Request::get("/")],
        }
    }

    #[test]
    fn segments_cover_every_slot_once_and_stop_at_the_connections() {
        let plan = segments(&closed(100), &[2, 3, 1]);
        assert_eq!(
            plan,
            [
                Some((Segment { first: 0, total: 6 }, 2)),
                Some((Segment { first: 2, total: 6 }, 3)),
                Some((Segment { first: 5, total: 6 }, 1)),
            ]
        );
        // Four connections: four slots; the last agent has none.
        let plan = segments(&closed(4), &[2, 3, 1]);
        assert_eq!(
            plan,
            [
                Some((Segment { first: 0, total: 4 }, 2)),
                Some((Segment { first: 2, total: 4 }, 2)),
                None,
            ]
        );
    }
}
