//! A test HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose: one misbehaviour
//! per path ([`answers::PATHS`]), so one server covers every case of the
//! misbehaving-server tests and a person can try each by hand (`src/main.rs`).
//!
//! - `/pong` answers well; every other listed path misbehaves in its own way.
//! - `/mixed/PATH` gives PATH's answer to the first connection the server accepts and
//!   `/pong`'s to every other: one bad connection among good ones, to show that the
//!   others carry on.
//!
//! One thread per connection, blocking sockets: the misbehaviours (sleeps, endless
//! writes) read as straight-line code. The server counts the requests it has read, so
//! a test can compare what the client claims with what was received: in the process
//! with [`Server::requests`], from outside with `GET /count` ([`COUNT_PATH`]).
//!
//! It binds 127.0.0.1 unless given another address ([`Server::start_on`]: the Docker
//! test's server container binds 0.0.0.0). Its threads live as long as the process;
//! each stops when its client goes or its answer's bounded loop ends.

pub mod answers;

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use answers::{Answer, Then, PATHS};

/// The largest request head read; the tests send small GETs.
const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// How long a connection waits for its next request before the server drops it.
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// The path that answers the number of requests read so far, as the body of a `200`
/// (decimal), then closes. It is not a misbehaviour, so not in [`PATHS`], and its own
/// requests are not counted: a test asks it once or more and the count stays exact.
/// Its connection is a connection all the same: asked first, it takes `/mixed`'s
/// first-connection misbehaviour.
pub const COUNT_PATH: &str = "/count";

/// A running server. Dropping it leaves it running until the process ends.
pub struct Server {
    pub port: u16,
    /// The address it listens on, with the port chosen.
    pub address: SocketAddr,
    requests: Arc<AtomicU64>,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0: any free port) and serves in background threads.
    pub fn start(port: u16) -> io::Result<Server> {
        Server::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// Binds `address` (port 0: any free port) and serves in background threads.
    pub fn start_on(address: SocketAddr) -> io::Result<Server> {
        let listener = TcpListener::bind(address)?;
        let address = listener.local_addr()?;
        let port = address.port();
        let requests = Arc::new(AtomicU64::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let counter = counter.clone();
                std::thread::spawn(move || serve(stream, index == 0, &counter));
            }
        });
        Ok(Server {
            port,
            address,
            requests,
        })
    }

    /// Request heads read in full so far, over all connections.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serves one connection: reads a request head, answers by its path, repeats while the
/// answer keeps the connection open.
fn serve(mut stream: TcpStream, first_connection: bool, counter: &AtomicU64) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_LIMIT));
    let mut buf = vec![0u8; MAX_REQUEST_HEAD];
    let mut have = 0;
    loop {
        let end = loop {
            if let Some(p) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            if have == buf.len() {
                return;
            }
            match stream.read(&mut buf[have..]) {
                Ok(0) | Err(_) => return,
                Ok(n) => have += n,
            }
        };
        let path = request_path(&buf[..end]).to_owned();
        buf.copy_within(end..have, 0);
        have -= end;
        if path == COUNT_PATH {
            let count = counter.load(Ordering::SeqCst).to_string();
            // One write: the answer in one segment, as every other answer here.
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{count}",
                count.len()
            );
            let _ = stream.write_all(answer.as_bytes());
            return;
        }
        counter.fetch_add(1, Ordering::SeqCst);
        let answer = match path.strip_prefix("/mixed") {
            Some(bad) if first_connection => Answer::for_path(bad),
            Some(_) => Answer::Pong,
            None => Answer::for_path(&path),
        };
        match answer.write(&mut stream) {
            Ok(Then::KeepAlive) => {}
            Ok(Then::Close) | Err(_) => return,
            Ok(Then::Reset) => {
                let _ = reset_on_close(&stream);
                return;
            }
        }
    }
}

/// The path of a request line `GET /path HTTP/1.1`, or "" if there is none.
fn request_path(head: &[u8]) -> &str {
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    std::str::from_utf8(line)
        .ok()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
}

/// Makes the socket's close send a RST instead of a FIN (SO_LINGER with 0 s): a peer
/// that resets instead of closing, for the engine's own tests too.
pub fn reset_on_close(stream: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt reads `linger` for the given length, on a socket we own.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn paths_are_read_from_the_request_line() {
        assert_eq!(
            request_path(b"GET /drip HTTP/1.1\r\nHost: x\r\n\r\n"),
            "/drip"
        );
        assert_eq!(
            request_path(b"GET /mixed/silence HTTP/1.1\r\n\r\n"),
            "/mixed/silence"
        );
        assert_eq!(request_path(b"\r\n\r\n"), "");
    }

    #[test]
    fn pong_then_mixed_on_a_later_connection_is_pong() {
        let server = Server::start(0).unwrap();
        let ask = |path: &str| {
            let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
            let mut got = [0u8; 128];
            let n = s.read(&mut got).unwrap();
            String::from_utf8_lossy(&got[..n]).into_owned()
        };
        // The first connection is the one `/mixed` misbehaves on: it asks for /pong.
        assert!(ask("/pong").ends_with("Pong!"));
        assert!(ask("/mixed/status-599").starts_with("HTTP/1.1 200 OK"));
        assert!(ask("/status-599").starts_with("HTTP/1.1 599"));
        assert_eq!(server.requests(), 3);
        // /count answers the count and is not counted itself.
        assert!(ask(COUNT_PATH).ends_with("\r\n\r\n3"));
        assert!(ask(COUNT_PATH).ends_with("\r\n\r\n3"));
        assert_eq!(server.requests(), 3);
    }
}
