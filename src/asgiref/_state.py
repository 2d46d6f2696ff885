"""Where the bridges keep their routing state.

The labels in brackets name the routing rules of ``docs/where-code-runs.rst``.

* Context variables (state that follows code into tasks it creates):

  - ``BRIDGE``: the ``CurrentThreadExecutor`` of the innermost ``async_to_sync`` call
    this code descends from [ts-bridge]; hidden (``None``) inside a
    ``ThreadSensitiveContext(executor=...)`` block.
  - ``SCOPE``: the innermost active ``ThreadSensitiveContext`` scope [ts-scope].
  - ``SINGLE_THREAD``: the outermost ``AsyncSingleThreadContext`` [loop-single-thread].

* Thread state (:data:`THREAD`, a ``threading.local``): which ``sync_to_async`` call
  the thread is executing (its *parent loop* [loop-parent]) and which bridge it is
  blocked in.  Read and written only by the thread itself.

* Per-event-loop state (:data:`LOOP_OWNERS`): the bridge blocked on each loop created
  by ``async_to_sync`` [ts-loop-owner], in a loop-keyed map, while the loop runs.

The state of one ``sync_to_async`` call that only that bridge reads
(``SYNC_THREAD_CALL``) lives in :mod:`asgiref._sync_to_async`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from asgiref._current_thread_executor import CurrentThreadExecutor

__all__ = [
    "BRIDGE",
    "SCOPE",
    "SINGLE_THREAD",
    "THREAD",
    "LOOP_OWNERS",
    "ParentCall",
    "QueuedCall",
    "Scope",
    "SingleThreadRunner",
]


class ParentCall(Protocol):
    """What ``async_to_sync`` needs from the call that makes a loop this thread's parent.

    A ``sync_to_async`` call (``asgiref._sync_to_async.Call``) is one; a ``WsgiToAsgi``
    request (``asgiref._wsgi.adapter.ParentLoop``) is the other.
    """

    #: The parent loop ([loop-parent] runs the coroutine there).
    loop: asyncio.AbstractEventLoop
    #: The task an ``async_to_sync`` call is blocked on; set and cleared by the bridge.
    inner_task: asyncio.Task[Any] | None

    def running_on_parent(self) -> bool:
        """Whether the parent loop may be used now (it runs, in this process)."""


class QueuedCall(Protocol):
    """What a scope needs from a ``sync_to_async`` call (``asgiref._sync_to_async.Call``)."""

    def run(self) -> None:
        """Run the call on the calling thread (a no-op if it was cancelled meanwhile)."""

    def finished(self) -> bool:
        """Whether the call has run to its end (its outcome is delivered)."""


class Scope(Protocol):
    """A ``ThreadSensitiveContext`` scope that thread-sensitive calls are routed to."""

    def submit(self, call: QueuedCall) -> None:
        """Run ``call`` on the scope's thread or executor (raise if impossible)."""


class SingleThreadRunner(Protocol):
    """An ``AsyncSingleThreadContext``: runs fresh-loop jobs on one shared thread."""

    def submit_loop_job(self, job: Callable[[], object]) -> bool:
        """Run ``job`` on the context's thread; ``False`` if the context has exited."""


BRIDGE: Final[ContextVar[CurrentThreadExecutor | None]] = ContextVar(
    "asgiref.sync.bridge", default=None
)
SCOPE: Final[ContextVar[Scope | None]] = ContextVar("asgiref.sync.scope", default=None)
SINGLE_THREAD: Final[ContextVar[SingleThreadRunner | None]] = ContextVar(
    "asgiref.sync.single_thread", default=None
)


class _ThreadState(threading.local):
    """Per-thread bridge state.  Runs in: only ever touched by its own thread."""

    #: The innermost ``sync_to_async`` call (or WSGI request) this thread is executing.
    call: ParentCall | None = None
    #: The innermost ``async_to_sync`` bridge this thread is blocked in.
    executor: CurrentThreadExecutor | None = None


THREAD: Final = _ThreadState()


#: The loops created by ``async_to_sync`` [loop-fresh] -> the executor of the bridge
#: blocked on the loop's result [ts-loop-owner].  Each entry is added by the thread
#: about to run its loop and removed by the same thread when the loop's bridge returns,
#: so a plain dict is enough (no weak references).  Thread rules: every access is one
#: dict operation, which is atomic (under the GIL, and per-object locked on
#: free-threaded builds); no lock needed.
LOOP_OWNERS: Final[dict[asyncio.AbstractEventLoop, CurrentThreadExecutor]] = {}
