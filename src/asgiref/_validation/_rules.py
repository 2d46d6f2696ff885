"""The rule table: every check the validator makes, with a stable id.

Ids read ``<AREA>-<NNN>`` or ``<PROTOCOL>-<DIRECTION>-<NNN>``: ``SEND`` rules bind the
application (what it passes to ``send()``), ``RECV`` and ``SCOPE`` rules bind the server
(what it passes as the scope and returns from ``receive()``).  Ids are never reused or
renumbered; docs/validation.rst renders this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["RULES", "Rule", "Side"]


class Side(enum.Enum):
    """Who a rule binds."""

    SERVER = "server"
    """The protocol server, or whatever calls the app (a test harness, middleware)."""
    APP = "app"
    """The application, or middleware acting as one."""


@dataclass(frozen=True)
class Rule:
    """One requirement of the ASGI specifications that the validator checks.

    Attributes:
        id: The stable id, e.g. ``"HTTP-SEND-003"``.
        side: Who breaks the rule when it is violated.
        summary: What the rule forbids, in a few words.
        spec: The sentence of the specification it enforces, in our words, naming the
            document it comes from.
    """

    id: str
    side: Side
    summary: str
    spec: str


_S, _A = Side.SERVER, Side.APP
_ASGI = "ASGI spec (asgi.rst)"
_WWW = "HTTP & WebSocket spec (www.rst)"
_LIFE = "Lifespan spec (lifespan.rst)"
_EXT = "Extensions (extensions.rst)"
_TLS = "TLS extension (tls.rst)"
_RFC = "RFC 9110"

_TABLE: tuple[tuple[str, Side, str, str], ...] = (
    # --- events in general ------------------------------------------------------------
    ("EVENT-SEND-001", _A, "send() was given something that is not a dict",
     f"{_ASGI}: every event is a dict."),
    ("EVENT-SEND-002", _A, "sent event has no 'type' key, or it is not a str",
     f"{_ASGI}: every event has a 'type' key, a Unicode string."),
    ("EVENT-RECV-001", _S, "receive() returned something that is not a dict",
     f"{_ASGI}: receive() returns the next event, a dict."),
    ("EVENT-RECV-002", _S, "received event has no 'type' key, or it is not a str",
     f"{_ASGI}: every event has a 'type' key, a Unicode string."),
    # --- every scope --------------------------------------------------------------------
    ("SCOPE-001", _S, "the scope is not a dict",
     f"{_ASGI}: scope is a dict."),
    ("SCOPE-002", _S, "scope['type'] is missing or not a str",
     f"{_ASGI}: scope['type'] is always present and names the protocol."),
    ("SCOPE-003", _S, "scope['asgi'] is missing or not a dict",
     f"{_ASGI}: scope['asgi'] is present, a dict holding the ASGI version."),
    ("SCOPE-004", _S, "scope['asgi']['version'] is missing or not '2.0'/'3.0'",
     f"{_ASGI}: scope['asgi']['version'] is the version of the ASGI spec the server uses."),
    ("SCOPE-005", _S, "scope['asgi']['spec_version'] is not a str",
     f"{_ASGI}: spec_version is an optional Unicode string."),
    ("SCOPE-006", _S, "scope['extensions'] is not a dict of dicts",
     f"{_ASGI}: extensions map an extension name to a dict of extra data."),
    ("SCOPE-007", _S, "scope['state'] is not a dict",
     f"{_LIFE}: state is a dict (a copy of the lifespan state)."),
    ("SCOPE-008", _S, "the 'tls' extension is offered on a connection that is not TLS",
     f"{_TLS}: the extension must not be offered on a non-TLS connection."),
    ("SCOPE-009", _S, "the 'tls' extension lacks a mandatory key or has a wrong type",
     f"{_TLS}: server_cert (str or None), tls_version and cipher_suite (int or None) "
     "are mandatory."),
    ("SCOPE-010", _S, "scope['extensions'] holds a value that is not an ASGI value",
     f"{_ASGI}: values are bytes, str, 64-bit int, finite float, list, dict with str keys, "
     "bool or None (no bytearray, set, object...)."),
    # --- http and websocket scopes -----------------------------------------------------
    ("CONN-SCOPE-001", _S, "scope['path'] is missing or not a str",
     f"{_WWW}: path is a Unicode string, percent-escapes and UTF-8 decoded."),
    ("CONN-SCOPE-002", _S, "scope['raw_path'] is neither bytes nor None",
     f"{_WWW}: raw_path is an optional byte string."),
    ("CONN-SCOPE-003", _S, "scope['query_string'] is not bytes",
     f"{_WWW}: query_string is a byte string, still percent-encoded."),
    ("CONN-SCOPE-004", _S, "scope['root_path'] is not a str",
     f"{_WWW}: root_path is an optional Unicode string."),
    ("CONN-SCOPE-005", _S, "scope['headers'] is not an iterable of [bytes, bytes] pairs",
     f"{_WWW}: headers is an iterable of [name, value] two-item iterables of byte strings."),
    ("CONN-SCOPE-006", _S, "scope['headers'] holds an HTTP/2 pseudo-header",
     f"{_WWW}: pseudo headers (present in HTTP/2 and HTTP/3) must be removed."),
    ("CONN-SCOPE-007", _S, "scope['client'] is neither None nor [host: str, port: int]",
     f"{_WWW}: client is a two-item iterable of [host, port], or None."),
    ("CONN-SCOPE-008", _S, "scope['server'] is neither None nor [host: str, port: int|None]",
     f"{_WWW}: server is [host, port], or [unix_socket_path, None], or None."),
    ("CONN-SCOPE-009", _S, "scope['scheme'] is empty or not a str",
     f"{_WWW}: scheme is optional but must not be empty."),
    ("CONN-SCOPE-010", _S, "scope['path'] does not start with scope['root_path']",
     f"{_WWW}: root_path is the mount point; path is the full path below it."),
    ("CONN-SCOPE-011", _S, "scope['state'] is the lifespan's state dict itself, not a copy",
     f"{_LIFE}: every connection scope gets a shallow copy of the lifespan state."),
    ("CONN-SCOPE-012", _S, "scope['state'] is missing or differs from the lifespan's state",
     f"{_LIFE}: every connection scope gets a shallow copy of the lifespan state."),
    ("HTTP-SCOPE-001", _S, "scope['http_version'] is missing or not '1.0', '1.1', '2' or '3'",
     f"{_WWW}: http_version is one of '1.0', '1.1' or '2' ('3' for HTTP/3 servers)."),
    ("HTTP-SCOPE-002", _S, "scope['method'] is missing, not a str, or not an upper-case token",
     f"{_WWW}: method is the HTTP method name, uppercased."),
    ("HTTP-SCOPE-003", _S, "scope['query_string'] is missing",
     f"{_WWW}: query_string is required in an http scope."),
    ("WS-SCOPE-001", _S, "scope['http_version'] is not '1.1' or '2'",
     f"{_WWW}: a websocket http_version is '1.1' or '2' (optional, default '1.1')."),
    ("WS-SCOPE-002", _S, "scope['scheme'] is not 'ws' or 'wss'",
     f"{_WWW}: a websocket scheme is 'ws' or 'wss'."),
    ("WS-SCOPE-003", _S, "scope['subprotocols'] is not an iterable of str",
     f"{_WWW}: subprotocols is an iterable of Unicode strings."),
    ("LIFE-SCOPE-001", _S, "scope['state'] is not empty at the start of the lifespan",
     f"{_LIFE}: the lifespan scope gets an empty state dict."),
    # --- http: what the app sends --------------------------------------------------------
    ("HTTP-SEND-001", _A, "unknown event type in an http connection",
     f"{_ASGI}: an invalid event (unknown type) passed to send must raise."),
    ("HTTP-SEND-002", _A, "extension event sent but the extension is not in scope['extensions']",
     f"{_EXT}: an app may use an extension's events only if the server advertised it."),
    ("HTTP-SEND-003", _A, "http.response.body before http.response.start",
     f"{_WWW}: the app sends http.response.start, then http.response.body."),
    ("HTTP-SEND-004", _A, "a second http.response.start",
     f"{_WWW}: the app sends exactly one http.response.start."),
    ("HTTP-SEND-005", _A, "event sent after the response was complete",
     f"{_WWW}: the response ends at the first body with more_body false; nothing follows."),
    ("HTTP-SEND-006", _A, "status is missing, not an int, or outside 100-599",
     f"{_WWW}: status is an integer HTTP status code; {_RFC}: codes are 100-599."),
    ("HTTP-SEND-007", _A, "headers is not an iterable of [bytes, bytes] pairs",
     f"{_WWW}: headers is an iterable of [name, value] two-item iterables of byte strings."),
    ("HTTP-SEND-008", _A, "header name is not an HTTP token",
     f"{_RFC}: a field name is a token (letters, digits and !#$%&'*+-.^_`|~)."),
    ("HTTP-SEND-009", _A, "header name is not lower-case",
     f"{_WWW}: header names must be lowercased."),
    ("HTTP-SEND-010", _A, "pseudo-header (':name') in response headers",
     f"{_WWW}: pseudo headers (present in HTTP/2 and HTTP/3) must not be present."),
    ("HTTP-SEND-011", _A, "header value contains CR, LF or NUL",
     f"{_RFC}: a field value never contains CR, LF or NUL."),
    ("HTTP-SEND-012", _A, "trailers is not a bool",
     f"{_EXT}: trailers in http.response.start is a bool, default False."),
    ("HTTP-SEND-013", _A, "body is not bytes",
     f"{_WWW}: body is a byte string."),
    ("HTTP-SEND-014", _A, "more_body is not a bool",
     f"{_WWW}: more_body is a bool."),
    ("HTTP-SEND-015", _A, "content-length is not one non-negative integer",
     f"{_RFC}: Content-Length is 1*DIGIT; differing repeated values are an error."),
    ("HTTP-SEND-016", _A, "more body bytes than content-length announced",
     f"{_RFC}: the body length is exactly Content-Length."),
    ("HTTP-SEND-017", _A, "fewer body bytes than content-length announced",
     f"{_RFC}: the body length is exactly Content-Length."),
    ("HTTP-SEND-018", _A, "body bytes in a 1xx, 204 or 304 response",
     f"{_RFC}: 1xx, 204 and 304 responses have no content."),
    ("HTTP-SEND-019", _A, "the app returned before its response was complete",
     f"{_WWW}: send exactly one http.response.start, then body events until more_body "
     "is false."),
    ("HTTP-SEND-020", _A, "http.response.pathsend path is not an absolute str path",
     f"{_EXT}: path is the absolute path of the file to send, a Unicode string."),
    ("HTTP-SEND-021", _A, "http.response.pathsend mixed with body events",
     f"{_EXT}: pathsend follows the start event once, instead of body events."),
    ("HTTP-SEND-022", _A, "http.response.trailers without trailers=True, or before the body ended",
     f"{_EXT}: trailers need trailers: True at start and come after the last body event."),
    ("HTTP-SEND-023", _A, "more_trailers is not a bool",
     f"{_EXT}: more_trailers is a bool, default False."),
    ("HTTP-SEND-024", _A, "extension event outside its window",
     f"{_EXT}: early_hint, push and zerocopysend come after the start event and before "
     "the final body; debug comes before the start event."),
    ("HTTP-SEND-025", _A, "extension event with a missing key or a wrong type",
     f"{_EXT}: zerocopysend needs a file; early_hint links are bytes; push path is a "
     "str; debug info is a dict."),
    # --- http: what the server delivers ----------------------------------------------------
    ("HTTP-RECV-001", _S, "unknown event type in an http connection",
     f"{_WWW}: an http app receives http.request and http.disconnect."),
    ("HTTP-RECV-002", _S, "http.request body is not bytes",
     f"{_WWW}: body is a byte string."),
    ("HTTP-RECV-003", _S, "http.request more_body is not a bool",
     f"{_WWW}: more_body is a bool."),
    ("HTTP-RECV-004", _S, "http.request after the request body ended",
     f"{_WWW}: the body is complete at the first http.request with more_body false."),
    ("HTTP-RECV-005", _S, "an event other than http.disconnect after http.disconnect",
     f"{_WWW}: http.disconnect is sent when the connection is closed; nothing else follows."),
    ("HTTP-RECV-006", _S, "more request body bytes than the request's content-length",
     f"{_RFC}: the request body length is exactly Content-Length."),
    ("HTTP-RECV-007", _S, "request body ended short of the request's content-length",
     f"{_RFC}: the request body length is exactly Content-Length."),
    # --- websocket: what the app sends -----------------------------------------------------
    ("WS-SEND-001", _A, "unknown event type in a websocket connection",
     f"{_ASGI}: an invalid event (unknown type) passed to send must raise."),
    ("WS-SEND-002", _A, "websocket.send before websocket.accept",
     f"{_WWW}: the app accepts the connection before sending messages."),
    ("WS-SEND-003", _A, "a second websocket.accept",
     f"{_WWW}: the app answers websocket.connect with one accept or close."),
    ("WS-SEND-004", _A, "websocket.accept after websocket.close or a denial response",
     f"{_WWW}: close before accept rejects the connection for good."),
    ("WS-SEND-005", _A, "event sent after websocket.close",
     f"{_WWW}: websocket.close ends the connection; nothing follows."),
    ("WS-SEND-006", _A, "accept subprotocol is neither a str nor None",
     f"{_WWW}: subprotocol is an optional Unicode string."),
    ("WS-SEND-007", _A, "accept subprotocol was not offered by the client",
     "RFC 6455: the server selects one of the subprotocols the client offered."),
    ("WS-SEND-008", _A, "accept headers sent to a server below spec_version 2.1",
     f"{_WWW}: headers on websocket.accept were added in spec version 2.1."),
    ("WS-SEND-009", _A, "accept headers malformed (pairs of bytes, token names, clean values)",
     f"{_WWW}: headers is an iterable of lower-cased [name, value] byte strings."),
    ("WS-SEND-010", _A, "sec-websocket-protocol in accept headers",
     f"{_WWW}: the subprotocol key, not a header, selects the subprotocol."),
    ("WS-SEND-011", _A, "websocket.send without exactly one of bytes and text",
     f"{_WWW}: exactly one of bytes or text must be non-None."),
    ("WS-SEND-012", _A, "websocket.send bytes is not bytes, or text is not a str",
     f"{_WWW}: bytes is a byte string, text a Unicode string."),
    ("WS-SEND-013", _A, "close code is not an int a server may send",
     "RFC 6455: close codes are 1000-1003, 1007-1014 or 3000-4999."),
    ("WS-SEND-014", _A, "close reason is not a str (or None) of at most 123 UTF-8 bytes",
     f"{_WWW}: reason is an optional Unicode string; RFC 6455 limits it to 123 bytes."),
    ("WS-SEND-015", _A, "denial response without the websocket.http.response extension",
     f"{_EXT}: websocket.http.response.* needs the extension advertised."),
    ("WS-SEND-016", _A, "denial response out of order",
     f"{_EXT}: the denial response replaces accept: a start, then body events."),
    ("WS-SEND-017", _A, "denial response event malformed",
     f"{_EXT}: the denial events have the keys of http.response.start and .body."),
    ("WS-SEND-018", _A, "close reason sent to a server below spec_version 2.3",
     f"{_WWW}: reason on websocket.close was added in spec version 2.3."),
    # --- websocket: what the server delivers -------------------------------------------------
    ("WS-RECV-001", _S, "unknown event type in a websocket connection",
     f"{_WWW}: a websocket app receives connect, receive and disconnect."),
    ("WS-RECV-002", _S, "first event is not websocket.connect, or a second one",
     f"{_WWW}: websocket.connect is sent once, when the client opens the handshake."),
    ("WS-RECV-003", _S, "websocket.receive before the app accepted",
     f"{_WWW}: messages are delivered only after the app accepted the connection."),
    ("WS-RECV-004", _S, "websocket.receive without exactly one of bytes (bytes) and text (str)",
     f"{_WWW}: exactly one of bytes or text is non-None."),
    ("WS-RECV-005", _S, "websocket.disconnect code missing or not an int",
     f"{_WWW}: code is the close code, an int (1005 when the client sent none)."),
    ("WS-RECV-006", _S, "websocket.disconnect reason is neither a str nor None",
     f"{_WWW}: reason is an optional Unicode string (spec 2.5)."),
    ("WS-RECV-007", _S, "event after websocket.disconnect",
     f"{_WWW}: websocket.disconnect ends the connection."),
    # --- lifespan: what the app sends ---------------------------------------------------------
    ("LIFE-SEND-001", _A, "unknown event type in the lifespan",
     f"{_LIFE}: the app sends startup/shutdown .complete or .failed."),
    ("LIFE-SEND-002", _A, "startup answered before lifespan.startup arrived",
     f"{_LIFE}: startup.complete and .failed answer lifespan.startup."),
    ("LIFE-SEND-003", _A, "startup answered twice (complete or failed again)",
     f"{_LIFE}: the app answers lifespan.startup once."),
    ("LIFE-SEND-004", _A, "shutdown answered before lifespan.shutdown arrived",
     f"{_LIFE}: shutdown.complete and .failed answer lifespan.shutdown."),
    ("LIFE-SEND-005", _A, "shutdown answered twice (complete or failed again)",
     f"{_LIFE}: the app answers lifespan.shutdown once."),
    ("LIFE-SEND-006", _A, "failed event message is not a str",
     f"{_LIFE}: message is an optional Unicode string."),
    ("LIFE-SEND-007", _A, "the app replaced (or added) scope['state'] instead of filling it in",
     f"{_LIFE}: the app stores its state in the server's dict, which the server copies into "
     "every connection scope."),
    # --- lifespan: what the server delivers -----------------------------------------------------
    ("LIFE-RECV-001", _S, "unknown event type in the lifespan",
     f"{_LIFE}: the server sends lifespan.startup and lifespan.shutdown."),
    ("LIFE-RECV-002", _S, "first event is not lifespan.startup, or a second one",
     f"{_LIFE}: the server sends lifespan.startup once, before accepting connections."),
    ("LIFE-RECV-003", _S, "lifespan.shutdown after startup failed",
     f"{_LIFE}: on startup.failed the server logs the message and exits."),
    ("LIFE-RECV-004", _S, "a second lifespan.shutdown",
     f"{_LIFE}: the server sends lifespan.shutdown once, then waits for the answer."),
)  # fmt: skip

#: Every rule, by id, in table order.
RULES: MappingProxyType[str, Rule] = MappingProxyType(
    {rule_id: Rule(rule_id, side, summary, spec) for rule_id, side, summary, spec in _TABLE}
)
