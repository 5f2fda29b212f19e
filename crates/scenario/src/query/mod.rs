//! Extraction expressions: how a Tsung session pulls a value out of one answer to put
//! it in the next request (`<dyn_variable xpath=".."/>` and `jsonpath=".."`).
//!
//! Both are parsed once, when the scenario is read, so a typo is reported with the
//! file instead of silently extracting nothing at run time; evaluating one is then a
//! pure function of the answer's body, testable without a server.
//!
//! - [`XPath`]: the subset of XPath 1.0 Tsung users write, evaluated by streaming the
//!   document through quick-xml (no tree is built: the first match ends the read).
//! - [`JsonPath`]: Tsung's own small JSONPath dialect (dotted keys, indexes, `*` and
//!   `[?key=value]`), evaluated over a `serde_json::Value`.
//!
//! Both return the *first* match as text. Where Tsung would bind a list (a `*` or a
//! filter matching several items), we bind its first item: a request template takes
//! one value, and the first is the one Tsung users rely on.

mod jsonpath;
mod xpath;

pub use jsonpath::JsonPath;
pub use xpath::XPath;
