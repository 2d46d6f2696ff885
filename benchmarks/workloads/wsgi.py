"""Bodies of the in-process ``WsgiToAsgi`` workloads, a2wsgi's and the one-hop floor.

The ASGI application is awaited directly with a scripted ``receive``/``send`` that behaves
like a server: request messages first, then ``receive()`` blocks until the final response
body was sent and answers ``http.disconnect``. Every request checks status and byte counts,
so a broken adapter fails loudly instead of being timed.
"""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from benchmarks.workloads._base import Body, load

__all__ = ["BODIES"]

CHUNK = 64 * 1024
HELLO = b"Hello, world!"
_STREAM_CHUNKS = 16  # 1 MiB
_BODY_CHUNKS = 160  # 10 MiB
_UPLOAD_CHUNKS = 1024  # 64 MiB
_PAYLOAD = b"x" * CHUNK  # one shared object: the scripted client itself allocates nothing

Message = dict[str, Any]
StartResponse = Callable[..., object]
Environ = dict[str, Any]

_SCOPE: Message = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}


def hello_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """WSGI hello with Content-Length."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [HELLO]


def stream_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """A 1 MiB response produced by a generator, 64 KiB at a time."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    for _ in range(_STREAM_CHUNKS):
        yield _PAYLOAD


def upload_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Read the whole request body in 64 KiB reads, answer with its length."""
    stream = environ["wsgi.input"]
    total = 0
    while chunk := stream.read(CHUNK):
        total += len(chunk)
    body = str(total).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


class Exchange:
    """One scripted request: what a server's ``receive``/``send`` would do."""

    def __init__(self, chunks: Sequence[bytes], method: str = "GET") -> None:
        self.scope: Message = dict(_SCOPE, method=method)
        if chunks:
            length = str(sum(map(len, chunks))).encode()
            self.scope["headers"] = [*_SCOPE["headers"], (b"content-length", length)]
        self._chunks = chunks
        self._next = 0
        self._finished = asyncio.Event()
        self.status = 0
        self.received = 0

    async def receive(self) -> Message:
        """Next request message; after the body, wait for the response, then disconnect."""
        index = self._next
        if index < len(self._chunks) or index == 0:
            self._next = index + 1
            body = self._chunks[index] if self._chunks else b""
            return {
                "type": "http.request",
                "body": body,
                "more_body": index + 1 < len(self._chunks),
            }
        await self._finished.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """Record the status and count body bytes."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self._finished.set()

    def check(self, expected_bytes: int) -> None:
        """Raise unless the response was a 200 with ``expected_bytes`` body bytes."""
        if self.status != 200 or self.received != expected_bytes:
            raise RuntimeError(f"bad response: status {self.status}, {self.received} bytes")


AsgiApp = Callable[[Message, Callable[[], Any], Callable[[Message], Any]], Any]
Request = Callable[[Exchange], Any]


def _adapter(impl: str, app: Callable[..., Iterable[bytes]]) -> Request:
    """The ASGI request function of ``impl`` (ours/ref: WsgiToAsgi; a2wsgi: WSGIMiddleware)."""
    asgi: AsgiApp
    if impl == "a2wsgi":
        asgi = load("a2wsgi", "WSGIMiddleware")(app)
    else:
        asgi = load("asgiref.wsgi", "WsgiToAsgi")(app)

    async def request(exchange: Exchange) -> None:
        await asgi(exchange.scope, exchange.receive, exchange.send)

    return request


_TEMPLATE: Environ = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_HOST": "127.0.0.1:8000",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}
"""The environ of the floors: a realistic one, prebuilt (the floors copy it)."""


def _start(
    app: Callable[..., Iterable[bytes]], body: bytes
) -> tuple[list[tuple[bytes, bytes]], Iterable[bytes]]:
    """Call the WSGI app on the current thread; return raw headers and its iterable."""
    environ = dict(_TEMPLATE)
    environ["wsgi.input"] = io.BytesIO(body)
    headers: list[tuple[str, str]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        headers.extend(response_headers)

    iterable = app(environ, start_response)
    return [(name.lower().encode(), value.encode()) for name, value in headers], iterable


def _floor(app: Callable[..., Iterable[bytes]]) -> Request:
    """One ``run_in_executor`` hop per request: read the body, run the app, send its chunks."""

    def call_app(body: bytes) -> tuple[list[tuple[bytes, bytes]], list[bytes]]:
        headers, iterable = _start(app, body)
        return headers, list(iterable)

    async def request(exchange: Exchange) -> None:
        parts = []
        while True:
            message = await exchange.receive()
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        loop = asyncio.get_running_loop()
        headers, chunks = await loop.run_in_executor(None, call_app, b"".join(parts))
        await exchange.send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in chunks:
            await exchange.send({"type": "http.response.body", "body": chunk, "more_body": True})
        await exchange.send({"type": "http.response.body", "body": b""})

    return request


def _floor_per_chunk(app: Callable[..., Iterable[bytes]]) -> Request:
    """A hop to start the app, then one ``run_in_executor`` hop per response chunk."""

    async def request(exchange: Exchange) -> None:
        await exchange.receive()
        loop = asyncio.get_running_loop()
        headers, iterable = await loop.run_in_executor(None, _start, app, b"")
        await exchange.send({"type": "http.response.start", "status": 200, "headers": headers})
        chunks = iter(iterable)
        while (chunk := await loop.run_in_executor(None, next, chunks, None)) is not None:
            await exchange.send({"type": "http.response.body", "body": chunk, "more_body": True})
        await exchange.send({"type": "http.response.body", "body": b""})

    return request


def _request_for(impl: str, app: Callable[..., Iterable[bytes]]) -> Request:
    if impl == "floor":
        return _floor(app)
    if impl == "floor_chunk":
        return _floor_per_chunk(app)
    return _adapter(impl, app)


def _sequential(
    app: Callable[..., Iterable[bytes]], chunks: Sequence[bytes], expected: int, method: str
) -> Callable[[str], Body]:
    def make(impl: str) -> Body:
        request = _request_for(impl, app)

        async def run(n: int) -> None:
            for _ in range(n):
                exchange = Exchange(chunks, method)
                await request(exchange)
                exchange.check(expected)

        return Body(run_async=run)

    return make


def _concurrent_hello(impl: str) -> Body:
    request = _request_for(impl, hello_app)

    async def one() -> None:
        exchange = Exchange(())
        await request(exchange)
        exchange.check(len(HELLO))

    async def run(n: int) -> None:
        for _ in range(n):
            await asyncio.gather(*(one() for _ in range(100)))

    return Body(run_async=run)


def _bind(make: Callable[[str], Body], impls: Sequence[str]) -> dict[str, Callable[[], Body]]:
    return {impl: functools.partial(make, impl) for impl in impls}


_IMPLS = ("ours", "ref", "a2wsgi", "floor")
_BODY = (_PAYLOAD,) * _BODY_CHUNKS
_UPLOAD = (_PAYLOAD,) * _UPLOAD_CHUNKS

BODIES: dict[str, dict[str, Callable[[], Body]]] = {
    "wsgi_hello": _bind(_sequential(hello_app, (), len(HELLO), "GET"), _IMPLS),
    "wsgi_hello_100": _bind(_concurrent_hello, _IMPLS),
    "wsgi_stream_1mib": _bind(
        _sequential(stream_app, (), CHUNK * _STREAM_CHUNKS, "GET"), (*_IMPLS, "floor_chunk")
    ),
    "wsgi_body_10mib": _bind(
        _sequential(upload_app, _BODY, len(str(CHUNK * _BODY_CHUNKS)), "POST"), _IMPLS
    ),
    "wsgi_upload_64mib": _bind(
        _sequential(upload_app, _UPLOAD, len(str(CHUNK * _UPLOAD_CHUNKS)), "POST"), _IMPLS
    ),
}
"""Workload name -> implementation key -> body factory."""
