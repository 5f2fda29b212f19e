//! Pages opened in headless Chromium (Debian package `chromium`), the way a reader
//! opens them: report.html and the trend site are checked by screenshot and console.
//!
//! Chromium runs with the flags that keep it off the network (no background
//! networking, component updates, sync or QUIC) and out of any profile (a fresh
//! temporary one each time), so a page that tried to fetch anything would show it as a
//! console error instead of getting it.

use std::path::Path;
use std::process::Command;

use crate::{outside_tool, Tool};

/// Opens `page` in headless Chromium at `size` (CSS pixels) and saves a screenshot to
/// `screenshot`; returns Chromium's stderr, which holds the page's console. `None`
/// when Chromium is not installed, which under CI is a failure ([`outside_tool`]).
pub fn chromium(page: &Path, screenshot: &Path, size: (u32, u32)) -> Option<String> {
    let exe = outside_tool(
        &Tool {
            name: "chromium",
            debian_package: "chromium",
        },
        ["chromium", "chromium-browser"].into_iter().find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        }),
    )?;
    let profile = tempfile::tempdir().expect("a temporary profile folder");
    let out = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium failed: {stderr}");
    Some(stderr)
}

/// The page's own console lines in Chromium's stderr (it logs them as `INFO:CONSOLE`).
pub fn console(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// A screenshot's size and how many of its pixels differ from its top-left one (the
/// page's background): text, tables and charts make many, a blank page none.
pub fn painted_pixels(png_file: &Path) -> ((u32, u32), usize) {
    let decoder = png::Decoder::new(std::fs::File::open(png_file).expect("the screenshot"));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let channels = info.color_type.samples();
    let first = &buf[..channels];
    let painted = buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| *p != first)
        .count();
    ((info.width, info.height), painted)
}

/// Every `name="value"` in the page's tags, for checks that a page references nothing
/// outside itself.
pub fn attributes<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let pat = format!(" {name}=\"");
    html.match_indices(&pat)
        .map(|(i, _)| {
            let rest = &html[i + pat.len()..];
            &rest[..rest.find('"').unwrap_or(rest.len())]
        })
        .collect()
}
