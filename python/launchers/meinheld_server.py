"""Runs a WSGI app on meinheld: `meinheld_server.py HOST PORT MODULE:CALLABLE`.

The keep-alive timeout is 10 s, as in the original benchmark, so a user's
connection survives the pauses between its requests.
"""

import sys

from meinheld import server

from _common import parse_argv


def main():
    host, port, app = parse_argv(sys.argv, "meinheld_server")
    server.set_keepalive(10)
    server.listen((host, port))
    server.run(app)


if __name__ == "__main__":
    main()
