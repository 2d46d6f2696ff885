"""The WSGI side of a response: ``start_response``, ``write`` and the body iterable.

One :class:`Response` per request, used only on that request's WSGI worker thread.
It turns what the application produces into ASGI messages and hands them to the
loop through the request's :class:`~asgiref._wsgi.response_window.Link`:

* a ``list`` or ``tuple`` body (nothing lazy to run) goes over in **one** hand-off,
  together with the start message and the final empty body;
* any other iterable is iterated while the response window has room (at most
  ``WINDOW_ITEMS`` items and ``WINDOW_BYTES`` bytes produced but not yet sent; see
  :mod:`asgiref._wsgi.response_window`), ``write()`` data likewise;
* a ``wsgi.file_wrapper`` result becomes ``http.response.pathsend`` when the server
  offers that extension and the file is a regular file on disk.

The iterable's ``close()`` is called exactly once, here, on every path, after the
response is complete (D1): the final messages are sent first, then ``close()`` runs;
an exception from it is logged (:mod:`asgiref._wsgi.reporting`) and changes nothing
that was sent.  Once the response is over, ``write`` and ``start_response`` raise
``RuntimeError`` (D2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import GeneratorType, TracebackType
from typing import Any, Final

from asgiref._wsgi import reporting
from asgiref._wsgi.errors import ClientDisconnected
from asgiref._wsgi.filewrapper import FileWrapper, pathsend_path
from asgiref._wsgi.headers import encode_headers, parse_status
from asgiref._wsgi.response_window import Link, LinkState, Message

__all__ = ["ExcInfo", "Response", "as_bytes"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
_END: Final[Message] = {"type": "http.response.body"}
_SECOND_CALL: Final = "You cannot call start_response a second time without exc_info"
_NO_START: Final = "WSGI application returned without calling start_response"


def as_bytes(item: object) -> bytes:
    """Return a body item as ``bytes``; ``bytearray`` and ``memoryview`` are copied.

    Raises:
        TypeError: ``item`` is of any other type (``str`` included).
    """
    if isinstance(item, bytes):
        return item
    if isinstance(item, bytearray | memoryview):
        return bytes(item)
    raise TypeError(
        f"WSGI response body items must be bytes, not {type(item).__name__} ({item!r:.40})"
    )


class Response:
    """Response state of one request.  Runs in: the request's WSGI worker thread.

    Args:
        link: The request's hand-off to the event loop.
        pathsend: Whether the server offers the ``http.response.pathsend`` extension.
        scope: The request's ASGI scope (named in error messages).
    """

    def __init__(self, link: Link, pathsend: bool, scope: Mapping[str, Any]) -> None:
        self._link = link
        self._pathsend = pathsend
        self._scope = scope
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self._remaining: int | None = None  # Content-Length bytes still allowed
        self.start_sent = False
        self.ended = False  # the final messages were produced: the callables are stale

    # -- the WSGI callables -----------------------------------------------------------

    def start_response(
        self,
        status: str,
        response_headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        """PEP 3333 ``start_response``; returns the ``write`` callable.

        Raises:
            ValueError: Called a second time without ``exc_info``, or a malformed status
                or header (D41; see :mod:`asgiref._wsgi.headers`).
            UnicodeEncodeError: A header is not latin-1.
            TypeError: A status, header name or value is not a ``str``.
            RuntimeError: The request this ``start_response`` belongs to has ended.
            BaseException: ``exc_info[1]``, when the start message was already sent.
        """
        if self.ended:
            raise RuntimeError(self._stale("start_response()"))
        if exc_info is not None and exc_info[1] is not None:
            if self.start_sent:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status is not None:
            raise ValueError(_SECOND_CALL)
        # Checked before anything is stored (D41): a malformed status or header raises
        # here, in the application, while nothing has been sent.
        status_code = parse_status(status)
        self.headers, self._remaining = encode_headers(response_headers)
        self.status = status_code
        return self.write

    def write(self, data: bytes) -> None:
        """PEP 3333 ``write``: queue ``data`` to be sent before anything the iterable yields.

        The data is sent in order, after what was queued before; like an iterable's
        items it may wait in the response window (blocking while the window is full).
        A failure to send is raised by a later ``write`` (or ends the iteration).

        Raises:
            RuntimeError: ``start_response`` was not called yet, or the request this
                ``write`` belongs to has ended.
            TypeError: ``data`` is not bytes-like.
            ClientDisconnected: The client left or the ASGI call was cancelled.
            OSError: Whatever the server's ``send()`` raised.
        """
        __traceback_hide__ = True
        if self.status is None:
            raise RuntimeError("write() called before start_response()")
        if self.ended:
            raise RuntimeError(self._stale("write()"))
        chunk = as_bytes(data)
        if chunk and self._remaining != 0:
            link = self._link
            if self._stopped(link.wait_for_room()) or self._stopped(self._push(chunk)):
                raise ClientDisconnected("the client disconnected")

    def _stale(self, what: str) -> str:
        scope = self._scope
        return (
            f"{what} called after the response to {scope.get('method')} {scope.get('path')!r} "
            "ended: the callables start_response() gives belong to its one request "
            "(PEP 3333); use the ones of the request being served"
        )

    # -- messages ---------------------------------------------------------------------

    def _start(self) -> list[Message]:
        if self.start_sent:
            return []
        if self.status is None:
            raise RuntimeError(_NO_START)
        self.start_sent = True
        return [{"type": "http.response.start", "status": self.status, "headers": self.headers}]

    def _body(self, chunk: bytes) -> list[Message]:
        remaining = self._remaining
        if remaining is not None:
            if len(chunk) > remaining:
                chunk = chunk[:remaining]
            self._remaining = remaining - len(chunk)
        message = {"type": "http.response.body", "body": chunk, "more_body": True}
        if self.start_sent:
            return [message]
        messages = self._start()
        messages.append(message)
        return messages

    def _end(self) -> list[Message]:
        messages = self._start()
        messages.append(_END)
        return messages

    def _push(self, chunk: bytes) -> LinkState:
        """Queue one body item (and the start message if not sent yet)."""
        messages = self._body(chunk)
        return self._link.push(messages, 1, len(messages[-1]["body"]))

    def _stopped(self, state: LinkState) -> bool:
        """Whether the response must stop quietly (the client disconnected).

        Raises:
            BaseException: The server's ``send()`` error, or :class:`ClientDisconnected`
                when the ASGI call is over.
        """
        __traceback_hide__ = True
        if state is LinkState.RUNNING:
            return False
        if state is LinkState.DISCONNECTED:
            return True
        if state is LinkState.FAILED:
            error = self._link.send_error
            assert error is not None
            raise error
        raise ClientDisconnected("the ASGI call was cancelled")

    # -- the body iterable ------------------------------------------------------------

    def end(self, result: Iterable[bytes]) -> None:
        """Consume the application's iterable, finish the response, then close the iterable.

        ``close()`` runs once the loop has sent the final messages (or stopped
        sending); only then does the ASGI call return, or raise the application's
        exception.  Never raises: an exception from ``close()`` is logged.
        """
        __traceback_hide__ = True
        try:
            messages, error = self._produce(result), None
        except BaseException as exc:
            messages, error = [], exc
        self.ended = True
        close = getattr(result, "close", None)
        link = self._link
        if close is not None and type(result) is GeneratorType and result.gi_frame is None:
            # An exhausted generator: its close() does nothing and cannot raise, so it
            # is called now and the response needs no wait for the loop before it (a
            # streamed generator response keeps the cost it had before D1's ordering).
            close()
            close = None
        if close is None:
            link.finish(messages, error)
            if link.state is LinkState.CANCELLED:
                reporting.lost(error, self._scope)
            return
        if link.finish(messages, error, closing=True):
            link.wait_sent()
        try:
            close()
        except BaseException as exc:
            reporting.close_failed(exc, self._scope, error)
        link.closed()
        if link.state is LinkState.CANCELLED:
            reporting.lost(error, self._scope)

    def _produce(self, result: Iterable[bytes]) -> list[Message]:
        __traceback_hide__ = True
        if type(result) is list or type(result) is tuple:
            return self._collect(result)
        if self._pathsend and isinstance(result, FileWrapper):
            messages = self._pathsend_messages(result)
            if messages is not None:
                return messages
        return self._stream(result)

    def _collect(self, items: Iterable[Any]) -> list[Message]:
        """A list or tuple: every message in one batch (no lazy code to pace)."""
        __traceback_hide__ = True
        messages: list[Message] = []
        for item in items:
            if self._remaining == 0:
                break
            messages += self._body(as_bytes(item))
        return messages + self._end()

    def _stream(self, result: Iterable[Any]) -> list[Message]:
        """A lazy iterable: request items while the response window has room."""
        __traceback_hide__ = True
        iterator = iter(result)
        link = self._link
        running = LinkState.RUNNING
        while self._remaining != 0:
            state = link.wait_for_room() if link.full else link.state
            if state is not running and self._stopped(state):
                return []
            try:
                item = next(iterator)
            except StopIteration:
                break
            state = self._push(item if type(item) is bytes else as_bytes(item))
            if state is not running and self._stopped(state):
                return []
        return self._end()

    def _pathsend_messages(self, wrapper: FileWrapper) -> list[Message] | None:
        target = pathsend_path(wrapper)
        if target is None or self.start_sent or self.status is None:
            return None
        path, size = target
        if self._remaining is None:
            self.headers = [*self.headers, (b"content-length", str(size).encode("ascii"))]
        elif self._remaining != size:
            return None
        messages = self._start()
        messages.append({"type": "http.response.pathsend", "path": path})
        return messages
