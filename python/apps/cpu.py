"""`cpu`: about 1 ms of pure-Python work per request (a fixed loop), then a short answer.

The work is the same on every server, so what differs is how each shares a busy
interpreter among its connections.
"""

ROUNDS = 16_000


def work():
    acc = 0
    for i in range(ROUNDS):
        acc = (acc * 31 + i) % 1_000_003
    return acc


def app(environ, start_response):
    body = str(work()).encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
    )
    return [body]
