"""asgiref.typing: the 35 exported names, their keys, and a static check of typical use.

mypy --strict runs over this file in CI: the ``assert_type`` calls and the two example
uses below are checked statically as well as executed.
"""

from __future__ import annotations

import io
import typing
from typing import Any, assert_type, get_args

import pytest

import asgiref.typing as asgi_typing
from asgiref.typing import (
    ASGI2Application,
    ASGI3Application,
    ASGIApplication,
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    HTTPResponseBodyEvent,
    HTTPResponseDebugEvent,
    HTTPResponseEarlyHintEvent,
    HTTPResponseStartEvent,
    HTTPResponseZeroCopySendEvent,
    HTTPScope,
    Scope,
    WebSocketScope,
    WWWScope,
)

EXPORTED = {
    "ASGIVersions", "HTTPScope", "WebSocketScope", "LifespanScope", "WWWScope", "Scope",
    "HTTPRequestEvent", "HTTPResponseStartEvent", "HTTPResponseBodyEvent",
    "HTTPResponseTrailersEvent", "HTTPResponsePathsendEvent", "HTTPServerPushEvent",
    "HTTPDisconnectEvent", "WebSocketConnectEvent", "WebSocketAcceptEvent",
    "WebSocketReceiveEvent", "WebSocketSendEvent", "WebSocketResponseStartEvent",
    "WebSocketResponseBodyEvent", "WebSocketDisconnectEvent", "WebSocketCloseEvent",
    "LifespanStartupEvent", "LifespanShutdownEvent", "LifespanStartupCompleteEvent",
    "LifespanStartupFailedEvent", "LifespanShutdownCompleteEvent", "LifespanShutdownFailedEvent",
    "ASGIReceiveEvent", "ASGISendEvent", "ASGIReceiveCallable", "ASGISendCallable",
    "ASGI2Protocol", "ASGI2Application", "ASGI3Application", "ASGIApplication",
}  # fmt: skip

WWW = {
    "asgi", "http_version", "scheme", "path", "raw_path", "query_string", "root_path",
    "headers", "client", "server", "extensions",
}  # fmt: skip

#: Contract section 10: TypedDict -> (required keys, optional keys).
KEYS: dict[str, tuple[set[str], set[str]]] = {
    "ASGIVersions": ({"spec_version", "version"}, set()),
    "HTTPScope": ({"type", "method"} | WWW, {"state"}),
    "WebSocketScope": ({"type", "subprotocols"} | WWW, {"state"}),
    "LifespanScope": ({"type", "asgi"}, {"state"}),
    "HTTPRequestEvent": ({"type", "body", "more_body"}, set()),
    "HTTPResponseStartEvent": ({"type", "status", "headers", "trailers"}, set()),
    "HTTPResponseBodyEvent": ({"type", "body", "more_body"}, set()),
    "HTTPResponseTrailersEvent": ({"type", "headers", "more_trailers"}, set()),
    "HTTPResponsePathsendEvent": ({"type", "path"}, set()),
    "HTTPServerPushEvent": ({"type", "path", "headers"}, set()),
    "HTTPDisconnectEvent": ({"type"}, set()),
    "WebSocketConnectEvent": ({"type"}, set()),
    "WebSocketAcceptEvent": ({"type", "subprotocol", "headers"}, set()),
    "WebSocketReceiveEvent": ({"type", "bytes", "text"}, set()),
    "WebSocketSendEvent": ({"type", "bytes", "text"}, set()),
    "WebSocketResponseStartEvent": ({"type", "status", "headers"}, set()),
    "WebSocketResponseBodyEvent": ({"type", "body", "more_body"}, set()),
    "WebSocketDisconnectEvent": ({"type", "code", "reason"}, set()),
    "WebSocketCloseEvent": ({"type", "code", "reason"}, set()),
    "LifespanStartupEvent": ({"type"}, set()),
    "LifespanShutdownEvent": ({"type"}, set()),
    "LifespanStartupCompleteEvent": ({"type"}, set()),
    "LifespanStartupFailedEvent": ({"type", "message"}, set()),
    "LifespanShutdownCompleteEvent": ({"type"}, set()),
    "LifespanShutdownFailedEvent": ({"type", "message"}, set()),
    # Importable, not exported:
    "HTTPResponseDebugEvent": ({"type", "info"}, set()),
    "HTTPResponseZeroCopySendEvent": ({"type", "file"}, {"offset", "count", "more_body"}),
    "HTTPResponseEarlyHintEvent": ({"type", "links"}, set()),
}

#: The ``type`` literal of every event TypedDict.
EVENT_TYPES = {
    "HTTPRequestEvent": "http.request",
    "HTTPResponseStartEvent": "http.response.start",
    "HTTPResponseBodyEvent": "http.response.body",
    "HTTPResponseTrailersEvent": "http.response.trailers",
    "HTTPResponsePathsendEvent": "http.response.pathsend",
    "HTTPServerPushEvent": "http.response.push",
    "HTTPDisconnectEvent": "http.disconnect",
    "WebSocketConnectEvent": "websocket.connect",
    "WebSocketAcceptEvent": "websocket.accept",
    "WebSocketReceiveEvent": "websocket.receive",
    "WebSocketSendEvent": "websocket.send",
    "WebSocketResponseStartEvent": "websocket.http.response.start",
    "WebSocketResponseBodyEvent": "websocket.http.response.body",
    "WebSocketDisconnectEvent": "websocket.disconnect",
    "WebSocketCloseEvent": "websocket.close",
    "LifespanStartupEvent": "lifespan.startup",
    "LifespanShutdownEvent": "lifespan.shutdown",
    "LifespanStartupCompleteEvent": "lifespan.startup.complete",
    "LifespanStartupFailedEvent": "lifespan.startup.failed",
    "LifespanShutdownCompleteEvent": "lifespan.shutdown.complete",
    "LifespanShutdownFailedEvent": "lifespan.shutdown.failed",
    "HTTPResponseDebugEvent": "http.response.debug",
    "HTTPResponseZeroCopySendEvent": "http.response.zerocopysend",
    "HTTPResponseEarlyHintEvent": "http.response.early_hint",
}


def names(union: object) -> set[str]:
    return {member.__name__ for member in get_args(union)}


def test_all_is_exactly_the_35_asgiref_names() -> None:
    assert len(asgi_typing.__all__) == 35
    assert set(asgi_typing.__all__) == EXPORTED
    for name in ("HTTPResponseDebugEvent", "HTTPResponseZeroCopySendEvent"):
        assert name not in asgi_typing.__all__
        assert hasattr(asgi_typing, name)
    assert "HTTPResponseEarlyHintEvent" not in asgi_typing.__all__


@pytest.mark.parametrize("name", sorted(KEYS))
def test_typeddict_required_and_optional_keys_match_the_contract(name: str) -> None:
    typed_dict = getattr(asgi_typing, name)
    required, optional = KEYS[name]
    assert typed_dict.__required_keys__ == required
    assert typed_dict.__optional_keys__ == optional


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_event_type_literals(name: str) -> None:
    hints = typing.get_type_hints(getattr(asgi_typing, name))
    assert get_args(hints["type"]) == (EVENT_TYPES[name],)


def test_scope_type_literals_and_asgi_versions() -> None:
    for name, literal in (("HTTPScope", "http"), ("WebSocketScope", "websocket"),
                          ("LifespanScope", "lifespan")):  # fmt: skip
        hints = typing.get_type_hints(getattr(asgi_typing, name))
        assert get_args(hints["type"]) == (literal,)
    version = typing.get_type_hints(asgi_typing.ASGIVersions)["version"]
    assert {arg for member in get_args(version) for arg in get_args(member) or (member,)} == {
        "2.0",
        "3.0",
    }


def test_unions_keep_asgiref_quirks() -> None:
    assert names(WWWScope) == {"HTTPScope", "WebSocketScope"}
    assert names(Scope) == {"HTTPScope", "WebSocketScope", "LifespanScope"}
    assert names(ASGIReceiveEvent) == {
        "HTTPRequestEvent", "HTTPDisconnectEvent", "WebSocketConnectEvent",
        "WebSocketReceiveEvent", "WebSocketDisconnectEvent", "LifespanStartupEvent",
        "LifespanShutdownEvent",
    }  # fmt: skip
    send_events = names(ASGISendEvent)
    assert len(send_events) == 14
    assert "HTTPDisconnectEvent" in send_events  # kept quirk
    assert "HTTPResponsePathsendEvent" not in send_events  # kept quirk
    for addition in ("HTTPResponseDebugEvent", "HTTPResponseZeroCopySendEvent",
                     "HTTPResponseEarlyHintEvent"):  # fmt: skip
        assert addition not in send_events


def test_application_aliases() -> None:
    assert len(get_args(ASGIApplication)) == 2
    assert get_args(ASGI2Application) == (asgi_typing.ASGI2Protocol,)
    parameters, result = get_args(ASGI3Application)
    assert parameters == [Scope, ASGIReceiveCallable, ASGISendCallable]
    assert result == typing.Awaitable[None] or get_args(result) == (None,)


# A server-side use: build a scope and send response events through ASGISendCallable.


def build_http_scope(path: str) -> HTTPScope:
    scope: HTTPScope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.5"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "extensions": None,
    }
    return scope


async def respond(send: ASGISendCallable, body: bytes) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain")],
        "trailers": False,
    }
    chunk: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    assert_type(await send(start), None)
    await send(chunk)


# An application-side use: an ASGI3Application narrowing on event["type"].


async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    assert scope["type"] == "http"
    assert_type(scope, HTTPScope)
    body = b""
    while True:
        event = await receive()
        assert_type(event, ASGIReceiveEvent)
        if event["type"] == "http.request":
            assert_type(event, asgi_typing.HTTPRequestEvent)
            body += event["body"]
            if not event["more_body"]:
                break
        elif event["type"] == "http.disconnect":
            assert_type(event, asgi_typing.HTTPDisconnectEvent)
            return
    await respond(send, body[::-1])


APPLICATION: ASGI3Application = app
ANY_APPLICATION: ASGIApplication = app


@pytest.mark.asyncio
async def test_typed_server_and_application_work_together() -> None:
    incoming: list[ASGIReceiveEvent] = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"c", "more_body": False},
    ]
    sent: list[ASGISendEvent] = []

    async def receive() -> ASGIReceiveEvent:
        return incoming.pop(0)

    async def send(event: ASGISendEvent) -> None:
        sent.append(event)

    scope = build_http_scope("/reverse")
    await APPLICATION(scope, receive, send)
    assert [event["type"] for event in sent] == ["http.response.start", "http.response.body"]
    last = sent[1]
    assert last["type"] == "http.response.body"
    assert_type(last, HTTPResponseBodyEvent)
    assert last["body"] == b"cba"


def test_websocket_scope_has_subprotocols_and_no_method() -> None:
    scope: WebSocketScope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.5"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": None,
        "server": ("/tmp/socket", None),
        "subprotocols": ["chat"],
        "state": {},
        "extensions": {"websocket.http.response": {}},
    }
    assert "method" not in scope


def test_additional_extension_events_type_check() -> None:
    zero_copy: HTTPResponseZeroCopySendEvent = {
        "type": "http.response.zerocopysend",
        "file": io.BytesIO(b"typed only"),  # a real server needs a file with a descriptor
    }
    zero_copy["count"] = 5
    hint: HTTPResponseEarlyHintEvent = {
        "type": "http.response.early_hint",
        "links": [b"</style.css>; rel=preload; as=style"],
    }
    debug: HTTPResponseDebugEvent = {"type": "http.response.debug", "info": {"template": "x"}}
    values: list[Any] = [zero_copy, hint, debug]
    assert [value["type"] for value in values] == [
        "http.response.zerocopysend",
        "http.response.early_hint",
        "http.response.debug",
    ]
