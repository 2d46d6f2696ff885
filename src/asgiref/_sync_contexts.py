"""``ThreadSensitiveContext`` and ``AsyncSingleThreadContext``.

A plain ``ThreadSensitiveContext`` borrows one worker thread from the package's idle
pool on its first thread-sensitive call and gives it back when it exits, after the
work queued on it finished.  Threads are therefore *reused* across requests: values of
thread-critical ``Local`` objects (Django's database connections) persist on a thread
from one context to the next, which is what makes ``CONN_MAX_AGE`` useful under ASGI.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from contextvars import Token
from types import TracebackType
from typing import Any, Final

from asgiref import _threads
from asgiref._current_thread_executor import CurrentThreadExecutor
from asgiref._state import BRIDGE, SCOPE, SINGLE_THREAD, QueuedCall, Scope
from asgiref._sync_to_async import deadlock_error

__all__ = ["AsyncSingleThreadContext", "ThreadSensitiveContext"]

_EXITED_MESSAGE: Final = (
    "ThreadSensitiveContext has exited. Tasks created inside a context with an "
    "executor must finish before it exits."
)


class _ScopeState(enum.Enum):
    NEW = "new"
    ACTIVE = "active"
    EXITED = "exited"


class _PlainScope:
    """One entry of a plain ``ThreadSensitiveContext``: a lazily borrowed worker.

    Thread rules: ``state``, ``_worker`` and ``_last`` are guarded by ``_lock``
    (submissions may come from any loop thread that inherited the context).
    """

    __slots__ = ("_last", "_lock", "_worker", "state")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = _ScopeState.ACTIVE  # guarded by _lock
        self._worker: _threads.Worker | None = None  # guarded by _lock
        self._last: QueuedCall | None = None  # guarded by _lock

    def submit(self, call: QueuedCall) -> None:
        """[ts-scope], plain form.  Runs in: the awaiting loop's thread."""
        with self._lock:
            if self.state is _ScopeState.ACTIVE:
                worker = self._worker
                if worker is None or worker.generation != _threads.generation():
                    worker = self._worker = _threads.loop_runners().acquire()
                if worker.is_current():  # [D20]
                    raise deadlock_error(f"the ThreadSensitiveContext thread {worker.thread!r}")
                self._last = call
                worker.submit(call.run)
                return
        # A task outlived the context: a borrowed thread for this call, nobody waits.
        pool = _threads.loop_runners()
        worker = pool.acquire()
        worker.submit(call.run)
        worker.submit(lambda: pool.release(worker))

    async def close(self) -> None:
        """Exit: give the worker back once its queued work finished.

        Runs in: the exiting task's loop thread; waits without blocking the loop.

        Cancellation: ``CancelledError`` propagates; the worker is still given back
        (by itself) once its work is done.
        """
        with self._lock:
            self.state = _ScopeState.EXITED
            worker, self._worker = self._worker, None
            last, self._last = self._last, None
        if worker is None:
            return
        if last is not None and last.finished():
            _threads.loop_runners().release(worker)  # idle already: no round trip needed
            return
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        worker.submit(lambda: _release_and_notify(worker, loop, done))
        await done


def _release_and_notify(
    worker: _threads.Worker, loop: asyncio.AbstractEventLoop, done: asyncio.Future[None]
) -> None:
    """Runs in: ``worker``'s thread, after the work queued before it."""
    _threads.loop_runners().release(worker)
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
        loop.call_soon_threadsafe(_set_done, done)


def _set_done(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


class _ExecutorScope:
    """One entry of ``ThreadSensitiveContext(executor=e)``."""

    __slots__ = ("executor", "state")

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.state = _ScopeState.ACTIVE

    def submit(self, call: QueuedCall) -> None:
        """[ts-scope], executor form.  Runs in: the awaiting loop's thread."""
        if self.state is not _ScopeState.ACTIVE:
            raise RuntimeError(f"{_EXITED_MESSAGE}; executor {self.executor!r}")
        self.executor.submit(call.run)


class ThreadSensitiveContext:
    """Async context manager giving thread-sensitive calls their own thread or executor.

    Plain form: thread-sensitive ``sync_to_async`` calls inside the block (and in tasks
    that inherit its context) share one thread, borrowed on first use from a small
    pool and returned on exit once its work finished.  Nested plain contexts are no-ops.

    Executor form: calls inside the block go to ``executor`` (which must run one call
    at a time on one thread); every entry is its own scope and hides an enclosing
    ``async_to_sync`` bridge; an instance can be entered only once.

    Args:
        executor: The executor for the forced scope, or ``None`` for the plain form.
    """

    def __init__(self, *, executor: Executor | None = None) -> None:
        self._executor = executor
        self._state = _ScopeState.NEW
        self._scope: _PlainScope | _ExecutorScope | None = None
        self._scope_token: Token[Scope | None] | None = None
        self._bridge_token: Token[CurrentThreadExecutor | None] | None = None

    async def __aenter__(self) -> ThreadSensitiveContext:
        """Enter the context.  Runs in: the entering task.

        Raises:
            RuntimeError: For an executor context that is active or has exited.
        """
        if self._executor is None:
            current = SCOPE.get()
            if current is not None and getattr(current, "state", None) is _ScopeState.ACTIVE:
                self._scope = None  # nested: the outer scope governs
            else:
                self._scope = _PlainScope()
                self._scope_token = SCOPE.set(self._scope)
            self._state = _ScopeState.ACTIVE
            return self
        if self._state is _ScopeState.ACTIVE:
            raise RuntimeError(f"ThreadSensitiveContext is already entered; {self!r}")
        if self._state is _ScopeState.EXITED:
            raise RuntimeError(
                "ThreadSensitiveContext with an executor cannot be entered again; "
                f"create a new ThreadSensitiveContext instead of reusing {self!r}"
            )
        self._scope = _ExecutorScope(self._executor)
        self._bridge_token = BRIDGE.set(None)
        self._scope_token = SCOPE.set(self._scope)
        self._state = _ScopeState.ACTIVE
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Exit, restoring the previous routing; never suppresses exceptions.

        Cancellation: see :meth:`_PlainScope.close`.
        """
        scope, self._scope = self._scope, None
        if self._scope_token is not None:
            SCOPE.reset(self._scope_token)
            self._scope_token = None
        if self._bridge_token is not None:
            BRIDGE.reset(self._bridge_token)
            self._bridge_token = None
        if self._executor is None:
            self._state = _ScopeState.NEW  # a plain instance may be entered again
            if scope is not None:
                assert isinstance(scope, _PlainScope)
                await scope.close()
            return
        self._state = _ScopeState.EXITED
        assert scope is not None  # the executor form always has its own scope
        scope.state = _ScopeState.EXITED


class AsyncSingleThreadContext:
    """Sync context manager running every fresh-loop ``async_to_sync`` on one thread.

    Each call still gets a new event loop; the thread is created on first use and
    joined when the outermost context exits.  Nested contexts share the outermost
    one's thread.  It has no effect where a parent loop is used
    (:ref:`the parent loop <loop-parent>`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._worker: _threads.Worker | None = None  # guarded by _lock
        self._token: Token[Any] | None = None  # guarded by _lock; set while active

    def __enter__(self) -> AsyncSingleThreadContext:
        """Enter the context.  Runs in: the calling sync thread."""
        if SINGLE_THREAD.get() is None:
            token = SINGLE_THREAD.set(self)
            with self._lock:
                self._token = token
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Exit; the outermost context blocks until its thread has finished."""
        with self._lock:
            token, self._token = self._token, None
            worker, self._worker = self._worker, None
        if token is None:
            return
        SINGLE_THREAD.reset(token)
        if worker is not None:
            worker.stop()
            worker.thread.join()

    def submit_loop_job(self, job: Callable[[], object]) -> bool:
        """Run ``job`` on this context's thread, starting it on first use.

        Runs in: any thread.

        Returns:
            ``False`` if the context has exited (code that copied its context
            outlived it); the caller then runs the job elsewhere.
        """
        with self._lock:
            if self._token is None:
                return False
            worker = self._worker
            if worker is None:
                worker = self._worker = _threads.Worker("asgiref-single-thread")
        worker.submit(job)
        return True
