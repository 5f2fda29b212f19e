//! What a render refuses (naming the flag, writing nothing), and the token: random,
//! kept across renders of one folder, in a file only its owner reads.

use std::os::unix::fs::PermissionsExt;

use crate::util::*;

fn refused(options: deploy::Options, names: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k8s");
    let e = deploy::render(&out, &options)
        .expect_err("refused")
        .to_string();
    assert!(e.contains(names), "the error should name {names}: {e}");
    assert!(!out.exists(), "a refused render wrote {}", out.display());
}

#[test]
fn bad_options_are_refused_naming_the_flag_before_anything_is_written() {
    refused(
        deploy::Options {
            namespace: "Bench_1".into(),
            ..base()
        },
        "--namespace: expected a namespace name",
    );
    refused(
        deploy::Options {
            agents: 0,
            ..base()
        },
        "--agents: expected a whole number of agents from 1 to 64",
    );
    refused(
        deploy::Options {
            agents: 65,
            ..base()
        },
        "--agents",
    );
    refused(deploy::Options { cpus: 0, ..base() }, "--cpus");
    refused(
        deploy::Options {
            schedule: Some("0 3 * *".into()),
            ..base()
        },
        "--schedule: expected a cron schedule of 5 fields",
    );
    refused(
        deploy::Options {
            image: "wsgibench 0.1".into(),
            ..base()
        },
        "--image",
    );
    refused(
        deploy::Options {
            cases: vec!["bjoern".into(), "nginx".into()],
            ..base()
        },
        "--cases: no case named `nginx`",
    );
}

#[test]
fn a_case_that_cannot_be_a_service_name_is_refused_with_the_way_out() {
    let work = tempfile::tempdir().unwrap();
    let catalog = work.path().join("servers.toml");
    std::fs::write(
        &catalog,
        "[[case]]\nname = \"ok\"\ncommand = [\"{python}\"]\n\n[[case]]\nname = \"Not_DNS\"\ncommand = [\"{python}\"]\n\n[[case]]\nname = \"wsgibench-viewer\"\ncommand = [\"{python}\"]\n",
    )
    .unwrap();
    let with = |cases: &[&str]| deploy::Options {
        catalog: Some(catalog.clone()),
        cases: cases.iter().map(|c| c.to_string()).collect(),
        ..base()
    };
    refused(with(&[]), "case `Not_DNS`");
    refused(with(&["Not_DNS"]), "leave it out with --cases");
    refused(with(&["wsgibench-viewer"]), "the render's own");
    let r = render(&with(&["ok"]));
    assert_eq!(r.out.cases, ["ok"]);
}

fn token(dir: &std::path::Path) -> String {
    let secret = read_objects(dir)
        .into_iter()
        .find(|o| o.kind() == "Secret")
        .expect("a Secret");
    secret.value["stringData"]["token"]
        .as_str()
        .expect("a token")
        .to_string()
}

#[test]
fn the_token_is_random_private_and_kept_when_the_folder_is_rendered_again() {
    let first = render(&base());
    let t1 = token(first.dir.path());
    assert_eq!(t1.len(), 64, "32 random bytes as hex");
    assert!(t1.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!first.out.kept_token);
    let secret = first.dir.path().join(deploy::SECRET_FILE);
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} is readable by others", secret.display());
    for f in &first.out.files {
        if f != &secret {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(!text.contains(&t1), "{} holds the token", f.display());
        }
    }

    // Again into the same folder, with other options: same token, same mode.
    let again = deploy::render(
        first.dir.path(),
        &deploy::Options {
            agents: 5,
            schedule: Some("30 2 * * 1-5".into()),
            ..base()
        },
    )
    .unwrap();
    assert!(again.kept_token);
    assert_eq!(token(first.dir.path()), t1);
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Another folder gets another token.
    let other = render(&base());
    assert_ne!(token(other.dir.path()), t1);

    // Nothing but the five files: no temporary file left for kubectl to trip on.
    let names: Vec<String> = std::fs::read_dir(first.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
}

#[test]
fn the_job_deadline_covers_every_case_of_the_protocol() {
    // The original protocol: 30 s ready + 90 s run + 5 s cool-down + 60 s room per
    // case, after a 10-minute readiness wait, with 15 minutes of slack.
    let r = render(&deploy::Options {
        cases: vec!["bjoern".into(), "uwsgi".into()],
        ..base()
    });
    assert_eq!(r.out.deadline_s, 600 + 2 * (30 + 90 + 5 + 60) + 900);
}
