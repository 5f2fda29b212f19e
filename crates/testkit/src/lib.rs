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
}
