//! `wsgibench run`: the suite. Parses the flags, prepares the Python environment,
//! hands the cases to `suite::SuiteRun`, and prints: a line per case as it ends, then
//! the table, the findings and where the files are. What is written, and how, is the
//! results model's (`results`), rendered once by `render` and recorded by `history`.
//!
//! Killed at any point (even by SIGKILL), a run leaves no process behind: pip and every
//! server run under a watchdog (`suite::watchdog`). Its folder stays readable: each
//! file is written whole or appended line by line, and reading calls a case folder
//! without `summary.json` killed. Two runs at once take turns: one venv build at a
//! time, and one run measuring on the CPUs at a time (`suite::lock`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use results::{Case, RunFolder};
use suite::{AppCatalog, Assets, Catalog, Placement, PythonEnv, SuiteFile, SuiteRun};

use crate::args::RunArgs;
use crate::progress::Progress;

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let cache = match &a.cache_dir {
        Some(c) => c.clone(),
        None => suite::pyenv::default_cache_dir()
            .context("set --cache-dir: neither XDG_CACHE_HOME nor HOME is set")?,
    };
    let assets = Assets::locate(&cache)?;
    let catalog_path = a
        .catalog
        .clone()
        .unwrap_or_else(|| assets.suite("servers.toml"));
    let catalog = match Catalog::load(&catalog_path) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let suite_path = match (&a.suite, a.quick) {
        (Some(p), _) => p.clone(),
        (None, true) => assets.suite("quick.toml"),
        (None, false) => assets.suite("original.toml"),
    };
    let protocol = match SuiteFile::load(&suite_path) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let names: Vec<&str> = a.cases.iter().map(String::as_str).collect();
    let cases = if names.is_empty() {
        catalog.cases.iter().collect()
    } else {
        match catalog.select(&names) {
            Ok(c) => c,
            Err(e) => return usage(e),
        }
    };
    let app_catalog = match AppCatalog::load(&assets.apps_toml()) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let own = match &a.app {
        None => None,
        Some(callable) => match own_app(callable, &a) {
            Ok(app) => Some(app),
            Err(e) => return usage(e),
        },
    };
    let app_names: Vec<&str> = a.apps.iter().map(String::as_str).collect();
    let mut apps = match (&own, app_names.is_empty()) {
        // Your app alone, unless --apps asks for others beside it.
        (Some(_), true) => Vec::new(),
        _ => match app_catalog.select(&app_names) {
            Ok(apps) => apps,
            Err(e) => return usage(format!("--apps: {e}")),
        },
    };
    if let Some(own) = &own {
        if apps.iter().any(|a| a.name == own.name) {
            return usage(format!(
                "--app {}: its name `{}` is also a shipped app's; rename the module or leave that app out of --apps",
                own.callable, own.name
            ));
        }
        apps.push(own);
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(results::folder::utc_stamp()));
    let folder = RunFolder::create(&out)?;
    let placement = Placement::for_workers(&engine::allowed_cpus(), a.workers);

    println!("wsgibench run: {}", protocol.description);
    println!("  protocol  {}", suite_path.display());
    println!(
        "  cases     {}",
        cases
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if apps.len() > 1 || !apps[0].is_original() {
        println!(
            "  apps      {}",
            apps.iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("  output    {}", out.display());
    let agents = match crate::drive::agents(&a.spread) {
        Ok(agents) => agents,
        Err(e) => return usage(e),
    };
    if a.workers.is_some() && a.servers_at.is_some() {
        return usage("--workers starts the servers here with N workers; with --servers-at they run elsewhere, as they were started");
    }
    if a.samplers_at.is_some() && a.servers_at.is_none() {
        return usage(
            "--samplers-at goes with --servers-at: a server started here is sampled here",
        );
    }
    let servers = match &a.servers_at {
        None => suite::Servers::Launch,
        Some(template) => {
            if !template.contains("{app}") && apps.iter().any(|a| !a.is_original()) {
                return usage(format!(
                    "--servers-at {template}: holds no {{app}}, so every app would load the same server (e.g. '{{case}}-{{app}}:8000')"
                ));
            }
            if !template.contains("{case}") && cases.len() > 1 {
                return usage(format!(
                    "--servers-at {template}: holds no {{case}}, so every case would load the same server"
                ));
            }
            let sample = template.replace("{case}", &cases[0].name);
            let local = sample
                .rsplit_once(':')
                .map(|(host, _)| scenario::Target {
                    host: host.trim_matches(['[', ']']).to_string(),
                    port: 0,
                    tls: false,
                })
                .map(|t| t.check_local().is_ok());
            match local {
                None => return usage(format!("--servers-at {template}: expected HOST:PORT")),
                Some(false) if !a.spread.allow_remote => {
                    return usage(format!(
                        "--servers-at {template}: not on this machine; pass --allow-remote to load another host"
                    ))
                }
                Some(_) => suite::Servers::At {
                    servers: template.clone(),
                    samplers: a.samplers_at.clone(),
                },
            }
        }
    };
    let io: engine::IoChoice = a.engine.io.into();
    if let Err(e) = crate::drive::check_io(io) {
        return usage(e);
    }
    let suite_run = SuiteRun {
        cases,
        apps,
        protocol: &protocol,
        placement: &placement,
        folder: &folder,
        repeat: a.repeat,
        tsung_log: a.tsung_log,
        servers,
        agents,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        io,
    };
    println!("  placing   {}", suite_run.where_it_runs());
    let meta = suite_run.begin()?;
    // Servers that run elsewhere need no Python here.
    let env = match &suite_run.servers {
        suite::Servers::At { .. } => None,
        suite::Servers::Launch => {
            println!("preparing the Python environment (the first time builds uWSGI, bjoern and meinheld: minutes)...");
            let mut note = |n: &str| println!("  {n}");
            let env = match &a.requirements {
                Some(file) => PythonEnv::ensure_for_app(
                    &a.python,
                    &assets.python_dir(),
                    &cache,
                    file,
                    &mut note,
                ),
                None => {
                    PythonEnv::ensure_with_notes(&a.python, &assets.python_dir(), &cache, &mut note)
                }
            };
            if let (Err(e @ suite::EnvError::AppRequirements { .. }), Some(_)) =
                (&env, &a.requirements)
            {
                return usage(e);
            }
            if let Ok(env) = &env {
                for (req, failure) in env.failures() {
                    println!(
                        "  could not install {req}: {}",
                        failure.pip_tail.lines().last().unwrap_or("")
                    );
                }
            }
            Some(env)
        }
    };

    // Without this lock a second run would pin its server to the same CPU and its
    // generator to the same others: each would measure the other. Held until the report
    // is written (or the kernel drops it with a killed run); taken before the Ctrl-C
    // handler is installed, so Ctrl-C still ends a wait.
    let lock_path = suite::lock::measure_lock_path();
    let _measuring = match suite::FileLock::acquire(&lock_path, |holder| {
        println!(
            "waiting for another wsgibench run{} to finish measuring: two at once would share CPUs (lock {})",
            holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
            lock_path.display()
        )
    }) {
        Ok(lock) => Some(lock),
        Err(e) => {
            println!(
                "  warning: cannot take {}: {e}; another run at the same time would share the CPUs",
                lock_path.display()
            );
            None
        }
    };

    let stop = crate::interrupt::stop_flag()?;

    let run = suite_run.run(
        meta,
        env.as_ref(),
        &stop,
        &mut Console {
            quiet: a.quiet,
            bar: None,
        },
    )?;

    let rendered = render::write_all(&run, &folder)
        .with_context(|| format!("cannot write the results in {}", out.display()))?;
    println!();
    print!("{}", rendered.console_table);
    let spreads: Vec<String> = run.cases.iter().filter_map(spread).collect();
    if !spreads.is_empty() {
        println!("\nrun-to-run spread (--repeat {}):", a.repeat);
        for line in &spreads {
            println!("{line}");
        }
    }
    println!();
    crate::report_cmd::print_findings(&rendered.findings);
    println!("report    {}", rendered.report_html.display());
    crate::history_cmd::record_run(a.db.as_deref(), &run);
    println!("results   {}", rendered.results_md.display());
    println!(
        "charts    {} and {}",
        rendered.charts[0].display(),
        rendered.charts[1].display()
    );
    let failed: Vec<String> = run
        .cases
        .iter()
        .filter(|c| c.status == results::CaseStatus::AppError)
        .map(Case::label)
        .collect();
    if !failed.is_empty() {
        eprintln!(
            "error: the app failed on {}: not ranked; its traceback is in the report",
            failed.join(", ")
        );
        return Ok(ExitCode::from(crate::EXIT_APP_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--app MODULE:CALLABLE` as an app of the run: imported from `--app-path`, asked
/// each `--path` (GET), its answer learned by comparing the servers'.
fn own_app(callable: &str, a: &RunArgs) -> std::result::Result<suite::App, String> {
    let (module, function) = callable
        .split_once(':')
        .filter(|(m, f)| !m.is_empty() && !f.is_empty())
        .ok_or_else(|| {
            format!("--app {callable}: expected MODULE:CALLABLE, e.g. mysite.wsgi:application")
        })?;
    let dir = match &a.app_path {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?,
    };
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("--app-path {}: {e}", dir.display()))?;
    let file = dir.join(format!("{}.py", module.replace('.', "/")));
    let package = dir.join(module.replace('.', "/")).join("__init__.py");
    if !file.is_file() && !package.is_file() {
        return Err(format!(
            "--app {callable}: no {} (nor a package {}) under --app-path {}",
            file.strip_prefix(&dir).unwrap_or(&file).display(),
            package.strip_prefix(&dir).unwrap_or(&package).display(),
            dir.display()
        ));
    }
    let (mix, sessions) = match &a.requests {
        Some(file) if file.extension().is_some_and(|e| e == "xml") => {
            let import = scenario::tsung::parse_file(file).map_err(|e| e.to_string())?;
            let scenario::Load::Sessions { sessions, .. } = import.scenario.load else {
                return Err(format!(
                    "--requests {}: holds no <sessions>",
                    file.display()
                ));
            };
            println!(
                "  --requests {}: its sessions are what your app is asked; the protocol's phases apply, not the file's <load>",
                file.display()
            );
            let mut mix: Vec<(scenario::Request, f64)> = Vec::new();
            for request in sessions.iter().flat_map(|s| s.requests()) {
                if !mix.iter().any(|(r, _)| r == request) {
                    mix.push((request.clone(), 1.0));
                }
            }
            if mix.is_empty() {
                return Err(format!(
                    "--requests {}: its sessions send no request",
                    file.display()
                ));
            }
            (mix, Some(sessions))
        }
        Some(file) => (suite::mix::read(file).map_err(|e| e.to_string())?, None),
        None => {
            let paths = match a.paths.as_slice() {
                [] => vec!["/".to_string()],
                paths => paths.to_vec(),
            };
            let mut mix = Vec::new();
            for path in &paths {
                let request = scenario::Request::get(path);
                request.check().map_err(|e| format!("--path {path}: {e}"))?;
                mix.push((request, 1.0));
            }
            (mix, None)
        }
    };
    // A folder-safe name: bjoern@mysite-wsgi.
    let name: String = module
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    Ok(suite::App {
        name,
        description: format!("your app, {module}:{function}"),
        callable: callable.to_string(),
        dir: Some(dir),
        request: mix[0].0.clone(),
        mix,
        sessions,
        expect: None,
        packages: Vec::new(),
    })
}

fn usage(e: impl std::fmt::Display) -> Result<ExitCode> {
    eprintln!("error: {e}");
    Ok(ExitCode::from(2))
}

/// The suite's progress on a terminal: a live bar during each load, a line per case.
struct Console {
    quiet: bool,
    bar: Option<Progress>,
}

impl suite::Progress for Console {
    fn load_started(&mut self, case: &str, live: Arc<engine::Live>, length: Duration) {
        if !self.quiet {
            self.bar = Some(Progress::start(live, Some(length), format!("{case:<18}")));
        }
    }

    fn load_ended(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }

    fn case_ended(&mut self, case: &Case) {
        match (&case.measured, case.status.is_ok()) {
            (Some(m), true) => println!(
                "  {:<18} ok       {:>9.0} req/s  mean {:>8}  p99 {:>8}  errors {}",
                case.name,
                m.digest.rps,
                render::console::duration_us(m.digest.latency_us.mean),
                render::console::duration_us(m.digest.latency_us.p99 as f64),
                m.digest.errors_total
            ),
            _ => {
                println!(
                    "  {:<18} {}",
                    case.name,
                    case.status.as_str().to_uppercase()
                );
                if let Some(d) = &case.detail {
                    for line in d.lines().take(20) {
                        println!("      | {line}");
                    }
                }
            }
        }
    }

    fn interrupted_before(&mut self, case: &str) {
        println!("interrupted: {case} and the runs after it were not made");
    }

    fn note(&mut self, line: &str) {
        println!("{line}");
    }
}

/// `--repeat`'s line for a case: the median repetition's req/s and the range of all.
fn spread(case: &Case) -> Option<String> {
    let m = case.measured.as_ref().filter(|_| case.repeats.len() > 1)?;
    let (lo, hi) = case.repeats.iter().fold((f64::MAX, f64::MIN), |(l, h), r| {
        (l.min(r.rps), h.max(r.rps))
    });
    Some(format!(
        "  {:<18} median {:.0} req/s, range {:.0}-{:.0} over {} runs",
        case.name,
        m.digest.rps,
        lo,
        hi,
        case.repeats.len()
    ))
}
