"""ASGI applications served from WSGI servers through ``AsgiToWsgi`` (end-to-end tests).

* ``raw``: a plain ASGI app with a lifespan; routes ``/pid``, ``/upload`` (hashes the
  body as it streams in), ``/download?size=N`` (streams N bytes), ``/endless``
  (streams until the client goes away), ``/stats`` (threads, tasks, file descriptors),
  ``/rss/reset`` and ``/rss`` (peak memory since the reset, Linux),
  ``/together?n=N`` (answers once N such requests are in the app at the same time, or
  after 10 s with ``together: false``).
* ``starlette``: a Starlette app whose lifespan fills state.
* ``django``: Django's ``get_asgi_application()`` with a sync and an async view
  (settings: :mod:`e2e.asgi_wsgi_django`).

Lifespan events are recorded as files ``<event>-<app>-<pid>`` in ``$ASGI_WSGI_RECORD``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from asgiref.wsgi import AsgiToWsgi

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CHUNK = 64 * 1024
DISCONNECTS = {"count": 0}
LIFESPAN_TASKS: set[asyncio.Task[Any]] = set()


def record(event: str, app: str) -> None:
    """Write one lifespan event file (exclusive create: a second one would fail loudly)."""
    directory = os.environ.get("ASGI_WSGI_RECORD")
    if directory:
        Path(directory, f"{event}-{app}-{os.getpid()}").open("x").close()


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)  # pragma: no cover - Linux always has the field


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM := VmRSS (Linux)


async def _json(send: Send, value: object, status: int = 200) -> None:
    body = json.dumps(value).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send, state: dict[str, Any]) -> None:
    task = asyncio.current_task()
    assert task is not None
    LIFESPAN_TASKS.add(task)
    await receive()
    record("startup", "raw")
    state["pid"] = os.getpid()
    await send({"type": "lifespan.startup.complete"})
    await receive()
    record("shutdown", "raw")
    await send({"type": "lifespan.shutdown.complete"})


async def _upload(receive: Receive, send: Send) -> None:
    digest = hashlib.sha256()
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        digest.update(message["body"])
        size += len(message["body"])
        if not message["more_body"]:
            break
    await _json(send, {"size": size, "sha256": digest.hexdigest()})


async def _download(size: int, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    block = b"d" * CHUNK
    while size > 0:
        piece = block[: min(CHUNK, size)]
        size -= len(piece)
        await send({"type": "http.response.body", "body": piece, "more_body": size > 0})


async def _endless(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    try:
        while True:
            await send({"type": "http.response.body", "body": b"e" * 4096, "more_body": True})
    except OSError:
        DISCONNECTS["count"] += 1


TOGETHER: dict[str, Any] = {"inside": 0, "event": None}


async def _together(count: int, send: Send) -> None:
    """Wait until ``count`` requests are inside this coroutine at once (10 s at most)."""
    if TOGETHER["event"] is None:
        TOGETHER["event"] = asyncio.Event()
    event: asyncio.Event = TOGETHER["event"]
    TOGETHER["inside"] += 1
    if TOGETHER["inside"] >= count:
        event.set()
    try:
        await asyncio.wait_for(event.wait(), 10.0)
        together = True
    except TimeoutError:
        together = False
    await _json(send, {"together": together, "thread": threading.get_ident()})


def _stats() -> dict[str, Any]:
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current and t not in LIFESPAN_TASKS]
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else -1
    return {
        "threads": sorted(t.name for t in threading.enumerate()),
        "tasks": len(tasks),
        "fds": fds,
        "disconnects": DISCONNECTS["count"],
    }


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The plain ASGI application (see the module docstring for its routes)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, scope["state"])
        return
    path = scope["path"]
    query = parse_qs(scope["query_string"].decode())
    if path == "/pid":
        await _json(send, {"pid": os.getpid(), "state": scope.get("state")})
    elif path == "/upload":
        await _upload(receive, send)
    elif path == "/download":
        await _download(int(query["size"][0]), send)
    elif path == "/endless":
        await _endless(send)
    elif path == "/together":
        await _together(int(query["n"][0]), send)
    elif path == "/stats":
        await _json(send, _stats())
    elif path == "/rss/reset":
        _reset_peak_rss()
        await _json(send, {"rss_kib": _status_kib("VmRSS")})
    elif path == "/rss":
        await _json(send, {"peak_kib": _status_kib("VmHWM")})
    else:
        await _json(send, {"error": "not found"}, 404)


raw = AsgiToWsgi(raw_app, lifespan="on")


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        record("startup", "starlette")
        yield {"started_in": os.getpid()}
        record("shutdown", "starlette")

    async def state(request: Request) -> JSONResponse:
        return JSONResponse({"pid": os.getpid(), "started_in": request.state.started_in})

    return Starlette(routes=[Route("/state", state)], lifespan=lifespan)


starlette = AsgiToWsgi(_starlette(), lifespan="on")


def _django() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "e2e.asgi_wsgi_django")
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


django = AsgiToWsgi(_django())
