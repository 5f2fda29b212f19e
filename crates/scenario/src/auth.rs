//! The `Authorization` headers of Tsung's `<www_authenticate type="digest">` and
//! `<oauth>`, computed as pure functions of their inputs.
//!
//! Both depend on values known only at run time (the server's nonce, the request's
//! URL, a fresh OAuth nonce and clock), so the engine computes them per request. They
//! live here, without I/O, clock or randomness, because a wrong digest or signature
//! shows up only as a 401 from the server: the published worked examples in the
//! tests below are the one way to know the bytes are right.
//!
//! - [`Digest`]: HTTP Digest (RFC 2617, RFC 7616's MD5 algorithms), `qop=auth` or none.
//! - [`challenge_field`]: one field of a `WWW-Authenticate` or `Authentication-Info`
//!   header, what Tsung's `<dyn_variable header="www-authenticate/nonce">` binds.
//! - [`OAuth`]: OAuth 1.0a HMAC-SHA1 request signing (RFC 5849), with
//!   [`signature_base_string`] and [`hmac_sha1_signature`] exposed for their vectors.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Digest as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// The credentials and server values of one Digest exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub user: String,
    pub password: String,
    pub realm: String,
    /// The server's nonce, usually bound from its challenge with [`challenge_field`].
    pub nonce: String,
    /// The `qop` the server offered (`auth`, or a list such as `auth,auth-int`).
    /// `auth` is used when offered; without it the answer is RFC 2069's, without qop:
    /// `auth-int` (a hash of the body) is not supported.
    pub qop: Option<String>,
    /// The client nonce. `None` derives one from the nonce, `nc` and user: a load
    /// test against its own server gains nothing from an unpredictable one, and a
    /// derived one keeps this function pure. (Tsung's default is a unique id.)
    pub cnonce: Option<String>,
    /// How many requests this nonce has signed, from 1; sent as 8 hex digits.
    pub nc: u32,
    pub opaque: Option<String>,
    pub algorithm: DigestAlgorithm,
}

/// The `algorithm` of a Digest challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DigestAlgorithm {
    /// RFC 2617's default, and Tsung's only one.
    #[default]
    Md5,
    /// The session variant: the password hash is mixed with both nonces once.
    Md5Sess,
}

impl DigestAlgorithm {
    /// Reads a challenge's `algorithm` value; `None` for one we cannot answer
    /// (RFC 7616's SHA-256 variants).
    pub fn parse(s: &str) -> Option<DigestAlgorithm> {
        if s.eq_ignore_ascii_case("MD5") {
            Some(DigestAlgorithm::Md5)
        } else if s.eq_ignore_ascii_case("MD5-sess") {
            Some(DigestAlgorithm::Md5Sess)
        } else {
            None
        }
    }
}

impl Digest {
    /// The `Authorization` header value (after `Authorization: `) for a request of
    /// `method` on `uri`, the request-target as sent (e.g. `/dir/index.html?x=1`).
    pub fn authorization(&self, method: &str, uri: &str) -> String {
        let qop = self.qop.as_deref().and_then(|offered| {
            offered
                .split(',')
                .map(str::trim)
                .find(|q| q.eq_ignore_ascii_case("auth"))
        });
        let nc = format!("{:08x}", self.nc);
        let cnonce = match &self.cnonce {
            Some(c) => c.clone(),
            None => md5_hex(&format!("{}:{}:{}", self.nonce, nc, self.user))[..16].to_string(),
        };
        let mut ha1 = md5_hex(&format!("{}:{}:{}", self.user, self.realm, self.password));
        if self.algorithm == DigestAlgorithm::Md5Sess {
            ha1 = md5_hex(&format!("{ha1}:{}:{cnonce}", self.nonce));
        }
        let ha2 = md5_hex(&format!("{method}:{uri}"));
        let response = match qop {
            Some(_) => md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce)),
            None => md5_hex(&format!("{ha1}:{}:{ha2}", self.nonce)),
        };
        let mut out = format!(
            "Digest username={}, realm={}, nonce={}, uri={}",
            quoted(&self.user),
            quoted(&self.realm),
            quoted(&self.nonce),
            quoted(uri)
        );
        if self.algorithm == DigestAlgorithm::Md5Sess {
            out.push_str(", algorithm=MD5-sess");
        }
        if qop.is_some() {
            out.push_str(&format!(", qop=auth, nc={nc}, cnonce={}", quoted(&cnonce)));
        } else if self.algorithm == DigestAlgorithm::Md5Sess {
            out.push_str(&format!(", cnonce={}", quoted(&cnonce)));
        }
        out.push_str(&format!(", response=\"{response}\""));
        if let Some(opaque) = &self.opaque {
            out.push_str(&format!(", opaque={}", quoted(opaque)));
        }
        out
    }
}

/// A quoted-string (RFC 9110): `"` and `\` escaped. CR and LF are left for
/// [`crate::Request::check`] to refuse, since no quoting makes them safe.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn md5_hex(s: &str) -> String {
    hex(&md5::Md5::digest(s.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// One field of a `WWW-Authenticate` (`Digest realm="x", nonce="y", qop="auth"`) or
/// `Authentication-Info` (`nextnonce="z", qop=auth`) header value: the name compared
/// without case, the value unquoted (token or quoted-string, commas and escaped
/// quotes inside quotes kept). When the header holds several challenges
/// (`Basic realm="a", Digest realm="b"`), the Digest one's field wins: that is the
/// scheme Tsung answers. `None` when the field is absent.
///
/// Tsung's own reader (`ts_search:parse_header`) splits on every comma, quoted or
/// not, and drops the header's first word as its scheme, so it misses a realm with a
/// comma and an `Authentication-Info` whose first field is `nextnonce`. We read both:
/// a header Tsung reads gives the same value here.
pub fn challenge_field(header_value: &str, field: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for (scheme, name, value) in auth_params(header_value) {
        if !name.eq_ignore_ascii_case(field) {
            continue;
        }
        match scheme {
            Some(other) if !other.eq_ignore_ascii_case("Digest") => {
                found.get_or_insert(value);
            }
            _ => return Some(value),
        }
    }
    found
}

/// The `name=value` parameters of an authentication header, each with the scheme
/// it follows (`None` before any scheme, as in `Authentication-Info`).
fn auth_params(header: &str) -> Vec<(Option<&str>, &str, String)> {
    let bytes = header.as_bytes();
    let mut out = Vec::new();
    let mut scheme: Option<&str> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b',' || b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_tchar(bytes[i]) {
            i += 1;
        }
        if i == start {
            // Not a token: skip to the next comma outside quotes.
            i = skip_value(bytes, i).0;
            continue;
        }
        let token = &header[start..i];
        let mut j = i;
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'=' {
            j += 1;
            while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                j += 1;
            }
            let (end, value) = skip_value(bytes, j);
            out.push((scheme, token, value));
            i = end;
        } else {
            scheme = Some(token);
        }
    }
    out
}

/// Reads a value at `i` (a quoted-string or everything up to the next comma or
/// space) and returns where it ends and its unquoted text.
fn skip_value(bytes: &[u8], mut i: usize) -> (usize, String) {
    let mut value = Vec::new();
    if i < bytes.len() && bytes[i] == b'"' {
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            if bytes[i] == b'\\' && i + 1 < bytes.len() {
                i += 1;
            }
            value.push(bytes[i]);
            i += 1;
        }
        i += 1; // the closing quote, or past the end of an unterminated string
    } else {
        while i < bytes.len() && bytes[i] != b',' && !bytes[i].is_ascii_whitespace() {
            value.push(bytes[i]);
            i += 1;
        }
    }
    // Every byte pushed came from a &str, and an escape only skips an ASCII `\`.
    (i, String::from_utf8_lossy(&value).into_owned())
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The credentials of an OAuth 1.0a client, as Tsung's `<oauth consumer_key
/// consumer_secret access_token access_token_secret>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth {
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The access (or request) token; `None` while getting a request token.
    pub token: Option<String>,
    pub token_secret: Option<String>,
}

impl OAuth {
    /// The `Authorization` header value for one request, signed with HMAC-SHA1.
    /// `url` is absolute, with its query; `form_body` is the body when it is
    /// `application/x-www-form-urlencoded` (its parameters are signed too, RFC 5849
    /// section 3.4.1.3.1). `nonce` and `timestamp` come from the caller, which owns
    /// randomness and the clock.
    pub fn authorization(
        &self,
        method: &str,
        url: &str,
        form_body: Option<&[u8]>,
        nonce: &str,
        timestamp: u64,
    ) -> String {
        let timestamp = timestamp.to_string();
        let mut params = vec![
            ("oauth_consumer_key", self.consumer_key.as_str()),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", timestamp.as_str()),
        ];
        if let Some(token) = &self.token {
            params.push(("oauth_token", token.as_str()));
        }
        params.push(("oauth_version", "1.0"));
        let base = signature_base_string(method, url, form_body, &params);
        let signature = hmac_sha1_signature(
            &base,
            &self.consumer_secret,
            self.token_secret.as_deref().unwrap_or(""),
        );
        // Sorted by name, the signature among them, as the brief and most servers'
        // logs show them; the order carries no meaning (RFC 5849 section 3.5.1).
        params.push(("oauth_signature", signature.as_str()));
        params.sort_by(|a, b| a.0.cmp(b.0));
        let fields: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", encode(v.as_bytes())))
            .collect();
        format!("OAuth {}", fields.join(", "))
    }
}

/// RFC 5849 section 3.4.1: the method in capitals, the base string URI and the
/// normalized parameters (query, form body and `oauth_params`, each decoded then
/// re-encoded and sorted), each encoded and joined with `&`.
pub fn signature_base_string(
    method: &str,
    url: &str,
    form_body: Option<&[u8]>,
    oauth_params: &[(&str, &str)],
) -> String {
    let (uri, query) = base_string_uri(url);
    let mut params: Vec<(String, String)> = Vec::new();
    for source in [query.map(str::as_bytes), form_body].into_iter().flatten() {
        for pair in source.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                None => (pair, &pair[..0]),
            };
            params.push((encode(&form_decode(name)), encode(&form_decode(value))));
        }
    }
    for (name, value) in oauth_params {
        params.push((encode(name.as_bytes()), encode(value.as_bytes())));
    }
    params.sort();
    let normalized: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(uri.as_bytes()),
        encode(normalized.join("&").as_bytes())
    )
}

/// RFC 5849 section 3.4.2: base64 of HMAC-SHA1 over the base string, keyed with
/// both secrets encoded and joined by `&` (the token secret may be empty).
pub fn hmac_sha1_signature(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!(
        "{}&{}",
        encode(consumer_secret.as_bytes()),
        encode(token_secret.as_bytes())
    );
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()) else {
        // HMAC takes a key of any length: this branch cannot run.
        return String::new();
    };
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// RFC 5849 section 3.4.1.2: scheme and host in lower case, the default port
/// dropped, no query or fragment. Returns the query apart. A URL without `://` is
/// kept as written (the server would refuse the signature, but nothing breaks).
fn base_string_uri(url: &str) -> (String, Option<&str>) {
    let url = url.split('#').next().unwrap_or(url);
    let (url, query) = match url.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (url, None),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), query);
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    // The port follows the last `:` outside an IPv6 literal's brackets.
    let (host, port) = match host_port.rfind(':') {
        Some(colon) if !host_port[colon..].contains(']') => {
            (&host_port[..colon], Some(&host_port[colon + 1..]))
        }
        _ => (host_port, None),
    };
    let default = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => "",
    };
    let mut uri = format!("{scheme}://{}", host.to_ascii_lowercase());
    if let Some(port) = port.filter(|p| !p.is_empty() && *p != default) {
        uri.push(':');
        uri.push_str(port);
    }
    uri.push_str(path);
    (uri, query)
}

/// RFC 5849 section 3.6: everything but ALPHA, DIGIT, `-`, `.`, `_` and `~` is
/// percent-encoded, with capital hex digits.
const OAUTH_RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(bytes: &[u8]) -> String {
    percent_encoding::percent_encode(bytes, OAUTH_RESERVED).to_string()
}

/// `application/x-www-form-urlencoded` decoding, as RFC 5849 asks for the query and
/// the body: `+` is a space, then percent escapes. Bytes, not text: a parameter need
/// not be UTF-8, and it is re-encoded byte for byte.
fn form_decode(raw: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mufasa(qop: Option<&str>) -> Digest {
        Digest {
            user: "Mufasa".into(),
            password: "Circle Of Life".into(),
            realm: "testrealm@host.com".into(),
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093".into(),
            qop: qop.map(String::from),
            cnonce: Some("0a4f113b".into()),
            nc: 1,
            opaque: Some("5ccc069c403ebaf9f0171e9517f40e41".into()),
            algorithm: DigestAlgorithm::Md5,
        }
    }

    /// RFC 2617 section 3.5, the worked example, header and all.
    #[test]
    fn digest_gives_rfc_2617s_example() {
        assert_eq!(
            mufasa(Some("auth,auth-int")).authorization("GET", "/dir/index.html"),
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
             qop=auth, nc=00000001, cnonce=\"0a4f113b\", \
             response=\"6629fae49393a05397450978507c4ef1\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
        );
    }

    /// RFC 2069 section 2.4's example (no qop), password "CircleOfLife": the RFC
    /// prints e966c932..., a known erratum; 1949323746fe6a43ef61f9606e7febea is the
    /// corrected value, which Python's hashlib also gives.
    #[test]
    fn digest_without_qop_gives_rfc_2069s_corrected_example() {
        let mut d = mufasa(None);
        d.password = "CircleOfLife".into();
        d.opaque = None;
        assert_eq!(
            d.authorization("GET", "/dir/index.html"),
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
             response=\"1949323746fe6a43ef61f9606e7febea\""
        );
        // A qop without `auth` (only auth-int) is answered the same way.
        d.qop = Some("auth-int".into());
        assert!(d
            .authorization("GET", "/dir/index.html")
            .contains("response=\"1949323746fe6a43ef61f9606e7febea\""));
    }

    /// No published vector: 8e3825c5... is what Python's hashlib gives for
    /// RFC 2617's example with MD5-sess (HA1 = MD5(MD5(user:realm:pass):nonce:cnonce)).
    #[test]
    fn digest_md5_sess_mixes_both_nonces_into_ha1() {
        let mut d = mufasa(Some("auth"));
        d.algorithm = DigestAlgorithm::parse("md5-SESS").unwrap();
        let h = d.authorization("GET", "/dir/index.html");
        assert!(h.contains("algorithm=MD5-sess"), "{h}");
        assert!(
            h.contains("response=\"8e3825c57e897f5a0dec6c2d4e5059d0\""),
            "{h}"
        );
        assert_eq!(DigestAlgorithm::parse("SHA-256"), None);
    }

    #[test]
    fn digest_derives_a_cnonce_and_counts_in_hex_and_quotes_what_needs_it() {
        let mut d = mufasa(Some("auth"));
        d.cnonce = None;
        d.nc = 255;
        d.user = "a\"b\\c".into();
        let h = d.authorization("POST", "/x");
        assert!(h.contains("nc=000000ff"), "{h}");
        assert!(h.starts_with("Digest username=\"a\\\"b\\\\c\""), "{h}");
        let cnonce = challenge_field(&h, "cnonce").unwrap();
        assert_eq!(cnonce.len(), 16);
        assert_eq!(
            d.authorization("POST", "/x"),
            h,
            "pure: same input, same header"
        );
        assert_eq!(challenge_field(&h, "username").as_deref(), Some("a\"b\\c"));
    }

    #[test]
    fn challenge_fields_are_read_quoted_or_not_whatever_their_case() {
        let h =
            r#"Digest realm="x, y", NONCE="n\"1", qop="auth,auth-int", algorithm=MD5, stale=FALSE"#;
        assert_eq!(challenge_field(h, "realm").as_deref(), Some("x, y"));
        assert_eq!(challenge_field(h, "nonce").as_deref(), Some("n\"1"));
        assert_eq!(challenge_field(h, "Qop").as_deref(), Some("auth,auth-int"));
        assert_eq!(challenge_field(h, "algorithm").as_deref(), Some("MD5"));
        assert_eq!(challenge_field(h, "stale").as_deref(), Some("FALSE"));
        assert_eq!(challenge_field(h, "opaque"), None);
        assert_eq!(challenge_field(h, "Digest"), None);
        let info = "nextnonce=\"z\", qop=auth, rspauth=\"d0\", nc=00000001";
        assert_eq!(challenge_field(info, "nextnonce").as_deref(), Some("z"));
        assert_eq!(challenge_field(info, "nc").as_deref(), Some("00000001"));
        let two = r#"Basic realm="basic", Digest realm = "digest", nonce="n""#;
        assert_eq!(challenge_field(two, "realm").as_deref(), Some("digest"));
        let basic = r#"Basic realm="only""#;
        assert_eq!(challenge_field(basic, "realm").as_deref(), Some("only"));
        assert_eq!(
            challenge_field("Digest nonce=\"cut", "nonce").as_deref(),
            Some("cut")
        );
        assert_eq!(challenge_field("", "nonce"), None);
        assert_eq!(
            challenge_field("Digest =x, \"q\", nonce=é", "nonce").as_deref(),
            Some("é")
        );
    }

    fn photos() -> OAuth {
        OAuth {
            consumer_key: "dpf43f3p2l4k3l03".into(),
            consumer_secret: "kd94hf93k423kf44".into(),
            token: Some("nnch734d00sl2jdk".into()),
            token_secret: Some("pfkkdhi9sl3r4s00".into()),
        }
    }

    /// OAuth Core 1.0, Appendix A.5 ("Accessing Protected Resources"): the photos
    /// example with oauth_version=1.0, nonce kllo9940pd9333jh, timestamp 1191242096.
    /// Its base string (A.5.1) and signature tR3+Ty81lMeYAr/Fid0kMTYa/WM= (A.5.2).
    #[test]
    fn oauth_signs_the_oauth_core_1_0_photos_example() {
        let url = "http://photos.example.net/photos?file=vacation.jpg&size=original";
        let base = signature_base_string(
            "GET",
            url,
            None,
            &[
                ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
                ("oauth_token", "nnch734d00sl2jdk"),
                ("oauth_signature_method", "HMAC-SHA1"),
                ("oauth_timestamp", "1191242096"),
                ("oauth_nonce", "kllo9940pd9333jh"),
                ("oauth_version", "1.0"),
            ],
        );
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg\
             %26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh\
             %26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096\
             %26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
        );
        assert_eq!(
            hmac_sha1_signature(&base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
        assert_eq!(
            photos().authorization("get", url, None, "kllo9940pd9333jh", 1191242096),
            "OAuth oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
             oauth_nonce=\"kllo9940pd9333jh\", \
             oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D\", \
             oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1191242096\", \
             oauth_token=\"nnch734d00sl2jdk\", oauth_version=\"1.0\""
        );
    }

    /// RFC 5849 section 1.2: the same photos request without oauth_version, nonce
    /// chapoH, timestamp 137131202; the RFC's signature is MdpQcU8iPSUjWoN/UDMsK2sui9I=.
    #[test]
    fn oauth_signs_rfc_5849s_photos_example() {
        let base = signature_base_string(
            "GET",
            "http://photos.example.net/photos?file=vacation.jpg&size=original",
            None,
            &[
                ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
                ("oauth_token", "nnch734d00sl2jdk"),
                ("oauth_signature_method", "HMAC-SHA1"),
                ("oauth_timestamp", "137131202"),
                ("oauth_nonce", "chapoH"),
            ],
        );
        assert_eq!(
            hmac_sha1_signature(&base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            "MdpQcU8iPSUjWoN/UDMsK2sui9I="
        );
    }

    /// RFC 5849 section 3.4.1.1: the base string of its example request, whose query
    /// and form body hold encoded, repeated, empty and `+`-spaced parameters. (The
    /// section's signature cannot be checked: its secrets are not given.)
    #[test]
    fn oauth_base_string_is_rfc_5849s_section_3_4_1_1_example() {
        let base = signature_base_string(
            "POST",
            "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            Some(b"c2&a3=2+q"),
            &[
                ("oauth_consumer_key", "9djdj82h48djs9d2"),
                ("oauth_token", "kkk9d7dh3k39sjv7"),
                ("oauth_signature_method", "HMAC-SHA1"),
                ("oauth_timestamp", "137131201"),
                ("oauth_nonce", "7d8f3e4a"),
            ],
        );
        assert_eq!(
            base,
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
             %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key\
             %3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method\
             %3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    /// RFC 5849 section 3.4.1.2's two examples, and the edges around them.
    #[test]
    fn base_string_uri_lowers_the_host_and_drops_the_default_port() {
        let uri = |u| base_string_uri(u).0;
        assert_eq!(
            uri("HTTP://EXAMPLE.COM:80/r%20v/X?id=123"),
            "http://example.com/r%20v/X"
        );
        assert_eq!(
            uri("https://www.example.net:8080/?q=1"),
            "https://www.example.net:8080/"
        );
        assert_eq!(uri("https://h:443"), "https://h/");
        assert_eq!(uri("http://u:p@[::1]:8000/a#f"), "http://[::1]:8000/a");
        assert_eq!(uri("http://[::1]/a"), "http://[::1]/a");
        assert_eq!(uri("/relative?x"), "/relative");
    }

    #[test]
    fn oauth_without_a_token_signs_with_an_empty_token_secret() {
        let client = OAuth {
            token: None,
            token_secret: None,
            ..photos()
        };
        let h = client.authorization("POST", "http://127.0.0.1:8000/request_token", None, "n", 1);
        assert!(!h.contains("oauth_token"), "{h}");
        let base = signature_base_string(
            "POST",
            "http://127.0.0.1:8000/request_token",
            None,
            &[
                ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
                ("oauth_nonce", "n"),
                ("oauth_signature_method", "HMAC-SHA1"),
                ("oauth_timestamp", "1"),
                ("oauth_version", "1.0"),
            ],
        );
        let signature = hmac_sha1_signature(&base, "kd94hf93k423kf44", "");
        let sent = challenge_field(&h, "oauth_signature").unwrap();
        assert_eq!(sent, encode(signature.as_bytes()));
    }
}
