"""The WebSocket state machine, both directions (rules ``WS-SEND-*`` and ``WS-RECV-*``).

The application side goes :class:`Socket` ``CONNECTING`` → ``ACCEPTED`` → ``CLOSED``,
or ``CONNECTING`` → ``CLOSED`` (rejected), or ``CONNECTING`` → ``DENYING`` → ``DENIED``
(the ``websocket.http.response`` extension).
"""

from __future__ import annotations

import enum
from typing import Any

from asgiref._validation import _messages
from asgiref._validation._values import Report

__all__ = ["WebSocketConnection"]

_DENIAL = "websocket.http.response"


class Socket(enum.Enum):
    """Where the application is in the WebSocket handshake and conversation."""

    CONNECTING = "connecting"
    ACCEPTED = "accepted"
    CLOSED = "closed"
    DENYING = "sending a denial response"
    DENIED = "denied"


# Module-level aliases: on Python 3.11 ``Enum.MEMBER`` costs a slow class lookup, and
# the checks run on every event.
_CONNECTING = Socket.CONNECTING
_ACCEPTED = Socket.ACCEPTED
_CLOSED = Socket.CLOSED
_DENYING = Socket.DENYING
_DENIED = Socket.DENIED


class WebSocketConnection:
    """The checks of one websocket connection.

    Args:
        scope: The (already checked) scope.
        content_lengths: Unused (the handshake has no body).
        report: Where violations go.

    Attributes:
        closed: The connection is gone (``websocket.disconnect`` arrived or ``send``
            raised :class:`OSError`).

    Runs in: the event loop of the connection; one instance per connection.
    """

    __slots__ = ("_connected", "_report", "_scope", "_state", "closed")

    def __init__(self, scope: Any, content_lengths: list[bytes], report: Report) -> None:
        del content_lengths
        self._scope = scope
        self._report = report
        self._state = _CONNECTING
        self._connected = False
        self.closed = False

    def on_receive(self, message: Any) -> None:
        """Check one event returned by the server's ``receive()``."""
        kind = message["type"]
        if self.closed:
            self._report("WS-RECV-007", "deliver nothing after websocket.disconnect", message)
        elif kind == "websocket.connect":
            if self._connected:
                self._report("WS-RECV-002", "deliver websocket.connect only once", message)
            self._connected = True
        elif kind == "websocket.receive":
            if not self._connected:
                self._report("WS-RECV-002", "deliver websocket.connect first", message)
            elif self._state is _CONNECTING:
                self._report("WS-RECV-003", "deliver messages after the app accepted", message)
            _messages.check_ws_receive(message, self._report)
        elif kind == "websocket.disconnect":
            _messages.check_disconnect(message, self._report)
            self.closed = True
        else:
            self._report("WS-RECV-001", "unknown event type for a websocket connection", kind)

    def on_send(self, message: Any) -> Any:
        """Check one event passed to ``send()``; return the event to forward."""
        kind = message["type"]
        state = self._state
        if kind == "websocket.send":
            if state is _CONNECTING:
                self._report("WS-SEND-002", "send websocket.accept first", message)
            elif state is not _ACCEPTED:
                self._report("WS-SEND-005", "the connection is already closed", message)
            _messages.check_ws_send(message, self._report)
        elif kind == "websocket.accept":
            if state is _ACCEPTED:
                self._report("WS-SEND-003", "accept only once", message)
            elif state is not _CONNECTING:
                self._report("WS-SEND-004", "the connection was refused already", message)
            else:
                self._state = _ACCEPTED
            return _messages.check_ws_accept(message, self._scope, self._report)
        elif kind == "websocket.close":
            if state not in (_CONNECTING, _ACCEPTED):
                self._report("WS-SEND-005", "the connection is already closed", message)
            _messages.check_close(message, self._scope, self._report)
            self._state = _CLOSED
        elif kind.startswith(_DENIAL + "."):
            return self._on_denial(kind, message)
        else:
            self._report("WS-SEND-001", "unknown event type for a websocket connection", kind)
        return message

    def _on_denial(self, kind: str, message: Any) -> Any:
        """``websocket.http.response.start`` / ``.body``: an HTTP answer instead of accept."""
        extensions = self._scope.get("extensions")
        if not isinstance(extensions, dict) or _DENIAL not in extensions:
            self._report("WS-SEND-015", f"the server did not advertise {_DENIAL!r}", message)

        def report(rule: str, text: str, detail: object) -> None:
            del rule  # every shape problem of a denial event is one rule
            self._report("WS-SEND-017", text, detail)

        if kind == _DENIAL + ".start":
            if self._state is not _CONNECTING:
                self._report("WS-SEND-016", "send the denial start instead of accept", message)
            else:
                self._state = _DENYING
            return _messages.check_start(message, report)[0]
        if kind == _DENIAL + ".body":
            if self._state is not _DENYING:
                self._report("WS-SEND-016", "send the denial body after its start", message)
            _, more_body = _messages.check_body(message, report, _messages.RESPONSE_BODY)
            if self._state is _DENYING and not more_body:
                self._state = _DENIED
            return message
        self._report("WS-SEND-001", "unknown event type for a websocket connection", kind)
        return message

    def on_return(self) -> None:
        """The application returned normally; nothing is left to check."""
