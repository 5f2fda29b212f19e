//! The two commands of a server case's pod: `wsgibench serve-case CASE`, one catalog
//! case's server in the foreground (the process becomes the server, so the container's
//! signals reach it directly), and `wsgibench sample`, its sidecar that samples the
//! server's CPU and memory for the suite's controller.

use std::os::unix::process::CommandExt;
use std::process::ExitCode;

use anyhow::{Context, Result};
use suite::{AppCatalog, Assets, Catalog, PythonEnv, Server};

use crate::args::{SampleArgs, ServeCaseArgs};

pub fn run(a: ServeCaseArgs) -> Result<ExitCode> {
    let cache = match &a.cache_dir {
        Some(c) => c.clone(),
        None => suite::pyenv::default_cache_dir()
            .context("set --cache-dir: neither XDG_CACHE_HOME nor HOME is set")?,
    };
    let assets = Assets::locate(&cache)?;
    let catalog_path = a.catalog.unwrap_or_else(|| assets.suite("servers.toml"));
    let catalog = match Catalog::load(&catalog_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    };
    let Some(case) = catalog.get(&a.case) else {
        eprintln!(
            "error: no case {:?} in {}; it has: {}",
            a.case,
            catalog_path.display(),
            catalog
                .cases
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
    };
    let env = match &a.venv {
        Some(venv) => PythonEnv::open(venv, &assets.python_dir())?,
        None => PythonEnv::ensure_with_notes(&a.python, &assets.python_dir(), &cache, &mut |n| {
            println!("{n}")
        })?,
    };
    let apps = match AppCatalog::load(&assets.apps_toml()) {
        Ok(apps) => apps,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    };
    let app = match apps.select(&[a.app.as_str()]) {
        Ok(selected) => selected[0],
        Err(e) => {
            eprintln!("error: --app: {e}");
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    };
    env.installed(case)?;
    env.app_installed(app)?;
    let mut command = Server::command(
        case,
        app.callable_for(case),
        app.dir.as_deref(),
        &env,
        &a.host,
        a.port,
    )?;
    println!(
        "serving {} with the {} app on {}:{}",
        case.name, app.name, a.host, a.port
    );
    // Only returns when the exec failed.
    let e = command.exec();
    Err(e).with_context(|| format!("cannot start {}", case.name))
}

/// `wsgibench sample --listen ADDR`: the sidecar of a server case's container; it
/// serves until the pod ends.
pub fn sample(a: SampleArgs) -> Result<ExitCode> {
    let listener = match std::net::TcpListener::bind(&a.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: --listen {}: {e}", a.listen);
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    };
    println!(
        "sampling the processes beside this one; GET /samples on {}",
        a.listen
    );
    suite::sidecar::serve(listener, a.every)?;
    Ok(ExitCode::SUCCESS)
}
