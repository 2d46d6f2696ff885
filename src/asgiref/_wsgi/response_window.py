"""The per-request hand-off of response messages from the WSGI thread to the event loop.

The worker thread produces ``http.response.*`` messages; the ASGI task (the
coroutine awaiting ``WsgiToAsgiInstance.__call__``) sends them, in order.  In
between sits a bounded **response window** (deviation D33): the worker may run
ahead of the client by at most :data:`WINDOW_ITEMS` body items and
:data:`WINDOW_BYTES` bytes produced but not yet sent (the item whose ``send()``
is in progress counts as not sent).  When the window is full the worker blocks
before producing the next item (backpressure).

Wake-ups are batched, so a loop that keeps up costs no cross-thread hop per chunk:

* worker -> loop: a batch is queued under ``_lock``; the loop is woken (a
  coalesced ``loop.call_soon_threadsafe`` through the loop's inbox) only when it
  was parked waiting for work;
* loop -> worker: the worker blocks on ``_room`` (a plain lock) only when the
  window is full; the loop releases it once the window has drained to half
  (items and bytes), or when the request stops (disconnect, send error, cancel).

Guarantees: a worker never waits for a loop that is gone (the loop is closed or
the ASGI call is over); the final batch (:meth:`Link.finish`) never blocks.

The end of a request (D1): the worker hands over the final messages with
:meth:`Link.finish`; if the iterable has ``close()``, it then waits
(:meth:`Link.wait_sent`) until the loop has sent them -- the response is complete --
calls ``close()`` and reports with :meth:`Link.closed`; the ASGI call returns only
after that.  Before the last message the loop may first drain the unread request
body (the ``before_end`` hook, D42).

Wake-ups go through the loop's :class:`Inbox` (also used by the request body,
:mod:`asgiref._wsgi.request_body`): ``loop.call_soon_threadsafe`` writes to the loop's
self-pipe on every call; with many worker threads handing messages to one loop, those
writes (each a system call that also releases the GIL) dominate.  An inbox queues the
callbacks and wakes the loop only when no wake-up is pending yet.  Every posted
callback runs exactly once, on the loop thread, in posting order per thread; posting
to a closed loop raises :class:`RuntimeError` (as ``call_soon_threadsafe`` does).  The
inbox assumes ``deque.append``/``popleft`` are atomic, and a reader may see a stale
``_pending`` only in the safe direction: the loop clears ``_pending`` *before*
draining, so an item appended while ``_pending`` still reads true is drained by the
drain already scheduled.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import enum
import threading
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Final

__all__ = [
    "POLL_INTERVAL",
    "WINDOW_BYTES",
    "WINDOW_ITEMS",
    "Inbox",
    "Link",
    "LinkState",
    "Message",
    "Send",
    "inbox_for",
    "wait_released",
]

#: Most body items the application may have produced that were not sent yet.
WINDOW_ITEMS: Final = 10
#: Most body bytes the application may have produced that were not sent yet (one
#: more item may exceed it: the window is checked before an item is requested).
WINDOW_BYTES: Final = 640 * 1024

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]

_FINAL: Final[tuple[list[Message], int, int]] = ([], 0, 0)  # marker: only the final batch left


# -- coalesced wake-ups ---------------------------------------------------------------

#: Seconds between checks whether the loop was closed while a worker waits on it.
POLL_INTERVAL = 1.0

_inboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Inbox] = weakref.WeakKeyDictionary()


class Inbox:
    """Callbacks from worker threads for one event loop.

    Args:
        loop: The loop that runs the callbacks.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        self._pending = False  # a drain is scheduled and has not started yet

    def post(self, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop thread soon.

        Raises:
            RuntimeError: The loop is closed.

        Runs in: any thread.
        """
        self._queue.append((callback, args))
        if not self._pending:
            self._pending = True
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:
                self._pending = False
                raise

    def _drain(self) -> None:
        """Runs in: the loop thread."""
        self._pending = False
        queue = self._queue
        while queue:
            callback, args = queue.popleft()
            callback(*args)


def inbox_for(loop: asyncio.AbstractEventLoop) -> Inbox:
    """Return ``loop``'s inbox, creating it on first use.  Runs in: the loop thread."""
    try:
        inbox = _inboxes.get(loop)
        if inbox is None:
            inbox = _inboxes[loop] = Inbox(loop)
    except TypeError:  # a loop type without weak-reference support: no sharing
        inbox = Inbox(loop)
    return inbox


def wait_released(lock: _thread.LockType, loop: asyncio.AbstractEventLoop) -> bool:
    """Block until the loop releases ``lock``; ``False`` if the loop was closed first.

    A loop closed with callbacks still queued never runs them; the worker must not
    wait for it forever.

    Runs in: a worker thread.
    """
    while not lock.acquire(timeout=POLL_INTERVAL):
        if loop.is_closed():
            return False
    return True


# -- the response window --------------------------------------------------------------


class LinkState(enum.Enum):
    """Lifecycle of one request as the worker sees it.  Written only on the loop thread."""

    RUNNING = "running"
    DISCONNECTED = "disconnected"  # http.disconnect was received
    FAILED = "failed"  # send() raised; the exception is in Link.send_error
    CANCELLED = "cancelled"  # the ASGI call was cancelled or failed; nobody sends


class Link:
    """The two ends of one request's response window.

    Args:
        loop: The event loop running the ASGI task.
        on_stream: Called on the loop thread when the first non-final batch arrives
            (the adapter starts watching for ``http.disconnect`` then).
        before_end: Called on the loop thread before the last message of a response is
            sent; it may return an awaitable that the loop awaits first (the adapter
            drains the unread request body, D42).  ``None``: nothing to do.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_stream: Callable[[], None],
        before_end: Callable[[], Awaitable[None] | None] | None = None,
    ) -> None:
        self._loop = loop
        self._post = inbox_for(loop).post
        self._on_stream = on_stream
        self._before_end = before_end
        self._lock = threading.Lock()
        self.state = LinkState.RUNNING  # guarded by _lock for writes; read freely
        self.send_error: BaseException | None = None  # set before state becomes FAILED
        self._batches: deque[tuple[list[Message], int, int]] = deque()  # guarded by _lock
        self._items = 0  # guarded by _lock; items queued or being sent
        self._bytes = 0  # guarded by _lock; their bytes
        self._final: tuple[list[Message], BaseException | None] | None = None  # guarded
        self._closing = False  # guarded by _lock; the worker calls close() after the end
        self._closed = False  # guarded by _lock; ... and has returned from it
        self._parked = False  # guarded by _lock; the loop waits for a wake-up
        self._blocked = False  # guarded by _lock; the worker waits on _room
        self.full = False  # written by the worker under _lock: its last push filled the window
        self._room = _thread.allocate_lock()  # released by the loop to unblock the worker
        self._room.acquire()
        # Touched only on the loop thread.
        self._waiter: asyncio.Future[None] | None = None
        self._streaming = False

    # -- worker side ------------------------------------------------------------------

    def wait_for_room(self) -> LinkState:
        """Block while the window is full; return the state once there is room.

        Cheap when :attr:`full` is false (the last :meth:`push` left room, and only
        this thread adds to the window): then it only reads :attr:`state`.

        Returns:
            ``RUNNING`` when the next item may be produced; otherwise why not.

        Runs in: the WSGI worker thread.
        """
        if not self.full:
            return self.state
        while True:
            with self._lock:
                state = self.state
                if state is not LinkState.RUNNING or (
                    self._items < WINDOW_ITEMS and self._bytes < WINDOW_BYTES
                ):
                    return state
                self._blocked = True
            if not wait_released(self._room, self._loop):
                return LinkState.CANCELLED

    def push(self, messages: list[Message], items: int, size: int) -> LinkState:
        """Queue ``messages`` (holding ``items`` body items of ``size`` bytes) to send.

        Does not wait: the caller checks :meth:`wait_for_room` before producing more.

        Returns:
            ``RUNNING`` if queued; otherwise why the messages were dropped.

        Runs in: the WSGI worker thread.
        """
        with self._lock:
            state = self.state
            if state is not LinkState.RUNNING:
                return state
            self._batches.append((messages, items, size))
            self._items += items
            self._bytes += size
            self.full = self._items >= WINDOW_ITEMS or self._bytes >= WINDOW_BYTES
            wake, self._parked = self._parked, False
        if wake:
            try:
                self._post(self._wake_loop)
            except RuntimeError:  # the loop is closed: the ASGI call is long gone
                return LinkState.CANCELLED
        return LinkState.RUNNING

    def finish(
        self, messages: list[Message], error: BaseException | None, closing: bool = False
    ) -> bool:
        """Hand over the final messages (or the error to raise) without waiting.

        Args:
            messages: The last messages of the response.
            error: The exception the ASGI call should raise, or ``None``.
            closing: The worker calls ``close()`` next: the ASGI call then waits for
                :meth:`closed`, and the worker should :meth:`wait_sent` first.

        Returns:
            Whether the worker must call :meth:`wait_sent` (``closing``, and the loop
            still serves the request).

        Runs in: the WSGI worker thread, after the request's last application code.
        """
        with self._lock:
            self._final = (messages, error)
            closing = closing and self.state is not LinkState.CANCELLED
            if closing:
                self._closing = self._blocked = True  # wait_sent() waits on _room
            wake, self._parked = self._parked, False
        if wake:
            try:
                self._post(self._wake_loop)
            except RuntimeError:  # a closed loop: nobody waits any more
                return False
        return closing

    def wait_sent(self) -> None:
        """Block until the loop has sent the final messages, or stopped serving.

        Call it only when :meth:`finish` returned ``True``.

        Runs in: the WSGI worker thread.
        """
        wait_released(self._room, self._loop)  # a closed loop: nothing is sent any more

    def closed(self) -> None:
        """Report that ``close()`` has returned: the ASGI call may end now.

        Runs in: the WSGI worker thread, after ``close()``.
        """
        with self._lock:
            self._closed = True
            wake, self._parked = self._parked, False
        if wake:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                self._post(self._wake_loop)

    # -- loop side --------------------------------------------------------------------

    def _wake_loop(self) -> None:
        """Runs in: the loop thread (scheduled by the worker)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _next(self, items: int, size: int) -> tuple[list[Message], int, int] | None:
        """Account for the batch just sent (``items``, ``size``); take the next one.

        Returns:
            The next batch, :data:`_FINAL` if only the final one is left, or ``None``:
            nothing yet; ``_waiter`` is set and the worker will wake it.

        Runs in: the loop thread.
        """
        with self._lock:
            if items:
                self._items -= items
                self._bytes -= size
                if (
                    self._blocked
                    and not self._closing  # not waiting in wait_sent()
                    and self._items <= WINDOW_ITEMS // 2
                    and self._bytes <= WINDOW_BYTES // 2
                ):
                    self._unblock()
            if self._batches:
                return self._batches.popleft()
            if self._final is not None:
                return _FINAL
            self._parked = True
            self._waiter = self._loop.create_future()
            return None

    def _unblock(self) -> None:
        """Let a blocked worker re-check the window.  Caller holds ``_lock``."""
        if self._blocked:
            self._blocked = False
            self._room.release()

    async def serve(self, send: Send) -> BaseException | None:
        """Send every batch the worker queues, in order, until its final one.

        Returns:
            The exception the ASGI call should raise, or ``None``.

        Runs in: the ASGI task.

        Cancellation: the caller must call :meth:`cancel`, which releases the worker.
        """
        __traceback_hide__ = True
        items = size = 0  # of the batch just sent
        while True:
            batch = self._next(items, size)
            items = size = 0
            if batch is None:
                assert self._waiter is not None
                await self._waiter
                continue
            if batch is _FINAL:
                break
            if not self._streaming:
                self._streaming = True
                self._on_stream()
            messages, items, size = batch
            for message in messages:  # _send_all(), inlined: this runs once per item
                if self.state is not LinkState.RUNNING:
                    break
                try:
                    await send(message)
                except Exception as exc:
                    self.send_error = exc
                    self._stop(LinkState.FAILED)
                    break
        assert self._final is not None
        messages, error = self._final
        if messages and self._before_end is not None and self.state is LinkState.RUNNING:
            first = self._before_end()
            if first is not None:
                await self._send_all(send, messages[:-1])
                if self.state is LinkState.RUNNING:
                    await first
                messages = messages[-1:]
        await self._send_all(send, messages)
        if self._closing:
            await self._wait_closed()
        if self.state is LinkState.FAILED:
            return self.send_error
        return error

    async def _wait_closed(self) -> None:
        """Let the worker call ``close()`` now that the response is complete; wait.

        Runs in: the ASGI task.
        """
        with self._lock:
            self._unblock()
            if self._closed:
                return
            self._parked = True
            waiter = self._waiter = self._loop.create_future()
        await waiter

    async def _send_all(self, send: Send, messages: list[Message]) -> None:
        for message in messages:
            if self.state is not LinkState.RUNNING:
                return
            try:
                await send(message)
            except Exception as exc:
                self.send_error = exc
                self._stop(LinkState.FAILED)
                return

    def _stop(self, state: LinkState) -> None:
        """Move out of ``RUNNING`` and release a blocked worker.  Runs in: the loop."""
        with self._lock:
            if self.state is LinkState.RUNNING:
                self.state = state
            self._unblock()

    def disconnected(self) -> None:
        """Record ``http.disconnect``.  Runs in: the loop thread."""
        self._stop(LinkState.DISCONNECTED)

    def cancel(self) -> None:
        """Stop serving: release a waiting worker and drop every batch, now and later.

        Runs in: the loop thread, when the ASGI call ends abnormally.
        """
        with self._lock:
            self.state = LinkState.CANCELLED
            self._batches.clear()
            self._final = None
            self._unblock()
