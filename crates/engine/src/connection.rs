//! One keep-alive connection: write a request, read its answer, report what happened.
//!
//! Each connection owns one read buffer for its whole life ([`READ_BUFFER`] bytes, as
//! wrk's): bodies are skipped in place, so the buffer only ever holds a head or a chunk
//! size line. 8 KiB keeps 10 000 idle connections under 100 MiB. A head that does not
//! fit grows the buffer, up to [`MAX_HEAD`]; see [`Connection::grow_for_head`].
//!
//! Reads avoid tokio's speculative syscall: after a short read has drained the socket,
//! the connection clears its read readiness itself (a `try_io` that does no syscall),
//! so the next answer is awaited from epoll directly instead of first costing a read
//! that returns EAGAIN. That one syscall per request is the difference between matching
//! wrk and trailing it; see docs/engine.md.
//!
//! The response timeout is one timer per connection, armed once and moved only when it
//! fires early: a timer registered and cancelled per request cost about 2 % of the
//! generator's CPU.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::Interest;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{sleep_until, timeout, Instant, Sleep};

use crate::dynamic::Capture;
use crate::recorder::ErrorKind;
#[cfg(test)]
use crate::request::RequestBytes;
use crate::response::{Complete, ResponseParser};

/// Bytes of the per-connection read buffer: what every connection holds, idle or busy.
pub const READ_BUFFER: usize = 8 * 1024;

/// The largest response head read (status line, headers, and any interim answers
/// still in the buffer); a longer one is `malformed_response`. Only a connection in
/// the middle of such a head holds a buffer this large.
pub const MAX_HEAD: usize = 64 * 1024;

/// Where a new connection's watchdog starts: later than any deadline, so the first
/// wait moves it to that wait's deadline.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365);

pub struct Connection {
    stream: TcpStream,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    parser: ResponseParser,
    /// Bytes moved since the caller last asked, for the recorder.
    sent: usize,
    received: usize,
    /// Answers completed on this connection.
    pub answered: u64,
    /// Fires at or before the current request's deadline, never after: deadlines
    /// only grow, so a watchdog left at an older one at worst fires early and is
    /// moved then, once per timeout period instead of once per request.
    watchdog: Pin<Box<Sleep>>,
}

fn classify(e: &io::Error) -> ErrorKind {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ErrorKind::Reset,
        io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
        _ => ErrorKind::Io,
    }
}

/// The target's addresses, tried one after another as curl does (`localhost` is
/// 127.0.0.1 and ::1, and a server may listen on only one of them). The address that
/// accepted last is tried first, so once one has answered, later connections do not
/// pay a refused try each. Shared by every worker of a run: a connect is not on the hot
/// path, and one relaxed atomic there costs nothing.
#[derive(Debug)]
pub struct Targets {
    addrs: Vec<SocketAddr>,
    preferred: AtomicUsize,
}

impl Targets {
    /// `addrs` in the order to try first; not empty.
    pub fn new(addrs: Vec<SocketAddr>) -> Targets {
        assert!(!addrs.is_empty(), "a target has at least one address");
        Targets {
            addrs,
            preferred: AtomicUsize::new(0),
        }
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The address a new connection tries first.
    pub fn preferred(&self) -> SocketAddr {
        self.addrs[self.preferred.load(Ordering::Relaxed) % self.addrs.len()]
    }
}

/// A socket of `addr`'s family, bound to `source` first when it has that family.
fn socket_for(addr: &SocketAddr, source: Option<IpAddr>) -> io::Result<TcpSocket> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(source) = source.filter(|s| s.is_ipv4() == addr.is_ipv4()) {
        // Port 0 with IP_BIND_ADDRESS_NO_PORT: the port is chosen at connect, per
        // (source, target) pair, so one source address holds the whole
        // ip_local_port_range towards each target instead of sharing it with every bind.
        let one: libc::c_int = 1;
        // SAFETY: setsockopt reads `one` for the length given; the fd is ours and open.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        socket.bind(SocketAddr::new(source, 0))?;
    }
    Ok(socket)
}

impl Connection {
    /// Opens a connection to the first of `targets` that accepts, within `limit` each,
    /// starting with the one that accepted last. With `source`, the socket is bound to
    /// that address first (IPv4 targets only; see `resources::SourceAddrs`). Returns the
    /// connection and the time its handshake took.
    pub async fn open(
        targets: &Targets,
        source: Option<IpAddr>,
        limit: Duration,
    ) -> Result<(Connection, Duration), ErrorKind> {
        let mut last = ErrorKind::ConnectRefused;
        let count = targets.addrs.len();
        let first = targets.preferred.load(Ordering::Relaxed);
        for k in 0..count {
            let at = (first + k) % count;
            let addr = targets.addrs[at];
            let began = Instant::now();
            // A family this machine lacks (no IPv6) or a source that cannot be bound
            // is one more address that did not work: try the next.
            let socket = match socket_for(&addr, source) {
                Ok(s) => s,
                Err(e) => {
                    last = classify(&e);
                    continue;
                }
            };
            match timeout(limit, socket.connect(addr)).await {
                Err(_) => last = ErrorKind::ConnectTimeout,
                Ok(Err(e)) => last = classify(&e),
                Ok(Ok(stream)) => {
                    let took = began.elapsed();
                    if at != first {
                        targets.preferred.store(at, Ordering::Relaxed);
                    }
                    // Requests are small and written whole: waiting for Nagle helps nothing.
                    let _ = stream.set_nodelay(true);
                    let conn = Connection {
                        stream,
                        buf: vec![0u8; READ_BUFFER].into_boxed_slice(),
                        start: 0,
                        end: 0,
                        parser: ResponseParser::default(),
                        sent: 0,
                        received: 0,
                        answered: 0,
                        watchdog: Box::pin(sleep_until(began + FAR_FUTURE)),
                    };
                    return Ok((conn, took));
                }
            }
        }
        Err(last)
    }

    /// Bytes sent and received since the last call.
    pub fn take_traffic(&mut self) -> (usize, usize) {
        let out = (self.sent, self.received);
        self.sent = 0;
        self.received = 0;
        out
    }

    /// Sends `request` and reads its whole answer, giving up at `deadline`.
    /// After an error the connection must be dropped.
    ///
    /// With `capture`, the answer's bytes (head and body as they came) are also kept
    /// there, up to its cap, for a dynamic request that extracts or matches.
    pub async fn exchange(
        &mut self,
        request: &[u8],
        expects_no_body: bool,
        deadline: Instant,
        capture: Option<&mut Capture>,
    ) -> Result<Complete, ErrorKind> {
        self.write_all(request, deadline).await?;
        self.parser.start(expects_no_body);
        let done = self.read_response(deadline, capture).await?;
        self.answered += 1;
        Ok(done)
    }

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

    async fn write_all(&mut self, mut bytes: &[u8], deadline: Instant) -> Result<(), ErrorKind> {
        while !bytes.is_empty() {
            match self.stream.try_write(bytes) {
                Ok(n) => {
                    self.sent += n;
                    bytes = &bytes[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait(Interest::WRITABLE, deadline).await?
                }
                Err(e) => return Err(classify(&e)),
            }
        }
        Ok(())
    }

    async fn read_response(
        &mut self,
        deadline: Instant,
        mut capture: Option<&mut Capture>,
    ) -> Result<Complete, ErrorKind> {
        loop {
            let (used, complete) = self.parser.feed(&self.buf[self.start..self.end])?;
            if let Some(c) = capture.as_deref_mut() {
                c.keep(&self.buf[self.start..self.start + used]);
            }
            self.start += used;
            if self.start == self.end {
                self.start = 0;
                self.end = 0;
            }
            if let Some(done) = complete {
                if self.buf.len() > READ_BUFFER {
                    self.shrink();
                }
                return Ok(done);
            }
            if self.end == self.buf.len() {
                if self.start > 0 {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                } else if self.parser.reading_head() && self.buf.len() < MAX_HEAD {
                    self.grow_for_head();
                } else {
                    // A head over MAX_HEAD, or a chunk-size line over the buffer:
                    // not a sane response.
                    return Err(ErrorKind::Malformed);
                }
            }
            let space = self.buf.len() - self.end;
            match self.stream.try_read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    let done = self.parser.eof();
                    if let (Ok(_), Some(c)) = (&done, capture.as_deref_mut()) {
                        c.keep(&self.buf[self.start..self.end]);
                    }
                    return done;
                }
                Ok(n) => {
                    self.end += n;
                    self.received += n;
                    if n < space {
                        self.forget_read_readiness();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait(Interest::READABLE, deadline).await?
                }
                Err(e) => return Err(classify(&e)),
            }
        }
    }

    /// Doubles the buffer (8, 16, 32, then 64 KiB) for a head that does not fit.
    ///
    /// Memory: the buffer grows only while a head is incomplete and shrinks back to
    /// [`READ_BUFFER`] once the answer is read ([`Connection::shrink`]), so an idle
    /// connection costs 8 KiB as before (docs/benchmarks.md: 9.6 KiB per idle
    /// connection), and 10 000 connections to a server whose heads are 40 KiB hold
    /// 64 KiB each only while they read one. Keeping the grown buffer would save the
    /// allocations of each such answer (one to three to grow, one to shrink: little
    /// next to parsing over 8 KiB of head) but would hold 640 MiB at 10 000
    /// connections. Answers with heads under 8 KiB, the hot path, never come here.
    #[cold]
    fn grow_for_head(&mut self) {
        let size = (self.buf.len() * 2).min(MAX_HEAD);
        let mut grown = vec![0u8; size].into_boxed_slice();
        grown[..self.end].copy_from_slice(&self.buf[..self.end]);
        self.buf = grown;
    }

    /// Returns to a [`READ_BUFFER`] after a head that needed more, keeping any bytes
    /// already read past the answer if they fit (they do: the client does not
    /// pipeline, so nothing should follow an answer).
    #[cold]
    fn shrink(&mut self) {
        let left = self.end - self.start;
        if left > READ_BUFFER {
            return;
        }
        let mut small = vec![0u8; READ_BUFFER].into_boxed_slice();
        small[..left].copy_from_slice(&self.buf[self.start..self.end]);
        self.buf = small;
        self.start = 0;
        self.end = left;
    }

    /// Waits until the socket is ready for `interest`, or fails at `deadline`.
    async fn wait(&mut self, interest: Interest, deadline: Instant) -> Result<(), ErrorKind> {
        if self.watchdog.deadline() > deadline {
            self.watchdog.as_mut().reset(deadline);
        }
        loop {
            tokio::select! {
                biased;
                ready = self.stream.ready(interest) => {
                    return ready.map(drop).map_err(|e| classify(&e));
                }
                () = &mut self.watchdog => {
                    if Instant::now() >= deadline {
                        return Err(ErrorKind::ResponseTimeout);
                    }
                    self.watchdog.as_mut().reset(deadline);
                }
            }
        }
    }

    /// A read shorter than the space offered means the socket is empty now; any later
    /// byte or FIN raises a new epoll edge, so readiness can be dropped without a syscall.
    fn forget_read_readiness(&self) {
        let _ = self.stream.try_io(Interest::READABLE, || {
            Err::<(), _>(io::ErrorKind::WouldBlock.into())
        });
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener};

    use super::*;

    /// A server on 127.0.0.1:0 that reads one request head per reply and writes it.
    fn serve(replies: Vec<Vec<u8>>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut chunk = [0u8; 1024];
            for reply in replies {
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&chunk[..n]),
                    }
                }
                got.clear();
                if stream.write_all(&reply).is_err() {
                    return;
                }
            }
        });
        addr
    }

    /// An answer whose head is about `head_bytes` long.
    fn answer_with_head(head_bytes: usize) -> Vec<u8> {
        let mut r = b"HTTP/1.1 200 OK\r\n".to_vec();
        while r.len() + 1000 < head_bytes {
            r.extend_from_slice(b"X-Big: ");
            r.resize(r.len() + 990, b'a');
            r.extend_from_slice(b"\r\n");
        }
        r.extend_from_slice(b"Content-Length: 5\r\n\r\nPong!");
        r
    }

    #[test]
    fn a_head_up_to_64_kib_grows_the_buffer_which_then_shrinks_back() {
        let addr = serve(vec![
            answer_with_head(60 * 1024),
            answer_with_head(100),
            answer_with_head(MAX_HEAD + 2048),
        ]);
        let request = RequestBytes::build(
            &scenario::Request::get("/"),
            &scenario::Target {
                host: "127.0.0.1".into(),
                port: addr.port(),
                tls: false,
            },
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let limit = Duration::from_secs(20);
            let (mut c, _) = Connection::open(&Targets::new(vec![addr]), None, limit)
                .await
                .unwrap();
            let deadline = || Instant::now() + limit;
            assert_eq!(
                c.exchange(&request.bytes, false, deadline(), None)
                    .await
                    .unwrap()
                    .status,
                200
            );
            assert_eq!(c.buf.len(), READ_BUFFER, "shrunk once the answer was read");
            assert_eq!(
                c.exchange(&request.bytes, false, deadline(), None)
                    .await
                    .unwrap()
                    .status,
                200
            );
            assert_eq!(
                c.exchange(&request.bytes, false, deadline(), None).await,
                Err(ErrorKind::Malformed)
            );
            assert_eq!(c.buf.len(), MAX_HEAD);
        });
    }

    const LIMIT: Duration = Duration::from_secs(5);

    /// A port on 127.0.0.1 where nothing listens (it did a moment ago).
    fn closed_port() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }

    /// A listener on ::1, or on 127.0.0.2 where this machine has no IPv6.
    fn second_address() -> TcpListener {
        TcpListener::bind("[::1]:0").unwrap_or_else(|_| TcpListener::bind("127.0.0.2:0").unwrap())
    }

    /// Issue 9: a name with several addresses is tried address by address, as curl
    /// does; the one that accepted is tried first from then on.
    #[tokio::test]
    async fn a_refused_address_is_passed_over_and_the_one_that_accepted_goes_first() {
        let listener = second_address();
        let good = listener.local_addr().unwrap();
        let targets = Targets::new(vec![closed_port(), good]);
        assert_ne!(targets.preferred(), good);
        let (_first, _) = Connection::open(&targets, None, LIMIT).await.unwrap();
        assert_eq!(targets.preferred(), good);
        let (_second, _) = Connection::open(&targets, None, LIMIT).await.unwrap();
        assert_eq!(targets.preferred(), good);
        listener.set_nonblocking(true).unwrap();
        let accepted = std::iter::from_fn(|| listener.accept().ok()).count();
        assert_eq!(accepted, 2);
    }

    #[tokio::test]
    async fn when_no_address_accepts_the_last_error_is_reported() {
        let targets = Targets::new(vec![closed_port(), closed_port()]);
        let e = Connection::open(&targets, None, LIMIT).await.err();
        assert_eq!(e, Some(ErrorKind::ConnectRefused));
    }

    #[tokio::test]
    async fn a_planned_source_address_is_bound_for_its_family_only() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let targets = Targets::new(vec![listener.local_addr().unwrap()]);
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
        let (_c, _) = Connection::open(&targets, Some(source), LIMIT)
            .await
            .unwrap();
        let (_, peer) = listener.accept().unwrap();
        assert_eq!(peer.ip(), source);
        // An IPv6 target ignores an IPv4 source instead of failing to bind it.
        if let Ok(v6) = TcpListener::bind("[::1]:0") {
            let targets = Targets::new(vec![v6.local_addr().unwrap()]);
            let (_c, _) = Connection::open(&targets, Some(source), LIMIT)
                .await
                .unwrap();
            assert!(v6.accept().unwrap().1.is_ipv6());
        }
    }
}
