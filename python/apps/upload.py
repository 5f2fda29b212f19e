"""`upload`: reads the whole request body (a 16 KiB POST) and answers its length."""


def app(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    read = 0
    while read < length:
        chunk = stream.read(min(65536, length - read))
        if not chunk:
            break
        read += len(chunk)
    body = str(read).encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
    )
    return [body]
