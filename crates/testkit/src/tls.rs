//! https for tests: certificates made on the spot with rcgen (a CA, certificates it
//! signs, a self-signed one, an expired one) and a small rustls server on 127.0.0.1
//! that answers keep-alive GETs, or misbehaves in one of the ways a TLS server can.
//!
//! One thread per connection, blocking sockets, as the misbehaving HTTP server
//! (crates/testserver). The server counts the connections whose handshake finished and
//! the requests it answered, and keeps the last SNI name it was sent, so a test can
//! check what the client did, not only what it says.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A certificate authority made for one test.
pub struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A server's certificate chain and key.
pub struct Identity {
    /// The server's certificate as PEM (a self-signed one is its own root).
    pub cert_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
}

impl Ca {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a key");
        let cert = params.self_signed(&key).expect("a CA certificate");
        Ca { cert, key }
    }

    /// The CA's certificate as PEM, for `--cacert`.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A certificate for `names` (DNS names or IP addresses), valid now.
    pub fn issue(&self, names: &[&str]) -> Identity {
        self.sign(params(names))
    }

    /// A certificate for `names` that expired in 2001.
    pub fn issue_expired(&self, names: &[&str]) -> Identity {
        let mut p = params(names);
        p.not_before = date_time_ymd(2000, 1, 1);
        p.not_after = date_time_ymd(2001, 1, 1);
        self.sign(p)
    }

    fn sign(&self, params: CertificateParams) -> Identity {
        let key = KeyPair::generate().expect("a key");
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("a signed certificate");
        Identity {
            cert_pem: cert.pem(),
            chain: vec![cert.der().clone(), self.cert.der().clone()],
            key_der: key.serialize_der(),
        }
    }
}

fn params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut p = CertificateParams::new(names).expect("valid names");
    p.distinguished_name
        .push(DnType::CommonName, "wsgibench test server");
    p
}

/// A self-signed certificate for `names`, as `openssl req -x509` makes.
pub fn self_signed(names: &[&str]) -> Identity {
    let key = KeyPair::generate().expect("a key");
    let cert = params(names).self_signed(&key).expect("a certificate");
    Identity {
        cert_pem: cert.pem(),
        chain: vec![cert.der().clone()],
        key_der: key.serialize_der(),
    }
}

/// How the server behaves on each connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Handshake, then answer every GET with `200 Pong!`, keeping the connection.
    Serve,
    /// As `Serve`, speaking TLS 1.2 only.
    Tls12,
    /// As `Serve`, after waiting this long once the ClientHello has arrived.
    SlowHandshake(Duration),
    /// Reads the ClientHello, then closes (a FIN: nothing is left unread, which would
    /// make it a reset).
    CloseMidHandshake,
    /// Answers the ClientHello with a plain HTTP 400, as a server without TLS does.
    PlainHttp,
}

/// An https server on 127.0.0.1 for the life of the test process.
pub struct TlsServer {
    pub port: u16,
    handshakes: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    sni: Arc<Mutex<Option<String>>>,
}

impl TlsServer {
    pub fn start(identity: &Identity, mode: Mode) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider);
        let builder = match mode {
            Mode::Tls12 => builder.with_protocol_versions(&[&rustls::version::TLS12]),
            _ => builder.with_safe_default_protocol_versions(),
        }
        .expect("protocol versions");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone()));
        let mut config = builder
            .with_no_client_auth()
            .with_single_cert(identity.chain.clone(), key)
            .expect("a usable certificate and key");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("an address").port();
        let server = TlsServer {
            port,
            handshakes: Arc::default(),
            requests: Arc::default(),
            sni: Arc::default(),
        };
        let (handshakes, requests, sni) = (
            server.handshakes.clone(),
            server.requests.clone(),
            server.sni.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (config, handshakes, requests, sni) = (
                    config.clone(),
                    handshakes.clone(),
                    requests.clone(),
                    sni.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve(stream, config, mode, &handshakes, &requests, &sni);
                });
            }
        });
        server
    }

    /// Connections whose handshake finished.
    pub fn handshakes(&self) -> u64 {
        self.handshakes.load(Ordering::SeqCst)
    }

    /// Requests answered.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// The server name the last client sent (SNI), if any.
    pub fn last_sni(&self) -> Option<String> {
        self.sni.lock().expect("not poisoned").clone()
    }
}

/// Reads the first TLS record whole (type, version, a 2-byte length, the body), so that
/// a close after it is a FIN, not the reset a close with unread bytes makes.
fn read_client_hello(tcp: &mut TcpStream) -> io::Result<()> {
    let mut header = [0u8; 5];
    tcp.read_exact(&mut header)?;
    let mut hello = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    tcp.read_exact(&mut hello)
}

fn serve(
    mut tcp: TcpStream,
    config: Arc<ServerConfig>,
    mode: Mode,
    handshakes: &AtomicU64,
    requests: &AtomicU64,
    sni: &Mutex<Option<String>>,
) -> io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
    match mode {
        Mode::CloseMidHandshake => {
            read_client_hello(&mut tcp)?;
            return Ok(());
        }
        Mode::PlainHttp => {
            read_client_hello(&mut tcp)?;
            tcp.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request",
            )?;
            return Ok(());
        }
        Mode::SlowHandshake(delay) => {
            // The ClientHello is in: the client's clock for its connect is running.
            let mut one = [0u8; 1];
            tcp.peek(&mut one)?;
            std::thread::sleep(delay);
        }
        Mode::Serve | Mode::Tls12 => {}
    }
    let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    *sni.lock().expect("not poisoned") = conn.server_name().map(str::to_string);
    handshakes.fetch_add(1, Ordering::SeqCst);
    let mut tls = StreamOwned::new(conn, tcp);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            got.drain(..end + 4);
            requests.fetch_add(1, Ordering::SeqCst);
            tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nPong!")?;
        }
        match tls.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
