"""One ``AsgiToWsgi`` request: the hand-off between the WSGI thread and the app's task.

Two threads share an :class:`Exchange`:

* the **WSGI thread** (the server's request thread, which owns ``wsgi.input``) waits on
  one ``SimpleQueue`` for what the application did (:meth:`Exchange.take`), and while
  it waits it serves the application's body reads (:class:`Read`) from ``wsgi.input``;
* the **loop thread** (:mod:`.asgi_loop`) runs the application's task, whose
  ``receive()`` and ``send()`` (:meth:`Exchange.receive`, :meth:`Exchange.send`) put
  items on that queue.

Items on the queue, in the order the application produced them: :class:`Start`,
``bytes`` (a body chunk with more to come), :class:`Last` (the final chunk),
:class:`Read` (a ``receive()`` waiting for body bytes) and :class:`Ended` (the task
finished while the WSGI thread was still listening).

Backpressure: ``send()`` of a body chunk waits while the chunks the WSGI thread has not
taken yet reach :data:`WINDOW_CHUNKS` or :data:`WINDOW_BYTES`.

Disconnect: :meth:`Exchange.close` (the WSGI server calls the iterable's ``close()``)
makes pending and later ``receive()`` return ``http.disconnect`` and ``send()`` raise
:class:`~asgiref.wsgi.ClientDisconnected`; if the response was not complete the task is
cancelled :data:`DISCONNECT_GRACE` seconds later.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import queue
import sys
import threading
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import IO, Any, Final, NamedTuple

from asgiref._wsgi.errors import ClientDisconnected

__all__ = [
    "CHUNK_SIZE",
    "DISCONNECT_GRACE",
    "WINDOW_BYTES",
    "WINDOW_CHUNKS",
    "Ended",
    "Exchange",
    "Last",
    "Read",
    "Start",
]

logger = logging.getLogger("asgiref.wsgi")

#: Most bytes one ``receive()`` reads from ``wsgi.input``.
CHUNK_SIZE: Final = 64 * 1024
#: ``send()`` waits while this many body chunks are not yet taken by the WSGI thread ...
WINDOW_CHUNKS: Final = 8
#: ... or while they hold this many bytes.
WINDOW_BYTES: Final = 1024 * 1024
#: Seconds the application may run on after a disconnect before its task is cancelled.
DISCONNECT_GRACE: Final = 1.0

Message = dict[str, Any]
_DISCONNECT: Final[Message] = {"type": "http.disconnect"}
_EMPTY_BODY: Final[Message] = {"type": "http.request", "body": b"", "more_body": False}


class Start(NamedTuple):
    """``http.response.start``, converted for ``start_response``."""

    status: str
    headers: list[tuple[str, str]]


class Last(NamedTuple):
    """The final body chunk (``more_body`` false)."""

    body: bytes


class Read(NamedTuple):
    """A ``receive()`` waiting on the loop for the next piece of the request body."""

    future: asyncio.Future[Message]


class Ended(NamedTuple):
    """The application's task finished (``error`` is ``None`` if it returned)."""

    error: BaseException | None


Item = Start | Last | Read | Ended | bytes


class Phase(enum.Enum):
    """Where the response is, as the application's ``send()`` sees it (loop side)."""

    WAITING = "waiting for http.response.start"
    STREAMING = "streaming the body"
    TRAILERS = "waiting for http.response.trailers"
    COMPLETE = "complete"


#: ``start_response`` status lines of the registered codes (an enum call per response
#: costs more than the whole status check).
_STATUS_LINES: Final = {int(code): f"{int(code)} {code.phrase}" for code in HTTPStatus}


def _status_line(status: int) -> str:
    line = _STATUS_LINES.get(status)
    return f"{status} Unknown" if line is None else line


def _convert_start(message: Message) -> tuple[Start, bool]:
    """Return the ``Start`` item of an ``http.response.start`` and its ``trailers``.

    Raises:
        TypeError: ``status`` is not an int or a header is not a pair of bytes.
        ValueError: ``status`` is missing or outside 100-999.
    """
    if "status" not in message:
        raise ValueError(f"http.response.start message is missing the 'status' key: {message!r}")
    status = message["status"]
    if type(status) is not int:
        raise TypeError(f"http.response.start 'status' must be an int, not {status!r}")
    if not 100 <= status <= 999:
        raise ValueError(f"http.response.start 'status' must be in 100-999, not {status!r}")
    headers: list[tuple[str, str]] = []
    for header in message.get("headers", ()):
        try:
            name, value = header
        except (TypeError, ValueError):
            raise TypeError(
                f"http.response.start 'headers' items must be (name, value) pairs, not {header!r}"
            ) from None
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise TypeError(
                f"http.response.start 'headers' names and values must be bytes, not {header!r}"
            )
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
    return Start(_status_line(status), headers), bool(message.get("trailers", False))


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    """Set ``future``'s result unless it is done.  Runs in: the loop thread."""
    if not future.done():
        future.set_result(result)


class Exchange:
    """The hand-off of one request between its WSGI thread and its task.

    Args:
        loop: The process loop that runs the task.
        body: ``wsgi.input``.
        body_length: Bytes to read from ``body``; ``None`` reads until it ends.

    Thread rules: ``_closed``, ``_unsent``, ``_unsent_bytes`` and ``_space`` are guarded
    by ``_lock`` (both threads); ``_phase``, ``_trailers``, ``_body_empty``,
    ``_body_done``, ``_disconnect`` and ``task`` belong to the loop thread;
    ``_remaining``, ``_peeked`` and ``complete`` to the WSGI thread.
    """

    __slots__ = (
        "_body",
        "_body_done",
        "_body_empty",
        "_closed",
        "_disconnect",
        "_lock",
        "_loop",
        "_peeked",
        "_phase",
        "_queue",
        "_remaining",
        "_space",
        "_trailers",
        "_unsent",
        "_unsent_bytes",
        "complete",
        "task",
    )

    def __init__(
        self, loop: asyncio.AbstractEventLoop, body: IO[bytes], body_length: int | None
    ) -> None:
        self._loop = loop
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False  # guarded by _lock: the WSGI side stopped listening
        self._unsent = 0  # guarded by _lock: body chunks queued, not yet taken
        self._unsent_bytes = 0  # guarded by _lock
        self._space: asyncio.Future[None] | None = None  # guarded by _lock
        # loop thread only
        self._phase = Phase.WAITING
        self._trailers = False
        self._body_empty = body_length == 0
        self._body_done = False
        self._disconnect: asyncio.Future[Message] | None = None
        self.task: asyncio.Task[None] | None = None
        # WSGI thread only
        self._body = body
        self._remaining = body_length
        self._peeked: Item | None = None
        self.complete = False  # the WSGI side took the final chunk

    # -- the loop thread ---------------------------------------------------------------

    def start(self, application: Callable[..., Awaitable[None]], scope: Message) -> None:
        """Start the application's task.  Runs in: the loop thread.

        On Python 3.12+ the task starts eagerly: its first step runs inside this loop
        callback instead of one loop iteration later (a hello application is done before
        the loop polls again; measured ~20 % less time per request on 3.13).  It is the
        same task, context and loop either way; :attr:`task` is only read by callbacks
        that run after this one.
        """
        coroutine = self._run(application, scope)
        if sys.version_info >= (3, 12):
            self.task = asyncio.Task(coroutine, loop=self._loop, eager_start=True)
        else:
            self.task = self._loop.create_task(coroutine)

    async def _run(self, application: Callable[..., Awaitable[None]], scope: Message) -> None:
        """The task: run the application, then report how it ended (no extra callback)."""
        try:
            await application(scope, self.receive, self.send)
        except asyncio.CancelledError:
            self._ended(None)
            raise
        except BaseException as exc:  # reported to the WSGI thread or logged
            self._ended(exc)
        else:
            self._ended(None)

    async def receive(self) -> Message:
        """The application's ``receive()``.  Runs in: the loop thread.

        After the response is complete or the client went away it returns
        ``http.disconnect`` (the unread body is left to the server).
        """
        if self._body_done or self._phase is Phase.COMPLETE:
            return await self._wait_disconnect()
        if self._body_empty:  # no trip to the WSGI thread
            self._body_done = True
            return _EMPTY_BODY.copy()
        future: asyncio.Future[Message] = self._loop.create_future()
        with self._lock:
            if self._closed:
                return _DISCONNECT.copy()
            self._queue.put(Read(future))
        message = await future
        if message["type"] != "http.request" or not message["more_body"]:
            self._body_done = True
        return message

    async def _wait_disconnect(self) -> Message:
        if self._phase is Phase.COMPLETE or self._closed:
            return _DISCONNECT.copy()
        if self._disconnect is None:
            self._disconnect = self._loop.create_future()
        return (await asyncio.shield(self._disconnect)).copy()

    async def send(self, message: Message) -> None:
        """The application's ``send()``.  Runs in: the loop thread.

        Raises:
            ClientDisconnected: The WSGI server closed the response (client gone).
            TypeError: A message or one of its keys has the wrong type.
            ValueError: An unknown message type, a missing key, or a message out of order.
            RuntimeError: A message after the response was complete.
        """
        if self._closed:
            raise ClientDisconnected("the WSGI server closed the response (client gone)")
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "http.response.body":
            await self._send_body(message)
        elif kind == "http.response.start":
            if self._phase is not Phase.WAITING:
                raise self._out_of_order(kind)
            start, trailers = _convert_start(message)
            self._queue.put(start)
            self._phase = Phase.STREAMING
            self._trailers = trailers
        elif kind == "http.response.trailers":
            if self._phase is not Phase.TRAILERS:
                raise self._out_of_order(kind)
            if not message.get("more_trailers", False):  # WSGI has no trailers: dropped
                self._finish()
        else:
            raise ValueError(
                f"AsgiToWsgi got an unknown ASGI message type {kind!r} in {message!r}; "
                f"an HTTP application sends http.response.start, then http.response.body"
            )

    async def _send_body(self, message: Message) -> None:
        if self._phase is not Phase.STREAMING:
            raise self._out_of_order("http.response.body")
        body = message.get("body", b"")
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError(f"http.response.body 'body' must be bytes, not {body!r}")
        body = bytes(body)
        if message.get("more_body", False):
            if body:
                await self._put_chunk(body)
            return
        self._queue.put(Last(body))
        if self._trailers:
            self._phase = Phase.TRAILERS
        else:
            self._finish()

    def _finish(self) -> None:
        self._phase = Phase.COMPLETE
        if self._disconnect is not None:
            _resolve(self._disconnect, _DISCONNECT)

    async def _put_chunk(self, body: bytes) -> None:
        """Queue a body chunk; wait while the window is full."""
        with self._lock:
            self._queue.put(body)
            self._unsent += 1
            self._unsent_bytes += len(body)
            if self._unsent < WINDOW_CHUNKS and self._unsent_bytes < WINDOW_BYTES:
                return
            space = self._space = self._loop.create_future()
        await space

    def _out_of_order(self, kind: str) -> ValueError | RuntimeError:
        if self._phase is Phase.COMPLETE:
            return RuntimeError(
                f"AsgiToWsgi got {kind!r} after the response was complete; "
                f"send nothing after the last http.response.body (more_body False)"
            )
        return ValueError(f"AsgiToWsgi got {kind!r} while {self._phase.value}")

    def _ended(self, error: BaseException | None) -> None:
        """Tell a listening WSGI thread, or log a late failure.  Runs in: the loop thread."""
        with self._lock:
            listening = not self._closed and self._phase is not Phase.COMPLETE
            if listening:
                self._queue.put(Ended(error))
        if listening or error is None:
            return
        if self._closed and isinstance(error, ClientDisconnected):
            return  # the client went away and the application let send() fail
        logger.error(
            "ASGI application raised after its response was %s",
            "abandoned" if self._phase is not Phase.COMPLETE else "complete",
            exc_info=error,
        )

    def _closed_on_loop(self, reads: list[Read], space: asyncio.Future[None] | None) -> None:
        """Finish what waited on the WSGI side.  Runs in: the loop thread."""
        for read in reads:
            _resolve(read.future, _DISCONNECT)
        if space is not None and not space.done():
            space.set_exception(ClientDisconnected("the client went away"))
        if self._disconnect is not None:
            _resolve(self._disconnect, _DISCONNECT)
        task = self.task
        if task is not None and not task.done() and self._phase is not Phase.COMPLETE:
            self._loop.call_later(DISCONNECT_GRACE, task.cancel)

    # -- the WSGI thread ---------------------------------------------------------------

    def take(self, timeout: float | None = None) -> Item:
        """Return the application's next item, serving body reads meanwhile.

        Raises:
            queue.Empty: ``timeout`` seconds passed without an item.

        Runs in: the WSGI thread.
        """
        item = self._peeked
        if item is not None:
            self._peeked = None
        else:
            item = self._queue.get(timeout=timeout)
        while type(item) is Read:
            self._serve_read(item)
            item = self._queue.get(timeout=timeout)
        if type(item) is bytes:
            self._taken(item)
        return item

    def peek_last(self) -> bytes | None:
        """Return the final chunk if it is already queued next (for a one-item response).

        Runs in: the WSGI thread.
        """
        if self._queue.empty():  # only this thread takes: not empty stays not empty
            return None
        item = self._queue.get_nowait()
        if type(item) is Last:
            self.complete = True
            return item.body
        self._peeked = item
        return None

    def _taken(self, chunk: bytes) -> None:
        with self._lock:
            self._unsent -= 1
            self._unsent_bytes -= len(chunk)
            space = self._space
            if space is None or self._unsent >= WINDOW_CHUNKS or self._unsent_bytes >= WINDOW_BYTES:
                return
            self._space = None
        self._loop.call_soon_threadsafe(_resolve, space, None)

    def _serve_read(self, read: Read) -> None:
        """Read the next piece of ``wsgi.input`` for ``read``.  Runs in: the WSGI thread."""
        remaining = self._remaining
        size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
        message: Message = _DISCONNECT
        try:
            data = self._body.read(size) if size else b""
        except Exception as exc:  # the server's input stream failed: the client is gone
            logger.debug("Reading wsgi.input failed: %r", exc)
            self._remaining = 0
        else:
            if remaining is None:
                message = {"type": "http.request", "body": data, "more_body": bool(data)}
            elif data or not size:
                self._remaining = remaining = remaining - len(data)
                message = {"type": "http.request", "body": data, "more_body": remaining > 0}
            else:  # the stream ended before CONTENT_LENGTH: the client went away
                self._remaining = 0
        self._loop.call_soon_threadsafe(_resolve, read.future, message)

    def close(self, cancel_now: bool = False) -> None:
        """Stop listening: wake what waits on the loop; cancel an unfinished task.

        Args:
            cancel_now: Cancel the task at once (a timeout) instead of after the grace.

        Runs in: the WSGI thread.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            space, self._space = self._space, None
            reads: list[Read] = []
            items = [self._peeked] if self._peeked is not None else []
            while not self._queue.empty():
                items.append(self._queue.get_nowait())
        reads = [item for item in items if type(item) is Read]
        if self.complete and not reads and space is None:
            return  # the normal end: nothing waits
        if cancel_now:
            self._loop.call_soon_threadsafe(self._cancel)
        self._loop.call_soon_threadsafe(self._closed_on_loop, reads, space)

    def _cancel(self) -> None:
        """Cancel the task now (a ``response_timeout``).  Runs in: the loop thread."""
        task = self.task
        assert task is not None  # start() was scheduled before this callback (loop FIFO)
        task.cancel()
