//! `wsgibench history --html DIR` end to end: three committed results folders recorded
//! into a new database, the trend site built from it, its pages read and opened in
//! headless Chromium (`testkit::browser`, as report.html is).
//!
//! The runs: `tests/data/quick-run` (an Intel Xeon, 2 cores; meinheld crashed) and
//! `tests/data/results-folders/{plain,repeat}` (an AMD EPYC, 2 cores), all under the
//! same quick protocol. The plain run's gunicorn-sync is edited to `crashed`, keeping
//! its numbers: a failed case must leave a gap even when it measured something.
//!
//! The site goes in `<tmp>/volume/site`. The quick and plain folders lie beside it in
//! `<tmp>/volume/results`, so their links are relative; the repeat folder lies under
//! Cargo's target folder, which shares no folder with the temporary one on a usual
//! machine (its link is then an absolute file URL), and the plain folder has no
//! report.html (no link).

use std::path::{Path, PathBuf};

use testkit::browser::{chromium, console, painted_pixels};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(name)
}

struct Built {
    _tmp: tempfile::TempDir,
    _far: tempfile::TempDir,
    tmp: PathBuf,
    far: PathBuf,
    db: PathBuf,
    site: PathBuf,
    written: render::trend::Written,
}

fn build() -> Built {
    let tmp_dir = tempfile::tempdir().unwrap();
    let far_dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let tmp = tmp_dir.path().canonicalize().unwrap();
    let far = far_dir.path().canonicalize().unwrap();
    let results = tmp.join("volume/results");
    let (quick, plain, repeat) = (
        results.join("quick"),
        results.join("plain"),
        far.join("repeat"),
    );
    testkit::copy_dir(&data("quick-run"), &quick);
    testkit::copy_dir(&data("results-folders/plain"), &plain);
    testkit::copy_dir(&data("results-folders/repeat"), &repeat);
    let summary = plain.join("gunicorn-sync/summary.json");
    let text = std::fs::read_to_string(&summary).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["status"] = "crashed".into();
    std::fs::write(&summary, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    for folder in [&quick, &repeat] {
        render::rebuild(folder).unwrap();
    }
    assert!(!plain.join("report.html").exists());

    let db = tmp.join("history.sqlite3");
    for folder in [&quick, &plain, &repeat] {
        history::record(&db, folder).unwrap();
    }
    let site = tmp.join("volume/site");
    let written = history::trend::write_site(&db, &site).unwrap();
    Built {
        _tmp: tmp_dir,
        _far: far_dir,
        tmp,
        far,
        db,
        site,
        written,
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The site's pages: the index and one per server, at the paths the library says.
#[test]
fn the_site_has_an_index_and_a_page_per_server() {
    let b = build();
    assert_eq!(b.written.index, b.site.join("index.html"));
    let mut pages: Vec<String> = b
        .written
        .server_pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "server-bjoern.html",
            "server-gevent.html",
            "server-gunicorn-sync.html",
            "server-meinheld.html"
        ]
    );
    let index = read(&b.written.index);
    for run in 1..=3 {
        assert!(index.contains(&format!("id=\"run-{run}\"")), "run {run}");
    }
    assert!(index.contains("Intel(R) Xeon(R) Processor, 2 cores"));
    assert!(index.contains("AMD EPYC, 2 cores"));
    assert!(index.contains("2 (protocol, machine) pairs"));
    assert!(index.contains(&b.db.display().to_string()));
    // Newest first.
    let at = |id: i64| index.find(&format!("id=\"run-{id}\"")).unwrap();
    assert!(at(3) < at(2) && at(2) < at(1));
    // Each run's fastest server links to its page; every page links back.
    assert!(index.contains("<a href=\"server-bjoern.html\">bjoern</a>"));
    for page in &b.written.server_pages {
        assert!(read(page).contains("<a href=\"index.html\">"));
    }
}

/// gunicorn-sync ran on both machines: two lines, apart. Its crash in the plain run
/// is a gap on the AMD line, though that case had measured numbers.
#[test]
fn machines_are_separate_lines_and_a_crash_is_a_gap() {
    let b = build();
    let site = history::trend::site(&b.db).unwrap();
    let lines = render::trend::server_lines(&site, "gunicorn-sync");
    let machines: Vec<&str> = lines.iter().map(|l| l.key.machine.as_str()).collect();
    assert_eq!(
        machines,
        ["Intel(R) Xeon(R) Processor, 2 cores", "AMD EPYC, 2 cores"]
    );
    assert_eq!(lines[0].rps.points.len(), 1);
    assert!(lines[0].rps.points[0].is_some());
    let amd = &lines[1].rps.points;
    assert_eq!(amd.len(), 2, "{amd:?}");
    assert!(amd[0].is_none(), "the crash is a gap: {amd:?}");
    assert!(amd[1].is_some_and(|(_, rps)| rps > 0.0), "{amd:?}");

    let page = read(&b.site.join("server-gunicorn-sync.html"));
    for line in &lines {
        assert!(page.contains(&line.key.machine), "{}", line.key.machine);
    }
    assert!(page.contains(">crashed</span>"));
    assert_eq!(page.matches("<figure>").count(), 2);
    assert_eq!(page.matches("<svg role=\"img\"").count(), 2);
    // meinheld crashed in its only run: a page with no point, saying so.
    let meinheld = read(&b.site.join("server-meinheld.html"));
    assert!(meinheld.contains("it did not end ok in 1 of them"));
}

/// The quick run's report is linked relatively (its folder and the site share
/// `<tmp>/volume`), the repeat run's by the rule (relative when its folder shares a
/// folder with the site, else an absolute file URL), the plain run's not at all; and
/// each link leads to the report. Nothing else leaves the site.
#[test]
fn report_links_are_relative_or_absolute_as_designed_and_resolve() {
    let b = build();
    let index = read(&b.written.index);
    let reports: Vec<&str> = testkit::browser::attributes(&index, "href")
        .into_iter()
        .filter(|h| h.ends_with("report.html"))
        .collect();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(
        reports.contains(&"../results/quick/report.html"),
        "{reports:?}"
    );
    let repeat_report = b.far.join("repeat/report.html");
    let repeat_href = reports
        .iter()
        .find(|h| h.contains("repeat"))
        .expect("a link to the repeat run's report");
    let shares_a_folder = b.tmp.components().nth(1) == b.far.components().nth(1);
    if shares_a_folder {
        assert!(!repeat_href.contains("://"), "{repeat_href}");
    } else {
        assert!(repeat_href.starts_with("file:///"), "{repeat_href}");
    }
    for href in &reports {
        let target = match href.strip_prefix("file://") {
            Some(path) => PathBuf::from(percent_decode(path)),
            None => b.site.join(percent_decode(href)),
        };
        let target = target.canonicalize().unwrap();
        assert!(
            target == b.tmp.join("volume/results/quick/report.html") || target == repeat_report,
            "{href} -> {}",
            target.display()
        );
    }
    assert!(
        index.contains("no report.html in "),
        "the plain run has none"
    );
    assert!(index.contains("<!-- Report links: relative where"));

    for page in std::iter::once(&b.written.index).chain(&b.written.server_pages) {
        let html = read(page);
        assert!(
            testkit::browser::attributes(&html, "src").is_empty(),
            "{}",
            page.display()
        );
        for href in testkit::browser::attributes(&html, "href") {
            let local = !href.contains("://") || href.starts_with("file:///");
            assert!(local, "{}: {href}", page.display());
        }
        for needle in [
            "url(", "@import", "<link", "<iframe", "<img", "http://", "https://",
        ] {
            assert!(!html.contains(needle), "{}: {needle}", page.display());
        }
    }
}

/// The index and a server page open in headless Chromium off the network: the
/// console is clean and the screenshot is not blank.
#[test]
fn chromium_shows_the_index_and_a_server_page() {
    let b = build();
    for (page, size) in [
        (b.written.index.clone(), (1280, 1200)),
        (b.site.join("server-gunicorn-sync.html"), (1280, 1400)),
    ] {
        let shot = b.tmp.join("shot.png");
        let Some(stderr) = chromium(&page, &shot, size) else {
            return;
        };
        assert_eq!(
            console(&stderr),
            Vec::<&str>::new(),
            "{}: console output from the page",
            page.display()
        );
        assert!(!stderr.contains("Uncaught"), "{stderr}");
        let ((width, height), painted) = painted_pixels(&shot);
        assert_eq!((width, height), size);
        let total = (width * height) as usize;
        assert!(
            painted > total / 20,
            "{}: only {painted} of {total} pixels differ",
            page.display()
        );
    }
}
