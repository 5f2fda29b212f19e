"""Runs a WSGI app on bjoern: `bjoern_server.py HOST PORT MODULE:CALLABLE [--workers N]`.

bjoern is one process on one libev loop. With `--workers N` the launcher forks N of
them, each listening on the port with SO_REUSEPORT (bjoern's `reuse_port`).
"""

import sys

import bjoern

from _common import parse_argv, parse_workers, serve_forked


def main():
    workers = parse_workers(sys.argv, "bjoern_server")
    host, port, app = parse_argv(sys.argv, "bjoern_server")
    if workers == 1:
        bjoern.run(app, host, port)
    else:
        serve_forked(workers, lambda: bjoern.run(app, host, port, reuse_port=True))


if __name__ == "__main__":
    main()
