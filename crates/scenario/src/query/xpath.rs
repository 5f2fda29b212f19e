//! The XPath subset of `<dyn_variable xpath=".."/>`, run over an answer as it streams.
//!
//! Tsung evaluates these with mochiweb's XPath over a parsed tree. Scenarios use a
//! small corner of XPath: a token in an XML answer
//! (`/tokenCreationResponse/tokenInfo/token/text()`, Tsung's http-oauth example) or a
//! hidden form field in a page (`//input[@name='csrf']/@value`). That corner needs no
//! tree: each open element carries the set of path steps it has matched so far, so one
//! pass of quick-xml over the body finds the first match and stops there. An answer is
//! never held twice in memory, and a token near the top of a large page costs little.
//!
//! What is read, and why each rule:
//! - Names match the local name (`/feed/entry` matches `<atom:feed>`), or the prefixed
//!   name when the step is written with a prefix: Tsung's evaluator ignores namespaces
//!   too, and an XHTML page's default namespace would otherwise hide every element.
//! - A document whose root element is `html` is read as HTML written as XML: the void
//!   elements (`<input>`, `<br>`, `<meta>`...) need no closing tag, names compare
//!   without case, and an end tag closes the elements left open inside it, as a browser
//!   does. Any other document must be well-formed XML up to its first match.
//! - `text()` gives the first text child that is not only whitespace: the indentation
//!   between tags is layout, never the value a scenario is after.
//! - An element without `text()` or `@attr` gives its string-value (all the text inside
//!   it, as XPath's `string()`).
//! - Entities: XML's five and character references are decoded; any other (`&nbsp;`)
//!   is left as written.
//! - A document that is malformed before the first match gives `None`; the read stops
//!   at the match, so trouble after it goes unseen.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

const SUBSET: &str = "wsgibench reads absolute paths (/a/b), descendants (//a), *, \
     a position [n] counted from 1, an attribute test [@k='v'], and a final text() or @attr";

/// Steps are tracked as bits of a `u64`: bit `j` set means "matched the first `j`
/// steps". 63 steps is far beyond any path a person writes.
const MAX_STEPS: usize = 63;

/// A parsed XPath expression; see the module doc for the subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XPath {
    steps: Vec<Step>,
    target: Target,
    /// Position predicates each count siblings in their own slot of the parent.
    slots: usize,
    /// Bit `j` set when step `j` is a descendant step (`//`).
    descendant_steps: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    descendant: bool,
    name: NameTest,
    predicates: Vec<Predicate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NameTest {
    Any,
    Named(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Predicate {
    Position { n: u32, slot: usize },
    Attribute { name: String, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    StringValue,
    Text,
    Attribute(String),
}

impl XPath {
    /// Reads an expression, refusing what the subset does not hold with a message that
    /// names the part and the subset: a path that silently matched nothing would only
    /// show up as wrong requests in the middle of a run.
    pub fn parse(expr: &str) -> Result<XPath, String> {
        let src = expr.trim();
        if src.is_empty() {
            return Err(format!("the XPath is empty; {SUBSET}"));
        }
        if !src.starts_with('/') {
            return Err(format!(
                "XPath `{src}` is relative: start it with / or //; {SUBSET}"
            ));
        }
        let mut steps = Vec::new();
        let mut target = Target::StringValue;
        let mut slots = 0;
        let mut rest = src;
        while !rest.is_empty() {
            if target != Target::StringValue {
                return Err(format!(
                    "XPath `{src}`: nothing may follow text() or @attr; {SUBSET}"
                ));
            }
            let descendant = rest.starts_with("//");
            rest = &rest[if descendant { 2 } else { 1 }..];
            let end = step_end(rest);
            let text = &rest[..end];
            rest = &rest[end..];
            if text.is_empty() {
                let why = if descendant {
                    "///"
                } else {
                    "a trailing or doubled /"
                };
                return Err(format!("XPath `{src}`: {why} names no element; {SUBSET}"));
            }
            let last_kind = if text == "text()" {
                Some(Target::Text)
            } else if let Some(name) = text.strip_prefix('@') {
                if !is_name(name) {
                    return Err(unsupported(src, text));
                }
                Some(Target::Attribute(name.to_string()))
            } else {
                None
            };
            match last_kind {
                Some(kind) => {
                    if descendant || steps.is_empty() {
                        return Err(format!(
                            "XPath `{src}`: {text} must follow an element step with a single /, as in //a/{text}; {SUBSET}"
                        ));
                    }
                    target = kind;
                }
                None => steps.push(parse_step(src, text, descendant, &mut slots)?),
            }
        }
        if steps.len() > MAX_STEPS {
            return Err(format!(
                "XPath `{src}` has {} steps; at most {MAX_STEPS} are read",
                steps.len()
            ));
        }
        let descendant_steps = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.descendant)
            .fold(0u64, |bits, (j, _)| bits | 1 << j);
        Ok(XPath {
            steps,
            target,
            slots,
            descendant_steps,
        })
    }

    /// The first match in document order, as text; `None` when nothing matches or the
    /// document breaks before a match.
    pub fn first(&self, document: &[u8]) -> Option<String> {
        let mut reader = Reader::from_reader(document);
        let config = reader.config_mut();
        // End tags are checked here instead: HTML's void elements have none.
        config.check_end_names = false;
        config.allow_unmatched_ends = true;

        let mut stack = vec![Frame {
            name: Vec::new(),
            states: 1,
            descendants: 1 & self.descendant_steps,
            counts: vec![0; self.slots],
            matched: false,
        }];
        let all = 1u64 << self.steps.len();
        let mut html: Option<bool> = None;
        // The stack index of the element whose string-value is being gathered.
        let mut capture: Option<(usize, String)> = None;
        // text(): the current text node of a matched element, until it ends.
        let mut pending: Option<String> = None;
        loop {
            let event = reader.read_event().ok()?;
            // A text node cut by the end of the document is not a whole value.
            if !matches!(event, Event::Text(_) | Event::CData(_) | Event::Eof) {
                if let Some(text) = pending.take() {
                    if !text.trim().is_empty() {
                        return Some(text);
                    }
                }
            }
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let is_html = *html.get_or_insert_with(|| {
                        e.local_name().as_ref().eq_ignore_ascii_case(b"html")
                    });
                    let closed = matches!(event, Event::Empty(_))
                        || (is_html && is_void(e.local_name().as_ref()));
                    let index = stack.len();
                    let parent = stack.last_mut()?;
                    let states = self.enter(parent, e, is_html)?;
                    let matched = states & all != 0;
                    if matched {
                        match &self.target {
                            Target::Attribute(name) => {
                                if let Some(value) = attribute(e, name, is_html)? {
                                    return Some(value);
                                }
                            }
                            Target::StringValue if capture.is_none() => {
                                if closed {
                                    return Some(String::new());
                                }
                                capture = Some((index, String::new()));
                            }
                            Target::StringValue | Target::Text => {}
                        }
                    }
                    if !closed {
                        let descendants = parent.descendants | (states & self.descendant_steps);
                        stack.push(Frame {
                            name: e.name().as_ref().to_vec(),
                            states,
                            descendants,
                            counts: vec![0; self.slots],
                            matched,
                        });
                    }
                }
                Event::End(ref e) => {
                    let name = e.name();
                    let name = name.as_ref();
                    let is_html = html.unwrap_or(false);
                    let open = if is_html {
                        if is_void(e.local_name().as_ref()) {
                            continue;
                        }
                        // Close what was left open inside; ignore an end nothing opened.
                        match stack
                            .iter()
                            .rposition(|f| f.name.eq_ignore_ascii_case(name))
                        {
                            Some(at) if at > 0 => at,
                            _ => continue,
                        }
                    } else {
                        let at = stack.len() - 1;
                        if at == 0 || stack[at].name != name {
                            return None;
                        }
                        at
                    };
                    while stack.len() > open {
                        stack.pop();
                        if capture.as_ref().is_some_and(|(i, _)| *i == stack.len()) {
                            return capture.map(|(_, text)| text);
                        }
                    }
                }
                Event::Text(ref t) => {
                    let text = decode(t.as_ref());
                    self.take_text(&text, &stack, &mut capture, &mut pending);
                }
                Event::CData(ref t) => {
                    let text = String::from_utf8_lossy(t.as_ref());
                    self.take_text(&text, &stack, &mut capture, &mut pending);
                }
                Event::Eof => return None,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }

    /// The steps element `e` matches, given its parent; counts it among the parent's
    /// children for the position predicates. `None` when its attributes are malformed.
    fn enter(&self, parent: &mut Frame, e: &BytesStart, html: bool) -> Option<u64> {
        let mut states = 0u64;
        for (j, step) in self.steps.iter().enumerate() {
            let reach = if step.descendant {
                parent.descendants
            } else {
                parent.states
            };
            if reach >> j & 1 == 0 || !step.name.matches(e, html) {
                continue;
            }
            let mut ok = true;
            for predicate in &step.predicates {
                match predicate {
                    Predicate::Attribute { name, value } => {
                        if attribute(e, name, html)?.as_deref() != Some(value.as_str()) {
                            ok = false;
                            break;
                        }
                    }
                    Predicate::Position { n, slot } => {
                        let count = parent.counts.get_mut(*slot)?;
                        *count = count.saturating_add(1);
                        if *count != *n {
                            ok = false;
                            break;
                        }
                    }
                }
            }
            if ok {
                states |= 1 << (j + 1);
            }
        }
        Some(states)
    }

    fn take_text(
        &self,
        text: &str,
        stack: &[Frame],
        capture: &mut Option<(usize, String)>,
        pending: &mut Option<String>,
    ) {
        if let Some((_, gathered)) = capture.as_mut() {
            gathered.push_str(text);
        }
        if self.target == Target::Text && stack.last().is_some_and(|f| f.matched) {
            pending.get_or_insert_with(String::new).push_str(text);
        }
    }
}

/// One open element during the stream.
struct Frame {
    /// The qualified name as written, to pair the end tag with it.
    name: Vec<u8>,
    /// Bit `j`: this element is where the first `j` steps end.
    states: u64,
    /// Bit `j`: this element or an ancestor is where the first `j` steps end, and step
    /// `j` is a `//` step, so it may match any element below.
    descendants: u64,
    /// Children counted so far, one slot per position predicate.
    counts: Vec<u32>,
    /// This element is a full match (its text children are `text()`'s candidates).
    matched: bool,
}

impl NameTest {
    fn matches(&self, e: &BytesStart, html: bool) -> bool {
        match self {
            NameTest::Any => true,
            NameTest::Named(name) => {
                same_name(e.name().as_ref(), e.local_name().as_ref(), name, html)
            }
        }
    }
}

/// `written` is compared with the qualified name when it has a prefix, else with the
/// local name.
fn same_name(qualified: &[u8], local: &[u8], written: &str, html: bool) -> bool {
    let have = if written.contains(':') {
        qualified
    } else {
        local
    };
    if html {
        have.eq_ignore_ascii_case(written.as_bytes())
    } else {
        have == written.as_bytes()
    }
}

/// The decoded value of attribute `name`: `Some(None)` when absent, `None` when the
/// tag's attributes cannot be read.
fn attribute(e: &BytesStart, name: &str, html: bool) -> Option<Option<String>> {
    for attr in e.html_attributes().with_checks(false) {
        let attr = attr.ok()?;
        if same_name(
            attr.key.as_ref(),
            attr.key.local_name().as_ref(),
            name,
            html,
        ) {
            return Some(Some(decode(&attr.value).into_owned()));
        }
    }
    Some(None)
}

/// Text as written in the document to text as meant: XML's entities and character
/// references decoded. An entity XML does not define is left as written rather than
/// losing the whole value.
fn decode(raw: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(raw) {
        Cow::Borrowed(s) => match quick_xml::escape::unescape(s) {
            Ok(text) => text,
            Err(_) => Cow::Borrowed(s),
        },
        Cow::Owned(s) => match quick_xml::escape::unescape(&s) {
            Ok(text) => Cow::Owned(text.into_owned()),
            Err(_) => Cow::Owned(s),
        },
    }
}

/// HTML's void elements: they never have content or an end tag.
fn is_void(local: &[u8]) -> bool {
    const VOID: &[&[u8]] = &[
        b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta",
        b"param", b"source", b"track", b"wbr",
    ];
    VOID.iter().any(|v| v.eq_ignore_ascii_case(local))
}

/// Where the step at the start of `rest` ends: the next `/` outside brackets and quotes.
fn step_end(rest: &str) -> usize {
    let mut depth = 0u32;
    let mut quote: Option<u8> = None;
    for (i, b) in rest.bytes().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'[') => depth += 1,
            (None, b']') => depth = depth.saturating_sub(1),
            (None, b'/') if depth == 0 => return i,
            _ => {}
        }
    }
    rest.len()
}

fn parse_step(src: &str, text: &str, descendant: bool, slots: &mut usize) -> Result<Step, String> {
    let name_end = text.find('[').unwrap_or(text.len());
    let name = &text[..name_end];
    let name = match name {
        "*" => NameTest::Any,
        n if is_name(n) => NameTest::Named(n.to_string()),
        _ => return Err(unsupported(src, name)),
    };
    let mut predicates = Vec::new();
    let mut rest = &text[name_end..];
    while !rest.is_empty() {
        if !rest.starts_with('[') {
            return Err(unsupported(src, rest));
        }
        let close = closing_bracket(rest)
            .ok_or_else(|| format!("XPath `{src}`: `{rest}` has no closing ]; {SUBSET}"))?;
        let inner = rest[1..close].trim();
        rest = &rest[close + 1..];
        predicates.push(parse_predicate(src, inner, slots)?);
    }
    Ok(Step {
        descendant,
        name,
        predicates,
    })
}

/// The `]` closing the `[` that starts `s`, outside quotes.
fn closing_bracket(s: &str) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, b) in s.bytes().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b']') => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_predicate(src: &str, inner: &str, slots: &mut usize) -> Result<Predicate, String> {
    if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
        let n: u32 = inner
            .parse()
            .map_err(|_| format!("XPath `{src}`: position [{inner}] is too large"))?;
        if n == 0 {
            return Err(format!(
                "XPath `{src}`: positions count from 1, so [0] never matches; {SUBSET}"
            ));
        }
        let slot = *slots;
        *slots += 1;
        return Ok(Predicate::Position { n, slot });
    }
    if let Some((name, value)) = inner.strip_prefix('@').and_then(|a| a.split_once('=')) {
        let name = name.trim();
        let value = value.trim();
        let quoted = value.len() >= 2
            && (value.starts_with('\'') && value.ends_with('\'')
                || value.starts_with('"') && value.ends_with('"'));
        if is_name(name) && quoted {
            let value = &value[1..value.len() - 1];
            if !value.contains(['\'', '"']) {
                return Ok(Predicate::Attribute {
                    name: name.to_string(),
                    value: value.to_string(),
                });
            }
        }
    }
    Err(unsupported(src, &format!("[{inner}]")))
}

/// An XML name, optionally prefixed: what a step or an attribute may be called.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        && !s.ends_with(':')
        && s.matches(':').count() <= 1
}

fn unsupported(src: &str, part: &str) -> String {
    format!("XPath `{src}`: `{part}` is not supported; {SUBSET}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(expr: &str, doc: &str) -> Option<String> {
        XPath::parse(expr).unwrap().first(doc.as_bytes())
    }

    /// Tsung's examples/http-oauth.xml extracts the request token with this path.
    #[test]
    fn tsungs_oauth_example_finds_the_token() {
        let doc = "<tokenCreationResponse><tokenInfo><token>abc</token>\
                   <tokenSecret>s3</tokenSecret></tokenInfo></tokenCreationResponse>";
        let token = "/tokenCreationResponse/tokenInfo/token/text()";
        assert_eq!(first(token, doc).as_deref(), Some("abc"));
        let secret = "/tokenCreationResponse/tokenInfo/tokenSecret/text()";
        assert_eq!(first(secret, doc).as_deref(), Some("s3"));
        assert_eq!(first("/tokenCreationResponse/token/text()", doc), None);
        assert_eq!(first("//token/text()", doc).as_deref(), Some("abc"));
    }

    #[test]
    fn a_hidden_field_is_read_from_a_page_with_unclosed_void_elements() {
        let page = r#"<!DOCTYPE html>
<HTML><head><meta charset="utf-8"><title>x</title></head>
<body><p>one<br>two</p>
<form><input type="hidden" name="csrf" value="a&amp;b&#x21;">
<input name="other" value="o"></form></body></HTML>"#;
        assert_eq!(
            first("//input[@name='csrf']/@value", page).as_deref(),
            Some("a&b!")
        );
        assert_eq!(first("//form/input[2]/@value", page).as_deref(), Some("o"));
        assert_eq!(first("/html/body/p", page).as_deref(), Some("onetwo"));
        assert_eq!(first("//title/text()", page).as_deref(), Some("x"));
    }

    #[test]
    fn positions_count_among_siblings_of_the_same_parent() {
        let doc = "<r><l><i>a</i><i>b</i></l><l><i>c</i><i>d</i><i>e</i></l></r>";
        assert_eq!(first("/r/l/i[2]/text()", doc).as_deref(), Some("b"));
        assert_eq!(first("/r/l[2]/i[3]/text()", doc).as_deref(), Some("e"));
        assert_eq!(first("//i[3]/text()", doc).as_deref(), Some("e"));
        assert_eq!(first("/r/*/i[1]/text()", doc).as_deref(), Some("a"));
        assert_eq!(first("/r/l[3]/i", doc), None);
    }

    #[test]
    fn an_attribute_test_then_a_position_counts_only_the_matching_siblings() {
        let doc = r#"<r><a k="x">1</a><a k="y">2</a><a k="y">3</a></r>"#;
        assert_eq!(first("/r/a[@k='y'][2]/text()", doc).as_deref(), Some("3"));
        assert_eq!(first(r#"/r/a[@k="x"]/@k"#, doc).as_deref(), Some("x"));
        assert_eq!(first("/r/a[@missing='x']", doc), None);
    }

    #[test]
    fn text_is_decoded_and_indentation_is_skipped() {
        let doc = "<a>\n  <b/>  x &lt; y &amp; &#233;<![CDATA[<z>]]><c/>tail</a>";
        assert_eq!(first("/a/text()", doc).as_deref(), Some("  x < y & é<z>"));
        assert_eq!(first("/a", doc).as_deref(), Some("\n    x < y & é<z>tail"));
        assert_eq!(first("/a/b", doc).as_deref(), Some(""));
        assert_eq!(first("/a/b/text()", doc), None);
        // An entity XML does not define stays as written.
        assert_eq!(
            first("/a/text()", "<a>&nbsp;1</a>").as_deref(),
            Some("&nbsp;1")
        );
    }

    #[test]
    fn names_match_with_or_without_their_prefix() {
        let doc = r#"<x:a xmlns:x="urn:x"><x:b id="7">1</x:b></x:a>"#;
        assert_eq!(first("/a/b/text()", doc).as_deref(), Some("1"));
        assert_eq!(first("/x:a/x:b/@id", doc).as_deref(), Some("7"));
        assert_eq!(first("/y:a/b", doc), None);
    }

    #[test]
    fn a_nested_match_comes_after_its_ancestor_in_document_order() {
        let doc = "<a><a>inner</a>outer</a>";
        assert_eq!(first("//a", doc).as_deref(), Some("innerouter"));
        assert_eq!(first("//a/text()", doc).as_deref(), Some("inner"));
    }

    #[test]
    fn a_document_broken_before_the_match_gives_none() {
        assert_eq!(first("/a/c/text()", "<a><b>x</a><c>1</c>"), None);
        assert_eq!(first("/a/b/text()", "<a><b"), None);
        assert_eq!(first("/a/b/text()", "<a><b>x"), None);
        assert_eq!(first("/a", "not xml at all"), None);
        assert_eq!(first("/a", ""), None);
        assert_eq!(first("/a/@k", "<a k=\"1></a>"), None);
        // The read stops at the match.
        assert_eq!(
            first("/a/b/text()", "<a><b>x</b><</a>").as_deref(),
            Some("x")
        );
    }

    #[test]
    fn what_the_subset_does_not_hold_is_named() {
        for (expr, part) in [
            ("a/b", "relative"),
            ("/a/../b", "`..`"),
            ("/a/following::b", "following::b"),
            ("/a[last()]", "[last()]"),
            ("/a[0]", "count from 1"),
            ("/a[@k]", "[@k]"),
            ("/a | /b", "`a | `"),
            ("/a/text()/b", "nothing may follow"),
            ("/a/@k/b", "nothing may follow"),
            ("//text()", "must follow an element"),
            ("/a[@k='v'", "no closing ]"),
            ("/a/", "trailing"),
            ("/a/count(b)", "count(b)"),
            ("", "empty"),
            ("/a[99999999999]", "too large"),
        ] {
            let e = XPath::parse(expr).unwrap_err();
            assert!(e.contains(part), "{expr}: {e}");
        }
        let e = XPath::parse("/a/../b").unwrap_err();
        assert!(e.contains("[@k='v']"), "the subset is listed: {e}");
        assert!(XPath::parse(&"/a".repeat(64)).is_err());
        assert!(XPath::parse(&"/a".repeat(63)).is_ok());
    }
}
