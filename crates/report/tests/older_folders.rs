//! Results folders written by earlier versions (`tests/data/results-folders`, made at
//! commit 0e9df76) still read, with their cases, statuses, repeats and intervals.

use std::path::{Path, PathBuf};

fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/results-folders")
        .join(name)
}

fn statuses(run: &report::load::Run) -> Vec<(&str, &str)> {
    run.cases
        .iter()
        .map(|c| (c.name.as_str(), c.status.as_str()))
        .collect()
}

#[test]
fn a_plain_run_reads_with_every_case_measured() {
    let run = report::load::read_run(&folder("plain")).unwrap();
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
    let run = report::load::read_run(&folder("repeat")).unwrap();
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
    let run = report::load::read_run(&folder("killed")).unwrap();
    assert_eq!(
        statuses(&run),
        [
            ("bjoern", "ok"),
            ("gunicorn-sync", report::load::STATUS_KILLED)
        ]
    );
    let killed = &run.cases[1];
    assert!(
        !killed.log_tail.is_empty(),
        "the killed server's log is kept"
    );
    let intervals = killed.measured.as_ref().map_or(0, |m| m.intervals.len());
    assert!(intervals > 0, "the intervals it had finished are kept");
    // The report of a killed run renders from a copy (it is written into the folder).
    let tmp = tempfile::tempdir().unwrap();
    for entry in walk(&folder("killed")) {
        let to = tmp
            .path()
            .join(entry.strip_prefix(folder("killed")).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, to).unwrap();
    }
    let page = report::html::write(tmp.path()).unwrap();
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("gunicorn-sync") && html.contains("killed"));
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
