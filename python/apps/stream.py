"""`stream`: 1 MiB as an iterable of sixteen 64 KiB chunks, with Content-Length, so the
server writes each chunk as the app yields it."""

CHUNK = bytes(range(256)) * 256  # 65 536 bytes
CHUNKS = 16


def app(environ, start_response):
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(len(CHUNK) * CHUNKS)),
        ],
    )
    return (CHUNK for _ in range(CHUNKS))
