//! Whole Tsung files through `scenario::tsung`, from disk.
//!
//! Contents:
//! - the scaled seed protocol (`tests/data/tsung/seed.xml`, a copy of the shared
//!   reference file) and the original benchmark's full protocol (`original.xml`);
//! - `mixed.xml`, every supported element at once;
//! - Tsung's own HTTP examples from the Debian package, read where they are installed
//!   (`/usr/share/doc/tsung/examples`), since they are GPL and not ours to copy: the
//!   HTTP-only ones must import, the others must fail with a positioned message.
//!
//! Element-by-element cases and every error message are unit tests in
//! `src/tsung/convert/tests.rs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scenario::tsung::{describe, parse_file, Backend, TsungImport};
use scenario::{Load, Method, Session, Step};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/tsung")
        .join(name)
}

fn import(name: &str) -> TsungImport {
    let path = data(name);
    parse_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn parts(i: &TsungImport) -> (&[scenario::Phase], &[Session], Option<u64>) {
    match &i.scenario.load {
        Load::Sessions {
            phases,
            sessions,
            max_users,
            arrival,
            ..
        } => {
            // Even arrivals unless the command line asks for Tsung's random ones.
            assert_eq!(*arrival, scenario::Arrival::Uniform);
            (phases, sessions, *max_users)
        }
        other => panic!("not a session load: {other:?}"),
    }
}

/// Both protocol files are the original benchmark's shape: one phase, one session of
/// one keep-alive user sending `GET /` 10000 times, a hard cut.
fn assert_protocol(i: &TsungImport, secs: u64, max: u64, cut: u64) {
    let (phases, sessions, max_users) = parts(i);
    assert_eq!(phases.len(), 1);
    assert_eq!(phases[0].users_per_second, 5.0);
    assert_eq!(phases[0].duration, Duration::from_secs(secs));
    assert_eq!(phases[0].max_users, Some(max));
    assert_eq!(max_users, Some(60000));
    assert_eq!(i.scenario.duration, Some(Duration::from_secs(cut)));
    assert_eq!(i.scenario.target.host, "127.0.0.1");
    assert_eq!(i.scenario.target.port, 8000);
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].name, "es_load");
    match sessions[0].steps.as_slice() {
        [Step::Loop {
            count: 10000,
            steps,
        }] => match steps.as_slice() {
            [Step::Request(r)] => {
                assert_eq!(r.method, Method::Get);
                assert_eq!(r.path, "/");
                assert!(r.headers.is_empty() && r.body.is_empty());
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(sessions[0].request_count(), 10000);
    assert_eq!(i.log.backend, Backend::Json);
    assert_eq!(i.log.loglevel, "warning");
    assert!(i.scenario.validate().is_ok());
}

#[test]
fn seed_protocol_scaled() {
    let i = import("seed.xml");
    assert_protocol(&i, 20, 100, 30);
    let plan = describe(&i);
    assert!(plan.contains("target    127.0.0.1:8000"), "{plan}");
    assert!(
        plan.contains("#1 from 0 s: 5 users/s for 20 s, at most 100 -> 100 users"),
        "{plan}"
    );
    assert!(
        plan.contains("es_load: weight 1 (100%), 10000 requests per user"),
        "{plan}"
    );
    assert!(plan.contains("loop 10000x:"), "{plan}");
    assert!(plan.contains("about 1000000 in all"), "{plan}");
    assert!(plan.contains("deadline  30 s"), "{plan}");
    assert!(plan.contains("user cap  60000"), "{plan}");
    assert!(
        plan.contains("<clients>: wsgibench runs its own worker threads"),
        "{plan}"
    );
}

#[test]
fn original_full_protocol() {
    let i = import("original.xml");
    assert_protocol(&i, 60, 600, 90);
    // 5 users/s for 60 s is 300 users; maxnumber 600 is never reached.
    assert!(describe(&i).contains("-> 300 users"));
}

#[test]
fn every_supported_element_at_once() {
    let i = import("mixed.xml");
    let (phases, sessions, max_users) = parts(&i);
    assert_eq!(max_users, Some(200));
    assert_eq!(phases.len(), 2);
    assert_eq!(phases[0].users_per_second, 2.0);
    assert_eq!(phases[0].max_users, Some(50));
    assert_eq!(phases[1].duration, Duration::from_secs(60));
    assert_eq!(i.scenario.duration, Some(Duration::from_secs(120)));
    assert_eq!(i.scenario.timeouts.connect, Duration::from_secs(2));

    let browse = &sessions[0];
    assert_eq!((browse.name.as_str(), browse.weight), ("browse", 3.0));
    assert_eq!(browse.request_count(), 3);
    assert!(matches!(
        browse.steps[1],
        Step::Think { mean, random: true } if mean == Duration::from_secs(1)
    ));
    assert!(
        matches!(&browse.steps[2], Step::Transaction { name, steps } if name == "page" && steps.len() == 2)
    );
    assert!(matches!(browse.steps[3], Step::ThinkBetween { .. }));
    let reqs = browse.requests();
    assert!(reqs.iter().all(|r| r
        .headers
        .contains(&("User-Agent".into(), "wsgibench-test".into()))));
    assert_eq!(reqs[1].path, "/static/a.css");
    assert_eq!(reqs[2].body, b"q=1&r=2");

    let hammer = &sessions[1];
    // Tsung tests the counter after the body and stops once it is >= to, so
    // from 1 to 10 by 2 runs with 1, 3, 5, 7, 9 and 11: 100 outer x 6 inner passes.
    assert_eq!(hammer.request_count(), 600);
    assert_eq!(hammer.requests()[0].method, Method::Head);
    assert!(i.scenario.validate().is_ok());

    let plan = describe(&i);
    assert!(
        plan.contains("browse: weight 3 (75%), 3 requests per user"),
        "{plan}"
    );
    assert!(plan.contains("think 1 s to 3 s (uniform)"), "{plan}");
    assert!(plan.contains("transaction page:"), "{plan}");
    assert!(plan.contains("tcp_snd_buffer"), "{plan}");
}

#[test]
fn a_missing_file_names_the_path() {
    let e = parse_file(&data("no-such.xml")).unwrap_err().to_string();
    assert!(e.contains("no-such.xml"), "{e}");
}

// ---- Tsung's own examples, where the Debian package put them ----

const EXAMPLES: &str = "/usr/share/doc/tsung/examples";

const TSUNG: testkit::Tool = testkit::Tool {
    name: "Tsung's examples",
    debian_package: "tsung",
};

fn example(name: &str) -> Option<Result<TsungImport, String>> {
    let path = Path::new(EXAMPLES).join(name);
    testkit::outside_tool(&TSUNG, path.exists().then_some(()))?;
    Some(parse_file(&path).map_err(|e| e.to_string()))
}

#[test]
fn tsung_http_simple_example_imports() {
    let Some(r) = example("http_simple.xml") else {
        return;
    };
    let i = r.unwrap_or_else(|e| panic!("{e}"));
    let (phases, sessions, _) = parts(&i);
    assert_eq!(phases[0].duration, Duration::from_secs(600));
    assert_eq!(phases[0].users_per_second, 0.5);
    assert_eq!(sessions[0].request_count(), 5);
    let ims = sessions[0].requests()[1]
        .headers
        .iter()
        .any(|(n, v)| n == "If-Modified-Since" && v == "Fri, 14 Nov 2003 02:43:31 GMT");
    assert!(ims);
    // No <load duration>: the deadline is arrivals (600 s) + 20 s think + 60 s.
    assert_eq!(i.scenario.duration, Some(Duration::from_secs(680)));
    assert!(i.notes.iter().any(|n| n.contains("<monitoring>: ignored")));
    // Its two user agents, 80 % and 20 %, make two weighted copies of its session.
    let agents: Vec<(f64, &str)> = sessions
        .iter()
        .map(|s| {
            let r = &s.requests()[0];
            let ua = r.headers.iter().find(|(n, _)| n == "User-Agent").unwrap();
            (s.weight, &ua.1[..20])
        })
        .collect();
    assert_eq!(
        agents,
        vec![
            (80.0, "Mozilla/5.0 (X11; U;"),
            (20.0, "Mozilla/5.0 (Windows")
        ]
    );
}

#[test]
fn tsung_http_tag_example_imports() {
    let Some(r) = example("http_tag.xml") else {
        return;
    };
    let i = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parts(&i).1[0].request_count(), 4);
}

#[test]
fn tsung_examples_outside_the_subset_fail_with_a_position() {
    // http_setdynvars, http-digest and http-oauth import since dynamic sessions
    // (crates/cli/tests/integration/tsung_examples.rs plans them).
    let expected = [
        (
            "thinks.xml",
            "thinks.xml:30:3: <session type=\"ts_pgsql\"> is not supported",
        ),
        (
            "jabber_muc.xml",
            "jabber_muc.xml:34:4: <session type=\"ts_jabber\"> is not supported",
        ),
    ];
    for (name, want) in expected {
        let Some(r) = example(name) else {
            return;
        };
        match r {
            Ok(_) => panic!("{name} should not import"),
            Err(e) => assert!(e.contains(want), "{name}: {e}"),
        }
    }
}

/// Whatever Tsung example it is given, the importer answers with a scenario or one
/// positioned line; it never panics and never accepts a non-HTTP file.
#[test]
fn every_tsung_example_imports_or_fails_with_a_position() {
    let Some(dir) = testkit::outside_tool(&TSUNG, std::fs::read_dir(EXAMPLES).ok()) else {
        return;
    };
    let mut seen = 0;
    for entry in dir.flatten() {
        let path = entry.path();
        if path.extension() != Some(std::ffi::OsStr::new("xml")) {
            continue;
        }
        seen += 1;
        match parse_file(&path) {
            Ok(i) => assert!(
                i.scenario.validate().is_ok(),
                "{} imported but does not validate",
                path.display()
            ),
            Err(e) => {
                let e = e.to_string();
                let prefix = format!("{}:", path.display());
                let rest = e.strip_prefix(&prefix).unwrap_or_else(|| panic!("{e}"));
                let mut f = rest.splitn(3, ':');
                assert!(f.next().unwrap().parse::<u32>().is_ok(), "{e}");
                assert!(f.next().unwrap().parse::<u32>().is_ok(), "{e}");
            }
        }
    }
    assert!(seen > 10, "only {seen} examples found");
}

// ---- hostile XML ----

/// A file whose DTD would expand entities (billion laughs), or reach outside it (an
/// external entity), is refused with a position: declared entities are never expanded,
/// so neither memory nor the file system is touched.
#[test]
fn entity_expansion_and_external_entities_are_refused() {
    let file = |dtd: &str, url: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE tsung [\n{dtd}\n]>\n<tsung>\n\
             <servers><server host=\"127.0.0.1\" port=\"8000\" type=\"tcp\"/></servers>\n\
             <load><arrivalphase phase=\"1\" duration=\"1\" unit=\"second\"><users arrivalrate=\"1\" unit=\"second\"/></arrivalphase></load>\n\
             <sessions><session name=\"s\" probability=\"100\" type=\"ts_http\">\n\
             <request><http url=\"{url}\" method=\"GET\" version=\"1.1\"/></request>\n\
             </session></sessions>\n</tsung>\n"
        )
    };
    let mut laughs = String::from("<!ENTITY lol0 \"lol\">\n");
    for level in 1..=9 {
        let prev = format!("&lol{};", level - 1).repeat(10);
        laughs.push_str(&format!("<!ENTITY lol{level} \"{prev}\">\n"));
    }
    let cases = [
        (file(&laughs, "/&lol9;"), "lol9"),
        (
            file("<!ENTITY xxe SYSTEM \"file:///etc/passwd\">", "/&xxe;"),
            "xxe",
        ),
        (
            file(
                "<!ENTITY % remote SYSTEM \"http://192.0.2.1/x.dtd\"> %remote;",
                "/",
            ),
            "",
        ),
    ];
    for (xml, entity) in cases {
        let began = std::time::Instant::now();
        let result = scenario::tsung::parse_str(&xml, "hostile.xml");
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "took {:?}",
            began.elapsed()
        );
        match result {
            Err(e) => {
                let e = e.to_string();
                assert!(e.starts_with("hostile.xml:"), "{e}");
                assert!(e.contains(entity), "{e}");
            }
            // A parameter entity in the DTD is never fetched; the file itself is fine.
            Ok(import) => {
                assert!(entity.is_empty(), "{entity} was accepted");
                let (_, sessions, _) = parts(&import);
                assert_eq!(sessions[0].requests()[0].path, "/");
            }
        }
    }
}

/// A dynamic scenario travels to load agents as JSON: every dynamic step, digest and
/// OAuth, data-file lines and phase weights come back equal.
#[test]
fn dynamic_examples_survive_the_trip_to_an_agent() {
    for name in ["http_setdynvars.xml", "http-digest.xml", "http-oauth.xml"] {
        let Some(i) = example(name) else {
            return;
        };
        let scenario = i.unwrap_or_else(|e| panic!("{name}: {e}")).scenario;
        let json = serde_json::to_string(&scenario).unwrap();
        let back: scenario::Scenario = serde_json::from_str(&json).unwrap();
        assert_eq!(back, scenario, "{name}");
        back.validate().unwrap();
    }
}

/// A scenario from elsewhere (an agent's controller, code) is held to what the engine
/// compiles: a pattern that does not compile or a range upside down is refused by
/// `validate`, before any engine work.
#[test]
fn a_dynamic_scenario_from_the_wire_is_checked_before_the_engine_sees_it() {
    let Some(Ok(i)) = example("http_setdynvars.xml") else {
        return;
    };
    let json = serde_json::to_string(&i.scenario).unwrap();
    for (from, to, why) in [
        (
            r#""Regex":"<title>(.*)</title>""#,
            r#""Regex":"(unclosed""#,
            "regular expression",
        ),
        (
            r#""RandomNumber":{"start":3,"end":32}"#,
            r#""RandomNumber":{"start":32,"end":3}"#,
            "below start",
        ),
    ] {
        assert!(json.contains(from), "{from} not in {json}");
        let bad: scenario::Scenario = serde_json::from_str(&json.replace(from, to)).unwrap();
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
}
