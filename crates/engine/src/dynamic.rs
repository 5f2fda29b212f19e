//! Dynamic requests at run time: a user's variables and cookie jar, the request bytes
//! built from them, and what an answer gives back (variables, match outcomes).
//!
//! Each dynamic request template is compiled once per run into [`Text`]s: literal
//! bytes and variable slots. A user builds its request into its own reused buffers
//! ([`UserState`]), so after the first requests nothing is allocated unless a value
//! grows. Only requests that extract or match keep their answer, up to a cap
//! ([`Capture`]); every other body is skipped in place, as on the static path.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::SmallRng;
use rand::Rng;
use scenario::auth::{challenge_field, Digest, DigestAlgorithm, OAuth};
use scenario::dynamic::{
    marks, Auth, DynamicRequest, ExtractFrom, FileOrder, MatchAction, RepeatEnd, Test, VarSource,
};
use scenario::query::{JsonPath, XPath};
use scenario::{Method, Target};

use crate::request::RequestBytes;

/// A variable's number in its program.
pub type VarId = usize;

/// The names of a program's variables, numbered as they are first met.
#[derive(Debug, Default, Clone)]
pub struct VarTable {
    names: Vec<String>,
}

impl VarTable {
    pub fn id(&mut self, name: &str) -> VarId {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(Vec<u8>),
    Var(VarId),
    UniqueId,
    ReallyUniqueId,
}

/// A text with its `%%...%%` marks resolved: literal bytes and slots.
#[derive(Debug, Clone, Default)]
pub struct Text {
    pieces: Vec<Piece>,
}

impl Text {
    /// Compiles `text`; without `subst` it is one literal. A mark that is neither a
    /// variable nor a call cuts the text there, as Tsung's `subst` does.
    pub fn compile(text: &str, subst: bool, vars: &mut VarTable) -> Text {
        if !subst || !text.contains("%%") {
            return Text::literal(text.as_bytes());
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        let all = marks(text);
        for mark in all {
            let written = match mark {
                Ok(name) => format!("%%_{name}%%"),
                Err(call) => format!("%%{call}%%"),
            };
            let at = rest.find(&written).expect("marks come from this text");
            if at > 0 {
                pieces.push(Piece::Literal(rest.as_bytes()[..at].to_vec()));
            }
            rest = &rest[at + written.len()..];
            match mark {
                Ok(name) => pieces.push(Piece::Var(vars.id(name))),
                Err(call) => match scenario::dynamic::builtin_callback(call) {
                    Some(VarSource::UniqueId) => pieces.push(Piece::UniqueId),
                    Some(_) => pieces.push(Piece::ReallyUniqueId),
                    // Validated by the front end: only a mark without ':' gets here.
                    None => return Text { pieces },
                },
            }
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.as_bytes().to_vec()));
        }
        Text { pieces }
    }

    fn literal(bytes: &[u8]) -> Text {
        Text {
            pieces: vec![Piece::Literal(bytes.to_vec())],
        }
    }

    /// Appends the text with `user`'s values; an unset variable is `undefined`, as
    /// in Tsung.
    fn render(&self, user: &UserState, out: &mut Vec<u8>) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(b) => out.extend_from_slice(b),
                Piece::Var(v) => match user.vars.get(*v).and_then(Option::as_ref) {
                    Some(value) => out.extend_from_slice(value),
                    None => out.extend_from_slice(b"undefined"),
                },
                Piece::UniqueId => push_number(out, user.unique_id),
                Piece::ReallyUniqueId => {
                    push_number(out, user.run_tag);
                    out.push(b'-');
                    push_number(out, user.unique_id);
                }
            }
        }
    }

    fn render_string(&self, user: &UserState) -> String {
        let mut out = Vec::new();
        self.render(user, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn push_number(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

enum CompiledAuth {
    Digest {
        user: Text,
        password: Text,
        realm: Text,
        nonce: Text,
        qop: Option<Text>,
        cnonce: Option<Text>,
        nc: Option<Text>,
        opaque: Option<Text>,
    },
    OAuth {
        consumer_key: Text,
        consumer_secret: Text,
        token: Option<Text>,
        token_secret: Option<Text>,
    },
}

enum Finder {
    Regex(regex::bytes::Regex),
    JsonPath(JsonPath),
    XPath(XPath),
    Header { name: String, field: Option<String> },
}

struct CompiledMatch {
    regex: regex::bytes::Regex,
    when_found: bool,
    action: MatchAction,
    body_only: bool,
}

/// One dynamic request, compiled.
pub struct Template {
    method: Method,
    path: Text,
    /// `Host: ...\r\n` for each of the run's servers, unless the request sets its own.
    host_lines: Vec<Vec<u8>>,
    /// Each server's origin, for OAuth's absolute URL.
    origins: Vec<String>,
    headers: Vec<(String, Text)>,
    cookie: Option<Text>,
    body: Text,
    needs_length: bool,
    pub expects_no_body: bool,
    auth: Option<CompiledAuth>,
    extract: Vec<(VarId, Finder)>,
    matches: Vec<CompiledMatch>,
    /// Whether the answer is kept: only to extract from or match it.
    pub reads_answer: bool,
    /// The most of the answer kept.
    pub answer_cap: usize,
    /// Whether the body is form data OAuth must sign.
    form_body: bool,
}

impl Template {
    /// Compiles `d` for the run's servers (`targets`, not empty).
    pub fn compile(d: &DynamicRequest, targets: &[Target], vars: &mut VarTable) -> Template {
        let r = &d.request;
        let text = |s: &str, vars: &mut VarTable| Text::compile(s, d.subst, vars);
        let has = |name: &str| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        let authority = |t: &Target| {
            if t.host.contains(':') {
                format!("[{}]:{}", t.host, t.port)
            } else {
                format!("{}:{}", t.host, t.port)
            }
        };
        let host_lines = targets
            .iter()
            .map(|t| {
                if has("host") {
                    Vec::new()
                } else {
                    format!("Host: {}\r\n", authority(t)).into_bytes()
                }
            })
            .collect();
        let origins = targets
            .iter()
            .map(|t| {
                let scheme = if t.tls { "https" } else { "http" };
                format!("{scheme}://{}", authority(t))
            })
            .collect();
        let mut headers = Vec::new();
        let mut cookie = None;
        for (name, value) in &r.headers {
            if name.eq_ignore_ascii_case("content-length") {
                // The body's length is known only once it is built.
                continue;
            }
            if name.eq_ignore_ascii_case("cookie") {
                cookie = Some(text(value, vars));
            } else {
                headers.push((name.clone(), text(value, vars)));
            }
        }
        let auth = d.auth.as_ref().map(|a| match a {
            Auth::Digest {
                user,
                password,
                realm,
                nonce,
                qop,
                cnonce,
                nc,
                opaque,
            } => CompiledAuth::Digest {
                user: text(user, vars),
                password: text(password, vars),
                realm: text(realm, vars),
                nonce: text(nonce, vars),
                qop: qop.as_deref().map(|s| text(s, vars)),
                cnonce: cnonce.as_deref().map(|s| text(s, vars)),
                nc: nc.as_deref().map(|s| text(s, vars)),
                opaque: opaque.as_deref().map(|s| text(s, vars)),
            },
            Auth::OAuth {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            } => CompiledAuth::OAuth {
                consumer_key: text(consumer_key, vars),
                consumer_secret: text(consumer_secret, vars),
                token: token.as_deref().map(|s| text(s, vars)),
                token_secret: token_secret.as_deref().map(|s| text(s, vars)),
            },
        });
        let extract = d
            .extract
            .iter()
            .map(|e| {
                let finder = match &e.from {
                    // Checked by `Scenario::validate` (`DynamicRequest::check`), which the engine runs first.
                    ExtractFrom::Regex(re) => {
                        Finder::Regex(regex::bytes::Regex::new(re).expect("validated regex"))
                    }
                    ExtractFrom::JsonPath(p) => {
                        Finder::JsonPath(JsonPath::parse(p).expect("validated jsonpath"))
                    }
                    ExtractFrom::XPath(p) => {
                        Finder::XPath(XPath::parse(p).expect("validated xpath"))
                    }
                    ExtractFrom::Header { name, field } => Finder::Header {
                        name: name.clone(),
                        field: field.clone(),
                    },
                };
                (vars.id(&e.var), finder)
            })
            .collect();
        let matches = d
            .matches
            .iter()
            .map(|m| CompiledMatch {
                regex: regex::bytes::Regex::new(&m.pattern).expect("validated regex"),
                when_found: m.when_found,
                action: m.action,
                body_only: m.body_only,
            })
            .collect();
        let body = String::from_utf8_lossy(&r.body);
        let form_body = r.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-type")
                && v.starts_with("application/x-www-form-urlencoded")
        });
        Template {
            method: r.method,
            path: text(&r.path, vars),
            host_lines,
            origins,
            headers,
            cookie,
            body: if r.body.is_empty() {
                Text::default()
            } else if d.subst {
                Text::compile(&body, true, vars)
            } else {
                Text::literal(&r.body)
            },
            needs_length: !r.body.is_empty()
                || matches!(r.method, Method::Post | Method::Put | Method::Patch),
            expects_no_body: r.method == Method::Head,
            auth,
            reads_answer: d.reads_answer(),
            answer_cap: d.answer_cap,
            extract,
            matches,
            form_body,
        }
    }

    /// Builds the request for server `server` into `user.out`.
    pub fn build(&self, user: &mut UserState, rng: &mut SmallRng, server: usize) {
        let mut out = std::mem::take(&mut user.out);
        let mut body = std::mem::take(&mut user.body);
        out.clear();
        body.clear();
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        let path_at = out.len();
        self.path.render(user, &mut out);
        strip_origin(&mut out, path_at);
        keep_on_one_line(&mut out, path_at);
        if out.len() == path_at || out[path_at] != b'/' {
            out.insert(path_at, b'/');
        }
        let path_end = out.len();
        out.extend_from_slice(b" HTTP/1.1\r\n");
        out.extend_from_slice(&self.host_lines[server]);
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            let at = out.len();
            value.render(user, &mut out);
            keep_on_one_line(&mut out, at);
            out.extend_from_slice(b"\r\n");
        }
        if self.cookie.is_some() || !user.jar.is_empty() {
            out.extend_from_slice(b"Cookie: ");
            let at = out.len();
            if let Some(c) = &self.cookie {
                c.render(user, &mut out);
                if !user.jar.is_empty() {
                    out.extend_from_slice(b"; ");
                }
            }
            user.jar.render(&mut out);
            keep_on_one_line(&mut out, at);
            out.extend_from_slice(b"\r\n");
        }
        self.body.render(user, &mut body);
        if let Some(auth) = &self.auth {
            let path = String::from_utf8_lossy(&out[path_at..path_end]).into_owned();
            let origin = &self.origins[server];
            let value = self.authorization(auth, origin, &path, &body, user, rng);
            out.extend_from_slice(b"Authorization: ");
            let at = out.len();
            out.extend_from_slice(value.as_bytes());
            keep_on_one_line(&mut out, at);
            out.extend_from_slice(b"\r\n");
        }
        if self.needs_length {
            out.extend_from_slice(b"Content-Length: ");
            push_number(&mut out, body.len() as u64);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        user.out = out;
        user.body = body;
    }

    fn authorization(
        &self,
        auth: &CompiledAuth,
        origin: &str,
        path: &str,
        body: &[u8],
        user: &UserState,
        rng: &mut SmallRng,
    ) -> String {
        let opt = |t: &Option<Text>| t.as_ref().map(|t| t.render_string(user));
        match auth {
            CompiledAuth::Digest {
                user: name,
                password,
                realm,
                nonce,
                qop,
                cnonce,
                nc,
                opaque,
            } => {
                let qop = opt(qop);
                let digest = Digest {
                    user: name.render_string(user),
                    password: password.render_string(user),
                    realm: realm.render_string(user),
                    nonce: nonce.render_string(user),
                    cnonce: opt(cnonce).or_else(|| qop.as_ref().map(|_| random_hex(rng, 16))),
                    nc: opt(nc)
                        .and_then(|n| u32::from_str_radix(n.trim(), 16).ok())
                        .unwrap_or(1),
                    qop,
                    opaque: opt(opaque),
                    algorithm: DigestAlgorithm::default(),
                };
                digest.authorization(self.method.as_str(), path)
            }
            CompiledAuth::OAuth {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            } => {
                let oauth = OAuth {
                    consumer_key: consumer_key.render_string(user),
                    consumer_secret: consumer_secret.render_string(user),
                    token: opt(token),
                    token_secret: opt(token_secret),
                };
                let url = format!("{origin}{path}");
                let timestamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                oauth.authorization(
                    self.method.as_str(),
                    &url,
                    self.form_body.then_some(body),
                    &random_hex(rng, 16),
                    timestamp,
                )
            }
        }
    }

    /// Reads what the answer gives: variables, then the match rules in order. Returns
    /// the first action a rule asks for, if any.
    pub fn absorb(
        &self,
        answer: &Capture,
        user: &mut UserState,
        mut count: impl FnMut(bool),
    ) -> Option<MatchAction> {
        let (head, body) = answer.split();
        for (var, finder) in &self.extract {
            let found = match finder {
                Finder::Regex(re) => {
                    // Copied into the variable's own buffer: no new value per answer.
                    if let Some(c) = re.captures(answer.whole()) {
                        let value = c
                            .get(1)
                            .or_else(|| c.get(0))
                            .map_or(&[][..], |m| m.as_bytes());
                        user.set_from(*var, value);
                    }
                    continue;
                }
                Finder::JsonPath(p) => p.first_in(body).map(String::into_bytes),
                Finder::XPath(p) => p.first(body).map(String::into_bytes),
                Finder::Header { name, field } => {
                    header_value(head, name).and_then(|v| match field {
                        None => Some(v.into_bytes()),
                        Some(f) => challenge_field(&v, f).map(String::into_bytes),
                    })
                }
            };
            if let Some(value) = found {
                user.set(*var, value);
            }
        }
        for m in &self.matches {
            let found = if m.body_only {
                m.regex.is_match(body)
            } else {
                m.regex.is_match(answer.whole())
            };
            count(found);
            if found == m.when_found && !matches!(m.action, MatchAction::Continue) {
                if let MatchAction::Log = m.action {
                    user.log_once(&m.regex);
                    continue;
                }
                return Some(m.action);
            }
        }
        None
    }
}

/// A URL taken whole from an answer may be absolute: keep its path, for the same
/// server (the run's target rules hold for every request).
fn strip_origin(out: &mut Vec<u8>, at: usize) {
    let rendered = &out[at..];
    let rest = if rendered.starts_with(b"http://") {
        7
    } else if rendered.starts_with(b"https://") {
        8
    } else {
        return;
    };
    let path_from = rendered[rest..]
        .iter()
        .position(|b| *b == b'/')
        .map_or(rendered.len(), |p| rest + p);
    out.drain(at..at + path_from);
}

/// A value with a line end (or a space, in the request line) would split the request
/// on the wire; it is cut there, as a header value cannot hold it.
fn keep_on_one_line(out: &mut Vec<u8>, at: usize) {
    if let Some(p) = out[at..].iter().position(|b| *b == b'\r' || *b == b'\n') {
        out.truncate(at + p);
    }
}

fn random_hex(rng: &mut SmallRng, n: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..n).map(|_| HEX[rng.gen_range(0..16)] as char).collect()
}

fn header_value(head: &[u8], name: &str) -> Option<String> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut response = httparse::Response::new(&mut headers);
    response.parse(head).ok()?;
    response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| String::from_utf8_lossy(h.value).into_owned())
}

/// The kept bytes of an answer: its head and body as they came (a chunked body with
/// its chunk lines), up to `cap`.
#[derive(Debug)]
pub struct Capture {
    pub bytes: Vec<u8>,
    pub cap: usize,
    decoded: Option<Vec<u8>>,
}

impl Capture {
    pub fn new(cap: usize) -> Capture {
        Capture {
            bytes: Vec::new(),
            cap,
            decoded: None,
        }
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.decoded = None;
    }

    pub fn keep(&mut self, bytes: &[u8]) {
        let room = self.cap.saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Decodes a chunked body once the answer is whole. Most answers have no
    /// Transfer-Encoding: a scan for the name comes before the parse that allocates.
    pub fn finish(&mut self) {
        let (head, body) = split_head(&self.bytes);
        if !has_header_line(head, b"transfer-encoding") {
            return;
        }
        if header_value(head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            let mut out = head.to_vec();
            out.extend_from_slice(&dechunk(body));
            self.decoded = Some(out);
        }
    }

    fn whole(&self) -> &[u8] {
        self.decoded.as_deref().unwrap_or(&self.bytes)
    }

    fn split(&self) -> (&[u8], &[u8]) {
        split_head(self.whole())
    }
}

/// Whether a header line of `head` starts with `name` (lowercase), ASCII case ignored.
fn has_header_line(head: &[u8], name: &[u8]) -> bool {
    head.split(|b| *b == b'\n')
        .skip(1)
        .any(|line| line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name))
}

fn split_head(bytes: &[u8]) -> (&[u8], &[u8]) {
    // The last head: interim answers (100 Continue) come first.
    let mut from = 0;
    loop {
        match bytes[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            Some(p) => {
                let end = from + p + 4;
                let interim = bytes[from..].starts_with(b"HTTP/1.1 1")
                    && !bytes[from..].starts_with(b"HTTP/1.1 101");
                if interim && end < bytes.len() {
                    from = end;
                    continue;
                }
                return (&bytes[from..end], &bytes[end..]);
            }
            None => return (&bytes[from..], &[]),
        }
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return out;
        };
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        let take = size.min(body.len());
        out.extend_from_slice(&body[..take]);
        body = &body[take..];
        body = body.strip_prefix(b"\r\n").unwrap_or(body);
    }
}

/// A user's cookies: name and value, as the last Set-Cookie gave them.
#[derive(Debug, Default)]
pub struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Takes Set-Cookie values, one per line. Domain and path are not checked: a
    /// user talks to one server. `Max-Age=0` (or less) removes the cookie.
    pub fn absorb(&mut self, lines: &[u8]) {
        for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let line = String::from_utf8_lossy(line);
            let Ok(c) = cookie::Cookie::parse(line.as_ref()) else {
                continue;
            };
            let gone = c.max_age().is_some_and(|a| a.whole_seconds() <= 0);
            self.cookies.retain(|(n, _)| n != c.name());
            if !gone {
                self.cookies
                    .push((c.name().to_string(), c.value().to_string()));
            }
        }
    }

    fn render(&self, out: &mut Vec<u8>) {
        for (i, (name, value)) in self.cookies.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b"; ");
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            out.extend_from_slice(value.as_bytes());
        }
    }

    /// A static request's bytes with this jar's `Cookie` line added before the blank
    /// line ending its head.
    pub fn add_to(&self, request: &RequestBytes, out: &mut Vec<u8>) {
        out.clear();
        let head_end = request.head_len - 2;
        out.extend_from_slice(&request.bytes[..head_end]);
        out.extend_from_slice(b"Cookie: ");
        self.render(out);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&request.bytes[head_end..]);
    }
}

/// Everything one user of a dynamic session carries from request to request.
#[derive(Debug)]
pub struct UserState {
    vars: Vec<Option<Vec<u8>>>,
    pub jar: Jar,
    /// The request being sent, and a dynamic body before its length is known.
    pub out: Vec<u8>,
    body: Vec<u8>,
    pub capture: Capture,
    /// The user's number in the run, from 1 (Tsung's `get_unique_id`).
    unique_id: u64,
    /// The run's start in seconds, which makes `get_really_unique_id` unique across
    /// runs as well.
    run_tag: u64,
    logged: bool,
    /// How often the current request was sent again by `<match do="loop">`.
    pub loops: u32,
    /// How often the session started over by `<match do="restart">`.
    pub restarts: u32,
}

impl UserState {
    pub fn new(vars: usize, number: u64, run_tag: u64) -> UserState {
        UserState {
            vars: vec![None; vars],
            jar: Jar::default(),
            out: Vec::new(),
            body: Vec::new(),
            capture: Capture::new(0),
            unique_id: number + 1,
            run_tag,
            logged: false,
            loops: 0,
            restarts: 0,
        }
    }

    pub fn set(&mut self, var: VarId, value: Vec<u8>) {
        if var >= self.vars.len() {
            self.vars.resize(var + 1, None);
        }
        self.vars[var] = Some(value);
    }

    /// [`UserState::set`] from borrowed bytes, into the buffer the variable already
    /// has: a value that does not grow allocates nothing.
    pub fn set_from(&mut self, var: VarId, value: &[u8]) {
        if var >= self.vars.len() {
            self.vars.resize(var + 1, None);
        }
        let slot = self.vars[var].get_or_insert_with(Vec::new);
        slot.clear();
        slot.extend_from_slice(value);
    }

    #[cfg(test)]
    fn get(&self, var: VarId) -> &[u8] {
        self.vars
            .get(var)
            .and_then(Option::as_deref)
            .unwrap_or_default()
    }

    /// The test's outcome, or `None` when its variable was never set: Tsung then
    /// enters an `<if>` and ends a `<repeat>` (counting an error either way).
    pub fn test(&self, test: &CompiledTest) -> Option<bool> {
        let value = self.vars.get(test.var)?.as_deref()?;
        Some((value == test.value.as_bytes()) == test.equal)
    }

    fn log_once(&mut self, regex: &regex::bytes::Regex) {
        if !self.logged {
            self.logged = true;
            eprintln!(
                "match: user {} met <match do=\"log\"> on {:?}",
                self.unique_id,
                regex.as_str()
            );
        }
    }
}

/// A test of `<if>`, `<while>` or `<until>`, its variable numbered.
#[derive(Debug, Clone)]
pub struct CompiledTest {
    pub var: VarId,
    pub equal: bool,
    pub value: String,
}

impl CompiledTest {
    pub fn compile(t: &Test, vars: &mut VarTable) -> CompiledTest {
        CompiledTest {
            var: vars.id(&t.var),
            equal: t.equal,
            value: t.value.clone(),
        }
    }
}

/// How a `<repeat>` ends, its test compiled.
#[derive(Debug, Clone)]
pub struct CompiledRepeat {
    pub test: CompiledTest,
    pub until: bool,
    pub max: u64,
}

impl CompiledRepeat {
    pub fn compile(end: &RepeatEnd, vars: &mut VarTable) -> CompiledRepeat {
        CompiledRepeat {
            test: CompiledTest::compile(&end.test, vars),
            until: end.until,
            max: end.max,
        }
    }
}

/// A `<setdynvars>`, its variables numbered.
#[derive(Debug, Clone)]
pub struct CompiledSetVars {
    vars: Vec<VarId>,
    source: VarSource,
}

impl CompiledSetVars {
    pub fn compile(set: &scenario::dynamic::SetVars, vars: &mut VarTable) -> CompiledSetVars {
        CompiledSetVars {
            vars: set.vars.iter().map(|v| vars.id(v)).collect(),
            source: set.source.clone(),
        }
    }

    /// `turn` is this worker's walk through `iter` files: users share it, so lines
    /// go out one after another.
    pub fn apply(&self, user: &mut UserState, rng: &mut SmallRng, turn: &mut FileTurns) {
        match &self.source {
            VarSource::RandomNumber { start, end } => {
                for v in &self.vars {
                    let n = rng.gen_range(*start..=*end);
                    user.set(*v, n.to_string().into_bytes());
                }
            }
            VarSource::RandomString { length } => {
                const ALPHABET: &[u8] =
                    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                for v in &self.vars {
                    let s = (0..*length)
                        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
                        .collect();
                    user.set(*v, s);
                }
            }
            VarSource::Value(text) => {
                for v in &self.vars {
                    user.set(*v, text.as_bytes().to_vec());
                }
            }
            VarSource::File {
                id,
                lines,
                delimiter,
                order,
            } => {
                if lines.is_empty() {
                    return;
                }
                let line = match order {
                    FileOrder::Random => &lines[rng.gen_range(0..lines.len())],
                    FileOrder::Iter => &lines[turn.next(id, lines.len())],
                };
                let mut fields = line.split(delimiter.as_str());
                for v in &self.vars {
                    let field = fields.next().unwrap_or("");
                    user.set(*v, field.as_bytes().to_vec());
                }
            }
            VarSource::UniqueId => {
                for v in &self.vars {
                    let mut s = Vec::new();
                    push_number(&mut s, user.unique_id);
                    user.set(*v, s);
                }
            }
            VarSource::ReallyUniqueId => {
                for v in &self.vars {
                    let mut s = Vec::new();
                    push_number(&mut s, user.run_tag);
                    s.push(b'-');
                    push_number(&mut s, user.unique_id);
                    user.set(*v, s);
                }
            }
        }
    }
}

/// Where each `iter` file's walk is, for one worker. Worker `slot` of `slots` reads
/// lines `slot`, `slot + slots`, ...: together the workers (and agents) walk the file
/// line after line, each line once per pass.
#[derive(Debug)]
pub struct FileTurns {
    slot: usize,
    slots: usize,
    taken: Vec<(String, usize)>,
}

impl FileTurns {
    pub fn new(slot: usize, slots: usize) -> FileTurns {
        FileTurns {
            slot,
            slots: slots.max(1),
            taken: Vec::new(),
        }
    }

    fn next(&mut self, id: &str, len: usize) -> usize {
        let k = match self.taken.iter_mut().find(|(f, _)| f == id) {
            Some((_, k)) => {
                *k += 1;
                *k
            }
            None => {
                self.taken.push((id.to_string(), 0));
                0
            }
        };
        (self.slot + k * self.slots) % len
    }
}

/// The run's tag for `get_really_unique_id`: its start, in seconds since 1970.
pub fn run_tag() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use scenario::dynamic::{Extract, Match};
    use scenario::Request;

    fn target() -> Target {
        Target {
            host: "127.0.0.1".into(),
            port: 8000,
            tls: false,
        }
    }

    fn dynamic(request: Request) -> DynamicRequest {
        DynamicRequest {
            request,
            subst: true,
            extract: Vec::new(),
            matches: Vec::new(),
            auth: None,
            answer_cap: scenario::dynamic::DEFAULT_CAPTURE_CAP,
        }
    }

    #[test]
    fn a_request_is_built_from_the_users_variables_and_cookies() {
        let mut vars = VarTable::default();
        let mut r = Request::get("/api?t=%%_token%%&u=%%ts_user_server:get_unique_id%%");
        r.headers
            .push(("Authorization".into(), "Bearer %%_token%%".into()));
        r.method = Method::Post;
        r.body = b"a=%%_missing%%".to_vec();
        let t = Template::compile(&dynamic(r), &[target()], &mut vars);
        let mut user = UserState::new(vars.len(), 6, 99);
        user.set(0, b"abc".to_vec());
        user.jar.absorb(b"sid=1; Path=/\nother=2\n");
        let mut rng = SmallRng::seed_from_u64(1);
        t.build(&mut user, &mut rng, 0);
        assert_eq!(
            String::from_utf8_lossy(&user.out),
            "POST /api?t=abc&u=7 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAuthorization: Bearer abc\r\n\
             Cookie: sid=1; other=2\r\nContent-Length: 11\r\n\r\na=undefined"
        );
    }

    #[test]
    fn an_absolute_url_from_an_answer_keeps_its_path_and_a_line_end_is_cut() {
        let mut vars = VarTable::default();
        let t = Template::compile(&dynamic(Request::get("%%_next%%")), &[target()], &mut vars);
        let mut user = UserState::new(vars.len(), 0, 0);
        let mut rng = SmallRng::seed_from_u64(1);
        user.set(0, b"http://elsewhere:9/items/2?x=1\r\nEvil: 1".to_vec());
        t.build(&mut user, &mut rng, 0);
        assert!(String::from_utf8_lossy(&user.out).starts_with("GET /items/2?x=1 HTTP/1.1\r\nHost"));
    }

    #[test]
    fn answers_give_variables_and_match_outcomes() {
        let mut vars = VarTable::default();
        let mut d = dynamic(Request::get("/login"));
        d.extract = vec![
            Extract {
                var: "title".into(),
                from: ExtractFrom::Regex("<title>(.*)</title>".into()),
            },
            Extract {
                var: "nonce".into(),
                from: ExtractFrom::Header {
                    name: "www-authenticate".into(),
                    field: Some("nonce".into()),
                },
            },
        ];
        d.matches = vec![
            Match {
                pattern: "Welcome".into(),
                when_found: true,
                action: MatchAction::Continue,
                body_only: true,
            },
            Match {
                pattern: "Nope".into(),
                when_found: false,
                action: MatchAction::Abort,
                body_only: false,
            },
        ];
        let t = Template::compile(&d, &[target()], &mut vars);
        let mut user = UserState::new(vars.len(), 0, 0);
        let mut c = Capture::new(1 << 20);
        c.keep(
            b"HTTP/1.1 200 OK\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n1\"\r\n\
              Transfer-Encoding: chunked\r\n\r\n7\r\n<title>\r\n10\r\nWelcome</title>\r\n\r\n0\r\n\r\n",
        );
        c.finish();
        let mut counts = Vec::new();
        let action = t.absorb(&c, &mut user, |found| counts.push(found));
        assert_eq!(user.get(0), b"Welcome");
        assert_eq!(user.get(1), b"n1");
        assert_eq!(counts, vec![true, false]);
        assert_eq!(action, Some(MatchAction::Abort));
    }

    #[test]
    fn only_a_transfer_encoding_line_sends_an_answer_to_the_chunk_decoder() {
        let head =
            b"HTTP/1.1 200 OK\r\nX-Note: transfer-encoding\r\ntransfer-Encoding: chunked\r\n\r\n";
        assert!(has_header_line(head, b"transfer-encoding"));
        let plain = b"HTTP/1.1 200 OK\r\nX-Note: transfer-encoding\r\nContent-Length: 2\r\n\r\n";
        assert!(!has_header_line(plain, b"transfer-encoding"));
    }

    #[test]
    fn a_value_set_again_reuses_its_buffer() {
        let mut user = UserState::new(1, 0, 0);
        user.set_from(0, b"abc123");
        let at = user.get(0).as_ptr();
        user.set_from(0, b"xyz");
        assert_eq!(user.get(0), b"xyz");
        assert_eq!(user.get(0).as_ptr(), at);
        user.set_from(3, b"new");
        assert_eq!(user.get(3), b"new");
    }

    #[test]
    fn a_capture_keeps_at_most_its_cap() {
        let mut c = Capture::new(4);
        c.keep(b"abc");
        c.keep(b"def");
        assert_eq!(c.bytes, b"abcd");
    }

    #[test]
    fn iter_files_are_walked_by_every_worker_in_turn() {
        let mut a = FileTurns::new(0, 2);
        let mut b = FileTurns::new(1, 2);
        let got: Vec<usize> = (0..3)
            .flat_map(|_| [a.next("f", 5), b.next("f", 5)])
            .collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4, 0]);
    }
}
