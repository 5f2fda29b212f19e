//! Running outside programs (docker, debootstrap, tar, sha256sum) with a time bound.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a finished command left.
#[derive(Debug)]
pub struct Ran {
    /// `None`: ended by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// A started command whose output is read as it comes, so a chatty one never blocks
/// on a full pipe.
pub struct Running {
    what: String,
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn start(cmd: &mut Command) -> Running {
        let what = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let (stdout, stderr) = (Arc::default(), Arc::default());
        let readers = vec![
            drain(child.stdout.take().unwrap(), Arc::clone(&stdout)),
            drain(child.stderr.take().unwrap(), Arc::clone(&stderr)),
        ];
        Running {
            what,
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Waits for the end, or kills the command after `limit` and panics with what it
    /// printed.
    pub fn wait(mut self, limit: Duration) -> Ran {
        let began = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // The pipes close when the process ends (none of these forks children
                // that keep them).
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                return Ran {
                    code: status.code(),
                    stdout: take(&self.stdout),
                    stderr: take(&self.stderr),
                };
            }
            if began.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "still running after {limit:?}: {}\nstdout:\n{}\nstderr:\n{}",
                    self.what,
                    take(&self.stdout),
                    take(&self.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only when a test panicked before waiting: never leave the child behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match from.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => into.lock().unwrap().extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    })
}

fn take(buf: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap()).into_owned()
}

/// Runs `cmd` to its end within `limit` (or panics).
pub fn bounded(cmd: &mut Command, limit: Duration) -> Ran {
    Running::start(cmd).wait(limit)
}

/// [`bounded`], and a failure is a panic naming the command and its stderr.
pub fn checked(cmd: &mut Command, limit: Duration) -> String {
    let what = format!("{cmd:?}");
    let ran = bounded(cmd, limit);
    assert!(
        ran.ok(),
        "{what} failed ({:?}):\n{}{}",
        ran.code,
        ran.stdout,
        ran.stderr
    );
    ran.stdout
}
