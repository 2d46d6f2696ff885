"""The shape of each event: required keys, value types, value ranges.

One function per event type (or family).  Each reports through ``report`` and returns
what the state machines need to know about the event; none of them knows the order of
events, which is the state machines' business (``_http``, ``_websocket``, ``_lifespan``).
"""

from __future__ import annotations

import os
from typing import Any, TypeAlias

from asgiref._validation._values import (
    HeaderRules,
    Report,
    check_headers,
    clean_headers,
    is_close_code,
)

__all__ = [
    "REQUEST_BODY",
    "RESPONSE_BODY",
    "BodyRules",
    "Start",
    "check_body",
    "check_close",
    "check_disconnect",
    "check_extension",
    "check_failed",
    "check_response_headers",
    "check_start",
    "check_ws_accept",
    "check_ws_receive",
    "check_ws_send",
]

_RESPONSE_HEADERS = HeaderRules(
    shape="HTTP-SEND-007",
    pseudo="HTTP-SEND-010",
    name="HTTP-SEND-008",
    lower="HTTP-SEND-009",
    value="HTTP-SEND-011",
)
_ACCEPT_HEADERS = HeaderRules(
    shape="WS-SEND-009", pseudo="WS-SEND-009", name="WS-SEND-009", lower="WS-SEND-009",
    value="WS-SEND-009",
)  # fmt: skip


Start: TypeAlias = tuple[Any, int, list[bytes], bool]
"""What ``http.response.start`` announced: the event to forward (a copy when ``headers``
was a one-shot iterable), the status (200 when it was invalid, already reported), the
``content-length`` values, and ``trailers``.  A plain tuple: it is built per request."""


def check_response_headers(
    message: Any, report: Report, rules: HeaderRules
) -> tuple[Any, list[bytes]]:
    """Check ``message['headers']`` (default ``[]``) of a send event.

    Returns:
        The event to forward (a copy with a list when ``headers`` was another iterable)
        and the ``content-length`` values.
    """
    headers = message.get("headers", ())
    if type(headers) is not list and not isinstance(headers, (list, tuple)):
        if isinstance(headers, (str, bytes, dict)) or not hasattr(headers, "__iter__"):
            report(rules.shape, "headers must be a list of [name, value] pairs of bytes", headers)
            return message, []
        message = {**message, "headers": list(headers)}
        headers = message["headers"]
    return message, check_headers(headers, report, rules)


def check_start(message: Any, report: Report) -> Start:
    """``http.response.start`` (and the WebSocket denial response's start)."""
    status = message.get("status")
    if (
        type(status) is not int and (not isinstance(status, int) or isinstance(status, bool))
    ) or not 100 <= status <= 599:
        report("HTTP-SEND-006", "status must be an int from 100 to 599", status)
        status = 200
    trailers = message.get("trailers", False)
    if not isinstance(trailers, bool):
        report("HTTP-SEND-012", "trailers must be True or False", trailers)
        trailers = bool(trailers)
    headers = message.get("headers", ())
    if type(headers) is list or type(headers) is tuple:
        content_lengths = clean_headers(headers, True, True)
        if content_lengths is not None:
            return message, status, content_lengths, trailers
    message, content_lengths = check_response_headers(message, report, _RESPONSE_HEADERS)
    return message, status, content_lengths, trailers


#: The rules a body event is checked by: ``(id, text)`` for ``body``, then for
#: ``more_body``.
BodyRules: TypeAlias = tuple[tuple[str, str], tuple[str, str]]
#: ``http.response.body`` (and the websocket denial body), sent by the application.
RESPONSE_BODY: BodyRules = (
    ("HTTP-SEND-013", "body must be bytes; encode str bodies"),
    ("HTTP-SEND-014", "more_body must be True or False"),
)
#: ``http.request``, delivered by the server.
REQUEST_BODY: BodyRules = (
    ("HTTP-RECV-002", "http.request body must be bytes"),
    ("HTTP-RECV-003", "http.request more_body must be True or False"),
)


def check_body(message: Any, report: Report, rules: BodyRules) -> tuple[int, bool]:
    """A body event (:data:`RESPONSE_BODY` or :data:`REQUEST_BODY`): returns the body
    length and ``more_body``."""
    body = message.get("body", b"")
    if not isinstance(body, bytes):
        report(*rules[0], body)
        body = b""
    more_body = message.get("more_body", False)
    if not isinstance(more_body, bool):
        report(*rules[1], more_body)
        more_body = bool(more_body)
    return len(body), more_body


def check_extension(kind: str, message: Any, report: Report) -> None:
    """The keys of the HTTP extension events other than trailers and pathsend."""
    ok = True
    if kind == "http.response.zerocopysend":
        ok = _has_descriptor(message.get("file")) and all(
            isinstance(message.get(key, 0), int) for key in ("offset", "count")
        )
        if not isinstance(message.get("more_body", False), bool):
            report("HTTP-SEND-014", "more_body must be True or False", message)
    elif kind == "http.response.early_hint":
        links = message.get("links")
        ok = isinstance(links, (list, tuple)) and all(isinstance(link, bytes) for link in links)
    elif kind == "http.response.push":
        ok = isinstance(message.get("path"), str)
        if ok:
            check_response_headers(message, report, _RESPONSE_HEADERS)
    else:  # http.response.debug
        ok = isinstance(message.get("info"), dict)
    if not ok:
        report("HTTP-SEND-025", f"{kind} is missing a key or has a wrong type", message)


def _has_descriptor(file: object) -> bool:
    """Tell whether ``file`` has an OS file descriptor (``BytesIO`` has none)."""
    try:
        return isinstance(file.fileno(), int)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def check_pathsend(message: Any, report: Report) -> None:
    """``http.response.pathsend``: an absolute path, as a str."""
    path = message.get("path")
    if not isinstance(path, str) or not os.path.isabs(path):
        report("HTTP-SEND-020", "pathsend needs an absolute path, a str", path)


def check_trailers(message: Any, report: Report) -> bool:
    """``http.response.trailers``: returns ``more_trailers``."""
    check_response_headers(message, report, _RESPONSE_HEADERS)
    more = message.get("more_trailers", False)
    if not isinstance(more, bool):
        report("HTTP-SEND-023", "more_trailers must be True or False", more)
        more = bool(more)
    return more


def check_ws_accept(message: Any, scope: Any, report: Report) -> Any:
    """``websocket.accept``: returns the event to forward."""
    subprotocol = message.get("subprotocol")
    if subprotocol is not None:
        if not isinstance(subprotocol, str):
            report("WS-SEND-006", "subprotocol must be a str or None", subprotocol)
        elif subprotocol not in scope.get("subprotocols", ()):
            report("WS-SEND-007", "choose a subprotocol from scope['subprotocols']", subprotocol)
    if not message.get("headers"):
        return message
    spec_version = _spec_version(scope)
    if spec_version < (2, 1):
        report(
            "WS-SEND-008", "accept headers need a server with spec_version 2.1", scope.get("asgi")
        )
    message, _ = check_response_headers(message, report, _ACCEPT_HEADERS)
    for pair in message["headers"]:
        if isinstance(pair, (list, tuple)) and pair and pair[0] == b"sec-websocket-protocol":
            report("WS-SEND-010", "use the subprotocol key, not a header", pair)
    return message


def _spec_version(scope: Any) -> tuple[int, ...]:
    """The scope's ``spec_version`` as a tuple, ``(2, 0)`` when missing or unreadable."""
    asgi = scope.get("asgi")
    text = asgi.get("spec_version", "2.0") if isinstance(asgi, dict) else "2.0"
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        return (2, 0)


def check_ws_send(message: Any, report: Report) -> None:
    """``websocket.send``: exactly one of ``bytes`` and ``text``."""
    data, text = message.get("bytes"), message.get("text")
    if (data is None) == (text is None):
        report("WS-SEND-011", "set exactly one of bytes and text", message)
    elif not isinstance(data, (bytes, type(None))) or not isinstance(text, (str, type(None))):
        report("WS-SEND-012", "bytes must be bytes and text a str", message)


def check_close(message: Any, scope: Any, report: Report) -> None:
    """``websocket.close``: the code and the reason."""
    code = message.get("code", 1000)
    if not is_close_code(code):
        report("WS-SEND-013", "use close code 1000, 1001-1003, 1007-1014 or 3000-4999", code)
    reason = message.get("reason")
    if reason is None:
        return
    if not isinstance(reason, str) or len(reason.encode("utf-8", "surrogatepass")) > 123:
        report("WS-SEND-014", "reason must be a str of at most 123 UTF-8 bytes", reason)
    elif reason and _spec_version(scope) < (2, 3):
        report(
            "WS-SEND-018",
            "close reasons need a server with spec_version 2.3; send the code alone",
            scope.get("asgi"),
        )


def check_ws_receive(message: Any, report: Report) -> None:
    """``websocket.receive`` as delivered by the server."""
    data, text = message.get("bytes"), message.get("text")
    if (
        (data is None) == (text is None)
        or not isinstance(data, (bytes, type(None)))
        or not isinstance(text, (str, type(None)))
    ):
        report("WS-RECV-004", "a websocket.receive carries bytes or text, not both", message)


def check_disconnect(message: Any, report: Report) -> None:
    """``websocket.disconnect`` as delivered by the server."""
    code = message.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        report("WS-RECV-005", "websocket.disconnect needs an int code (1005 if none)", message)
    if not isinstance(message.get("reason"), (str, type(None))):
        report("WS-RECV-006", "websocket.disconnect reason must be a str or None", message)


def check_failed(message: Any, report: Report) -> None:
    """``lifespan.startup.failed`` and ``lifespan.shutdown.failed``."""
    if not isinstance(message.get("message", ""), str):
        report("LIFE-SEND-006", "the failed event's message must be a str", message)
