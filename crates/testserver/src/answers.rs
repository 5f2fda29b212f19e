//! One misbehaviour per path. Each answer writes its bytes and says whether the
//! connection stays open for the next request. Every loop here is bounded in bytes or
//! time, and stops at the first failed write (the client has gone).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// What the server does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `200 Pong!` with a Content-Length: the well-behaved answer.
    Pong,
    /// A Content-Length of 100, then one body byte every 100 ms (10 s in all).
    Drip,
    /// A status line, then header lines without end (at most 16 MiB).
    EndlessHeaders,
    /// A valid head of about 60 KiB (15 headers of 4000 bytes), then `Pong!`.
    Head60KiB,
    /// A head of about 80 KiB (20 headers of 4000 bytes): over the 64 KiB limit.
    HeadOver64KiB,
    /// A 200 MiB body with its Content-Length.
    Body200MiB,
    /// Content-Length 5 and 14 body bytes: the extra 9 follow the answer.
    LengthTooShort,
    /// Content-Length 10, five body bytes, then close.
    LengthTooLong,
    /// `Content-Length: -5`.
    LengthNegative,
    /// `Content-Length: 5` and `Content-Length: 6`.
    LengthDuplicated,
    /// `Content-Length: 18446744073709551616` (u64::MAX + 1).
    LengthOverflow,
    /// A chunked body whose first chunk size is `zz`.
    ChunkSizeBad,
    /// A chunked body whose first chunk size has 17 hex digits (over u64).
    ChunkSizeHuge,
    /// A chunked body without its last (zero) chunk, then close.
    ChunkedUnterminated,
    /// Half a head, then close.
    CloseMidHead,
    /// Close with a RST (SO_LINGER 0) instead of an answer.
    Reset,
    /// 4 KiB of pseudo-random bytes (a fixed seed), then close.
    RandomBytes,
    /// An HTTP/0.9 answer: the body alone, no status line, then close.
    Http09,
    /// A NUL byte inside a header value.
    NulInHeader,
    /// A status line of 1 MiB.
    StatusLine1MiB,
    /// 2000 `100 Continue` interim answers, then `200 Pong!`.
    Interim100s,
    /// No answer at all; the connection stays open until the client closes it (60 s
    /// at most).
    Silence,
    /// `599` with a Content-Length: a code no RFC defines.
    Status599,
    /// `299` with a Content-Length: a success code no RFC defines.
    Status299,
    /// HTTP/1.0, no Content-Length: the body ends when the server closes.
    Http10UntilClose,
    /// HTTP/1.1, neither Content-Length nor chunked: the body ends at the close.
    Http11UntilClose,
    /// `404` for a path the server does not know.
    NotFound,
}

/// Every path the server serves, its answer, and a line about it.
pub const PATHS: &[(&str, Answer, &str)] = &[
    ("/pong", Answer::Pong, "200 Pong! with a Content-Length"),
    (
        "/drip",
        Answer::Drip,
        "Content-Length 100, one byte every 100 ms",
    ),
    (
        "/endless-headers",
        Answer::EndlessHeaders,
        "header lines without end",
    ),
    ("/head-60k", Answer::Head60KiB, "a valid 60 KiB head"),
    ("/head-over-64k", Answer::HeadOver64KiB, "an 80 KiB head"),
    ("/body-200m", Answer::Body200MiB, "a 200 MiB body"),
    (
        "/length-too-short",
        Answer::LengthTooShort,
        "9 bytes past the Content-Length",
    ),
    (
        "/length-too-long",
        Answer::LengthTooLong,
        "Content-Length 10, 5 bytes, close",
    ),
    (
        "/length-negative",
        Answer::LengthNegative,
        "Content-Length: -5",
    ),
    (
        "/length-duplicated",
        Answer::LengthDuplicated,
        "Content-Length 5 and 6",
    ),
    (
        "/length-overflow",
        Answer::LengthOverflow,
        "Content-Length u64::MAX + 1",
    ),
    ("/chunk-size-bad", Answer::ChunkSizeBad, "chunk size `zz`"),
    (
        "/chunk-size-huge",
        Answer::ChunkSizeHuge,
        "chunk size of 17 hex digits",
    ),
    (
        "/chunked-unterminated",
        Answer::ChunkedUnterminated,
        "no last chunk, close",
    ),
    (
        "/close-mid-head",
        Answer::CloseMidHead,
        "half a head, close",
    ),
    ("/reset", Answer::Reset, "RST instead of an answer"),
    (
        "/random-bytes",
        Answer::RandomBytes,
        "4 KiB of random bytes, close",
    ),
    (
        "/http09",
        Answer::Http09,
        "a body without a status line, close",
    ),
    (
        "/nul-in-header",
        Answer::NulInHeader,
        "a NUL byte in a header value",
    ),
    (
        "/status-line-1m",
        Answer::StatusLine1MiB,
        "a 1 MiB status line",
    ),
    (
        "/interim-100s",
        Answer::Interim100s,
        "2000 `100 Continue`, then 200",
    ),
    (
        "/silence",
        Answer::Silence,
        "no answer; open until the client closes",
    ),
    ("/status-599", Answer::Status599, "status 599"),
    ("/status-299", Answer::Status299, "status 299"),
    (
        "/http10-until-close",
        Answer::Http10UntilClose,
        "HTTP/1.0 body ending at the close",
    ),
    (
        "/http11-until-close",
        Answer::Http11UntilClose,
        "HTTP/1.1 body ending at the close",
    ),
];

/// After an answer: serve the next request on the connection, or close it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    KeepAlive,
    Close,
    /// Close with a RST: the socket is dropped with SO_LINGER 0.
    Reset,
}

const PONG: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nPong!";

impl Answer {
    /// The answer for a request path; unknown paths get a 404.
    pub fn for_path(path: &str) -> Answer {
        PATHS
            .iter()
            .find(|(p, _, _)| *p == path)
            .map_or(Answer::NotFound, |(_, a, _)| *a)
    }

    /// Writes the answer. An error means the client has gone.
    pub fn write(self, stream: &mut TcpStream) -> io::Result<Then> {
        let w = |stream: &mut TcpStream, bytes: &[u8], then: Then| {
            stream.write_all(bytes).map(|()| then)
        };
        match self {
            Answer::Pong => w(stream, PONG, Then::KeepAlive),
            Answer::Drip => {
                stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")?;
                for _ in 0..100 {
                    sleep(Duration::from_millis(100));
                    stream.write_all(b"x")?;
                }
                Ok(Then::KeepAlive)
            }
            Answer::EndlessHeaders => {
                stream.write_all(b"HTTP/1.1 200 OK\r\n")?;
                let lines = b"X-Endless: more\r\n".repeat(64);
                // 16 384 writes of 1 KiB: 16 MiB at most.
                for _ in 0..16 * 1024 {
                    stream.write_all(&lines)?;
                }
                Ok(Then::Close)
            }
            Answer::Head60KiB => w(stream, &big_head(15), Then::KeepAlive),
            Answer::HeadOver64KiB => w(stream, &big_head(20), Then::KeepAlive),
            Answer::Body200MiB => {
                const SIZE: usize = 200 * 1024 * 1024;
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n");
                stream.write_all(head.as_bytes())?;
                let block = vec![b'x'; 64 * 1024];
                for _ in 0..SIZE / block.len() {
                    stream.write_all(&block)?;
                }
                Ok(Then::KeepAlive)
            }
            Answer::LengthTooShort => w(
                stream,
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nPong! and more",
                Then::KeepAlive,
            ),
            Answer::LengthTooLong => w(
                stream,
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nPong!",
                Then::Close,
            ),
            Answer::LengthNegative => w(
                stream,
                b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nPong!",
                Then::KeepAlive,
            ),
            Answer::LengthDuplicated => w(
                stream,
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nPong!",
                Then::KeepAlive,
            ),
            Answer::LengthOverflow => w(
                stream,
                b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\nPong!",
                Then::KeepAlive,
            ),
            Answer::ChunkSizeBad => w(
                stream,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nPong!\r\n0\r\n\r\n",
                Then::KeepAlive,
            ),
            Answer::ChunkSizeHuge => w(
                stream,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nPong!",
                Then::KeepAlive,
            ),
            Answer::ChunkedUnterminated => w(
                stream,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nPong!\r\n",
                Then::Close,
            ),
            Answer::CloseMidHead => w(stream, b"HTTP/1.1 200 OK\r\nContent-Le", Then::Close),
            Answer::Reset => Ok(Then::Reset),
            Answer::RandomBytes => w(stream, &random_bytes(4096, 0x5eed), Then::Close),
            Answer::Http09 => w(stream, b"<html><body>Pong!</body></html>\n", Then::Close),
            Answer::NulInHeader => w(
                stream,
                b"HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\nContent-Length: 5\r\n\r\nPong!",
                Then::KeepAlive,
            ),
            Answer::StatusLine1MiB => {
                let mut bytes = b"HTTP/1.1 200 ".to_vec();
                bytes.resize(bytes.len() + 1024 * 1024, b'A');
                bytes.extend_from_slice(b"\r\nContent-Length: 5\r\n\r\nPong!");
                w(stream, &bytes, Then::KeepAlive)
            }
            Answer::Interim100s => {
                let mut bytes = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(2000);
                bytes.extend_from_slice(PONG);
                w(stream, &bytes, Then::KeepAlive)
            }
            Answer::Silence => {
                wait_for_close(stream, Duration::from_secs(60));
                Ok(Then::Close)
            }
            Answer::Status599 => w(
                stream,
                b"HTTP/1.1 599 Whatever\r\nContent-Length: 5\r\n\r\nPong!",
                Then::KeepAlive,
            ),
            Answer::Status299 => w(
                stream,
                b"HTTP/1.1 299 Fine\r\nContent-Length: 5\r\n\r\nPong!",
                Then::KeepAlive,
            ),
            Answer::Http10UntilClose => w(
                stream,
                b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nPong, until the close",
                Then::Close,
            ),
            Answer::Http11UntilClose => w(
                stream,
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nPong, until the close",
                Then::Close,
            ),
            Answer::NotFound => w(
                stream,
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nNot found\n",
                Then::KeepAlive,
            ),
        }
    }
}

/// A head of `count` headers of 4000 bytes each, then `Pong!`.
fn big_head(count: usize) -> Vec<u8> {
    let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..count {
        bytes.extend_from_slice(format!("X-Big-{i:02}: ").as_bytes());
        bytes.resize(bytes.len() + 4000, b'a');
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"Content-Length: 5\r\n\r\nPong!");
    bytes
}

/// `n` bytes from xorshift64: the same bytes in every run.
fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Reads and drops whatever comes until the client closes, or `limit` passes.
fn wait_for_close(stream: &mut TcpStream, limit: Duration) {
    let until = Instant::now() + limit;
    let mut sink = [0u8; 1024];
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .is_err()
        {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_on_either_side_of_64_kib() {
        let head = |bytes: Vec<u8>| bytes.len() - b"Pong!".len();
        assert!((56 * 1024..64 * 1024).contains(&head(big_head(15))));
        assert!(head(big_head(20)) > 64 * 1024);
    }

    #[test]
    fn every_path_is_listed_once() {
        for (i, (path, answer, _)) in PATHS.iter().enumerate() {
            assert_eq!(Answer::for_path(path), *answer);
            assert!(PATHS[..i].iter().all(|(p, _, _)| p != path), "{path}");
        }
        assert_eq!(Answer::for_path("/nowhere"), Answer::NotFound);
    }

    #[test]
    fn random_bytes_are_not_an_http_answer() {
        let bytes = random_bytes(4096, 0x5eed);
        assert_eq!(bytes, random_bytes(4096, 0x5eed));
        assert!(!bytes.starts_with(b"HTTP/"));
    }
}
