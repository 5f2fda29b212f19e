//! Helpers shared by the workspace's tests (a dev-dependency only).
//!
//! [`outside_tool`] decides what a test does when a tool it drives (tsung, chromium,
//! nginx, wrk; kubernetes-validate through [`outside_tool_installed_by`]) is missing:
//! with `CI` set, the test fails, so a missing install step in `.ci/run` turns CI red
//! instead of green-by-skipping; elsewhere it skips with one line.
//!
//! The rest is what more than one crate's tests need: [`copy_dir`], the shipped catalog's
//! [`SHIPPED_CASES`], and for the readers' properties [`EDGE_NUMBERS`] and
//! [`read_or_refused`].
//!
//! [`browser`] opens a page in headless Chromium, off the network, for its screenshot
//! and console.
//!
//! `tls` (feature `tls`) makes certificates for a test and serves https on 127.0.0.1.

pub mod browser;
#[cfg(feature = "tls")]
pub mod tls;

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
    let how = format!("apt-get install {}", tool.debian_package);
    outside_tool_installed_by(tool.name, &how, found)
}

/// [`outside_tool`] for a tool that is not a Debian package: `how` says how to get it,
/// e.g. "pip install kubernetes-validate".
pub fn outside_tool_installed_by<T>(name: &str, how: &str, found: Option<T>) -> Option<T> {
    if found.is_some() {
        return found;
    }
    assert!(
        !in_ci(),
        "{name} is required when CI is set: install it ({how}), as .ci/run does"
    );
    eprintln!("skipped: {name} is not installed ({how})");
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

/// Copies the folder `from` into `to` (created if missing), subfolders and all: for
/// tests that write into a copy of a committed results folder.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The cases `suites/servers.toml` ships, in its order. Both the catalog's own tests
/// and the end-to-end run expect exactly these, so a case added to the catalog must be
/// added here, where both see it.
pub const SHIPPED_CASES: [&str; 14] = [
    "gevent",
    "meinheld",
    "bjoern",
    "gunicorn-sync",
    "gunicorn-gevent",
    "gunicorn-meinheld",
    "uwsgi",
    "uwsgi-gevent",
    "granian",
    "waitress",
    "cheroot",
    "gunicorn-gthread",
    "pyruvate",
    "fastwsgi",
];

/// Numbers on the edges of what a reader of a user's file accepts, spelled so that
/// both XML attributes and TOML take them as numbers: zeros, units, huge and tiny
/// exponents, infinities, and the limits of i64 and u64. Each reader's properties add
/// the edge cases of their own format.
pub const EDGE_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "1e300",
    "-1e300",
    "1e-300",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
];

/// What a reader of a user's file must do with any input, as a property's verdict: what
/// it accepts passes `valid`, the checks the program makes next; what it refuses gets a
/// message that starts with `refusal_prefix` (the file's name), so the user is told
/// where. `Err` holds why the property fails.
pub fn read_or_refused<T, E: std::fmt::Display, V: std::fmt::Debug>(
    read: Result<T, E>,
    refusal_prefix: &str,
    valid: impl FnOnce(&T) -> Result<(), V>,
) -> Result<(), String> {
    match read {
        Ok(accepted) => match valid(&accepted) {
            Ok(()) => Ok(()),
            Err(e) => Err(format!("accepted but invalid: {e:?}")),
        },
        Err(e) => {
            let message = e.to_string();
            if message.starts_with(refusal_prefix) {
                Ok(())
            } else {
                Err(format!(
                    "refused without {refusal_prefix:?} first: {message}"
                ))
            }
        }
    }
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

    #[test]
    fn a_folder_is_copied_with_its_subfolders() {
        let tmp = tempfile::tempdir().unwrap();
        let from = tmp.path().join("from");
        std::fs::create_dir_all(from.join("sub")).unwrap();
        std::fs::write(from.join("a.txt"), "a").unwrap();
        std::fs::write(from.join("sub/b.txt"), "b").unwrap();
        let to = tmp.path().join("to");
        copy_dir(&from, &to);
        let read = |p: &str| std::fs::read_to_string(to.join(p)).unwrap();
        assert_eq!((read("a.txt"), read("sub/b.txt")), ("a".into(), "b".into()));
    }

    #[test]
    fn a_reading_passes_when_accepted_valid_or_refused_by_name() {
        let valid = |n: &i32| if *n > 0 { Ok(()) } else { Err("not positive") };
        assert_eq!(read_or_refused(Ok::<_, String>(1), "f.x:", valid), Ok(()));
        assert!(read_or_refused(Ok::<_, String>(0), "f.x:", valid)
            .unwrap_err()
            .contains("accepted but invalid"));
        let refused = |m: &str| read_or_refused(Err::<i32, _>(m.to_string()), "f.x:", valid);
        assert_eq!(refused("f.x:3: bad"), Ok(()));
        assert!(refused("bad").is_err());
    }
}
