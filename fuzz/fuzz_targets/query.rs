//! Fuzz target: the extraction expressions of Tsung's dynamic sessions and the
//! answers they read (`scenario::query::JsonPath`, `scenario::query::XPath`) and the
//! digest challenge reader (`scenario::auth::challenge_field`).
//!
//! Input layout: an expression, a newline, then an answer's bytes. The expression is
//! parsed as a jsonpath and as an XPath; each one that parses is run over the answer
//! (the path a `<dyn_variable>` takes at run time, on a worker, for every answer). The
//! answer, when it is UTF-8, is also read as a `WWW-Authenticate` value for the field
//! the expression names.
//!
//! Besides "no panic, no hang, no allocation sized by the input": a parse error says
//! something; a value found is never longer than the answer it came from (unquoting
//! and unescaping only shorten); the same call twice gives the same answer.

fn check(data: &[u8]) {
    let (expr, answer) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(expr) = std::str::from_utf8(expr) else {
        return;
    };
    match scenario::query::JsonPath::parse(expr) {
        Ok(path) => {
            // No length bound here: a number's JSON text may be longer than the number
            // as written (1e2 is 100.0).
            let found = path.first_in(answer);
            assert_eq!(
                found,
                path.first_in(answer),
                "jsonpath {expr:?} is not a function"
            );
        }
        Err(e) => assert!(!e.is_empty()),
    }
    match scenario::query::XPath::parse(expr) {
        Ok(path) => {
            let found = path.first(answer);
            if let Some(v) = &found {
                assert!(
                    v.len() <= answer.len(),
                    "xpath {expr:?} found {} bytes in an answer of {}",
                    v.len(),
                    answer.len()
                );
            }
            assert_eq!(
                found,
                path.first(answer),
                "xpath {expr:?} is not a function"
            );
        }
        Err(e) => assert!(!e.is_empty()),
    }
    if let Ok(header) = std::str::from_utf8(answer) {
        if let Some(v) = scenario::auth::challenge_field(header, expr) {
            assert!(v.len() <= header.len(), "{expr:?} in {header:?} gave {v:?}");
        }
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
