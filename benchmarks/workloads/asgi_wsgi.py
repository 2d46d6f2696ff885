"""Bodies of the in-process ``AsgiToWsgi`` workload, a2wsgi's and its floor.

``a2w_hello`` calls the WSGI callable directly on this (non-loop) thread, like a WSGI
server's request thread: a fresh environ per request, ``start_response`` recorded, the
iterable consumed and closed; every response is checked.  The floor is one
``asyncio.run_coroutine_threadsafe`` round trip of a no-op coroutine to a loop thread:
the least any ASGI-on-WSGI adapter with a background loop must pay.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Iterable
from typing import Any

from benchmarks.workloads._base import Body, load

__all__ = ["BODIES", "hello"]

HELLO = b"Hello, world!"
Message = dict[str, Any]
_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"13")]

_TEMPLATE: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "50000",
    "HTTP_HOST": "127.0.0.1:8000",
    "HTTP_USER_AGENT": "bench",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}


async def hello(scope: Message, receive: Any, send: Any) -> None:
    """ASGI hello (Content-Length), answering the lifespan like Starlette would."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": HELLO})


def _direct(make: Callable[[Any], Callable[..., Iterable[bytes]]]) -> Body:
    wsgi = make(hello)
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)

    def request() -> None:
        environ = dict(_TEMPLATE)
        environ["wsgi.input"] = io.BytesIO()
        iterable = wsgi(environ, start_response)
        try:
            body = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        if body != HELLO or statuses.pop() != "200 OK":
            raise RuntimeError(f"bad response: {body!r}")

    request()  # starts the adapter's loop thread (and our lifespan) outside the timing

    def run(n: int) -> None:
        for _ in range(n):
            request()

    return Body(run_sync=run)


def _ours() -> Body:
    return _direct(load("asgiref.wsgi", "AsgiToWsgi"))


def _a2wsgi() -> Body:
    return _direct(load("a2wsgi", "ASGIMiddleware"))


async def _anoop() -> None:
    return None


def _floor() -> Body:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    def run(n: int) -> None:
        for _ in range(n):
            asyncio.run_coroutine_threadsafe(_anoop(), loop).result()

    return Body(run_sync=run)


BODIES: dict[str, dict[str, Callable[[], Body]]] = {
    "a2w_hello": {"ours": _ours, "a2wsgi": _a2wsgi, "floor": _floor},
}
"""Workload name -> implementation key -> body factory."""
