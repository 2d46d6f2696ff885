"""Where the bridges keep their routing state.

* Context variables (state that follows code into tasks it creates):

  - ``BRIDGE``: the ``CurrentThreadExecutor`` of the innermost ``async_to_sync`` call
    this code descends from (Table A row A1); hidden (``None``) inside a
    ``ThreadSensitiveContext(executor=...)`` block.
  - ``SCOPE``: the innermost active ``ThreadSensitiveContext`` scope (row A2).
  - ``SYNC_THREAD_CALL``: the call currently running on the process-wide sync thread
    that this code descends from (deadlock detection 1).
  - ``SINGLE_THREAD``: the outermost ``AsyncSingleThreadContext`` (row B2).

* Thread state (:data:`THREAD`, a ``threading.local``): which ``sync_to_async`` call
  the thread is executing (its *parent loop*, row B1) and which bridge it is blocked in.
  Read and written only by the thread itself.

* Per-event-loop state (:func:`loop_state`): one :class:`LoopState` per loop created by
  ``async_to_sync`` (row A3), in a loop-keyed map, for as long as the loop runs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from asgiref._calls import Call
    from asgiref._current_thread_executor import CurrentThreadExecutor

__all__ = [
    "BRIDGE",
    "SCOPE",
    "SINGLE_THREAD",
    "SYNC_THREAD_CALL",
    "THREAD",
    "LoopState",
    "ParentCall",
    "Scope",
    "SingleThreadRunner",
    "forget_loop",
    "loop_state",
    "register_loop",
]


class ParentCall(Protocol):
    """What ``async_to_sync`` needs from the call that makes a loop this thread's parent.

    A ``sync_to_async`` call (``asgiref._calls.Call``) is one; a ``WsgiToAsgi`` request
    (``asgiref._wsgi_parent.ParentLoop``) is the other.
    """

    #: The parent loop (row B1 runs the coroutine there).
    loop: asyncio.AbstractEventLoop
    #: The task an ``async_to_sync`` call is blocked on; set and cleared by the bridge.
    inner_task: asyncio.Task[Any] | None

    def running_on_parent(self) -> bool:
        """Whether the parent loop may be used now (it runs, in this process)."""


class Scope(Protocol):
    """A ``ThreadSensitiveContext`` scope that thread-sensitive calls are routed to."""

    def submit(self, call: Call) -> None:
        """Run ``call`` on the scope's thread or executor (raise if impossible)."""


class SingleThreadRunner(Protocol):
    """An ``AsyncSingleThreadContext``: runs fresh-loop jobs on one shared thread."""

    def submit_loop_job(self, job: Callable[[], object]) -> bool:
        """Run ``job`` on the context's thread; ``False`` if the context has exited."""


BRIDGE: Final[ContextVar[CurrentThreadExecutor | None]] = ContextVar(
    "asgiref.sync.bridge", default=None
)
SCOPE: Final[ContextVar[Scope | None]] = ContextVar("asgiref.sync.scope", default=None)
SYNC_THREAD_CALL: Final[ContextVar[Call | None]] = ContextVar(
    "asgiref.sync.sync_thread_call", default=None
)
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


class LoopState:
    """State of one event loop created by ``async_to_sync`` (rows B2/B3).

    Attributes:
        owner: The executor of the bridge blocked on the loop's result (row A3).
    """

    __slots__ = ("owner",)

    def __init__(self, owner: CurrentThreadExecutor) -> None:
        self.owner = owner


# Loop-keyed: each entry is added by the thread about to run its loop and removed by
# the same thread when the loop's bridge returns, so a plain dict is enough (no weak
# references).  Thread rules: every access is one dict operation, which is atomic
# (under the GIL, and per-object locked on free-threaded builds); no lock needed.
_loops: dict[asyncio.AbstractEventLoop, LoopState] = {}


def register_loop(loop: asyncio.AbstractEventLoop, owner: CurrentThreadExecutor) -> None:
    """Record that ``owner``'s bridge created and waits on ``loop``.

    Runs in: the thread about to run ``loop``.
    """
    _loops[loop] = LoopState(owner)


def forget_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Drop the state :func:`register_loop` recorded.  Runs in: the thread that ran ``loop``."""
    del _loops[loop]


def loop_state(loop: asyncio.AbstractEventLoop) -> LoopState | None:
    """Return the state of ``loop`` if ``async_to_sync`` created it.  Runs in: any thread."""
    return _loops.get(loop) if _loops else None
