"""A user's app for the --app tests: two paths, one dependency from its own
requirements.txt, and one server that it answers differently."""

import time

import six  # from requirements.txt: proves the app's venv has it


def app(environ, start_response):
    if environ["PATH_INFO"] == "/echo":
        # The length of what was posted: proves the body reached the app.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = str(len(environ["wsgi.input"].read(length))).encode()
    elif environ["PATH_INFO"] == "/time":
        # Changes from one answer to the next: servers are compared by length.
        body = ("%.6f" % time.time()).encode()
    elif "gunicorn" in environ.get("SERVER_SOFTWARE", ""):
        body = b"shop (gunicorn edition)"
    else:
        body = six.ensure_binary("shop")
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]
