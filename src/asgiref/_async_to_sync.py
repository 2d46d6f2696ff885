"""``async_to_sync`` / ``AsyncToSync``: call an async function from sync code.

One ``async_to_sync(coro_function)()`` reads top to bottom in this module:

1. :meth:`AsyncToSync.__call__` (the calling sync thread) checks that no loop runs
   here, creates the awaitable and chooses the loop (:ref:`loop-rules`);
2. :func:`run_on_parent_loop` [loop-parent] starts a task on the running loop that
   awaits the ``sync_to_async`` call this thread is executing, or
   :func:`run_on_fresh_loop` [loop-fresh] runs a new event loop per call on a pooled
   loop-runner thread (or an ``AsyncSingleThreadContext``'s thread), with
   ``asyncio.run()`` clean-up: leftover tasks cancelled, async generators finalised,
   the default executor shut down, the loop closed;
3. in both cases the caller creates a ``CurrentThreadExecutor`` (the *bridge*),
   stores it in the coroutine's context as ``BRIDGE`` and serves the thread-sensitive
   work sent back to it [ts-bridge] until the coroutine is done
   (:meth:`_Job.outcome` then unwraps the result).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
import types
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import Context
from typing import Any, Final, Generic, ParamSpec, TypeVar, overload

from asgiref import _local_home, _threads
from asgiref._coroutines import is_async_callable
from asgiref._current_thread_executor import CurrentThreadExecutor
from asgiref._state import (
    BRIDGE,
    LOOP_OWNERS,
    SINGLE_THREAD,
    THREAD,
    ParentCall,
)

__all__ = ["AsyncToSync", "async_to_sync"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


# -- the job in flight --------------------------------------------------------------------


class _Job:
    """One ``async_to_sync`` call in flight: what to run and where its outcome goes.

    ``result`` / ``error`` are written by the thread running the loop before the bridge
    is signalled, and read by the blocked caller after ``serve()`` returned.
    """

    __slots__ = (
        "awaitable",
        "bridge",
        "ctx",
        "error",
        "exc",
        "parent",
        "result",
        "worker",
    )

    def __init__(
        self,
        awaitable: Awaitable[Any],
        exc: BaseException | None,
        bridge: CurrentThreadExecutor,
        ctx: Context,
    ) -> None:
        self.awaitable = awaitable
        self.exc = exc
        self.bridge = bridge
        self.ctx = ctx
        self.result: Any = None
        self.error: BaseException | None = None
        self.parent: ParentCall | None = None
        self.worker: _threads.Worker | None = None

    async def main(self) -> None:
        """The bridge task's coroutine; stores the outcome on the job.

        Catching everything here keeps the exact exception object (a task would
        replace a ``CancelledError``) and never stops the loop.

        Runs in: the loop's thread, inside ``ctx``.
        """
        __traceback_hide__ = True
        _local_home.adopt()  # a copy: its home never travels back, nothing to restore
        token = BRIDGE.set(self.bridge)  # reset below, so never written back
        try:
            if self.exc is None:
                self.result = await self.awaitable
            else:
                self.result = await self._await_with_exc_info()
        except BaseException as exc:
            self.error = exc
        finally:
            BRIDGE.reset(token)

    async def _await_with_exc_info(self) -> Any:
        """Await the awaitable with the caller's active exception made current."""
        __traceback_hide__ = True
        exc = self.exc
        assert exc is not None
        traceback = exc.__traceback__
        try:
            raise exc
        except BaseException:
            exc.__traceback__ = traceback
            return await self.awaitable

    # -- [loop-parent] ------------------------------------------------------------

    def start_on_parent(self) -> None:
        """Create the task on the parent loop.  Runs in: the parent loop's thread."""
        task = asyncio.get_running_loop().create_task(self.main(), context=self.ctx)
        parent = self.parent
        assert parent is not None
        parent.inner_task = task
        task.add_done_callback(self._parent_task_done)

    def _parent_task_done(self, task: asyncio.Task[Any]) -> None:
        """Runs in: the parent loop's thread."""
        parent = self.parent
        assert parent is not None
        parent.inner_task = None
        self.bridge.signal_done()

    # -- [loop-fresh] and [loop-single-thread] ------------------------------------

    def run_fresh_loop(self) -> None:
        """Run the coroutine on a new loop, then clean up like ``asyncio.run()``.

        Runs in: the loop-runner thread.  Never raises; always signals the bridge.
        """
        __traceback_hide__ = True
        try:
            loop = asyncio.new_event_loop()
            LOOP_OWNERS[loop] = self.bridge
            try:
                self._run_and_finalise(loop)
            finally:
                del LOOP_OWNERS[loop]
                loop.close()
        except BaseException as exc:  # no loop, or the loop broke down
            self.error = exc
            if isinstance(self.awaitable, Coroutine):
                self.awaitable.close()  # never awaited: no RuntimeWarning
        finally:
            worker = self.worker
            if worker is not None:
                _threads.loop_runners().release(worker)
            self.bridge.signal_done()

    def _run_and_finalise(self, loop: asyncio.AbstractEventLoop) -> None:
        """Runs in: the loop-runner thread."""
        loop.run_until_complete(loop.create_task(self.main(), context=self.ctx))
        if _needs_shutdown(loop):
            loop.run_until_complete(_shutdown_loop(loop))

    def outcome(self) -> Any:
        """Return the coroutine's result or raise its exception.  Runs in: the caller."""
        __traceback_hide__ = True
        error = self.error
        if error is None:
            return self.result
        try:
            raise error
        finally:
            del error
            self.error = None


def _needs_shutdown(loop: asyncio.AbstractEventLoop) -> bool:
    """Return whether ``asyncio.run()``-style clean-up has anything to do on ``loop``.

    Skipping an empty clean-up saves a loop run per call.  Loops that do not expose
    asyncio's own bookkeeping (other implementations) are always cleaned up.
    """
    if asyncio.all_tasks(loop):
        return True
    if getattr(loop, "_asyncgens", True):  # a non-empty WeakSet, or unknown
        return True
    return getattr(loop, "_default_executor", True) is not None


async def _shutdown_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel leftover tasks, finalise async generators, shut the default executor."""
    current = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks(loop) if task is not current]
    if leftovers:
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        for task in leftovers:
            if not task.cancelled() and task.exception() is not None:
                loop.call_exception_handler(
                    {
                        "message": "unhandled exception during async_to_sync() shutdown",
                        "exception": task.exception(),
                        "task": task,
                    }
                )
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


def _prepare(awaitable: Awaitable[Any], exc: BaseException | None) -> _Job:
    """Create the bridge and the job for this call.  Runs in: the calling sync thread."""
    bridge = CurrentThreadExecutor(THREAD.executor)
    return _Job(awaitable, exc, bridge, _local_home.capture())


def _serve_and_finish(job: _Job) -> Any:
    """Block serving the bridge, then copy context changes back and unwrap.

    Runs in: the calling sync thread.
    """
    __traceback_hide__ = True
    thread = THREAD
    bridge = job.bridge
    thread.executor = bridge
    try:
        bridge.serve()
    finally:
        thread.executor = bridge.old_executor
    _local_home.write_back(job.ctx)
    return job.outcome()


def run_on_parent_loop(
    parent: ParentCall, awaitable: Awaitable[Any], exc: BaseException | None
) -> Any:
    """[loop-parent]: run ``awaitable`` as a task on ``parent.loop`` and block until done.

    Runs in: the thread executing ``parent`` (a ``sync_to_async`` call).
    """
    __traceback_hide__ = True
    job = _prepare(awaitable, exc)
    job.parent = parent
    parent.loop.call_soon_threadsafe(job.start_on_parent)
    return _serve_and_finish(job)


def run_on_fresh_loop(awaitable: Awaitable[Any], exc: BaseException | None) -> Any:
    """[loop-fresh]: run ``awaitable`` on a new loop in a worker thread, block until done.

    Runs in: the calling sync thread (no running loop, no usable parent loop).
    """
    __traceback_hide__ = True
    job = _prepare(awaitable, exc)
    single = SINGLE_THREAD.get()
    if single is None or not single.submit_loop_job(job.run_fresh_loop):
        worker = _threads.loop_runners().acquire()
        job.worker = worker
        worker.submit(job.run_fresh_loop)
    return _serve_and_finish(job)


# -- the wrapper --------------------------------------------------------------------------

_METADATA = ("__module__", "__name__", "__qualname__", "__doc__")

_FunctionType: Final = types.FunctionType


def _plain_coroutine_function(func: object) -> bool:
    """Whether ``func`` is an ``async def`` function, seen from its code flags alone.

    A shortcut of the construction check (issue 12 item 7): such a function is async
    whatever its ``__dict__`` holds; everything else takes the general check.
    """
    return type(func) is _FunctionType and bool(func.__code__.co_flags & inspect.CO_COROUTINE)


_SAME_LOOP_MESSAGE = (
    "You cannot use AsyncToSync in the same thread as an async event loop - "
    "just await the async function directly."
)


def _user_stacklevel() -> int:
    """Return the ``stacklevel`` that points at the first frame outside this package."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("asgiref."):
        frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
        level += 1
    return level


class AsyncToSync(Generic[_P, _R]):
    """Wrap an async callable into a sync callable that blocks until it finishes.

    The coroutine runs on the loop the routing rules choose
    (:ref:`loop-rules`): the parent loop when called from code run by
    ``sync_to_async``, otherwise a fresh event loop per call.  While blocked, the calling
    thread runs the thread-sensitive sync work the coroutine sends back to it.

    Args:
        awaitable: An async callable (or any callable returning an awaitable).
        force_new_loop: Always use a fresh event loop, even with a parent loop.

    Warns:
        UserWarning: When ``awaitable`` is not an async-marked callable.
    """

    # Copied from the wrapped callable at construction, when it has them.
    __name__: str
    __qualname__: str
    __wrapped__: Callable[..., Any]

    def __init__(
        self,
        awaitable: Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]],
        force_new_loop: bool = False,
    ) -> None:
        if not _plain_coroutine_function(awaitable) and (
            not callable(awaitable) or not is_async_callable(awaitable)
        ):
            warnings.warn(
                f"async_to_sync was passed a non-async-marked callable: {awaitable!r}; "
                "pass an async function or mark it with markcoroutinefunction()",
                UserWarning,
                stacklevel=_user_stacklevel(),
            )
        self.awaitable = awaitable
        self.force_new_loop = force_new_loop
        for name in _METADATA:  # [D11]; no __dict__ merge: never copy a coroutine marker
            try:
                value = getattr(awaitable, name)
            except AttributeError:
                continue
            setattr(self, name, value)
        self.__wrapped__ = awaitable
        self_attr = getattr(awaitable, "__self__", None)
        if self_attr is not None:
            self.__self__ = self_attr

    def __call__(self, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run the awaitable to completion and return its result.

        Runs in: a thread without a running event loop, which blocks here.

        Raises:
            RuntimeError: When the calling thread has a running event loop.
        """
        __traceback_hide__ = True
        if asyncio._get_running_loop() is not None:
            raise RuntimeError(f"{_SAME_LOOP_MESSAGE}; called {self!r}")
        awaitable = self.awaitable(*args, **kwargs)
        exc = sys.exc_info()[1]
        parent = THREAD.call
        if not self.force_new_loop and parent is not None and parent.running_on_parent():
            result: _R = run_on_parent_loop(parent, awaitable, exc)
        else:
            result = run_on_fresh_loop(awaitable, exc)
        return result

    def __repr__(self) -> str:
        return f"<AsyncToSync {self.awaitable!r}>"

    @overload
    def __get__(self, parent: None, objtype: type[Any] | None = None) -> AsyncToSync[_P, _R]: ...

    @overload
    def __get__(self, parent: object, objtype: type[Any] | None = None) -> Callable[..., _R]: ...

    def __get__(
        self, parent: object, objtype: type[Any] | None = None
    ) -> AsyncToSync[_P, _R] | Callable[..., _R]:
        """Bind to ``parent`` for method use; class access returns the wrapper [D17]."""
        if parent is None:
            return self
        bound: functools.partial[_R] = functools.partial(
            self.__call__,
            parent,  # type: ignore[arg-type]  # parent is the method's first argument
        )
        functools.update_wrapper(bound, self.awaitable, updated=())
        return bound


@overload
def async_to_sync(
    awaitable: None = None, *, force_new_loop: bool = False
) -> Callable[
    [Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]]], AsyncToSync[_P, _R]
]: ...


@overload
def async_to_sync(
    awaitable: Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]],
    *,
    force_new_loop: bool = False,
) -> AsyncToSync[_P, _R]: ...


def async_to_sync(
    awaitable: Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]] | None = None,
    *,
    force_new_loop: bool = False,
) -> (
    AsyncToSync[_P, _R]
    | Callable[
        [Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]]],
        AsyncToSync[_P, _R],
    ]
):
    """Return a sync version of an async callable (or a decorator making one).

    Args:
        awaitable: The async callable; omit it to get a decorator.
        force_new_loop: See :class:`AsyncToSync`.

    Returns:
        An :class:`AsyncToSync`, or a one-argument decorator building one.
    """
    if awaitable is None:

        def decorator(
            f: Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]],
        ) -> AsyncToSync[_P, _R]:
            return AsyncToSync(f, force_new_loop=force_new_loop)

        return decorator
    return AsyncToSync(awaitable, force_new_loop=force_new_loop)
