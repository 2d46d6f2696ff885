"""The HTTP state machine, both directions (rules ``HTTP-SEND-*`` and ``HTTP-RECV-*``).

The response goes :class:`Response` ``NOT_STARTED`` → ``STARTED`` → (``TRAILERS``) →
``COMPLETE``; the request body goes :class:`Request` ``RECEIVING`` → ``BODY_DONE``, and
either side can jump to ``DISCONNECTED``.
"""

from __future__ import annotations

import enum
from typing import Any

from asgiref._validation import _messages
from asgiref._validation._values import Report, parse_content_length

__all__ = ["HttpConnection"]

_EXTENSIONS = frozenset(
    {
        "http.response.pathsend",
        "http.response.trailers",
        "http.response.zerocopysend",
        "http.response.early_hint",
        "http.response.push",
        "http.response.debug",
    }
)
# Statuses whose response has no content (RFC 9110); HEAD answers have none either.
_NO_CONTENT = frozenset({204, 304})


class Response(enum.Enum):
    """Where the application is in sending its response."""

    NOT_STARTED = "not started"
    STARTED = "started"
    TRAILERS = "waiting for trailers"
    COMPLETE = "complete"


class Request(enum.Enum):
    """Where the server is in delivering the request."""

    RECEIVING = "receiving the body"
    BODY_DONE = "body complete"
    DISCONNECTED = "disconnected"


# Module-level aliases: on Python 3.11 ``Enum.MEMBER`` costs a slow class lookup, and
# the checks run on every event.
_NOT_STARTED = Response.NOT_STARTED
_STARTED = Response.STARTED
_TRAILERS = Response.TRAILERS
_COMPLETE = Response.COMPLETE
_RECEIVING = Request.RECEIVING
_BODY_DONE = Request.BODY_DONE
_DISCONNECTED = Request.DISCONNECTED


class HttpConnection:
    """The checks of one http connection (one request and its response).

    Args:
        scope: The (already checked) scope.
        content_lengths: The request's ``content-length`` header values.
        report: Where violations go.

    Attributes:
        closed: The client is gone: ``http.disconnect`` arrived or ``send`` raised
            :class:`OSError`.  An unfinished response is then not the app's fault.

    Runs in: the event loop of the connection; one instance per connection.
    """

    __slots__ = (
        "_body_seen",
        "_expected",
        "_extensions",
        "_head",
        "_received",
        "_report",
        "_request",
        "_request_expected",
        "_response",
        "_sent",
        "_status",
        "_trailers",
        "closed",
    )

    def __init__(self, scope: Any, content_lengths: list[bytes], report: Report) -> None:
        self._report = report
        extensions = scope.get("extensions")
        self._extensions = extensions if isinstance(extensions, dict) else {}
        self._head = scope.get("method") == "HEAD"
        self._request = _RECEIVING
        self._request_expected = parse_content_length(content_lengths) if content_lengths else None
        self._received = 0
        self._response = _NOT_STARTED
        self._status = 200
        self._expected: int | None = None
        self._sent = 0
        self._body_seen = False
        self._trailers = False
        self.closed = False

    # --- what the server delivers -------------------------------------------------------

    def on_receive(self, message: Any) -> None:
        """Check one event returned by the server's ``receive()``."""
        kind = message["type"]
        if self._request is _DISCONNECTED and kind != "http.disconnect":
            self._report("HTTP-RECV-005", "deliver only http.disconnect after it", message)
        elif kind == "http.request":
            self._on_request(message)
        elif kind == "http.disconnect":
            self._request = _DISCONNECTED
            self.closed = True
        else:
            self._report("HTTP-RECV-001", "an http app receives http.request/disconnect", kind)

    def _on_request(self, message: Any) -> None:
        """``http.request``: one chunk of the request body."""
        if self._request is _BODY_DONE:
            self._report("HTTP-RECV-004", "no http.request after more_body=False", message)
        body = message.get("body", b"")
        more_body = message.get("more_body", False)
        if type(body) is bytes and type(more_body) is bool:  # the common case, no calls
            length = len(body)
        else:
            length, more_body = _messages.check_body(message, self._report, _messages.REQUEST_BODY)
        self._received += length
        expected = self._request_expected
        if expected is not None and self._received > expected:
            self._request_expected = None
            self._report("HTTP-RECV-006", f"content-length was {expected}", self._received)
        if not more_body:
            self._request = _BODY_DONE
            if expected is not None and self._received < expected:
                self._report("HTTP-RECV-007", f"content-length was {expected}", self._received)

    # --- what the application sends -----------------------------------------------------

    def on_send(self, message: Any) -> Any:
        """Check one event passed to ``send()``; return the event to forward."""
        kind = message["type"]
        if kind == "http.response.body":
            self._on_body(message)
        elif kind == "http.response.start":
            return self._on_start(message)
        elif kind in _EXTENSIONS:
            self._on_extension(kind, message)
        else:
            self._report("HTTP-SEND-001", "unknown event type for an http connection", kind)
        return message

    def _on_start(self, message: Any) -> Any:
        """``http.response.start``."""
        if self._response is _COMPLETE:
            self._report("HTTP-SEND-005", "the response is already complete", message)
        elif self._response is not _NOT_STARTED:
            self._report("HTTP-SEND-004", "send http.response.start only once", message)
        message, status, content_lengths, trailers = _messages.check_start(message, self._report)
        if self._response is _NOT_STARTED:
            self._response = _STARTED
            self._status = status
            self._trailers = trailers
            if content_lengths:
                self._expected = self._announced_length(status, content_lengths)
        return message

    def _announced_length(self, status: int, content_lengths: list[bytes]) -> int | None:
        """The content-length the body must match, or ``None`` when it need not."""
        expected = parse_content_length(content_lengths)
        if expected is None:
            self._report("HTTP-SEND-015", "send one content-length of digits", content_lengths)
        if self._head or status in _NO_CONTENT or status < 200:
            return None
        return expected

    def _check_body_window(self, message: Any) -> bool:
        """Report a body-like event outside the body; return whether it is inside."""
        if self._response is _NOT_STARTED:
            self._report("HTTP-SEND-003", "send http.response.start first", message)
            return False
        if self._response is not _STARTED:
            self._report("HTTP-SEND-005", "the response is already complete", message)
            return False
        return True

    def _on_body(self, message: Any) -> None:
        """``http.response.body``."""
        inside = self._response is _STARTED or self._check_body_window(message)
        body = message.get("body", b"")
        more_body = message.get("more_body", False)
        if type(body) is bytes and type(more_body) is bool:  # the common case, no calls
            length = len(body)
        else:
            length, more_body = _messages.check_body(message, self._report, _messages.RESPONSE_BODY)
        if not inside:
            return
        self._body_seen = True
        if length:
            self._count(length)
        if not more_body:
            self._end_body()

    def _count(self, length: int) -> None:
        """Add ``length`` body bytes and check them against the status and content-length."""
        if length and (self._status in _NO_CONTENT or self._status < 200) and not self._head:
            self._report("HTTP-SEND-018", f"a {self._status} response has no body", length)
        self._sent += length
        expected = self._expected
        if expected is not None and self._sent > expected:
            self._expected = None
            self._report("HTTP-SEND-016", f"content-length was {expected}", self._sent)

    def _end_body(self) -> None:
        """The final body event was sent."""
        self._response = _TRAILERS if self._trailers else _COMPLETE
        expected = self._expected
        if expected is not None and self._sent < expected:
            self._report("HTTP-SEND-017", f"content-length was {expected}", self._sent)

    def _on_extension(self, kind: str, message: Any) -> None:
        """An extension event: advertised, in its window, well formed."""
        if kind not in self._extensions:
            self._report("HTTP-SEND-002", f"the server did not advertise {kind!r}", message)
        if kind == "http.response.pathsend":
            self._on_pathsend(message)
        elif kind == "http.response.trailers":
            self._on_trailers(message)
        else:
            self._on_other_extension(kind, message)

    def _on_pathsend(self, message: Any) -> None:
        """``http.response.pathsend``: the whole body, once, instead of body events."""
        inside = self._check_body_window(message)
        _messages.check_pathsend(message, self._report)
        if not inside:
            return
        if self._body_seen:
            self._report("HTTP-SEND-021", "do not mix pathsend with body events", message)
        self._expected = None
        self._end_body()

    def _on_trailers(self, message: Any) -> None:
        """``http.response.trailers``: after the final body of a ``trailers=True`` start."""
        if self._response is _COMPLETE:
            self._report("HTTP-SEND-005", "the response is already complete", message)
        elif self._response is not _TRAILERS:
            self._report(
                "HTTP-SEND-022", "set trailers=True and end the body before trailers", message
            )
        more = _messages.check_trailers(message, self._report)
        if self._response is _TRAILERS and not more:
            self._response = _COMPLETE

    def _on_other_extension(self, kind: str, message: Any) -> None:
        """zerocopysend, early_hint, push (inside the body window) and debug (before it)."""
        _messages.check_extension(kind, message, self._report)
        if kind == "http.response.debug":
            if self._response is not _NOT_STARTED:
                self._report("HTTP-SEND-024", "send http.response.debug before start", message)
            return
        if self._response is not _STARTED:
            self._report("HTTP-SEND-024", f"send {kind} after start, before the end", message)
            return
        if kind == "http.response.zerocopysend":
            self._body_seen = True
            self._expected = None
            if not message.get("more_body", False):
                self._end_body()

    # --- the end ------------------------------------------------------------------------

    def on_return(self) -> None:
        """The application returned normally."""
        if self._response is not _COMPLETE and not self.closed:
            state = self._response.value
            self._report("HTTP-SEND-019", "finish the response before returning", state)
