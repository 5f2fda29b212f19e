"""The WSGI apps every server case serves.

`pong` is the seed benchmark's app (the original's `app/simple.py:pong`): the
smallest useful answer, so a run measures the server, not the app. `sleep` is a
slow handler kept for later cases (how a server behaves when workers block).
`pong_plain` is `pong` without the `Connection` header, for servers that
enforce PEP 3333's ban on hop-by-hop headers.
"""

import time

PONG = b"Pong!"
HELLO = b"Hello!"


def pong(environ, start_response):
    # Content-Length and an explicit keep-alive let every server keep the
    # connection open, as the original's Tsung users expect.
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(PONG))),
            ("Connection", "keep-alive"),
        ],
    )
    return [PONG]


def pong_plain(environ, start_response):
    # PEP 3333 forbids hop-by-hop headers (Connection) in an app's answer;
    # strict servers (waitress) refuse `pong` with a 500. They keep HTTP/1.1
    # connections alive on their own, so this answer is the same on the wire.
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(PONG)))],
    )
    return [PONG]


def sleep(environ, start_response):
    time.sleep(5)
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(HELLO))),
            ("Connection", "keep-alive"),
        ],
    )
    return [HELLO]
