//! The HTML report built from a committed results folder (`tests/data/quick-run`: a
//! real `wsgibench run --quick` of bjoern, gevent and gunicorn-sync, plus a hand-made
//! crashed meinheld).
//!
//! - `report_*`: the page's content, that it references nothing outside itself, and
//!   that its tags balance.
//! - `chromium_*`: the page opened in headless Chromium (Debian package `chromium`):
//!   the screenshot is not blank, the console shows no error, the sort script works
//!   (`testkit::browser`). Skipped, saying so, when `chromium` is not installed; a
//!   failure instead when CI is set.

use std::path::{Path, PathBuf};

use testkit::browser::{chromium, console, painted_pixels};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/quick-run")
}

/// A copy of the fixture in a temporary folder, since the report is written into it.
fn results_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    testkit::copy_dir(&fixture(), tmp.path());
    tmp
}

fn build() -> (tempfile::TempDir, PathBuf, String) {
    let dir = results_copy();
    let path = render::rebuild(dir.path()).unwrap().report_html;
    assert_eq!(path, dir.path().join("report.html"));
    let html = std::fs::read_to_string(&path).unwrap();
    (dir, path, html)
}

/// The page with every `<pre>` block's content removed: the only text that may hold
/// a URL is a server's log or failure detail, escaped and shown as text.
fn without_pre(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<pre") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("</pre>").expect("<pre> closed") + start;
        rest = &rest[end + "</pre>".len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn report_names_every_case_and_the_findings() {
    let (_dir, _, html) = build();
    for case in ["bjoern", "gevent", "gunicorn-sync", "meinheld"] {
        assert!(
            html.contains(&format!("id=\"case-{case}\"")),
            "no section for {case}"
        );
    }
    assert!(html.contains("Nagle&#39;s algorithm meets delayed ACK"));
    assert!(html.contains("the server crashed during the run"));
    assert!(html.contains("Segmentation fault (core dumped)"));
    assert!(html.contains("quick look: 5 users/s"));
    assert!(html.contains("server on CPU 1, generator on CPU 0"));
    assert!(html.contains("gevent 26.9.0") && html.contains("wsgibench 0.1.0"));
    // The ranking puts the fastest first and the crashed case last.
    let rows: Vec<usize> = ["bjoern", "gunicorn-sync", "gevent", "meinheld"]
        .iter()
        .map(|c| html.find(&format!("<td data-v=\"{c}\">")).unwrap())
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "{rows:?}");
}

#[test]
fn report_references_nothing_outside_itself() {
    let (_dir, _, html) = build();
    assert!(
        testkit::browser::attributes(&html, "src").is_empty(),
        "no src= at all"
    );
    for href in testkit::browser::attributes(&html, "href") {
        assert!(href.starts_with('#'), "href={href}");
    }
    for needle in [
        "url(", "@import", "<link", "<iframe", "<img", "<object", "<embed",
    ] {
        assert!(!html.contains(needle), "{needle}");
    }
    let outside_logs = without_pre(&html);
    assert!(!outside_logs.contains("://"), "a URL outside the logs");
    // The log's URL and markup are shown as text.
    assert!(html.contains(
        "Listening on http://127.0.0.1:40111/ &lt;b&gt;not bold&lt;/b&gt; &amp; &quot;quoted&quot;"
    ));
    assert!(!html.contains("<b>not bold</b>"));
}

#[test]
fn report_tags_balance() {
    let (_dir, _, html) = build();
    // HTML void elements; SVG ones close themselves with "/>".
    const VOID: [&str; 4] = ["meta", "br", "hr", "input"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html.as_str();
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let close = rest.find('>').expect("a tag ends");
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if let Some(closing) = tag.strip_prefix('/') {
            let top = stack
                .pop()
                .unwrap_or_else(|| panic!("</{closing}> closes nothing"));
            assert_eq!(top, name, "<{top}> closed by </{name}>");
        } else if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name.clone());
            // Their content is not markup.
            if name == "script" || name == "style" {
                let end = rest.find(&format!("</{name}>")).expect("closed");
                rest = &rest[end..];
            }
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    // Each server section: 5 charts; across servers: 7; plus swatches.
    assert!(html.matches("<figure>").count() >= 3 * 5 + 7);
}

#[test]
fn report_of_a_folder_that_is_not_a_run_names_run_json() {
    let tmp = tempfile::tempdir().unwrap();
    let e = render::rebuild(tmp.path()).unwrap_err().to_string();
    assert!(e.contains("run.json"), "{e}");
}

#[test]
fn chromium_screenshot_is_not_blank_and_console_is_clean() {
    let (dir, page, _) = build();
    let shot = dir.path().join("shot.png");
    let Some(stderr) = chromium(&page, &shot, (1280, 2400)) else {
        return;
    };
    assert_eq!(
        console(&stderr),
        Vec::<&str>::new(),
        "console output from the page"
    );
    assert!(!stderr.contains("Uncaught"), "{stderr}");

    let ((width, height), painted) = painted_pixels(&shot);
    assert_eq!((width, height), (1280, 2400));
    let total = (width * height) as usize;
    // Text, tables and charts: far more than a few stray pixels differ from the
    // background.
    assert!(
        painted > total / 20,
        "only {painted} of {total} pixels differ"
    );
}

#[test]
fn chromium_sorts_the_ranking_on_click() {
    let (dir, _, html) = build();
    // Click "req/s" once (ascending: slowest first, unmeasured still last), then print
    // the order of the servers.
    let probe = html.replace(
        "</body>",
        "<script>[...document.querySelectorAll('th')].find(t => t.textContent === 'req/s').click();\
         console.log('order:' + [...document.querySelectorAll('table.sortable tbody tr')]\
         .map(r => r.cells[1].dataset.v).join(','));</script></body>",
    );
    let probe_page = dir.path().join("probe.html");
    std::fs::write(&probe_page, probe).unwrap();
    let Some(stderr) = chromium(&probe_page, &dir.path().join("probe.png"), (800, 600)) else {
        return;
    };
    let lines = console(&stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("order:gevent,gunicorn-sync,bjoern,meinheld")),
        "{lines:?}"
    );
}

/// Everything the page shows that came from outside (a case's name, a server's log, the
/// command line, the folder's path) is escaped: markup in it stays text.
#[test]
fn report_escapes_case_names_logs_commands_and_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run<script>alert('path')");
    testkit::copy_dir(&fixture(), &dir);
    let evil = "bjoern<script>alert(1)";
    std::fs::rename(dir.join("bjoern"), dir.join(evil)).unwrap();
    let meta = std::fs::read_to_string(dir.join("run.json"))
        .unwrap()
        .replace("\"bjoern\"", &format!("{evil:?}"))
        .replace(
            "wsgibench run --quick",
            "wsgibench run --quick <script>alert('cmd')</script>",
        );
    std::fs::write(dir.join("run.json"), meta).unwrap();
    let summary = dir.join(evil).join("summary.json");
    let text = std::fs::read_to_string(&summary)
        .unwrap()
        .replace("\"bjoern\"", &format!("{evil:?}"));
    std::fs::write(&summary, text).unwrap();
    let mut log = std::fs::read_to_string(dir.join(evil).join("server.log")).unwrap();
    log.push_str("</pre><script>alert(\"log\")</script><img src=x onerror=alert(2)>\n");
    std::fs::write(dir.join(evil).join("server.log"), log).unwrap();

    let page = render::rebuild(&dir).unwrap().report_html;
    let html = std::fs::read_to_string(page).unwrap();
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script may be a script element"
    );
    assert!(
        !html.contains("<img"),
        "markup from the log became an element"
    );
    assert!(
        html.contains("bjoern&lt;script&gt;alert(1)"),
        "the case is shown, escaped"
    );
    assert!(
        html.contains("&lt;/pre&gt;&lt;script&gt;alert(&quot;log&quot;)"),
        "the log line is shown, escaped"
    );
}
