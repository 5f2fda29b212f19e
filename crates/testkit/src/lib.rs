//! Helpers shared by the workspace's tests (a dev-dependency only).
//!
//! [`outside_tool`] decides what a test does when a tool it drives (tsung, chromium,
//! nginx, wrk) is missing: with `CI` set, the test fails, so a missing install step in
//! `.ci/run` turns CI red instead of green-by-skipping; elsewhere it skips with one line.

use std::path::{Path, PathBuf};

/// What a test needs from outside the workspace, and how to get it.
pub struct Tool {
    /// What the test calls it in messages, e.g. "chromium".
    pub name: &'static str,
    /// The Debian package that provides it.
    pub debian_package: &'static str,
}

/// Whether `CI` is set to anything but an empty string, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// `found` when the tool is there. When it is not: panics under CI (naming the package
/// to install), else prints one "skipped" line and returns `None` so the test returns.
pub fn outside_tool<T>(tool: &Tool, found: Option<T>) -> Option<T> {
    if found.is_some() {
        return found;
    }
    let how = format!("apt-get install {}", tool.debian_package);
    assert!(
        !in_ci(),
        "{} is required when CI is set: install it ({how}), as .ci/run does",
        tool.name
    );
    eprintln!("skipped: {} is not installed ({how})", tool.name);
    None
}

/// The first of `names` found as an executable on PATH (or given as a path).
pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    for name in names {
        let candidate = Path::new(name);
        if candidate.is_absolute() {
            if is_executable(candidate) {
                return Some(candidate.to_path_buf());
            }
            continue;
        }
        let path = std::env::var_os("PATH")?;
        if let Some(found) = std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
        {
            return Some(found);
        }
    }
    None
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `text` with some of its `spans` (byte ranges) replaced: change `(i, value)` puts
/// `value` in span `i % spans.len()`; the first change to a span wins. For properties
/// that put arbitrary values in the numbers of a valid file.
pub fn replace_spans(text: &str, spans: &[(usize, usize)], changes: &[(usize, String)]) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    let mut chosen: Vec<(usize, &str)> = changes
        .iter()
        .map(|(i, v)| (i % spans.len(), v.as_str()))
        .collect();
    // Back to front, so earlier spans keep their offsets.
    chosen.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
    chosen.dedup_by_key(|(i, _)| *i);
    let mut out = text.to_string();
    for (i, value) in chosen {
        let (start, end) = spans[i];
        out.replace_range(start..end, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_tool_passes_through_and_a_shell_is_on_path() {
        let tool = Tool {
            name: "sh",
            debian_package: "dash",
        };
        assert_eq!(outside_tool(&tool, Some(3)), Some(3));
        assert!(find_program(&["no-such-program-here", "sh"]).is_some());
        assert!(find_program(&["no-such-program-here"]).is_none());
    }

    #[test]
    fn spans_are_replaced_back_to_front() {
        let text = "a=1 b=22 c=3";
        let spans = [(2, 3), (6, 8), (11, 12)];
        let changes = [
            (0, "x".to_string()),
            (4, "yyy".to_string()),
            (2, "z".into()),
        ];
        assert_eq!(replace_spans(text, &spans, &changes), "a=x b=yyy c=z");
        assert_eq!(replace_spans(text, &[], &changes), text);
    }
}
