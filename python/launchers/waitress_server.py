"""Runs a WSGI app on waitress: `waitress_server.py HOST PORT MODULE:CALLABLE [--workers N]`.

Logging of the queue is off. waitress warns "Task queue depth is N" on its
`waitress.queue` logger each time a request waits for one of its threads, which under
this benchmark's load is nearly every request: one full run wrote 372 584 such lines
(16 MB) while serving, so the run measured the log as much as the server. waitress's
docs name that logger for this purpose, and raising its level to ERROR silences the
warnings alone. The `waitress` logger keeps INFO, as `waitress-serve` sets it: its
start line ("Serving on ...") and real trouble are still written.

The thread count is waitress's default (4 threads, set by not passing `threads`), as
the catalog's case says, so results stay comparable with runs of `waitress-serve`.
waitress is one process whose workers are threads (its docs scale it with `threads`):
`--workers N` gives it 4 x N threads, its default per worker.
waitress has no access log of its own (that is paste's TransLogger), so nothing else
writes per request.
"""

import logging
import sys

import waitress

from _common import parse_argv, parse_workers


def main():
    workers = parse_workers(sys.argv, "waitress_server")
    host, port, app = parse_argv(sys.argv, "waitress_server")
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if workers == 1:
        waitress.serve(app, host=host, port=port)
    else:
        waitress.serve(app, host=host, port=port, threads=4 * workers)


if __name__ == "__main__":
    main()
