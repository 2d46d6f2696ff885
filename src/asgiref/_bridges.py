"""The two ways ``async_to_sync`` runs a coroutine while its sync caller blocks.

* :func:`run_on_parent_loop` (Table B row B1): as a task on the running loop that
  awaits the ``sync_to_async`` call this thread is executing.
* :func:`run_on_fresh_loop` (rows B2/B3): on a new event loop per call, run by a
  pooled loop-runner thread (or an ``AsyncSingleThreadContext``'s thread), with
  ``asyncio.run()`` clean-up: leftover tasks cancelled, async generators finalised,
  the default executor shut down, the loop closed.

In both cases the caller creates a ``CurrentThreadExecutor`` (the *bridge*), stores it
in the coroutine's context as ``BRIDGE`` and serves thread-sensitive work sent back to
it (row A1) until the coroutine is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from contextvars import Context
from typing import Any

from asgiref import _context, _workers
from asgiref._current_thread_executor import CurrentThreadExecutor
from asgiref._state import (
    BRIDGE,
    SINGLE_THREAD,
    THREAD,
    ParentCall,
    forget_loop,
    register_loop,
)

__all__ = ["run_on_fresh_loop", "run_on_parent_loop"]


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
        self.worker: _workers.Worker | None = None

    async def main(self) -> None:
        """The bridge task's coroutine; stores the outcome on the job.

        Catching everything here keeps the exact exception object (a task would
        replace a ``CancelledError``) and never stops the loop.

        Runs in: the loop's thread, inside ``ctx``.
        """
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        _context.adopt()  # a copy: its home never travels back, nothing to restore
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
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        exc = self.exc
        assert exc is not None
        traceback = exc.__traceback__
        try:
            raise exc
        except BaseException:
            exc.__traceback__ = traceback
            return await self.awaitable

    # -- row B1 -------------------------------------------------------------------

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

    # -- rows B2/B3 ---------------------------------------------------------------

    def run_fresh_loop(self) -> None:
        """Run the coroutine on a new loop, then clean up like ``asyncio.run()``.

        Runs in: the loop-runner thread.  Never raises; always signals the bridge.
        """
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        try:
            loop = asyncio.new_event_loop()
            register_loop(loop, self.bridge)
            try:
                self._run_and_finalise(loop)
            finally:
                forget_loop(loop)
                loop.close()
        except BaseException as exc:  # no loop, or the loop broke down
            self.error = exc
            if isinstance(self.awaitable, Coroutine):
                self.awaitable.close()  # never awaited: no RuntimeWarning
        finally:
            worker = self.worker
            if worker is not None:
                _workers.pool().release(worker)
            self.bridge.signal_done()

    def _run_and_finalise(self, loop: asyncio.AbstractEventLoop) -> None:
        """Runs in: the loop-runner thread."""
        loop.run_until_complete(loop.create_task(self.main(), context=self.ctx))
        if _needs_shutdown(loop):
            loop.run_until_complete(_shutdown_loop(loop))

    def outcome(self) -> Any:
        """Return the coroutine's result or raise its exception.  Runs in: the caller."""
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
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
    return _Job(awaitable, exc, bridge, _context.capture())


def _serve_and_finish(job: _Job) -> Any:
    """Block serving the bridge, then copy context changes back and unwrap.

    Runs in: the calling sync thread.
    """
    __traceback_hide__ = True  # R11: Django's debug page hides this frame
    thread = THREAD
    bridge = job.bridge
    thread.executor = bridge
    try:
        bridge.serve()
    finally:
        thread.executor = bridge.old_executor
    _context.write_back(job.ctx)
    return job.outcome()


def run_on_parent_loop(
    parent: ParentCall, awaitable: Awaitable[Any], exc: BaseException | None
) -> Any:
    """Row B1: run ``awaitable`` as a task on ``parent.loop`` and block until done.

    Runs in: the thread executing ``parent`` (a ``sync_to_async`` call).
    """
    __traceback_hide__ = True  # R11: Django's debug page hides this frame
    job = _prepare(awaitable, exc)
    job.parent = parent
    parent.loop.call_soon_threadsafe(job.start_on_parent)
    return _serve_and_finish(job)


def run_on_fresh_loop(awaitable: Awaitable[Any], exc: BaseException | None) -> Any:
    """Rows B2/B3: run ``awaitable`` on a new loop in a worker thread, block until done.

    Runs in: the calling sync thread (no running loop, no usable parent loop).
    """
    __traceback_hide__ = True  # R11: Django's debug page hides this frame
    job = _prepare(awaitable, exc)
    single = SINGLE_THREAD.get()
    if single is None or not single.submit_loop_job(job.run_fresh_loop):
        worker = _workers.pool().acquire()
        job.worker = worker
        worker.submit(job.run_fresh_loop)
    return _serve_and_finish(job)
