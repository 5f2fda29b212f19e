"""Runs a WSGI app on pyruvate: `pyruvate_server.py HOST PORT MODULE:CALLABLE`.

pyruvate has no command line of its own (it is started from Python or PasteDeploy).
Two worker threads, as in its README's first example: the thread count is a required
argument with no default.

Keep-alive stays at pyruvate's default, off (`max_reuse_count=0`): it answers
`Connection: close` and closes, as gunicorn's sync worker does. Turning it on does not
work in 1.6.1 here: with `max_reuse_count=10` it answers `Connection: keep-alive`
and then closes the connection without reading the next request, and with 255 (the
most it takes, a u8) it keeps the connection open but never answers a second request.

Its log goes to Python's `logging` (logger `pyruvate`), which without configuration
shows warnings and errors only: nothing per request.
"""

import sys

import pyruvate

from _common import parse_argv

THREADS = 2


def main():
    host, port, app = parse_argv(sys.argv, "pyruvate_server")
    pyruvate.serve(app, "%s:%d" % (host, port), THREADS)


if __name__ == "__main__":
    main()
