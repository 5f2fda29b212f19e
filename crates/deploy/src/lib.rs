//! Kubernetes manifests for wsgibench: a suite run in a cluster, its load from many
//! agents, on a schedule if asked (`wsgibench k8s render`).
//!
//! The cluster does the scheduling; wsgibench brings the servers, the agents and the
//! merge. [`render`] reads the server catalog and the suite, checks every option,
//! builds typed API objects and writes them as YAML files into one folder, so
//! `kubectl apply -f DIR` starts everything. It talks to no cluster.
//!
//! Layout:
//! - [`options`]: [`Options`] and the check of each value (namespace, cron schedule,
//!   agents, CPUs, memory, image), shared with the command line's flags.
//! - [`objects`]: the API objects as serde structs (Namespace, Secret, ConfigMap, PVC,
//!   Service, Deployment, Job, CronJob and what they hold).
//! - [`manifests`]: which objects, with which labels, selectors and names; one file per
//!   concern (the table there).
//! - [`script`]: the run pods' `load.sh` (controller at index 0, agents after) and the
//!   agents' readiness check.
//! - `write`: YAML text, files written whole, the random token kept across renders.
//!
//! ```no_run
//! let options = deploy::Options {
//!     cases: vec!["bjoern".into(), "uwsgi".into()],
//!     agents: 4,
//!     schedule: Some(deploy::options::parse_schedule("0 3 * * *")?),
//!     ..deploy::Options::default()
//! };
//! let rendered = deploy::render(std::path::Path::new("k8s"), &options)?;
//! for file in &rendered.files {
//!     println!("wrote {}", file.display());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Caveats:
//! - Cluster DNS is assumed to end in `svc.cluster.local` (the default almost
//!   everywhere).
//! - The run's pods and the viewer mount one volume; with nodes apart that needs
//!   `ReadWriteMany` storage (the default ask; see [`options::ResultsAccess`]).
//! - Servers and agents never share a node, so the cluster needs two nodes at least.

pub mod manifests;
pub mod objects;
pub mod options;
pub mod script;
mod write;

use std::path::{Path, PathBuf};

pub use options::{Options, ResultsAccess};
pub use write::SECRET_FILE;

/// A render that could not be made. Nothing was written unless the variant is
/// [`RenderError::Write`].
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// An option's value is out of its range; the flag is named.
    #[error("{flag}: {problem}")]
    Option {
        flag: &'static str,
        problem: options::Expected,
    },
    /// The suite or catalog file does not read (with every `file:line:` problem).
    #[error(transparent)]
    File(#[from] suite::FileError),
    #[error("--cases: {0}")]
    UnknownCase(#[from] suite::UnknownCase),
    /// A case whose name cannot be a Service name: the controller reaches each server
    /// as `<case>.<namespace>.svc...`. Rename it in the catalog, or leave it out.
    #[error("case `{case}` of {catalog} cannot be a Kubernetes Service name (expected at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit): rename it there, or leave it out with --cases")]
    CaseName { case: String, catalog: String },
    /// A case named like one of the render's own objects.
    #[error("case `{case}` has the name of the render's own {case} Service or Deployment: rename it in the catalog, or leave it out with --cases")]
    CaseReserved { case: String },
    /// The suite files are neither in the current directory (a checkout) nor
    /// unpackable into the cache: pass `--suite` and `--catalog`.
    #[error("cannot find suites/servers.toml: {0}; run from the checkout, or pass --suite and --catalog")]
    Assets(String),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: cannot write YAML: {reason}")]
    Yaml { file: &'static str, reason: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The operating system gave no random bytes for the token.
    #[error("cannot draw a random token: {0}")]
    Token(String),
}

/// What [`render`] wrote.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Every file, in the order `kubectl apply -f DIR` reads them.
    pub files: Vec<PathBuf>,
    /// The cases, in order.
    pub cases: Vec<String>,
    /// True when the token of an earlier render in the folder was kept.
    pub kept_token: bool,
    /// The Job's `activeDeadlineSeconds`.
    pub deadline_s: u64,
}

/// Checks `options`, reads the catalog and the suite, and writes the manifests into
/// `dir` (made if missing), each file whole.
pub fn render(dir: &Path, options: &Options) -> Result<Rendered, RenderError> {
    check(options)?;
    let (catalog_path, suite_path) = input_paths(options)?;
    let catalog = suite::Catalog::load(&catalog_path)?;
    let suite_file = suite::SuiteFile::load(&suite_path)?;
    let suite_text = std::fs::read_to_string(&suite_path).map_err(|source| RenderError::Read {
        path: suite_path.clone(),
        source,
    })?;
    let names: Vec<&str> = options.cases.iter().map(String::as_str).collect();
    let cases = catalog.select(&names)?;
    for case in &cases {
        if !options::is_service_name(&case.name) {
            return Err(RenderError::CaseName {
                case: case.name.clone(),
                catalog: catalog_path.display().to_string(),
            });
        }
        if manifests::RESERVED.contains(&case.name.as_str()) {
            return Err(RenderError::CaseReserved {
                case: case.name.clone(),
            });
        }
    }
    let (token, kept_token) = match write::earlier_token(dir) {
        Some(t) => (t, true),
        None => (write::new_token()?, false),
    };
    let inputs = manifests::Inputs {
        options,
        cases,
        suite: &suite_file,
        suite_text,
        token,
    };
    let deadline_s = manifests::deadline(&inputs).as_secs();
    let files = manifests::build(&inputs)
        .iter()
        .map(|f| Ok((f.name.to_string(), write::yaml(f)?)))
        .collect::<Result<Vec<_>, RenderError>>()?;
    let files = write::write_files(dir, &files)?;
    Ok(Rendered {
        files,
        cases: inputs.cases.iter().map(|c| c.name.clone()).collect(),
        kept_token,
        deadline_s,
    })
}

/// Every option through the same check its flag has.
fn check(o: &Options) -> Result<(), RenderError> {
    let flag = |flag: &'static str| move |problem| RenderError::Option { flag, problem };
    options::parse_namespace(&o.namespace).map_err(flag("--namespace"))?;
    options::parse_agents(&o.agents.to_string()).map_err(flag("--agents"))?;
    options::parse_cpus(&o.cpus.to_string()).map_err(flag("--cpus"))?;
    options::parse_memory(&o.memory.to_string()).map_err(flag("--memory"))?;
    options::parse_image(&o.image).map_err(flag("--image"))?;
    if let Some(s) = &o.schedule {
        options::parse_schedule(s).map_err(flag("--schedule"))?;
    }
    if let Some(s) = &o.storage_class {
        options::parse_storage_class(s).map_err(flag("--storage-class"))?;
    }
    Ok(())
}

/// The catalog and suite files: as given, else the checkout's (or the binary's
/// copies, unpacked into the cache as `wsgibench run` does).
fn input_paths(o: &Options) -> Result<(PathBuf, PathBuf), RenderError> {
    if let (Some(c), Some(s)) = (&o.catalog, &o.suite) {
        return Ok((c.clone(), s.clone()));
    }
    let cache = suite::pyenv::default_cache_dir()
        .ok_or_else(|| RenderError::Assets("neither XDG_CACHE_HOME nor HOME is set".into()))?;
    let assets = suite::Assets::locate(&cache).map_err(|e| RenderError::Assets(e.to_string()))?;
    Ok((
        o.catalog
            .clone()
            .unwrap_or_else(|| assets.suite("servers.toml")),
        o.suite
            .clone()
            .unwrap_or_else(|| assets.suite("original.toml")),
    ))
}
