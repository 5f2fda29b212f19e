//! The suite side of wsgibench: which Python servers exist, the environment they run
//! in, and how each is started, watched and stopped.
//!
//! The load itself is the engine's job; this crate hands it a [`scenario::Scenario`]
//! (from a [`SuiteFile`]) and a server listening on `127.0.0.1:port`, and knows nothing
//! of HTTP beyond a readiness status line.
//!
//! Layout:
//! - [`assets`]: [`Assets`]: the Python apps, launchers and suite files, from the
//!   checkout or unpacked from the binary into the cache.
//! - [`catalog`]: `suites/servers.toml` read into [`Case`]s; command placeholders.
//! - [`apps`]: `suites/apps.toml` read into [`App`]s: what each server serves, the
//!   request the protocol sends it and the answer every server must give.
//! - [`answer`]: one request with its whole answer read back, for that check.
//! - [`pyenv`]: the managed virtualenv ([`PythonEnv`]), keyed by the requirements'
//!   hash; which cases are installed and at which versions.
//! - [`supervise`]: [`Server`]: launch in its own process group pinned to one CPU,
//!   readiness, `/proc` sampling of the process tree ([`ResourceSample`]), clean stop.
//! - [`watchdog`]: [`Watchdog`]: what a run starts dies with it, even by SIGKILL.
//! - [`lock`]: [`FileLock`]: one venv build and one measuring run at a time.
//! - [`machine`]: the CPU model, cores and kernel, for run.json.
//! - [`runner`]: [`SuiteRun`]: every case and repetition in turn, building the
//!   results model ([`results::Run`]) and writing its folder as it goes; reports
//!   through [`Progress`]. [`run_case`] is one case; [`Placement`] splits the CPUs.
//! - [`markers`]: files a run touches at named points, for tests that kill it there.
//! - [`suite_file`]: `suites/*.toml` ([`SuiteFile`]): the load protocol per case.
//! - [`sidecar`]: `wsgibench sample`: the CPU and memory of a server this machine does
//!   not run (a pod's), served over HTTP to the suite's controller.
//! - [`source`]: TOML reading with `file:line:` errors ([`FileError`]).
//!
//! One case, end to end (the runner does this per case):
//!
//! ```no_run
//! use std::path::Path;
//! use std::time::Duration;
//! use suite::{Catalog, PythonEnv, Server, SuiteFile};
//!
//! let catalog = Catalog::load(Path::new("suites/servers.toml"))?;
//! let protocol = SuiteFile::load(Path::new("suites/quick.toml"))?;
//! let cache = suite::pyenv::default_cache_dir().expect("HOME is set");
//! let env = PythonEnv::ensure(Path::new("python3"), Path::new("python"), &cache)?;
//! let case = catalog.get("bjoern").expect("in the catalog");
//! env.installed(case)?; // else: "not installed", with pip's error
//! let port = suite::free_port()?;
//! let cpu = suite::allowed_cpus().last().copied();
//! let mut server = Server::launch(case, case.app(), None, &env, port, cpu, Path::new("results/bjoern.log"))?;
//! server.wait_ready(protocol.ready_timeout)?;
//! server.start_sampler();
//! let scenario = protocol.scenario("127.0.0.1", port);
//! // ... the engine runs `scenario` here ...
//! let samples = server.stop_sampler();
//! let report = server.stop();
//! assert!(report.port_free);
//! # let _ = (scenario, samples);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Caveats:
//! - Linux only: supervision reads `/proc` and uses process groups and CPU affinity.
//! - [`PythonEnv::ensure`] runs pip and may take minutes the first time; it holds a
//!   file lock, so concurrent callers wait rather than corrupt the venv.
//! - Dropping a [`Server`] stops it (up to the 5 s grace plus the port check), so a
//!   panic never leaves a server behind; its [`Watchdog`] covers a run killed outright.

pub mod answer;
pub mod apps;
pub mod assets;
pub mod catalog;
pub mod lock;
pub mod machine;
pub mod markers;
pub mod mix;
pub mod pyenv;
pub mod runner;
pub mod sidecar;
pub mod source;
pub mod suite_file;
pub mod supervise;
pub mod watchdog;

pub use apps::{App, AppCatalog, Expect, ORIGINAL_APP};
pub use assets::{Assets, AssetsError};
pub use catalog::{Case, Catalog, SystemNeed, UnknownCase, Vars, DEFAULT_APP, PLACEHOLDERS};
pub use lock::FileLock;
pub use pyenv::{EnvError, NotInstalled, PackageFailure, PythonEnv};
pub use runner::{run_case, CaseLoad, Placement, Progress, Servers, SuiteRun};
pub use source::{FileError, Problem};
pub use suite_file::SuiteFile;
pub use supervise::{
    allowed_cpus, free_port, port_in_use, LaunchError, ResourceSample, Server, StopReport,
};
pub use watchdog::Watchdog;
