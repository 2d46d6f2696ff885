"""An ASGI middleware that records, from the application's side, how responses went out.

It sits between the server and :class:`~asgiref.wsgi.WsgiToAsgi` and records, for
each HTTP request, the keys of ``scope["extensions"]`` that the server offered and
the type of every message the adapter sent (so a test can tell whether a file went
out as ``http.response.pathsend`` or as ``http.response.body`` blocks).

With ``offer_pathsend=True`` it also plays the part of a server that offers the
``http.response.pathsend`` extension: it adds the extension to the scope and
answers a ``pathsend`` message by sending the file's bytes itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

__all__ = ["TransportRecorder", "snapshot"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATHSEND = "http.response.pathsend"
_BLOCK = 65536

_lock = threading.Lock()  # guards _records: appended on the event loop, read by WSGI threads
_records: list[dict[str, Any]] = []  # guarded by _lock


def snapshot() -> list[dict[str, Any]]:
    """Return a copy of every record so far, oldest first.

    Runs in: any thread (a WSGI worker thread for the ``/transport/`` view).
    """
    with _lock:
        return [dict(record, messages=list(record["messages"])) for record in _records]


class TransportRecorder:
    """Wrap an ASGI application and record the scope extensions and sent message types.

    Args:
        app: the ASGI application to wrap.
        offer_pathsend: add ``http.response.pathsend`` to the scope's extensions
            and carry out ``pathsend`` messages like a server would.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], *, offer_pathsend: bool = False):
        self._app = app
        self._offer_pathsend = offer_pathsend

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        """Serve one connection scope; record it when it is an HTTP request.

        Runs in: the server's event loop.
        """
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if self._offer_pathsend:
            extensions = dict(scope.get("extensions") or {})
            extensions[PATHSEND] = {}
            scope = dict(scope, extensions=extensions)
        messages: list[str] = []
        record = {"path": scope["path"], "extensions": sorted(scope.get("extensions") or {})}
        with _lock:
            _records.append(dict(record, messages=messages))

        async def recording_send(message: Message) -> None:
            with _lock:
                messages.append(message["type"])
            if message["type"] == PATHSEND and self._offer_pathsend:
                await _send_file(Path(message["path"]), send)
            else:
                await send(message)

        await self._app(scope, receive, recording_send)


async def _send_file(path: Path, send: Send) -> None:
    """Send the bytes of ``path`` as ``http.response.body`` messages (a server's pathsend)."""
    data = await asyncio.to_thread(path.read_bytes)
    for start in range(0, len(data), _BLOCK):
        await send(
            {"type": "http.response.body", "body": data[start : start + _BLOCK], "more_body": True}
        )
    await send({"type": "http.response.body"})
