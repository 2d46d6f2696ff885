"""Serve a WSGI application with ``wsgiref`` or ``waitress`` on 127.0.0.1 until SIGTERM.

``python -m e2e.asgi_wsgi_serve <wsgiref|waitress> <module:attribute> <port>``.  SIGTERM
raises ``SystemExit`` in the main thread, so the interpreter exits normally (and
``AsgiToWsgi`` runs the lifespan shutdown), like gunicorn's workers do.
"""

from __future__ import annotations

import importlib
import signal
import sys
from typing import Any, NoReturn


def _exit(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(0)


def main(server: str, target: str, port: int) -> None:
    module, _, attribute = target.partition(":")
    application = getattr(importlib.import_module(module), attribute)
    signal.signal(signal.SIGTERM, _exit)
    if server == "wsgiref":
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        with make_server("127.0.0.1", port, application, handler_class=QuietHandler) as httpd:
            httpd.serve_forever()
    else:
        import waitress  # type: ignore[import-untyped, unused-ignore]

        waitress.serve(application, host="127.0.0.1", port=port, threads=4, _quiet=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
