"""Runs a WSGI app on bjoern: `bjoern_server.py HOST PORT MODULE:CALLABLE`."""

import sys

import bjoern

from _common import parse_argv


def main():
    host, port, app = parse_argv(sys.argv, "bjoern_server")
    bjoern.run(app, host, port)


if __name__ == "__main__":
    main()
