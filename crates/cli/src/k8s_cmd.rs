//! `wsgibench k8s render`: the flags become `deploy::Options`, `deploy::render` checks
//! them, reads the catalog and the suite and writes the files; this prints what was
//! written and what to do next. The token is never printed.

use std::process::ExitCode;

use anyhow::Result;
use deploy::RenderError;

use crate::args::{K8sArgs, K8sCommand, K8sRenderArgs};
use crate::EXIT_BAD_INPUT;

pub fn run(a: K8sArgs) -> Result<ExitCode> {
    match a.command {
        K8sCommand::Render(r) => render(r),
    }
}

fn render(a: K8sRenderArgs) -> Result<ExitCode> {
    let options = deploy::Options {
        suite: a.suite,
        catalog: a.catalog,
        cases: a.cases,
        agents: a.agents,
        image: a.image.unwrap_or_else(deploy::options::default_image),
        namespace: a.namespace,
        schedule: a.schedule,
        cpus: a.cpus,
        memory: a.memory,
        storage_class: a.storage_class,
        results_access: a.results_access.into(),
    };
    let rendered = match deploy::render(&a.out, &options) {
        Ok(r) => r,
        Err(e @ (RenderError::Write { .. } | RenderError::Yaml { .. } | RenderError::Token(_))) => {
            return Err(e.into())
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    for file in &rendered.files {
        println!("wrote     {}", file.display());
    }
    println!("cases     {}", rendered.cases.join(", "));
    println!(
        "run       {} agents + 1 controller, {}, at most {} min",
        options.agents,
        match &options.schedule {
            Some(s) => format!("a CronJob on \"{s}\" (UTC)"),
            None => "one Job".to_string(),
        },
        rendered.deadline_s.div_ceil(60)
    );
    println!(
        "token     {} (in {}, mode 0600: keep it out of version control)",
        if rendered.kept_token {
            "kept from the earlier render"
        } else {
            "new, random"
        },
        a.out.join(deploy::SECRET_FILE).display()
    );
    println!("next      kubectl apply -f {}", a.out.display());
    println!(
        "          kubectl -n {} logs -f -l batch.kubernetes.io/job-completion-index=0   (the controller; README: \"Run it in Kubernetes\")",
        options.namespace
    );
    Ok(ExitCode::SUCCESS)
}
