"""The process's event loop for ``AsgiToWsgi``: one daemon thread per process.

Every :class:`~asgiref.wsgi.AsgiToWsgi` adapter of a process shares one event loop,
running forever in a daemon thread (started with :func:`asgiref._threads.start_thread`)
that :func:`process_loop` starts lazily, on the first request.

Fork (see ``asgi-to-wsgi-fork-rules`` in docs/wsgi.rst): a :class:`LoopThread` records
the fork generation it was made in (:func:`asgiref._threads.generation`).  In a child
after ``os.fork()`` (gunicorn ``--preload``, ``multiprocessing``) the parent's thread
does not exist and its loop must never run again: :func:`process_loop` sees the new
generation and starts a fresh loop and thread.  The lock guarding the start is replaced
in the child through :func:`asgiref._threads.on_fork_in_child` (a thread of the parent
may have held it), which registers no fork hook of its own.

Interpreter exit: :func:`asgiref._threads.before_interpreter_exit` runs :func:`_at_exit`
before the package's workers stop, so a lifespan shutdown may still use
``sync_to_async``.  It runs the exit callbacks (each adapter's lifespan shutdown,
bounded by its ``shutdown_timeout``), cancels the tasks left, stops the loop and joins
the thread.

Importing this module starts no thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final

from asgiref import _threads

__all__ = ["LoopThread", "current_loop_thread", "process_loop", "start_lock"]

logger = logging.getLogger("asgiref.wsgi")

#: Seconds :func:`_at_exit` waits for the loop thread to end once the loop is stopped.
JOIN_TIMEOUT: Final = 5.0

ExitCallback = Callable[[], Coroutine[Any, Any, None]]


class LoopThread:
    """One event loop running forever in a daemon thread of this process.

    Thread rules: ``exit_callbacks`` is guarded by ``_lock``; the loop is only touched
    from other threads through ``call_soon_threadsafe`` / ``run_coroutine_threadsafe``.
    """

    def __init__(self) -> None:
        self.generation = _threads.generation()
        self.loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._exit_callbacks: list[ExitCallback] = []  # guarded by _lock
        self._stopped = False  # guarded by _lock
        self.thread = _threads.start_thread(self._main, "asgiref-asgi-loop")

    def _main(self) -> None:
        """Run the loop until :meth:`stop`, then cancel what is left and close it.

        Runs in: the loop thread.
        """
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    def add_exit_callback(self, callback: ExitCallback) -> None:
        """Await ``callback()`` on the loop at interpreter exit.  Runs in: any thread."""
        with self._lock:
            self._exit_callbacks.append(callback)

    def stop(self, timeout: float = JOIN_TIMEOUT) -> None:
        """Await the exit callbacks, stop the loop and join its thread (once).

        Runs in: any thread but the loop thread.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            callbacks, self._exit_callbacks = self._exit_callbacks, []
        if callbacks:
            future = asyncio.run_coroutine_threadsafe(_run_all(callbacks), self.loop)
            future.result()  # every callback bounds its own wait and never raises
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)


async def _run_all(callbacks: list[ExitCallback]) -> None:
    """Await every exit callback concurrently.  Runs in: the loop thread."""
    await asyncio.gather(*(callback() for callback in callbacks))


_lock = threading.Lock()  # guards the start of _current; replaced in a forked child
_current: LoopThread | None = None  # the loop of this process (or of a parent)
_exit_registered = False  # guarded by _lock; inherited by a child, like the hook itself


def process_loop() -> LoopThread:
    """Return this process's loop thread, starting it on first use (and after a fork).

    Runs in: any thread (a WSGI server's request thread).
    """
    global _current, _exit_registered
    current = _current
    if current is not None and current.generation == _threads.generation():
        return current
    with _lock:
        current = _current
        if current is None or current.generation != _threads.generation():
            # A parent's LoopThread is dropped without touching its loop: its thread
            # does not exist here.
            current = _current = LoopThread()
            if not _exit_registered:
                _exit_registered = True
                _threads.before_interpreter_exit(_at_exit)
        return current


def start_lock() -> threading.Lock:
    """Return the lock that guards starting per-process things (the loop, lifespans)."""
    return _lock


def current_loop_thread() -> LoopThread | None:
    """Return this process's loop thread if it was started in this process."""
    current = _current
    if current is not None and current.generation == _threads.generation():
        return current
    return None


def _at_exit() -> None:  # pragma: no cover - runs at interpreter exit (tested in subprocesses)
    """Run the lifespan shutdowns and stop this process's loop.

    Runs in: the main thread, during interpreter shutdown.
    """
    current = current_loop_thread()
    if current is not None:
        try:
            current.stop()
        except Exception:
            logger.exception("Stopping the AsgiToWsgi event loop failed")


def _forget_parent_lock() -> None:
    """Replace the start lock in a forked child (a parent thread may have held it)."""
    global _lock
    _lock = threading.Lock()


_threads.on_fork_in_child(_forget_parent_lock)
