//! The server catalog: `suites/servers.toml` read into [`Case`]s.
//!
//! A case is data (a command line with placeholders, the Python packages it needs, how
//! to find its version, the system packages it builds against) so that adding a server
//! is adding an entry, with no Rust change. Placeholders are checked when the catalog is
//! loaded, not when a case is launched, so a typo in the last case of a 13-minute suite
//! is reported before the first one starts.
//!
//! How a case takes `wsgibench run --workers N` is data too: a `{workers}` placeholder
//! in its command (1 without `--workers`, so the argv stays what it always was), a
//! `workers_args` fragment appended only when `--workers` is given (a launcher whose
//! default command has no such argument), or `single_process = "why"`: the case runs
//! one process whatever N, and the run says so.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::source::{FileError, Source};

/// The placeholders a command may use, each replaced by [`Vars`] at launch.
pub const PLACEHOLDERS: &[&str] = &[
    "python",
    "venv_bin",
    "host",
    "port",
    "app",
    "python_dir",
    "workers",
];

/// The app a case serves unless it names its own (`app` in the catalog).
pub const DEFAULT_APP: &str = "app:pong";

/// Every server case of one catalog file, in file order.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub path: PathBuf,
    pub cases: Vec<Case>,
}

/// One way to run a WSGI server: a name and how to launch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub description: String,
    /// argv template; see [`PLACEHOLDERS`].
    pub command: Vec<String>,
    /// Python distributions (as in requirements.txt) the case cannot run without; one
    /// that failed to install marks the case "not installed".
    pub packages: Vec<String>,
    /// Distributions whose versions make up the case's reported version, e.g.
    /// `["gunicorn", "meinheld"]` for gunicorn with meinheld workers.
    pub version: Vec<String>,
    /// `module:callable` served instead of [`DEFAULT_APP`], for servers that refuse the
    /// default app (waitress refuses hop-by-hop headers).
    pub app: Option<String>,
    /// System (Debian) packages the case's Python packages build against.
    pub system: Vec<SystemNeed>,
    /// Appended to the command only with `--workers N` (may use `{workers}`).
    pub workers_args: Vec<String>,
    /// Why this case runs one process whatever `--workers` says.
    pub single_process: Option<String>,
}

/// How a case runs with `--workers N`, as its catalog entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkersSupport<'c> {
    /// N worker processes (or the case's documented equivalent).
    Takes,
    /// One process whatever N: the catalog's reason.
    Single(&'c str),
    /// The entry says nothing of workers: it runs as its command says.
    Unsaid,
}

/// A system package a case needs, said in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemNeed {
    /// The Debian/Ubuntu package name, e.g. `libev-dev`.
    pub debian: String,
    /// Why, e.g. "bjoern compiles against libev (ev.h)".
    pub why: String,
}

/// The values placeholders expand to.
#[derive(Debug, Clone)]
pub struct Vars<'a> {
    /// The venv's interpreter.
    pub python: &'a Path,
    /// The venv's `bin/` folder, where console scripts (gunicorn, uwsgi) live.
    pub venv_bin: &'a Path,
    pub host: &'a str,
    pub port: u16,
    /// `module:callable`.
    pub app: &'a str,
    /// The folder holding `app.py` and `launchers/`.
    pub python_dir: &'a Path,
    /// `--workers N`; `None` without the flag: `{workers}` is then 1 and no
    /// `workers_args` are appended, so the argv is the one every earlier run used.
    pub workers: Option<u32>,
}

/// A command template that cannot be expanded. Loading a catalog catches these first;
/// this only happens for a [`Case`] built by hand.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("case `{case}`: {problem}")]
pub struct PlaceholderError {
    pub case: String,
    pub problem: String,
}

/// A case name asked for that the catalog does not have.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("no case named `{name}` in {catalog}; known cases: {known}")]
pub struct UnknownCase {
    pub name: String,
    pub catalog: String,
    pub known: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(rename = "case", default)]
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    command: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    packages: Vec<String>,
    #[serde(default)]
    version: Vec<String>,
    app: Option<Spanned<String>>,
    #[serde(default)]
    system: Vec<SystemNeed>,
    #[serde(default)]
    workers_args: Vec<Spanned<String>>,
    single_process: Option<Spanned<String>>,
}

impl Catalog {
    pub fn load(path: &Path) -> Result<Catalog, FileError> {
        let text = Source::read(path)?;
        Catalog::parse(&text, path)
    }

    /// Parses catalog text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Catalog, FileError> {
        let src = Source { path, text };
        let raw: RawCatalog = src.parse()?;
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        let mut cases = Vec::new();
        if raw.cases.is_empty() {
            problems.push(src.problem(None, "no `[[case]]` entry; a catalog needs at least one"));
        }
        for raw in raw.cases {
            let name = raw.name.get_ref().clone();
            if name.is_empty()
                || name.contains(|c: char| {
                    c.is_whitespace() || c == ',' || c == '/' || c == results::folder::APP_SEPARATOR
                })
            {
                problems.push(src.problem(
                    Some(&raw.name.span()),
                    format!("case name `{name}` must be non-empty, without spaces, commas, `/` or `@` (names are used in `--cases a,b` and folder names such as `bjoern@json`)"),
                ));
            }
            if !seen.insert(name.clone()) {
                problems.push(src.problem(
                    Some(&raw.name.span()),
                    format!("case `{name}` is defined twice; names must be unique"),
                ));
            }
            if raw.command.get_ref().is_empty() {
                problems.push(src.problem(
                    Some(&raw.command.span()),
                    format!(
                        "case `{name}`: `command` is empty; expected the program and its arguments"
                    ),
                ));
            }
            for arg in raw.command.get_ref() {
                if let Err(problem) = check_template(arg.get_ref()) {
                    problems
                        .push(src.problem(Some(&arg.span()), format!("case `{name}`: {problem}")));
                }
            }
            for arg in &raw.workers_args {
                if let Err(problem) = check_template(arg.get_ref()) {
                    problems
                        .push(src.problem(Some(&arg.span()), format!("case `{name}`: {problem}")));
                }
            }
            let uses_workers = raw
                .command
                .get_ref()
                .iter()
                .chain(&raw.workers_args)
                .any(|a| a.get_ref().contains("{workers}"));
            if let Some(single) = &raw.single_process {
                if uses_workers || !raw.workers_args.is_empty() {
                    problems.push(src.problem(
                        Some(&single.span()),
                        format!("case `{name}`: `single_process` says it runs one process, but its command or `workers_args` takes `{{workers}}`; keep one of them"),
                    ));
                }
            }
            if !raw.workers_args.is_empty() && !uses_workers {
                problems.push(src.problem(
                    Some(&raw.workers_args[0].span()),
                    format!("case `{name}`: `workers_args` holds no `{{workers}}`; it is appended with `--workers N` to pass N"),
                ));
            }
            if let Some(app) = &raw.app {
                if !app.get_ref().contains(':') {
                    problems.push(src.problem(
                        Some(&app.span()),
                        format!(
                            "case `{name}`: `app` must be `module:callable`, got `{}`",
                            app.get_ref()
                        ),
                    ));
                }
            }
            cases.push(Case {
                name,
                description: raw.description,
                command: raw
                    .command
                    .into_inner()
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                packages: raw.packages,
                version: raw.version,
                app: raw.app.map(Spanned::into_inner),
                system: raw.system,
                workers_args: raw
                    .workers_args
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                single_process: raw.single_process.map(Spanned::into_inner),
            });
        }
        if problems.is_empty() {
            Ok(Catalog {
                path: path.to_path_buf(),
                cases,
            })
        } else {
            Err(src.invalid(problems))
        }
    }

    pub fn get(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.name == name)
    }

    /// The named cases in the order asked, or all of them for an empty list.
    pub fn select(&self, names: &[&str]) -> Result<Vec<&Case>, UnknownCase> {
        if names.is_empty() {
            return Ok(self.cases.iter().collect());
        }
        names
            .iter()
            .map(|n| {
                self.get(n).ok_or_else(|| UnknownCase {
                    name: n.to_string(),
                    catalog: self.path.display().to_string(),
                    known: self
                        .cases
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            })
            .collect()
    }
}

impl Case {
    /// The app this case serves: its own, or [`DEFAULT_APP`].
    pub fn app(&self) -> &str {
        self.app.as_deref().unwrap_or(DEFAULT_APP)
    }

    /// How the case takes `--workers N`.
    pub fn workers_support(&self) -> WorkersSupport<'_> {
        if let Some(why) = &self.single_process {
            return WorkersSupport::Single(why);
        }
        let takes = self
            .command
            .iter()
            .chain(&self.workers_args)
            .any(|a| a.contains("{workers}"));
        match takes {
            true => WorkersSupport::Takes,
            false => WorkersSupport::Unsaid,
        }
    }

    /// The number of workers the case runs with `--workers` = `asked`: `asked` when it
    /// takes them, else 1. `None` without the flag.
    pub fn workers(&self, asked: Option<u32>) -> Option<u32> {
        asked.map(|n| match self.workers_support() {
            WorkersSupport::Takes => n,
            _ => 1,
        })
    }

    /// What a run with `--workers N` says of this case when it cannot take N: `None`
    /// when it does (or without the flag, or N = 1).
    pub fn workers_remark(&self, asked: Option<u32>) -> Option<String> {
        let n = asked.filter(|&n| n > 1)?;
        match self.workers_support() {
            WorkersSupport::Takes => None,
            WorkersSupport::Single(why) => {
                Some(format!("ran as one process, not {n} workers: {why}"))
            }
            WorkersSupport::Unsaid => Some(format!(
                "ran as one process, not {n} workers: its catalog entry has no `{{workers}}`"
            )),
        }
    }

    /// The command line with every placeholder replaced; with `--workers`, the
    /// `workers_args` appended.
    pub fn argv(&self, vars: &Vars) -> Result<Vec<String>, PlaceholderError> {
        let extra = match vars.workers {
            Some(_) => self.workers_args.as_slice(),
            None => &[],
        };
        self.command
            .iter()
            .chain(extra)
            .map(|arg| {
                expand(arg, vars).map_err(|problem| PlaceholderError {
                    case: self.name.clone(),
                    problem,
                })
            })
            .collect()
    }
}

/// Walks `{name}` placeholders, calling `f` for literal text and for each name.
fn walk<'t>(
    template: &'t str,
    mut f: impl FnMut(Piece<'t>) -> Result<(), String>,
) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        f(Piece::Text(&rest[..open]))?;
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            format!("unclosed `{{` in `{template}`; placeholders look like `{{port}}`")
        })?;
        f(Piece::Name(&after[..close]))?;
        rest = &after[close + 1..];
    }
    f(Piece::Text(rest))
}

enum Piece<'t> {
    Text(&'t str),
    Name(&'t str),
}

fn unknown(name: &str) -> String {
    format!(
        "unknown placeholder `{{{name}}}`; expected one of {}",
        PLACEHOLDERS
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn check_template(template: &str) -> Result<(), String> {
    walk(template, |piece| match piece {
        Piece::Name(n) if !PLACEHOLDERS.contains(&n) => Err(unknown(n)),
        _ => Ok(()),
    })
}

fn expand(template: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    walk(template, |piece| {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Name("python") => out.push_str(&vars.python.to_string_lossy()),
            Piece::Name("venv_bin") => out.push_str(&vars.venv_bin.to_string_lossy()),
            Piece::Name("host") => out.push_str(vars.host),
            Piece::Name("port") => out.push_str(&vars.port.to_string()),
            Piece::Name("app") => out.push_str(vars.app),
            Piece::Name("python_dir") => out.push_str(&vars.python_dir.to_string_lossy()),
            Piece::Name("workers") => out.push_str(&vars.workers.unwrap_or(1).to_string()),
            Piece::Name(other) => return Err(unknown(other)),
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars<'static> {
        Vars {
            python: Path::new("/v/bin/python"),
            venv_bin: Path::new("/v/bin"),
            host: "127.0.0.1",
            port: 8123,
            app: "app:pong",
            python_dir: Path::new("/w/python"),
            workers: None,
        }
    }

    const ONE: &str = r#"
[[case]]
name = "gunicorn-sync"
command = ["{venv_bin}/gunicorn", "-w", "1", "-b", "{host}:{port}", "{app}"]
packages = ["gunicorn"]
version = ["gunicorn"]
"#;

    #[test]
    fn placeholders_expand() {
        let c = Catalog::parse(ONE, Path::new("s.toml")).unwrap();
        let case = c.get("gunicorn-sync").unwrap();
        assert_eq!(
            case.argv(&vars()).unwrap(),
            [
                "/v/bin/gunicorn",
                "-w",
                "1",
                "-b",
                "127.0.0.1:8123",
                "app:pong"
            ]
        );
        assert_eq!(case.app(), DEFAULT_APP);
    }

    #[test]
    fn workers_expand_and_their_args_come_only_with_the_flag() {
        let text = format!(
            "{}\n[[case]]\nname = \"forked\"\ncommand = [\"l\", \"{{port}}\"]\nworkers_args = [\"--workers\", \"{{workers}}\"]\n\n[[case]]\nname = \"one\"\ncommand = [\"o\"]\nsingle_process = \"one loop\"\n",
            ONE.replace("\"-w\", \"1\"", "\"-w\", \"{workers}\"")
        );
        let c = Catalog::parse(&text, Path::new("s.toml")).unwrap();
        let with = |n| Vars {
            workers: n,
            ..vars()
        };
        let g = c.get("gunicorn-sync").unwrap();
        assert_eq!(g.argv(&vars()).unwrap()[1..3], ["-w", "1"]);
        assert_eq!(g.argv(&with(Some(3))).unwrap()[1..3], ["-w", "3"]);
        let f = c.get("forked").unwrap();
        assert_eq!(f.argv(&vars()).unwrap(), ["l", "8123"]);
        assert_eq!(
            f.argv(&with(Some(2))).unwrap(),
            ["l", "8123", "--workers", "2"]
        );
        assert_eq!((f.workers(None), f.workers(Some(2))), (None, Some(2)));
        let o = c.get("one").unwrap();
        assert_eq!(o.argv(&with(Some(2))).unwrap(), ["o"]);
        assert_eq!(o.workers(Some(2)), Some(1));
        assert!(o.workers_remark(Some(2)).unwrap().contains("one loop"));
        assert_eq!(o.workers_remark(None), None);
        assert_eq!(g.workers_remark(Some(2)), None);
        assert_eq!(
            c.get("forked").unwrap().workers_support(),
            WorkersSupport::Takes
        );
    }

    #[test]
    fn single_process_with_workers_and_args_without_them_are_refused() {
        let both =
            ONE.replace("\"-w\", \"1\"", "\"-w\", \"{workers}\"") + "single_process = \"no\"\n";
        let e = Catalog::parse(&both, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`single_process` says it runs one process"),
            "{e}"
        );
        let bare = format!("{ONE}workers_args = [\"--fork\"]\n");
        let e = Catalog::parse(&bare, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`workers_args` holds no `{workers}`"), "{e}");
    }

    #[test]
    fn unknown_placeholder_names_the_case_and_line() {
        let text = ONE.replace("{host}:{port}", "{hots}:{port}");
        let e = Catalog::parse(&text, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s.toml:4:52: case `gunicorn-sync`: unknown placeholder `{hots}`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_placeholder_in_a_hand_made_case_is_an_error() {
        let mut case = Catalog::parse(ONE, Path::new("s.toml")).unwrap().cases[0].clone();
        case.command.push("{nope}".into());
        let e = case.argv(&vars()).unwrap_err();
        assert_eq!(e.case, "gunicorn-sync");
        assert!(e.problem.contains("{nope}"));
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let text = format!("{ONE}\n[[case]]\nname = \"gunicorn-sync\"\ncommand = [\"x{{\"]\n");
        let e = Catalog::parse(&text, Path::new("s.toml")).unwrap_err();
        let FileError::Invalid { problems, .. } = e else {
            panic!("expected Invalid")
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("defined twice"));
        assert!(problems[1].message.contains("unclosed"));
        assert_eq!(problems[1].line, Some(10));
    }

    #[test]
    fn unknown_fields_are_refused_with_their_line() {
        let text = ONE.replace("packages =", "pakages =");
        let e = Catalog::parse(&text, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.toml:5:"), "{e}");
        assert!(e.contains("pakages"), "{e}");
    }

    #[test]
    fn select_keeps_order_and_names_unknown_cases() {
        let text = format!("{ONE}\n[[case]]\nname = \"b\"\ncommand = [\"b\"]\n");
        let c = Catalog::parse(&text, Path::new("s.toml")).unwrap();
        let names: Vec<_> = c
            .select(&["b", "gunicorn-sync"])
            .unwrap()
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(names, ["b", "gunicorn-sync"]);
        assert_eq!(c.select(&[]).unwrap().len(), 2);
        let e = c.select(&["nope"]).unwrap_err().to_string();
        assert!(e.contains("known cases: gunicorn-sync, b"), "{e}");
    }
}
