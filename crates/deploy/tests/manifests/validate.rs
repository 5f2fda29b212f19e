//! Every rendered file passes `kubernetes-validate --strict` (the PyPI package, whose
//! schemas ship inside it, so it runs offline) for Kubernetes 1.30 and 1.37.
//!
//! Strict: a field the API does not have is an error, not ignored. The tool only warns
//! (and exits 0) for a kind or apiVersion it has no schema for, so a pass here means
//! one "passed" line per object and nothing else.

use std::process::Command;

use crate::util::*;

const VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];

fn tool() -> Option<std::path::PathBuf> {
    testkit::outside_tool_installed_by(
        "kubernetes-validate",
        "pip install kubernetes-validate==1.37.0",
        testkit::find_program(&["kubernetes-validate"]),
    )
}

/// Runs the tool on every file of `dir`; panics with its output unless each object
/// passed.
fn validate(tool: &std::path::Path, dir: &std::path::Path, what: &str) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let objects = read_objects(dir).len();
    assert!(objects > 0, "{what}: nothing rendered");
    for version in VERSIONS {
        let out = Command::new(tool)
            .args(["--strict", "--kubernetes-version", version])
            .args(&files)
            .output()
            .expect("kubernetes-validate runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
        let passed = lines
            .iter()
            .filter(|l| l.starts_with("INFO ") && l.contains(" passed "))
            .count();
        assert!(
            out.status.success() && passed == objects && lines.len() == objects,
            "{what}, Kubernetes {version}: {passed} of {objects} objects passed (exit {:?}):\n{stdout}{stderr}",
            out.status.code()
        );
    }
}

#[test]
fn every_option_set_validates_strictly_for_1_30_and_1_37() {
    let Some(tool) = tool() else { return };
    for set in sets() {
        let r = render(&set.options);
        validate(&tool, r.dir.path(), set.name);
    }
}

/// Case names that YAML 1.1 (PyYAML here, and kubectl's parser) reads as booleans
/// stay strings: a label value `on` unquoted would be `true`, and the schema says a
/// label is a string.
#[test]
fn case_names_that_yaml_1_1_reads_as_booleans_stay_strings() {
    let Some(tool) = tool() else { return };
    let work = tempfile::tempdir().unwrap();
    let catalog = work.path().join("servers.toml");
    let mut text = String::new();
    for name in ["on", "yes", "n", "off"] {
        text.push_str(&format!(
            "[[case]]\nname = \"{name}\"\ncommand = [\"{{python}}\", \"{{python_dir}}/app.py\"]\n\n"
        ));
    }
    std::fs::write(&catalog, text).unwrap();
    let options = deploy::Options {
        catalog: Some(catalog),
        agents: 2,
        ..base()
    };
    let r = render(&options);
    validate(&tool, r.dir.path(), "cases on, yes, n, off");
}
