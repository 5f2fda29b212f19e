//! The engine against gunicorn serving the project's pong app, started by the test.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{closed, run};

/// gunicorn from `$WSGIBENCH_TEST_VENV/bin` (set by `.ci/run`), else from PATH.
fn gunicorn() -> PathBuf {
    match std::env::var_os("WSGIBENCH_TEST_VENV") {
        Some(venv) => PathBuf::from(venv).join("bin/gunicorn"),
        None => PathBuf::from("gunicorn"),
    }
}

struct Gunicorn(Child);

impl Drop for Gunicorn {
    fn drop(&mut self) {
        // Only the process this test started, by its PID.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn gunicorn_serves_every_request() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let python_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../python");
    let child = Command::new(gunicorn())
        .args(["-w", "1", "-b", &format!("127.0.0.1:{port}"), "--chdir"])
        .arg(&python_dir)
        .arg("app:pong")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {:?} ({e}); run .ci/run or set WSGIBENCH_TEST_VENV",
                gunicorn()
            )
        });
    let mut server = Gunicorn(child);
    let began = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.0.try_wait() {
            let mut log = String::new();
            server
                .0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut log)
                .unwrap();
            panic!("gunicorn exited with {status}: {log}");
        }
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "gunicorn did not listen within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let s = run(
        &closed(port, 4, Some(2000), Some(Duration::from_secs(60))),
        1,
    );
    assert_eq!(s.digest.requests, 2000, "errors: {:?}", s.digest.errors);
    assert_eq!(s.digest.status.get("200"), Some(&2000));
    // Every answer is `Pong!` with its head: more than the body alone.
    assert!(s.digest.bytes_received > 2000 * 5);
}
