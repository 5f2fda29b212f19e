//! Fuzz target: the engine's response parser (`ResponseParser::start/feed/eof`), fed
//! as a connection feeds it: in reads of fuzzer-chosen sizes, answer after answer on one
//! keep-alive connection, then the close.
//!
//! Input layout (all of it is bytes the fuzzer mutates):
//! - byte 0: bit i set = the i-th request (mod 8) was a HEAD, so its answer has no body;
//! - byte 1: the number of reads before the last one, `k = byte & 15`;
//! - the next `k` bytes: the size of each of those reads (0..=255);
//! - the rest: what the server sends; whatever the `k` reads leave is the last read.
//!
//! Besides "no panic, no endless loop", the target checks what must hold for any input:
//! the parser never says it consumed more than it was given, an answer always consumes
//! at least its head, and the outcome (every answer's status and close flag, the bytes
//! it took, then the final error or close) is the same whatever the reads were: feeding
//! the same bytes in one read must give exactly the same story.

use engine::{Complete, ErrorKind, ResponseParser};

/// What happened on the connection, answer by answer.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    /// An answer ended after this many bytes of the stream.
    Answer(Complete, usize),
    /// The parser refused the bytes, or the close came at a bad place.
    Error(ErrorKind),
}

/// Drives one connection: `reads` are delivered in order, then the server closes.
fn converse(reads: &[&[u8]], head_mask: u8) -> Vec<Event> {
    let mut parser = ResponseParser::default();
    let mut events = Vec::new();
    let mut answers = 0usize;
    parser.start(head_mask & 1 == 1);
    // The connection's buffer: bytes received but not yet consumed.
    let mut buf: Vec<u8> = Vec::new();
    let mut stream_at = 0usize; // bytes of the stream consumed so far
    let mut next_read = 0;
    loop {
        let result = parser.feed(&buf);
        match result {
            Err(kind) => {
                events.push(Event::Error(kind));
                return events;
            }
            Ok((used, done)) => {
                assert!(used <= buf.len(), "consumed {used} of {} bytes", buf.len());
                buf.drain(..used);
                stream_at += used;
                if let Some(complete) = done {
                    let answer_start = events
                        .iter()
                        .rev()
                        .find_map(|e| match e {
                            Event::Answer(_, at) => Some(*at),
                            Event::Error(_) => None,
                        })
                        .unwrap_or(0);
                    assert!(stream_at > answer_start, "an answer consumed no bytes");
                    events.push(Event::Answer(complete, stream_at));
                    if complete.close {
                        return events;
                    }
                    answers += 1;
                    parser.start(head_mask >> (answers % 8) & 1 == 1);
                    continue;
                }
            }
        }
        match reads.get(next_read) {
            Some(read) => {
                buf.extend_from_slice(read);
                next_read += 1;
            }
            None => {
                events.push(match parser.eof() {
                    Ok(complete) => Event::Answer(complete, stream_at + buf.len()),
                    Err(kind) => Event::Error(kind),
                });
                return events;
            }
        }
    }
}

fn check(data: &[u8]) {
    let [head_mask, count, rest @ ..] = data else {
        return;
    };
    let k = usize::from(count & 15).min(rest.len());
    let (sizes, mut stream) = rest.split_at(k);
    let whole = stream;
    let mut reads: Vec<&[u8]> = Vec::with_capacity(k + 1);
    for &size in sizes {
        let (read, tail) = stream.split_at(usize::from(size).min(stream.len()));
        reads.push(read);
        stream = tail;
    }
    reads.push(stream);

    let split = converse(&reads, *head_mask);
    let at_once = converse(&[whole], *head_mask);
    assert_eq!(split, at_once, "reads {sizes:?} change the outcome");
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
