//! One keep-alive connection: write a request, read its answer, report what happened.
//!
//! A connection owns no read buffer: it reads into its worker's ([`crate::inbox`]) and
//! keeps only its parser and, rarely, an unparsed tail, so an idle connection costs
//! about 1 KiB. Bodies are skipped in place.
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
//!
//! An https connection runs the same loop with a `rustls::ClientConnection` between
//! the socket and the buffer: records are read with `read_tls` (a `try_read`), the
//! plaintext is copied into the worker's read buffer, and requests are encrypted by
//! rustls and written with `write_tls` (a `try_write`). The choice is made once per
//! request by one match, so the plain path is the code it was. The TLS handshake is
//! part of [`Connection::open`], and of the connect time it reports. Unlike the plain
//! path, the TLS path allocates: rustls keeps each outgoing record in a buffer of its
//! own.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rustls::ClientConnection;
use tokio::io::Interest;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{sleep_until, timeout, Instant, Sleep};

use crate::dynamic::Capture;
use crate::inbox::{with_read_buffer, Inbox, Traffic};
use crate::recorder::ErrorKind;
#[cfg(test)]
use crate::request::RequestBytes;
use crate::response::Complete;
use crate::tls::{self, Tls};
use crate::uring::UringConnection;

/// Where a new connection's watchdog starts: later than any deadline, so the first
/// wait moves it to that wait's deadline.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365);

pub struct Connection {
    stream: TcpStream,
    /// The TLS session of an https connection; `None` for plain HTTP.
    tls: Option<Box<ClientConnection>>,
    inbox: Inbox,
    pub traffic: Traffic,
    /// Answers completed on this connection.
    pub answered: u64,
    /// Fires at or before the current request's deadline, never after: deadlines
    /// only grow, so a watchdog left at an older one at worst fires early and is
    /// moved then, once per timeout period instead of once per request.
    watchdog: Pin<Box<Sleep>>,
}

/// Why `Connection::open` failed: the kind counted, and for a failed TLS handshake
/// the words that say why (rustls's), for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError {
    pub kind: ErrorKind,
    pub detail: Option<String>,
}

impl From<ErrorKind> for OpenError {
    fn from(kind: ErrorKind) -> OpenError {
        OpenError { kind, detail: None }
    }
}

impl OpenError {
    fn tls(e: &rustls::Error) -> OpenError {
        OpenError {
            kind: tls::classify(e),
            detail: Some(e.to_string()),
        }
    }
}

/// The kind of a failed operation's errno (io_uring reports them as numbers).
pub fn classify_errno(errno: i32) -> ErrorKind {
    classify(&io::Error::from_raw_os_error(errno))
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
///
/// An https target also holds its TLS settings, built once per run.
#[derive(Debug)]
pub struct Targets {
    addrs: Vec<SocketAddr>,
    preferred: AtomicUsize,
    tls: Option<Tls>,
}

impl Targets {
    /// `addrs` in the order to try first; not empty.
    pub fn new(addrs: Vec<SocketAddr>) -> Targets {
        assert!(!addrs.is_empty(), "a target has at least one address");
        Targets {
            addrs,
            preferred: AtomicUsize::new(0),
            tls: None,
        }
    }

    /// The same target spoken to over TLS (`None`: plain HTTP).
    pub fn with_tls(self, tls: Option<Tls>) -> Targets {
        Targets { tls, ..self }
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
    /// connection and the time its handshakes took: TCP's, and TLS's for an https
    /// target, which must both finish within `limit`. A TLS failure is not retried on
    /// the next address: that one accepted.
    pub async fn open(
        targets: &Targets,
        source: Option<IpAddr>,
        limit: Duration,
    ) -> Result<(Connection, Duration), OpenError> {
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
                    if at != first {
                        targets.preferred.store(at, Ordering::Relaxed);
                    }
                    // Requests are small and written whole: waiting for Nagle helps nothing.
                    let _ = stream.set_nodelay(true);
                    let mut conn = Connection {
                        stream,
                        tls: None,
                        inbox: Inbox::default(),
                        traffic: Traffic::default(),
                        answered: 0,
                        watchdog: Box::pin(sleep_until(began + FAR_FUTURE)),
                    };
                    if let Some(tls) = &targets.tls {
                        // Boxed, as `exchange_tls`: the handshake's states would
                        // otherwise grow every request's future, which holds this one.
                        Box::pin(conn.handshake(tls, began + limit)).await?;
                    }
                    return Ok((conn, began.elapsed()));
                }
            }
        }
        Err(last.into())
    }

    /// The TLS handshake, until `deadline`: rustls says what to send and reads what
    /// comes; a failure keeps rustls's words.
    async fn handshake(&mut self, tls: &Tls, deadline: Instant) -> Result<(), OpenError> {
        let mut session = ClientConnection::new(tls.config.clone(), tls.name.clone())
            .map_err(|e| OpenError::tls(&e))?;
        let in_time = |kind| match kind {
            ErrorKind::ResponseTimeout => ErrorKind::ConnectTimeout,
            kind => kind,
        };
        while session.is_handshaking() {
            self.flush_tls(&mut session, deadline)
                .await
                .map_err(in_time)?;
            if !session.is_handshaking() {
                break;
            }
            let mut socket = Socket::new(&self.stream);
            match session.read_tls(&mut socket) {
                Ok(0) => {
                    return Err(OpenError {
                        kind: ErrorKind::TlsHandshake,
                        detail: Some(
                            "the server closed the connection during the TLS handshake".into(),
                        ),
                    })
                }
                Ok(n) => self.traffic.received += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait(Interest::READABLE, deadline)
                        .await
                        .map_err(in_time)?;
                    continue;
                }
                Err(e) => return Err(classify(&e).into()),
            }
            if let Err(e) = session.process_new_packets() {
                // rustls queued an alert that tells the server why; sent if it fits.
                let _ = session.write_tls(&mut Socket::new(&self.stream));
                return Err(OpenError::tls(&e));
            }
        }
        // The client's last flight (its Finished) goes now, not with the first request.
        self.flush_tls(&mut session, deadline)
            .await
            .map_err(in_time)?;
        self.tls = Some(Box::new(session));
        Ok(())
    }

    /// Writes every record rustls holds for the server.
    async fn flush_tls(
        &mut self,
        session: &mut ClientConnection,
        deadline: Instant,
    ) -> Result<(), ErrorKind> {
        while session.wants_write() {
            match session.write_tls(&mut Socket::new(&self.stream)) {
                Ok(n) => self.traffic.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait(Interest::WRITABLE, deadline).await?
                }
                Err(e) => return Err(classify(&e)),
            }
        }
        Ok(())
    }

    /// The parts a plain connection keeps when it moves to io_uring: its socket, what
    /// it read, its watchdog and its byte counts.
    pub fn into_parts(self) -> (TcpStream, Inbox, Pin<Box<Sleep>>, Traffic) {
        (self.stream, self.inbox, self.watchdog, self.traffic)
    }

    /// Whether requests go through TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
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
        if self.tls.is_some() {
            // Boxed, so that the plain path's future stays the size it was: held inline,
            // the TLS states cost the plain path ~40 instructions per request (callgrind).
            return Box::pin(self.exchange_tls(request, expects_no_body, deadline, capture)).await;
        }
        self.write_all(request, deadline).await?;
        self.inbox.parser.start(expects_no_body);
        let done = self.read_response(deadline, capture).await?;
        self.answered += 1;
        Ok(done)
    }

    /// [`Connection::exchange`] through TLS. The session is taken out for the exchange
    /// and put back after it: after an error, or a future dropped at the run's end, the
    /// connection is dropped anyway.
    async fn exchange_tls(
        &mut self,
        request: &[u8],
        expects_no_body: bool,
        deadline: Instant,
        capture: Option<&mut Capture>,
    ) -> Result<Complete, ErrorKind> {
        let mut session = self.tls.take().expect("an https connection");
        self.write_all_tls(&mut session, request, deadline).await?;
        self.inbox.parser.start(expects_no_body);
        let done = self
            .read_response_tls(&mut session, deadline, capture)
            .await?;
        self.tls = Some(session);
        self.answered += 1;
        Ok(done)
    }

    /// Hands `bytes` to rustls, which encrypts them into records, and writes those.
    async fn write_all_tls(
        &mut self,
        session: &mut ClientConnection,
        mut bytes: &[u8],
        deadline: Instant,
    ) -> Result<(), ErrorKind> {
        while !bytes.is_empty() {
            // rustls takes less than all once its outgoing buffer is full; the flush
            // below empties it.
            let n = session.writer().write(bytes).map_err(|e| classify(&e))?;
            bytes = &bytes[n..];
            self.flush_tls(session, deadline).await?;
        }
        Ok(())
    }

    /// [`Connection::read_response`] through TLS: the plaintext rustls has is copied
    /// into the read buffer, and records are read from the socket only when it has none.
    async fn read_response_tls(
        &mut self,
        session: &mut ClientConnection,
        deadline: Instant,
        mut capture: Option<&mut Capture>,
    ) -> Result<Complete, ErrorKind> {
        if let Some(done) = self.inbox.pending(&mut capture)? {
            return Ok(done);
        }
        let mut closed = false;
        loop {
            let inbox = &mut self.inbox;
            let step = with_read_buffer(|buf| match session.reader().read(buf) {
                // A close_notify, or a close without one (which many servers do).
                Ok(0) => Ok(Step::Closed),
                Ok(n) => Ok(inbox
                    .absorb(&buf[..n], &mut capture)?
                    .map_or(Step::More, Step::Done)),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Step::Closed),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && closed => Ok(Step::Closed),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Step::Wait),
                Err(e) => Err(classify(&e)),
            })?;
            match step {
                Step::Done(done) => return Ok(done),
                Step::More => continue,
                Step::Closed => return self.inbox.eof(capture),
                Step::Wait => {}
            }
            let mut socket = Socket::new(&self.stream);
            match session.read_tls(&mut socket) {
                Ok(0) => closed = true,
                Ok(n) => {
                    self.traffic.received += n;
                    if socket.drained {
                        forget_read_readiness(&self.stream);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait(Interest::READABLE, deadline).await?;
                    continue;
                }
                Err(e) => return Err(classify(&e)),
            }
            // A record that does not decrypt, or an alert, after the handshake: the
            // answer cannot be read.
            session
                .process_new_packets()
                .map_err(|_| ErrorKind::Malformed)?;
        }
    }

    async fn write_all(&mut self, mut bytes: &[u8], deadline: Instant) -> Result<(), ErrorKind> {
        while !bytes.is_empty() {
            match self.stream.try_write(bytes) {
                Ok(n) => {
                    self.traffic.sent += n;
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
        if let Some(done) = self.inbox.pending(&mut capture)? {
            return Ok(done);
        }
        loop {
            let (inbox, stream) = (&mut self.inbox, &self.stream);
            let received = &mut self.traffic.received;
            let step = with_read_buffer(|buf| match stream.try_read(buf) {
                Ok(0) => Ok(Step::Closed),
                Ok(n) => {
                    *received += n;
                    if n < buf.len() {
                        forget_read_readiness(stream);
                    }
                    Ok(inbox
                        .absorb(&buf[..n], &mut capture)?
                        .map_or(Step::More, Step::Done))
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Step::Wait),
                Err(e) => Err(classify(&e)),
            })?;
            match step {
                Step::Done(done) => return Ok(done),
                Step::More => {}
                Step::Closed => return self.inbox.eof(capture),
                Step::Wait => self.wait(Interest::READABLE, deadline).await?,
            }
        }
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
}

/// A read shorter than the space offered means the socket is empty now; any later
/// byte or FIN raises a new epoll edge, so readiness can be dropped without a syscall.
fn forget_read_readiness(stream: &TcpStream) {
    let _ = stream.try_io(Interest::READABLE, || {
        Err::<(), _>(io::ErrorKind::WouldBlock.into())
    });
}

/// What one read led to.
enum Step {
    /// The answer is whole.
    Done(Complete),
    /// More bytes may be waiting: read again.
    More,
    /// The server closed its side.
    Closed,
    /// Nothing to read yet.
    Wait,
}

/// A connection on either I/O path: what a worker's slot holds.
pub enum Link {
    Epoll(Connection),
    Uring(UringConnection),
}

impl Link {
    /// Answers completed on this connection.
    pub fn answered(&self) -> u64 {
        match self {
            Link::Epoll(c) => c.answered,
            Link::Uring(c) => c.answered,
        }
    }

    /// See [`Connection::exchange`].
    pub async fn exchange(
        &mut self,
        request: &[u8],
        expects_no_body: bool,
        deadline: Instant,
        capture: Option<&mut Capture>,
    ) -> Result<Complete, ErrorKind> {
        match self {
            Link::Epoll(c) => {
                c.exchange(request, expects_no_body, deadline, capture)
                    .await
            }
            Link::Uring(c) => {
                c.exchange(request, expects_no_body, deadline, capture)
                    .await
            }
        }
    }

    /// Bytes sent and received since the last call.
    pub fn take_traffic(&mut self) -> (usize, usize) {
        match self {
            Link::Epoll(c) => c.traffic.take(),
            Link::Uring(c) => c.traffic.take(),
        }
    }

    /// What the connection read: its parser and the cookies the server set.
    pub fn inbox(&mut self) -> &mut Inbox {
        match self {
            Link::Epoll(c) => &mut c.inbox,
            Link::Uring(c) => &mut c.inbox,
        }
    }
}

/// The socket as rustls reads and writes it: `try_read` and `try_write`, which answer
/// `WouldBlock` without a syscall while tokio knows the socket is not ready.
struct Socket<'a> {
    stream: &'a TcpStream,
    /// The last read took less than offered: the socket is empty now.
    drained: bool,
}

impl<'a> Socket<'a> {
    fn new(stream: &'a TcpStream) -> Socket<'a> {
        Socket {
            stream,
            drained: false,
        }
    }
}

impl Read for Socket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.try_read(buf)?;
        self.drained = n > 0 && n < buf.len();
        Ok(n)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.try_write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.stream.try_write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener};

    use super::*;
    use crate::inbox::answer_with_head;

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

    #[test]
    fn a_head_up_to_64_kib_is_read_and_what_it_held_is_given_back() {
        let addr = serve(vec![
            answer_with_head(60 * 1024),
            answer_with_head(100),
            answer_with_head(crate::MAX_HEAD + 2048),
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
            assert_eq!(
                c.inbox.tail_capacity(),
                0,
                "the cut head is given back once the answer is read"
            );
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
        assert_eq!(e, Some(ErrorKind::ConnectRefused.into()));
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
