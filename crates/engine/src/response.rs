//! An incremental HTTP/1.1 response parser that reads bodies without keeping them.
//!
//! The connection feeds it whatever bytes it has; the parser consumes what it can and
//! says whether the response is complete. Heads are parsed by `httparse` into a header
//! array on the stack; bodies (Content-Length, chunked, or until close) are only
//! counted and skipped, so a response of any size costs one fixed read buffer.
//!
//! Framing follows RFC 9112 §6.3: chunked wins over Content-Length; a Content-Length
//! that is not all digits (negative, `+5`), overflows u64, or is given twice with
//! different values is malformed; with neither, the body runs until the server closes
//! and the answer is complete at that close, as every HTTP client reads it.

use std::mem::MaybeUninit;

use crate::recorder::ErrorKind;

/// How many headers a response may carry; more is treated as malformed.
const MAX_HEADERS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Fixed(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkDataEnd,
    Trailers,
    UntilClose,
    Done,
}

/// A complete response: its status, and whether the server will close the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Complete {
    pub status: u16,
    pub close: bool,
}

#[derive(Debug)]
pub struct ResponseParser {
    state: State,
    status: u16,
    close: bool,
    expects_no_body: bool,
    seen_bytes: bool,
    /// Bytes of the pending head already parsed and found incomplete. `httparse`
    /// starts over at every call, so a head that arrives a few bytes per read would
    /// cost a parse of the whole head per read; it is parsed again only when the new
    /// bytes could change the answer (`head_tail`): at a line's end, a name's colon, in
    /// the status line's first 13 bytes, or on a byte the line does not allow. A head
    /// holds at most 64 header lines before it is complete or malformed, so a head
    /// dripped byte by byte costs a few parses per line, not one per byte. This never
    /// delays the first parse, the only one of a normal answer.
    head_scanned: usize,
    /// Where those bytes end: inside a reason phrase or header value, or inside a
    /// header name. New bytes are taken without a parse only if they are bytes that
    /// part allows, so the head is still valid and incomplete; anything else (a control
    /// byte, a line end, a status line still being read) is parsed at once. So a bad
    /// byte is found as soon as it arrives, and the outcome does not depend on how the
    /// reads were cut (found by fuzz/fuzz_targets/response.rs).
    head_tail: HeadTail,
    /// Keep Set-Cookie values (a session's user has a cookie jar).
    pub collect_cookies: bool,
    /// The Set-Cookie values seen since the owner last cleared them, one per line.
    /// Empty, and never allocated, until a server sets a cookie.
    pub cookies: Vec<u8>,
}

impl Default for ResponseParser {
    fn default() -> Self {
        ResponseParser {
            state: State::Done,
            status: 0,
            close: false,
            expects_no_body: false,
            seen_bytes: false,
            head_scanned: 0,
            head_tail: HeadTail::Other,
            collect_cookies: false,
            cookies: Vec::new(),
        }
    }
}

impl ResponseParser {
    /// Prepares for the answer to a new request.
    pub fn start(&mut self, expects_no_body: bool) {
        *self = ResponseParser {
            state: State::Head,
            expects_no_body,
            collect_cookies: self.collect_cookies,
            cookies: std::mem::take(&mut self.cookies),
            ..Default::default()
        };
    }

    /// Whether the parser is inside a response head (status line and headers), where
    /// the connection may grow its buffer to hold the whole head.
    pub fn reading_head(&self) -> bool {
        self.state == State::Head
    }

    /// Consumes from `buf` as far as it can. Returns the bytes consumed and, once the
    /// response is whole, its outcome. Bytes after a complete response stay unconsumed.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, Option<Complete>), ErrorKind> {
        let mut at = 0;
        if !buf.is_empty() {
            self.seen_bytes = true;
        }
        loop {
            let rest = &buf[at..];
            match self.state {
                State::Done => return Ok((at, Some(self.complete()))),
                State::Head => {
                    // Only a head already found incomplete is looked at twice; the first
                    // (for a normal answer, the only) parse goes straight to httparse.
                    let more_of_the_same = self.head_scanned > 0
                        && rest
                            .get(self.head_scanned..)
                            .is_some_and(|new| new.iter().all(|b| self.head_tail.allows(*b)));
                    if more_of_the_same {
                        // Still inside the same value or name: no new look needed.
                        self.head_scanned = rest.len();
                        return Ok((at, None));
                    }
                    // Uninitialised header slots: zeroing 64 of them per answer cost
                    // more than parsing the head (perf, closed run against nginx).
                    let mut headers =
                        [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
                    let mut response = httparse::Response::new(&mut []);
                    let parsed = httparse::ParserConfig::default()
                        .parse_response_with_uninit_headers(&mut response, rest, &mut headers);
                    match parsed {
                        Ok(httparse::Status::Partial) => {
                            self.head_scanned = rest.len();
                            self.head_tail = HeadTail::of(rest);
                            return Ok((at, None));
                        }
                        Ok(httparse::Status::Complete(n)) => {
                            at += n;
                            self.head_scanned = 0;
                            self.on_head(&response)?;
                        }
                        Err(_) => return Err(ErrorKind::Malformed),
                    }
                }
                State::Fixed(remaining) => {
                    let take = remaining.min(rest.len() as u64);
                    at += take as usize;
                    if take == remaining {
                        self.state = State::Done;
                    } else {
                        self.state = State::Fixed(remaining - take);
                        return Ok((at, None));
                    }
                }
                State::UntilClose => return Ok((buf.len(), None)),
                State::ChunkSize => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Partial) => return Ok((at, None)),
                    Ok(httparse::Status::Complete((n, 0))) => {
                        at += n;
                        self.state = State::Trailers;
                    }
                    Ok(httparse::Status::Complete((n, size))) => {
                        at += n;
                        self.state = State::ChunkData(size);
                    }
                    Err(_) => return Err(ErrorKind::Malformed),
                },
                State::ChunkData(remaining) => {
                    let take = remaining.min(rest.len() as u64);
                    at += take as usize;
                    if take == remaining {
                        self.state = State::ChunkDataEnd;
                    } else {
                        self.state = State::ChunkData(remaining - take);
                        return Ok((at, None));
                    }
                }
                State::ChunkDataEnd => {
                    if rest.len() < 2 {
                        return Ok((at, None));
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(ErrorKind::Malformed);
                    }
                    at += 2;
                    self.state = State::ChunkSize;
                }
                State::Trailers => match rest.iter().position(|b| *b == b'\n') {
                    None => return Ok((at, None)),
                    // An empty line (CRLF or a bare LF) ends the trailers and the body.
                    Some(end) => {
                        let blank = end == 0 || (end == 1 && rest[0] == b'\r');
                        at += end + 1;
                        if blank {
                            self.state = State::Done;
                        }
                    }
                },
            }
        }
    }

    /// What the connection closing means in the current state.
    pub fn eof(&mut self) -> Result<Complete, ErrorKind> {
        match self.state {
            State::Done => Ok(self.complete()),
            State::UntilClose => {
                self.state = State::Done;
                Ok(self.complete())
            }
            State::Head if !self.seen_bytes => Err(ErrorKind::ClosedBeforeResponse),
            State::Fixed(_) => Err(ErrorKind::BodyLengthMismatch),
            _ => Err(ErrorKind::ClosedMidResponse),
        }
    }

    fn complete(&self) -> Complete {
        Complete {
            status: self.status,
            close: self.close,
        }
    }

    fn on_head(&mut self, response: &httparse::Response) -> Result<(), ErrorKind> {
        let status = response.code.ok_or(ErrorKind::Malformed)?;
        if !(100..600).contains(&status) {
            return Err(ErrorKind::Malformed);
        }
        // Interim answers (100 Continue, 103 Early Hints) precede the real one.
        if (100..200).contains(&status) && status != 101 {
            self.state = State::Head;
            return Ok(());
        }
        self.status = status;
        let http10 = response.version == Some(0);
        let mut keep_alive = !http10;
        let mut length: Option<u64> = None;
        let mut chunked = false;
        for h in response.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let parsed = content_length(h.value).ok_or(ErrorKind::Malformed)?;
                if length.is_some_and(|l| l != parsed) {
                    return Err(ErrorKind::Malformed);
                }
                length = Some(parsed);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = has_token(h.value, b"chunked");
            } else if h.name.eq_ignore_ascii_case("connection") {
                if has_token(h.value, b"close") {
                    keep_alive = false;
                } else if has_token(h.value, b"keep-alive") {
                    keep_alive = true;
                }
            } else if self.collect_cookies && h.name.eq_ignore_ascii_case("set-cookie") {
                self.cookies.extend_from_slice(h.value);
                self.cookies.push(b'\n');
            }
        }
        self.close = !keep_alive;
        let no_body = self.expects_no_body || status == 204 || status == 304 || status == 101;
        self.state = if no_body {
            State::Done
        } else if chunked {
            State::ChunkSize
        } else if let Some(len) = length {
            if len == 0 {
                State::Done
            } else {
                State::Fixed(len)
            }
        } else {
            // No length and not chunked: the body runs until the server closes.
            self.close = true;
            State::UntilClose
        };
        if status == 101 {
            self.close = true;
        }
        Ok(())
    }
}

/// A Content-Length value: `1*DIGIT`, or a comma-separated list of one repeated value
/// (RFC 9112 §6.3 lets a recipient accept `5, 5` as 5). `None` for anything else: a
/// sign, an empty value, differing values, or a number over u64.
fn content_length(value: &[u8]) -> Option<u64> {
    let mut length = None;
    for part in value.split(|b| *b == b',') {
        let digits = part.trim_ascii();
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = digits.iter().try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })?;
        if length.is_some_and(|l| l != n) {
            return None;
        }
        length = Some(n);
    }
    length
}

/// Where a head that `httparse` found valid but incomplete ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadTail {
    /// In a reason phrase or a header value (not on a CR, which needs its LF).
    Text,
    /// In a header name, or at the start of a header line.
    Name,
    /// Anywhere else: the status line before its reason, or on a CR.
    Other,
}

impl HeadTail {
    fn of(head: &[u8]) -> HeadTail {
        if head.last() == Some(&b'\r') {
            return HeadTail::Other;
        }
        let line_start = head.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let line = &head[line_start..];
        // httparse skips empty lines before the status line.
        let status_line = head[..line_start]
            .iter()
            .all(|b| *b == b'\r' || *b == b'\n');
        if status_line {
            // `HTTP/1.1 200 ` (one space each side of the code), then the reason.
            if line.len() >= 13 && line[12] == b' ' {
                HeadTail::Text
            } else {
                HeadTail::Other
            }
        } else if line.contains(&b':') {
            HeadTail::Text
        } else {
            HeadTail::Name
        }
    }

    /// Whether `b` keeps a head ending here valid and incomplete, as `httparse` rules:
    /// tab, space, visible ASCII and obs-text in text; a token character in a name.
    fn allows(self, b: u8) -> bool {
        match self {
            HeadTail::Text => b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80,
            HeadTail::Name => b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b),
            HeadTail::Other => false,
        }
    }
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in pieces of `step` bytes, as reads would deliver them.
    fn parse_in_steps(
        bytes: &[u8],
        step: usize,
        head: bool,
    ) -> Result<(Complete, usize), ErrorKind> {
        let mut p = ResponseParser::default();
        p.start(head);
        let mut buf = Vec::new();
        let mut fed = 0;
        loop {
            let (n, done) = p.feed(&buf)?;
            buf.drain(..n);
            if let Some(c) = done {
                return Ok((c, buf.len() + bytes.len() - fed));
            }
            if fed == bytes.len() {
                return p.eof().map(|c| (c, 0));
            }
            let end = (fed + step).min(bytes.len());
            buf.extend_from_slice(&bytes[fed..end]);
            fed = end;
        }
    }

    #[test]
    fn content_length_body_in_any_split() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nPong!HTTP/1.1";
        for step in 1..r.len() {
            let (c, left) = parse_in_steps(r, step, false).unwrap();
            assert_eq!(
                c,
                Complete {
                    status: 200,
                    close: false
                }
            );
            assert_eq!(left, 8, "step {step}");
        }
    }

    #[test]
    fn chunked_body_with_trailers() {
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nPong!\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
        for step in 1..r.len() {
            let (c, left) = parse_in_steps(r, step, false).unwrap();
            assert_eq!((c.status, left), (200, 0), "step {step}");
        }
    }

    #[test]
    fn head_and_204_have_no_body() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(parse_in_steps(r, 100, true).unwrap().0.status, 200);
        let r = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(parse_in_steps(r, 100, false).unwrap().0.status, 204);
    }

    #[test]
    fn interim_100_is_skipped() {
        let r = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(parse_in_steps(r, 7, false).unwrap().0.status, 201);
    }

    #[test]
    fn connection_close_and_http10_close() {
        let r = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        assert!(parse_in_steps(r, 100, false).unwrap().0.close);
        let r = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert!(parse_in_steps(r, 100, false).unwrap().0.close);
        let r = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n";
        assert!(!parse_in_steps(r, 100, false).unwrap().0.close);
    }

    #[test]
    fn body_until_close() {
        let r = b"HTTP/1.1 200 OK\r\n\r\nall of it";
        let (c, _) = parse_in_steps(r, 3, false).unwrap();
        assert!(c.close);
    }

    #[test]
    fn content_length_is_digits_once_or_repeated_alike() {
        let with = |value: &str| {
            let r = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\nPong!");
            parse_in_steps(r.as_bytes(), 100, false).map(|(c, left)| (c.status, left))
        };
        assert_eq!(with("5"), Ok((200, 0)));
        assert_eq!(with(" 5 "), Ok((200, 0)));
        assert_eq!(with("5, 5"), Ok((200, 0)));
        assert_eq!(with("3"), Ok((200, 2)));
        for bad in [
            "-5",
            "+5",
            "",
            "5,",
            "5, 6",
            "0x5",
            "5 5",
            "18446744073709551616",
        ] {
            assert_eq!(with(bad), Err(ErrorKind::Malformed), "{bad:?}");
        }
        // The largest length is legal; the close that cuts it short is a mismatch.
        assert_eq!(
            with("18446744073709551615"),
            Err(ErrorKind::BodyLengthMismatch)
        );
        let twice = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nPong!";
        assert_eq!(parse_in_steps(twice, 100, false), Err(ErrorKind::Malformed));
        let same = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nPong!";
        assert_eq!(parse_in_steps(same, 100, false).unwrap().0.status, 200);
    }

    #[test]
    fn http10_body_without_length_ends_at_the_close() {
        let r = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nPong until the close";
        for step in [1, 7, 100] {
            let (c, _) = parse_in_steps(r, step, false).unwrap();
            assert_eq!((c.status, c.close), (200, true), "step {step}");
        }
    }

    #[test]
    fn a_head_dripped_byte_by_byte_parses_the_same() {
        // 2000 interim answers, then the real one, one byte per read.
        let mut r = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(2000);
        r.extend_from_slice(b"HTTP/1.1 200 OK\r\nX-Long: ");
        r.resize(r.len() + 20_000, b'a');
        r.extend_from_slice(b"\r\nContent-Length: 5\r\n\r\nPong!");
        assert_eq!(
            parse_in_steps(&r, 1, false).unwrap(),
            (
                Complete {
                    status: 200,
                    close: false
                },
                0
            )
        );
        // A bad byte that arrives after the first read is found.
        let r = b"HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\nContent-Length: 5\r\n\r\nPong!";
        for step in [1, 5, 20] {
            assert_eq!(
                parse_in_steps(r, step, false),
                Err(ErrorKind::Malformed),
                "step {step}"
            );
        }
    }

    /// Found by fuzz/fuzz_targets/response.rs: a bad byte in a head that had arrived
    /// in several reads was only looked at once a line end came, so a close before one
    /// made the same bytes `closed_mid_response` instead of `malformed_response`, and a
    /// server that kept the connection open got a timeout. Every split must agree.
    #[test]
    fn fuzz_a_bad_byte_in_a_head_is_malformed_whatever_the_reads() {
        for bytes in [
            &b"HTTP/1.1 200 \x03H"[..],
            b"HTTP/1.1 200 OK\r\nX-A: a\x7fb",
            b"HTTP/1.1 200 OK\r\nX A",
            b"HTTP/1.1 200 OK\r\nX-A: 1\rb",
            b"HTTP/1.1 2x0 OK",
            b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\0",
        ] {
            for step in 1..=bytes.len() {
                assert_eq!(
                    parse_in_steps(bytes, step, false),
                    Err(ErrorKind::Malformed),
                    "{:?} in reads of {step}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
        // Valid text and names dripped in still wait for more, then parse.
        let r = b"HTTP/1.1 200 Fine \x80\tthanks\r\nX-Long-Name: v a l u e\r\nContent-Length: 0\r\n\r\n";
        for step in 1..=r.len() {
            assert_eq!(
                parse_in_steps(r, step, false).unwrap().0.status,
                200,
                "step {step}"
            );
        }
    }

    #[test]
    fn each_misbehaviour_has_its_kind() {
        assert_eq!(
            parse_in_steps(b"", 1, false),
            Err(ErrorKind::ClosedBeforeResponse)
        );
        assert_eq!(
            parse_in_steps(b"HTTP/1.1 200", 4, false),
            Err(ErrorKind::ClosedMidResponse)
        );
        assert_eq!(
            parse_in_steps(
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                4,
                false
            ),
            Err(ErrorKind::BodyLengthMismatch)
        );
        assert_eq!(
            parse_in_steps(b"garbage\r\n\r\n", 100, false),
            Err(ErrorKind::Malformed)
        );
        assert_eq!(
            parse_in_steps(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 100, false),
            Err(ErrorKind::Malformed)
        );
        assert_eq!(
            parse_in_steps(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                100,
                false
            ),
            Err(ErrorKind::Malformed)
        );
        assert_eq!(
            parse_in_steps(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                100,
                false
            ),
            Err(ErrorKind::ClosedMidResponse)
        );
    }
}
