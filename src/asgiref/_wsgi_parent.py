"""Make the server's event loop the *parent loop* of a WSGI request's worker thread.

asgiref 3.13 ran WSGI applications inside ``sync_to_async``, so ``async_to_sync``
called by the application ran its coroutine as a task on the server's loop (Table B
row B1), next to the loop-bound resources it may use (a Channels layer, a connection
pool).  Our worker threads are not ``sync_to_async`` workers, so while a request runs
its thread carries a :class:`ParentLoop` marker in the bridges' per-thread state
(``asgiref._state.THREAD.call``, typed by the ``ParentCall`` protocol), which
``async_to_sync`` consults.

The marker provides what ``async_to_sync`` reads from a parent call: ``loop``,
``inner_task`` (set by the bridge while its task runs) and ``running_on_parent()``.

Guarantees: the marker is set only while the worker runs the request (application
call, iteration, ``close()``) and the previous value is restored afterwards; a loop
that stopped, or a process forked since, is never used.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from asgiref._state import THREAD, ParentCall

__all__ = ["ParentLoop", "enter", "leave"]


class ParentLoop:
    """The server loop as the parent loop of one request's worker thread.

    Args:
        loop: The event loop running the request's ASGI task.
    """

    __slots__ = ("_pid", "inner_task", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.inner_task: asyncio.Task[Any] | None = None  # written by the async_to_sync bridge
        self._pid = os.getpid()

    def cancel_inner(self) -> None:
        """Cancel the ``async_to_sync`` task the worker is blocked on, if any.

        The worker's ``async_to_sync`` call then raises ``CancelledError`` at once,
        instead of keeping the thread until the coroutine ends.

        Runs in: the loop thread, when the request's ASGI call is cancelled.
        """
        if self.inner_task is not None:
            self.inner_task.cancel()

    def running_on_parent(self) -> bool:
        """Whether ``async_to_sync`` may run its coroutine on :attr:`loop` (row B1).

        Runs in: the request's worker thread.
        """
        return self._pid == os.getpid() and self.loop.is_running()


def enter(parent: ParentLoop) -> ParentCall | None:
    """Mark the current thread; returns the previous marker for :func:`leave`.

    Runs in: the request's worker thread.
    """
    previous = THREAD.call
    THREAD.call = parent
    return previous


def leave(previous: ParentCall | None) -> None:
    """Restore the marker :func:`enter` replaced.  Runs in: the request's worker thread."""
    THREAD.call = previous
