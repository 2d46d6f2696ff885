"""Bodies of the validation workload: one simple HTTP request through ``validate(app)``,
side by side with the same app unwrapped (the floor).

The driver is a scripted server (a uvicorn-like scope with five request headers, one
``http.request``, a ``send`` that checks the status); the app answers ``200`` with two
headers and a 13-byte body.  The difference between the two is what validation costs per
request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.workloads._base import Body, load

__all__ = ["BODIES"]

Message = dict[str, Any]

_SCOPE: Message = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "server": ("127.0.0.1", 8000),
    "client": ("127.0.0.1", 50000),
    "scheme": "http",
    "method": "GET",
    "root_path": "",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "headers": [
        (b"host", b"127.0.0.1:8000"),
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate"),
        (b"connection", b"keep-alive"),
        (b"user-agent", b"bench"),
    ],
    "state": {},
}
_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}
_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
}
_BODY: Message = {"type": "http.response.body", "body": b"Hello, world!"}


async def hello(scope: Message, receive: Callable[[], Any], send: Callable[[Message], Any]) -> None:
    """The app: read the request, answer hello."""
    await receive()
    await send(_START)
    await send(_BODY)


class _Server:
    """A scripted server: ``receive`` returns the request, ``send`` counts 200 answers."""

    def __init__(self) -> None:
        self.answered = 0

    async def receive(self) -> Message:
        return _REQUEST

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            self.answered += 1


def _body(wrap: bool) -> Body:
    app = load("asgiref.validation", "validate")(hello) if wrap else hello
    server = _Server()
    receive, send = server.receive, server.send

    async def run(n: int) -> None:
        before = server.answered
        for _ in range(n):
            await app(_SCOPE, receive, send)
        if server.answered - before != n:
            raise RuntimeError(f"{n - server.answered + before} requests were not answered")

    return Body(run_async=run)


BODIES: dict[str, dict[str, Callable[[], Body]]] = {
    "validation_http": {"ours": lambda: _body(True), "floor": lambda: _body(False)},
}
