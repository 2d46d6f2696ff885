"""``validate(app)``: the application wrapper that puts the checks between server and app."""

from __future__ import annotations

from typing import Any, Protocol

from asgiref._compatibility import guarantee_single_callable
from asgiref._validation._errors import OnViolation, Reporter
from asgiref._validation._http import HttpConnection
from asgiref._validation._lifespan import LifespanConnection
from asgiref._validation._scope import check_scope, check_state_copy
from asgiref._validation._values import Report
from asgiref._validation._websocket import WebSocketConnection

__all__ = ["ValidatedApplication", "validate"]


class _Connection(Protocol):
    """What the wrapper needs from a protocol's state machine."""

    closed: bool

    def on_receive(self, message: Any) -> None: ...
    def on_send(self, message: Any) -> Any: ...
    def on_return(self) -> None: ...


_PROTOCOLS: dict[str, type[HttpConnection | WebSocketConnection | LifespanConnection]] = {
    "http": HttpConnection,
    "websocket": WebSocketConnection,
    "lifespan": LifespanConnection,
}


def validate(app: Any, *, on_violation: OnViolation = "raise") -> ValidatedApplication:
    """Wrap an ASGI application so that both sides of every connection are checked.

    Every scope, every event the server returns from ``receive()`` and every event the
    application passes to ``send()`` is checked against the rules of
    :data:`asgiref.validation.RULES` (HTTP and WebSocket 2.5, Lifespan 2.0 and the
    extensions).  Scopes of other types pass through unchecked, apart from the keys all
    scopes share.

    Args:
        app: The ASGI application (ASGI 3, or an ASGI 2 double callable).
        on_violation: What a violation does:

            * ``"raise"``: raise :class:`~asgiref.validation.ASGIValidationError` on the
              offending side: out of ``send()`` into the application for its own events
              (the event is not forwarded), out of ``receive()`` into the application
              for the server's events, and out of the application call for a bad scope;
            * ``"warn"``: issue an :class:`~asgiref.validation.ASGIValidationWarning`
              and carry on;
            * a callable: call it with the :class:`~asgiref.validation.ASGIValidationError`
              and carry on.

    Returns:
        The wrapped application (its ``__wrapped__`` attribute is ``app``).

    Raises:
        ValueError: ``on_violation`` is a str other than ``"raise"`` or ``"warn"``.
        TypeError: ``on_violation`` is neither such a str nor callable.

    Runs in: the wrapped application runs wherever the server runs it; the checks add
    no threads and no tasks.
    """
    return ValidatedApplication(app, Reporter(on_violation))


class ValidatedApplication:
    """An ASGI 3 application checking the traffic of the application it wraps.

    Built by :func:`validate`.
    """

    __slots__ = ("__wrapped__", "_application", "_lifespan_states", "_report")

    def __init__(self, app: Any, report: Report) -> None:
        self.__wrapped__ = app
        self._application = guarantee_single_callable(app)
        self._report = report
        # The state dicts of the lifespans running through this wrapper: each connection
        # scope's state must be a copy of one of them (rules CONN-SCOPE-011/012).
        self._lifespan_states: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        return f"validate({self.__wrapped__!r})"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        report = self._report
        scope, content_lengths = check_scope(scope, report)
        kind = scope.get("type") if isinstance(scope, dict) else None
        protocol = _PROTOCOLS.get(kind) if isinstance(kind, str) else None
        if protocol is None:
            await self._application(scope, receive, send)
            return
        connection: _Connection = protocol(scope, content_lengths, report)
        lifespan_states = self._lifespan_states
        registered: dict[str, Any] | None = None
        if kind == "lifespan":
            state = scope.get("state")
            if isinstance(state, dict):
                lifespan_states.append(state)
                registered = state
        elif lifespan_states:
            check_state_copy(scope, lifespan_states, report)

        async def checked_receive() -> Any:
            message = await receive()
            if not isinstance(message, dict):
                report("EVENT-RECV-001", "receive() must return a dict", message)
            elif not isinstance(message.get("type"), str):
                report("EVENT-RECV-002", "every event needs a str 'type'", message)
            else:
                connection.on_receive(message)
            return message

        async def checked_send(message: Any) -> None:
            if not isinstance(message, dict):
                report("EVENT-SEND-001", "send() takes a dict", message)
            elif not isinstance(message.get("type"), str):
                report("EVENT-SEND-002", "every event needs a str 'type'", message)
            else:
                message = connection.on_send(message)
            try:
                await send(message)
            except OSError:
                connection.closed = True  # spec 2.4: the client is gone
                raise

        try:
            await self._application(scope, checked_receive, checked_send)
        finally:
            if registered is not None:
                # By identity: another lifespan's state may be an equal dict.
                del lifespan_states[
                    next(i for i, state in enumerate(lifespan_states) if state is registered)
                ]
        connection.on_return()
