"""Serve a WSGI application with ``wsgiref`` or ``waitress`` on 127.0.0.1 until SIGTERM.

``python -m e2e.asgi_wsgi_serve <wsgiref|waitress> <module:attribute> <port>``.  SIGTERM
stops the server gracefully and the interpreter exits normally (so ``AsgiToWsgi`` runs the
lifespan shutdown), like gunicorn's workers do:

* ``wsgiref`` handles requests on the main thread, where the signal handler runs, and
  its handler swallows any exception raised while it writes a response (``SystemExit``
  included: the server would then serve on and never exit).  So the handler only sets a
  flag; the main loop finishes the request in progress, sees the flag within
  :data:`POLL` seconds and returns.
* ``waitress`` serves on worker threads: ``SystemExit`` raised in its main thread ends
  ``serve()``.
"""

from __future__ import annotations

import importlib
import signal
import sys
from typing import Any, NoReturn

#: Seconds the wsgiref loop waits for a connection before it looks at the stop flag.
POLL = 0.1

_stopping = {"requested": False}


def _exit(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(0)


def _request_stop(signum: int, frame: Any) -> None:
    _stopping["requested"] = True


def main(server: str, target: str, port: int) -> None:
    module, _, attribute = target.partition(":")
    application = getattr(importlib.import_module(module), attribute)
    if server == "wsgiref":
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        signal.signal(signal.SIGTERM, _request_stop)
        with make_server("127.0.0.1", port, application, handler_class=QuietHandler) as httpd:
            httpd.timeout = POLL
            while not _stopping["requested"]:
                httpd.handle_request()  # one request, or none after POLL seconds
    else:
        signal.signal(signal.SIGTERM, _exit)
        import waitress  # type: ignore[import-untyped, unused-ignore]

        waitress.serve(application, host="127.0.0.1", port=port, threads=4, _quiet=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
