//! The conversation between a controller and an agent, over one TCP connection:
//! frames of a 4-byte big-endian length and a JSON message. Every read has a timeout,
//! set by the caller on the socket, so a silent peer never hangs the other side.
//!
//! ```text
//! controller                                  agent
//!   Hello {version, nonce_c}            ──►
//!                                       ◄──   Challenge {version, nonce_a, threads,
//!                                               proof: HMAC(token, agent|nonce_c|nonce_a)}
//!   Proof {HMAC(token, controller|nonce_a|nonce_c)} ──►
//!                                       ◄──   Ready            (or Refused {reason})
//!   Ping {t0} ...                       ──►
//!                                       ◄──   Pong {t0, t1} ...  (clock offset)
//!   Check {scenario}                    ──►
//!                                       ◄──   Accepted         (or Refused: target policy)
//!   Start {segment, threads, start_at}  ──►
//!                                       ◄──   Interval {...} per interval, then Done
//!   Stop (Ctrl-C, at any time)          ──►
//! ```

use std::io::{Read, Write};

use engine::{Segment, StatsWire};
use scenario::Scenario;
use serde::{Deserialize, Serialize};

/// Raised when a message changes meaning; both sides refuse another version.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest frame either side accepts: a scenario or an interval is far smaller.
pub const MAX_FRAME: usize = 16 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Hello {
        version: u32,
        nonce: String,
    },
    Challenge {
        version: u32,
        nonce: String,
        /// The worker threads the agent runs.
        threads: usize,
        proof: String,
    },
    Proof {
        proof: String,
    },
    Ready,
    Refused {
        reason: String,
    },
    /// `t0`: the controller's monotonic clock, ns.
    Ping {
        t0: u64,
    },
    /// `t1`: the agent's monotonic clock when it answered, ns.
    Pong {
        t0: u64,
        t1: u64,
    },
    Check {
        scenario: Box<Scenario>,
    },
    Accepted,
    Start {
        segment: Segment,
        threads: usize,
        interval_ns: u64,
        /// On the agent's monotonic clock, ns.
        start_at_ns: u64,
    },
    Interval {
        index: u32,
        /// End of the interval from the load's start, ns.
        end_ns: u64,
        users_active: u64,
        connections_open: u64,
        /// CPU time of the agent's workers since the start, ns.
        cpu_ns: u64,
        stats: Box<StatsWire>,
    },
    Done {
        interrupted: bool,
        /// Why the load could not run, if it could not.
        error: Option<String>,
        /// The I/O path its workers took (absent from older agents: epoll, all they had).
        #[serde(default)]
        io: engine::IoPath,
    },
    Stop,
}

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The peer closed the connection.
    #[error("the connection closed")]
    Closed,
    /// Nothing arrived within the read timeout.
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("{0}")]
    Io(std::io::Error),
    #[error("a frame of {0} bytes, more than the {MAX_FRAME} allowed")]
    TooLarge(usize),
    #[error("not a message of this protocol: {0}")]
    Garbled(serde_json::Error),
}

pub fn write_message(out: &mut impl Write, message: &Message) -> Result<(), ProtocolError> {
    let body = serde_json::to_vec(message).expect("messages serialize");
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    out.write_all(&frame).map_err(io)?;
    out.flush().map_err(io)
}

/// Reads one message. `timeout` is the socket's read timeout, for the error's words.
pub fn read_message(
    input: &mut impl Read,
    timeout: std::time::Duration,
) -> Result<Message, ProtocolError> {
    let mut len = [0u8; 4];
    input
        .read_exact(&mut len)
        .map_err(|e| read_error(e, timeout))?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(ProtocolError::TooLarge(len));
    }
    let mut body = vec![0u8; len];
    input
        .read_exact(&mut body)
        .map_err(|e| read_error(e, timeout))?;
    serde_json::from_slice(&body).map_err(ProtocolError::Garbled)
}

fn io(e: std::io::Error) -> ProtocolError {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe
        | std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::ConnectionAborted => ProtocolError::Closed,
        _ => ProtocolError::Io(e),
    }
}

fn read_error(e: std::io::Error, timeout: std::time::Duration) -> ProtocolError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => ProtocolError::Closed,
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            ProtocolError::Timeout(timeout)
        }
        _ => io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn messages_round_trip_through_frames() {
        let messages = [
            Message::Hello {
                version: PROTOCOL_VERSION,
                nonce: "ab".into(),
            },
            Message::Ping { t0: 7 },
            Message::Stop,
        ];
        let mut wire = Vec::new();
        for m in &messages {
            write_message(&mut wire, m).unwrap();
        }
        let mut input = wire.as_slice();
        for m in &messages {
            assert_eq!(&read_message(&mut input, Duration::ZERO).unwrap(), m);
        }
        assert!(matches!(
            read_message(&mut input, Duration::ZERO),
            Err(ProtocolError::Closed)
        ));
    }

    #[test]
    fn oversized_and_garbled_frames_are_refused() {
        let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
        assert!(matches!(
            read_message(&mut huge.as_slice(), Duration::ZERO),
            Err(ProtocolError::TooLarge(_))
        ));
        let mut garbled = 5u32.to_be_bytes().to_vec();
        garbled.extend_from_slice(b"hello");
        assert!(matches!(
            read_message(&mut garbled.as_slice(), Duration::ZERO),
            Err(ProtocolError::Garbled(_))
        ));
    }
}
