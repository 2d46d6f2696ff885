"""Scripted ASGI peer for the in-process ``asgiref.wsgi`` tests (``tests/test_wsgi_*.py``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from asgiref.wsgi import WsgiToAsgi

Message = dict[str, Any]
Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[Any], object]]

#: How long a test waits for another thread before it fails (never a timing assertion).
WAIT = 10.0


def http_scope(**overrides: Any) -> dict[str, Any]:
    """A minimal, valid ``http`` scope; keyword arguments replace or add keys."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(overrides)
    return scope


class Peer:
    """The server side: an inbox for ``receive()`` and a record of ``send()``.

    ``receive()`` blocks (without spinning) until a message is put in the inbox.
    """

    def __init__(self, *messages: Message) -> None:
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        for message in messages:
            self.inbox.put_nowait(message)
        self.sent: list[Message] = []
        self.receive_calls = 0

    async def receive(self) -> Message:
        self.receive_calls += 1
        return await self.inbox.get()

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def bodies(self) -> list[bytes]:
        return [m.get("body", b"") for m in self.sent if m["type"] == "http.response.body"]


def request(body: bytes = b"", more_body: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more_body}


async def run_app(
    app: Callable[[Environ, StartResponse], Iterable[bytes]],
    *messages: Message,
    scope: dict[str, Any] | None = None,
    **options: Any,
) -> Peer:
    """Serve one request to ``app``; returns the peer with everything sent."""
    peer = Peer(*(messages or (request(),)))
    await WsgiToAsgi(app, **options)(scope or http_scope(), peer.receive, peer.send)
    return peer


def start(status: str = "200 OK", headers: list[tuple[bytes, bytes]] | None = None) -> Message:
    return {
        "type": "http.response.start",
        "status": int(status.split()[0]),
        "headers": headers or [],
    }


def body(data: bytes) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": True}


END: Message = {"type": "http.response.body"}


class Closing:
    """A lazy body iterable recording ``next()`` calls and ``close()`` calls and threads."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items: Iterator[Any] = iter(items)
        self.requested = 0
        self.closed = 0
        self.close_thread: int | None = None
        self.next_threads: set[int] = set()
        self.close_event = threading.Event()

    def __iter__(self) -> Closing:
        return self

    def __next__(self) -> Any:
        self.requested += 1
        self.next_threads.add(threading.get_ident())
        return next(self._items)

    def close(self) -> None:
        self.closed += 1
        self.close_thread = threading.get_ident()
        self.close_event.set()
