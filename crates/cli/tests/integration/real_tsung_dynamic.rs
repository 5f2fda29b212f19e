//! Tsung's dynamic sessions through real Tsung, then through wsgibench, against a
//! server that only answers 200 to a client that carries what it was given.
//!
//! The server is `tests/data/dynamic_app/app.py` (Python's standard library): a login
//! hands out a token in JSON and a cookie, the API wants the token back in the query
//! or as a Bearer header, `/profile` wants the cookie (else a 302), `/digest` and
//! `/token` + `/echo` speak HTTP Digest and OAuth 1.0. It logs `METHOD PATH STATUS`
//! per request, so the test reads what the server saw, not what a client claims.
//!
//! - [`dynamic_app_answers_a_client_that_carries_its_token_and_cookie`]: the server
//!   itself, by hand over one keep-alive connection, before any Tsung run blames it.
//! - [`login_then_api_same_requests_from_tsung_and_wsgibench`]: a login-then-API file
//!   (dyn_variable jsonpath and re, `%%_var%%`, cookies, `<for>`, `<setdynvars>`,
//!   `<match>`) through Tsung: every request 200, counts per URL template equal users
//!   × passes. Then wsgibench on the same file must give the same [`templates`].
//! - [`tsung_own_digest_and_oauth_examples_against_the_dynamic_app`]: Tsung's shipped
//!   `http-digest.xml` and `http-oauth.xml`, only the server changed: what Tsung 1.7
//!   really does with them (two bugs, described there).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

const APP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dynamic_app/app.py");

/// The dynamic app as a child process on 127.0.0.1, logging to its own file; SIGTERM
/// on drop.
struct DynamicApp {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl DynamicApp {
    fn start(log: &Path) -> DynamicApp {
        let mut child = Command::new("python3")
            .arg(APP)
            .args(["--port", "0", "--log"])
            .arg(log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the dynamic app");
        // Its first line is `port N`; read it on a thread so a stuck start fails in 20 s.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20));
        let port = line
            .as_deref()
            .ok()
            .and_then(|l| l.trim().strip_prefix("port "))
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the dynamic app did not say `port N` first: {line:?}");
        };
        DynamicApp {
            child,
            port,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DynamicApp {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid, which we have not reaped yet.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let began = Instant::now();
        while began.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Requests per template: `(method, path with the random parts replaced, status)` →
/// count, from the app's log. A 16-hex-digit word (a token the server made) becomes
/// `{token}` and the number after `/api/items/` becomes `{id}`, so two clients' logs
/// compare equal when they sent the same kinds of requests with the same outcomes.
fn templates(log: &str) -> BTreeMap<(String, String, u16), u64> {
    let mut out = BTreeMap::new();
    for line in log.lines() {
        let mut fields = line.split(' ');
        let (Some(method), Some(path), Some(status), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            panic!("not `METHOD PATH STATUS`: {line:?}");
        };
        let status = status.parse().expect("a status code");
        *out.entry((method.to_string(), template(path), status))
            .or_insert(0) += 1;
    }
    out
}

fn template(path: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    // Words are runs of ASCII letters and digits; everything else is copied as it is.
    for c in path.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        let hex16 =
            word.len() == 16 && word.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let id = !word.is_empty()
            && word.bytes().all(|b| b.is_ascii_digit())
            && out.ends_with("/api/items/");
        out.push_str(match () {
            _ if hex16 => "{token}",
            _ if id => "{id}",
            _ => &word,
        });
        word.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// The distinct tokens (16 hex digits) in the log's paths.
fn tokens(log: &str) -> BTreeSet<String> {
    log.lines()
        .filter_map(|l| l.split(' ').nth(1))
        .flat_map(|p| p.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| w.len() == 16 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect()
}

/// One request on a keep-alive connection: the status, the head, the body.
fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String, String) {
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(0) => panic!("closed before an answer to {request:?}"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("{e} waiting for an answer to {request:?}"),
        }
    };
    let head = text(&buf[..head_end]);
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse().unwrap())
        .expect("every answer has a Content-Length");
    while buf.len() < head_end + length {
        match stream.read(&mut chunk) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(0) => panic!("closed mid-body"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("{e} reading a body"),
        }
    }
    let status = head[9..12].parse().unwrap();
    (status, head, text(&buf[head_end..head_end + length]))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

#[test]
fn dynamic_app_answers_a_client_that_carries_its_token_and_cookie() {
    // Its Digest and OAuth formulas against RFC 2617 3.5's and RFC 5849 1.2's examples.
    let out = run_bounded(
        Command::new("python3").arg(APP).arg("--self-check"),
        Duration::from_secs(20),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let dir = tempfile::tempdir().unwrap();
    let app = DynamicApp::start(&dir.path().join("requests.log"));
    let mut s = TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let get =
        |path: &str, extra: &str| format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n");
    let login = |form: &str| {
        format!(
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{form}",
            form.len()
        )
    };

    let (status, _, _) = exchange(&mut s, &login("user=alice&password=wrong"));
    assert_eq!(status, 401, "a wrong password");
    let (status, head, body) = exchange(&mut s, &login("user=alice&password=secret"));
    assert_eq!(status, 200, "{head}{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(body["user"], "alice");
    assert_eq!(tokens(&format!("GET /?t={token} 200")).len(), 1, "{token}");
    let cookie = header(&head, "set-cookie").expect("a Set-Cookie");
    let sid = cookie.split(';').next().unwrap().to_string();
    assert!(sid.starts_with("sid="), "{cookie}");

    let (status, _, body) = exchange(&mut s, &get(&format!("/api/items?token={token}"), ""));
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["next"], "/api/items/2");
    let (status, _, _) = exchange(&mut s, &get("/api/items?token=0123456789abcdef", ""));
    assert_eq!(status, 403, "an unknown token");
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let (status, _, body) = exchange(&mut s, &get("/api/items/2", &bearer));
    assert_eq!((status, body.as_str()), (200, r#"{"id": 2}"#));
    let (status, _, _) = exchange(&mut s, &get("/api/items/2", ""));
    assert_eq!(status, 403, "no Bearer token");

    let (status, _, _) = exchange(&mut s, &get("/profile", &format!("Cookie: {sid}\r\n")));
    assert_eq!(status, 200, "with the cookie");
    let (status, head, _) = exchange(&mut s, &get("/profile", ""));
    assert_eq!((status, header(&head, "location")), (302, Some("/login")));
    let (status, _, body) = exchange(&mut s, &get("/page", ""));
    assert_eq!(status, 200);
    assert!(body.contains("<title>Welcome user</title>"), "{body}");
    let (status, head, _) = exchange(&mut s, &get("/digest", ""));
    assert_eq!(status, 401);
    let challenge = header(&head, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with(r#"Digest realm="wsgibench", nonce=""#),
        "{challenge}"
    );
    let (status, _, _) = exchange(&mut s, &get("/echo", ""));
    assert_eq!(status, 401, "OAuth without a signature");
    let (status, _, _) = exchange(&mut s, &get("/nothing", ""));
    assert_eq!(status, 404);

    drop(s);
    let log = app.log();
    let lines: Vec<String> = log.lines().map(|l| l.replace(&token, "{token}")).collect();
    assert_eq!(
        lines,
        [
            "POST /login 401",
            "POST /login 200",
            "GET /api/items?token={token} 200",
            "GET /api/items?token=0123456789abcdef 403",
            "GET /api/items/2 200",
            "GET /api/items/2 403",
            "GET /profile 200",
            "GET /profile 302",
            "GET /page 200",
            "GET /digest 401",
            "GET /echo 401",
            "GET /nothing 404",
        ]
    );
    // What the comparison of two logs keys on.
    assert_eq!(
        templates("GET /api/items/17 200\nGET /api/items?token=0123456789abcdef&pass=2 403\n"),
        BTreeMap::from([
            (("GET".into(), "/api/items/{id}".into(), 200), 1),
            (
                ("GET".into(), "/api/items?token={token}&pass=2".into(), 403),
                1
            ),
        ])
    );
}

/// Users of the login-then-API file, and the passes of its `<for>`.
const USERS: u64 = 5;
const PASSES: u64 = 3;

/// The session: log in (the token from the JSON body, the cookie kept by the client),
/// the API with the token in the query (`next` from the JSON), the `next` URL with a
/// Bearer header, a page whose title a `re` reads (and a `<match>` counts), the profile
/// (cookie) with that word in its query, then `PASSES` times an API call by a random id
/// (`<setdynvars>`) and one naming the pass.
const SESSION: &str = r#"      <request>
        <dyn_variable name="token" jsonpath="token"/>
        <http url="/login" method="POST" version="1.1" contents="user=alice&amp;password=secret"/>
      </request>
      <request subst="true">
        <dyn_variable name="next" jsonpath="next"/>
        <http url="/api/items?token=%%_token%%" method="GET" version="1.1"/>
      </request>
      <request subst="true">
        <http url="%%_next%%" method="GET" version="1.1">
          <http_header name="Authorization" value="Bearer %%_token%%"/>
        </http>
      </request>
      <request>
        <match do="continue" when="match">Welcome user</match>
        <dyn_variable name="who" re="&lt;title&gt;Welcome ([a-z]+)&lt;/title&gt;"/>
        <http url="/page" method="GET" version="1.1"/>
      </request>
      <request subst="true">
        <http url="/profile?as=%%_who%%" method="GET" version="1.1"/>
      </request>
      <for from="1" to="3" var="i">
        <setdynvars sourcetype="random_number" start="1" end="2">
          <var name="id"/>
        </setdynvars>
        <request subst="true">
          <http url="/api/items/%%_id%%" method="GET" version="1.1">
            <http_header name="Authorization" value="Bearer %%_token%%"/>
          </http>
        </request>
        <request subst="true">
          <http url="/api/items?token=%%_token%%&amp;pass=%%_i%%" method="GET" version="1.1"/>
        </request>
      </for>"#;

/// The file for an app on `port`: `USERS` users (the phase's cap, reached after 1 s on
/// average; its 4 s leave Tsung's random arrivals a chance of about 2e-5 to start
/// fewer), the whole run cut at 60 s.
fn login_then_api(port: u16) -> String {
    tsung_xml_capped(port, USERS as u32, 4, Some(USERS as u32), 60, SESSION)
}

#[test]
fn login_then_api_same_requests_from_tsung_and_wsgibench() {
    let Some(tsung) = tsung() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = DynamicApp::start(&dir.path().join("tsung-requests.log"));
    let xml = dir.path().join("login_then_api.xml");
    std::fs::write(&xml, login_then_api(app.port)).unwrap();
    let began = Instant::now();
    let run = run_tsung(&tsung, &xml, dir.path(), Duration::from_secs(120));
    eprintln!("real Tsung took {:.1?}", began.elapsed());
    let theirs = app.log();
    drop(app);

    // Every request 200: the token was carried in the query and the header (no 403),
    // the cookie was kept (no 302), the title was read (`as=user`), the loop variable
    // substituted; and each template as often as users × passes.
    let u = USERS;
    let expected: BTreeMap<(String, String, u16), u64> = [
        ("POST", "/login", u),
        ("GET", "/api/items?token={token}", u),
        ("GET", "/api/items/{id}", u + u * PASSES),
        ("GET", "/page", u),
        ("GET", "/profile?as=user", u),
        ("GET", "/api/items?token={token}&pass=1", u),
        ("GET", "/api/items?token={token}&pass=2", u),
        ("GET", "/api/items?token={token}&pass=3", u),
    ]
    .into_iter()
    .map(|(m, p, n)| ((m.to_string(), p.to_string(), 200), n))
    .collect();
    assert_eq!(templates(&theirs), expected, "Tsung:\n{theirs}");
    // Each user carried its own token, not another's.
    assert_eq!(tokens(&theirs).len() as u64, u, "{theirs}");
    let log = read_json(&run.join("tsung.log"));
    assert_eq!(last(&log, "finish_users_count", "total"), Some(u));
    assert_eq!(
        last(&log, "match", "total"),
        Some(u),
        "the <match> on /page"
    );

    // wsgibench half: the same file (but for the port) against a fresh app must give
    // the same templates, and its Tsung log the same <match> count.
    let app = DynamicApp::start(&dir.path().join("wsgibench-requests.log"));
    let ours_xml = dir.path().join("login_then_api_ours.xml");
    std::fs::write(&ours_xml, login_then_api(app.port)).unwrap();
    let ours_log = dir.path().join("ours.tsung.json");
    let out = run_bounded(
        wsgibench()
            .arg("tsung")
            .arg(&ours_xml)
            .arg("-q")
            .arg("--tsung-log")
            .arg(&ours_log),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "wsgibench: {}", text(&out.stderr));
    assert_eq!(
        last(&read_json(&ours_log), "match", "total"),
        Some(u),
        "wsgibench's Tsung log counts the <match> on /page as Tsung does"
    );
    let ours = app.log();
    assert_eq!(
        templates(&ours),
        templates(&theirs),
        "wsgibench:\n{ours}\nTsung:\n{theirs}"
    );
    assert_eq!(tokens(&ours).len() as u64, u, "{ours}");
}

/// Tsung's shipped example `name` with only its `<servers>` changed to the app.
fn tsung_example_against(name: &str, port: u16, dir: &Path) -> PathBuf {
    let original = Path::new("/usr/share/doc/tsung/examples").join(name);
    let xml = std::fs::read_to_string(&original)
        .unwrap_or_else(|e| panic!("{}: {e}", original.display()));
    let (start, end) = (
        xml.find("<servers>").unwrap(),
        xml.find("</servers>").unwrap() + "</servers>".len(),
    );
    let servers = format!(
        "<servers>\n    <server host=\"127.0.0.1\" port=\"{port}\" type=\"tcp\"></server>\n  </servers>"
    );
    let path = dir.join(name);
    std::fs::write(&path, format!("{}{servers}{}", &xml[..start], &xml[end..])).unwrap();
    path
}

/// `stats: NAME VALUE TOTAL` lines of a text-backend tsung.log: the last TOTAL.
fn text_stat(log: &str, name: &str) -> Option<u64> {
    log.lines()
        .rev()
        .filter_map(|l| l.strip_prefix("stats: "))
        .filter(|l| l.split(' ').next() == Some(name))
        .find_map(|l| l.split(' ').nth(2)?.parse().ok())
}

#[test]
fn tsung_own_digest_and_oauth_examples_against_the_dynamic_app() {
    let Some(tsung) = tsung() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();

    // Digest: per user, an unauthenticated GET (401, its challenge read by
    // `header="www-authenticate/nonce"`), a GET answering it, and one answering the
    // `nextnonce` of the 200's `Authentication-Info`.
    let app = DynamicApp::start(&dir.path().join("digest.log"));
    let xml = tsung_example_against("http-digest.xml", app.port, dir.path());
    let run = run_tsung(&tsung, &xml, dir.path(), Duration::from_secs(90));
    let log = app.log();
    drop(app);
    let users = text_stat(
        &std::fs::read_to_string(run.join("tsung.log")).unwrap(),
        "users_count",
    )
    .expect("users_count in tsung.log");
    assert!(users >= 1, "{log}");
    // Tsung 1.7 authenticates right from a challenge (the 200), but cannot read the
    // nextnonce: its parser of `header="authentication-info/nextnonce"`
    // (ts_search:parse_header/2) takes the header's first word for an auth scheme, as
    // in `Digest realm=...`, and RFC 2617 3.2.3's `Authentication-Info` has none:
    // `nextnonce="..."` is taken whole for the scheme, no parameter is left, and the
    // variable becomes "" (not "the old value" the example's comment promises). The
    // third request then sends `nonce=""` and gets 401.
    let digest = |status| ("GET".to_string(), "/digest".to_string(), status);
    assert_eq!(
        templates(&log),
        BTreeMap::from([(digest(401), 2 * users), (digest(200), users)]),
        "{log}"
    );
    let dump = std::fs::read_to_string(run.join("tsung.dump")).expect("dumptraffic");
    let sent_empty_nonce = dump
        .lines()
        .filter(|l| l.starts_with("Authorization: Digest ") && l.contains(r#"nonce="""#))
        .count() as u64;
    assert_eq!(sent_empty_nonce, users, "{dump}");
    assert_eq!(
        dump.matches("Authentication-Info: nextnonce=").count() as u64,
        users,
        "the app gave each user a nextnonce: {dump}"
    );

    // OAuth: no request reaches the server. Tsung 1.7's bundled erlang-oauth normalizes
    // the signed URL with http_uri:parse/1, which Erlang/OTP 25 removed (Debian 12's
    // tsung 1.7.0-3.1 runs on OTP 25), so every user dies with `undef` before its first
    // request and Tsung counts an `error_unknown` for it, then exits 0. (Were it to
    // run, it would not sign `contents="rien"` either: oauth_uri:params_from_string/1
    // makes {"rien"} of it, which params_to_string/1 skips, where RFC 5849 3.4.1.3.1
    // counts a parameter `rien` with an empty value; and step 4 of the example passes
    // `%%access_token_secret%%`, not `%%_access_token%%`, as its token.)
    let app = DynamicApp::start(&dir.path().join("oauth.log"));
    let xml = tsung_example_against("http-oauth.xml", app.port, dir.path());
    let run = run_tsung(&tsung, &xml, dir.path(), Duration::from_secs(90));
    let log = app.log();
    drop(app);
    assert_eq!(log, "", "the server received nothing");
    let stats = std::fs::read_to_string(run.join("tsung.log")).unwrap();
    let users = text_stat(&stats, "users_count").expect("users_count");
    assert!(users >= 1, "{stats}");
    assert_eq!(text_stat(&stats, "error_unknown"), Some(users), "{stats}");
    let controller = std::fs::read_dir(&run)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("tsung_controller_"))
        .expect("the controller's log");
    let controller = std::fs::read_to_string(controller).unwrap();
    let undef = controller
        .find("{undef,")
        .unwrap_or_else(|| panic!("no undef in the controller's log:\n{controller}"));
    assert!(
        controller[undef..].contains("{http_uri,")
            && controller[undef..].contains("parse,")
            && controller[undef..].contains("oauth_uri,"),
        "{controller}"
    );
}

/// The same two examples of Tsung's, through wsgibench (no Tsung needed): digest
/// answers its challenge and follows the `nextnonce` Tsung cannot read, and OAuth
/// signs what RFC 5849 signs, body parameter included.
#[test]
fn wsgibench_answers_digest_and_signs_oauth_where_tsung_cannot() {
    let dir = tempfile::tempdir().unwrap();

    let app = DynamicApp::start(&dir.path().join("digest.log"));
    let xml = tsung_example_against("http-digest.xml", app.port, dir.path());
    let out = run_bounded(
        wsgibench().arg("tsung").arg(&xml).arg("-q"),
        Duration::from_secs(90),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = app.log();
    drop(app);
    // One user (interarrival 1 s for 1 s): the challenge, then two answers to it.
    let digest = |status| ("GET".to_string(), "/digest".to_string(), status);
    assert_eq!(
        templates(&log),
        BTreeMap::from([(digest(401), 1), (digest(200), 2)]),
        "{log}"
    );

    let app = DynamicApp::start(&dir.path().join("oauth.log"));
    let xml = tsung_example_against("http-oauth.xml", app.port, dir.path());
    let out = run_bounded(
        wsgibench().arg("tsung").arg(&xml).arg("-q"),
        Duration::from_secs(90),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = app.log();
    drop(app);
    // Two users (interarrival 1 s for 2 s). Steps 1 to 3 are signed right, the token
    // taken from the XML answer by xpath; step 4 sends `%%access_token_secret%%`
    // (no underscore), which Tsung's substitution cuts to nothing, so the server
    // rightly refuses it.
    let t = |m: &str, p: &str, s| (m.to_string(), p.to_string(), s);
    assert_eq!(
        templates(&log),
        BTreeMap::from([
            (t("POST", "/token", 200), 2),
            (t("GET", "/echo", 200), 2),
            (t("PUT", "/token/{token}", 200), 2),
            (t("GET", "/echo", 401), 2),
        ]),
        "{log}"
    );
}
