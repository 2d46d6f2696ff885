"""The per-request hand-off of response messages from the WSGI thread to the event loop.

The worker thread produces ``http.response.*`` messages; the ASGI task (the
coroutine awaiting ``WsgiToAsgiInstance.__call__``) sends them.  At most one batch of
messages is in flight: the worker blocks until the loop has sent it (backpressure).

Hand-offs, each named for the thread that runs it:

* worker -> loop: ``Inbox.post(self._deliver, ...)`` (a coalesced
  ``loop.call_soon_threadsafe``);
* loop -> worker: the loop stores ``_reply`` and releases ``_wake``, a plain lock the
  worker is blocked on.

Guarantees: every batch the worker posts with :meth:`Link.send` gets exactly one
reply, also when the ASGI call is cancelled or the loop is closed; the final batch
(:meth:`Link.finish`) never blocks the worker.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import enum
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref._wsgi_inbox import inbox_for, wait_released

__all__ = ["Link", "LinkState", "Message", "Reply", "Send"]

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]


class LinkState(enum.Enum):
    """Lifecycle of one request as the worker sees it.  Written only on the loop thread."""

    RUNNING = "running"
    DISCONNECTED = "disconnected"  # http.disconnect was received
    CANCELLED = "cancelled"  # the ASGI call was cancelled or failed; nobody sends


class Reply(enum.Enum):
    """Outcome of one batch, as reported to the worker."""

    SENT = "sent"
    DISCONNECTED = "disconnected"  # not sent: the client is gone
    CANCELLED = "cancelled"  # not sent: the ASGI call is over
    FAILED = "failed"  # send() raised; the exception is in Link.send_error


class Link:
    """The two ends of one request's response hand-off.

    Args:
        loop: The event loop running the ASGI task.
        on_stream: Called on the loop thread when the first non-final batch arrives
            (the adapter starts watching for ``http.disconnect`` then).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, on_stream: Callable[[], None]) -> None:
        self._loop = loop
        self._post = inbox_for(loop).post
        self._on_stream = on_stream
        self.state = LinkState.RUNNING  # written on the loop thread; read by the worker
        self.send_error: BaseException | None = None  # set before a FAILED reply
        self._wake = _thread.allocate_lock()  # released by the loop to answer the worker
        self._wake.acquire()
        self._reply = Reply.SENT  # written by the loop before releasing _wake
        # The fields below are touched only on the loop thread.
        self._op: tuple[list[Message], BaseException | None, bool] | None = None
        self._blocked = False  # the worker waits for a reply
        self._waiter: asyncio.Future[None] | None = None
        self._streaming = False

    # -- worker side ------------------------------------------------------------------

    def send(self, messages: list[Message]) -> Reply:
        """Hand ``messages`` to the loop and wait until they were sent (or not).

        Runs in: the WSGI worker thread.
        """
        __traceback_hide__ = True
        if self.state is LinkState.CANCELLED:
            return Reply.CANCELLED
        try:
            self._post(self._deliver, messages, None, False)
        except RuntimeError:  # the loop is closed: the ASGI call is long gone
            return Reply.CANCELLED
        if not wait_released(self._wake, self._loop):
            return Reply.CANCELLED
        return self._reply

    def finish(self, messages: list[Message], error: BaseException | None) -> None:
        """Hand over the final messages (or the error to raise) without waiting.

        Runs in: the WSGI worker thread, after the request's last application code.
        """
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self._post(self._deliver, messages, error, True)

    # -- loop side --------------------------------------------------------------------

    def _deliver(self, messages: list[Message], error: BaseException | None, final: bool) -> None:
        """Runs in: the loop thread (scheduled by the worker)."""
        if self.state is LinkState.CANCELLED:
            if not final:
                self._answer(Reply.CANCELLED)
            return
        self._op = (messages, error, final)
        self._blocked = not final
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _answer(self, reply: Reply) -> None:
        self._blocked = False
        self._reply = reply
        self._wake.release()

    async def serve(self, send: Send) -> BaseException | None:
        """Send every batch the worker posts until its final one.

        Returns:
            The exception the ASGI call should raise, or ``None``.

        Runs in: the ASGI task.

        Cancellation: the caller must call :meth:`cancel`, which releases the worker.
        """
        __traceback_hide__ = True
        while True:
            op = self._op
            if op is None:
                self._waiter = self._loop.create_future()
                await self._waiter
                op = self._op
                assert op is not None
            self._op = None
            messages, error, final = op
            if final:
                if await self._send_all(send, messages) is Reply.FAILED:
                    return self.send_error
                return error
            if not self._streaming:
                self._streaming = True
                self._on_stream()
            self._answer(await self._send_all(send, messages))

    async def _send_all(self, send: Send, messages: list[Message]) -> Reply:
        for message in messages:
            if self.state is not LinkState.RUNNING:
                return Reply.DISCONNECTED
            try:
                await send(message)
            except Exception as exc:
                self.send_error = exc
                return Reply.FAILED
        return Reply.SENT

    def disconnected(self) -> None:
        """Record ``http.disconnect``.  Runs in: the loop thread."""
        if self.state is LinkState.RUNNING:
            self.state = LinkState.DISCONNECTED

    def cancel(self) -> None:
        """Stop serving: answer a waiting worker and every later batch with CANCELLED.

        Runs in: the loop thread, when the ASGI call ends abnormally.
        """
        self.state = LinkState.CANCELLED
        self._op = None
        if self._blocked:
            self._answer(Reply.CANCELLED)
