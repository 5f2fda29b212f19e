//! The XML file as a small element tree that remembers where each element starts.
//!
//! Tsung files are tiny (a few hundred lines), so reading them whole into a tree costs
//! nothing and lets the converter look at an element's children in any order (Tsung's
//! `<repeat>` and `<options>` rules need that) while every error can still name the
//! exact line and column of the element it is about. quick-xml only reports byte
//! offsets; [`Source`] turns them into the `file:line:column` people click on.

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::TsungError;

/// Where something is in the file, as editors and compilers print it (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The file's text and name, to turn byte offsets into positions.
pub(crate) struct Source<'a> {
    file: &'a str,
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Source<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            file,
            text,
            line_starts,
        }
    }

    pub(crate) fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        // Columns count characters, not bytes, so a user agent in UTF-8 earlier on the
        // line does not shift the column an editor shows.
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Position {
            file: self.file.to_string(),
            line: line + 1,
            column,
        }
    }
}

/// One element: its name, attributes (unescaped, in file order), children, text, and
/// the byte offset of its `<`.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: String,
    pub offset: usize,
}

impl Node {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the whole document into a tree. The DOCTYPE, comments and processing
/// instructions are skipped: Tsung's DTD only matters to its own validator, and our
/// converter checks the same rules with better messages.
pub(crate) fn parse(src: &Source<'_>) -> Result<Node, TsungError> {
    let mut reader = Reader::from_str(src.text);
    // `<a/>` becomes `<a></a>` so there is one code path for both spellings.
    reader.config_mut().expand_empty_elements = true;
    let syntax = |offset: u64, message: String| TsungError::Syntax {
        at: src.position(offset as usize),
        message,
    };

    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        // Whitespace is its own Text event (text is not trimmed), so the offset before
        // reading a Start event is exactly its `<`.
        let before = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let node = start_node(&e, before as usize).map_err(|m| syntax(before, m))?;
                if stack.is_empty() && root.is_some() {
                    return Err(syntax(before, "a second root element".into()));
                }
                stack.push(node);
            }
            Ok(Event::End(_)) => {
                let node = stack.pop().expect("quick-xml checks end names");
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Ok(Event::Text(t)) => {
                let text = t.unescape().map_err(|e| syntax(before, e.to_string()))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(syntax(before, "text outside the root element".into())),
                }
            }
            Ok(Event::CData(c)) => {
                let text = String::from_utf8_lossy(&c);
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(syntax(reader.error_position(), e.to_string())),
        }
    }
    if let Some(open) = stack.last() {
        return Err(TsungError::Syntax {
            at: src.position(open.offset),
            message: format!("<{}> is never closed", open.name),
        });
    }
    root.ok_or_else(|| TsungError::Syntax {
        at: src.position(0),
        message: "no root element".into(),
    })
}

fn start_node(e: &BytesStart<'_>, offset: usize) -> Result<Node, String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        // XML normalizes literal tabs and line breaks in attribute values to spaces
        // (only `&#10;` and friends survive); Tsung's parser (xmerl) does, so a
        // `contents` body written over several lines is sent on one line by both.
        let raw = std::str::from_utf8(&attr.value).map_err(|e| e.to_string())?;
        let normalized = raw.replace("\r\n", "\n").replace(['\t', '\n', '\r'], " ");
        let value = quick_xml::escape::unescape(&normalized).map_err(|e| e.to_string())?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Node {
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let text = "ab\n  é<x/>\n";
        let src = Source::new("f.xml", text);
        assert_eq!(src.position(0).to_string(), "f.xml:1:1");
        let x = text.find("<x").unwrap();
        assert_eq!(src.position(x).to_string(), "f.xml:2:4");
    }

    #[test]
    fn elements_know_where_they_start() {
        let text = "<?xml version=\"1.0\"?>\n<!DOCTYPE tsung SYSTEM \"x.dtd\">\n<a>\n  <b k=\"1 &amp; 2\"/>\n</a>\n";
        let src = Source::new("f.xml", text);
        let root = parse(&src).unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(src.position(root.offset).to_string(), "f.xml:3:1");
        let b = &root.children[0];
        assert_eq!(b.attr("k"), Some("1 & 2"));
        assert_eq!(src.position(b.offset).to_string(), "f.xml:4:3");
    }

    #[test]
    fn malformed_xml_is_reported_with_a_position() {
        let src = Source::new("f.xml", "<a>\n  <b>\n</a>\n");
        let err = parse(&src).unwrap_err().to_string();
        assert!(err.starts_with("f.xml:3:"), "{err}");
    }
}
