"""A direct WSGI call harness for ``AsgiToWsgi`` tests (no server).

:func:`call` builds a PEP 3333 environ, calls the adapter like a WSGI server would
(``start_response`` recorded, the iterable consumed, ``close()`` called) and returns a
:class:`Result`.  :class:`RecordingInput` is a ``wsgi.input`` that records every read.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from asgiref._wsgi.asgi_loop import process_loop

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class RecordingInput(io.BytesIO):
    """A ``wsgi.input`` that records the size of every ``read()``."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__(data)
        self.reads: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads.append(size)
        return super().read(size)


@dataclass
class Result:
    """What a WSGI server saw."""

    status: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    starts: int = 0

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def environ(
    method: str = "GET", path: str = "/", body: bytes | io.BytesIO = b"", **extra: Any
) -> dict[str, Any]:
    """Return a minimal environ; ``CONTENT_LENGTH`` is set for a non-empty ``bytes`` body."""
    stream = body if isinstance(body, io.BytesIO) else RecordingInput(body)
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if isinstance(body, bytes) and body:
        env["CONTENT_LENGTH"] = str(len(body))
    env.update(extra)
    return env


def start(
    wsgi_app: Callable[..., Iterable[bytes]], env: dict[str, Any]
) -> tuple[Result, Iterable[bytes]]:
    """Call ``wsgi_app`` and return the recorded start and the (unconsumed) iterable."""
    result = Result()

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        result.status = status
        result.headers = headers
        result.starts += 1
        return result.chunks.append

    return result, wsgi_app(env, start_response)


def call(wsgi_app: Callable[..., Iterable[bytes]], env: dict[str, Any] | None = None) -> Result:
    """Serve one request through ``wsgi_app`` like a WSGI server."""
    result, iterable = start(wsgi_app, env or environ())
    try:
        for chunk in iterable:
            result.chunks.append(chunk)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return result


def hello(body: bytes = b"Hello, world!", status: int = 200) -> Callable[..., Awaitable[None]]:
    """Return an ASGI app (no lifespan) that answers every request with ``body``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError("no lifespan here")
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


def on_loop(coroutine: Awaitable[Any], timeout: float = 10.0) -> Any:
    """Run ``coroutine`` on the process loop of ``AsgiToWsgi`` and return its result."""

    async def run() -> Any:
        return await coroutine

    return asyncio.run_coroutine_threadsafe(run(), process_loop().loop).result(timeout)


def app_tasks() -> int:
    """Return how many tasks run on the process loop (besides the caller's)."""

    async def count() -> int:
        current = asyncio.current_task()
        return sum(
            1
            for task in asyncio.all_tasks()
            if task is not current and "Lifespan" not in repr(task.get_coro())
        )

    result: int = on_loop(count())
    return result
