"""Shared argv handling for the launchers: `HOST PORT MODULE:CALLABLE [--workers N]`,
and the forking of N workers for servers that run one process of their own.

`--workers N` is appended by `wsgibench run --workers N` only (the catalog's
`workers_args`); without it a launcher runs as it always did.
"""

import importlib
import os
import signal
import socket
import sys
import traceback


def parse_workers(argv, name):
    """Removes `--workers N` from the end of `argv` and returns N (1 when absent)."""
    if len(argv) >= 2 and argv[-2] == "--workers":
        try:
            workers = int(argv[-1])
        except ValueError:
            workers = 0
        if workers < 1:
            sys.stderr.write("%s: --workers must be a whole number >= 1, got %r\n" % (name, argv[-1]))
            sys.exit(2)
        del argv[-2:]
        return workers
    return 1


def reuse_port_socket(host, port):
    """A listening socket of this worker's own on the shared port (SO_REUSEPORT)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def serve_forked(workers, serve):
    """Runs `serve()` in `workers` forked processes and waits for them.

    Each worker opens its own listening socket with SO_REUSEPORT (in `serve`), so the
    kernel spreads new connections over them; no worker accepts for another. This
    process only waits: when one worker exits, it stops the others and exits with that
    worker's status, so a crashed worker is the server's crash. SIGTERM, sent to the
    whole process group by the supervisor, reaches every worker directly.
    """
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                serve()
            except BaseException:
                # A worker must never return into the loop above, and its failure must
                # reach the log before it goes.
                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
    signal.signal(signal.SIGTERM, lambda *_: None)
    pid, status = os.wait()
    for other in children:
        if other != pid:
            try:
                os.kill(other, signal.SIGTERM)
            except ProcessLookupError:
                pass
    sys.exit(os.waitstatus_to_exitcode(status) if status else 0)


def parse_argv(argv, name):
    if len(argv) != 4:
        sys.stderr.write("usage: %s HOST PORT MODULE:CALLABLE [--workers N]\n" % name)
        sys.exit(2)
    host, port, spec = argv[1], argv[2], argv[3]
    try:
        port = int(port)
    except ValueError:
        sys.stderr.write("%s: port must be an integer, got %r\n" % (name, port))
        sys.exit(2)
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        sys.stderr.write("%s: app must be MODULE:CALLABLE, got %r\n" % (name, spec))
        sys.exit(2)
    # The app module sits next to the launchers' parent (python/), and the
    # current directory is where a user would put their own app.
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in (os.getcwd(), here):
        if path not in sys.path:
            sys.path.insert(0, path)
    app = getattr(importlib.import_module(module_name), attr)
    return host, port, app
