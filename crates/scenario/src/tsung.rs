//! Tsung 1.7 XML files (the HTTP subset) read into a [`Scenario`].
//!
//! The benchmark wsgibench re-makes was a Tsung file; people who used Tsung should be
//! able to bring theirs unchanged. This module reads such a file and builds the same
//! [`Scenario`] every other front end builds, plus what a Tsung user expects to see
//! honoured around it: the log options of the root element and a list of notes that
//! say what in the file wsgibench does differently and why (the `<clients>` block,
//! `<monitoring>`, harmless `<options>`).
//!
//! The rule is "run it or say why not": every element and attribute is either mapped,
//! accepted with a note, or refused with an error that names the file, line, column,
//! the element and what is supported, e.g.
//! `seed.xml:23:7: <jabber> is not supported (HTTP sessions only: ...)`.
//! Nothing is skipped silently, because a load test that quietly sends something
//! other than what the file says is worse than one that does not start.
//!
//! Layout:
//! - `tree`: the XML as an element tree with byte offsets, and offsets → line:column.
//! - `convert`: the element rules (the supported subset lives there, one function per
//!   element, in the order of Tsung's DTD).
//! - `describe`: the human plan printed by `--dry-run`.
//!
//! Ground truth for the semantics is Tsung's manual, its DTD
//! (`/usr/share/tsung/tsung-1.0.dtd`) and its config reader (`ts_config.erl`,
//! `ts_config_http.erl`); where wsgibench deviates, the code says so where it decides.
//!
//! ```
//! let xml = r#"<tsung><servers><server host="127.0.0.1" port="8000" type="tcp"/></servers>
//!   <load duration="30"><arrivalphase phase="1" duration="20" unit="second">
//!     <users arrivalrate="5" unit="second"/></arrivalphase></load>
//!   <sessions><session name="s" probability="100" type="ts_http">
//!     <request><http url="/" method="GET" version="1.1"/></request>
//!   </session></sessions></tsung>"#;
//! let import = scenario::tsung::parse_str(xml, "mini.xml").unwrap();
//! assert_eq!(import.scenario.duration, Some(std::time::Duration::from_secs(30)));
//! ```

// The error carries its position and the offending text by value: it is built at
// most once per import, far from any hot path, and plain fields are easier for the
// CLI and tests to match than boxes.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::Scenario;

mod convert;
mod describe;
mod tree;

pub use describe::describe;
pub use tree::Position;

/// What a Tsung file becomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TsungImport {
    /// The load test, ready for [`Scenario::validate`] and the engine.
    pub scenario: Scenario,
    /// One line per thing in the file that wsgibench reads but does differently or
    /// ignores, each starting with its `file:line:column`. Show them to the user.
    pub notes: Vec<String>,
    /// The root element's logging attributes, for the outputs to honour.
    pub log: LogOptions,
    /// `file_server` files the run needs and that do not exist: a plan can still be
    /// shown, but a run refuses to start.
    pub missing_files: Vec<PathBuf>,
}

/// The `<tsung loglevel dumptraffic backend>` attributes, with Tsung's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogOptions {
    pub backend: Backend,
    /// Tsung's level name as written (`emergency` … `debug`; default `notice`).
    pub loglevel: String,
    pub dumptraffic: DumpTraffic,
    /// How often Tsung writes its statistics. The XML cannot set it (it is the
    /// `dumpstats_interval` of Tsung's application environment), so this is always
    /// Tsung's 10 s; it is here so the JSON log writer need not hard-code it.
    pub dump_interval: Duration,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            backend: Backend::Text,
            loglevel: "notice".into(),
            dumptraffic: DumpTraffic::False,
            dump_interval: Duration::from_secs(10),
        }
    }
}

/// Tsung's statistics backend (`backend="json"` is what the original benchmark used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Backend {
    Text,
    Json,
    Rrdtool,
    Fullstats,
}

impl Backend {
    /// The attribute value as Tsung spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Text => "text",
            Backend::Json => "json",
            Backend::Rrdtool => "rrdtool",
            Backend::Fullstats => "fullstats",
        }
    }
}

/// Tsung's `dumptraffic`: `protocol` is a per-request CSV log, the others dump bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DumpTraffic {
    False,
    True,
    Light,
    Protocol,
    ProtocolLocal,
}

impl DumpTraffic {
    /// The attribute value as Tsung spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DumpTraffic::False => "false",
            DumpTraffic::True => "true",
            DumpTraffic::Light => "light",
            DumpTraffic::Protocol => "protocol",
            DumpTraffic::ProtocolLocal => "protocol_local",
        }
    }
}

/// Why a Tsung file cannot be run. Every variant but [`TsungError::Read`] names the
/// element's position; the message says what was expected, so the user can fix the
/// file without opening the manual.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsungError {
    /// The file could not be read at all.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not well-formed XML (unclosed element, bad entity, ...): fix the syntax there.
    #[error("{at}: malformed XML: {message}")]
    Syntax { at: Position, message: String },
    /// An element outside the HTTP subset; `supported` lists what may stand there.
    #[error("{at}: <{element}> is not supported ({supported})")]
    Unsupported {
        at: Position,
        element: String,
        supported: String,
    },
    /// An attribute wsgibench does not know, or a value it cannot honour (for
    /// example dynamic substitution); `reason` says why and what to use instead.
    #[error("{at}: <{element} {attribute}=\"{value}\"> is not supported ({reason})")]
    UnsupportedAttribute {
        at: Position,
        element: String,
        attribute: String,
        value: String,
        reason: String,
    },
    /// An attribute value outside what Tsung allows (`expected` says what it allows).
    #[error("{at}: <{element} {attribute}=\"{value}\">: expected {expected}")]
    BadValue {
        at: Position,
        element: String,
        attribute: String,
        value: String,
        expected: String,
    },
    /// A required attribute or child is missing, or parts of the file contradict each
    /// other (e.g. session probabilities that do not sum to 100).
    #[error("{at}: <{element}>: {message}")]
    Invalid {
        at: Position,
        element: String,
        message: String,
    },
}

/// Reads and converts a Tsung file; errors name it as given.
pub fn parse_file(path: &Path) -> Result<TsungImport, TsungError> {
    let text = std::fs::read_to_string(path).map_err(|source| TsungError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let src = tree::Source::new(&name, &text);
    let root = tree::parse(&src)?;
    // Tsung reads file_server paths from its working directory; a file moved with its
    // data next to it is the common case, so a relative path starts at the file.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    convert::convert(&src, &root, Some(dir.unwrap_or(Path::new("."))))
}

/// Converts the text of a Tsung file; `file_name` is only used in messages.
pub fn parse_str(xml: &str, file_name: &str) -> Result<TsungImport, TsungError> {
    let src = tree::Source::new(file_name, xml);
    let root = tree::parse(&src)?;
    convert::convert(&src, &root, None)
}
