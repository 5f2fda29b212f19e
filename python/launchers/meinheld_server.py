"""Runs a WSGI app on meinheld: `meinheld_server.py HOST PORT MODULE:CALLABLE [--workers N]`.

meinheld is one process. With `--workers N` the launcher forks N of them, each
serving its own listening socket on the port (SO_REUSEPORT, its descriptor handed to meinheld
with `set_listen_socket`).

The keep-alive timeout is 10 s, as in the original benchmark, so a user's
connection survives the pauses between its requests. The access log is off, as it is
for every other case: meinheld writes one line per request by default, which cost it
two thirds of its throughput here (17 000 instead of ~45 000 req/s, and a 117 MB log
for one 90 s run).
"""

import sys

from meinheld import server

from _common import parse_argv, parse_workers, reuse_port_socket, serve_forked


def main():
    workers = parse_workers(sys.argv, "meinheld_server")
    host, port, app = parse_argv(sys.argv, "meinheld_server")
    server.set_keepalive(10)
    server.set_access_logger(None)
    if workers == 1:
        server.listen((host, port))
        server.run(app)
        return

    def serve():
        # Held here: meinheld keeps only the descriptor, and a collected socket closes it.
        sock = reuse_port_socket(host, port)
        server.set_listen_socket(sock.fileno())
        server.run(app)
        sock.detach()  # meinheld closed it when it stopped

    serve_forked(workers, serve)


if __name__ == "__main__":
    main()
