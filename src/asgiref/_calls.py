"""One ``sync_to_async`` call crossing from an event loop to a worker thread.

A :class:`Call` is created by the awaiting coroutine, queued on exactly one worker
(a package thread, a blocked bridge thread or an executor), run there once, and its
outcome is handed back with one ``loop.call_soon_threadsafe``.

Guarantees:

* ``state`` moves QUEUED → RUNNING → DONE, or QUEUED → CANCELLED; the two moves out of
  QUEUED happen under ``_transition_lock``, so a call cancelled while queued never runs.
* ``result`` / ``error`` are written by the worker before ``state`` becomes DONE and
  read by the loop thread only after the delivery callback ran.
* ``waiter`` and ``inner_task`` are only touched in the awaiting loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
from collections.abc import Callable
from contextvars import Context
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from asgiref import _context, _workers
from asgiref._state import SYNC_THREAD_CALL, THREAD

if TYPE_CHECKING:
    from asgiref._sync_to_async import SyncToAsync

__all__ = ["Call", "CallState", "ExcInfo", "Handoff"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]

_transition_lock: Final = threading.Lock()


class Handoff(enum.Enum):
    """How a worker takes over the ``Local`` values of the context it runs in.

    See :mod:`asgiref._context`.
    """

    #: A bridge's copy of the caller's context: adopt it; the copy is thrown away.
    COPY = "copy"
    #: The user's ``context=``, whose home is the caller: adopt it, then give it back.
    IN_PLACE = "in place"
    #: The user's ``context=``, whose values the caller cannot see either: leave it.
    NONE = "none"


class CallState(enum.Enum):
    """Lifecycle of a :class:`Call`."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class Call:
    """A ``sync_to_async`` call in flight.

    Args:
        wrapper: The ``SyncToAsync`` object; its ``thread_handler`` runs the call.
        loop: The awaiting coroutine's running loop.
        exc_info: ``sys.exc_info()`` of the caller, made current around ``func``.
        child: ``functools.partial(wrapper.func, *args, **kwargs)``.
        ctx: The context to run in (a copy, or the user's ``context=``).
        handoff: How the worker takes over ``ctx``'s ``Local`` values.
    """

    __slots__ = (
        "child",
        "ctx",
        "error",
        "exc_info",
        "generation",
        "handoff",
        "inner_task",
        "loop",
        "on_sync_thread",
        "result",
        "state",
        "task",
        "waiter",
        "wrapper",
    )

    def __init__(
        self,
        wrapper: SyncToAsync[..., Any],
        loop: asyncio.AbstractEventLoop,
        exc_info: ExcInfo,
        child: partial[Any],
        ctx: Context,
        handoff: Handoff,
    ) -> None:
        self.wrapper = wrapper
        self.loop = loop
        self.exc_info = exc_info
        self.child = child
        self.ctx = ctx
        self.handoff = handoff
        self.task = asyncio.current_task(loop)
        self.generation = _workers.generation()
        self.state = CallState.QUEUED
        self.waiter: asyncio.Future[None] = loop.create_future()
        self.result: Any = None
        self.error: BaseException | None = None
        self.inner_task: asyncio.Task[Any] | None = None
        self.on_sync_thread = False

    # -- worker side ------------------------------------------------------------

    def run(self) -> None:
        """Run the call (unless cancelled while queued) and deliver its outcome.

        Runs in: the worker thread.  Never raises.
        """
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        with _transition_lock:
            if self.state is not CallState.QUEUED:
                return
            self.state = CallState.RUNNING
        try:
            self.result = self.ctx.run(self._invoke)
        except StopIteration as exc:  # D26: a future cannot carry StopIteration
            error = RuntimeError("sync function raised StopIteration")
            error.__cause__ = exc
            self.error = error
        except BaseException as exc:
            self.error = exc
        self.state = CallState.DONE
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
            self.loop.call_soon_threadsafe(self._deliver)

    def _invoke(self) -> Any:
        """Runs in: the worker thread, inside ``ctx``."""
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        handoff = self.handoff
        home = None if handoff is Handoff.NONE else _context.adopt()
        thread = THREAD
        previous = thread.call
        thread.call = self
        token = SYNC_THREAD_CALL.set(self) if self.on_sync_thread else None
        try:
            return self.wrapper.thread_handler(
                self.loop, self.exc_info, self.task, self.call_child, self.child
            )
        finally:
            thread.call = previous
            if token is not None:
                SYNC_THREAD_CALL.reset(token)
            if home is not None and handoff is Handoff.IN_PLACE:
                _context.restore(home)

    def call_child(self, child: Callable[[], Any]) -> Any:
        """Call ``child()`` with the caller's active exception made current.

        This is the ``func`` argument of ``thread_handler``.

        Runs in: the worker thread.
        """
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        exc = self.exc_info[1]
        if exc is None:
            return child()
        traceback = exc.__traceback__
        try:
            raise exc
        except BaseException:
            exc.__traceback__ = traceback
            return child()

    # -- loop side --------------------------------------------------------------

    def _deliver(self) -> None:
        """Runs in: the awaiting loop's thread."""
        waiter = self.waiter
        if not waiter.done():
            waiter.set_result(None)

    def running_on_parent(self) -> bool:
        """Return whether this call may act as a parent loop for ``async_to_sync`` (B1).

        Runs in: the thread executing the call.
        """
        return self.generation == _workers.generation() and self.loop.is_running()

    async def wait(self) -> Any:
        """Wait for the outcome, handling cancellation per the contract (§2.8).

        Cancellation: a call still queued is dropped; a call running an inner
        ``async_to_sync`` task on this loop gets the cancellation forwarded to that
        task and is waited for; otherwise ``CancelledError`` is raised at once and the
        sync function keeps running.

        Runs in: the awaiting loop's thread.
        """
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        forwarded = 0
        while True:
            try:
                await self.waiter
                break
            except asyncio.CancelledError:
                if not self._forward_cancel():
                    raise
                forwarded += 1
                self.waiter = self.loop.create_future()
        task = self.task
        if forwarded and task is not None and not isinstance(self.error, asyncio.CancelledError):
            for _ in range(forwarded):  # the cancellation was delivered to the inner task
                task.uncancel()
        return self.unwrap()

    def _forward_cancel(self) -> bool:
        """Apply a cancellation; return ``True`` when the call must still be awaited."""
        with _transition_lock:
            if self.state is CallState.QUEUED:
                self.state = CallState.CANCELLED
                return False
        inner = self.inner_task
        if self.state is CallState.RUNNING and inner is not None and not inner.done():
            inner.cancel()
            return True
        return False

    def unwrap(self) -> Any:
        """Return the result or raise the error.  Runs in: the awaiting loop's thread."""
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        error = self.error
        if error is not None:
            try:
                raise error
            finally:
                del error
                self.error = None
        return self.result
