//! Properties of the response parser, checked on random valid responses.
//!
//! - `any_split_parses_like_one_read`: a stream of pipelined answers (random status,
//!   headers, a Content-Length, chunked or close-delimited body, interim 1xx answers,
//!   HEAD requests) parses to the statuses, close flags and byte counts it was built
//!   with, and cutting it into reads anywhere changes nothing.
//! - `chunked_round_trips`: a random body encoded in random chunk sizes, with chunk
//!   extensions and trailers, is consumed exactly and completes; what follows it stays
//!   unconsumed.
//! - `any_bytes_parse_alike_whatever_the_reads`: the same, made invalid by a few
//!   random bytes written over it: whatever the outcome (answers, then an error or the
//!   close), cutting the bytes into reads does not change it.
//!
//! The coverage-guided fuzz target for the same parser is fuzz/fuzz_targets/response.rs;
//! these run in `cargo test`, so they are kept to proptest's default case count and
//! small inputs.

use engine::{Complete, ErrorKind, ResponseParser};
use proptest::prelude::*;

/// What a connection sees, answer by answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// An answer ended after this many bytes of the stream.
    Answer(Complete, usize),
    Error(ErrorKind),
}

/// Feeds `reads` in order as a connection would (unconsumed bytes stay in its buffer,
/// each complete answer starts the next request), then the close. `head[i]` says
/// whether request `i` was a HEAD.
fn converse(reads: &[&[u8]], head: &[bool]) -> Vec<Event> {
    let mut parser = ResponseParser::default();
    let mut events = Vec::new();
    parser.start(head.first().copied().unwrap_or(false));
    let mut buf: Vec<u8> = Vec::new();
    let mut consumed = 0;
    let mut reads = reads.iter();
    loop {
        match parser.feed(&buf) {
            Err(kind) => {
                events.push(Event::Error(kind));
                return events;
            }
            Ok((used, done)) => {
                assert!(used <= buf.len());
                buf.drain(..used);
                consumed += used;
                if let Some(complete) = done {
                    events.push(Event::Answer(complete, consumed));
                    if complete.close {
                        return events;
                    }
                    parser.start(head.get(events.len()).copied().unwrap_or(false));
                    continue;
                }
            }
        }
        match reads.next() {
            Some(read) => buf.extend_from_slice(read),
            None => {
                events.push(match parser.eof() {
                    Ok(complete) => Event::Answer(complete, consumed + buf.len()),
                    Err(kind) => Event::Error(kind),
                });
                return events;
            }
        }
    }
}

/// Cuts `bytes` at the given points (taken modulo its length), in order.
fn split_at_points<'a>(bytes: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut reads = Vec::new();
    let mut from = 0;
    for cut in cuts {
        reads.push(&bytes[from..cut]);
        from = cut;
    }
    reads.push(&bytes[from..]);
    reads
}

/// How an answer's body is delimited.
#[derive(Debug, Clone)]
enum Framing {
    ContentLength,
    /// Chunk sizes (the body is cut into pieces of these sizes, the last piece takes
    /// the rest), each chunk's extension, and the trailer fields.
    Chunked {
        sizes: Vec<usize>,
        extensions: Vec<String>,
        trailers: Vec<(String, String)>,
    },
    /// No length: the body ends at the close (HTTP/1.0 only here, and last).
    UntilClose,
}

#[derive(Debug, Clone)]
struct Answer {
    http10: bool,
    status: u16,
    /// 100 Continue / 103 Early Hints answers sent before this one.
    interim: Vec<u16>,
    headers: Vec<(String, String)>,
    /// `Some(true)`: `Connection: close`; `Some(false)`: `Connection: keep-alive`.
    connection: Option<bool>,
    framing: Framing,
    body: Vec<u8>,
    /// The request was a HEAD: the head announces a length, no body follows.
    head_request: bool,
}

impl Answer {
    fn no_body(&self) -> bool {
        self.head_request || self.status == 204 || self.status == 304
    }

    /// Whether the client must close after it.
    fn closes(&self) -> bool {
        let keep_alive = match self.connection {
            Some(close) => !close,
            None => !self.http10,
        };
        !keep_alive || (!self.no_body() && matches!(self.framing, Framing::UntilClose))
    }

    /// Makes it fit before another answer on the same connection.
    fn keep_open(&mut self) {
        self.connection = Some(false);
        if matches!(self.framing, Framing::UntilClose) {
            self.framing = Framing::ContentLength;
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let version = if self.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        for code in &self.interim {
            out.extend_from_slice(format!("{version} {code} Interim\r\n\r\n").as_bytes());
        }
        out.extend_from_slice(format!("{version} {} Whatever\r\n", self.status).as_bytes());
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        match self.connection {
            Some(true) => out.extend_from_slice(b"Connection: close\r\n"),
            Some(false) => out.extend_from_slice(b"Connection: keep-alive\r\n"),
            None => {}
        }
        if self.status == 204 || self.status == 304 {
            out.extend_from_slice(b"\r\n");
            return;
        }
        match &self.framing {
            Framing::ContentLength => {
                out.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes(),
                );
                if !self.head_request {
                    out.extend_from_slice(&self.body);
                }
            }
            Framing::Chunked {
                sizes,
                extensions,
                trailers,
            } => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                if !self.head_request {
                    encode_chunked(&self.body, sizes, extensions, trailers, out);
                }
            }
            Framing::UntilClose => {
                out.extend_from_slice(b"\r\n");
                if !self.head_request {
                    out.extend_from_slice(&self.body);
                }
            }
        }
    }
}

/// Writes `body` as chunks of `sizes` (zero sizes skipped, the rest in a last chunk),
/// chunk `i` carrying `extensions[i % len]`, then the last chunk and `trailers`.
fn encode_chunked(
    body: &[u8],
    sizes: &[usize],
    extensions: &[String],
    trailers: &[(String, String)],
    out: &mut Vec<u8>,
) {
    let ext = |i: usize| -> &str {
        if extensions.is_empty() {
            ""
        } else {
            &extensions[i % extensions.len()]
        }
    };
    let mut rest = body;
    let mut i = 0;
    let mut sizes = sizes.iter().copied().filter(|s| *s > 0);
    while !rest.is_empty() {
        let size = sizes.next().unwrap_or(rest.len()).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        // Upper or lower case hex, both are valid.
        let size_text = if i % 2 == 0 {
            format!("{size:x}")
        } else {
            format!("{size:X}")
        };
        out.extend_from_slice(format!("{size_text}{}\r\n", ext(i)).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        rest = tail;
        i += 1;
    }
    out.extend_from_slice(format!("0{}\r\n", ext(i)).as_bytes());
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// A header name that is none of the framing headers.
fn header_name() -> impl Strategy<Value = String> {
    "X-[A-Za-z0-9-]{1,12}"
}

/// A header value: visible ASCII with inner spaces.
fn header_value() -> impl Strategy<Value = String> {
    "[!-~]([ !-~]{0,30}[!-~])?"
}

fn headers(max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((header_name(), header_value()), 0..max)
}

/// `;name`, `;name=token` or `;name="quoted string"`, or nothing.
fn extension() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,8}".prop_map(|n| format!(";{n}")),
        ("[a-z]{1,8}", "[A-Za-z0-9]{1,8}").prop_map(|(n, v)| format!(";{n}={v}")),
        ("[a-z]{1,8}", "[ A-Za-z0-9;=]{0,12}").prop_map(|(n, v)| format!(";{n}=\"{v}\"")),
    ]
}

fn chunked() -> impl Strategy<Value = Framing> {
    (
        prop::collection::vec(0usize..300, 0..8),
        prop::collection::vec(extension(), 0..4),
        headers(3),
    )
        .prop_map(|(sizes, extensions, trailers)| Framing::Chunked {
            sizes,
            extensions,
            trailers,
        })
}

fn answer() -> impl Strategy<Value = Answer> {
    (
        any::<bool>(),
        prop_oneof![200u16..600, Just(204), Just(304)],
        prop::collection::vec(prop_oneof![Just(100u16), Just(103)], 0..3),
        headers(6),
        prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
        prop_oneof![
            Just(Framing::ContentLength),
            chunked(),
            Just(Framing::UntilClose)
        ],
        prop::collection::vec(any::<u8>(), 0..600),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(http10, status, interim, headers, connection, framing, body, head_request)| {
                let mut a = Answer {
                    http10,
                    status,
                    interim,
                    headers,
                    connection,
                    framing,
                    body,
                    head_request,
                };
                // Chunked is HTTP/1.1 only; a close-delimited body is tested as HTTP/1.0
                // answers send it.
                match a.framing {
                    Framing::Chunked { .. } => a.http10 = false,
                    Framing::UntilClose => a.http10 = true,
                    Framing::ContentLength => {}
                }
                a
            },
        )
}

/// One to four answers on one connection: only the last may close it.
fn conversation() -> impl Strategy<Value = Vec<Answer>> {
    prop::collection::vec(answer(), 1..5).prop_map(|mut answers| {
        let last = answers.len() - 1;
        for a in &mut answers[..last] {
            a.keep_open();
        }
        answers
    })
}

proptest! {
    #[test]
    fn any_split_parses_like_one_read(
        answers in conversation(),
        points in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for a in &answers {
            a.encode(&mut stream);
            let complete = Complete { status: a.status, close: a.closes() };
            expected.push(Event::Answer(complete, stream.len()));
        }
        let head: Vec<bool> = answers.iter().map(|a| a.head_request).collect();
        if !answers.last().unwrap().closes() {
            // The server then closes an idle connection: nothing more to read.
            expected.push(Event::Error(ErrorKind::ClosedBeforeResponse));
        }

        let whole = converse(&[&stream], &head);
        prop_assert_eq!(&whole, &expected);
        let split = converse(&split_at_points(&stream, &points), &head);
        prop_assert_eq!(&split, &expected);
        // Byte by byte, the harshest split.
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(&converse(&bytes, &head), &expected);
    }

    #[test]
    fn chunked_round_trips(
        body in prop::collection::vec(any::<u8>(), 0..2000),
        sizes in prop::collection::vec(1usize..400, 0..10),
        extensions in prop::collection::vec(extension(), 0..5),
        trailers in headers(4),
        points in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut stream = head.to_vec();
        encode_chunked(&body, &sizes, &extensions, &trailers, &mut stream);
        let end = stream.len();
        // A pipelined next answer must stay unconsumed.
        stream.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");

        let mut parser = ResponseParser::default();
        parser.start(false);
        let mut buf = Vec::new();
        let mut consumed = 0;
        let mut outcome = None;
        for read in split_at_points(&stream, &points) {
            buf.extend_from_slice(read);
            let (used, done) = parser.feed(&buf).expect("valid chunked body");
            buf.drain(..used);
            consumed += used;
            if let Some(complete) = done {
                outcome = Some(complete);
                break;
            }
        }
        prop_assert_eq!(outcome, Some(Complete { status: 200, close: false }));
        prop_assert_eq!(consumed, end);
    }
}

proptest! {
    #[test]
    fn any_bytes_parse_alike_whatever_the_reads(
        answers in conversation(),
        damage in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        points in prop::collection::vec(any::<usize>(), 1..12),
    ) {
        let mut stream = Vec::new();
        for a in &answers {
            a.encode(&mut stream);
        }
        for (at, byte) in damage {
            let i = at % stream.len();
            stream[i] = byte;
        }
        let head: Vec<bool> = answers.iter().map(|a| a.head_request).collect();
        let whole = converse(&[&stream], &head);
        prop_assert_eq!(&converse(&split_at_points(&stream, &points), &head), &whole);
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(&converse(&bytes, &head), &whole);
    }
}

/// The body itself never reaches the parser's decision: a body made of answer heads and
/// chunk lines is skipped, not parsed.
#[test]
fn a_body_that_looks_like_answers_is_skipped() {
    let inner = b"HTTP/1.1 500 No\r\nConnection: close\r\n\r\n0\r\n\r\n";
    let mut stream =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", inner.len()).into_bytes();
    stream.extend_from_slice(inner);
    let first_end = stream.len();
    stream.extend_from_slice(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    let events = converse(&[&stream], &[false, false]);
    assert_eq!(
        events[..2],
        [
            Event::Answer(
                Complete {
                    status: 200,
                    close: false
                },
                first_end
            ),
            Event::Answer(
                Complete {
                    status: 201,
                    close: false
                },
                stream.len()
            ),
        ]
    );
}
