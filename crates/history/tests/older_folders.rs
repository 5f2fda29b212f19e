//! Results folders and a history database written by earlier versions
//! (`tests/data/results-folders`, made at commit 0e9df76) still read, with their cases,
//! statuses, repeats and intervals; and what is rendered from them stays the same: the
//! tables equal the ones the run wrote, export equals them too, and report.html keeps
//! its sections. A change to the writer or the schema must keep these passing.

use std::path::{Path, PathBuf};

fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/results-folders")
        .join(name)
}

fn statuses(run: &results::Run) -> Vec<(&str, &str)> {
    run.cases
        .iter()
        .map(|c| (c.name.as_str(), c.status.as_str()))
        .collect()
}

#[test]
fn a_plain_run_reads_with_every_case_measured() {
    let run = results::read_run(&folder("plain")).unwrap();
    assert_eq!(statuses(&run), [("bjoern", "ok"), ("gunicorn-sync", "ok")]);
    for case in &run.cases {
        let measured = case.measured.as_ref().expect("measured");
        assert!(measured.digest.requests > 0, "{}", case.name);
        assert!(!measured.intervals.is_empty(), "{}", case.name);
        assert!(case.repeats.is_empty());
    }
}

#[test]
fn a_repeat_run_reads_with_both_repetitions() {
    let run = results::read_run(&folder("repeat")).unwrap();
    assert_eq!(statuses(&run), [("bjoern", "ok"), ("gunicorn-sync", "ok")]);
    for case in &run.cases {
        assert_eq!(case.repeats.len(), 2, "{}", case.name);
        assert!(
            case.repeats.iter().all(|r| r.rps > 0.0),
            "{:?}",
            case.repeats
        );
    }
}

#[test]
fn a_killed_run_reads_with_the_killed_case_marked() {
    let run = results::read_run(&folder("killed")).unwrap();
    assert_eq!(
        statuses(&run),
        [("bjoern", "ok"), ("gunicorn-sync", "killed")]
    );
    let killed = &run.cases[1];
    assert!(
        !killed.log_tail.is_empty(),
        "the killed server's log is kept"
    );
    let intervals = killed.measured.as_ref().map_or(0, |m| m.intervals.len());
    assert!(intervals > 0, "the intervals it had finished are kept");
    // The report of a killed run renders from a copy (it is written into the folder).
    let tmp = copy_of("killed");
    let page = render::rebuild(tmp.path()).unwrap().report_html;
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("gunicorn-sync") && html.contains("killed"));
}

/// A results.csv written before apps existed, as it reads now: an `app` column after
/// `case`, `pong` (the original's app) on every row. The cases' names hold no comma.
fn with_app_column(old: &str) -> String {
    old.split_inclusive("\r\n")
        .enumerate()
        .map(|(i, line)| {
            let (case, rest) = line.split_once(',').expect("a CSV line");
            format!("{case},{},{rest}", if i == 0 { "app" } else { "pong" })
        })
        .collect()
}

/// A copy of a fixture folder, for renderers that write into it.
fn copy_of(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in walk(&folder(name)) {
        let to = tmp.path().join(entry.strip_prefix(folder(name)).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, to).unwrap();
    }
    tmp
}

#[test]
fn tables_rebuilt_from_each_folder_equal_what_the_run_wrote() {
    for name in ["plain", "repeat"] {
        let run = results::read_run(&folder(name)).unwrap();
        let rows: Vec<_> = run.cases.iter().map(render::table::CaseRow::of).collect();
        let written = |file: &str| std::fs::read_to_string(folder(name).join(file)).unwrap();
        assert_eq!(
            render::table::to_csv(&rows),
            with_app_column(&written("results.csv")),
            "{name}"
        );
        assert_eq!(
            render::table::to_markdown(&rows),
            written("results.md"),
            "{name}"
        );
    }
}

/// The model writes the files an older version wrote, key for key: a case's
/// summary.json and run.json, read from each fixture and written again.
#[test]
fn summaries_written_again_keep_every_key() {
    let keys = |path: &Path| -> Vec<String> {
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    for name in ["plain", "repeat"] {
        let run = results::read_run(&folder(name)).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let out = results::RunFolder::create(tmp.path()).unwrap();
        out.write_meta(&run.meta).unwrap();
        assert_eq!(
            keys(&out.path("run.json")),
            keys(&folder(name).join("run.json")),
            "{name}/run.json"
        );
        for case in &run.cases {
            let dir = out.case_dir(&case.name, None).unwrap();
            dir.write_case(case).unwrap();
            let old = folder(name).join(&case.name).join("summary.json");
            let new = dir.path("summary.json");
            assert_eq!(keys(&new), keys(&old), "{name}/{}", case.name);
            // And the values: what was read is written back unchanged.
            let value = |p: &Path| -> serde_json::Value {
                serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
            };
            assert_eq!(value(&new), value(&old), "{name}/{}", case.name);
        }
    }
}

#[test]
fn a_history_database_written_then_still_opens_lists_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("history.sqlite3");
    std::fs::copy(folder("history.sqlite3"), &db).unwrap();
    let runs = history::list(&db).unwrap();
    // The plain and the repeat run; the killed run never reached its record.
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(
        runs.iter().all(|r| (r.cases, r.cases_ok) == (2, 2)),
        "{runs:?}"
    );
    let plain = history::run(&db, runs[0].id).unwrap();
    let rows: Vec<_> = plain.cases.into_iter().map(|c| c.row).collect();
    let written = std::fs::read_to_string(folder("plain").join("results.csv")).unwrap();
    assert_eq!(render::table::to_csv(&rows), with_app_column(&written));
}

#[test]
fn report_html_keeps_its_sections() {
    let dir = copy_of("plain");
    let html = std::fs::read_to_string(render::rebuild(dir.path()).unwrap().report_html).unwrap();
    let headings: Vec<String> = html
        .split("<h2")
        .skip(1)
        .map(|part| {
            let inner = &part[part.find('>').unwrap() + 1..part.find("</h2>").unwrap()];
            text_of(inner)
        })
        .collect();
    assert_eq!(
        headings,
        [
            "What the numbers mean",
            "Ranking",
            "Across servers",
            "bjoern ok",
            "gunicorn-sync ok"
        ]
    );
}

/// The text of an HTML fragment: tags dropped, spaces collapsed.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
