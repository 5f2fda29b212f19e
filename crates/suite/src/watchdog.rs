//! The watchdog: nothing a run starts (a server and its workers, pip and its compilers)
//! outlives the run, even when the run is killed with SIGKILL and runs no code at all.
//!
//! Why not `PR_SET_PDEATHSIG`: it fires when the *thread* that forked dies, not the
//! process, and it reaches only the child it was set on. gunicorn's and uWSGI's workers
//! are that child's children, so they would live on, orphaned.
//!
//! How it works, for one command ([`Watchdog::arm`], then `Command::spawn`):
//! 1. The run makes a pipe and forks a watchdog process that keeps only the read end.
//!    The watchdog leaves the run's process group, so a Ctrl-C at the terminal does not
//!    take it away before the run has stopped its server.
//! 2. The command's child, between fork and exec, makes itself a process group leader
//!    and writes `P` and its PID into the pipe. Its copy of the write end closes at exec
//!    (`O_CLOEXEC`), so from then on only the run holds it.
//! 3. When the run has stopped the group itself, it writes `D` ([`Watchdog::disarm`]):
//!    the watchdog exits without a signal. When the pipe reaches end of file without a
//!    `D`, the run is gone (the kernel closes a dead process's descriptors, whatever
//!    killed it), or dropped the [`Watchdog`]: the watchdog sends SIGKILL to the whole
//!    process group and exits.
//!
//! The group is known before the command runs a single instruction of its own, so no
//! fork of a worker can race the watchdog. A process that leaves the group (`setsid`)
//! escapes it; the servers of the catalog do not.
//!
//! The watchdog is forked, not executed: the suite needs no helper binary, and a library
//! test arms one as a run does. The child of a multi-threaded process may only make
//! async-signal-safe calls until it exits, so the watchdog is a handful of raw system
//! calls (`setpgid`, `prctl`, `close_range`, `read`, `kill`, `_exit`): no allocation,
//! no lock, no Rust I/O.
//!
//! Every armed command is also tagged with [`RUN_TAG_VAR`] in its environment, so a test
//! (or a user) can find what a run left behind by reading `/proc/*/environ`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The environment variable that tags every process a run launches. Set it before
/// `wsgibench run` to choose the tag; otherwise each run makes its own ([`run_tag`]).
pub const RUN_TAG_VAR: &str = "WSGIBENCH_RUN_TAG";

/// How long [`Watchdog::disarm`] waits for the watchdog to exit before leaving it to
/// be reaped when the run ends. It exits as soon as it reads `D`.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// This run's tag: [`RUN_TAG_VAR`] from the environment when set, else
/// `wsgibench-<pid>-<unix seconds>`, made once.
pub fn run_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        std::env::var(RUN_TAG_VAR)
            .ok()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                format!("wsgibench-{}-{secs}", std::process::id())
            })
    })
}

/// A watchdog process guarding one command's process group. Dropping it without
/// [`Watchdog::disarm`] makes the watchdog kill the group.
#[derive(Debug)]
pub struct Watchdog {
    pid: libc::pid_t,
    /// The write end: only this process holds it once the command has executed.
    pipe: Option<OwnedFd>,
}

impl Watchdog {
    /// Forks a watchdog and prepares `cmd` to report its process group to it; spawn
    /// `cmd` next. `cmd` becomes a process group leader (as `process_group(0)`) and
    /// gets [`RUN_TAG_VAR`] in its environment. Call at most once per `Command`.
    pub fn arm(cmd: &mut Command) -> io::Result<Watchdog> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills the two-element array; both ends are close-on-exec so no
        // server inherits them.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptors owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: the child runs only `watch`, which makes async-signal-safe system calls
        // and never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            watch(read.as_raw_fd());
        }
        drop(read);
        let wfd = write.as_raw_fd();
        cmd.env(RUN_TAG_VAR, run_tag());
        // SAFETY: in the command's child before exec: setpgid, getpid and write are
        // async-signal-safe; `wfd` is still open there (it closes at exec).
        unsafe {
            cmd.pre_exec(move || {
                if libc::setpgid(0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                let mut msg = [0u8; 5];
                msg[0] = b'P';
                msg[1..].copy_from_slice(&libc::getpid().to_ne_bytes());
                // Five bytes to a pipe are written whole (under PIPE_BUF) or not at all.
                if libc::write(wfd, msg.as_ptr().cast(), msg.len()) != msg.len() as isize {
                    // No watchdog, no server: better a failed start than an unguarded one.
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(Watchdog {
            pid,
            pipe: Some(write),
        })
    }

    /// The watchdog's PID.
    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// The group was stopped (or the command never started): the watchdog exits without
    /// a signal, and is reaped.
    pub fn disarm(mut self) {
        if let Some(pipe) = self.pipe.take() {
            // SAFETY: a one-byte write to our own descriptor.
            let _ = unsafe { libc::write(pipe.as_raw_fd(), b"D".as_ptr().cast(), 1) };
        }
    }

    /// Waits (bounded) for the watchdog to exit so it does not stay a zombie.
    fn reap(&self) {
        let deadline = Instant::now() + REAP_WAIT;
        loop {
            let mut status = 0;
            // SAFETY: our own child, by PID.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if r != 0 || Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Watchdog {
    /// Closes the pipe (after a `D` when disarmed; else the watchdog kills the group).
    fn drop(&mut self) {
        drop(self.pipe.take());
        self.reap();
    }
}

/// Runs `cmd` to its end as `Command::output` does, guarded: if this process dies
/// meanwhile, the command's whole group is killed.
pub fn output(cmd: &mut Command) -> io::Result<Output> {
    let dog = Watchdog::arm(cmd)?;
    let out = cmd.output();
    // The leader has been reaped; its group is done or orphaned helpers it forgot. A
    // `D` rather than a kill: the leader's PID is free again and could name another group.
    dog.disarm();
    out
}

/// The watchdog's whole life, in the forked child. Never returns.
fn watch(read: libc::c_int) -> ! {
    // SAFETY: raw system calls on our own process and descriptors; nothing here
    // allocates or takes a lock (see the module's documentation).
    unsafe {
        // Out of the run's group: a Ctrl-C meant for the run must not end the guard.
        libc::setpgid(0, 0);
        libc::prctl(libc::PR_SET_NAME, c"wsgibench-watch".as_ptr());
        // Keep only the read end: a copy of another guard's write end (or of the run's
        // stdout pipe, or of a lock) held here would keep it open after the run died.
        let fd = if read == 0 || libc::dup2(read, 0) == 0 {
            0
        } else {
            read
        };
        if fd != 0 || libc::syscall(libc::SYS_close_range, 1u32, u32::MAX, 0u32) != 0 {
            // Older kernels: close one by one up to the limit.
            let mut lim: libc::rlimit = std::mem::zeroed();
            let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
                lim.rlim_cur.min(1 << 20) as libc::c_int
            } else {
                1024
            };
            for f in 0..max {
                if f != fd {
                    libc::close(f);
                }
            }
        }
        let mut group: libc::pid_t = 0;
        loop {
            let mut tag = 0u8;
            match read_exact(fd, std::slice::from_mut(&mut tag)) {
                true if tag == b'P' => {
                    let mut pid = [0u8; 4];
                    if !read_exact(fd, &mut pid) {
                        break;
                    }
                    group = libc::pid_t::from_ne_bytes(pid);
                }
                true if tag == b'D' => libc::_exit(0),
                true => {}
                false => break,
            }
        }
        // End of file without `D`: the run is gone.
        if group > 1 {
            libc::kill(-group, libc::SIGKILL);
        }
        libc::_exit(0)
    }
}

/// Fills `buf` from `fd`; false at end of file or on an error other than EINTR.
///
/// # Safety
/// Async-signal-safe: only `read`.
unsafe fn read_exact(fd: libc::c_int, buf: &mut [u8]) -> bool {
    let mut got = 0;
    while got < buf.len() {
        let n = libc::read(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got);
        if n > 0 {
            got += n as usize;
        } else if n < 0 && *libc::__errno_location() == libc::EINTR {
            continue;
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    /// Whether any non-zombie process is in group `pgid`.
    fn group_alive(pgid: i32) -> bool {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
            .any(|stat| {
                let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
                let f: Vec<&str> = rest.split_whitespace().collect();
                f.len() > 2 && f[0] != "Z" && f[2] == pgid.to_string()
            })
    }

    fn wait_until(bound: Duration, mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + bound;
        while !done() {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    fn group_of_two() -> Command {
        let mut cmd = Command::new("sh");
        // The leader and a child that ignores SIGTERM: only a group SIGKILL ends both.
        cmd.args(["-c", "trap '' TERM; sleep 120 & sleep 120; wait"])
            .stdin(Stdio::null());
        cmd
    }

    #[test]
    fn a_dropped_guard_kills_the_whole_group() {
        let mut cmd = group_of_two();
        let dog = Watchdog::arm(&mut cmd).unwrap();
        let mut child = cmd.spawn().unwrap();
        let pgid = child.id() as i32;
        // Both processes exist and share the leader's group.
        assert!(wait_until(Duration::from_secs(30), || {
            std::fs::read_dir("/proc")
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
                .filter(|s| {
                    let f: Vec<&str> = s.rsplit_once(')').unwrap().1.split_whitespace().collect();
                    f[2] == pgid.to_string()
                })
                .count()
                >= 2
        }));
        let env = std::fs::read(format!("/proc/{pgid}/environ")).unwrap();
        let tagged = format!("{RUN_TAG_VAR}={}", run_tag());
        assert!(env.split(|&b| b == 0).any(|v| v == tagged.as_bytes()));
        // As if this process had died: the pipe closes without a `D`.
        drop(dog);
        child.wait().unwrap();
        assert!(
            wait_until(Duration::from_secs(30), || !group_alive(pgid)),
            "group {pgid} survived its watchdog"
        );
    }

    #[test]
    fn a_disarmed_guard_leaves_the_group_alone() {
        let mut cmd = group_of_two();
        let dog = Watchdog::arm(&mut cmd).unwrap();
        let watchdog = dog.pid() as i32;
        let mut child = cmd.spawn().unwrap();
        let pgid = child.id() as i32;
        dog.disarm();
        // The watchdog was reaped; the group is still there.
        assert!(wait_until(Duration::from_secs(30), || reaped(watchdog)));
        assert!(group_alive(pgid));
        // SAFETY: our own child's group.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        child.wait().unwrap();
    }

    /// Whether `pid` is no longer our child (reaped, or never was).
    fn reaped(pid: i32) -> bool {
        let mut status = 0;
        // SAFETY: a non-blocking query about one PID.
        unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) == -1 }
    }

    #[test]
    fn output_runs_the_command_in_its_own_group() {
        let out = output(Command::new("sh").args(["-c", "echo $$; cat /proc/$$/stat"])).unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let (pid, stat) = text.split_once('\n').unwrap();
        let pgrp = stat.rsplit_once(')').unwrap().1.split_whitespace().nth(2);
        assert_eq!(
            Some(pid.trim()),
            pgrp,
            "the command leads its own group: {text}"
        );
    }

    #[test]
    fn a_command_that_cannot_start_leaves_no_watchdog() {
        let mut cmd = Command::new("/nonexistent/server");
        let dog = Watchdog::arm(&mut cmd).unwrap();
        let watchdog = dog.pid() as i32;
        assert!(cmd.spawn().is_err());
        dog.disarm();
        assert!(wait_until(Duration::from_secs(30), || reaped(watchdog)));
    }
}
