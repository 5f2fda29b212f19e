"""Runs a WSGI app on gevent's pywsgi server: `gevent_server.py HOST PORT MODULE:CALLABLE`.

Logging is off (log=None) because writing one access-log line per request would
measure the log, not the server; the original benchmark did the same.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

from _common import parse_argv  # noqa: E402


def main():
    host, port, app = parse_argv(sys.argv, "gevent_server")
    WSGIServer((host, port), app, log=None).serve_forever()


if __name__ == "__main__":
    main()
