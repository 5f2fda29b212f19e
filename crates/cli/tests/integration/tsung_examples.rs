//! Tsung's own six HTTP examples (Debian's tsung 1.7, /usr/share/doc/tsung/examples,
//! copied into tests/data/tsung_examples unchanged): five are planned, and the one that
//! calls arbitrary Erlang is refused, naming the call.

use std::path::PathBuf;
use std::time::Duration;

use crate::util::*;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tsung_examples")
        .join(name)
}

fn dry_run(name: &str) -> (bool, String, String) {
    let out = run_bounded(
        wsgibench().arg("tsung").arg(example(name)).arg("--dry-run"),
        Duration::from_secs(30),
    );
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn five_of_tsungs_six_http_examples_are_planned() {
    for name in [
        "http_simple.xml",
        "http_tag.xml",
        "http_setdynvars.xml",
        "http-digest.xml",
        "http-oauth.xml",
    ] {
        let (ok, plan, err) = dry_run(name);
        assert!(ok, "{name}: {err}");
        assert!(plan.contains("sessions "), "{name}: {plan}");
    }
    // What each dynamic example becomes, in the plan's words.
    let (_, plan, _) = dry_run("http_setdynvars.xml");
    for line in [
        "set id1 from the user's unique id",
        "set id2 from a run-wide unique id",
        "set user, user_password from file userdb (0 lines, in turn)",
        "set rndint from random number 3..=32",
        "title <- re \"<title>(.*)</title>\"",
        "missing   data file",
        "test_file_server.csv (the run refuses to start without it)",
    ] {
        assert!(plan.contains(line), "{line:?} not in:\n{plan}");
    }
    let (_, plan, _) = dry_run("http-digest.xml");
    assert!(plan.contains("target    localhost:443 (HTTPS"), "{plan}");
    assert!(
        plan.contains("nonce <- header www-authenticate/nonce"),
        "{plan}"
    );
    assert!(plan.contains("digest auth"), "{plan}");
    let (_, plan, _) = dry_run("http-oauth.xml");
    assert!(
        plan.contains("access_token <- xpath /tokenCreationResponse/tokenInfo/token/text()"),
        "{plan}"
    );
    assert!(plan.contains("oauth signed"), "{plan}");
    // Step 4 writes %%access_token_secret%% without the underscore: Tsung cuts the
    // text there, and the plan says so.
    assert!(
        plan.contains("%%access_token_secret%% is neither a variable"),
        "{plan}"
    );
}

#[test]
fn a_missing_data_file_is_named_and_the_run_refuses_to_start() {
    let out = run_bounded(
        wsgibench()
            .arg("tsung")
            .arg(example("http_setdynvars.xml"))
            .arg("-q"),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("test_file_server.csv is missing"), "{err}");
}

#[test]
fn the_distributed_example_is_refused_naming_its_erlang_call() {
    let (ok, _, err) = dry_run("http_distributed.xml");
    assert!(!ok);
    assert!(
        err.contains(
            "http_distributed.xml:111:9: <http> is not supported (%%symbol:new%% calls Erlang"
        ),
        "{err}"
    );
}
