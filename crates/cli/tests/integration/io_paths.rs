//! `--io`: `auto` takes io_uring for many connections per worker and epoll for few;
//! forced io_uring really runs on a ring (an io_uring descriptor in
//! /proc/PID/fdinfo, not one `sendto`), forced epoll really sends with `sendto`, and
//! where a seccomp filter denies `io_uring_setup` (as Docker's default profile does)
//! `--io auto` falls back to epoll saying so in one line while `--io uring` refuses.
//! The filter is put on the child process only, never on the machine.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

const LIMIT: Duration = Duration::from_secs(60);

fn strace() -> Option<std::path::PathBuf> {
    let found = ["/usr/bin/strace", "/bin/strace"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists());
    testkit::outside_tool(
        &testkit::Tool {
            name: "strace",
            debian_package: "strace",
        },
        found,
    )
}

fn load_args(port: u16, io: &str, json: &Path) -> Vec<String> {
    load_args_with(port, io, json, 4)
}

fn load_args_with(port: u16, io: &str, json: &Path, connections: u32) -> Vec<String> {
    [
        "load",
        &format!("http://127.0.0.1:{port}/"),
        "-q",
        "-t",
        "1",
        "-c",
        &connections.to_string(),
        "-n",
        "2000",
        "--io",
        io,
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([json.display().to_string()])
    .collect()
}

/// `sendto` calls of `wsgibench load --io IO` under strace, and its summary.
fn sendto_calls(io: &str) -> Option<(usize, serde_json::Value)> {
    let strace = strace()?;
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let trace = dir.path().join("trace");
    let binary = wsgibench().get_program().to_owned();
    let out = run_bounded(
        Command::new(strace)
            .args([
                "-f",
                "-qq",
                "-e",
                "trace=sendto,sendmsg,io_uring_enter",
                "-o",
            ])
            .arg(&trace)
            .arg(binary)
            .args(load_args(server.port, io, &json)),
        LIMIT,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let calls = std::fs::read_to_string(&trace).unwrap();
    let count = |name: &str| calls.lines().filter(|l| l.contains(name)).count();
    eprintln!(
        "--io {io}: {} sendto, {} io_uring_enter for 2000 requests",
        count("sendto("),
        count("io_uring_enter(")
    );
    Some((count("sendto("), read_json(&json)))
}

/// Where io_uring is available (this machine), `auto` takes it from
/// `engine::URING_FROM_CONNECTIONS` connections per worker, and epoll below: there a
/// request is mostly a wake-up, which io_uring makes dearer (docs/benchmarks.md).
#[test]
fn auto_takes_io_uring_for_many_connections_per_worker_and_epoll_for_few() {
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    for (connections, path) in [(4, "epoll"), (64, "io_uring")] {
        let json = dir.path().join(format!("{connections}.json"));
        let out = run_bounded(
            wsgibench().args(load_args_with(server.port, "auto", &json, connections)),
            LIMIT,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let summary = read_json(&json);
        assert_eq!(summary["io"], path, "-c {connections}");
        assert_eq!(summary["requests"], 2000);
    }
}

#[test]
fn forced_uring_sends_without_a_single_sendto_and_epoll_with_one_per_request() {
    let Some((uring_sendto, summary)) = sendto_calls("uring") else {
        return;
    };
    assert_eq!(summary["io"], "io_uring");
    assert_eq!(summary["requests"], 2000);
    assert_eq!(uring_sendto, 0, "io_uring sends through the ring");
    // The same count on epoll finds them, so the count above means something.
    let (epoll_sendto, summary) = sendto_calls("epoll").expect("strace was found above");
    assert_eq!(summary["io"], "epoll");
    assert!(epoll_sendto >= 2000, "{epoll_sendto} sendto on epoll");
}

/// The descriptors of process `pid` that are io_uring instances, with their fdinfo.
fn io_uring_fds(pid: u32) -> Vec<String> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| target.to_string_lossy().contains("io_uring"))
        })
        .filter_map(|fd| {
            std::fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .ok()
        })
        .collect()
}

#[test]
fn forced_uring_holds_an_io_uring_descriptor_while_it_runs() {
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let child = wsgibench()
        .args([
            "load",
            &format!("http://127.0.0.1:{}/", server.port),
            "-q",
            "-c",
            "4",
            "-t",
            "2",
            "-d",
            "3s",
            "--io",
            "uring",
            "--json",
        ])
        .arg(&json)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let began = Instant::now();
    let mut seen = Vec::new();
    while seen.is_empty() && began.elapsed() < Duration::from_secs(20) {
        seen = io_uring_fds(child.id());
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = wait_bounded(child, LIMIT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // One ring per worker; the kernel's fdinfo of a ring shows its queues.
    assert!(!seen.is_empty(), "no io_uring descriptor in /proc/PID/fd");
    assert!(
        seen.iter().any(|info| info.contains("SqMask")),
        "fdinfo: {seen:?}"
    );
    assert_eq!(read_json(&json)["io"], "io_uring");
    assert!(server.requests() > 0);
}

/// The BPF program of a seccomp filter that makes `io_uring_setup` fail with EPERM
/// (what Docker's default profile answers) and allows every other call.
fn deny_io_uring_setup() -> Vec<libc::sock_filter> {
    #[cfg(target_arch = "x86_64")]
    const ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
    #[cfg(target_arch = "aarch64")]
    const ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
    const LOAD_WORD: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JUMP_IF_EQUAL: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const RETURN: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    const ALLOW: u32 = 0x7fff_0000; // SECCOMP_RET_ALLOW
    const ERRNO: u32 = 0x0005_0000; // SECCOMP_RET_ERRNO
    let op = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    vec![
        // seccomp_data: nr at 0, arch at 4.
        op(LOAD_WORD, 0, 0, 4),
        op(JUMP_IF_EQUAL, 1, 0, ARCH),
        op(RETURN, 0, 0, ALLOW),
        op(LOAD_WORD, 0, 0, 0),
        op(JUMP_IF_EQUAL, 0, 1, libc::SYS_io_uring_setup as u32),
        op(RETURN, 0, 0, ERRNO | libc::EPERM as u32),
        op(RETURN, 0, 0, ALLOW),
    ]
}

/// `wsgibench ARGS` in a child that cannot make an io_uring.
fn without_io_uring(args: &[String]) -> Output {
    use std::os::unix::process::CommandExt;
    let filter = deny_io_uring_setup();
    // An address, not a pointer: the closure must be Send and Sync.
    let (at, len) = (filter.as_ptr() as usize, filter.len() as u16);
    let mut cmd = wsgibench();
    cmd.args(args);
    // SAFETY: between fork and exec the closure only calls prctl, which is
    // async-signal-safe, on `filter`, which outlives the spawn.
    unsafe {
        cmd.pre_exec(move || {
            let program = libc::sock_fprog {
                len,
                filter: at as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &program as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run_bounded(&mut cmd, LIMIT);
    drop(filter);
    out
}

#[test]
fn where_seccomp_denies_io_uring_auto_falls_back_in_one_line_and_uring_refuses() {
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let out = without_io_uring(&load_args(server.port, "auto", &json));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(
        lines[0].starts_with("io_uring is not available here (")
            && lines[0].ends_with("): running on epoll"),
        "{stderr}"
    );
    let summary = read_json(&json);
    assert_eq!(summary["io"], "epoll");
    assert_eq!(summary["requests"], 2000);

    let json = dir.path().join("refused.json");
    let out = without_io_uring(&load_args(server.port, "uring", &json));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("io_uring is not available here"),
        "{}",
        text(&out.stderr)
    );
    assert!(!json.exists(), "a refused run writes no summary");
    // The same run with the filter but on epoll is fine: only io_uring is denied.
    let json = dir.path().join("epoll.json");
    let out = without_io_uring(&load_args(server.port, "epoll", &json));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}
