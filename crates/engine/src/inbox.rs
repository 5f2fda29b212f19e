//! What a connection keeps of its answers between reads: the parser's state and, rarely,
//! an unparsed tail. The bytes themselves are read into a buffer the worker owns and
//! lends to each read in turn ([`with_read_buffer`]; io_uring's provided buffers on that
//! path), so an idle connection holds no read buffer at all.
//!
//! Memory: bodies are skipped in place, so what a read leaves unparsed is only a head or
//! a chunk-size line cut by the read's end. That tail is copied out and kept by the
//! connection (a few hundred bytes, once in a while under large answers), and given
//! back once parsed if it grew past [`TAIL_KEPT`]. Before, each connection owned an
//! 8 KiB buffer for its whole life: 9.6 KiB per idle connection, against about 1 KiB
//! now (docs/benchmarks.md, bench/idle-memory.sh).

use std::cell::RefCell;

use crate::dynamic::Capture;
use crate::recorder::ErrorKind;
use crate::response::{Complete, ResponseParser};

/// Bytes of a worker's read buffer: one per worker thread, whatever its connections.
/// Larger than wrk's 8 KiB because it is paid once: a 64 KiB body is one read.
pub const READ_BUFFER: usize = 64 * 1024;

/// The largest response head read (status line, headers, and any interim answers
/// still unparsed); a longer one is `malformed_response`.
pub const MAX_HEAD: usize = 64 * 1024;

/// The longest chunk-size line (with its extensions) or trailer taken as sane.
const MAX_LINE: usize = 8 * 1024;

/// What an emptied tail may keep allocated: a cut head of a usual size is then copied
/// without an allocation the next time, and an idle connection stays small.
const TAIL_KEPT: usize = 512;

thread_local! {
    /// The worker's read buffer. A thread-local rather than a field each connection
    /// points to: a worker is one thread, and a read never spans an await, so the
    /// buffer is never lent twice.
    static READ: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_BUFFER].into_boxed_slice());
}

/// Runs `read` with the calling worker's read buffer.
pub fn with_read_buffer<R>(read: impl FnOnce(&mut [u8]) -> R) -> R {
    READ.with(|buf| read(&mut buf.borrow_mut()[..]))
}

/// A connection's answer in progress.
#[derive(Debug, Default)]
pub struct Inbox {
    /// Bytes read but not parsed yet. Empty, and usually unallocated, between answers.
    tail: Vec<u8>,
    pub parser: ResponseParser,
}

/// Bytes moved since the worker last asked, for the recorder: on the wire, so an
/// https connection counts its records and its handshake.
#[derive(Debug, Default, Clone, Copy)]
pub struct Traffic {
    pub sent: usize,
    pub received: usize,
}

impl Traffic {
    /// The bytes since the last call, as (sent, received).
    pub fn take(&mut self) -> (usize, usize) {
        let out = (self.sent, self.received);
        *self = Traffic::default();
        out
    }
}

impl Inbox {
    /// From now on, Set-Cookie values are kept for the user's jar (sessions).
    pub fn collect_cookies(&mut self) {
        self.parser.collect_cookies = true;
    }

    /// Set-Cookie values of the answers since the last clear, one per line.
    pub fn set_cookies(&self) -> &[u8] {
        &self.parser.cookies
    }

    pub fn clear_set_cookies(&mut self) {
        self.parser.cookies.clear();
    }

    /// Whether bytes wait from an earlier read (a server that sent more than asked).
    #[cfg(test)]
    pub fn has_tail(&self) -> bool {
        !self.tail.is_empty()
    }

    /// Bytes of the tail, allocated: what this connection holds between reads.
    #[cfg(test)]
    pub fn tail_capacity(&self) -> usize {
        self.tail.capacity()
    }

    /// Parses `fresh` bytes just read, after any tail; keeps them in `capture` too when
    /// asked. Returns the answer once it is whole; what follows it stays as the tail.
    #[inline]
    pub fn absorb(
        &mut self,
        fresh: &[u8],
        capture: &mut Option<&mut Capture>,
    ) -> Result<Option<Complete>, ErrorKind> {
        // Longer than a head may be: parsed in windows (never, from the buffers here).
        if !self.tail.is_empty() || fresh.len() > MAX_HEAD {
            return self.absorb_after_tail(fresh, capture);
        }
        let (used, complete) = self.parser.feed(fresh)?;
        if let Some(c) = capture.as_deref_mut() {
            c.keep(&fresh[..used]);
        }
        if used < fresh.len() {
            self.keep_tail(&fresh[used..], complete.is_some())?;
        }
        Ok(complete)
    }

    /// The answer from the tail alone, if it holds a whole one: called before reading.
    pub fn pending(
        &mut self,
        capture: &mut Option<&mut Capture>,
    ) -> Result<Option<Complete>, ErrorKind> {
        if self.tail.is_empty() {
            return Ok(None);
        }
        self.absorb_after_tail(&[], capture)
    }

    #[cold]
    fn absorb_after_tail(
        &mut self,
        fresh: &[u8],
        capture: &mut Option<&mut Capture>,
    ) -> Result<Option<Complete>, ErrorKind> {
        self.tail.extend_from_slice(fresh);
        loop {
            // A head must be whole within its first MAX_HEAD bytes, however many
            // have come.
            let window = match self.parser.reading_head() {
                true => self.tail.len().min(MAX_HEAD),
                false => self.tail.len(),
            };
            let (used, complete) = self.parser.feed(&self.tail[..window])?;
            if let Some(c) = capture.as_deref_mut() {
                c.keep(&self.tail[..used]);
            }
            self.tail.drain(..used);
            if complete.is_some() {
                if self.tail.is_empty() {
                    self.release_tail();
                }
                return Ok(complete);
            }
            if used == 0 || self.tail.is_empty() {
                self.check_tail()?;
                return Ok(None);
            }
        }
    }

    #[cold]
    fn keep_tail(&mut self, rest: &[u8], complete: bool) -> Result<(), ErrorKind> {
        self.tail.extend_from_slice(rest);
        if complete {
            Ok(())
        } else {
            self.check_tail()
        }
    }

    /// A head over [`MAX_HEAD`], or a chunk-size line over [`MAX_LINE`], is not a sane
    /// answer.
    fn check_tail(&self) -> Result<(), ErrorKind> {
        let too_long = match self.parser.reading_head() {
            true => self.tail.len() >= MAX_HEAD,
            false => self.tail.len() > MAX_LINE,
        };
        if too_long {
            return Err(ErrorKind::Malformed);
        }
        Ok(())
    }

    fn release_tail(&mut self) {
        if self.tail.capacity() > TAIL_KEPT {
            self.tail = Vec::new();
        } else {
            self.tail.clear();
        }
    }

    /// The server closed: the answer ends here if its framing allows, and what is left
    /// of the tail belongs to it.
    pub fn eof(&mut self, capture: Option<&mut Capture>) -> Result<Complete, ErrorKind> {
        let done = self.parser.eof();
        if let (Ok(_), Some(c)) = (&done, capture) {
            c.keep(&self.tail);
        }
        self.release_tail();
        done
    }
}

/// An answer whose head is about `head_bytes` long, for the tests here and in
/// `connection`.
#[cfg(test)]
pub(crate) fn answer_with_head(head_bytes: usize) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\n".to_vec();
    while r.len() + 1000 < head_bytes {
        r.extend_from_slice(b"X-Big: ");
        r.resize(r.len() + 990, b'a');
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"Content-Length: 5\r\n\r\nPong!");
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` cut into reads of `piece` bytes; the answer, if one completes.
    fn feed_in_pieces(
        inbox: &mut Inbox,
        bytes: &[u8],
        piece: usize,
    ) -> Result<Option<Complete>, ErrorKind> {
        inbox.parser.start(false);
        for chunk in bytes.chunks(piece) {
            if let Some(done) = inbox.absorb(chunk, &mut None)? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    #[test]
    fn a_cut_head_is_kept_until_whole_and_then_given_back() {
        let mut inbox = Inbox::default();
        let big = answer_with_head(60 * 1024);
        let done = feed_in_pieces(&mut inbox, &big, 4096).unwrap().unwrap();
        assert_eq!(done.status, 200);
        assert!(!inbox.has_tail());
        assert_eq!(
            inbox.tail_capacity(),
            0,
            "a grown tail is freed once parsed"
        );
        // A small head cut once keeps its small allocation for next time.
        let small = answer_with_head(300);
        feed_in_pieces(&mut inbox, &small, 100).unwrap().unwrap();
        assert!(inbox.tail_capacity() <= TAIL_KEPT);
        let too_big = answer_with_head(MAX_HEAD + 2048);
        for piece in [8192, READ_BUFFER, too_big.len()] {
            let mut inbox = Inbox::default();
            assert_eq!(
                feed_in_pieces(&mut inbox, &too_big, piece),
                Err(ErrorKind::Malformed),
                "reads of {piece} bytes"
            );
        }
    }

    #[test]
    fn bytes_after_an_answer_wait_for_the_next_request() {
        let mut inbox = Inbox::default();
        let mut two = answer_with_head(100);
        two.extend_from_slice(&answer_with_head(100));
        let done = feed_in_pieces(&mut inbox, &two, two.len()).unwrap();
        assert!(done.is_some() && inbox.has_tail());
        inbox.parser.start(false);
        assert_eq!(inbox.pending(&mut None).unwrap().unwrap().status, 200);
        assert!(!inbox.has_tail());
    }

    #[test]
    fn a_chunk_size_line_longer_than_any_sane_one_is_malformed() {
        let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5".to_vec();
        answer.resize(answer.len() + MAX_LINE + 10, b'0');
        let mut inbox = Inbox::default();
        assert_eq!(
            feed_in_pieces(&mut inbox, &answer, 1024),
            Err(ErrorKind::Malformed)
        );
    }
}
