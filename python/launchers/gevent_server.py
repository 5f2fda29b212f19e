"""Runs a WSGI app on gevent's pywsgi server: `gevent_server.py HOST PORT MODULE:CALLABLE [--workers N]`.

gevent's server is one process. With `--workers N` the launcher forks N of them
(gevent's patched fork reinitializes its loop in each), each serving its own
listening socket on the port (SO_REUSEPORT).

Logging is off (log=None) because writing one access-log line per request would
measure the log, not the server; the original benchmark did the same.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

from _common import parse_argv, parse_workers, reuse_port_socket, serve_forked  # noqa: E402


def main():
    workers = parse_workers(sys.argv, "gevent_server")
    host, port, app = parse_argv(sys.argv, "gevent_server")
    if workers == 1:
        WSGIServer((host, port), app, log=None).serve_forever()
    else:
        serve_forked(
            workers,
            lambda: WSGIServer(reuse_port_socket(host, port), app, log=None).serve_forever(),
        )


if __name__ == "__main__":
    main()
