"""A recording HTTP server for Tsung's dynamic sessions (standard library only).

Every answer depends on something an earlier answer gave the client: a token from
the login's JSON body, a cookie, a Digest nonce, an OAuth token and secret. A client
that does not carry them gets 401, 403 or a 302, and the log shows it: one line per
request, `METHOD PATH-WITH-QUERY STATUS`, appended and flushed before the answer is sent.

    python3 app.py --port 0 --log requests.log     # prints `port N` first, then serves

Endpoints (anything else: 404):
    POST /login         form user=..&password=secret: 200 {"token", "user"} + Set-Cookie sid;
                        another password: 401
    GET  /api/items     ?token=T (a login's token): 200 {"items": [...], "next": "/api/items/2"}; else 403
    GET  /api/items/ID  Authorization: Bearer T: 200 {"id": ID}; else 403
    GET  /profile       Cookie sid from a login: 200; else 302 to /login
    GET  /page          an HTML page titled "Welcome user"
    GET  /digest        HTTP Digest (RFC 2617, MD5, qop=auth or none), user/passwd, realm
                        wsgibench: 200 + Authentication-Info nextnonce; else 401 + a challenge
    POST /token         OAuth 1.0 HMAC-SHA1 (RFC 5849) with consumer key/secret: 200 with a
    PUT  /token/T       fresh token and secret in XML (PUT: T must be a token given before)
    GET  /echo          OAuth signed with consumer and a given token + its secret: 200; else 401

HTTP/1.1 keep-alive, a Content-Length on every answer, Nagle off on accepted sockets,
bodies read by Content-Length. SIGTERM ends the process; an idle connection is closed
after 30 s, so every handler thread ends.
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets
import signal
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REALM = "wsgibench"
DIGEST_USER, DIGEST_PASSWD = "user", "passwd"
CONSUMER_KEY, CONSUMER_SECRET = "key", "secret"
LOGIN_PASSWORD = "secret"
MAX_BODY = 1 << 20


class State:
    """What the server gave out, so that it can recognise it when it comes back."""

    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.tokens = {}  # login token -> user
        self.sids = {}  # session cookie -> user
        self.nonces = set()  # every Digest nonce handed out stays valid
        self.oauth = {}  # OAuth access token -> its secret
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None

    def record(self, method, path, status):
        if self.log is None:
            return
        with self.lock:
            self.log.write(f"{method} {path} {status}\n")
            self.log.flush()

    def fresh_nonce(self):
        nonce = secrets.token_hex(16)
        with self.lock:
            self.nonces.add(nonce)
        return nonce


def percent_encode(text):
    """RFC 5849 3.6: unreserved characters stay, everything else is %XX of UTF-8."""
    return urllib.parse.quote(text, safe="-._~")


def auth_params(value):
    """`k="v", k2=v2` (a Digest or OAuth header's parameters) as a dict."""
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in re.finditer(r'([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', value)
    }


def digest_response(user, realm, passwd, method, uri, nonce, qop=None, nc=None, cnonce=None):
    """RFC 2617 3.2.2.1's request-digest, MD5; without qop, RFC 2069's."""

    def md5(text):
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = md5(f"{user}:{realm}:{passwd}"), md5(f"{method}:{uri}")
    if qop is None:
        return md5(f"{ha1}:{nonce}:{ha2}")
    return md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def oauth_signature(method, base_uri, params, consumer_secret, token_secret):
    """RFC 5849 3.4.2's HMAC-SHA1 signature over 3.4.1's base string; `params` are the
    (name, value) pairs of 3.4.1.3, decoded, oauth_signature and realm left out."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    base = "&".join(percent_encode(s) for s in (method, base_uri, normalized))
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()


def self_check():
    """The RFCs' own examples, so a wrong formula shows before any client is blamed."""
    # RFC 2617 3.5.
    got = digest_response(
        "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093", "auth", "00000001", "0a4f113b",
    )
    assert got == "6629fae49393a05397450978507c4ef1", got
    # RFC 5849 1.2, with erratum 2550's signature (the RFC's printed one is a typo).
    params = [
        ("file", "vacation.jpg"), ("size", "original"),
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"), ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]
    got = oauth_signature(
        "GET", "http://photos.example.net/photos", params, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"
    )
    assert got == "MdpQcU8iPSUjWoN/UDMsK2sui9I=", got
    print("self-check ok", flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections are dropped after this many seconds.
    timeout = 30
    server_version = "dynamic_app/1"

    def setup(self):
        # Nagle off: small answers leave at once, not after the client's delayed ACK.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, format, *args):
        pass  # the request log is ours, below

    @property
    def state(self):
        return self.server.state

    # Every method goes through one dispatcher; unknown paths are 404 for all of them.
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def dispatch(self):
        length = self.headers.get("Content-Length", "0")
        try:
            length = int(length)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            return self.answer(413, b"body too large or bad Content-Length\n")
        self.body = self.rfile.read(length) if length else b""
        if len(self.body) != length:
            self.close_connection = True
            return
        url = urllib.parse.urlsplit(self.path)
        self.route_path = url.path
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        method, path = self.command, url.path
        if method == "POST" and path == "/login":
            self.login()
        elif method == "GET" and path == "/api/items":
            self.items()
        elif method == "GET" and re.fullmatch(r"/api/items/\d+", path):
            self.item(int(path.rsplit("/", 1)[1]))
        elif method == "GET" and path == "/profile":
            self.profile()
        elif method == "GET" and path == "/page":
            self.page()
        elif method == "GET" and path == "/digest":
            self.digest()
        elif method == "POST" and path == "/token":
            self.token(refresh=None)
        elif method == "PUT" and path.startswith("/token/"):
            self.token(refresh=urllib.parse.unquote(path[len("/token/") :]))
        elif method == "GET" and path == "/echo":
            self.echo()
        else:
            self.answer(404, b"not found\n")

    def answer(self, status, body, content_type="text/plain", headers=()):
        # Logged before the answer leaves, so a client that has its answer finds the line.
        self.state.record(self.command, self.path, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def json(self, status, value, headers=()):
        self.answer(status, json.dumps(value).encode(), "application/json", headers)

    # --- login, token in JSON, cookie -------------------------------------------------

    def login(self):
        form = urllib.parse.parse_qs(self.body.decode("utf-8", "replace"))
        user = form.get("user", [""])[0]
        if form.get("password", [""])[0] != LOGIN_PASSWORD:
            return self.json(401, {"error": "bad password"})
        token, sid = secrets.token_hex(8), secrets.token_hex(12)
        with self.state.lock:
            self.state.tokens[token] = user
            self.state.sids[sid] = user
        self.json(200, {"token": token, "user": user}, [("Set-Cookie", f"sid={sid}; Path=/")])

    def known_token(self, token):
        with self.state.lock:
            return token in self.state.tokens

    def items(self):
        if not self.known_token(self.query.get("token", [""])[0]):
            return self.json(403, {"error": "bad token"})
        items = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
        self.json(200, {"items": items, "next": "/api/items/2"})

    def item(self, ident):
        auth = self.headers.get("Authorization", "")
        if not (auth.startswith("Bearer ") and self.known_token(auth[len("Bearer ") :].strip())):
            return self.json(403, {"error": "bad bearer token"})
        self.json(200, {"id": ident})

    def profile(self):
        cookies = {}
        for header in self.headers.get_all("Cookie", []):
            for part in header.split(";"):
                name, _, value = part.strip().partition("=")
                cookies[name] = value
        with self.state.lock:
            user = self.state.sids.get(cookies.get("sid", ""))
        if user is None:
            return self.answer(302, b"", headers=[("Location", "/login")])
        self.json(200, {"user": user})

    def page(self):
        body = (
            b"<html><head><title>Welcome user</title></head>"
            b"<body><p>Hello.</p></body></html>"
        )
        self.answer(200, body, "text/html")

    # --- HTTP Digest (RFC 2617) ---------------------------------------------------------

    def digest(self):
        if self.digest_ok(self.headers.get("Authorization", "")):
            nextnonce = self.state.fresh_nonce()
            return self.answer(
                200, b"digest ok\n", headers=[("Authentication-Info", f'nextnonce="{nextnonce}"')]
            )
        challenge = f'Digest realm="{REALM}", nonce="{self.state.fresh_nonce()}", qop="auth"'
        self.answer(401, b"digest required\n", headers=[("WWW-Authenticate", challenge)])

    def digest_ok(self, header):
        if not header.lower().startswith("digest "):
            return False
        p = auth_params(header[len("digest ") :])
        with self.state.lock:
            known = p.get("nonce") in self.state.nonces
        if not known or p.get("username") != DIGEST_USER or p.get("realm") != REALM:
            return False
        # The uri must be this request's (RFC 2617 3.2.2.5).
        if p.get("uri") not in (self.path, self.route_path):
            return False
        if "qop" in p and (p["qop"] != "auth" or "nc" not in p or "cnonce" not in p):
            return False
        expected = digest_response(
            DIGEST_USER, REALM, DIGEST_PASSWD, self.command, p["uri"], p["nonce"],
            p.get("qop"), p.get("nc"), p.get("cnonce"),
        )
        return hmac.compare_digest(expected, p.get("response", ""))

    # --- OAuth 1.0 HMAC-SHA1 (RFC 5849) -------------------------------------------------

    def oauth_ok(self, token_secret_of):
        """Whether the request is signed by our consumer; `token_secret_of(token)` gives
        the token's secret, None for an unknown one (the empty token: no token)."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            return False
        oauth = {
            urllib.parse.unquote(k): urllib.parse.unquote(v)
            for k, v in auth_params(header[len("OAuth ") :]).items()
        }
        if (
            oauth.get("oauth_consumer_key") != CONSUMER_KEY
            or oauth.get("oauth_signature_method") != "HMAC-SHA1"
        ):
            return False
        token_secret = token_secret_of(oauth.get("oauth_token", ""))
        if token_secret is None:
            return False
        # 3.4.1.3: the query's parameters, a form body's, and the header's but
        # oauth_signature and realm.
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded" and self.body:
            params += urllib.parse.parse_qsl(
                self.body.decode("utf-8", "replace"), keep_blank_values=True
            )
        params += [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
        # 3.4.1.2: scheme and host in lower case, the port only if not the default.
        host = self.headers.get("Host", "").lower()
        if host.endswith(":80"):
            host = host[:-3]
        base_uri = f"http://{host}{url.path}"
        expected = oauth_signature(self.command, base_uri, params, CONSUMER_SECRET, token_secret)
        return hmac.compare_digest(expected, oauth.get("oauth_signature", ""))

    def token(self, refresh):
        def consumer_only(token):
            return "" if token == "" else None

        with self.state.lock:
            known = refresh is None or refresh in self.state.oauth
        if not known or not self.oauth_ok(consumer_only):
            return self.answer(401, b"oauth signature or token refused\n")
        token, secret = secrets.token_hex(8), secrets.token_hex(12)
        with self.state.lock:
            self.state.oauth[token] = secret
        xml = (
            "<tokenCreationResponse><tokenInfo>"
            f"<token>{token}</token><tokenSecret>{secret}</tokenSecret>"
            "</tokenInfo></tokenCreationResponse>"
        )
        self.answer(200, xml.encode(), "application/xml")

    def echo(self):
        def given_token(token):
            with self.state.lock:
                return self.state.oauth.get(token) if token else None

        if not self.oauth_ok(given_token):
            return self.answer(401, b"oauth signature or token refused\n")
        self.answer(200, b"echo\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--log", help="append `METHOD PATH STATUS` per request here")
    parser.add_argument("--self-check", action="store_true", help="check the RFC examples, exit")
    args = parser.parse_args()
    if args.self_check:
        self_check()
        return 0

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args.log)

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
