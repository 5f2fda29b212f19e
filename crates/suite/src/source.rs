//! Reading the TOML data files (`servers.toml`, suite files) with errors that point at a
//! line.
//!
//! Both files are edited by hand, so an error must say where and what was expected,
//! and list every mistake at once rather than one per run: [`FileError::Invalid`] carries
//! a list of [`Problem`]s, each with its line when one is known.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Why a data file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file is missing or unreadable; check the path (relative paths are taken from
    /// the current directory).
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read but breaks one or more rules; each problem names its line.
    #[error("{}", ProblemList { path, problems })]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

/// One mistake in a data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based; `None` when the rule concerns the whole file.
    pub line: Option<usize>,
    /// 1-based, in characters; `None` when the line is not known.
    pub column: Option<usize>,
    pub message: String,
}

struct ProblemList<'a> {
    path: &'a Path,
    problems: &'a [Problem],
}

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match (p.line, p.column) {
                (Some(line), Some(col)) => {
                    write!(f, "{}:{line}:{col}: {}", self.path.display(), p.message)?
                }
                (Some(line), None) => write!(f, "{}:{line}: {}", self.path.display(), p.message)?,
                _ => write!(f, "{}: {}", self.path.display(), p.message)?,
            }
        }
        Ok(())
    }
}

/// The text of one data file, kept to turn byte spans into line numbers.
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl<'a> Source<'a> {
    pub fn read(path: &Path) -> Result<String, FileError> {
        std::fs::read_to_string(path).map_err(|source| FileError::Read {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn line_of(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text[..end].bytes().filter(|&b| b == b'\n').count() + 1
    }

    /// 1-based column, in characters, of the span's start.
    pub fn column_of(&self, span: &Range<usize>) -> usize {
        let mut end = span.start.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let line_start = self.text[..end].rfind('\n').map_or(0, |i| i + 1);
        self.text[line_start..end].chars().count() + 1
    }

    pub fn problem(&self, span: Option<&Range<usize>>, message: impl Into<String>) -> Problem {
        Problem {
            line: span.map(|s| self.line_of(s)),
            column: span.map(|s| self.column_of(s)),
            message: message.into(),
        }
    }

    /// Parses the whole file; a syntax or shape error becomes one located problem.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, FileError> {
        toml::from_str(self.text).map_err(|e| {
            // toml's message is multi-line (it quotes the line with a caret); the first
            // line after the location header says what was expected.
            let message = e.message().trim().to_string();
            self.invalid(vec![self.problem(e.span().as_ref(), message)])
        })
    }

    pub fn invalid(&self, problems: Vec<Problem>) -> FileError {
        FileError::Invalid {
            path: self.path.to_path_buf(),
            problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_become_one_based_lines() {
        let s = Source {
            path: Path::new("x.toml"),
            text: "a = 1\nb = 2\nc = 3\n",
        };
        assert_eq!(s.line_of(&(0..1)), 1);
        assert_eq!(s.line_of(&(6..7)), 2);
        assert_eq!(s.line_of(&(12..13)), 3);
        assert_eq!(s.column_of(&(12..13)), 1);
        assert_eq!(s.column_of(&(14..15)), 3);
    }

    #[test]
    fn every_problem_is_listed_with_path_and_line() {
        let e = FileError::Invalid {
            path: PathBuf::from("suites/quick.toml"),
            problems: vec![
                Problem {
                    line: Some(14),
                    column: Some(20),
                    message: "`rate` must be > 0, got -5".into(),
                },
                Problem {
                    line: None,
                    column: None,
                    message: "no session".into(),
                },
            ],
        };
        assert_eq!(
            e.to_string(),
            "suites/quick.toml:14:20: `rate` must be > 0, got -5\nsuites/quick.toml: no session"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let s = Source {
            path: Path::new("x.toml"),
            text: "\n\na = \"text\"\n",
        };
        let e = s.parse::<T>().unwrap_err().to_string();
        assert!(e.starts_with("x.toml:3:5: "), "{e}");
    }
}
