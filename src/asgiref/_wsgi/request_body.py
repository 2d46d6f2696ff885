"""Streaming request body: ``environ["wsgi.input"]`` and the task that feeds it.

The body flows through an :class:`InputPipe`, a small buffer shared by two threads:

* the **pump** (a task on the event loop, :func:`pump`) calls ``receive()`` and
  appends each ``http.request`` body to the pipe.  It starts only when the
  application reads past the first message (or when a streamed response needs
  disconnect detection), and pauses while the pipe holds :data:`READ_AHEAD` bytes
  or more;
* the **reader** (:class:`WsgiInput`, on the WSGI worker thread) takes everything
  buffered whenever its own buffer cannot satisfy a read, waking the pump if it
  had paused.

Memory bound: apart from what the current read call returns, at most
``READ_AHEAD`` bytes plus two ASGI messages of unread body are held (the pipe
pauses the pump at ``READ_AHEAD`` and resumes it below half of that; the reader
takes only the chunks the current read needs).

After the body is complete the pump keeps one ``receive()`` pending to notice
``http.disconnect`` while the response streams.

**Draining (D42).** When the response is about to end and the body is not complete,
the adapter calls :meth:`InputPipe.discard`: the pipe drops what it holds and every
later chunk, without pausing the pump, until the body ends, the client leaves or
:data:`DRAIN_LIMIT` bytes were dropped (then the pump stops receiving).  Reads after
that raise ``RuntimeError``: the body is gone, and a short body is never reported as
complete.
"""

from __future__ import annotations

import _thread
import asyncio
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

from asgiref._wsgi.errors import ClientDisconnected
from asgiref._wsgi.response_window import Link, inbox_for, wait_released

__all__ = ["DRAIN_LIMIT", "READ_AHEAD", "InputPipe", "WsgiInput", "pump"]

#: Bytes of request body the adapter reads ahead of the application, at most
#: (plus one ASGI message).
READ_AHEAD: Final = 1024 * 1024
#: Most unread request body bytes discarded before a response ends (plus one message).
DRAIN_LIMIT: Final = 8 * 1024 * 1024
_DISCARDED: Final = (
    "wsgi.input read after the response ended: the unread request body was discarded"
)

Receive = Callable[[], Awaitable[dict[str, Any]]]


class InputPipe:
    """Request body handed from the loop (pump) to the worker (reader).

    Args:
        loop: The loop running the ASGI task and the pump.
        body: The first ``http.request`` message's body.
        more_body: That message's ``more_body``.
        start_pump: Called on the loop thread to start the pump (idempotent).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        body: bytes,
        more_body: bool,
        start_pump: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._post = inbox_for(loop).post
        self._start_pump = start_pump
        self._lock = threading.Lock()
        self._chunks: list[bytes] = [body] if body else []  # guarded by _lock
        self._size = len(body)  # guarded by _lock
        self.eof = not more_body  # guarded by _lock (written under it; read freely)
        self._error: BaseException | None = None  # guarded by _lock
        self._waiting = False  # guarded by _lock; the reader is blocked on _wake
        self._paused: asyncio.Future[None] | None = None  # guarded by _lock
        self._wake = _thread.allocate_lock()
        self._wake.acquire()
        self._pump_requested = False  # reader thread only
        # Draining (loop thread only, after discard()): bytes still to drop, and the
        # future done when draining is over.  _discarding is also read by the reader.
        self._discarding = False  # guarded by _lock
        self._drop_budget = 0
        self._drained: asyncio.Future[None] | None = None

    # -- reader side (worker thread) --------------------------------------------------

    def take(self, need: int) -> list[bytes]:
        """Return buffered chunks holding at least ``need`` bytes (all if negative).

        Blocks until at least one chunk is buffered.  Takes whole chunks, fewer than
        ``need`` bytes only when that is all there is.

        Returns:
            A non-empty list of chunks, or ``[]`` at the end of the body.

        Raises:
            ClientDisconnected: The client left (or the ASGI call ended) first.
            ValueError: The server sent a message that is not ``http.request``.

        Runs in: the WSGI worker thread.
        """
        while True:
            with self._lock:
                if self._chunks:
                    chunks = self._split(need)
                    paused = self._paused
                    if paused is not None and self._size <= READ_AHEAD // 2:
                        self._paused = None
                    else:
                        paused = None
                    break
                if self._discarding:
                    raise RuntimeError(_DISCARDED)
                if self.eof:
                    return []
                if self._error is not None:
                    raise self._error
                self._waiting = True
            self._request_pump()
            if not wait_released(self._wake, self._loop):
                self.fail(ClientDisconnected("the request is over; its event loop is closed"))
        if paused is not None:
            self._call_soon(_resume, paused)
        return chunks

    def _split(self, need: int) -> list[bytes]:
        """Remove and return leading chunks worth ``need`` bytes.  Caller holds _lock."""
        chunks = self._chunks
        if need < 0 or need >= self._size:
            self._chunks, self._size = [], 0
            return chunks
        count = got = 0
        while got < need:
            got += len(chunks[count])
            count += 1
        taken = chunks[:count]
        del chunks[:count]
        self._size -= got
        return taken

    def _request_pump(self) -> None:
        if not self._pump_requested:
            self._pump_requested = True
            self._call_soon(self._start_pump)

    def _call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            self._post(callback, *args)
        except RuntimeError:  # the loop is closed; the request is over
            self.fail(ClientDisconnected("the request is over; its event loop is closed"))

    # -- pump side (loop thread) ------------------------------------------------------

    def feed(self, body: bytes, more_body: bool) -> asyncio.Future[None] | None:
        """Append a body chunk; return a future to await when the buffer is full.

        Runs in: the loop thread.
        """
        if self._discarding:
            return self._drop(len(body), more_body)
        paused = None
        with self._lock:
            if body:
                self._chunks.append(body)
                self._size += len(body)
            if not more_body:
                self.eof = True
            elif self._size >= READ_AHEAD:
                paused = self._paused = self._loop.create_future()
            wake, self._waiting = self._waiting, False
        if wake:
            self._wake.release()
        return paused

    def discard(self, limit: int) -> asyncio.Future[None] | None:
        """Drop the unread body: what is buffered now and up to ``limit`` more bytes.

        Returns:
            A future done when the body has ended, the client left, or ``limit`` bytes
            were dropped; ``None`` if the body is already complete or failed.

        Runs in: the loop thread, once the application has produced its response.
        """
        with self._lock:
            if self.eof or self._error is not None:
                return None
            self._discarding = True
            self._chunks, self._size = [], 0
            paused, self._paused = self._paused, None
        self._drop_budget = limit
        done = self._drained = self._loop.create_future()
        if paused is not None:
            _resume(paused)
        return done

    def _drop(self, size: int, more_body: bool) -> asyncio.Future[None] | None:
        """Count a dropped chunk; stop the pump once the body ended or the limit passed."""
        self._drop_budget -= size
        if more_body and self._drop_budget >= 0:
            return None
        if not more_body:
            with self._lock:
                self.eof = True
        self._drain_over()
        return None if not more_body else self._loop.create_future()  # never done

    def _drain_over(self) -> None:
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def fail(self, error: BaseException) -> None:
        """Make reads that need more data raise ``error`` (if the body is incomplete).

        Runs in: any thread.
        """
        with self._lock:
            if self.eof or self._error is not None:
                return
            self._error = error
            wake, self._waiting = self._waiting, False
        if wake:
            self._wake.release()
        if self._discarding:
            self._drain_over()


def _resume(paused: asyncio.Future[None]) -> None:
    if not paused.done():
        paused.set_result(None)


async def pump(receive: Receive, pipe: InputPipe, link: Link) -> None:
    """Feed the request body into ``pipe``, then watch for ``http.disconnect``.

    Runs in: its own task on the loop, started on demand, cancelled when the ASGI
    call ends.
    """
    try:
        while not pipe.eof:
            message = await receive()
            kind = message.get("type")
            if kind == "http.request":
                body = message.get("body", b"")
                paused = pipe.feed(
                    body if type(body) is bytes else bytes(body),
                    bool(message.get("more_body", False)),
                )
                if paused is not None:
                    await paused
            elif kind == "http.disconnect":
                link.disconnected()
                pipe.fail(
                    ClientDisconnected("client disconnected before the request body was complete")
                )
                return
            else:
                pipe.fail(
                    ValueError(f"WSGI wrapper received a non-HTTP-request message; got {kind!r}")
                )
                return
        # Body complete: one receive() to notice the client leaving while we respond.
        # Anything but http.disconnect ends the watch (a scripted receive() that
        # never blocks must not spin the loop).
        if (await receive()).get("type") == "http.disconnect":
            link.disconnected()
    except Exception as exc:
        pipe.fail(exc)


class WsgiInput:
    """``environ["wsgi.input"]``: the request body, streamed on demand.

    Reads block until enough data arrived: ``read(n)`` returns exactly ``n`` bytes
    unless the body ends first.  Not seekable.  Use it only on the request's own
    WSGI thread.

    Raises (from any read that needs more data than has arrived):
        ClientDisconnected: the client disconnected before the body was complete.
        ValueError: the server sent a message other than ``http.request``.
    """

    def __init__(self, pipe: InputPipe) -> None:
        self._pipe = pipe
        self._chunks: deque[bytes] = deque()
        self._offset = 0  # read position inside _chunks[0]
        self._avail = 0  # unread bytes in _chunks
        self._eof = False

    def _fill(self, need: int) -> bool:
        """Add at least ``need`` more bytes (all if negative; fewer at the end)."""
        if self._eof:
            return False
        chunks = self._pipe.take(need)
        if not chunks:
            self._eof = True
            return False
        self._chunks.extend(chunks)
        self._avail += sum(map(len, chunks))
        return True

    def _take(self, size: int) -> bytes:
        if size <= 0:
            return b""
        chunks, offset = self._chunks, self._offset
        self._avail -= size
        first = chunks[0]
        if offset == 0 and len(first) == size:
            chunks.popleft()
            return first
        parts = []
        while size:
            first = chunks[0]
            end = offset + size
            if end < len(first):
                parts.append(first[offset:end])
                offset, size = end, 0
            else:
                parts.append(first[offset:] if offset else first)
                size -= len(first) - offset
                chunks.popleft()
                offset = 0
        self._offset = offset
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read(self, size: int | None = -1) -> bytes:
        """Read ``size`` bytes (blocking until they or the end arrive); all if negative."""
        if size is None or size < 0:
            while self._fill(-1):
                pass
            return self._take(self._avail)
        while self._avail < size and self._fill(size - self._avail):
            pass
        return self._take(min(size, self._avail))

    def _find_newline(self, start: int) -> int:
        """Index (in unread data) of the first ``\\n`` at or after ``start``, or -1."""
        base = 0
        for index, chunk in enumerate(self._chunks):
            low = self._offset if index == 0 else 0
            length = len(chunk) - low
            if start < base + length:
                found = chunk.find(b"\n", low + max(0, start - base))
                if found >= 0:
                    return base + found - low
            base += length
        return -1

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line, including its ``\\n``; at most ``size`` bytes if given."""
        limit = -1 if size is None else size
        scanned = 0
        while True:
            found = self._find_newline(scanned)
            if found >= 0:
                wanted = found + 1
                break
            if 0 <= limit <= self._avail:
                wanted = limit
                break
            scanned = self._avail
            if not self._fill(1):
                wanted = self._avail
                break
        return self._take(wanted if limit < 0 else min(wanted, limit))

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read lines until the end, or until ``hint`` bytes (if positive) were read."""
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line
