//! Running one server case: launch, readiness, resource sampling, stop.
//!
//! The server is started in its own process group (so one signal reaches the master
//! and every worker it forks) and pinned to its CPUs (one, or N with `--workers N`, so
//! it never competes with the load generator, which takes the others). Its stdout and stderr go to a log file whose last
//! lines explain a failed start.
//!
//! Each server is launched under a [`Watchdog`]: if the run dies, even by SIGKILL, the
//! watchdog kills the server's whole process group, workers included. Every server's
//! environment carries the run's tag ([`crate::watchdog::RUN_TAG_VAR`]).
//!
//! Only processes this module started are signalled, always by their PID or PGID, never
//! by name. Readiness is a raw `GET /` over a `TcpStream` with a status-line check:
//! the suite does not parse HTTP beyond `HTTP/1.x 200`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::catalog::{Case, PlaceholderError, Vars};
use crate::pyenv::PythonEnv;
use crate::watchdog::Watchdog;

/// Lines of the server's log quoted when it fails.
pub const LOG_TAIL_LINES: usize = 20;
/// Between SIGTERM and SIGKILL: long enough for gunicorn and uWSGI to stop their
/// workers cleanly.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// After SIGKILL, how long to wait for the processes to disappear.
const KILL_SETTLE: Duration = Duration::from_secs(2);
/// After the kill, how long the port may still accept connections before the stop is
/// reported as incomplete.
pub const PORT_RELEASE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the sampler reads `/proc`.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// Why a server is not running and answering.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Placeholder(#[from] PlaceholderError),
    /// The log file cannot be created; check the output folder.
    #[error("case `{case}`: cannot create the log file {}: {source}", path.display())]
    Log {
        case: String,
        path: PathBuf,
        source: io::Error,
    },
    /// The program could not be executed (missing binary, not executable).
    #[error("case `{case}` failed to start: cannot execute `{program}`: {source}")]
    Spawn {
        case: String,
        program: String,
        source: io::Error,
    },
    /// The server exited before answering; its log says why.
    #[error("case `{case}` failed to start: the server exited ({status}) before answering; last lines of {}:\n{log_tail}", log.display())]
    FailedToStart {
        case: String,
        status: String,
        log: PathBuf,
        log_tail: String,
    },
    /// The server kept running but never answered `GET /` with a 200 in time.
    #[error("case `{case}` failed to start: no answer from the app (a `200`, or a `500` it raised) to `GET /` on port {port} within {timeout:?}{}; last lines of {}:\n{log_tail}", last_answer.as_ref().map(|a| format!(" (last answer: `{a}`)")).unwrap_or_default(), log.display())]
    NotReady {
        case: String,
        port: u16,
        timeout: Duration,
        last_answer: Option<String>,
        log: PathBuf,
        log_tail: String,
    },
}

impl LaunchError {
    /// The server's log lines, when the error carries them.
    pub fn log_tail(&self) -> Option<&str> {
        match self {
            LaunchError::FailedToStart { log_tail, .. }
            | LaunchError::NotReady { log_tail, .. } => Some(log_tail),
            _ => None,
        }
    }
}

/// What [`Server::stop`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReport {
    /// The leader's exit status, as text.
    pub status: String,
    /// Whether SIGKILL was needed after the grace period.
    pub killed: bool,
    /// Whether the port refused connections at the end.
    pub port_free: bool,
}

/// One reading of the server's whole process tree: the results model's sample.
pub use results::ServerSample as ResourceSample;

/// How many ports below the kernel's ephemeral range [`free_port`] picks from.
const PORT_BAND: u16 = 8192;

/// A port on 127.0.0.1 that was free a moment ago, for a server to bind next.
///
/// It is picked just below the kernel's ephemeral range (`ip_local_port_range`), at a
/// random place in a band of `PORT_BAND` ports, and checked by binding it. The kernel
/// gives ports in that range to every outgoing connection and to every bind of port 0
/// on the machine (a load generator's thousands of connections, another test's server),
/// so a port taken there could be gone again before the server binds it; below the
/// range only a server that names its port explicitly can take it. Falls back to the
/// kernel's pick (port 0) when the range leaves no room below it.
pub fn free_port() -> io::Result<u16> {
    let low = ephemeral_low().unwrap_or(32768);
    let start = low.saturating_sub(PORT_BAND).max(1024);
    if start < low {
        let span = u32::from(low - start);
        // Spread the picks of concurrent callers; any value will do.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let seed = nanos ^ std::process::id().wrapping_mul(2_654_435_761);
        for i in 0..span {
            let port = start + ((seed.wrapping_add(i)) % span) as u16;
            if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(port);
            }
        }
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The first port of the kernel's ephemeral range.
fn ephemeral_low() -> Option<u16> {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The CPUs this process may run on (its affinity mask), ascending: the engine's own
/// reading, so the runner and the generator never disagree. The runner pins the server
/// to the last and the generator to the rest; with one CPU they share it.
pub use engine::allowed_cpus;

/// A running server case.
pub struct Server {
    case: String,
    child: Child,
    pid: i32,
    port: u16,
    log: PathBuf,
    version: Option<String>,
    sampler: Option<Sampler>,
    exited: Option<ExitStatus>,
    stopped: bool,
    /// Kills the group if this process dies before [`Server::stop`]; disarmed there.
    watchdog: Option<Watchdog>,
}

struct Sampler {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<Vec<ResourceSample>>,
}

impl Server {
    /// Starts `case` on `127.0.0.1:port` with the venv `env`, pinned to `cpu` when
    /// given, logging to `log_path`. Returns once the process exists; call
    /// [`Server::wait_ready`] before sending load.
    /// `app` is the `module:callable` it serves ([`crate::App::callable_for`]), imported
    /// from python/ or from `app_dir`, which is then the server's working directory.
    pub fn launch(
        case: &Case,
        app: &str,
        app_dir: Option<&Path>,
        env: &PythonEnv,
        port: u16,
        cpu: Option<usize>,
        log_path: &Path,
    ) -> Result<Server, LaunchError> {
        let cpus: Vec<usize> = cpu.into_iter().collect();
        Server::launch_workers(case, app, app_dir, env, port, None, &cpus, log_path)
    }

    /// [`Server::launch`] with `--workers` (`None`: the case's argv as without the
    /// flag) and pinned to the CPU set `cpus` (empty: unpinned).
    #[allow(clippy::too_many_arguments)]
    pub fn launch_workers(
        case: &Case,
        app: &str,
        app_dir: Option<&Path>,
        env: &PythonEnv,
        port: u16,
        workers: Option<u32>,
        cpus: &[usize],
        log_path: &Path,
    ) -> Result<Server, LaunchError> {
        let python = env.python();
        let venv_bin = env.bin_dir();
        let argv = case.argv(&Vars {
            python: &python,
            venv_bin: &venv_bin,
            host: "127.0.0.1",
            port,
            app,
            python_dir: env.python_dir(),
            workers,
        })?;
        let mut server = Server::spawn_on(
            &case.name,
            &argv,
            app_dir.unwrap_or(env.python_dir()),
            &env.server_env(app_dir),
            cpus,
            log_path,
        )?;
        server.port = port;
        server.version = env.case_version(case);
        Ok(server)
    }

    /// The command that runs `case` in the foreground on `host:port`, for a process
    /// whose only job is that server (a container: `wsgibench serve-case`). Nothing
    /// supervises it; whoever started the container stops it.
    pub fn command(
        case: &Case,
        app: &str,
        app_dir: Option<&Path>,
        env: &PythonEnv,
        host: &str,
        port: u16,
    ) -> Result<std::process::Command, LaunchError> {
        let python = env.python();
        let venv_bin = env.bin_dir();
        let argv = case.argv(&Vars {
            python: &python,
            venv_bin: &venv_bin,
            host,
            port,
            app,
            python_dir: env.python_dir(),
            workers: None,
        })?;
        let mut command = std::process::Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .current_dir(app_dir.unwrap_or(env.python_dir()))
            .envs(env.server_env(app_dir));
        Ok(command)
    }

    /// Starts any command as a supervised server; [`Server::launch`] is this plus the
    /// catalog's expansion. `dir` is the working directory (the app's folder, so
    /// `app:pong` imports); `vars` are set in its environment.
    pub fn spawn(
        case: &str,
        argv: &[String],
        dir: &Path,
        vars: &[(&str, std::ffi::OsString)],
        cpu: Option<usize>,
        log_path: &Path,
    ) -> Result<Server, LaunchError> {
        let cpus: Vec<usize> = cpu.into_iter().collect();
        Server::spawn_on(case, argv, dir, vars, &cpus, log_path)
    }

    /// [`Server::spawn`] pinned to a set of CPUs (empty: unpinned): a server of N
    /// workers gets N CPUs, and its workers inherit the set.
    pub fn spawn_on(
        case: &str,
        argv: &[String],
        dir: &Path,
        vars: &[(&str, std::ffi::OsString)],
        cpus: &[usize],
        log_path: &Path,
    ) -> Result<Server, LaunchError> {
        let log_err = |source| LaunchError::Log {
            case: case.to_string(),
            path: log_path.to_path_buf(),
            source,
        };
        if let Some(parent) = log_path.parent() {
            fs::create_dir_all(parent).map_err(log_err)?;
        }
        let out = fs::File::create(log_path).map_err(log_err)?;
        let err = out.try_clone().map_err(log_err)?;
        let (program, args) = argv.split_first().ok_or_else(|| LaunchError::Spawn {
            case: case.to_string(),
            program: String::new(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "empty command"),
        })?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(dir)
            .env("PYTHONPATH", dir)
            .envs(vars.iter().map(|(k, v)| (k, v)))
            // Unbuffered, so a crash's last words reach the log.
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own group: one signal to -pgid reaches the master and its workers.
            .process_group(0);
        if !cpus.is_empty() {
            let set = cpu_set(cpus);
            // SAFETY: sched_setaffinity is a plain syscall, async-signal-safe; the set is
            // built before the fork and copied into the child, which allocates nothing.
            unsafe {
                cmd.pre_exec(move || pin_to_cpus(&set));
            }
        }
        let spawn_err = |source| LaunchError::Spawn {
            case: case.to_string(),
            program: program.clone(),
            source,
        };
        let watchdog = Watchdog::arm(&mut cmd).map_err(spawn_err)?;
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                watchdog.disarm();
                return Err(spawn_err(e));
            }
        };
        Ok(Server {
            case: case.to_string(),
            pid: child.id() as i32,
            child,
            port: 0,
            log: log_path.to_path_buf(),
            version: None,
            sampler: None,
            exited: None,
            stopped: false,
            watchdog: Some(watchdog),
        })
    }

    /// Sets the port readiness and stop check (for servers made with [`Server::spawn`]).
    pub fn with_port(mut self, port: u16) -> Server {
        self.port = port;
        self
    }

    pub fn case(&self) -> &str {
        &self.case
    }
    pub fn pid(&self) -> u32 {
        self.pid as u32
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn log_path(&self) -> &Path {
        &self.log
    }
    /// E.g. `gunicorn 27.0.1, meinheld 1.0.2`; `None` when no version was found.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The last `n` lines of the server's log.
    pub fn log_tail(&self, n: usize) -> String {
        log_tail(&self.log, n)
    }

    /// `Some(status)` once the leader has exited (a crash, when load is running).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Polls `GET /` until the app answers (see `app_ran`), the server exits, or
    /// `timeout` passes.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<(), LaunchError> {
        let deadline = Instant::now() + timeout;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut last_answer = None;
        loop {
            if let Some(status) = self.exited() {
                return Err(LaunchError::FailedToStart {
                    case: self.case.clone(),
                    status: status.to_string(),
                    log: self.log.clone(),
                    log_tail: self.log_tail(LOG_TAIL_LINES),
                });
            }
            match probe(addr) {
                Ok(line) if app_ran(&line) => return Ok(()),
                Ok(line) => last_answer = Some(line),
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                return Err(LaunchError::NotReady {
                    case: self.case.clone(),
                    port: self.port,
                    timeout,
                    last_answer,
                    log: self.log.clone(),
                    log_tail: self.log_tail(LOG_TAIL_LINES),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts sampling the process tree every [`SAMPLE_INTERVAL`]; a running sampler is
    /// replaced (its samples dropped).
    pub fn start_sampler(&mut self) {
        self.start_sampler_every(SAMPLE_INTERVAL);
    }

    pub fn start_sampler_every(&mut self, every: Duration) {
        let _ = self.stop_sampler();
        let (stop, stopped) = mpsc::channel();
        let leader = self.pid;
        let thread = std::thread::Builder::new()
            .name(format!("sampler-{}", self.case))
            .spawn(move || {
                let mut samples = Vec::new();
                sample_loop(
                    || process_tree(leader),
                    every,
                    &stopped,
                    |s| samples.push(s),
                );
                samples
            })
            .expect("spawning a thread");
        self.sampler = Some(Sampler { stop, thread });
    }

    /// Stops the sampler and returns its samples (empty if none was running).
    pub fn stop_sampler(&mut self) -> Vec<ResourceSample> {
        match self.sampler.take() {
            Some(s) => {
                let _ = s.stop.send(());
                s.thread.join().unwrap_or_default()
            }
            None => Vec::new(),
        }
    }

    /// SIGTERM to the process group, SIGKILL after [`STOP_GRACE`], then waits (bounded)
    /// until the port refuses connections.
    pub fn stop(mut self) -> StopReport {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> StopReport {
        self.stopped = true;
        let _ = self.stop_sampler();
        // Remember the tree now: a worker that left the group (setsid) would escape the
        // group signal, and once the leader is gone its children are re-parented.
        let tree = process_tree(self.pid);
        self.signal_group(libc::SIGTERM);
        let mut killed = false;
        let deadline = Instant::now() + STOP_GRACE;
        while !self.all_gone(&tree) {
            if Instant::now() >= deadline {
                self.signal_group(libc::SIGKILL);
                for p in &tree {
                    if p.pid != self.pid && p.is_same_process() {
                        // SAFETY: a PID we saw as our descendant with the same start
                        // time, so it was not reused by another process.
                        unsafe { libc::kill(p.pid, libc::SIGKILL) };
                    }
                }
                killed = true;
                // SIGKILL is delivered asynchronously; give the kernel a moment so the
                // port check below does not race the dying workers.
                let deadline = Instant::now() + KILL_SETTLE;
                while !self.all_gone(&tree) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = match self.child.wait() {
            Ok(s) => {
                self.exited = Some(s);
                s.to_string()
            }
            Err(e) => format!("unknown ({e})"),
        };
        // The group is gone (or was sent SIGKILL): the watchdog has nothing left to do.
        if let Some(w) = self.watchdog.take() {
            w.disarm();
        }
        let port_free = self.port == 0 || wait_port_free(self.port, PORT_RELEASE_TIMEOUT);
        StopReport {
            status,
            killed,
            port_free,
        }
    }

    /// Signals our process group. Once the leader is reaped its PID may be reused, but
    /// Linux never hands out a PID still in use as a group ID: while a member other than
    /// the leader lives, `-pid` is still our group.
    fn signal_group(&mut self, sig: i32) {
        let leader_alive = self.exited().is_none();
        let pgid = self.pid;
        if pgid > 1
            && (leader_alive
                || all_procs()
                    .iter()
                    .any(|p| p.pgrp == pgid && p.pid != pgid && p.state != 'Z'))
        {
            // SAFETY: our group (process_group(0) made pgid == the leader's pid).
            unsafe { libc::kill(-pgid, sig) };
        }
    }

    fn all_gone(&mut self, tree: &[ProcInfo]) -> bool {
        self.exited().is_some()
            && tree
                .iter()
                .all(|p| p.pid == self.pid || !p.is_same_process())
            && !group_alive(self.pid)
    }
}

impl Drop for Server {
    /// A server must not outlive its supervisor (a panicking test, an early return).
    fn drop(&mut self) {
        // Also when the leader exited: its workers may live on in the group.
        if !self.stopped {
            let _ = self.stop_inner();
        }
    }
}

/// The affinity mask of `cpus`, made in the parent (the child only applies it).
fn cpu_set(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is plain data; CPU_SET bounds-checks against its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        set
    }
}

fn pin_to_cpus(set: &libc::cpu_set_t) -> io::Result<()> {
    // SAFETY: a plain syscall on this process with a mask of the right size.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether any non-zombie process is still in group `pgid`. Zombies are ignored:
/// orphaned workers may wait for a reaper that this container does not have.
fn group_alive(pgid: i32) -> bool {
    all_procs().iter().any(|p| p.pgrp == pgid && p.state != 'Z')
}

/// Reads the `HTTP/1.x NNN` status line of `GET /`.
/// Waits until `host:port` answers `GET /` with 200, for a server this process did
/// not start (a Kubernetes Service); `Err` says what it last answered, if anything.
pub fn wait_until_answers(host: &str, port: u16, timeout: Duration) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let deadline = Instant::now() + timeout;
    loop {
        let addr = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next());
        let last = match addr.map(probe) {
            Some(Ok(line)) if app_ran(&line) => return Ok(()),
            Some(Ok(line)) => format!("last answer {line:?}"),
            Some(Err(e)) => e.to_string(),
            None => "the name resolves to no address (yet)".to_string(),
        };
        if Instant::now() >= deadline {
            return Err(format!("not ready within {timeout:?}: {last}"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn probe(addr: SocketAddr) -> io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        addr
    )?;
    let mut buf = Vec::with_capacity(128);
    let mut chunk = [0u8; 128];
    while !buf.contains(&b'\n') && buf.len() < 1024 {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(String::from_utf8_lossy(line).trim_end().to_string())
}

/// Whether a status line says the app ran: a 200, or a 500 from the app raising (the
/// check of the app's answer then reports it, with its traceback, at once instead of
/// after the whole readiness timeout). A 502 or 503 is a server still starting its
/// workers.
fn app_ran(line: &str) -> bool {
    let mut parts = line.split(' ');
    matches!(parts.next(), Some("HTTP/1.1" | "HTTP/1.0"))
        && matches!(parts.next(), Some("200" | "500"))
}

/// Waits until nothing accepts on the port.
fn wait_port_free(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the port accepts a connection right now.
pub fn port_in_use(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

pub fn log_tail(path: &Path, n: usize) -> String {
    let text = fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The fields of `/proc/PID/stat` the supervisor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcInfo {
    pub(crate) pid: i32,
    pub(crate) state: char,
    ppid: i32,
    pgrp: i32,
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
    /// Start time since boot, in clock ticks; with the PID it names one process.
    start: u64,
}

impl ProcInfo {
    fn read(pid: i32) -> Option<ProcInfo> {
        parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Whether this PID still names the same, living process.
    fn is_same_process(&self) -> bool {
        matches!(ProcInfo::read(self.pid), Some(p) if p.start == self.start && p.state != 'Z')
    }
}

fn parse_stat(stat: &str) -> Option<ProcInfo> {
    // The command name is in parentheses and may hold spaces and ')': split at the last.
    let (head, rest) = stat.rsplit_once(')')?;
    let pid = head.split_once('(')?.0.trim().parse().ok()?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) ppid(4) pgrp(5) ... utime(14) stime(15) ... starttime(22).
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(ProcInfo {
        pid,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        cpu_ticks: num(11)? + num(12)?,
        start: num(19)?,
    })
}

pub(crate) fn all_procs() -> Vec<ProcInfo> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(ProcInfo::read)
        .collect()
}

/// The leader and all its descendants (by parent PID), zombies excluded.
fn process_tree(leader: i32) -> Vec<ProcInfo> {
    let procs = all_procs();
    let mut children: HashMap<i32, Vec<&ProcInfo>> = HashMap::new();
    for p in &procs {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<&ProcInfo> = procs.iter().filter(|p| p.pid == leader).collect();
    while let Some(p) = stack.pop() {
        if !seen.insert(p.pid) {
            continue;
        }
        if p.state != 'Z' {
            out.push(*p);
        }
        if let Some(c) = children.get(&p.pid) {
            stack.extend(c.iter().copied());
        }
    }
    out
}

fn rss_bytes(pid: i32, page: u64) -> u64 {
    // statm: size resident shared ...; resident is in pages.
    fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page)
}

/// Samples the processes `select` returns every `every`, handing each sample to
/// `on_sample`, until `stopped` says so (or its sender is gone).
pub(crate) fn sample_loop(
    select: impl Fn() -> Vec<ProcInfo>,
    every: Duration,
    stopped: &mpsc::Receiver<()>,
    mut on_sample: impl FnMut(ResourceSample),
) {
    // SAFETY: sysconf only reads configuration.
    let (tck, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK).max(1) as f64,
            libc::sysconf(libc::_SC_PAGESIZE).max(1) as u64,
        )
    };
    let started = Instant::now();
    // Ticks per (pid, start time), so a PID reused by a new process starts from zero.
    let snapshot = |tree: &[ProcInfo]| -> HashMap<(i32, u64), u64> {
        tree.iter()
            .map(|p| ((p.pid, p.start), p.cpu_ticks))
            .collect()
    };
    let mut prev = snapshot(&select());
    let mut prev_at = Instant::now();
    loop {
        match stopped.recv_timeout(every) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let tree = select();
        let now = Instant::now();
        let ticks: u64 = tree
            .iter()
            .map(|p| {
                // A process born during the interval used all its ticks in it.
                let before = prev.get(&(p.pid, p.start)).copied().unwrap_or(0);
                p.cpu_ticks.saturating_sub(before)
            })
            .sum();
        let secs = now.duration_since(prev_at).as_secs_f64().max(1e-3);
        let current = snapshot(&tree);
        let started_now = current.keys().filter(|k| !prev.contains_key(k)).count() as u32;
        let exited_now = prev.keys().filter(|k| !current.contains_key(k)).count() as u32;
        on_sample(ResourceSample {
            t_s: now.duration_since(started).as_secs_f64(),
            cpu_percent: ticks as f64 / tck / secs * 100.0,
            rss_mib: tree.iter().map(|p| rss_bytes(p.pid, page)).sum::<u64>() as f64
                / (1024.0 * 1024.0),
            processes: tree.len() as u32,
            processes_started: started_now,
            processes_exited: exited_now,
        });
        prev = current;
        prev_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let line = "4242 (we ird) name)) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 98765 1000 50 18446744073709551615";
        let p = parse_stat(line).unwrap();
        assert_eq!(
            p,
            ProcInfo {
                pid: 4242,
                state: 'S',
                ppid: 1,
                pgrp: 4242,
                cpu_ticks: 10,
                start: 98765
            }
        );
    }

    #[test]
    fn ready_once_the_app_ran() {
        assert!(app_ran("HTTP/1.1 200 OK"));
        assert!(app_ran("HTTP/1.0 200"));
        assert!(app_ran("HTTP/1.1 500 Internal Server Error"));
        assert!(!app_ran("HTTP/1.1 502 Bad Gateway"));
        assert!(!app_ran("HTTP/1.1 503 Service Unavailable"));
        assert!(!app_ran("HTTP/1.1 2000"));
        assert!(!app_ran(""));
    }

    #[test]
    fn this_process_may_run_somewhere() {
        assert!(!allowed_cpus().is_empty());
    }

    #[test]
    fn free_ports_are_free_and_below_the_ephemeral_range() {
        let p = free_port().unwrap();
        assert!(p > 0);
        assert!(!port_in_use(p));
        if let Some(low) = ephemeral_low().filter(|&l| l > 1024) {
            assert!(p < low, "{p} is in the ephemeral range from {low}");
        }
    }

    fn sh(script: &str, dir: &Path) -> Server {
        Server::spawn(
            "sh",
            &["sh".into(), "-c".into(), script.into()],
            dir,
            &[],
            Some(0),
            &dir.join("server.log"),
        )
        .unwrap()
    }

    #[test]
    fn early_exit_is_a_failed_start_with_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sh("echo booting; echo 'no such app' >&2; exit 3", dir.path())
            .with_port(free_port().unwrap());
        let e = s.wait_ready(Duration::from_secs(10)).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, LaunchError::FailedToStart { .. }), "{text}");
        assert!(text.contains("failed to start"), "{text}");
        assert!(
            e.log_tail().unwrap().contains("booting\nno such app"),
            "{text}"
        );
    }

    #[test]
    fn a_silent_server_is_not_ready_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sh("sleep 30", dir.path()).with_port(free_port().unwrap());
        let started = Instant::now();
        let e = s.wait_ready(Duration::from_millis(500)).unwrap_err();
        assert!(matches!(e, LaunchError::NotReady { .. }), "{e}");
        let report = s.stop();
        assert!(!report.killed, "sh dies of SIGTERM");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn stop_reaches_the_whole_group_and_kills_after_grace() {
        let dir = tempfile::tempdir().unwrap();
        // The parent ignores SIGTERM and its child too, so only SIGKILL ends them.
        let mut s = sh("trap '' TERM; sleep 60 & sleep 60; wait", dir.path());
        std::thread::sleep(Duration::from_millis(200));
        let tree = process_tree(s.pid as i32);
        assert!(tree.len() >= 2, "{tree:?}");
        s.start_sampler_every(Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(350));
        let samples = s.stop_sampler();
        assert!(samples.len() >= 2, "{samples:?}");
        assert!(samples.iter().all(|x| x.rss_mib > 0.0 && x.processes >= 2));
        let started = Instant::now();
        let report = s.stop();
        assert!(report.killed);
        assert!(started.elapsed() < STOP_GRACE + Duration::from_secs(3));
        assert!(tree.iter().all(|p| !p.is_same_process()), "{tree:?}");
    }

    #[test]
    fn sampler_sees_cpu_of_a_busy_child() {
        let dir = tempfile::tempdir().unwrap();
        // A grandchild burns CPU; the leader only waits.
        let mut s = sh("(while :; do :; done) & wait", dir.path());
        s.start_sampler_every(Duration::from_millis(300));
        std::thread::sleep(Duration::from_millis(2000));
        let samples = s.stop_sampler();
        let busiest = samples.iter().map(|x| x.cpu_percent).fold(0.0, f64::max);
        // The leader only waits, so any CPU seen is the grandchild's. The bar is low on
        // purpose: on a machine where dozens of busy loops share two cores, this one
        // gets a few percent (an earlier bar of 20 % failed under load).
        assert!(busiest > 2.0, "{samples:?}");
        let _ = s.stop();
    }
}
