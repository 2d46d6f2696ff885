"""Applications that real servers run under the validator in ``test_validation_e2e.py``.

Every one is ``validate(app, on_violation=recorder())``, so each violation (of the app,
or of the server that calls it) lands in ``$ASGIREF_VALIDATION_LOG``.  They answer the
same paths:

=============  ======================================================================
``/hello``     a short text body
``/echo``      the request body (POST; chunked or with a content-length)
``/stream``    50 chunks of 1 KiB, 20 ms apart, so a client can leave in the middle
``/file``      this file, as a file response
``/ws``        WebSocket echo; the text ``close`` makes the app close with 4001
``/ws-deny``   WebSocket rejected before accept (close before accept: 403)
=============  ======================================================================

``probe`` is a raw ASGI app that also answers the lifespan; ``starlette_app`` is a
Starlette app with a lifespan; ``wsgi_app`` is a WSGI app under :class:`WsgiToAsgi`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from asgiref.validation import validate
from asgiref.wsgi import WsgiToAsgi
from validation_log import recorder

__all__ = ["probe", "starlette_app", "wsgi_app"]

THIS_FILE = Path(__file__).resolve()
CHUNK = b"x" * 1024
CHUNKS = 50


# --- a raw ASGI app --------------------------------------------------------------------


async def _probe(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    else:
        await _http(scope, receive, send)


async def _lifespan(scope: Any, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if "state" in scope:
                scope["state"]["started"] = True
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Any) -> bytes | None:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body", False):
            return body


async def _http(scope: Any, receive: Any, send: Any) -> None:
    body = await _read_body(receive)
    if body is None:
        return
    path = scope["path"]
    if path == "/echo":
        await _respond(send, body)
    elif path == "/stream":
        await _stream(send)
    elif path == "/file":
        await _respond(send, THIS_FILE.read_bytes())
    else:
        await _respond(send, b"hello")


async def _respond(send: Any, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _stream(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    try:
        for _ in range(CHUNKS):
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            await asyncio.sleep(0.02)
        await send({"type": "http.response.body"})
    except OSError as exc:  # spec 2.4: the client left
        _trace("send-raised", type(exc).__mro__[:3])
    else:
        _trace("stream-sent", CHUNKS)


async def _websocket(scope: Any, receive: Any, send: Any) -> None:
    await receive()  # websocket.connect
    if scope["path"] == "/ws-deny":
        await send({"type": "websocket.close"})
        return
    subprotocol = "chat" if "chat" in scope.get("subprotocols", []) else None
    await send({"type": "websocket.accept", "subprotocol": subprotocol})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") == "close":
            await send({"type": "websocket.close", "code": 4001, "reason": "asked to"})
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


def _trace(kind: str, value: object) -> None:
    """Append ``kind value`` to ``$ASGIREF_TRACE_LOG`` when it is set: what the probe saw,
    the raw material of docs/validation-findings.rst."""
    path = os.environ.get("ASGIREF_TRACE_LOG")
    if path is not None:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{kind} {value!r}\n")


async def _traced(scope: Any, receive: Any, send: Any) -> None:
    """``_probe``, tracing the scope and every event the server delivers."""
    _trace("scope", scope)

    async def traced_receive() -> Any:
        message = await receive()
        _trace(
            "receive", {**message, "body": message["body"][:20]} if "body" in message else message
        )
        return message

    await _probe(scope, traced_receive, send)


probe = validate(_traced, on_violation=recorder())


# --- Starlette ----------------------------------------------------------------------------


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"started": True}

    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello")

    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="text/plain")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(CHUNKS):
            yield CHUNK
            await asyncio.sleep(0.02)

    async def stream(request: Request) -> Response:
        return StreamingResponse(chunks())

    async def file(request: Request) -> Response:
        return FileResponse(THIS_FILE)

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="chat" if websocket.scope["subprotocols"] else None)
        async for text in websocket.iter_text():
            if text == "close":
                await websocket.close(code=4001, reason="asked to")
                return
            await websocket.send_text(text)

    async def deny(websocket: WebSocket) -> None:
        await websocket.close()

    routes = [
        Route("/hello", hello, methods=["GET", "HEAD"]),
        Route("/echo", echo, methods=["POST"]),
        Route("/stream", stream),
        Route("/file", file),
        WebSocketRoute("/ws", ws),
        WebSocketRoute("/ws-deny", deny),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


starlette_app = validate(_starlette(), on_violation=recorder())


# --- WSGI under WsgiToAsgi ----------------------------------------------------------------


def _wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/echo":
        body = environ["wsgi.input"].read()
    elif path == "/stream":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _slow_chunks()
    elif path == "/file":
        body = THIS_FILE.read_bytes()
    else:
        body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _slow_chunks() -> Iterable[bytes]:
    for _ in range(CHUNKS):
        yield CHUNK
        time.sleep(0.02)


wsgi_app = validate(WsgiToAsgi(_wsgi), on_violation=recorder())
