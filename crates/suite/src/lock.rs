//! Exclusive locks between runs on one machine: one pip per virtualenv folder, and one
//! run measuring at a time.
//!
//! They are `flock` locks, so a run killed with SIGKILL releases them with its
//! descriptors: there is never a stale lock to clean up. Their files are opened
//! close-on-exec, so no server inherits (and prolongs) a lock, and the watchdogs close
//! every descriptor they were forked with.
//!
//! Two runs at once would otherwise collide three ways:
//! - the venv: two pips writing one folder ([`crate::PythonEnv::ensure`] holds a lock
//!   per venv while it checks and builds);
//! - the CPUs: both would pin their server to the same CPU and their generator to the
//!   others, so each would measure the other. `wsgibench run` holds [`measure_lock_path`]
//!   from its first case until its report is written, so a second run waits, and says so;
//! - the ports: each server's port is picked free just before launch
//!   ([`crate::free_port`]), below the kernel's ephemeral range, so no outgoing
//!   connection (the generator's, anyone's) can take it meanwhile; with the measuring
//!   lock the picks of two runs do not even interleave.

use std::fs;
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// An exclusive lock, held until dropped (or the process dies).
#[derive(Debug)]
pub struct FileLock {
    _file: fs::File,
}

impl FileLock {
    /// Takes an exclusive lock on `path` (made if missing). When another process holds
    /// it, calls `waiting` once with that process's PID (when the file names one), then
    /// blocks until it is free.
    pub fn acquire(path: &Path, waiting: impl FnOnce(Option<u32>)) -> io::Result<FileLock> {
        let open = |write: bool| {
            fs::OpenOptions::new()
                .read(true)
                .write(write)
                .create(write)
                .truncate(false)
                // Readable by every user, so runs of two users on one machine still see
                // each other's lock (a read-only descriptor can hold an flock).
                .mode(0o644)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
        };
        let (mut file, writable) = match open(true) {
            Ok(f) => (f, true),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => (open(false)?, false),
            Err(e) => return Err(e),
        };
        if !flock(&file, libc::LOCK_EX | libc::LOCK_NB)? {
            let mut text = String::new();
            let holder = file
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| text.trim().parse().ok());
            waiting(holder);
            while !flock(&file, libc::LOCK_EX)? {}
        }
        if writable {
            // Who holds it, for the next one who waits. Best effort: a lock is a lock
            // even when its file cannot say whose.
            let _ = file
                .set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| write!(file, "{}", std::process::id()));
        }
        Ok(FileLock { _file: file })
    }
}

/// Whether the lock was taken; false when it is held elsewhere (`LOCK_NB`) or a signal
/// interrupted the wait.
fn flock(file: &fs::File, op: libc::c_int) -> io::Result<bool> {
    // SAFETY: flock on a descriptor we own; the lock goes when the file closes.
    if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => Ok(false),
        _ => Err(e),
    }
}

/// The machine-wide measuring lock: in the temporary folder rather than the per-user
/// cache, because the CPUs are shared by every user.
pub fn measure_lock_path() -> PathBuf {
    std::env::temp_dir().join("wsgibench-measuring.lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_and_hears_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let first = FileLock::acquire(&path, |_| panic!("free at first")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn({
            let path = path.clone();
            move || {
                let lock = FileLock::acquire(&path, |holder| tx.send(holder).unwrap());
                lock.unwrap()
            }
        });
        // flock locks belong to open files, so a second open in this process waits too.
        let holder = rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap();
        assert_eq!(holder, Some(std::process::id()));
        drop(first);
        let _second = waiter.join().unwrap();
    }
}
