"""Static descriptions of ASGI scopes, events and applications (implementation of
:mod:`asgiref.typing`).

The definitions follow asgiref 3.13 key for key, including its quirks (see
``docs/typing.rst``): almost every key is *required*, ``headers`` are ``tuple[bytes, bytes]``,
``http.disconnect`` is in both event unions and ``http.response.pathsend`` is in neither.

This module deliberately does **not** use ``from __future__ import annotations``: with
string annotations, ``TypedDict`` cannot see ``NotRequired[...]`` at runtime (on
3.11-3.13), and ``__required_keys__`` would then list ``state`` as required.
"""

from collections.abc import Awaitable, Iterable

# typing.Callable rather than collections.abc.Callable: the aliases are then typing objects
# (``typing._CallableGenericAlias``), which documentation tools and our public-API test
# recognise as type aliases; for type checkers the two are the same.
from typing import IO, Any, Callable, Literal, NotRequired, Protocol, TypedDict  # noqa: UP035

__all__ = [
    "ASGIVersions",
    "HTTPScope",
    "WebSocketScope",
    "LifespanScope",
    "WWWScope",
    "Scope",
    "HTTPRequestEvent",
    "HTTPResponseStartEvent",
    "HTTPResponseBodyEvent",
    "HTTPResponseTrailersEvent",
    "HTTPResponsePathsendEvent",
    "HTTPServerPushEvent",
    "HTTPDisconnectEvent",
    "WebSocketConnectEvent",
    "WebSocketAcceptEvent",
    "WebSocketReceiveEvent",
    "WebSocketSendEvent",
    "WebSocketResponseStartEvent",
    "WebSocketResponseBodyEvent",
    "WebSocketDisconnectEvent",
    "WebSocketCloseEvent",
    "LifespanStartupEvent",
    "LifespanShutdownEvent",
    "LifespanStartupCompleteEvent",
    "LifespanStartupFailedEvent",
    "LifespanShutdownCompleteEvent",
    "LifespanShutdownFailedEvent",
    "ASGIReceiveEvent",
    "ASGISendEvent",
    "ASGIReceiveCallable",
    "ASGISendCallable",
    "ASGI2Protocol",
    "ASGI2Application",
    "ASGI3Application",
    "ASGIApplication",
]


class ASGIVersions(TypedDict):
    """The ``scope["asgi"]`` dict: the ASGI version and the protocol spec version."""

    spec_version: str
    version: Literal["2.0"] | Literal["3.0"]


class HTTPScope(TypedDict):
    """The connection scope of one HTTP request (``scope["type"] == "http"``)."""

    type: Literal["http"]
    asgi: ASGIVersions
    http_version: str
    method: str
    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    root_path: str
    headers: Iterable[tuple[bytes, bytes]]
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    state: NotRequired[dict[str, Any]]
    extensions: dict[str, dict[object, object]] | None


class WebSocketScope(TypedDict):
    """The connection scope of one WebSocket (``scope["type"] == "websocket"``)."""

    type: Literal["websocket"]
    asgi: ASGIVersions
    http_version: str
    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    root_path: str
    headers: Iterable[tuple[bytes, bytes]]
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    subprotocols: Iterable[str]
    state: NotRequired[dict[str, Any]]
    extensions: dict[str, dict[object, object]] | None


class LifespanScope(TypedDict):
    """The scope of the lifespan protocol (``scope["type"] == "lifespan"``)."""

    type: Literal["lifespan"]
    asgi: ASGIVersions
    state: NotRequired[dict[str, Any]]


WWWScope = HTTPScope | WebSocketScope
Scope = HTTPScope | WebSocketScope | LifespanScope


class HTTPRequestEvent(TypedDict):
    """``http.request`` (receive): a chunk of the request body."""

    type: Literal["http.request"]
    body: bytes
    more_body: bool


class HTTPResponseDebugEvent(TypedDict):
    """``http.response.debug`` (send, test clients only).

    Importable but, as in asgiref, not exported in ``__all__``.
    """

    type: Literal["http.response.debug"]
    info: dict[str, object]


class HTTPResponseStartEvent(TypedDict):
    """``http.response.start`` (send): the status and headers of the response."""

    type: Literal["http.response.start"]
    status: int
    headers: Iterable[tuple[bytes, bytes]]
    trailers: bool


class HTTPResponseBodyEvent(TypedDict):
    """``http.response.body`` (send): a chunk of the response body."""

    type: Literal["http.response.body"]
    body: bytes
    more_body: bool


class HTTPResponseTrailersEvent(TypedDict):
    """``http.response.trailers`` (send, extension): trailing headers."""

    type: Literal["http.response.trailers"]
    headers: Iterable[tuple[bytes, bytes]]
    more_trailers: bool


class HTTPResponsePathsendEvent(TypedDict):
    """``http.response.pathsend`` (send, extension): send the file at ``path`` as the body.

    As in asgiref, this event is not part of :data:`ASGISendEvent`.
    """

    type: Literal["http.response.pathsend"]
    path: str


class HTTPResponseZeroCopySendEvent(TypedDict):
    """``http.response.zerocopysend`` (send, extension): send part of an open file.

    Not in asgiref, not exported in ``__all__`` and not part of :data:`ASGISendEvent`.
    Unlike the asgiref-compatible events, the optional keys of the spec are
    ``NotRequired`` here.  The application, not the server, closes ``file``.
    """

    type: Literal["http.response.zerocopysend"]
    file: IO[bytes]
    offset: NotRequired[int]
    count: NotRequired[int]
    more_body: NotRequired[bool]


class HTTPResponseEarlyHintEvent(TypedDict):
    """``http.response.early_hint`` (send, extension): ``Link`` values for a 103 response.

    Not in asgiref, not exported in ``__all__`` and not part of :data:`ASGISendEvent`.
    """

    type: Literal["http.response.early_hint"]
    links: Iterable[bytes]


class HTTPServerPushEvent(TypedDict):
    """``http.response.push`` (send, extension): an HTTP/2 server push."""

    type: Literal["http.response.push"]
    path: str
    headers: Iterable[tuple[bytes, bytes]]


class HTTPDisconnectEvent(TypedDict):
    """``http.disconnect`` (receive): the client went away or the response is complete."""

    type: Literal["http.disconnect"]


class WebSocketConnectEvent(TypedDict):
    """``websocket.connect`` (receive): the client asks to open the WebSocket."""

    type: Literal["websocket.connect"]


class WebSocketAcceptEvent(TypedDict):
    """``websocket.accept`` (send): accept the connection."""

    type: Literal["websocket.accept"]
    subprotocol: str | None
    headers: Iterable[tuple[bytes, bytes]]


class WebSocketReceiveEvent(TypedDict):
    """``websocket.receive`` (receive): one message from the client."""

    type: Literal["websocket.receive"]
    bytes: bytes | None
    text: str | None


class WebSocketSendEvent(TypedDict):
    """``websocket.send`` (send): one message to the client."""

    type: Literal["websocket.send"]
    bytes: bytes | None
    text: str | None


class WebSocketResponseStartEvent(TypedDict):
    """``websocket.http.response.start`` (send, extension): start a denial response."""

    type: Literal["websocket.http.response.start"]
    status: int
    headers: Iterable[tuple[bytes, bytes]]


class WebSocketResponseBodyEvent(TypedDict):
    """``websocket.http.response.body`` (send, extension): a chunk of a denial response."""

    type: Literal["websocket.http.response.body"]
    body: bytes
    more_body: bool


class WebSocketDisconnectEvent(TypedDict):
    """``websocket.disconnect`` (receive): the connection was closed."""

    type: Literal["websocket.disconnect"]
    code: int
    reason: str | None


class WebSocketCloseEvent(TypedDict):
    """``websocket.close`` (send): close the connection, or reject it before accept."""

    type: Literal["websocket.close"]
    code: int
    reason: str | None


class LifespanStartupEvent(TypedDict):
    """``lifespan.startup`` (receive): the server is starting up."""

    type: Literal["lifespan.startup"]


class LifespanShutdownEvent(TypedDict):
    """``lifespan.shutdown`` (receive): the server is shutting down."""

    type: Literal["lifespan.shutdown"]


class LifespanStartupCompleteEvent(TypedDict):
    """``lifespan.startup.complete`` (send): the application started up."""

    type: Literal["lifespan.startup.complete"]


class LifespanStartupFailedEvent(TypedDict):
    """``lifespan.startup.failed`` (send): the application failed to start up."""

    type: Literal["lifespan.startup.failed"]
    message: str


class LifespanShutdownCompleteEvent(TypedDict):
    """``lifespan.shutdown.complete`` (send): the application shut down."""

    type: Literal["lifespan.shutdown.complete"]


class LifespanShutdownFailedEvent(TypedDict):
    """``lifespan.shutdown.failed`` (send): the application failed to shut down."""

    type: Literal["lifespan.shutdown.failed"]
    message: str


ASGIReceiveEvent = (
    HTTPRequestEvent
    | HTTPDisconnectEvent
    | WebSocketConnectEvent
    | WebSocketReceiveEvent
    | WebSocketDisconnectEvent
    | LifespanStartupEvent
    | LifespanShutdownEvent
)

ASGISendEvent = (
    HTTPResponseStartEvent
    | HTTPResponseBodyEvent
    | HTTPResponseTrailersEvent
    | HTTPServerPushEvent
    | HTTPDisconnectEvent
    | WebSocketAcceptEvent
    | WebSocketSendEvent
    | WebSocketResponseStartEvent
    | WebSocketResponseBodyEvent
    | WebSocketCloseEvent
    | LifespanStartupCompleteEvent
    | LifespanStartupFailedEvent
    | LifespanShutdownCompleteEvent
    | LifespanShutdownFailedEvent
)

ASGIReceiveCallable = Callable[[], Awaitable[ASGIReceiveEvent]]
ASGISendCallable = Callable[[ASGISendEvent], Awaitable[None]]


class ASGI2Protocol(Protocol):
    """An ASGI 2 application: constructed with the scope, then awaited per connection."""

    def __init__(self, scope: Scope) -> None: ...

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None: ...


ASGI2Application = type[ASGI2Protocol]
ASGI3Application = Callable[
    [Scope, ASGIReceiveCallable, ASGISendCallable],
    Awaitable[None],
]
ASGIApplication = ASGI2Application | ASGI3Application
