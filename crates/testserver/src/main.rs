//! `wsgibench-testserver [--port PORT | --bind ADDR:PORT]`: serves the misbehaving paths
//! until it is killed, to try a misbehaviour by hand with `wsgibench load`. It listens
//! on 127.0.0.1 unless `--bind` names another address (the Docker test's server
//! container: `--bind 0.0.0.0:8000`). `GET /count` answers how many requests it has read.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

const USAGE: &str = "usage: wsgibench-testserver [--port PORT | --bind ADDR:PORT]   \
                     (default 127.0.0.1, any free port)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let address = match args.as_slice() {
        [] => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        [flag, p] if flag == "--port" => match p.parse::<u16>() {
            Ok(p) => SocketAddr::from((Ipv4Addr::LOCALHOST, p)),
            Err(_) => {
                eprintln!("error: --port: expected a port number 0-65535, got {p:?}");
                return ExitCode::from(2);
            }
        },
        [flag, a] if flag == "--bind" => match a.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => {
                eprintln!(
                    "error: --bind: expected ADDR:PORT, e.g. 0.0.0.0:8000 or [::1]:8000, got {a:?}"
                );
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match testserver::Server::start_on(address) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on {address}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The listing is for whoever reads it: a closed stdout is no reason to stop serving.
    let mut listing = format!("listening on http://{}/\n", server.address);
    for (path, _, what) in testserver::PATHS {
        listing += &format!("  {path:<24} {what}\n");
    }
    listing +=
        "  /mixed/PATH              PATH's answer on the first connection, /pong on the others\n";
    listing += &format!(
        "  {:<24} the requests read so far (not counting these), then close\n",
        testserver::COUNT_PATH
    );
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(listing.as_bytes()).and_then(|()| out.flush());
    drop(out);
    // The server runs in its own threads; this one only keeps the process alive.
    loop {
        std::thread::park();
    }
}
