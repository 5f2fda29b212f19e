//! `wsgibench tsung FILE.xml`: a Tsung scenario, run unchanged.
//!
//! Reads the file with `scenario::tsung`, prints what wsgibench does differently (the
//! importer's notes), runs it, and writes Tsung's JSON log next to wsgibench's own
//! outputs. Exit codes: 0 when the run happened (whatever the server answered), 2 when
//! the file or the flags are wrong, 1 when an output could not be written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use results::single::RunLabels;
use scenario::tsung::Backend;
use scenario::Load;

use crate::args::TsungArgs;
use crate::drive::{self, Drive, Outputs};

pub fn run(a: TsungArgs) -> Result<ExitCode> {
    let mut import = match scenario::tsung::parse_file(&a.file) {
        Ok(import) => import,
        Err(e) => {
            // Already one line with file:line:column; nothing to add.
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Load::Sessions { arrival, .. } = &mut import.scenario.load {
        *arrival = a.arrival.into();
    }
    if let Some(cap) = a.keep_answer {
        import.scenario.keep_answers(cap);
    }
    import.scenario.trust = match drive::trust(&a.trust) {
        Ok(trust) => trust,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::EXIT_BAD_INPUT));
        }
    };
    if a.dry_run {
        print!("{}", scenario::tsung::describe(&import));
        for missing in &import.missing_files {
            println!(
                "missing   data file {} (the run refuses to start without it)",
                missing.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(missing) = import.missing_files.first() {
        eprintln!(
            "error: {}: the data file {} is missing (an <option name=\"file_server\"> names it)",
            a.file.display(),
            missing.display()
        );
        return Ok(ExitCode::from(2));
    }
    let scenario = &import.scenario;
    let agents = match drive::accept(scenario, &a.spread) {
        Ok(agents) => agents,
        Err(e) => {
            eprintln!("error: {}: {e}", a.file.display());
            return Ok(ExitCode::from(2));
        }
    };
    for note in &import.notes {
        println!("note: {note}");
    }

    let tsung_log_path = a
        .tsung_log
        .clone()
        .or_else(|| (import.log.backend == Backend::Json).then(|| default_tsung_log(&a.file)));
    let threads = drive::threads(a.threads);
    let header = format!(
        "Running {} @ {}:{} ({}{})",
        a.file.display(),
        scenario.target.host,
        scenario.target.port,
        drive::makers(threads, agents.as_ref()),
        scenario
            .duration
            .map(|d| format!(", at most {:.1}s", d.as_secs_f64()))
            .unwrap_or_default(),
    );
    let outputs = Outputs {
        json: a.json.clone().map(|path| {
            let labels = RunLabels {
                tsung_file: Some(a.file.display().to_string()),
                target: Some(format!("{}:{}", scenario.target.host, scenario.target.port)),
                model: Some("sessions (Tsung)".into()),
                ..RunLabels::default()
            };
            (path, labels)
        }),
        tsung_log: tsung_log_path,
        hgrm: a.hgrm.clone(),
    };
    drive::run(
        Drive {
            scenario,
            threads,
            // Tsung dumps its statistics every 10 s; its log has one entry per dump.
            interval: a.interval.unwrap_or(import.log.dump_interval),
            cpus: a.cpus.clone(),
            quiet: a.quiet,
            label: "tsung",
            header,
            what: a.file.display().to_string(),
            agents,
            allow_remote: a.spread.allow_remote,
            io: a.engine.io.into(),
        },
        &outputs,
    )
}

/// `dir/seed.xml` → `seed.tsung.json` in the current directory: outputs go where the
/// user runs the command, not beside the input (which may be read-only, e.g. Tsung's
/// examples under /usr/share/doc).
fn default_tsung_log(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tsung".into());
    PathBuf::from(format!("{stem}.tsung.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_log_goes_to_the_current_directory() {
        assert_eq!(
            default_tsung_log(Path::new("/usr/share/doc/tsung/examples/http_simple.xml")),
            PathBuf::from("http_simple.tsung.json")
        );
    }
}
