//! `wsgibench k8s render` as a user runs it: files written, the token never printed,
//! bad input refused with exit 2 and nothing written. The manifests themselves are
//! checked in crates/deploy/tests.

use std::path::Path;
use std::time::Duration;

use crate::util::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[test]
fn renders_from_the_checkout_and_never_prints_the_token() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("k8s");
    let run = run_bounded(
        wsgibench()
            .current_dir(ROOT)
            .args([
                "k8s",
                "render",
                "--cases",
                "bjoern,uwsgi",
                "--agents",
                "2",
                "--out",
            ])
            .arg(&out),
        Duration::from_secs(20),
    );
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(0), "{stdout}{stderr}");
    let files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 5, "{files:?}");
    for f in &files {
        assert!(
            stdout.contains(f.as_str()),
            "stdout does not list {f}:\n{stdout}"
        );
    }
    assert!(stdout.contains("kubectl apply -f"), "{stdout}");
    let secret = std::fs::read_to_string(out.join("01-secret.yaml")).unwrap();
    let token = secret
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .expect("a token line")
        .trim_matches('"');
    assert_eq!(token.len(), 64);
    assert!(
        !stdout.contains(token) && !stderr.contains(token),
        "the token was printed"
    );
}

#[test]
fn renders_outside_a_checkout_from_the_binarys_own_suites() {
    let work = tempfile::tempdir().unwrap();
    let run = run_bounded(
        wsgibench()
            .current_dir(work.path())
            .env("XDG_CACHE_HOME", work.path().join("cache"))
            .args(["k8s", "render", "--out", "k8s"]),
        Duration::from_secs(20),
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(work.path().join("k8s/03-servers.yaml").is_file());
    // Every case of the catalog, by default.
    let servers = std::fs::read_to_string(work.path().join("k8s/03-servers.yaml")).unwrap();
    for case in ["gevent", "meinheld", "bjoern", "uwsgi-gevent", "waitress"] {
        assert!(servers.contains(&format!("name: {case}\n")), "no {case}");
    }
}

fn refused(args: &[&str], names: &str) {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("k8s");
    let run = run_bounded(
        wsgibench()
            .current_dir(ROOT)
            .args(["k8s", "render", "--out"])
            .arg(&out)
            .args(args),
        Duration::from_secs(20),
    );
    let err = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(names), "{args:?} should name {names}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        !Path::new(&out).exists(),
        "{args:?} wrote {}",
        out.display()
    );
}

#[test]
fn bad_values_are_refused_naming_the_flag() {
    refused(&["--namespace", "Bench_1"], "--namespace");
    refused(&["--schedule", "0 3 * *"], "--schedule");
    refused(&["--schedule", "61 * * * *"], "minute");
    refused(&["--memory", "1.5Gi"], "--memory");
    refused(&["--image", "a b"], "--image");
    refused(&["--storage-class", "Fast_SSD"], "--storage-class");
    refused(&["--cases", "bjoern,nginx"], "--cases");
    refused(&["--suite", "no-such-suite.toml"], "no-such-suite.toml");
}
