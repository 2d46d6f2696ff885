"""WSGI applications for the hardening end-to-end tests (issue 12: D1, D41, D42, logging).

The module-level ASGI application :data:`application` is what a real server imports
as ``e2e.wsgi_hardening_apps:application``:

=====================  =============================================================
``/closeraise?id=T``   streamed response (no ``Content-Length``) of :data:`CLOSE_ITEMS`
                       items; the iterable's ``close()`` records its thread under ``T``
                       and raises ``RuntimeError("close failed for T")``
``/closeinfo?id=T``    JSON: how often ``close()`` ran for ``T`` and whether it ran on
                       the thread that called the application
``/bad?case=C``        ``start_response`` with the malformed header of :data:`BAD_HEADERS`
``/latin1``            a valid non-ASCII latin-1 header value (``café``, D14/D32)
``/noread``            answers without reading ``wsgi.input``
``/hello``             fixed body with ``Content-Length``
``/boom?id=T``         raises ``ValueError("boom T")`` before ``start_response``
=====================  =============================================================
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from asgiref.wsgi import WsgiToAsgi
from e2e.wsgi_apps import HELLO_BODY, dispatch, query, respond, respond_json

__all__ = [
    "BAD_HEADERS",
    "CLOSE_ITEMS",
    "HELLO_BODY",
    "INJECTED",
    "LATIN1_VALUE",
    "NOREAD_BODY",
    "application",
    "close_item",
]

NOREAD_BODY = b"answered without reading the body\n"
CLOSE_ITEMS = 32
LATIN1_VALUE = "café"
#: A header line that a splitting header would smuggle onto the wire.
INJECTED = "X-Injected: yes"

#: The malformed headers of ``/bad`` (each list goes to ``start_response`` as is).
BAD_HEADERS: dict[str, list[tuple[str, str]]] = {
    "cl-abc": [("Content-Length", "abc")],
    "cl-negative": [("Content-Length", "-1")],
    "cl-two": [("Content-Length", "5"), ("Content-Length", "6")],
    "value-crlf": [("X-A", f"a\r\n{INJECTED}")],
    "value-cr": [("X-A", f"a\r{INJECTED}")],
    "value-lf": [("X-A", f"a\n{INJECTED}")],
    "value-nul": [("X-A", f"a\0{INJECTED}")],
    "name-space": [("X-A b", "c")],
    "name-colon": [(f"{INJECTED}\r\nX-B", "c")],
    "name-colon-only": [("X-A:b", "c")],
    "name-non-ascii": [("X-Ä", "c")],
}


def close_item(index: int) -> bytes:
    """Return item ``index`` of the ``/closeraise`` body (4 KiB, distinct per index)."""
    return f"{index:04d}".encode() * 1024


class _Shared:
    """What the endpoints record in the server process; every field guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.app_threads: dict[str, int] = {}  # guarded by lock
        self.close_threads: dict[str, list[int]] = {}  # guarded by lock


_shared = _Shared()


class _RaisingClose:
    """A streamed body whose ``close()`` records its thread, then raises ``RuntimeError``."""

    def __init__(self, stream_id: str) -> None:
        self._stream_id = stream_id
        self._items = (close_item(index) for index in range(CLOSE_ITEMS))

    def __iter__(self) -> Iterator[bytes]:
        return self._items

    def close(self) -> None:
        with _shared.lock:
            _shared.close_threads.setdefault(self._stream_id, []).append(threading.get_ident())
        raise RuntimeError(f"close failed for {self._stream_id}")


def _closeraise(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    stream_id = query(environ, "id")
    with _shared.lock:
        _shared.app_threads[stream_id] = threading.get_ident()
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return _RaisingClose(stream_id)


def _closeinfo(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    stream_id = query(environ, "id")
    with _shared.lock:
        threads = list(_shared.close_threads.get(stream_id, []))
        app_thread = _shared.app_threads.get(stream_id)
    same = all(thread == app_thread for thread in threads)
    not_main = all(thread != threading.main_thread().ident for thread in threads)
    return respond_json(
        start_response,
        {"calls": len(threads), "same_thread": same, "off_main_thread": not_main},
    )


def _bad(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    headers = [("Content-Type", "text/plain"), *BAD_HEADERS[query(environ, "case")]]
    start_response("200 OK", headers)
    return [b"never sent\n"]


def _latin1(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Length", "3"), ("X-Latin", f"  {LATIN1_VALUE} ")])
    return [b"ok\n"]


def _noread(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    return respond(start_response, NOREAD_BODY)


def _hello(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    return respond(start_response, HELLO_BODY)


def _boom(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    raise ValueError(f"boom {query(environ, 'id')}")


_ROUTES: dict[str, WSGIApplication] = {
    "/closeraise": _closeraise,
    "/closeinfo": _closeinfo,
    "/bad": _bad,
    "/latin1": _latin1,
    "/noread": _noread,
    "/hello": _hello,
    "/boom": _boom,
}


wsgi_application = dispatch(_ROUTES)
"""The endpoints of this module as one WSGI application."""

application = WsgiToAsgi(wsgi_application)
"""The ASGI application the servers import."""
