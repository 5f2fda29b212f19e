//! What the suite's tests of real servers share: the repository and the managed venv.
//!
//! The venv is made once in `$XDG_CACHE_HOME/wsgibench` (or `~/.cache/wsgibench`); set
//! `WSGIBENCH_PYTHON` to pick the interpreter. If it cannot be made, the tests FAIL with
//! the reason: CI is expected to install python3-venv, python3-dev, libev-dev and a C
//! compiler.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use suite::PythonEnv;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One venv for the whole test binary; `ensure` also locks across processes.
pub fn env() -> &'static PythonEnv {
    static ENV: OnceLock<Result<PythonEnv, String>> = OnceLock::new();
    let got = ENV.get_or_init(|| {
        let python = std::env::var_os("WSGIBENCH_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("python3"));
        let cache =
            suite::pyenv::default_cache_dir().ok_or("neither XDG_CACHE_HOME nor HOME is set")?;
        PythonEnv::ensure(&python, &repo().join("python"), &cache).map_err(|e| e.to_string())
    });
    match got {
        Ok(env) => env,
        Err(e) => panic!("cannot provision the Python venv (install python3-venv, python3-dev, libev-dev, build-essential): {e}"),
    }
}
