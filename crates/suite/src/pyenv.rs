//! The managed Python environment: one virtualenv per (interpreter, requirements) pair,
//! made once in a cache folder and reused.
//!
//! The folder is named after a SHA-256 of the requirement files and the interpreter's
//! identity, so bumping a pin or passing `--python` gets a fresh venv and never a
//! half-upgraded one. A `complete` marker is written only after every package
//! installed; a venv without it (a package that failed) is topped up on the next run,
//! and pip skips what is already there.
//!
//! A build cut short is different: a run killed during `python -m venv` can leave a
//! venv without pip, and one killed during pip a package half unpacked that pip would
//! later call installed. So a `venv-<hash>.building` file beside the folder is made
//! before the first change and removed once pip has finished; finding it means the
//! last build died, and the folder is removed and built afresh (pip's cache of built
//! wheels makes that quicker than the first time). Every command runs under a
//! [`Watchdog`](crate::watchdog::Watchdog), so a killed run takes its pip (and pip's
//! compilers) with it rather than leave them writing into the folder.
//!
//! A package that does not build does not fail the whole environment: the install is
//! retried package by package so each failure is attributed, and only the cases needing
//! that package are "not installed" (see [`PythonEnv::installed`]).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

use crate::catalog::Case;
use crate::lock::FileLock;
use crate::markers;
use crate::watchdog;

/// Installed normally, with their dependencies (all pinned in the file).
pub const REQUIREMENTS: &str = "requirements.txt";
/// Installed with `--no-deps` after [`REQUIREMENTS`] (meinheld pins a greenlet that no
/// longer builds). Optional.
pub const REQUIREMENTS_NODEPS: &str = "requirements-nodeps.txt";
const MARKER: &str = "wsgibench-complete";
/// How many of pip's last output lines a failure keeps: enough for a compiler error.
const PIP_TAIL_LINES: usize = 15;

/// A ready (possibly partly failed) virtualenv.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    root: PathBuf,
    python_dir: PathBuf,
    /// Normalized distribution name → version, for everything the requirement files
    /// name that is importable-installed.
    versions: BTreeMap<String, String>,
    /// Normalized distribution name → why it did not install.
    failures: BTreeMap<String, PackageFailure>,
    /// The interpreter's own libpython folder (sysconfig's LIBDIR).
    libdir: Option<PathBuf>,
}

/// Why one requirement did not install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFailure {
    /// The requirement line, e.g. `bjoern==3.2.2`.
    pub requirement: String,
    /// pip's last lines.
    pub pip_tail: String,
    /// A Debian package whose absence explains the failure, when one is recognised.
    pub debian_hint: Option<&'static str>,
}

/// The environment could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The interpreter given (`--python`) does not run; pass a working Python 3.
    #[error("cannot run the Python interpreter {}: {reason}", python.display())]
    Python { python: PathBuf, reason: String },
    /// `python -m venv` failed; on Debian/Ubuntu the venv module is a separate package.
    #[error("cannot create a virtualenv in {} with {}:\n{output}{}", venv.display(), python.display(), hint_line(*debian_hint))]
    Venv {
        python: PathBuf,
        venv: PathBuf,
        output: String,
        debian_hint: Option<&'static str>,
    },
    /// A requirement file is missing or unreadable.
    #[error("cannot read {}: {source}", path.display())]
    Requirements { path: PathBuf, source: io::Error },
    /// The cache folder cannot be made or locked; pick another with `cache_dir`.
    #[error("cache folder {}: {source}", path.display())]
    Cache { path: PathBuf, source: io::Error },
    /// pip itself does not run in the new venv.
    #[error("pip does not run in {}: {reason}", venv.display())]
    Pip { venv: PathBuf, reason: String },
    /// The app's own requirements (`--requirements`) did not install beside the
    /// servers' pins: a conflict with a pin, or a package that does not build.
    #[error("{}: {what}; pip said:\n{pip_tail}", file.display())]
    AppRequirements {
        file: PathBuf,
        what: String,
        pip_tail: String,
    },
}

fn hint_line(hint: Option<&'static str>) -> String {
    match hint {
        Some(pkg) => format!("\nhint: install the Debian package: sudo apt-get install -y {pkg}"),
        None => String::new(),
    }
}

/// A case that cannot run because a package it needs is missing.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("case `{case}` is not installed: {}", reasons.join("; "))]
pub struct NotInstalled {
    pub case: String,
    /// One line per missing package, with pip's last lines and any system hint.
    pub reasons: Vec<String>,
}

/// `$XDG_CACHE_HOME/wsgibench`, else `~/.cache/wsgibench`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("wsgibench"))
}

/// PEP 503 normalization, so `uWSGI`, `uwsgi` and `zope_interface` match pip's names.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The requirement lines of a file (comments and blanks dropped) with their names.
fn requirement_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .map(|l| {
            let end = l
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(l.len());
            (normalize(&l[..end]), l.to_string())
        })
        .collect()
}

/// Recognises a missing system package in a build log, so the user is told what to
/// install rather than handed a compiler error.
pub fn debian_hint(log: &str) -> Option<&'static str> {
    const PATTERNS: &[(&str, &str)] = &[
        ("ev.h", "libev-dev"),
        ("ensurepip is not available", "python3-venv"),
        ("No module named venv", "python3-venv"),
        ("No module named ensurepip", "python3-venv"),
        ("Python.h: No such file", "python3-dev"),
        ("command 'gcc' failed", "build-essential"),
        ("command 'cc' failed", "build-essential"),
        ("gcc: not found", "build-essential"),
        ("x86_64-linux-gnu-gcc: No such file", "build-essential"),
        (
            "error: command 'x86_64-linux-gnu-gcc' failed",
            "build-essential",
        ),
    ];
    PATTERNS
        .iter()
        .find(|(needle, _)| log.contains(needle))
        .map(|(_, pkg)| *pkg)
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn combined(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    s
}

impl PythonEnv {
    /// Makes (or reuses) the venv for `requirements_dir`'s requirement files under
    /// `cache_dir`, with `python` as the base interpreter.
    ///
    /// Blocks while another process makes the same venv. Errors only when no venv can
    /// be made; package failures are kept in the result (see [`PythonEnv::failures`]).
    pub fn ensure(
        python: &Path,
        requirements_dir: &Path,
        cache_dir: &Path,
    ) -> Result<PythonEnv, EnvError> {
        PythonEnv::ensure_with_notes(python, requirements_dir, cache_dir, &mut |_| {})
    }

    /// [`PythonEnv::ensure`], telling `note` in one line each what the user would want
    /// to know while it waits: another process is making the same venv, or the last
    /// build was cut short and is made again.
    /// A venv made already (a container image's), used as it is: no pip runs. A
    /// package the requirements name but the venv lacks makes its cases `not installed`.
    pub fn open(venv: &Path, requirements_dir: &Path) -> Result<PythonEnv, EnvError> {
        let (reqs, nodeps) = read_requirements(requirements_dir)?;
        let mut env = PythonEnv {
            root: venv.to_path_buf(),
            python_dir: requirements_dir
                .canonicalize()
                .unwrap_or_else(|_| requirements_dir.to_path_buf()),
            versions: BTreeMap::new(),
            failures: BTreeMap::new(),
            libdir: None,
        };
        if !env.python().exists() {
            return Err(EnvError::Cache {
                path: env.python(),
                source: io::Error::new(io::ErrorKind::NotFound, "no interpreter in this venv"),
            });
        }
        (env.versions, env.libdir) = env.query(&requirement_names(&reqs, &nodeps))?;
        Ok(env)
    }

    pub fn ensure_with_notes(
        python: &Path,
        requirements_dir: &Path,
        cache_dir: &Path,
        note: &mut dyn FnMut(&str),
    ) -> Result<PythonEnv, EnvError> {
        PythonEnv::ensure_keyed(python, requirements_dir, cache_dir, None, note)
    }

    /// [`PythonEnv::ensure_with_notes`] plus an app's own requirements file, installed
    /// after the servers' pins with those pins as constraints: a venv of its own,
    /// keyed by both, where a conflict with a pin is an error that names the file.
    pub fn ensure_for_app(
        python: &Path,
        requirements_dir: &Path,
        cache_dir: &Path,
        app_requirements: &Path,
        note: &mut dyn FnMut(&str),
    ) -> Result<PythonEnv, EnvError> {
        let text =
            fs::read_to_string(app_requirements).map_err(|source| EnvError::Requirements {
                path: app_requirements.to_path_buf(),
                source,
            })?;
        PythonEnv::ensure_keyed(
            python,
            requirements_dir,
            cache_dir,
            Some((app_requirements, &text)),
            note,
        )
    }

    fn ensure_keyed(
        python: &Path,
        requirements_dir: &Path,
        cache_dir: &Path,
        app: Option<(&Path, &str)>,
        note: &mut dyn FnMut(&str),
    ) -> Result<PythonEnv, EnvError> {
        let (reqs, nodeps) = read_requirements(requirements_dir)?;
        let identity = python_identity(python)?;

        let mut hash = Sha256::new();
        for part in [identity.as_str(), &reqs, &nodeps, app.map_or("", |a| a.1)] {
            hash.update(part.as_bytes());
            hash.update([0u8]);
        }
        let digest: String = hash.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();

        let cache_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| EnvError::Cache { path, source }
        };
        fs::create_dir_all(cache_dir).map_err(cache_err(cache_dir))?;
        let root = cache_dir.join(format!("venv-{digest}"));
        let lock_path = cache_dir.join(format!("venv-{digest}.lock"));
        // Two runs (or two tests) making the same venv would run two pips into one folder.
        let _lock = FileLock::acquire(&lock_path, |holder| {
            note(&format!(
                "waiting for another wsgibench{} that is preparing {} (lock {})",
                holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                root.display(),
                lock_path.display()
            ))
        })
        .map_err(cache_err(&lock_path))?;
        let building = cache_dir.join(format!("venv-{digest}.building"));

        let requirements_dir = requirements_dir
            .canonicalize()
            .unwrap_or_else(|_| requirements_dir.to_path_buf());
        let mut env = PythonEnv {
            root: root.clone(),
            python_dir: requirements_dir,
            versions: BTreeMap::new(),
            failures: BTreeMap::new(),
            libdir: None,
        };
        let marker = root.join(MARKER);
        if building.exists() {
            note(&format!(
                "the last build of {} was cut short: building it again",
                root.display()
            ));
            fs::remove_dir_all(&root)
                .or_else(|e| match e.kind() {
                    io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                })
                .map_err(cache_err(&root))?;
        }
        if !marker.exists() {
            fs::write(&building, b"").map_err(cache_err(&building))?;
            markers::reached(markers::VENV_BUILDING);
            if !env.python().exists() {
                // A folder without an interpreter is a venv that died being made.
                let _ = fs::remove_dir_all(&root);
                create_venv(python, &root)?;
            }
            env.install(&reqs, false)?;
            env.install(&nodeps, true)?;
            if let Some((file, _)) = app {
                // On failure the venv is left unmarked: given the same file again,
                // it is built again; a fixed file keys another venv.
                let pins = env.python_dir.join(REQUIREMENTS);
                env.install_app(file, &pins)?;
            }
            // pip has finished, with or without failures: what is there is whole.
            fs::remove_file(&building).map_err(cache_err(&building))?;
            if env.failures.is_empty() {
                fs::write(&marker, format!("{identity}\n")).map_err(cache_err(&marker))?;
            }
        }
        (env.versions, env.libdir) = env.query(&requirement_names(&reqs, &nodeps))?;
        Ok(env)
    }

    /// The venv folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The venv's interpreter.
    pub fn python(&self) -> PathBuf {
        self.root.join("bin").join("python")
    }

    /// The venv's `bin/` (console scripts: gunicorn, uwsgi, granian, …).
    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// The folder of the requirement files, `app.py` and `launchers/`.
    pub fn python_dir(&self) -> &Path {
        &self.python_dir
    }

    /// The installed version of a distribution the requirement files name.
    pub fn version(&self, distribution: &str) -> Option<&str> {
        self.versions
            .get(&normalize(distribution))
            .map(String::as_str)
    }

    /// What did not install, by normalized distribution name.
    pub fn failures(&self) -> &BTreeMap<String, PackageFailure> {
        &self.failures
    }

    /// Whether every package `case` needs is installed; if not, why, with the system
    /// packages the case declares.
    pub fn installed(&self, case: &Case) -> Result<(), NotInstalled> {
        self.all_installed(&case.name, &case.packages, &case.system)
    }

    /// Whether every package the app needs beyond its server's is installed.
    pub fn app_installed(&self, app: &crate::App) -> Result<(), NotInstalled> {
        self.all_installed(&format!("app {}", app.name), &app.packages, &[])
    }

    fn all_installed(
        &self,
        name: &str,
        packages: &[String],
        system: &[crate::SystemNeed],
    ) -> Result<(), NotInstalled> {
        let mut reasons = Vec::new();
        for package in packages {
            let key = normalize(package);
            if let Some(f) = self.failures.get(&key) {
                let mut r = format!("`{}` did not install", f.requirement);
                let hint = f.debian_hint.map(str::to_string).or_else(|| {
                    (!system.is_empty()).then(|| {
                        system
                            .iter()
                            .map(|s| s.debian.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                });
                if let Some(h) = hint {
                    r.push_str(&format!(
                        " (install the Debian package: sudo apt-get install -y {h}"
                    ));
                    for need in system {
                        r.push_str(&format!("; {}", need.why));
                    }
                    r.push(')');
                }
                r.push_str(&format!("; pip said:\n{}", f.pip_tail));
                reasons.push(r);
            } else if !self.versions.contains_key(&key) {
                reasons.push(format!(
                    "`{package}` is not in the venv {} (is it in {REQUIREMENTS}?)",
                    self.root.display()
                ));
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(NotInstalled {
                case: name.to_string(),
                reasons,
            })
        }
    }

    /// The case's version string, e.g. `gunicorn 27.0.1, meinheld 1.0.2`.
    pub fn case_version(&self, case: &Case) -> Option<String> {
        let parts: Vec<String> = case
            .version
            .iter()
            .filter_map(|d| self.version(d).map(|v| format!("{d} {v}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    fn pip(&self, args: &[&str]) -> io::Result<Output> {
        watchdog::output(
            Command::new(self.python())
                .args(["-m", "pip", "install", "--no-input"])
                .args(args)
                .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
                .stdin(Stdio::null()),
        )
    }

    /// Installs one requirement file; on failure retries line by line to attribute it.
    fn install(&mut self, text: &str, no_deps: bool) -> Result<(), EnvError> {
        let lines = requirement_lines(text);
        if lines.is_empty() {
            return Ok(());
        }
        let pip_err = |e: io::Error| EnvError::Pip {
            venv: self.root.clone(),
            reason: e.to_string(),
        };
        let mut all: Vec<&str> = Vec::new();
        if no_deps {
            all.push("--no-deps");
        }
        all.extend(lines.iter().map(|(_, l)| l.as_str()));
        let out = self.pip(&all).map_err(pip_err)?;
        let log = combined(&out);
        self.append_log(&log);
        if out.status.success() {
            return Ok(());
        }
        if log.contains("No module named pip") {
            return Err(EnvError::Pip {
                venv: self.root.clone(),
                reason: tail(&log, PIP_TAIL_LINES),
            });
        }
        // Every transitive dependency is pinned in the file, so `--no-deps` per line
        // installs the same set while telling which line broke.
        for (name, line) in &lines {
            let out = self.pip(&["--no-deps", line]).map_err(|e| EnvError::Pip {
                venv: self.root.clone(),
                reason: e.to_string(),
            })?;
            let log = combined(&out);
            self.append_log(&log);
            if !out.status.success() {
                self.failures.insert(
                    name.clone(),
                    PackageFailure {
                        requirement: line.clone(),
                        pip_tail: tail(&log, PIP_TAIL_LINES),
                        debian_hint: debian_hint(&log),
                    },
                );
            }
        }
        Ok(())
    }

    /// The app's requirements in one pip run, constrained by the servers' pins.
    fn install_app(&mut self, file: &Path, pins: &Path) -> Result<(), EnvError> {
        let file_arg = file.to_string_lossy().into_owned();
        let pins_arg = pins.to_string_lossy().into_owned();
        let out = self
            .pip(&["-r", &file_arg, "-c", &pins_arg])
            .map_err(|e| EnvError::Pip {
                venv: self.root.clone(),
                reason: e.to_string(),
            })?;
        let log = combined(&out);
        self.append_log(&log);
        if out.status.success() {
            return Ok(());
        }
        let what = if log.contains("ResolutionImpossible") || log.contains("conflict") {
            format!(
                "the app's requirements conflict with the servers' pins ({}); \
                 loosen the app's pin or run the app's servers at its version",
                pins.display()
            )
        } else {
            "the app's requirements did not install".to_string()
        };
        Err(EnvError::AppRequirements {
            file: file.to_path_buf(),
            what,
            pip_tail: tail(&log, PIP_TAIL_LINES),
        })
    }

    fn append_log(&self, text: &str) {
        use std::io::Write;
        if let Ok(mut f) = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("wsgibench-pip.log"))
        {
            let _ = f.write_all(text.as_bytes());
        }
    }

    /// The installed versions of `names`, and the interpreter's LIBDIR.
    fn query(
        &self,
        names: &[String],
    ) -> Result<(BTreeMap<String, String>, Option<PathBuf>), EnvError> {
        // One interpreter start for all names; a missing one prints nothing. The first
        // line is LIBDIR (a distribution name has no slash).
        const PROBE: &str = r#"
import sys, sysconfig, importlib.metadata as m
print(sysconfig.get_config_var("LIBDIR") or "")
for n in sys.argv[1:]:
    try:
        print(n, m.version(n))
    except m.PackageNotFoundError:
        pass
"#;
        let mut args = vec!["-c", PROBE];
        args.extend(names.iter().map(String::as_str));
        let out = run_python(&self.python(), &args)?;
        let mut lines = out.lines();
        let libdir = lines
            .next()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_dir());
        let versions = lines
            .filter_map(|l| l.split_once(' '))
            .map(|(n, v)| (normalize(n), v.trim().to_string()))
            .collect();
        Ok((versions, libdir))
    }

    /// The environment a server of this venv runs with. LD_LIBRARY_PATH starts with the
    /// interpreter's own libpython folder: a server that embeds Python (uWSGI) would
    /// otherwise load whichever libpython3.11 the system has first, of another patch
    /// release than the venv's standard library (seen: Debian's 3.11.2 beside pyenv's
    /// 3.11.7, where `import ssl` then fails for a missing symbol).
    /// `app_dir` is where an app outside python/ lives (`--app-path`): it comes first
    /// on PYTHONPATH, before python/ (the launchers' helpers).
    pub fn server_env(&self, app_dir: Option<&Path>) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut pythonpath = std::ffi::OsString::new();
        if let Some(dir) = app_dir {
            pythonpath.push(dir);
            pythonpath.push(":");
        }
        pythonpath.push(&self.python_dir);
        let mut vars = vec![("PYTHONPATH", pythonpath)];
        if let Some(libdir) = &self.libdir {
            let mut path = libdir.clone().into_os_string();
            if let Some(old) = std::env::var_os("LD_LIBRARY_PATH").filter(|v| !v.is_empty()) {
                path.push(":");
                path.push(old);
            }
            vars.push(("LD_LIBRARY_PATH", path));
        }
        vars
    }
}

/// The interpreter's version and real path: a venv is bound to the interpreter that
/// made it, so both go into the venv's hash.
fn python_identity(python: &Path) -> Result<String, EnvError> {
    let out = run_python(
        python,
        &[
            "-c",
            "import sys; print(sys.version); print(sys.base_prefix)",
        ],
    )?;
    Ok(out.trim().to_string())
}

/// Runs `python ARGS` and returns its stdout; a failure names the interpreter and
/// carries the last lines of its output.
fn run_python(python: &Path, args: &[&str]) -> Result<String, EnvError> {
    let failed = |reason: String| EnvError::Python {
        python: python.to_path_buf(),
        reason,
    };
    let out = watchdog::output(Command::new(python).args(args).stdin(Stdio::null()))
        .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        return Err(failed(tail(&combined(&out), PIP_TAIL_LINES)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn create_venv(python: &Path, root: &Path) -> Result<(), EnvError> {
    let out = watchdog::output(
        Command::new(python)
            .args(["-m", "venv"])
            .arg(root)
            .stdin(Stdio::null()),
    )
    .map_err(|e| EnvError::Python {
        python: python.to_path_buf(),
        reason: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let _ = fs::remove_dir_all(root);
    let output = tail(&combined(&out), PIP_TAIL_LINES);
    Err(EnvError::Venv {
        python: python.to_path_buf(),
        venv: root.to_path_buf(),
        debian_hint: debian_hint(&output),
        output,
    })
}

/// Every distribution both requirement files name.
fn requirement_names(reqs: &str, nodeps: &str) -> Vec<String> {
    requirement_lines(reqs)
        .into_iter()
        .chain(requirement_lines(nodeps))
        .map(|(name, _)| name)
        .collect()
}

/// The requirement files' text: `requirements.txt`, and the no-deps file if there is
/// one (empty otherwise).
fn read_requirements(dir: &Path) -> Result<(String, String), EnvError> {
    let read = |name: &str| {
        let path = dir.join(name);
        fs::read_to_string(&path).map_err(|source| EnvError::Requirements { path, source })
    };
    let reqs = read(REQUIREMENTS)?;
    let nodeps = match read(REQUIREMENTS_NODEPS) {
        Ok(text) => text,
        Err(EnvError::Requirements { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            String::new()
        }
        Err(e) => return Err(e),
    };
    Ok((reqs, nodeps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_as_pip_does() {
        assert_eq!(normalize("uWSGI"), "uwsgi");
        assert_eq!(normalize("zope.interface"), "zope-interface");
        assert_eq!(normalize("Zope__Interface"), "zope-interface");
    }

    #[test]
    fn requirement_lines_skip_comments_and_options() {
        let lines =
            requirement_lines("# pins\nbjoern==3.2.2  # libev\n\n--no-binary x\nuWSGI==2.0.31\n");
        assert_eq!(
            lines,
            [
                ("bjoern".to_string(), "bjoern==3.2.2".to_string()),
                ("uwsgi".to_string(), "uWSGI==2.0.31".to_string())
            ]
        );
    }

    #[test]
    fn build_logs_point_at_debian_packages() {
        assert_eq!(
            debian_hint("bjoern/request.h:4:10: fatal error: ev.h: No such file or directory"),
            Some("libev-dev")
        );
        assert_eq!(
            debian_hint("The virtual environment was not created successfully because ensurepip is not available."),
            Some("python3-venv")
        );
        assert_eq!(debian_hint("all good"), None);
    }

    #[test]
    fn a_missing_interpreter_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = PythonEnv::ensure(
            Path::new("/nonexistent/python3"),
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../python")),
            dir.path(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/python3"), "{e}");
    }

    #[test]
    fn missing_requirements_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = PythonEnv::ensure(Path::new("python3"), dir.path(), dir.path()).unwrap_err();
        assert!(e.to_string().contains(REQUIREMENTS), "{e}");
    }

    /// pip itself (already in every new venv) stands in for a good package, so the
    /// venv, marker and failure paths are covered in seconds without the network.
    #[test]
    fn failures_are_attributed_and_the_venv_is_topped_up() {
        let work = tempfile::tempdir().unwrap();
        let reqs = work.path().join("reqs");
        fs::create_dir_all(&reqs).unwrap();
        fs::write(
            reqs.join(REQUIREMENTS),
            format!("pip\nbadpkg @ file://{}/missing\n", work.path().display()),
        )
        .unwrap();
        let cache = work.path().join("cache");
        let python = Path::new("python3");
        let env = PythonEnv::ensure(python, &reqs, &cache).unwrap();
        assert_eq!(env.failures().keys().collect::<Vec<_>>(), ["badpkg"]);
        assert!(env.version("pip").is_some());
        assert!(
            !env.root().join(MARKER).exists(),
            "a failed install must not be marked"
        );
        // Fixing the file reuses nothing stale: new contents, new venv, now complete.
        fs::write(reqs.join(REQUIREMENTS), "pip\n").unwrap();
        let fixed = PythonEnv::ensure(python, &reqs, &cache).unwrap();
        assert_ne!(fixed.root(), env.root());
        assert!(fixed.failures().is_empty());
        assert!(fixed.root().join(MARKER).exists());
        let case = Case {
            name: "c".into(),
            description: String::new(),
            command: vec!["x".into()],
            packages: vec!["badpkg".into()],
            version: vec![],
            app: None,
            system: vec![],
            workers_args: vec![],
            single_process: None,
        };
        let e = env.installed(&case).unwrap_err().to_string();
        assert!(e.contains("badpkg @ file://"), "{e}");
    }

    /// What a run killed during `python -m venv` or pip leaves: the `.building` file
    /// and a folder that cannot be trusted. The next ensure makes it afresh, and says so.
    #[test]
    fn a_build_cut_short_is_made_again() {
        let work = tempfile::tempdir().unwrap();
        let reqs = work.path().join("reqs");
        fs::create_dir_all(&reqs).unwrap();
        fs::write(reqs.join(REQUIREMENTS), "pip\n").unwrap();
        let cache = work.path().join("cache");
        let python = Path::new("python3");
        let env = PythonEnv::ensure(python, &reqs, &cache).unwrap();
        let name = env.root().file_name().unwrap().to_str().unwrap();
        let building = cache.join(format!("{name}.building"));
        assert!(
            !building.exists(),
            "a finished build leaves no .building file"
        );
        fs::write(&building, b"").unwrap();
        fs::write(env.root().join("half-unpacked"), b"").unwrap();
        fs::remove_file(env.root().join(MARKER)).unwrap();

        let mut notes = Vec::new();
        let again =
            PythonEnv::ensure_with_notes(python, &reqs, &cache, &mut |n| notes.push(n.to_string()))
                .unwrap();
        assert_eq!(again.root(), env.root());
        assert!(!again.root().join("half-unpacked").exists());
        assert!(again.root().join(MARKER).exists());
        assert!(again.version("pip").is_some());
        assert!(!building.exists());
        assert!(
            notes.len() == 1 && notes[0].contains("cut short"),
            "{notes:?}"
        );
    }
}
