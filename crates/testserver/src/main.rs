//! `wsgibench-testserver [--port PORT]`: serves the misbehaving paths on 127.0.0.1
//! until it is killed, to try a misbehaviour by hand with `wsgibench load`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match args.as_slice() {
        [] => 0,
        [flag, p] if flag == "--port" => match p.parse::<u16>() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("error: --port: expected a port number 0-65535, got {p:?}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: wsgibench-testserver [--port PORT]   (0 or none: any free port)");
            return ExitCode::from(2);
        }
    };
    let server = match testserver::Server::start(port) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://127.0.0.1:{}/", server.port);
    for (path, _, what) in testserver::PATHS {
        println!("  {path:<24} {what}");
    }
    println!(
        "  /mixed/PATH              PATH's answer on the first connection, /pong on the others"
    );
    // The server runs in its own threads; this one only keeps the process alive.
    loop {
        std::thread::park();
    }
}
