"""Runs a WSGI app on meinheld: `meinheld_server.py HOST PORT MODULE:CALLABLE`.

The keep-alive timeout is 10 s, as in the original benchmark, so a user's
connection survives the pauses between its requests. The access log is off, as it is
for every other case: meinheld writes one line per request by default, which cost it
two thirds of its throughput here (17 000 instead of ~45 000 req/s, and a 117 MB log
for one 90 s run).
"""

import sys

from meinheld import server

from _common import parse_argv


def main():
    host, port, app = parse_argv(sys.argv, "meinheld_server")
    server.set_keepalive(10)
    server.set_access_logger(None)
    server.listen((host, port))
    server.run(app)


if __name__ == "__main__":
    main()
