//! Flags, each with its help next to it: units, defaults, conflicts, an example.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use scenario::limits;

#[derive(Parser, Debug)]
#[command(
    name = "wsgibench",
    version,
    about = "Load-test Python WSGI servers and tell which serves your app best"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Benchmark the WSGI server cases under a protocol (default: the original, all cases).
    ///
    /// Examples:
    ///   wsgibench run                       # the original protocol, every case (~15 min)
    ///   wsgibench run --quick               # same cases, short phases, a first look
    ///   wsgibench run --cases bjoern,uwsgi --out results/
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
    /// Drive HTTP/1.1 load at one URL (closed model by default, open with --rate).
    ///
    /// Examples:
    ///   wsgibench load http://127.0.0.1:8000/ -c 50 -t 1 -d 10s
    ///   wsgibench load http://127.0.0.1:8000/ -c 50 --rate 2000 -d 10s
    ///   wsgibench load http://127.0.0.1:8000/ -n 100000 -c 10 --json out.json --interval 1s
    ///   wsgibench load https://localhost:8443/ --cacert ca.pem -c 50 -d 10s
    #[command(verbatim_doc_comment)]
    Load(LoadArgs),
    /// Rebuild DIR/report.html (one self-contained page) from a `wsgibench run` folder.
    Report(ReportArgs),
    /// List the recorded runs: id, date, protocol, cases, fastest server; with --html DIR,
    /// also the trend across runs as a static site.
    History(HistoryArgs),
    /// Compare two recorded runs server by server: req/s and p50/p90/p99 deltas.
    Compare(CompareArgs),
    /// Write a recorded run's results table (as results.csv) from the history.
    Export(ExportArgs),
    /// Run a Tsung XML scenario (HTTP subset) unchanged, or show its plan with --dry-run.
    Tsung(TsungArgs),
    /// Run shares of a load for a controller (`load` or `tsung` with --agents).
    Agent(AgentArgs),
    /// Run one catalog case's server in the foreground (a container's command).
    ServeCase(ServeCaseArgs),
    /// Sample the CPU and memory of the processes beside this one (a pod's sidecar)
    /// and serve them to a suite's controller (`run --samplers-at`).
    Sample(SampleArgs),
    /// Kubernetes: write the manifests of a suite run in a cluster (`k8s render`).
    K8s(K8sArgs),
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Target URL: http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH, on this machine
    /// (127.0.0.0/8 or [::1]) unless --allow-remote.
    #[arg(value_parser = parse_url)]
    pub url: TargetUrl,

    /// Keep-alive connections, held open for the whole run.
    #[arg(short = 'c', long, default_value_t = 50, value_parser = parse_connections, allow_negative_numbers = true)]
    pub connections: u32,

    /// Worker threads [default: the CPUs this process may run on, at most one per connection].
    #[arg(short = 't', long, value_parser = parse_threads, allow_negative_numbers = true)]
    pub threads: Option<u32>,

    /// Run length, e.g. 10s, 2m, 500ms [default: 10s unless -n is given].
    #[arg(short = 'd', long, value_parser = parse_duration, allow_negative_numbers = true)]
    pub duration: Option<Duration>,

    /// Stop after exactly this many requests (answers plus errors).
    #[arg(short = 'n', long = "requests", value_parser = parse_requests, allow_negative_numbers = true, conflicts_with = "rate")]
    pub requests: Option<u64>,

    /// Open model: send this many requests per second at planned instants; latency
    /// counts from the planned instant (no coordinated omission). Needs -d.
    #[arg(long, value_parser = parse_rate, allow_negative_numbers = true, requires = "duration")]
    pub rate: Option<f64>,

    /// Spacing of planned instants in the open model.
    #[arg(long, value_enum, default_value_t = ArrivalArg::Uniform, requires = "rate")]
    pub arrival: ArrivalArg,

    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET", value_parser = parse_method)]
    pub method: scenario::Method,

    /// Extra request header, "Name: value"; repeat for more.
    #[arg(short = 'H', long = "header", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,

    /// Request body.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Request body read from a file.
    #[arg(long)]
    pub body_file: Option<PathBuf>,

    /// Limit for connecting and for each answer, e.g. 5s.
    #[arg(long, default_value = "30s", value_parser = parse_duration, allow_negative_numbers = true)]
    pub timeout: Duration,

    /// Reporting interval, e.g. 1s.
    #[arg(long, default_value = "10s", value_parser = parse_duration, allow_negative_numbers = true)]
    pub interval: Duration,

    /// Write the summary as JSON here; the per-interval series goes next to it as
    /// FILE's stem + `.intervals.jsonl`, one line per interval as the run goes.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Write the latency distribution here in HdrHistogram's percentile format
    /// (`.hgrm`, milliseconds, as wrk2 prints it), for HdrHistogram's plotter.
    #[arg(long, value_name = "FILE")]
    pub hgrm: Option<PathBuf>,

    /// Pin worker threads to these CPUs, e.g. 0 or 0,2.
    #[arg(long, value_delimiter = ',', value_parser = parse_cpu, allow_negative_numbers = true)]
    pub cpus: Option<Vec<usize>>,

    /// No live progress line.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub spread: SpreadArgs,

    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The same cases under a short protocol (suites/quick.toml): a first look in about 2 minutes.
    #[arg(long, conflicts_with = "suite")]
    pub quick: bool,

    /// The protocol to run [default: suites/original.toml, the original benchmark: 90 s per case].
    #[arg(long)]
    pub suite: Option<PathBuf>,

    /// Cases to run, by name, comma-separated [default: every case in the catalog].
    #[arg(long, value_delimiter = ',')]
    pub cases: Vec<String>,

    /// The server catalog [default: suites/servers.toml].
    #[arg(long)]
    pub catalog: Option<PathBuf>,

    /// Test cases every server serves, comma-separated, or `all` (suites/apps.toml)
    /// [default: pong, the original's one-line app].
    #[arg(long, value_delimiter = ',', value_name = "APPS")]
    pub apps: Vec<String>,

    /// Your own WSGI app, MODULE:CALLABLE (e.g. mysite.wsgi:application), served by
    /// every case; before any load the servers' answers are compared with one another.
    #[arg(long, value_name = "MODULE:CALLABLE")]
    pub app: Option<String>,

    /// The folder your app is imported from, and the servers' working directory
    /// [default: the current directory].
    #[arg(long, value_name = "DIR", requires = "app")]
    pub app_path: Option<PathBuf>,

    /// Your app's requirements: installed beside the servers' pins (which constrain
    /// them), in a venv of their own.
    #[arg(long, value_name = "FILE", requires = "app")]
    pub requirements: Option<PathBuf>,

    /// A path your app is asked (GET), repeatable: the users share the paths evenly
    /// [default: /].
    #[arg(long = "path", value_name = "URL", requires = "app")]
    pub paths: Vec<String>,

    /// What your app is asked, from a file: JSON Lines or TOML (method, path, headers,
    /// body or body_base64, weight), or a Tsung XML file whose sessions replace the
    /// protocol's (the protocol's phases still apply).
    #[arg(long, value_name = "FILE", requires = "app", conflicts_with = "paths")]
    pub requests: Option<PathBuf>,

    /// Output folder [default: results/<UTC timestamp>/].
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Python 3 interpreter that makes the servers' virtualenv.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,

    /// Folder for the virtualenv and data files [default: ~/.cache/wsgibench].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,

    /// Run each case N times, interleaved (all cases, then all again); the table shows the
    /// median run by req/s and each summary.json lists every repetition under `repeats`.
    #[arg(long, default_value_t = 1, value_parser = parse_repeat, allow_negative_numbers = true)]
    pub repeat: u32,

    /// Also write each case's series as Tsung's JSON log, `<out>/<case>/tsung.json`.
    #[arg(long)]
    pub tsung_log: bool,

    /// Start each server with N workers, as its docs advise (gunicorn -w N, uWSGI
    /// --processes N, granian --workers N; see suites/servers.toml), pinned to the last
    /// N CPUs and the generator to the rest. N at or above the CPUs available makes them
    /// share CPUs: the run is marked "shared CPUs". A case that runs one process says so.
    /// [default: one worker each, the argv of every earlier run]. Example: --workers 2
    #[arg(long, value_name = "N", value_parser = parse_workers, allow_negative_numbers = true)]
    pub workers: Option<u32>,

    /// The run history database [default: ~/.local/share/wsgibench/history.sqlite3].
    #[arg(long)]
    pub db: Option<PathBuf>,

    /// No live progress bars.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// The servers already run elsewhere, one per case, at HOST:PORT with `{case}`
    /// replaced by the case's name, e.g. '{case}.bench.svc.cluster.local:8000' (a
    /// Kubernetes Service per case): nothing is started here; each is waited for.
    #[arg(long, value_name = "TEMPLATE")]
    pub servers_at: Option<String>,

    /// With --servers-at: each server's `wsgibench sample` sidecar, HOST:PORT with
    /// `{case}` replaced, for the server's CPU and memory columns.
    #[arg(long, value_name = "TEMPLATE")]
    pub samplers_at: Option<String>,

    #[command(flatten)]
    pub spread: SpreadArgs,

    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args, Debug)]
pub struct TsungArgs {
    /// The Tsung XML file (HTTP subset of Tsung 1.7).
    pub file: PathBuf,

    /// Print the plan the file becomes (phases, users, sessions, requests); send nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// The most of each answer kept for <dyn_variable> and <match>, in bytes, with an
    /// optional KiB or MiB [default: 1MiB]. Only requests that extract or match keep
    /// anything; every other body is skipped as it is read.
    #[arg(long, value_parser = parse_answer_cap, allow_negative_numbers = true)]
    pub keep_answer: Option<usize>,

    /// Write Tsung's JSON log here (the layout of Tsung's `backend="json"` tsung.log,
    /// rewritten whole after every interval so it always parses) [default: when the
    /// file says backend="json", FILE-stem.tsung.json in the current directory;
    /// otherwise none].
    #[arg(long, value_name = "FILE")]
    pub tsung_log: Option<PathBuf>,

    /// Write wsgibench's summary as JSON here; the per-interval series goes next to it
    /// as FILE's stem + `.intervals.jsonl`, one line per interval as the run goes.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write the latency distribution here in HdrHistogram's percentile format
    /// (`.hgrm`, milliseconds, as wrk2 prints it), for HdrHistogram's plotter.
    #[arg(long, value_name = "FILE")]
    pub hgrm: Option<PathBuf>,

    /// Reporting interval, e.g. 1s [default: Tsung's dump interval, 10s].
    #[arg(long, value_parser = parse_duration, allow_negative_numbers = true)]
    pub interval: Option<Duration>,

    /// Worker threads; users are dealt to them in turn [default: the CPUs this process
    /// may run on].
    #[arg(short = 't', long, value_parser = parse_threads, allow_negative_numbers = true)]
    pub threads: Option<u32>,

    /// Pin worker threads to these CPUs, e.g. 0 or 0,2.
    #[arg(long, value_delimiter = ',', value_parser = parse_cpu, allow_negative_numbers = true)]
    pub cpus: Option<Vec<usize>>,

    /// How users' arrivals are spaced: uniform (evenly, so each phase starts exactly
    /// rate x duration users, run after run) or poisson (exponential gaps, as Tsung
    /// draws them: the count varies from run to run).
    #[arg(long, value_enum, default_value_t = ArrivalArg::Uniform)]
    pub arrival: ArrivalArg,

    /// No live progress line.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub spread: SpreadArgs,

    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The history database [default: $XDG_DATA_HOME/wsgibench/history.sqlite3, else
    /// ~/.local/share/wsgibench/history.sqlite3].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Also write the trend across runs as a static site into DIR (made if missing):
    /// index.html (every run, linking to its report.html while its folder has one) and
    /// a page per server with req/s and p99 over the run dates, one line per protocol
    /// and machine. Self-contained pages: no network needed. Rerun to refresh.
    /// Example: wsgibench history --html results/trend
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The run to compare from, by id (`wsgibench history` lists them).
    #[arg(value_parser = parse_run_id, allow_negative_numbers = true)]
    pub run_a: i64,

    /// The run to compare to; changes are B minus A, percentages relative to A.
    #[arg(value_parser = parse_run_id, allow_negative_numbers = true)]
    pub run_b: i64,

    /// The history database [default: as for `wsgibench history`].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Also write the comparison as a self-contained HTML page here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The run to export, by id (`wsgibench history` lists them).
    #[arg(value_parser = parse_run_id, allow_negative_numbers = true)]
    pub run: i64,

    /// The history database [default: as for `wsgibench history`].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Write the run's results table as CSV, the columns of results.csv, to FILE
    /// [default: standard output]. The only format for now, hence required.
    #[arg(long, value_name = "FILE", required = true)]
    pub csv: Option<Option<PathBuf>>,
}

#[derive(Args, Debug)]
pub struct K8sArgs {
    #[command(subcommand)]
    pub command: K8sCommand,
}

#[derive(Subcommand, Debug)]
pub enum K8sCommand {
    /// Write the YAML of a suite run in a cluster into one folder, for `kubectl apply -f DIR`.
    ///
    /// A Namespace; per case a Deployment and a Service (all up at once); the token
    /// Secret; the results volume and its viewer; and the run: an Indexed Job (index 0
    /// the controller, the others agents) or, with --schedule, a CronJob. Talks to no
    /// cluster. deploy/README.md describes every object.
    ///
    /// Examples:
    ///   wsgibench k8s render --image registry.example/wsgibench:0.1.0 --out k8s/
    ///   wsgibench k8s render --agents 4 --schedule "0 3 * * *" --cpus 2 --memory 2Gi --out k8s/
    ///   wsgibench k8s render --cases bjoern,uwsgi --suite suites/quick.toml --out k8s/
    #[command(verbatim_doc_comment)]
    Render(K8sRenderArgs),
}

#[derive(Args, Debug)]
pub struct K8sRenderArgs {
    /// Folder for the YAML files (made if missing; files of an earlier render there
    /// are replaced, its token kept).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// The protocol the run applies [default: suites/original.toml]. Its text goes into
    /// a ConfigMap, so a suite of your own needs no new image.
    #[arg(long, value_name = "FILE")]
    pub suite: Option<PathBuf>,

    /// The server catalog the cases come from [default: suites/servers.toml]; the
    /// image must hold the same cases.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// Cases to deploy and run, by name, comma-separated [default: every case].
    #[arg(long, value_delimiter = ',')]
    pub cases: Vec<String>,

    /// Load agents besides the controller, 1 to 64; each is a pod of the Job.
    #[arg(long, value_name = "N", default_value_t = deploy::options::DEFAULT_AGENTS, value_parser = parse_k8s_agents, allow_negative_numbers = true)]
    pub agents: u32,

    /// The image every pod runs (build it from the repository's Dockerfile and push it
    /// where the cluster pulls from) [default: wsgibench:VERSION].
    #[arg(long, value_name = "IMAGE", value_parser = parse_k8s_image)]
    pub image: Option<String>,

    /// Namespace for every object (a DNS label).
    #[arg(long, value_name = "NS", default_value = deploy::options::DEFAULT_NAMESPACE, value_parser = parse_k8s_namespace)]
    pub namespace: String,

    /// Run on this cron schedule (5 fields, UTC), as a CronJob that never overlaps
    /// two runs, e.g. "0 3 * * *" for 03:00 every day [default: one run, a Job].
    #[arg(long, value_name = "CRON", value_parser = parse_k8s_schedule)]
    pub schedule: Option<String>,

    /// Whole CPUs for each server pod and each load pod (requests equal limits:
    /// exclusive cores under the kubelet's static CPU manager policy).
    #[arg(long, value_name = "N", default_value_t = deploy::options::DEFAULT_CPUS, value_parser = parse_k8s_cpus, allow_negative_numbers = true)]
    pub cpus: u32,

    /// Memory for each server pod and each load pod, e.g. 512Mi, 2Gi (requests equal limits).
    #[arg(long, value_name = "SIZE", default_value = deploy::options::DEFAULT_MEMORY, value_parser = parse_k8s_memory)]
    pub memory: deploy::options::Memory,

    /// StorageClass of the results volume [default: the cluster's default class].
    #[arg(long, value_name = "NAME", value_parser = parse_k8s_storage_class)]
    pub storage_class: Option<String>,

    /// Access mode of the results volume: rwx (ReadWriteMany: the run's pods and the
    /// viewer on any nodes) or rwo (ReadWriteOnce: all of them on the volume's node,
    /// for node-local storage as in kind).
    #[arg(long, value_enum, default_value_t = ResultsAccessArg::Rwx)]
    pub results_access: ResultsAccessArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ResultsAccessArg {
    Rwx,
    Rwo,
}

impl From<ResultsAccessArg> for deploy::ResultsAccess {
    fn from(a: ResultsAccessArg) -> deploy::ResultsAccess {
        match a {
            ResultsAccessArg::Rwx => deploy::ResultsAccess::ReadWriteMany,
            ResultsAccessArg::Rwo => deploy::ResultsAccess::ReadWriteOnce,
        }
    }
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results folder written by `wsgibench run` (it holds run.json).
    pub dir: PathBuf,
}

/// Which certificates an https target may present (`load`, `tsung`).
#[derive(Args, Debug, Default)]
pub struct TrustArgs {
    /// https: accept any server certificate (self-signed, expired, another name). The
    /// handshake is still checked: the server must hold its certificate's key.
    #[arg(long, conflicts_with = "cacert")]
    pub insecure: bool,

    /// https: also trust the CA certificates in this PEM file, beside the system's
    /// roots; repeat for more. Read here, so agents need no copy.
    /// Example: --cacert ca.pem
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
}

/// Load from several machines, and targets off this one.
#[derive(Args, Debug, Clone)]
pub struct SpreadArgs {
    /// Run the load on these agents (`wsgibench agent`), HOST:PORT,...; this command
    /// splits it among them exactly and merges their results.
    #[arg(long, value_delimiter = ',', value_name = "HOST:PORT")]
    pub agents: Vec<String>,

    /// The token the agents were started with (at least 16 bytes); it is proved, never
    /// sent.
    #[arg(long, env = "WSGIBENCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Allow a target outside loopback (127.0.0.0/8, ::1). Load only hosts you may load.
    #[arg(long)]
    pub allow_remote: bool,
}

/// How this machine's workers make the load.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// How connections send and receive: io_uring (requests batched, one syscall per
    /// loop turn) or epoll. auto takes io_uring where the kernel allows it and falls
    /// back to epoll, saying why, where it is disabled or blocked (Docker's default
    /// seccomp profile blocks it); uring then refuses to run. https connections use
    /// epoll either way.
    #[arg(long, value_enum, default_value_t = IoArg::Auto)]
    pub io: IoArg,
}

/// `--io`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoArg {
    Auto,
    Uring,
    Epoll,
}

impl From<IoArg> for engine::IoChoice {
    fn from(io: IoArg) -> engine::IoChoice {
        match io {
            IoArg::Auto => engine::IoChoice::Auto,
            IoArg::Uring => engine::IoChoice::Uring,
            IoArg::Epoll => engine::IoChoice::Epoll,
        }
    }
}

/// `wsgibench agent`: run shares of a load for a controller.
#[derive(Args, Debug)]
pub struct AgentArgs {
    /// Address to listen on for a controller, e.g. 0.0.0.0:7701.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: String,

    /// The shared token (at least 16 bytes); a controller must prove it knows it.
    #[arg(long, env = "WSGIBENCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Worker threads for a share [default: the CPUs this process may run on].
    #[arg(short = 't', long, value_parser = parse_threads, allow_negative_numbers = true)]
    pub threads: Option<u32>,

    /// Pin worker threads to these CPUs, e.g. 0 or 0,2.
    #[arg(long, value_delimiter = ',', value_parser = parse_cpu, allow_negative_numbers = true)]
    pub cpus: Option<Vec<usize>>,

    /// Accept targets outside loopback. Without it this agent refuses them, whoever
    /// asks: the token alone does not make it a load generator to point anywhere.
    #[arg(long)]
    pub allow_remote: bool,

    /// Serve one controller's run, then exit.
    #[arg(long)]
    pub once: bool,

    /// Keep each share's whole stats in DIR (`share-<n>.json`), to check a merge.
    #[arg(long, value_name = "DIR")]
    pub save_shares: Option<PathBuf>,

    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `wsgibench sample`: a server's CPU and memory, from beside it.
#[derive(Args, Debug)]
pub struct SampleArgs {
    /// Address to serve the samples on, e.g. 0.0.0.0:7702.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: String,

    /// How often to sample.
    #[arg(long, default_value = "1s", value_parser = parse_duration, allow_negative_numbers = true)]
    pub every: Duration,
}

/// `wsgibench serve-case CASE`: one server of the catalog, in the foreground.
#[derive(Args, Debug)]
pub struct ServeCaseArgs {
    /// The case's name in the catalog, e.g. bjoern.
    pub case: String,

    /// The test case it serves, from suites/apps.toml.
    #[arg(long, default_value = "pong", value_name = "NAME")]
    pub app: String,

    /// Address to bind.
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,

    /// Port to bind.
    #[arg(long, default_value_t = 8000, value_parser = parse_port, allow_negative_numbers = true)]
    pub port: u16,

    /// The server catalog [default: suites/servers.toml].
    #[arg(long)]
    pub catalog: Option<PathBuf>,

    /// Python 3 interpreter that makes the servers' virtualenv.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,

    /// Folder for the virtualenv [default: ~/.cache/wsgibench].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,

    /// Use this venv as it is, building nothing (a container image's).
    #[arg(long, env = "WSGIBENCH_VENV", value_name = "DIR")]
    pub venv: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ArrivalArg {
    Uniform,
    Poisson,
}

impl From<ArrivalArg> for scenario::Arrival {
    fn from(a: ArrivalArg) -> scenario::Arrival {
        match a {
            ArrivalArg::Uniform => scenario::Arrival::Uniform,
            ArrivalArg::Poisson => scenario::Arrival::Poisson,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TargetUrl {
    pub host: String,
    pub port: u16,
    pub path: String,
    pub text: String,
    /// `https://`.
    pub tls: bool,
}

pub fn parse_url(s: &str) -> Result<TargetUrl, String> {
    let (rest, tls) = if let Some(r) = s.strip_prefix("http://") {
        (r, false)
    } else if let Some(r) = s.strip_prefix("https://") {
        (r, true)
    } else {
        return Err(format!("expected an http:// or https:// URL, got {s:?}"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']').ok_or("expected ']' after an IPv6 address")?;
        let port = v6[end + 1..].strip_prefix(':');
        (&v6[..end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("expected a host in the URL".into());
    }
    let port = match port {
        None if tls => 443,
        None => 80,
        Some(p) => p
            .parse()
            .map_err(|_| format!("expected a port number 1-65535, got {p:?}"))?,
    };
    Ok(TargetUrl {
        host: host.to_string(),
        port,
        path: path.to_string(),
        text: s.to_string(),
        tls,
    })
}

// Every number on the command line goes through one of these, which check it against
// `scenario::limits`: a value out of range is a one-line error naming the flag and the
// range (exit 2), never a panic further down.

/// `10s`, `1.5m`, `250ms`, `2h`, or bare seconds; above 0 and at most 30 days.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        format!("expected a duration like 10s, 500ms or 2m, above 0 and at most 30 days, got {s:?}")
    })?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "expected a duration like 10s, 500ms or 2m (units ms, s, m, h), got {s:?}"
            ))
        }
    };
    limits::seconds(secs).map_err(|e| e.to_string())
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let expected = format!(
        "requests per second from {} to {}",
        limits::MIN_RATE,
        limits::MAX_RATE
    );
    limits::parse_number(s, &expected)
        .and_then(|r| limits::rate(r, "requests"))
        .map_err(|e| e.to_string())
}

fn parse_connections(s: &str) -> Result<u32, String> {
    limits::parse_count(s, 1, limits::MAX_CONNECTIONS, "connections")
        .map(|n| n as u32)
        .map_err(|e| e.to_string())
}

pub fn parse_threads(s: &str) -> Result<u32, String> {
    limits::parse_count(s, 1, limits::MAX_THREADS, "threads")
        .map(|n| n as u32)
        .map_err(|e| e.to_string())
}

fn parse_port(s: &str) -> Result<u16, String> {
    limits::parse_count(s, 1, 65_535, "port")
        .map(|n| n as u16)
        .map_err(|e| e.to_string())
}

fn parse_requests(s: &str) -> Result<u64, String> {
    limits::parse_count(s, 1, limits::MAX_REQUESTS, "requests").map_err(|e| e.to_string())
}

/// A CPU number this process may run on (`taskset -p $$` lists them).
pub fn parse_cpu(s: &str) -> Result<usize, String> {
    let allowed = engine::allowed_cpus();
    let refuse = || {
        format!(
            "expected a CPU this process may run on ({}), got {s:?}",
            engine::cpu_list(&allowed)
        )
    };
    let cpu: usize = s.trim().parse().map_err(|_| refuse())?;
    if allowed.contains(&cpu) {
        Ok(cpu)
    } else {
        Err(refuse())
    }
}

/// A run's id in the history database, as `wsgibench history` lists them.
pub fn parse_run_id(s: &str) -> Result<i64, String> {
    limits::parse_count(s, 1, i64::MAX as u64, "")
        .map(|n| n as i64)
        .map_err(|_| format!("expected a run id, a whole number from 1 (`wsgibench history` lists them), got {s:?}"))
}

/// The most workers `--workers` takes: more processes than this is a typo.
const MAX_WORKERS: u64 = 256;

fn parse_workers(s: &str) -> Result<u32, String> {
    limits::parse_count(s, 1, MAX_WORKERS, "workers")
        .map(|n| n as u32)
        .map_err(|e| e.to_string())
}

pub fn parse_repeat(s: &str) -> Result<u32, String> {
    limits::parse_count(s, 1, limits::MAX_REPEAT, "repetitions")
        .map(|n| n as u32)
        .map_err(|e| e.to_string())
}

// `k8s render`'s values are checked by `deploy::options`, which `deploy::render`
// applies again to options built in code.

fn parse_k8s_agents(s: &str) -> Result<u32, String> {
    deploy::options::parse_agents(s).map_err(|e| e.to_string())
}

fn parse_k8s_cpus(s: &str) -> Result<u32, String> {
    deploy::options::parse_cpus(s).map_err(|e| e.to_string())
}

fn parse_k8s_memory(s: &str) -> Result<deploy::options::Memory, String> {
    deploy::options::parse_memory(s).map_err(|e| e.to_string())
}

fn parse_k8s_namespace(s: &str) -> Result<String, String> {
    deploy::options::parse_namespace(s).map_err(|e| e.to_string())
}

fn parse_k8s_schedule(s: &str) -> Result<String, String> {
    deploy::options::parse_schedule(s).map_err(|e| e.to_string())
}

fn parse_k8s_image(s: &str) -> Result<String, String> {
    deploy::options::parse_image(s).map_err(|e| e.to_string())
}

fn parse_k8s_storage_class(s: &str) -> Result<String, String> {
    deploy::options::parse_storage_class(s).map_err(|e| e.to_string())
}

fn parse_method(s: &str) -> Result<scenario::Method, String> {
    scenario::Method::parse(s).ok_or_else(|| {
        format!("expected GET, POST, PUT, DELETE, HEAD, PATCH or OPTIONS, got {s:?}")
    })
}

/// `Name: value`. CR, LF or NUL anywhere is refused: they would end the header early
/// and inject lines of the user's choosing onto the wire.
fn parse_header(s: &str) -> Result<(String, String), String> {
    let Some((name, value)) = s.split_once(':') else {
        return Err(format!("expected \"Name: value\", got {s:?}"));
    };
    let (name, value) = (name.trim(), value.trim());
    match scenario::header_problem(name, value) {
        Some(problem) => Err(format!("expected \"Name: value\" on one line: {problem}")),
        None => Ok((name.to_string(), value.to_string())),
    }
}

/// `N`, `NKiB` or `NMiB`: bytes kept of an answer, 1 byte to 1 GiB.
fn parse_answer_cap(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (digits, unit) = if let Some(d) = t.strip_suffix("MiB") {
        (d, 1024 * 1024)
    } else if let Some(d) = t.strip_suffix("KiB") {
        (d, 1024)
    } else {
        (t, 1)
    };
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|n| (1..=1024 * 1024 * 1024).contains(n))
        .ok_or_else(|| format!("expected bytes from 1 to 1GiB, as 65536, 64KiB or 1MiB; got {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("http://127.0.0.1:8000/a?b=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8000, "/a?b=1")
        );
        let u = parse_url("http://[::1]:9000").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 9000, "/")
        );
        assert_eq!(parse_url("http://localhost").unwrap().port, 80);
        assert!(!parse_url("http://localhost").unwrap().tls);
        let u = parse_url("https://localhost/x").unwrap();
        assert_eq!((u.port, u.tls, u.path.as_str()), (443, true, "/x"));
        assert_eq!(parse_url("https://[::1]:8443").unwrap().port, 8443);
        assert!(parse_url("ftp://x/").unwrap_err().contains("http://"));
        assert!(parse_url("http://h:99999/").unwrap_err().contains("port"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5y")
            .unwrap_err()
            .contains("units ms, s, m, h"));
        assert!(parse_duration("1e300").is_err());
        assert!(parse_duration("99999999999999999999999s")
            .unwrap_err()
            .contains("30 days"));
    }
}
