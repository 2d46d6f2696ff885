"""A Flask (Werkzeug) application served through :class:`~asgiref.wsgi.WsgiToAsgi`.

Both endpoints answer JSON ``{"length": ..., "sha256": ...}`` for the request body:

* ``POST /data`` reads it with ``request.get_data()`` (all at once);
* ``POST /stream`` reads ``request.stream`` in 64 KiB blocks.

Werkzeug reads a body without ``Content-Length`` (a chunked upload) only when the
environ says ``wsgi.input_terminated``; without it, both endpoints see 0 bytes.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, jsonify, request

from asgiref.wsgi import WsgiToAsgi

__all__ = ["application", "flask_app"]

_READ_BLOCK = 65536

flask_app = Flask(__name__)
"""The WSGI application."""


def _summary(length: int, digest: str) -> Response:
    """Return the JSON answer of both endpoints."""
    return jsonify(length=length, sha256=digest)


@flask_app.post("/data")
def data() -> Response:
    """Hash the body read with ``request.get_data()``."""
    body = request.get_data(cache=False)
    return _summary(len(body), hashlib.sha256(body).hexdigest())


@flask_app.post("/stream")
def stream() -> Response:
    """Hash the body read from ``request.stream`` in blocks."""
    digest = hashlib.sha256()
    length = 0
    while block := request.stream.read(_READ_BLOCK):
        digest.update(block)
        length += len(block)
    return _summary(length, digest.hexdigest())


application = WsgiToAsgi(flask_app)
"""The ASGI application that the servers import: :data:`flask_app` behind the adapter."""
