"""The corpus of the validator's tests: broken apps, broken servers, and well-formed traffic.

An app here is a *script*: the events it sends, in order, with ``RECV`` where it calls
``receive()``.  :func:`script_app` turns a script into a real ASGI application.  A server
case is a scope plus the events ``receive()`` returns, played to a well-behaved app.
Every case names the rule it must be caught by; every rule of ``RULES`` has a case.
"""

# ruff: noqa: E501  (the corpus tables keep one case per line)

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BAD_APPS",
    "BAD_SERVERS",
    "GOOD_APPS",
    "GOOD_SERVERS",
    "RECV",
    "AppCase",
    "ServerCase",
    "lifespan_scope",
    "run_case",
    "script_app",
    "sent_steps",
    "http_scope",
    "ws_scope",
]

RECV = "recv"
ABSOLUTE = os.path.abspath(__file__)
"""An absolute path of an existing file, on every platform."""
DROP = object()
"""A scope override value that removes the key."""


class _File:
    """Stands for a real file: ``zerocopysend`` needs only ``fileno()``."""

    def fileno(self) -> int:
        return 0


FILE = _File()
Script = list[Any]
App = Callable[[Any, Any, Any], Coroutine[Any, Any, None]]

HTTP_EXTENSIONS: dict[str, dict[str, Any]] = {
    name: {}
    for name in (
        "http.response.pathsend",
        "http.response.trailers",
        "http.response.zerocopysend",
        "http.response.early_hint",
        "http.response.push",
        "http.response.debug",
    )
}


def _apply(scope: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is DROP:
            scope.pop(key, None)
        else:
            scope[key] = value
    return scope


def http_scope(**overrides: Any) -> dict[str, Any]:
    """A well-formed http scope, changed by ``overrides`` (``DROP`` removes a key)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/hello",
        "raw_path": b"/hello",
        "query_string": b"a=1",
        "root_path": "",
        "headers": [(b"host", b"example.test"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": dict(HTTP_EXTENSIONS),
        "state": {},
    }
    return _apply(scope, overrides)


def ws_scope(**overrides: Any) -> dict[str, Any]:
    """A well-formed websocket scope, changed by ``overrides``."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.test")],
        "client": ["127.0.0.1", 50000],
        "server": ["/tmp/sock", None],
        "subprotocols": ["chat", "json"],
        "extensions": {"websocket.http.response": {}},
    }
    return _apply(scope, overrides)


def lifespan_scope(**overrides: Any) -> dict[str, Any]:
    """A well-formed lifespan scope, changed by ``overrides``."""
    return _apply({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, overrides)


def script_app(script: Script, *, serve_lifespan: bool = False) -> App:
    """An ASGI app that sends the events of ``script`` (and receives at each ``RECV``).

    A callable step is called with the scope (to change it, as a broken app would).
    With ``serve_lifespan``, a lifespan scope gets the plain startup/shutdown answers
    instead of the script.
    """

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if serve_lifespan and scope["type"] == "lifespan":
            for answer in ("lifespan.startup.complete", "lifespan.shutdown.complete"):
                await receive()
                await send({"type": answer})
            return
        for step in script:
            if step == RECV:
                await receive()
            elif callable(step):
                step(scope)
            else:
                await send(step)

    return app


def sent_steps(script: Script) -> list[Any]:
    """The events of ``script`` the app passes to ``send()``."""
    return [step for step in script if step != RECV and not callable(step)]


def _terminal(scope: Any) -> dict[str, Any]:
    kind = scope.get("type") if isinstance(scope, dict) else None
    if kind == "websocket":
        return {"type": "websocket.disconnect", "code": 1000}
    if kind == "lifespan":
        return {"type": "lifespan.shutdown"}
    return {"type": "http.disconnect"}


async def run_case(
    app: Any, scope: Any, inputs: list[Any], lifespan: dict[str, Any] | None = None
) -> list[Any]:
    """Run ``app`` with ``scope``; ``receive()`` returns ``inputs``, then a disconnect.

    With ``lifespan``, a lifespan with an empty state runs through ``app`` around the
    connection; its state is filled with ``lifespan`` after startup, and ``scope`` is a
    function of that state dict (a server passes the connection a copy of it).

    Returns:
        The events the app passed to ``send()`` (after the validator).
    """
    if lifespan is None:
        if type(scope) is dict:  # a case runs several times; apps may change the scope
            scope = dict(scope)
            if type(scope.get("state")) is dict:
                scope["state"] = dict(scope["state"])
        return await _run_connection(app, scope, inputs)
    state: dict[str, Any] = {}
    asked: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def life_send(message: Any) -> None:
        started.set()

    asked.put_nowait({"type": "lifespan.startup"})
    task = asyncio.create_task(app(lifespan_scope(state=state), asked.get, life_send))
    await started.wait()
    state.update(lifespan)
    try:
        return await _run_connection(app, scope(state), inputs)
    finally:
        asked.put_nowait({"type": "lifespan.shutdown"})
        await task


async def _run_connection(app: Any, scope: Any, inputs: list[Any]) -> list[Any]:
    queue = list(inputs)
    sent: list[Any] = []

    async def receive() -> Any:
        return queue.pop(0) if queue else _terminal(scope)

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@dataclass
class AppCase:
    """A broken (or good) app: its script, the scope it gets, what it receives."""

    rule: str
    script: Script
    scope: dict[str, Any] = field(default_factory=http_scope)
    inputs: list[Any] = field(default_factory=lambda: [{"type": "http.request"}])


@dataclass
class ServerCase:
    """A broken (or good) server: the scope, what ``receive()`` returns, and the app."""

    rule: str
    scope: Any
    inputs: list[Any]
    script: Script
    lifespan: dict[str, Any] | None = None
    """When set, a lifespan runs around the connection and stores these values in its
    state; ``scope`` is then a function of the lifespan's state dict."""


# --- building blocks ----------------------------------------------------------------------

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}
BODY = {"type": "http.response.body", "body": b"hi"}
MORE = {"type": "http.response.body", "body": b"hi", "more_body": True}
HTTP_OK = [RECV, START, BODY]
ACCEPT = {"type": "websocket.accept"}
CLOSE = {"type": "websocket.close"}
WS_IN = [{"type": "websocket.connect"}]
DENY = {"type": "websocket.http.response.start", "status": 403, "headers": []}
LIFE_IN = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
STARTUP_OK = {"type": "lifespan.startup.complete"}
SHUTDOWN_OK = {"type": "lifespan.shutdown.complete"}


def _start(*headers: Any, status: Any = 200, **extra: Any) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": list(headers), **extra}


def _body(body: Any = b"", **extra: Any) -> dict[str, Any]:
    return {"type": "http.response.body", "body": body, **extra}


def _ws(*script: Any, scope: dict[str, Any] | None = None, rule: str) -> AppCase:
    return AppCase(rule, [RECV, *script], scope or ws_scope(), list(WS_IN))


def _life(*script: Any, rule: str, inputs: list[Any] | None = None) -> AppCase:
    return AppCase(
        rule, list(script), lifespan_scope(), list(LIFE_IN if inputs is None else inputs)
    )


NO_EXT = http_scope(extensions=DROP)


def _replace_state(scope: dict[str, Any]) -> None:
    """A lifespan app binding a new dict instead of filling the server's."""
    scope["state"] = {"db": "pool"}


def _add_state(scope: dict[str, Any]) -> None:
    """A lifespan app inventing a state the server does not support."""
    scope["state"] = {"db": "pool"}


def _fill_state(scope: dict[str, Any]) -> None:
    """A lifespan app storing its state the right way."""
    scope["state"]["db"] = "pool"


BAD_APPS: list[AppCase] = [
    AppCase("EVENT-SEND-001", [RECV, "http.response.start"]),
    AppCase("EVENT-SEND-001", [RECV, [("type", "http.response.start")]]),
    AppCase("EVENT-SEND-002", [RECV, {"status": 200}]),
    AppCase("EVENT-SEND-002", [RECV, {"type": b"http.response.start", "status": 200}]),
    AppCase("HTTP-SEND-001", [RECV, {"type": "http.response.begin", "status": 200}]),
    AppCase("HTTP-SEND-001", [RECV, START, {"type": "websocket.send", "text": "x"}]),
    AppCase("HTTP-SEND-002", [RECV, START, {"type": "http.response.pathsend", "path": ABSOLUTE}], NO_EXT),
    AppCase("HTTP-SEND-002", [RECV, START, {"type": "http.response.early_hint", "links": [b"</a>"]}], NO_EXT),
    AppCase("HTTP-SEND-003", [RECV, BODY]),
    AppCase("HTTP-SEND-003", [RECV, {"type": "http.response.pathsend", "path": ABSOLUTE}]),
    AppCase("HTTP-SEND-004", [RECV, START, START]),
    AppCase("HTTP-SEND-004", [RECV, START, MORE, START]),
    AppCase("HTTP-SEND-005", [RECV, START, BODY, BODY]),
    AppCase("HTTP-SEND-005", [RECV, START, BODY, START]),
    AppCase("HTTP-SEND-005", [RECV, START, BODY, {"type": "http.response.trailers", "headers": []}]),
    AppCase("HTTP-SEND-006", [RECV, _start(status="200"), BODY]),
    AppCase("HTTP-SEND-006", [RECV, _start(status=99), BODY]),
    AppCase("HTTP-SEND-006", [RECV, _start(status=600), BODY]),
    AppCase("HTTP-SEND-006", [RECV, _start(status=True), BODY]),
    AppCase("HTTP-SEND-006", [RECV, {"type": "http.response.start"}, BODY]),
    AppCase("HTTP-SEND-007", [RECV, _start((b"x-a",)), BODY]),
    AppCase("HTTP-SEND-007", [RECV, _start(("x-a", "1")), BODY]),
    AppCase("HTTP-SEND-007", [RECV, {**START, "headers": {b"x-a": b"1"}}, BODY]),
    AppCase("HTTP-SEND-008", [RECV, _start((b"x a", b"1")), BODY]),
    AppCase("HTTP-SEND-008", [RECV, _start((b"", b"1")), BODY]),
    AppCase("HTTP-SEND-009", [RECV, _start((b"Content-Type", b"text/plain")), BODY]),
    AppCase("HTTP-SEND-010", [RECV, _start((b":status", b"200")), BODY]),
    AppCase("HTTP-SEND-011", [RECV, _start((b"x-a", b"1\r\nset-cookie: a=b")), BODY]),
    AppCase("HTTP-SEND-011", [RECV, _start((b"x-a", b"1\x00")), BODY]),
    AppCase("HTTP-SEND-012", [RECV, _start(trailers="yes"), BODY]),
    AppCase("HTTP-SEND-013", [RECV, START, _body("hi")]),
    AppCase("HTTP-SEND-013", [RECV, START, _body(bytearray(b"hi"))]),
    AppCase("HTTP-SEND-014", [RECV, START, _body(b"hi", more_body=1)]),
    AppCase("HTTP-SEND-015", [RECV, _start((b"content-length", b"ten")), BODY]),
    AppCase("HTTP-SEND-015", [RECV, _start((b"content-length", b"2"), (b"content-length", b"3")), BODY]),
    AppCase("HTTP-SEND-016", [RECV, _start((b"content-length", b"1")), BODY]),
    AppCase("HTTP-SEND-017", [RECV, _start((b"content-length", b"5")), BODY]),
    AppCase("HTTP-SEND-018", [RECV, _start(status=204), BODY]),
    AppCase("HTTP-SEND-018", [RECV, _start(status=304), BODY]),
    AppCase("HTTP-SEND-019", [RECV]),
    AppCase("HTTP-SEND-019", [RECV, START]),
    AppCase("HTTP-SEND-019", [RECV, START, MORE]),
    AppCase("HTTP-SEND-019", [RECV, _start(trailers=True), BODY]),
    AppCase("HTTP-SEND-020", [RECV, START, {"type": "http.response.pathsend", "path": "rel/file"}]),
    AppCase("HTTP-SEND-020", [RECV, START, {"type": "http.response.pathsend", "path": b"/etc/hostname"}]),
    AppCase("HTTP-SEND-021", [RECV, START, MORE, {"type": "http.response.pathsend", "path": ABSOLUTE}]),
    AppCase("HTTP-SEND-022", [RECV, START, BODY | {"more_body": True}, {"type": "http.response.trailers", "headers": []}]),
    AppCase("HTTP-SEND-022", [RECV, _start(trailers=True), MORE, {"type": "http.response.trailers"}]),
    AppCase("HTTP-SEND-023", [RECV, _start(trailers=True), BODY, {"type": "http.response.trailers", "more_trailers": "no"}]),
    AppCase("HTTP-SEND-024", [RECV, {"type": "http.response.early_hint", "links": [b"</a>"]}, START, BODY]),
    AppCase("HTTP-SEND-024", [RECV, START, {"type": "http.response.debug", "info": {}}, BODY]),
    AppCase("HTTP-SEND-024", [RECV, START, BODY, {"type": "http.response.push", "path": "/a", "headers": []}]),
    AppCase("HTTP-SEND-025", [RECV, START, {"type": "http.response.early_hint", "links": ["</a>"]}, BODY]),
    AppCase("HTTP-SEND-014", [RECV, START, {"type": "http.response.zerocopysend", "file": FILE, "more_body": "no"}]),
    AppCase("HTTP-SEND-025", [RECV, START, {"type": "http.response.zerocopysend", "file": b"data"}, BODY]),
    AppCase("HTTP-SEND-025", [RECV, START, {"type": "http.response.zerocopysend", "file": io.BytesIO()}, BODY]),
    AppCase("HTTP-SEND-025", [RECV, START, {"type": "http.response.push", "path": b"/a"}, BODY]),
    AppCase("HTTP-SEND-025", [RECV, {"type": "http.response.debug", "info": "x"}, START, BODY]),
    _ws({"type": "websocket.accept"}, {"type": "websocket.ping"}, rule="WS-SEND-001"),
    _ws({"type": "websocket.http.response.trailers"}, rule="WS-SEND-001"),
    _ws({"type": "websocket.send", "text": "hi"}, rule="WS-SEND-002"),
    _ws(ACCEPT, ACCEPT, rule="WS-SEND-003"),
    _ws(CLOSE, ACCEPT, rule="WS-SEND-004"),
    _ws(DENY, ACCEPT, rule="WS-SEND-004"),
    _ws(ACCEPT, CLOSE, {"type": "websocket.send", "text": "hi"}, rule="WS-SEND-005"),
    _ws(ACCEPT, CLOSE, CLOSE, rule="WS-SEND-005"),
    _ws({"type": "websocket.accept", "subprotocol": b"chat"}, rule="WS-SEND-006"),
    _ws({"type": "websocket.accept", "subprotocol": "xml"}, rule="WS-SEND-007"),
    _ws({"type": "websocket.accept", "headers": [(b"x-a", b"1")]}, scope=ws_scope(asgi={"version": "3.0"}), rule="WS-SEND-008"),
    _ws({"type": "websocket.accept", "headers": [(b"x-a", b"1")]}, scope=ws_scope(asgi={"version": "3.0", "spec_version": "two"}), rule="WS-SEND-008"),
    _ws({"type": "websocket.accept", "headers": [("x-a", "1")]}, rule="WS-SEND-009"),
    _ws({"type": "websocket.accept", "headers": [(b"X-A", b"1")]}, rule="WS-SEND-009"),
    _ws({"type": "websocket.accept", "headers": [(b"sec-websocket-protocol", b"chat")]}, rule="WS-SEND-010"),
    _ws(ACCEPT, {"type": "websocket.send", "text": "a", "bytes": b"a"}, rule="WS-SEND-011"),
    _ws(ACCEPT, {"type": "websocket.send"}, rule="WS-SEND-011"),
    _ws(ACCEPT, {"type": "websocket.send", "text": b"a"}, rule="WS-SEND-012"),
    _ws(ACCEPT, {"type": "websocket.send", "bytes": "a"}, rule="WS-SEND-012"),
    _ws(ACCEPT, {"type": "websocket.close", "code": 1006}, rule="WS-SEND-013"),
    _ws(ACCEPT, {"type": "websocket.close", "code": "1000"}, rule="WS-SEND-013"),
    _ws(ACCEPT, {"type": "websocket.close", "code": 1000, "reason": "x" * 124}, rule="WS-SEND-014"),
    _ws(ACCEPT, {"type": "websocket.close", "reason": b"bye"}, rule="WS-SEND-014"),
    _ws(DENY, rule="WS-SEND-015", scope=ws_scope(extensions={})),
    _ws({"type": "websocket.http.response.body", "body": b"no"}, rule="WS-SEND-016"),
    _ws(ACCEPT, DENY, rule="WS-SEND-016"),
    _ws(DENY | {"status": "403"}, rule="WS-SEND-017"),
    _ws(DENY, {"type": "websocket.http.response.body", "body": "no"}, rule="WS-SEND-017"),
    _life(RECV, {"type": "lifespan.startup.done"}, rule="LIFE-SEND-001"),
    _life(STARTUP_OK, rule="LIFE-SEND-002"),
    _life(RECV, STARTUP_OK, STARTUP_OK, rule="LIFE-SEND-003"),
    _life(RECV, {"type": "lifespan.startup.failed", "message": "db down"}, STARTUP_OK, rule="LIFE-SEND-003"),
    _life(RECV, STARTUP_OK, SHUTDOWN_OK, rule="LIFE-SEND-004"),
    _life(RECV, STARTUP_OK, RECV, SHUTDOWN_OK, SHUTDOWN_OK, rule="LIFE-SEND-005"),
    _life(RECV, {"type": "lifespan.startup.failed", "message": b"db down"}, rule="LIFE-SEND-006"),
    _ws(ACCEPT, {"type": "websocket.close", "code": 1000, "reason": "bye"}, scope=ws_scope(asgi={"version": "3.0", "spec_version": "2.2"}), rule="WS-SEND-018"),
    _ws(ACCEPT, {"type": "websocket.close", "reason": "bye"}, scope=ws_scope(asgi={"version": "3.0"}), rule="WS-SEND-018"),
    _life(RECV, _replace_state, STARTUP_OK, rule="LIFE-SEND-007"),
    AppCase("LIFE-SEND-007", [RECV, _add_state, STARTUP_OK], lifespan_scope(state=DROP), list(LIFE_IN)),
    AppCase("HTTP-SEND-007", [RECV, _start((bytearray(b"x-a"), b"1")), BODY]),
    AppCase("HTTP-SEND-007", [RECV, _start((b"x-a", memoryview(b"1"))), BODY]),
    AppCase("HTTP-SEND-007", [RECV, _start([b"x-a", b"1", b"2"]), BODY]),
    _ws({"type": "websocket.accept", "headers": [(bytearray(b"x-a"), b"1")]}, rule="WS-SEND-009"),
    _ws(ACCEPT, {"type": "websocket.close", "reason": "é" * 62}, rule="WS-SEND-014"),
    AppCase("HTTP-SEND-009", [RECV, _start((b"content-length", b"2"), (b"X-A", b"1")), BODY]),
    AppCase("HTTP-SEND-011", [RECV, _start((b"content-type", b"text/plain"), (b"x-a", b"1\n")), BODY]),
]  # fmt: skip

# --- servers --------------------------------------------------------------------------------

REQ = {"type": "http.request", "body": b"", "more_body": False}
HTTP_APP = [RECV, START, BODY]
WS_APP = [RECV, ACCEPT, RECV]
LIFE_APP = [RECV, STARTUP_OK, RECV, SHUTDOWN_OK]
POST = http_scope(method="POST", headers=[(b"content-length", b"4")])


def _srv(
    rule: str,
    scope: Any,
    inputs: list[Any] | None = None,
    script: Script | None = None,
    lifespan: dict[str, Any] | None = None,
) -> ServerCase:
    return ServerCase(
        rule,
        scope,
        [REQ] if inputs is None else inputs,
        HTTP_APP if script is None else script,
        lifespan,
    )


def _wsrv(rule: str, inputs: list[Any], script: Script = WS_APP, scope: Any = None) -> ServerCase:
    return ServerCase(rule, scope or ws_scope(), inputs, script)


def _lsrv(rule: str, inputs: list[Any], script: Script = LIFE_APP, scope: Any = None) -> ServerCase:
    return ServerCase(rule, scope or lifespan_scope(), inputs, script)


TLS = {"server_cert": None, "tls_version": 0x0304, "cipher_suite": 0x1301}
DEEP: list[Any] = []
for _ in range(40):
    DEEP = [DEEP]

BAD_SERVERS: list[ServerCase] = [
    _srv("SCOPE-001", [("type", "http")]),
    _srv("SCOPE-002", http_scope(type=DROP)),
    _srv("SCOPE-002", http_scope(type=b"http")),
    _srv("SCOPE-003", http_scope(asgi=DROP)),
    _srv("SCOPE-004", http_scope(asgi={"version": 3})),
    _srv("SCOPE-004", http_scope(asgi={"spec_version": "2.4"})),
    _srv("SCOPE-005", http_scope(asgi={"version": "3.0", "spec_version": 2.4})),
    _srv("SCOPE-006", http_scope(extensions=["http.response.pathsend"])),
    _srv("SCOPE-006", http_scope(extensions={"http.response.pathsend": True})),
    _srv("SCOPE-007", http_scope(state=[])),
    _srv("SCOPE-008", http_scope(extensions={"tls": TLS})),
    _srv("SCOPE-009", http_scope(scheme="https", extensions={"tls": {"server_cert": None}})),
    _srv("SCOPE-009", http_scope(scheme="https", extensions={"tls": TLS | {"server_cert": b"PEM"}})),
    _srv("SCOPE-009", http_scope(scheme="https", extensions={"tls": TLS | {"tls_version": True}})),
    _srv("CONN-SCOPE-001", http_scope(path=b"/hello")),
    _srv("CONN-SCOPE-002", http_scope(raw_path="/hello")),
    _srv("CONN-SCOPE-003", http_scope(query_string="a=1")),
    _srv("CONN-SCOPE-003", http_scope(query_string=None)),
    _srv("CONN-SCOPE-004", http_scope(root_path=b"/app")),
    _srv("CONN-SCOPE-005", http_scope(headers=[("host", "example.test")])),
    _srv("CONN-SCOPE-005", http_scope(headers=[(b"host",)])),
    _srv("CONN-SCOPE-005", http_scope(headers=b"host: example.test")),
    _srv("CONN-SCOPE-005", http_scope(headers=DROP)),
    _srv("CONN-SCOPE-006", http_scope(headers=[(b":authority", b"example.test")])),
    _srv("CONN-SCOPE-007", http_scope(client="127.0.0.1:50000")),
    _srv("CONN-SCOPE-007", http_scope(client=["127.0.0.1", "50000"])),
    _srv("CONN-SCOPE-008", http_scope(server=["127.0.0.1", "8000"])),
    _srv("CONN-SCOPE-009", http_scope(scheme="")),
    _srv("CONN-SCOPE-010", http_scope(root_path="/app", path="/hello")),
    _srv("HTTP-SCOPE-001", http_scope(http_version="1.2")),
    _srv("HTTP-SCOPE-001", http_scope(http_version=DROP)),
    _srv("HTTP-SCOPE-002", http_scope(method="get")),
    _srv("HTTP-SCOPE-002", http_scope(method=b"GET")),
    _srv("HTTP-SCOPE-003", http_scope(query_string=DROP)),
    _srv("WS-SCOPE-001", ws_scope(http_version="1.0"), [], []),
    _srv("WS-SCOPE-002", ws_scope(scheme="http"), [], []),
    _srv("WS-SCOPE-003", ws_scope(subprotocols="chat"), [], []),
    _srv("WS-SCOPE-003", ws_scope(subprotocols=[b"chat"]), [], []),
    _srv("LIFE-SCOPE-001", lifespan_scope(state={"db": "left over"}), [], []),
    _srv("EVENT-RECV-001", http_scope(), [None]),
    _srv("EVENT-RECV-001", http_scope(), ["http.request"]),
    _srv("EVENT-RECV-002", http_scope(), [{"body": b""}]),
    _srv("HTTP-RECV-001", http_scope(), [{"type": "http.response.start", "status": 200}]),
    _srv("HTTP-RECV-002", http_scope(), [{"type": "http.request", "body": "text"}]),
    _srv("HTTP-RECV-003", http_scope(), [{"type": "http.request", "more_body": 0}]),
    _srv("HTTP-RECV-004", http_scope(), [REQ, REQ], [RECV, RECV, START, BODY]),
    _srv("HTTP-RECV-005", http_scope(), [{"type": "http.disconnect"}, REQ], [RECV, RECV, START, BODY]),
    _srv("HTTP-RECV-006", POST, [{"type": "http.request", "body": b"12345"}]),
    _srv("HTTP-RECV-007", POST, [{"type": "http.request", "body": b"12"}]),
    _wsrv("WS-RECV-001", [{"type": "websocket.connect"}, {"type": "websocket.ping"}]),
    _wsrv("WS-RECV-002", [{"type": "websocket.receive", "text": "hi"}], [RECV]),
    _wsrv("WS-RECV-002", [{"type": "websocket.connect"}, {"type": "websocket.connect"}]),
    _wsrv("WS-RECV-003", [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"}], [RECV, RECV]),
    _wsrv("WS-RECV-004", [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "a", "bytes": b"a"}]),
    _wsrv("WS-RECV-004", [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": b"a"}]),
    _wsrv("WS-RECV-005", [{"type": "websocket.connect"}, {"type": "websocket.disconnect"}]),
    _wsrv("WS-RECV-006", [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000, "reason": b"bye"}]),
    _wsrv("WS-RECV-007", [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}, {"type": "websocket.receive", "text": "late"}], [RECV, ACCEPT, RECV, RECV]),
    _lsrv("LIFE-RECV-001", [{"type": "lifespan.start"}], [RECV]),
    _lsrv("LIFE-RECV-002", [{"type": "lifespan.shutdown"}], [RECV]),
    _lsrv("LIFE-RECV-002", [{"type": "lifespan.startup"}, {"type": "lifespan.startup"}], [RECV, STARTUP_OK, RECV]),
    _lsrv("LIFE-RECV-003", LIFE_IN, [RECV, {"type": "lifespan.startup.failed", "message": "no"}, RECV]),
    _lsrv("LIFE-RECV-004", [*LIFE_IN, {"type": "lifespan.shutdown"}], [*LIFE_APP, RECV]),
    _srv("SCOPE-010", http_scope(extensions={"x-server": {"socket": object()}})),
    _srv("SCOPE-010", http_scope(extensions={"x-server": {"peer": bytearray(b"1")}})),
    _srv("SCOPE-010", http_scope(extensions={"x-server": {"ids": {1, 2}}})),
    _srv("SCOPE-010", http_scope(extensions={"x-server": {"limit": float("inf")}})),
    _srv("SCOPE-010", http_scope(extensions={"x-server": {"id": 2**64}})),
    _srv("SCOPE-010", http_scope(extensions={"x-server": {"nested": {1: "int key"}}})),
    _srv("SCOPE-010", http_scope(extensions={"x-server": {"deep": DEEP}})),
    _srv("CONN-SCOPE-005", http_scope(headers=[(bytearray(b"host"), b"example.test")])),
    _srv("CONN-SCOPE-005", http_scope(headers=[(b"host", b"a", b"b")])),
    _srv("CONN-SCOPE-007", http_scope(client=["127.0.0.1", None])),
    _srv("CONN-SCOPE-007", http_scope(client=[b"127.0.0.1", 50000])),
    _srv("CONN-SCOPE-007", http_scope(client=["127.0.0.1", 50000, 0])),
    _srv("CONN-SCOPE-008", http_scope(server=[None, 8000])),
    _srv("CONN-SCOPE-008", http_scope(server="/run/app.sock")),
    _srv("WS-SCOPE-003", ws_scope(subprotocols=["chat", None]), [], []),
    _srv("SCOPE-007", lambda state: http_scope(state=[]), lifespan={"db": "pool"}),
    _srv("CONN-SCOPE-011", lambda state: http_scope(state=state), lifespan={"db": "pool"}),
    _srv("CONN-SCOPE-012", lambda state: http_scope(state={"db": "another pool"}), lifespan={"db": "pool"}),
    _srv("CONN-SCOPE-012", lambda state: http_scope(state={}), lifespan={"db": "pool"}),
    _srv("CONN-SCOPE-012", lambda state: http_scope(state=DROP), lifespan={"db": "pool"}),
    _srv("CONN-SCOPE-012", lambda state: ws_scope(state={**state, "extra": 1}), [], [], lifespan={"db": "pool"}),
]  # fmt: skip

# --- well-formed traffic --------------------------------------------------------------------

GOOD_APPS: list[AppCase] = [
    AppCase("", [RECV, START, BODY]),
    AppCase("", [RECV, _start((b"content-length", b"4")), MORE, _body(b"hi")]),
    AppCase("", [RECV, _start((b"content-length", b"2"), (b"content-length", b"2")), BODY]),
    AppCase("", [RECV, _start((b"content-length", b"100"), status=304), _body()]),
    AppCase("", [RECV, _start((b"content-length", b"100")), _body()], http_scope(method="HEAD")),
    AppCase("", [RECV, _start(status=204), _body()]),
    AppCase("", [RECV, {"type": "http.response.debug", "info": {"a": 1}}, START, BODY]),
    AppCase("", [RECV, START, {"type": "http.response.early_hint", "links": [b"</s.css>; rel=preload"]}, BODY]),
    AppCase("", [RECV, START, {"type": "http.response.push", "path": "/s.css", "headers": []}, BODY]),
    AppCase("", [RECV, START, {"type": "http.response.pathsend", "path": ABSOLUTE}]),
    AppCase("", [RECV, START, {"type": "http.response.zerocopysend", "file": FILE, "more_body": True}, {"type": "http.response.zerocopysend", "file": FILE, "offset": 0, "count": 1}]),
    AppCase("", [RECV, _start(trailers=True), BODY, {"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")], "more_trailers": True}, {"type": "http.response.trailers"}]),
    AppCase("", [RECV, START, {"type": "http.response.body", "more_body": True, "body": b"x", "x-extra": 1}, _body()]),
    AppCase("", [RECV, START, BODY, RECV]),
    AppCase("", [RECV, RECV, START]),  # returns unfinished after http.disconnect
    _ws(ACCEPT, RECV, {"type": "websocket.send", "text": "hi"}, {"type": "websocket.send", "bytes": b"hi", "text": None}, CLOSE, rule=""),
    _ws({"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-a", b"1")]}, {"type": "websocket.close", "code": 4000, "reason": "bye"}, rule=""),
    _ws({"type": "websocket.close", "code": 1000, "reason": None}, rule=""),
    _ws(DENY, {"type": "websocket.http.response.body", "body": b"no", "more_body": True}, {"type": "websocket.http.response.body"}, rule=""),
    _life(RECV, STARTUP_OK, RECV, SHUTDOWN_OK, rule=""),
    _life(RECV, {"type": "lifespan.startup.failed", "message": "db down"}, rule="", inputs=LIFE_IN[:1]),
    _life(RECV, STARTUP_OK, RECV, {"type": "lifespan.shutdown.failed", "message": ""}, rule=""),
    _life(RECV, _fill_state, STARTUP_OK, RECV, SHUTDOWN_OK, rule=""),
    AppCase("", [RECV, STARTUP_OK, RECV, SHUTDOWN_OK], lifespan_scope(state=DROP), list(LIFE_IN)),
    _ws(ACCEPT, {"type": "websocket.close", "code": 1000, "reason": "bye"}, scope=ws_scope(asgi={"version": "3.0", "spec_version": "2.3"}), rule=""),
    _ws(ACCEPT, {"type": "websocket.close", "code": 1000, "reason": ""}, scope=ws_scope(asgi={"version": "3.0"}), rule=""),
    _ws(ACCEPT, {"type": "websocket.close", "code": 1000, "reason": "é" * 61}, rule=""),
    AppCase("", [RECV, _start([b"x-a", b"1"], (b"x-b", b"2")), BODY]),
]  # fmt: skip

GOOD_SERVERS: list[ServerCase] = [
    _srv("", http_scope()),
    _srv("", {"type": "http", "asgi": {"version": "3.0"}, "http_version": "2", "method": "M-SEARCH", "path": "*", "query_string": b"", "headers": []}),
    _srv("", http_scope(scheme="https", extensions={"tls": TLS})),
    _srv("", http_scope(root_path="/app", path="/app/hello", server=["/run/app.sock", None], client=None)),
    _srv("", POST, [{"type": "http.request", "body": b"12", "more_body": True}, {"type": "http.request", "body": b"34"}], [RECV, RECV, START, BODY]),
    _srv("", POST, [{"type": "http.request", "body": b"12", "more_body": True}, {"type": "http.disconnect"}, {"type": "http.disconnect"}], [RECV, RECV, RECV, START, BODY]),
    _srv("", http_scope(headers={b"host": b"example.test"}.items())),
    _wsrv("", [{"type": "websocket.connect"}, {"type": "websocket.receive", "bytes": b"x"}, {"type": "websocket.disconnect", "code": 1005, "reason": None}], [RECV, ACCEPT, RECV, RECV]),
    _wsrv("", [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1001, "reason": "going"}], [RECV, ACCEPT, RECV], {"type": "websocket", "asgi": {"version": "3.0"}, "path": "/", "headers": [], "query_string": None}),
    _lsrv("", LIFE_IN),
    _lsrv("", LIFE_IN, scope={"type": "lifespan", "asgi": {"version": "2.0", "spec_version": "2.0"}}),
    ServerCase("", {"type": "mychat", "asgi": {"version": "3.0"}, "room": 1}, [], [RECV]),
    _srv("", http_scope(scheme="https", extensions={"tls": TLS | {"client_cert_chain": ("PEM1", "PEM2"), "client_cert_name": None}, "x-server": {"n": -(2**63), "f": 0.5, "l": [b"a", "b", True, None, {"k": []}]}})),
    _srv("", http_scope(headers=[[b"host", b"example.test"]], client=("::1", 50000), server=("::1", None))),
    _srv("", ws_scope(subprotocols=("chat",)), [], []),
    _srv("", http_scope(headers=[(b"host", b"example.test"), (b"x-odd:name", b"1")])),  # a colon inside is no pseudo-header
    _srv("", lambda state: http_scope(state=dict(state)), lifespan={"db": "pool"}),
    _srv("", lambda state: ws_scope(state=dict(state)), [], [], lifespan={"db": "pool"}),
    _srv("", lambda state: http_scope(state=DROP), lifespan={}),
]  # fmt: skip
