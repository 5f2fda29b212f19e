//! One test's hosts: a private Docker network of its own (internal: no route out) and
//! the containers it starts there, each with an address the test chose. Dropping
//! [`Hosts`] removes every container it started (by ID) and the network, also when an
//! assertion failed; nothing else is touched.
//!
//! Every container's command runs under `timeout -s KILL`, so even a test killed with
//! SIGKILL (no Drop runs) leaves no container running for long; what it leaves is
//! labelled `org.wsgibench.test=<network>`:
//! `docker ps -aq --filter label=org.wsgibench.test | xargs -r docker rm -f` and
//! `docker network ls -q --filter label=org.wsgibench.test | xargs -r docker network rm`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::image::DOCKER_BOUND;
use crate::run::{bounded, checked, Ran, Running};

const LABEL: &str = "org.wsgibench.test";
/// The longest any container of a test may live.
const CONTAINER_LIFE: &str = "600";
/// The longest a controller may run.
const CONTROLLER_LIFE: &str = "180";
/// How long a container may take to say it is ready.
const READY_BOUND: Duration = Duration::from_secs(60);
pub const AGENT_PORT: u16 = 7701;
pub const SERVER_PORT: u16 = 8000;

fn docker() -> Command {
    Command::new("docker")
}

/// A container this test started.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub ip: String,
}

impl Container {
    /// `IP:7701`, as an agent is named to the controller.
    pub fn agent_address(&self) -> String {
        format!("{}:{AGENT_PORT}", self.ip)
    }
}

/// Whether an agent serves one run (`--once`, as in a Kubernetes Job) or controllers
/// one after another until stopped (a load machine's long-lived agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serves {
    Once,
    Runs,
}

pub struct Hosts {
    image: String,
    network: String,
    /// The network is `{prefix}.0/24`.
    prefix: String,
    token: String,
    containers: Mutex<Vec<String>>,
    /// Bind-mounted folders (controllers' output, a late agent's go-file).
    dir: tempfile::TempDir,
}

impl Hosts {
    /// A new internal network with a free 10.123.X.0/24 subnet.
    pub fn new(image: &str) -> Hosts {
        let network = format!("wsgibench-test-{}", random_hex(6));
        let mut tried = Vec::new();
        let prefix = loop {
            assert!(
                tried.len() < 40,
                "no free 10.123.X.0/24 for a Docker network after {tried:?}"
            );
            let x = random_hex(1);
            let x = u8::from_str_radix(&x, 16).unwrap();
            let prefix = format!("10.123.{x}");
            if tried.contains(&prefix) || host_routes_overlap([10, 123, x, 0]) {
                tried.push(prefix);
                continue;
            }
            let ran = bounded(
                docker()
                    .args(["network", "create", "--internal", "--driver", "bridge"])
                    .arg(format!("--subnet={prefix}.0/24"))
                    .arg(format!("--label={LABEL}={network}"))
                    .arg(&network),
                DOCKER_BOUND,
            );
            if ran.ok() {
                break prefix;
            }
            // Another network (maybe another test's, at this instant) has it.
            assert!(
                ran.stderr.contains("overlap"),
                "docker network create {network} failed: {}",
                ran.stderr
            );
            tried.push(prefix);
        };
        Hosts {
            image: image.to_string(),
            network,
            prefix,
            token: random_hex(32),
            containers: Mutex::new(Vec::new()),
            dir: tempfile::Builder::new()
                .prefix("wsgibench-docker-test.")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn ip(&self, host: u8) -> String {
        format!("{}.{host}", self.prefix)
    }

    /// `docker create`, its ID kept for the cleanup at once; started by the caller.
    fn create(&self, role: &str, host: u8, options: &[String], command: &[&str]) -> Container {
        let name = format!("{}-{role}", self.network);
        let ip = self.ip(host);
        let id = checked(
            docker()
                .args(["create", "--network", &self.network, "--ip", &ip])
                .args(["--name", &name, "--hostname", role])
                .arg(format!("--label={LABEL}={}", self.network))
                // The agents' token, from the docker client's environment: never on a
                // command line.
                .args(["--env", "WSGIBENCH_TOKEN"])
                .env("WSGIBENCH_TOKEN", &self.token)
                .args(options)
                .arg(&self.image)
                .args(command),
            DOCKER_BOUND,
        )
        .trim()
        .to_string();
        assert!(!id.is_empty(), "docker create printed no ID");
        self.containers.lock().unwrap().push(id.clone());
        Container { id, name, ip }
    }

    fn start(&self, c: &Container) {
        checked(docker().args(["start", &c.id]), DOCKER_BOUND);
    }

    /// The test server on `IP:8000`, once it listens.
    pub fn server(&self, host: u8) -> Container {
        let bind = format!("0.0.0.0:{SERVER_PORT}");
        let c = self.create(
            &format!("server{host}"),
            host,
            &[],
            &[
                "timeout",
                "-s",
                "KILL",
                CONTAINER_LIFE,
                "wsgibench-testserver",
                "--bind",
                &bind,
            ],
        );
        self.start(&c);
        self.wait_for_log(&c, "listening on http://0.0.0.0:8000/");
        c
    }

    /// An agent on `IP:7701` taking any target, once it listens.
    pub fn agent(&self, host: u8, serves: Serves) -> Container {
        let c = self.create(&format!("agent{host}"), host, &[], &agent_command(serves));
        self.start(&c);
        self.wait_for_log(&c, "wsgibench agent on 0.0.0.0:7701");
        c
    }

    /// An agent whose host is up (it has its address) but whose agent starts only
    /// once [`Hosts::let_late_agent_start`] is called: a machine still booting.
    pub fn late_agent(&self, host: u8) -> Container {
        let go = self.dir.path().join(format!("go-{host}"));
        std::fs::create_dir(&go).unwrap();
        let script = format!(
            "while [ ! -e /go/go ]; do sleep 0.1; done; exec {}",
            agent_command(Serves::Once).join(" ")
        );
        let c = self.create(
            &format!("agent{host}"),
            host,
            &[format!("--volume={}:/go:ro", go.display())],
            &["timeout", "-s", "KILL", CONTAINER_LIFE, "sh", "-c", &script],
        );
        self.start(&c);
        c
    }

    pub fn let_late_agent_start(&self, c: &Container) {
        let host = c.ip.rsplit('.').next().unwrap();
        std::fs::write(self.dir.path().join(format!("go-{host}/go")), b"").unwrap();
        self.wait_for_log(c, "wsgibench agent on 0.0.0.0:7701");
    }

    /// Waits until the container's output holds `needle`; panics if it ends first or
    /// after [`READY_BOUND`].
    pub fn wait_for_log(&self, c: &Container, needle: &str) -> String {
        let began = Instant::now();
        loop {
            let logs = self.logs(c);
            if logs.contains(needle) {
                return logs;
            }
            let running = self.inspect(c, "{{.State.Running}}") == "true";
            assert!(
                running && began.elapsed() < READY_BOUND,
                "{} ({}) never printed {needle:?} (running: {running}); its output:\n{logs}",
                c.name,
                c.ip
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn logs(&self, c: &Container) -> String {
        let ran = bounded(docker().args(["logs", &c.id]), DOCKER_BOUND);
        ran.stdout + &ran.stderr
    }

    pub fn inspect(&self, c: &Container, format: &str) -> String {
        checked(
            docker().args(["inspect", "--format", format, &c.id]),
            DOCKER_BOUND,
        )
        .trim()
        .to_string()
    }

    /// The container's exit code, waiting up to `limit` for it to end.
    pub fn exit_code(&self, c: &Container, limit: Duration) -> i64 {
        let began = Instant::now();
        while self.inspect(c, "{{.State.Running}}") == "true" {
            assert!(
                began.elapsed() < limit,
                "{} still running after {limit:?}; its output:\n{}",
                c.name,
                self.logs(c)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.inspect(c, "{{.State.ExitCode}}").parse().unwrap()
    }

    /// `docker kill`: SIGKILL to the container's first process, so all of it dies,
    /// as a host that loses power.
    pub fn kill(&self, c: &Container) {
        checked(docker().args(["kill", &c.id]), DOCKER_BOUND);
    }

    /// `docker network disconnect`: the host keeps running, cut off the network.
    pub fn disconnect(&self, c: &Container) {
        checked(
            docker().args(["network", "disconnect", &self.network, &c.id]),
            DOCKER_BOUND,
        );
    }

    /// `docker network connect`, with the address it had.
    pub fn connect(&self, c: &Container) {
        checked(
            docker().args(["network", "connect", "--ip", &c.ip, &self.network, &c.id]),
            DOCKER_BOUND,
        );
    }

    /// The requests the test server on `server` has read, from its `/count` path,
    /// asked inside its own container (bash's /dev/tcp: the image has no HTTP client).
    pub fn server_count(&self, server: &Container) -> u64 {
        let script = format!(
            "exec 3<>/dev/tcp/127.0.0.1/{SERVER_PORT} && \
             printf 'GET /count HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n' >&3 && cat <&3"
        );
        let answer = checked(
            docker().args(["exec", &server.id, "bash", "-c", &script]),
            DOCKER_BOUND,
        );
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.trim())
            .unwrap_or_else(|| panic!("no /count answer: {answer:?}"));
        body.parse()
            .unwrap_or_else(|_| panic!("/count answered {answer:?}"))
    }

    /// `wsgibench load http://SERVER:8000/pong ... --agents ... --allow-remote --json
    /// /out/out.json` in a container of its own on `IP` (host `host`), started now.
    pub fn load(
        &self,
        host: u8,
        server: &Container,
        agents: &[&Container],
        extra: &[&str],
    ) -> Load {
        let out = self.dir.path().join(format!("out-{host}"));
        std::fs::create_dir(&out).unwrap();
        let url = format!("http://{}:{SERVER_PORT}/pong", server.ip);
        let agents: Vec<String> = agents.iter().map(|a| a.agent_address()).collect();
        let agents = agents.join(",");
        let mut command = vec![
            "timeout",
            "-s",
            "KILL",
            CONTROLLER_LIFE,
            "wsgibench",
            "load",
            &url,
            "-q",
            "--interval",
            "1s",
            "--agents",
            &agents,
            "--allow-remote",
            "--json",
            "/out/out.json",
        ];
        command.extend_from_slice(extra);
        // SAFETY: getuid(2) and getgid(2) cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let c = self.create(
            &format!("controller{host}"),
            host,
            &[
                // Its files are the test's to read and to remove.
                format!("--user={uid}:{gid}"),
                format!("--volume={}:/out", out.display()),
            ],
            &command,
        );
        let process = Running::start(docker().args(["start", "--attach", &c.id]));
        Load {
            container: c,
            out,
            process: Some(process),
            began: Instant::now(),
        }
    }
}

fn agent_command(serves: Serves) -> Vec<&'static str> {
    let mut c = vec![
        "timeout",
        "-s",
        "KILL",
        CONTAINER_LIFE,
        "wsgibench",
        "agent",
        "--listen",
        "0.0.0.0:7701",
        "--allow-remote",
        "-t",
        "1",
    ];
    if serves == Serves::Once {
        c.push("--once");
    }
    c
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let ids = std::mem::take(&mut *self.containers.lock().unwrap_or_else(|e| e.into_inner()));
        // Errors are printed, never raised: this may run while a test panics.
        if !ids.is_empty() {
            let ran = bounded(
                docker().args(["rm", "--force", "--volumes"]).args(&ids),
                DOCKER_BOUND,
            );
            if !ran.ok() {
                eprintln!("cleanup: docker rm {ids:?}: {}", ran.stderr);
            }
        }
        let ran = bounded(
            docker().args(["network", "rm", &self.network]),
            DOCKER_BOUND,
        );
        if !ran.ok() {
            eprintln!(
                "cleanup: docker network rm {}: {}",
                self.network, ran.stderr
            );
        }
    }
}

/// A controller container's run.
pub struct Load {
    pub container: Container,
    out: PathBuf,
    process: Option<Running>,
    began: Instant,
}

/// How a controller's run ended.
pub struct Ended {
    /// The container's exit code: wsgibench's.
    pub code: i64,
    pub output: Ran,
    /// From `Hosts::load` to the end.
    pub took: Duration,
}

impl Load {
    /// Waits until the run has written `n` intervals (`out.intervals.jsonl`): the load
    /// is going on.
    pub fn wait_for_intervals(&self, n: usize, limit: Duration) {
        let path = self.out.join("out.intervals.jsonl");
        loop {
            let lines = std::fs::read_to_string(&path)
                .map(|t| t.lines().filter(|l| l.ends_with('}')).count())
                .unwrap_or(0);
            if lines >= n {
                return;
            }
            assert!(
                self.began.elapsed() < limit,
                "{} interval(s) after {limit:?}, {n} awaited",
                lines
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait(&mut self, hosts: &Hosts, limit: Duration) -> Ended {
        let output = self.process.take().expect("waited for once").wait(limit);
        let took = self.began.elapsed();
        let code = hosts.exit_code(&self.container, Duration::from_secs(30));
        Ended { code, output, took }
    }

    /// The `--json` summary.
    pub fn summary(&self) -> Value {
        read_json(&self.out.join("out.json"))
    }

    pub fn wrote_summary(&self) -> bool {
        self.out.join("out.json").exists()
    }
}

pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `n` random bytes as hex, from the kernel.
pub fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether this machine already routes some of `net`/24 (another interface, a VPN):
/// from /proc/net/route, default routes left out.
fn host_routes_overlap(net: [u8; 4]) -> bool {
    overlaps(
        &std::fs::read_to_string("/proc/net/route").unwrap_or_default(),
        net,
    )
}

/// Whether a route of `table` (/proc/net/route's text) overlaps `net`/24.
fn overlaps(table: &str, net: [u8; 4]) -> bool {
    let ours = u32::from_be_bytes(net);
    let our_mask = u32::MAX << 8;
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // Each is the address as it lies in memory, printed as a native integer: its
        // native bytes are the address's bytes in order.
        let addr = |i: usize| {
            fields
                .get(i)
                .and_then(|f| u32::from_str_radix(f, 16).ok())
                .map(|v| u32::from_be_bytes(v.to_ne_bytes()))
        };
        let (Some(dest), Some(mask)) = (addr(1), addr(7)) else {
            return false;
        };
        if mask == 0 {
            return false;
        }
        let common = mask & our_mask;
        dest & common == ours & common
    })
}

#[test]
fn routes_are_read_in_the_hosts_byte_order() {
    // A route to 10.123.5.0/24 as /proc/net/route prints it on this host.
    let net = u32::from_be_bytes([10, 123, 5, 0]);
    let mask = u32::from_be_bytes([255, 255, 255, 0]);
    let printed = |a: u32| format!("{:08X}", u32::from_ne_bytes(a.to_be_bytes()));
    assert_eq!(
        printed(net),
        if cfg!(target_endian = "little") {
            "00057B0A"
        } else {
            "0A7B0500"
        }
    );
    let table = format!(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n\
         br-x\t{}\t00000000\t0001\t0\t0\t0\t{}\t0\t0\t0\n",
        printed(net),
        printed(mask)
    );
    assert!(overlaps(&table, [10, 123, 5, 0]));
    assert!(!overlaps(&table, [10, 123, 6, 0]));
}
