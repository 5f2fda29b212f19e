//! The pieces of Tsung's dynamic sessions on arbitrary input: each parse or apply
//! function returns a value or an error, never panics.
//!
//! They run on what a server answers, which a load test does not choose: a truncated
//! page, a binary body, a header cut in the middle of a quoted string. Each property
//! feeds two kinds of input: any string or bytes, and a soup of the syntax the
//! function reads (path tokens, tags, quotes, brackets), so the parsers' inner rules
//! are reached and not only their first check.
//!
//! Contents:
//! - query: `XPath` and `JsonPath`, their parse and their evaluation.
//! - auth (the `auth` module below): Digest's `challenge_field` and `authorization`,
//!   OAuth's base string and signature.

use proptest::prelude::*;

use scenario::query::{JsonPath, XPath};

/// A string of the tokens XPath and JSONPath are made of.
fn path_soup() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "/", "//", "a", "b", "*", "[", "]", "1", "0", "2", "@", "k", "=", "'v'", "\"v\"", "text()",
        ".", "..", "$", "$.", "?", "é", ":", "::", " ", "(", ")", "-", ",",
    ]);
    prop::collection::vec(tokens, 0..14).prop_map(|t| t.concat())
}

/// A document of tags, text, entities and stray markup.
fn markup_soup() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "<a>",
        "</a>",
        "<b k='v'>",
        "</b>",
        "<a/>",
        "<html>",
        "</html>",
        "<br>",
        "</br>",
        "<input name=\"k\" value=\"1\">",
        "x",
        " ",
        "&amp;",
        "&#233;",
        "&nope;",
        "&#0;",
        "<![CDATA[c]]>",
        "<!-- c -->",
        "<?pi?>",
        "<",
        ">",
        "\"",
        "'",
        "<x:a>",
        "</x:a>",
        "é",
        "<!DOCTYPE html>",
    ]);
    prop::collection::vec(tokens, 0..24).prop_map(|t| t.concat())
}

/// A JSON-ish body: real JSON fragments mixed with broken ones.
fn json_soup() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "\"a\"",
        "\"b\"",
        ":",
        ",",
        "1",
        "-0.5e3",
        "true",
        "null",
        "\"k\":\"v\"",
        "\"\\u00e9\"",
        " ",
        "\u{feff}",
    ]);
    prop::collection::vec(tokens, 0..24).prop_map(|t| t.concat())
}

proptest! {
    #[test]
    fn xpath_never_panics(expr in prop_oneof![any::<String>(), path_soup()],
                          doc in prop_oneof![markup_soup(), any::<String>()],
                          bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(path) = XPath::parse(&expr) {
            let _ = path.first(doc.as_bytes());
            let _ = path.first(&bytes);
        }
    }

    #[test]
    fn xpath_that_parses_runs_on_markup(expr in path_soup(), doc in markup_soup()) {
        for e in [expr.clone(), format!("/{expr}"), format!("//{expr}")] {
            if let Ok(path) = XPath::parse(&e) {
                let _ = path.first(doc.as_bytes());
            }
        }
    }

    #[test]
    fn jsonpath_never_panics(expr in prop_oneof![any::<String>(), path_soup()],
                             body in prop_oneof![json_soup(), any::<String>()],
                             bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(path) = JsonPath::parse(&expr) {
            let _ = path.first_in(body.as_bytes());
            let _ = path.first_in(&bytes);
        }
    }

    #[test]
    fn jsonpath_that_parses_runs_on_json(expr in path_soup(),
                                         value in json_value()) {
        if let Ok(path) = JsonPath::parse(&expr) {
            let _ = path.first(&value);
        }
    }
}

/// Real JSON values, a few levels deep, with the keys the path soup names.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec!["v", "a", "1", ""]).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec!["a", "b", "k", "0", "1", "*"]),
                    inner
                ),
                0..4
            )
            .prop_map(|members| Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect()
            )),
        ]
    })
}

mod auth {
    use proptest::prelude::*;
    use scenario::auth::{
        challenge_field, hmac_sha1_signature, signature_base_string, Digest, DigestAlgorithm, OAuth,
    };

    /// A header of the pieces challenges are made of.
    fn header_soup() -> impl Strategy<Value = String> {
        let tokens = prop::sample::select(vec![
            "Digest", "Basic", " ", ",", "=", "\"", "\\", "realm", "nonce", "qop", "auth",
            "\"x, y\"", "é", "\t", "=\"", "\\\"",
        ]);
        prop::collection::vec(tokens, 0..16).prop_map(|t| t.concat())
    }

    /// A URL of the pieces the base string URI is cut from.
    fn url_soup() -> impl Strategy<Value = String> {
        let tokens = prop::sample::select(vec![
            "http", "HTTPS", "://", "h", "[::1]", ":", "80", "@", "/", "?", "#", "&", "=", "%",
            "%4", "%41", "+", "é", "[", "]",
        ]);
        prop::collection::vec(tokens, 0..14).prop_map(|t| t.concat())
    }

    proptest! {
        #[test]
        fn challenge_field_never_panics(header in prop_oneof![any::<String>(), header_soup()],
                                        field in prop_oneof![any::<String>(), Just("nonce".to_string())]) {
            let _ = challenge_field(&header, &field);
        }

        #[test]
        fn digest_never_panics(words in prop::collection::vec(any::<String>(), 9),
                               nc in any::<u32>(), sess in any::<bool>(), some in any::<bool>()) {
            let opt = |s: &String| some.then(|| s.clone());
            let d = Digest {
                user: words[0].clone(),
                password: words[1].clone(),
                realm: words[2].clone(),
                nonce: words[3].clone(),
                qop: opt(&words[4]).or(Some("auth".into())),
                cnonce: opt(&words[5]),
                nc,
                opaque: opt(&words[6]),
                algorithm: if sess { DigestAlgorithm::Md5Sess } else { DigestAlgorithm::Md5 },
            };
            let h = d.authorization(&words[7], &words[8]);
            // What went into a quoted field comes back out of it.
            prop_assert_eq!(challenge_field(&h, "username"), Some(words[0].clone()));
        }

        #[test]
        fn oauth_never_panics(url in prop_oneof![any::<String>(), url_soup()],
                              body in prop::option::of(prop::collection::vec(any::<u8>(), 0..32)),
                              words in prop::collection::vec(any::<String>(), 5),
                              timestamp in any::<u64>()) {
            let client = OAuth {
                consumer_key: words[0].clone(),
                consumer_secret: words[1].clone(),
                token: Some(words[2].clone()),
                token_secret: None,
            };
            let _ = client.authorization(&words[3], &url, body.as_deref(), &words[4], timestamp);
            let base = signature_base_string(&words[3], &url, body.as_deref(), &[(&words[4], &words[0])]);
            let _ = hmac_sha1_signature(&base, &words[1], &words[2]);
        }
    }
}
