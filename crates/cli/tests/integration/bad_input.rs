//! The bad-input table: every number a user can give, with the values that break naive
//! parsing, is refused with exit 2 and one line that says where and what was expected.
//!
//! The flag rows are generated from clap's command definition, so a numeric flag added
//! later is covered without editing this file. The suite TOML and Tsung XML rows list
//! every numeric key and attribute each reader accepts.

use std::any::TypeId;
use std::path::Path;
use std::time::Duration;

use clap::CommandFactory;

use crate::util::*;

/// What a user might type where a number goes: not a number, infinite, negative, zero
/// and absurdly large.
const BAD: [&str; 5] = ["nan", "inf", "-1", "0", "1e300"];

struct Row {
    args: Vec<String>,
    /// Where the error must point: the flag, or `file:line:col`.
    names: String,
}

/// Runs the row; returns a description of what is wrong with the outcome, if anything.
fn check(row: &Row) -> Option<String> {
    let out = run_bounded(wsgibench().args(&row.args), Duration::from_secs(20));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    let problem = if out.status.code() != Some(2) {
        format!("exit {:?}, expected 2", out.status.code())
    } else if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        "a panic".to_string()
    } else if lines.len() != 1 {
        format!("{} lines, expected one", lines.len())
    } else if !lines[0].contains(&row.names) {
        format!("the message does not name {:?}", row.names)
    } else if !lines[0].contains("expected") {
        "the message does not say what was expected".to_string()
    } else {
        return None;
    };
    Some(format!("{:?}: {problem}:\n{err}", row.args))
}

fn check_all(rows: &[Row]) {
    let failures: Vec<String> = rows.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// A valid stand-in for each required positional argument, by its id.
fn placeholder(id: &str) -> &'static str {
    match id {
        "url" => "http://127.0.0.1:9/",
        "file" => "does-not-matter.xml",
        _ => "1",
    }
}

#[test]
fn every_numeric_flag_refuses_nan_inf_negative_zero_and_huge() {
    let numeric = [
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<i64>(),
        TypeId::of::<usize>(),
        TypeId::of::<f64>(),
        TypeId::of::<Duration>(),
    ];
    let command = wsgibench::args::Cli::command();
    let mut rows = Vec::new();
    let mut flags = Vec::new();
    // Every command that takes flags, nested ones (`k8s render`) with their path.
    let mut subs: Vec<(Vec<String>, &clap::Command)> = Vec::new();
    let mut todo: Vec<(Vec<String>, &clap::Command)> = vec![(Vec::new(), &command)];
    while let Some((path, cmd)) = todo.pop() {
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            if sub.has_subcommands() {
                todo.push((p, sub));
            } else {
                subs.push((p, sub));
            }
        }
    }
    for (path, sub) in subs {
        for arg in sub.get_arguments() {
            let value_type = arg.get_value_parser().type_id();
            if !numeric.iter().any(|t| value_type == *t) {
                continue;
            }
            flags.push(format!("{} {}", path.join(" "), arg.get_id()));
            for bad in BAD {
                // CPU 0 is a real CPU: the one value of the table a flag accepts
                // (`k8s render --cpus` is a count of CPUs instead, and refuses 0).
                if arg.get_id() == "cpus" && bad == "0" && path[0] != "k8s" {
                    continue;
                }
                let mut args = path.clone();
                let names;
                match arg.get_long() {
                    Some(long) => {
                        names = format!("--{long}");
                        for p in sub.get_positionals().filter(|p| p.is_required_set()) {
                            args.push(placeholder(p.get_id().as_str()).to_string());
                        }
                        args.push(names.clone());
                        args.push(bad.to_string());
                    }
                    None => {
                        // A numeric positional (a run id): the others get valid values.
                        names = format!("<{}>", arg.get_id().as_str().to_uppercase());
                        for p in sub.get_positionals().filter(|p| p.is_required_set()) {
                            if p.get_id() == arg.get_id() {
                                args.push(bad.to_string());
                            } else {
                                args.push(placeholder(p.get_id().as_str()).to_string());
                            }
                        }
                    }
                }
                rows.push(Row { args, names });
            }
        }
    }
    // The walk must have found the flags it is about; a change to how clap reports
    // value types must not empty the table silently.
    for expected in [
        "load connections",
        "load threads",
        "load duration",
        "load requests",
        "load rate",
        "load timeout",
        "load interval",
        "load cpus",
        "tsung interval",
        "tsung threads",
        "run repeat",
        "compare run_a",
        "export run",
        "k8s render agents",
        "k8s render cpus",
    ] {
        assert!(
            flags.iter().any(|f| f == expected),
            "{expected} not found in {flags:?}"
        );
    }
    check_all(&rows);
}

#[test]
fn a_header_that_would_inject_lines_is_refused() {
    for header in [
        "X-A: b\r\nX-Injected: yes",
        "X-A: b\nX",
        "X-A: b\x01",
        "Bad Name: v",
    ] {
        check_all(&[Row {
            args: vec![
                "load".into(),
                "http://127.0.0.1:9/".into(),
                "-H".into(),
                header.into(),
            ],
            names: "--header".into(),
        }]);
    }
}

/// A minimal Tsung file, every number in it a parameter: `(element, attribute)` pairs
/// are replaced one at a time by a bad value.
const TSUNG: &str = r#"<?xml version="1.0"?>
<tsung loglevel="notice">
<clients><client host="localhost" maxusers="MAXUSERS" use_controller_vm="true"/></clients>
<servers><server host="127.0.0.1" port="8000" type="tcp"/></servers>
<load duration="LOADDURATION" unit="second" loop="LOOP">
<arrivalphase phase="1" duration="PHASEDURATION" unit="second"><users RATEATTR="RATE" unit="second" maxnumber="MAXNUMBER"/><session_setup name="s" probability="SETUPPROB"/></arrivalphase>
</load>
<options>
<option name="thinktime" value="OPTTHINK" random="false" override="false"/>
<option name="connect_timeout" value="CONNECT"/>
<option name="idle_timeout" value="IDLE"/>
</options>
<sessions><session name="s" probability="100" type="ts_http">
<for from="1" to="TO" var="i" incr="INCR"><request><http url="/" method="GET" version="1.1"/></request></for>
<thinktime value="THINK" random="false"/>
<thinktime min="THINKMIN" max="10"/>
<setdynvars sourcetype="random_number" start="START" end="END"><var name="n"/></setdynvars>
<setdynvars sourcetype="random_string" length="LENGTH"><var name="r"/></setdynvars>
<repeat name="again" max_repeat="MAXREPEAT"><request><http url="/" method="GET" version="1.1"/></request><until var="n" eq="1"/></repeat>
<request><match do="loop" when="nomatch" max_loop="MAXLOOP" sleep_loop="SLEEPLOOP">ok</match><http url="/" method="GET" version="1.1"/></request>
<request><match do="restart" when="nomatch" max_restart="MAXRESTART">ok</match><http url="/" method="GET" version="1.1"/></request>
</session></sessions>
</tsung>
"#;

// Longer placeholders first: THINKMIN must be replaced before THINK, MAXLOOP and
// SLEEPLOOP before LOOP, MAXRESTART before START.
const TSUNG_GOOD: [(&str, &str); 22] = [
    ("MAXLOOP", "3"),
    ("SLEEPLOOP", "1"),
    ("MAXRESTART", "2"),
    ("MAXREPEAT", "5"),
    ("SETUPPROB", "100"),
    ("START", "1"),
    ("END", "100"),
    ("LENGTH", "8"),
    ("MAXUSERS", "100"),
    ("LOADDURATION", "60"),
    ("LOOP", "0"),
    ("PHASEDURATION", "10"),
    ("RATEATTR", "arrivalrate"),
    ("RATE", "2"),
    ("MAXNUMBER", "10"),
    ("OPTTHINK", "1"),
    ("CONNECT", "5000"),
    ("IDLE", "5000"),
    ("TO", "10"),
    ("INCR", "1"),
    ("THINKMIN", "1"),
    ("THINK", "1"),
];

/// `template` with every placeholder at its good value, but `placeholder` at `value`.
fn fill(template: &str, good: &[(&str, &str)], placeholder: &str, value: &str) -> String {
    let mut text = template.to_string();
    for (p, good) in good {
        text = text.replace(p, if *p == placeholder { value } else { good });
    }
    text
}

fn tsung_with(placeholder: &str, value: &str) -> String {
    fill(TSUNG, &TSUNG_GOOD, placeholder, value)
}

/// `wsgibench tsung NAME.xml --dry-run` on `xml`, written into `dir`.
fn dry_run_row(dir: &Path, name: &str, xml: String) -> Row {
    let path = dir.join(format!("{name}.xml"));
    std::fs::write(&path, xml).unwrap();
    Row {
        args: vec![
            "tsung".into(),
            path.display().to_string(),
            "--dry-run".into(),
        ],
        names: format!("{}:", path.display()),
    }
}

#[test]
fn every_numeric_tsung_attribute_is_range_checked_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    std::fs::write(&good, tsung_with("", "")).unwrap();
    let out = run_bounded(
        wsgibench().arg("tsung").arg(&good).arg("--dry-run"),
        Duration::from_secs(20),
    );
    assert!(
        out.status.success(),
        "the template itself must be valid: {}",
        text(&out.stderr)
    );

    // Values Tsung gives a meaning, so accepted: 0 extra loops and a think time of 0;
    // a `<for>` whose `to` is below `from` runs once, as in Tsung. A random number may be drawn from -1 or 0 (`end` below `start` is refused); a
    // random string of length 0 is the empty text (Tsung's `randomstr(0)`); a
    // `max_repeat` of 0 still runs the body once, and `max_loop`/`max_restart` of 0
    // still loop or restart once, as Tsung counts them (ts_client, ts_search); a
    // `sleep_loop` of 0 loops at once.
    let accepted = [
        ("START", "-1"),
        ("START", "0"),
        ("LENGTH", "0"),
        ("MAXREPEAT", "0"),
        ("MAXLOOP", "0"),
        ("MAXRESTART", "0"),
        ("SLEEPLOOP", "0"),
        ("LOOP", "0"),
        ("OPTTHINK", "0"),
        ("THINKMIN", "0"),
        ("TO", "0"),
        ("TO", "-1"),
    ];
    // Those must really be accepted, not refused for another reason.
    let refused: Vec<String> = accepted
        .iter()
        .filter_map(|(placeholder, value)| {
            let path = dir
                .path()
                .join(format!("accepted-{placeholder}-{value}.xml"));
            std::fs::write(&path, tsung_with(placeholder, value)).unwrap();
            let out = run_bounded(
                wsgibench().arg("tsung").arg(&path).arg("--dry-run"),
                Duration::from_secs(20),
            );
            (!out.status.success()).then(|| text(&out.stderr))
        })
        .collect();
    assert!(
        refused.is_empty(),
        "values Tsung gives a meaning were refused:\n{}",
        refused.join("")
    );
    let mut rows = Vec::new();
    for (placeholder, _) in TSUNG_GOOD {
        if placeholder == "RATEATTR" {
            continue;
        }
        for bad in BAD {
            if accepted.contains(&(placeholder, bad)) {
                continue;
            }
            rows.push(dry_run_row(
                dir.path(),
                &format!("{placeholder}-{bad}"),
                tsung_with(placeholder, bad),
            ));
        }
    }
    // interarrival, the other way of giving a rate.
    for bad in BAD.iter().chain(&["1e-30"]) {
        let xml = tsung_with("RATEATTR", "interarrival")
            .replace("interarrival=\"2\"", &format!("interarrival=\"{bad}\""));
        rows.push(dry_run_row(dir.path(), &format!("interarrival-{bad}"), xml));
    }
    check_all(&rows);
    // Each message also carries a line and a column.
    let out = run_bounded(
        wsgibench()
            .arg("tsung")
            .arg(dir.path().join("RATE-1e300.xml"))
            .arg("--dry-run"),
        Duration::from_secs(20),
    );
    let err = text(&out.stderr);
    assert!(err.contains("RATE-1e300.xml:6:"), "{err}");
    assert!(
        err.contains("users per second from 0.000001 to 10000000"),
        "{err}"
    );
}

/// A minimal suite file; each numeric key is replaced in turn.
const SUITE: &str = r#"interval_s = INTERVAL
duration_s = DURATION
cool_down_s = COOLDOWN
ready_timeout_s = READY
max_users = MAXUSERS

[timeouts]
connect_s = CONNECT
response_s = RESPONSE

[[phase]]
duration_s = PHASEDURATION
users_per_second = RATE
max_users = PHASEMAX

[[session]]
name = "s"
weight = WEIGHT
steps = [{ loop = { count = COUNT, steps = [{ get = "/" }, { think = { mean_s = THINK } }] } }]
"#;

// Longer placeholders first: PHASEDURATION must be replaced before DURATION.
const SUITE_GOOD: [(&str, &str); 13] = [
    ("PHASEDURATION", "1"),
    ("INTERVAL", "1"),
    ("DURATION", "2"),
    ("COOLDOWN", "0"),
    ("READY", "5"),
    ("MAXUSERS", "10"),
    ("CONNECT", "1"),
    ("RESPONSE", "1"),
    ("RATE", "5"),
    ("PHASEMAX", "5"),
    ("WEIGHT", "1"),
    ("COUNT", "3"),
    ("THINK", "0"),
];

fn suite_with(placeholder: &str, value: &str) -> String {
    fill(SUITE, &SUITE_GOOD, placeholder, value)
}

fn suite_rows(dir: &Path) -> Vec<Row> {
    // TOML spells its floats nan, inf, -1.0, 0.0, 1e300; integer keys see them too.
    let zero_ok = ["COOLDOWN", "THINK"];
    let mut rows = Vec::new();
    for (placeholder, _) in SUITE_GOOD {
        for bad in BAD {
            if bad == "0" && zero_ok.contains(&placeholder) {
                continue;
            }
            let path = dir.join(format!("{placeholder}-{bad}.toml"));
            std::fs::write(&path, suite_with(placeholder, bad)).unwrap();
            rows.push(Row {
                args: vec![
                    "run".into(),
                    "--suite".into(),
                    path.display().to_string(),
                    "--cache-dir".into(),
                    dir.join("cache").display().to_string(),
                    "--out".into(),
                    dir.join("out").display().to_string(),
                    "--cases".into(),
                    "bjoern".into(),
                ],
                names: format!("{}:", path.display()),
            });
        }
    }
    rows
}

#[test]
fn every_numeric_suite_key_is_range_checked_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let rows = suite_rows(dir.path());
    check_all(&rows);
    // And each names line and column.
    let path = dir.path().join("RATE-1e300.toml");
    let out = run_bounded(
        wsgibench()
            .args(["run", "--suite"])
            .arg(&path)
            .arg("--cache-dir")
            .arg(dir.path().join("cache")),
        Duration::from_secs(20),
    );
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{}:13:20: `users_per_second`", path.display())),
        "{err}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "nothing may be written for refused input"
    );
}

/// A Tsung file with one session named `s`; OPTIONS, SETUP and BODY are filled per row.
const DYNAMIC: &str = r#"<?xml version="1.0"?>
<tsung loglevel="notice">
<clients><client host="localhost" use_controller_vm="true"/></clients>
<servers><server host="127.0.0.1" port="8000" type="tcp"/></servers>
<load><arrivalphase phase="1" duration="10" unit="second"><users arrivalrate="1" unit="second"/>SETUP</arrivalphase></load>
<options>OPTIONS</options>
<sessions><session name="s" probability="100" type="ts_http">
BODY
</session></sessions>
</tsung>
"#;

const GET: &str = r#"<http url="/" method="GET" version="1.1"/>"#;

#[test]
fn every_malformed_dynamic_element_is_refused_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    std::fs::write(dir.path().join("blank.csv"), "\n  \n").unwrap();
    std::fs::create_dir(dir.path().join("folder.csv")).unwrap();
    std::fs::write(dir.path().join("users.csv"), "a;b\n").unwrap();
    let request = |inner: &str| format!("<request>{inner}{GET}</request>");
    let file_server = |file: &str| format!(r#"<option name="file_server" id="f" value="{file}"/>"#);
    let read_file =
        r#"<setdynvars sourcetype="file" fileid="f" order="iter"><var name="u"/></setdynvars>"#;
    // (name, options, phase's session_setup, session body, line of the fault, words
    // the one line must hold besides the position).
    let cases: Vec<(&str, String, &str, String, u32, &str)> = vec![
        (
            "re-does-not-compile",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" re="id=(\d+"/>"#),
            8,
            "expected a regular expression",
        ),
        (
            "re-look-around",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" re="(?&lt;=id=)\d+"/>"#),
            8,
            "expected a regular expression",
        ),
        (
            "re-too-big",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" re="(a{1000}){1000}"/>"#),
            8,
            "expected a regular expression",
        ),
        (
            "match-pattern-does-not-compile",
            String::new(),
            "",
            request(r#"<match do="abort" when="match">[unclosed</match>"#),
            8,
            "<match pattern=\"[unclosed\">: expected a regular expression",
        ),
        (
            "xpath-unsupported",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" xpath="count(//a)"/>"#),
            8,
            "<dyn_variable>: XPath `count(//a)` is relative: start it with / or //",
        ),
        (
            "xpath-axis",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" xpath="//a/following-sibling::b"/>"#),
            8,
            "is not supported; wsgibench reads absolute paths",
        ),
        (
            "jsonpath-malformed",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" jsonpath="$.a[?(@.b==1)].c"/>"#),
            8,
            "is not supported; Tsung's jsonpath reads dotted keys",
        ),
        (
            "jsonpath-unclosed-bracket",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" jsonpath="$.a[0"/>"#),
            8,
            "jsonpath `$.a[0`: `[0` has no closing ]",
        ),
        (
            "re-empty",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" re=""/>"#),
            8,
            "an empty one matches everywhere",
        ),
        (
            "jsonpath-empty",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" jsonpath=""/>"#),
            8,
            "the jsonpath is empty",
        ),
        (
            "jsonpath-deeper-than-any-document",
            String::new(),
            "",
            request(&format!(
                r#"<dyn_variable name="v" jsonpath="{}"/>"#,
                vec!["*"; 5000].join(".")
            )),
            8,
            "more than 128 keys",
        ),
        (
            "header-empty",
            String::new(),
            "",
            request(r#"<dyn_variable name="v" header=""/>"#),
            8,
            "expected a header name",
        ),
        (
            "var-name-with-a-space",
            String::new(),
            "",
            r#"<setdynvars sourcetype="value" value="x"><var name="a b"/></setdynvars>"#.into(),
            8,
            "expected a variable name",
        ),
        (
            "dyn-variable-name-with-a-space",
            String::new(),
            "",
            request(r#"<dyn_variable name="a b" re="(x)"/>"#),
            8,
            "expected a variable name",
        ),
        (
            "fileid-undeclared",
            String::new(),
            "",
            read_file.into(),
            8,
            "this file declares none",
        ),
        (
            "fileid-not-this-one",
            file_server("users.csv"),
            "",
            read_file.replace("fileid=\"f\"", "fileid=\"g\""),
            8,
            "expected the id of an <option name=\"file_server\"> (f)",
        ),
        (
            "file-server-empty",
            file_server("empty.csv"),
            "",
            read_file.into(),
            6,
            "expected lines of values, got none",
        ),
        (
            "file-server-blank-lines-only",
            file_server("blank.csv"),
            "",
            read_file.into(),
            6,
            "expected lines of values, got none",
        ),
        (
            "file-server-directory",
            file_server("folder.csv"),
            "",
            read_file.into(),
            6,
            "folder.csv: expected a file of lines, got a directory",
        ),
        (
            "file-server-device",
            file_server("/dev/zero"),
            "",
            read_file.into(),
            6,
            "/dev/zero: expected a regular file of lines",
        ),
        (
            "if-eq-and-neq",
            String::new(),
            "",
            format!(r#"<if var="v" eq="1" neq="2">{}</if>"#, request("")),
            8,
            "set eq or neq",
        ),
        (
            "repeat-without-while-or-until",
            String::new(),
            "",
            format!(
                r#"<repeat name="r" max_repeat="3">{}</repeat>"#,
                request("")
            ),
            8,
            "<repeat>: expected <while> or <until> as its last element, got <request>",
        ),
        (
            "repeat-empty",
            String::new(),
            "",
            r#"<repeat name="r" max_repeat="3"/>"#.into(),
            8,
            "<while> or <until>",
        ),
        (
            "session-setup-names-no-session",
            String::new(),
            r#"<session_setup name="nobody" probability="100"/>"#,
            request(""),
            5,
            "no session has this name",
        ),
        (
            "session-setup-not-100",
            String::new(),
            r#"<session_setup name="s" probability="50"/>"#,
            request(""),
            5,
            "expected a phase's session_setup probabilities to sum to 100, got 50",
        ),
    ];
    let mut failures = Vec::new();
    for (name, options, setup, body, line, words) in &cases {
        let xml = DYNAMIC
            .replace("OPTIONS", options)
            .replace("SETUP", setup)
            .replace("BODY", body);
        let path = dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, xml).unwrap();
        let out = run_bounded(
            wsgibench().arg("tsung").arg(&path).arg("--dry-run"),
            Duration::from_secs(20),
        );
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        let at = format!("{}:{line}:", path.display());
        let problem = if out.status.code() != Some(2) {
            format!("exit {:?}, expected 2", out.status.code())
        } else if err.contains("panicked") {
            "a panic".into()
        } else if lines.len() != 1 {
            format!("{} lines, expected one", lines.len())
        } else if !lines[0].contains(&at) {
            format!("the message does not name {at}")
        } else if !lines[0].contains(words) {
            format!("the message does not say {words:?}")
        } else {
            continue;
        };
        failures.push(format!("{name}: {problem}:\n{err}"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
