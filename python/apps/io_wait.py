"""`io`: waits 10 ms, as an app waits on a database, then answers.

It waits with time.sleep, as a database driver blocks. The gevent cases run the app
with gevent's monkey patching (their launchers, gunicorn's gevent worker and uWSGI's
--gevent-early-monkey-patch), so the wait yields to other requests; elsewhere it
holds the worker, and one worker serves at most 100 requests per second.
"""

import time

BODY = b"waited 10 ms"


def app(environ, start_response):
    time.sleep(0.010)
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]
