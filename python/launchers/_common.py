"""Shared argv handling for the launchers: `HOST PORT MODULE:CALLABLE`."""

import importlib
import os
import sys


def parse_argv(argv, name):
    if len(argv) != 4:
        sys.stderr.write("usage: %s HOST PORT MODULE:CALLABLE\n" % name)
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
