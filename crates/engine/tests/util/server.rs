//! A test HTTP/1.1 server on 127.0.0.1:0 that answers each request according to a
//! [`Behaviour`], and counts the requests it read. One thread per connection with
//! blocking sockets: its delays are as precise as `thread::sleep` (tens of µs), where
//! an async timer would add up to a millisecond of its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::sleep;

#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// 200 `Pong!` after `delay`.
    Pong { delay: Duration },
    /// Pong, then close the connection after `k` answers on it.
    CloseAfter(u64),
    /// Pong with `Connection: close` on every answer.
    ConnectionClose,
    /// A chunked body in three chunks.
    Chunked,
    /// The head and half the body, then silence.
    SlowBody,
    /// Bytes that are not HTTP.
    Garbage,
    /// Content-Length 10, three bytes, close.
    ShortBody,
    /// Read the request, then close without a byte.
    CloseWithoutAnswer,
    /// Read the request, then reset the connection (RST).
    Reset,
    /// Half a status line, then close.
    CloseMidHead,
    /// Answer 503 to every request.
    Unavailable,
}

pub struct TestServer {
    pub port: u16,
    requests: Arc<AtomicU64>,
}

impl TestServer {
    pub fn start(behaviour: Behaviour) -> TestServer {
        let requests = Arc::new(AtomicU64::new(0));
        let counter = requests.clone();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // The thread ends with the test process; it serves only this test's connections.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let counter = counter.clone();
                std::thread::spawn(move || serve(stream, behaviour, counter));
            }
        });
        TestServer { port, requests }
    }

    /// Requests the server has read in full so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

const PONG: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nPong!";

fn serve(mut stream: TcpStream, behaviour: Behaviour, counter: Arc<AtomicU64>) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    let mut have = 0;
    let mut answered = 0u64;
    loop {
        // Read until one whole request head (the tests send no bodies).
        let end = loop {
            if let Some(p) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match stream.read(&mut buf[have..]) {
                // A stop and continue of the process interrupts a read with a timeout.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Ok(0) | Err(_) => return,
                Ok(n) => have += n,
            }
        };
        buf.copy_within(end..have, 0);
        have -= end;
        counter.fetch_add(1, Ordering::SeqCst);
        let reply: &[u8] = match behaviour {
            Behaviour::Pong { delay } => {
                if !delay.is_zero() {
                    sleep(delay);
                }
                PONG
            }
            Behaviour::CloseAfter(_) => PONG,
            Behaviour::ConnectionClose => {
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nPong!"
            }
            Behaviour::Chunked => {
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nPo\r\n3\r\nng!\r\n0\r\n\r\n"
            }
            Behaviour::SlowBody => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nPong!");
                sleep(Duration::from_secs(30));
                return;
            }
            Behaviour::Garbage => b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
            Behaviour::ShortBody => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nPon");
                return;
            }
            Behaviour::CloseWithoutAnswer => return,
            Behaviour::Reset => {
                // A zero linger makes close send a RST instead of a FIN.
                let _ = testserver::reset_on_close(&stream);
                return;
            }
            Behaviour::CloseMidHead => {
                let _ = stream.write_all(b"HTTP/1.1 20");
                return;
            }
            Behaviour::Unavailable => b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
        };
        if stream.write_all(reply).is_err() {
            return;
        }
        answered += 1;
        if matches!(behaviour, Behaviour::ConnectionClose) {
            return;
        }
        if let Behaviour::CloseAfter(k) = behaviour {
            if answered >= k {
                return;
            }
        }
    }
}
