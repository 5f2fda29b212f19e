//! One request, its whole answer read back: the check of an app's answer before a
//! server is loaded ([`crate::apps::Expect`]). The engine skips bodies in place; this
//! keeps one, bounded, and is used once per case, never under load.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use engine::RequestBytes;
use scenario::{Request, Target};

/// The largest body kept: the biggest shipped app answers 1 MiB.
pub const MAX_BODY: usize = 8 << 20;

/// An answer's status and body (de-chunked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `request` to `addr` on a new connection and reads the whole answer within
/// `timeout`. Errors say what went wrong, in words.
pub fn ask(addr: SocketAddr, request: &Request, timeout: Duration) -> Result<Answer, String> {
    let deadline = Instant::now() + timeout;
    let target = Target {
        host: addr.ip().to_string(),
        port: addr.port(),
        tls: false,
    };
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(&RequestBytes::build(request, &target).bytes)
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut reader = Reader {
        stream,
        buf: Vec::new(),
        deadline,
    };
    let head_end = loop {
        if let Some(end) = find(&reader.buf, b"\r\n\r\n") {
            break end + 4;
        }
        if reader.buf.len() > engine::MAX_HEAD {
            return Err(format!(
                "the answer's head is over {} bytes",
                engine::MAX_HEAD
            ));
        }
        reader.more("the answer's head")?;
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    parsed
        .parse(&reader.buf[..head_end])
        .map_err(|e| format!("the answer's head is not HTTP: {e}"))?;
    let status = parsed.code.ok_or("the answer has no status")?;
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.ends_with("chunked"));
    let length = header("content-length")
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| format!("Content-Length {v:?} is not a number"))
        })
        .transpose()?;
    let no_body = request.method == scenario::Method::Head
        || status == 204
        || status == 304
        || (100..200).contains(&status);
    reader.buf.drain(..head_end);
    let body = if no_body {
        Vec::new()
    } else if chunked {
        reader.chunked()?
    } else if let Some(n) = length {
        if n > MAX_BODY {
            return Err(format!("a {n}-byte body is over the {MAX_BODY}-byte cap"));
        }
        while reader.buf.len() < n {
            reader.more("the body")?;
        }
        reader.buf.truncate(n);
        std::mem::take(&mut reader.buf)
    } else {
        // Neither: the body ends when the server closes.
        while reader.more_or_eof("the body")? {}
        std::mem::take(&mut reader.buf)
    };
    Ok(Answer { status, body })
}

struct Reader {
    stream: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
}

impl Reader {
    /// Reads more; the end of the stream is an error here.
    fn more(&mut self, what: &str) -> Result<(), String> {
        match self.more_or_eof(what)? {
            true => Ok(()),
            false => Err(format!("the server closed the connection during {what}")),
        }
    }

    /// Reads more; `false` at the end of the stream.
    fn more_or_eof(&mut self, what: &str) -> Result<bool, String> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("timed out reading {what}"));
        }
        if self.buf.len() > MAX_BODY + engine::MAX_HEAD {
            return Err(format!("the answer is over the {MAX_BODY}-byte cap"));
        }
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let mut chunk = [0u8; 16 << 10];
        match self.stream.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(format!("timed out reading {what}"))
            }
            Err(e) => Err(format!("reading {what}: {e}")),
        }
    }

    /// A chunked body, de-chunked (RFC 9112 §7.1); trailers are read and dropped.
    fn chunked(&mut self) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(end) = find(&self.buf, b"\r\n") {
                    break end;
                }
                self.more("a chunk size")?;
            };
            let line = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(hex, 16)
                .map_err(|_| format!("chunk size {line:?} is not hexadecimal"))?;
            self.buf.drain(..line_end + 2);
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    if let Some(end) = find(&self.buf, b"\r\n") {
                        let empty = end == 0;
                        self.buf.drain(..end + 2);
                        if empty {
                            return Ok(body);
                        }
                    } else {
                        self.more("the trailers")?;
                    }
                }
            }
            if body.len() + size > MAX_BODY {
                return Err(format!("the chunked body is over the {MAX_BODY}-byte cap"));
            }
            while self.buf.len() < size + 2 {
                self.more("a chunk")?;
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err("a chunk does not end with CRLF".into());
            }
            self.buf.drain(..size + 2);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server that answers `raw` to the first request it reads.
    fn serve(raw: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            // In pieces, so every read path is taken.
            for piece in raw.chunks(7) {
                let _ = s.write_all(piece);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        addr
    }

    fn get(raw: &'static [u8]) -> Result<Answer, String> {
        ask(serve(raw), &Request::get("/"), Duration::from_secs(10))
    }

    #[test]
    fn bodies_by_length_by_chunks_and_by_close() {
        let a = get(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nPong!extra").unwrap();
        assert_eq!((a.status, &a.body[..]), (200, &b"Pong!"[..]));
        let a = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nPon\r\n2;x=y\r\ng!\r\n0\r\nX-T: 1\r\n\r\n").unwrap();
        assert_eq!(a.body, b"Pong!");
        let a = get(b"HTTP/1.0 500 Oops\r\n\r\nInternal Server Error").unwrap();
        assert_eq!(
            (a.status, &a.body[..]),
            (500, &b"Internal Server Error"[..])
        );
    }

    #[test]
    fn a_short_or_garbled_answer_is_an_error_in_words() {
        let e = get(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nPong!").unwrap_err();
        assert!(e.contains("closed the connection during the body"), "{e}");
        let e = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").unwrap_err();
        assert!(e.contains("not hexadecimal"), "{e}");
        let e = get(b"SSH-2.0-OpenSSH\r\n\r\n").unwrap_err();
        assert!(e.contains("not HTTP"), "{e}");
    }
}
