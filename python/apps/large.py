"""`large`: answers a 64 KiB body, one bytes object: how a server writes a body larger
than a socket's first send."""

BODY = bytes(range(256)) * 256  # 65 536 bytes


def app(environ, start_response):
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(len(BODY))),
        ],
    )
    return [BODY]
