"""Coalesced worker -> event loop wake-ups, one inbox per event loop.

``loop.call_soon_threadsafe`` writes to the loop's self-pipe on every call.  With many
WSGI worker threads handing messages to one loop, those writes (each a system call
that also releases the GIL) dominate.  An :class:`Inbox` queues the callbacks and
wakes the loop only when no wake-up is pending yet.

Guarantees: every posted callback runs exactly once, on the loop thread, in posting
order per thread; a callback posted to a closed loop is dropped and :meth:`Inbox.post`
reports it by raising :class:`RuntimeError` (as ``call_soon_threadsafe`` does).

This code assumes: ``deque.append``/``popleft`` are atomic, and a reader may see a
stale ``_pending`` only in the safe direction: the loop clears ``_pending`` *before*
draining, so an item appended while ``_pending`` still reads true is drained by the
drain already scheduled.
"""

from __future__ import annotations

import _thread
import asyncio
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["POLL_INTERVAL", "Inbox", "inbox_for", "wait_released"]

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
