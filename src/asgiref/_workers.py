"""The threads this package starts: single-thread workers, the idle pool, the sync thread.

* A :class:`Worker` is one daemon thread running jobs from a ``SimpleQueue`` one at a
  time, in FIFO order.  Threads start with a fresh, empty ``contextvars.Context``.
* :class:`WorkerPool` keeps up to ``MAX_IDLE`` idle workers for reuse (plain
  ``ThreadSensitiveContext`` threads and the loop runners of ``async_to_sync``); an
  idle worker retires after ``IDLE_TIMEOUT`` seconds without work.
* The *process-wide sync thread* is one worker shared by every event loop.

Process-wide singletons live on one :class:`_Process` object, created lazily on first
use, replaced after ``os.fork()`` in the child (nothing from the parent is reused) and
stopped by :func:`shutdown`.  Threads are daemon threads; at interpreter exit every
worker finishes the jobs already queued (as ``concurrent.futures`` workers do) and ends.
Importing this module starts no thread.
"""

from __future__ import annotations

import contextvars
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, Final

__all__ = [
    "IDLE_TIMEOUT",
    "MAX_IDLE",
    "Worker",
    "WorkerPool",
    "generation",
    "pool",
    "shutdown",
    "sync_worker",
]

#: Seconds an idle pooled worker waits for new work before its thread ends.
IDLE_TIMEOUT: Final = 10.0
#: Most idle workers kept for reuse; more are stopped when released.
MAX_IDLE: Final = 8

Job = Callable[[], object]


def _stop() -> None:
    """Sentinel job that ends a worker's thread (never called)."""


_live_lock = threading.Lock()
_live: set[Worker] = set()  # guarded by _live_lock: workers whose thread has not ended
_exit_hook_registered = False  # guarded by _live_lock


def _track(worker: Worker, alive: bool) -> None:
    """Record that ``worker``'s thread started or ended.  Runs in: any thread."""
    global _exit_hook_registered
    with _live_lock:
        if alive:
            _live.add(worker)
        else:
            _live.discard(worker)
        if not _exit_hook_registered:
            _exit_hook_registered = True
            register = getattr(threading, "_register_atexit", None)
            if register is not None:  # pragma: no branch - present on every CPython 3.9+
                register(_at_interpreter_exit)


def _at_interpreter_exit() -> None:  # pragma: no cover - tested in a subprocess
    """Let every worker finish the jobs queued so far, then end it.

    Our threads are daemon threads so that an idle one never delays the exit; like
    ``concurrent.futures`` workers, work already running or queued still completes.

    Runs in: the main thread, during interpreter shutdown (before non-daemon threads
    are joined).
    """
    with _live_lock:
        workers = list(_live)
    for worker in workers:
        worker.stop()
    for worker in workers:
        if not worker.is_current():
            worker.thread.join()


def _start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """Start a daemon thread running ``target`` in a fresh, empty context."""
    kwargs: dict[str, Any] = {}
    if sys.version_info >= (3, 14):  # pragma: no cover - threads start empty before 3.14
        kwargs["context"] = contextvars.Context()
    thread = threading.Thread(target=target, name=name, daemon=True, **kwargs)
    thread.start()
    return thread


class Worker:
    """One thread that runs submitted jobs in order.

    Jobs must not raise (the bridges' jobs catch everything themselves).

    Args:
        name: The thread name.
        pool: The pool the worker returns to, or ``None`` for a dedicated worker.
    """

    __slots__ = ("_pool", "_queue", "generation", "ident", "thread")

    def __init__(self, name: str, pool: WorkerPool | None = None) -> None:
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._pool = pool
        self.generation = generation()
        self.thread = _start_thread(self._main, name)
        ident = self.thread.ident
        assert ident is not None  # set before Thread.start() returns
        self.ident: int = ident
        _track(self, alive=True)  # only once the thread exists (its end untracks it)

    def submit(self, job: Job) -> None:
        """Queue ``job``.  Runs in: any thread."""
        self._queue.put(job)

    def stop(self) -> None:
        """Ask the thread to end after the jobs queued so far.  Runs in: any thread."""
        self._queue.put(_stop)

    def is_current(self) -> bool:
        """Return whether the calling thread is this worker's thread."""
        return threading.get_ident() == self.ident

    def _main(self) -> None:
        """Runs in: the worker's own thread."""
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        try:
            self._serve()
        finally:
            _track(self, alive=False)

    def _serve(self) -> None:
        """Run jobs until told to stop (or retired from the pool when idle)."""
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        get = self._queue.get
        pool = self._pool
        while True:
            if pool is None:
                job = get()
            else:
                try:
                    job = get(timeout=IDLE_TIMEOUT)
                except queue.Empty:
                    if pool.retire(self):
                        return
                    continue
            if job is _stop:
                return
            job()


class WorkerPool:
    """Idle workers kept for reuse, at most :data:`MAX_IDLE`.

    Thread rules: ``_idle`` is guarded by ``_lock``.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._idle: list[Worker] = []  # guarded by _lock
        self._closed = False  # guarded by _lock

    def acquire(self) -> Worker:
        """Return an idle worker, or start a new one.  Runs in: any thread."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return Worker(self._name, self)

    def release(self, worker: Worker) -> None:
        """Give ``worker`` back for reuse, or stop it if the pool is full or closed.

        Runs in: any thread, usually the worker itself at the end of its last job.
        """
        with self._lock:
            if not self._closed and len(self._idle) < MAX_IDLE:
                self._idle.append(worker)
                return
        worker.stop()

    def retire(self, worker: Worker) -> bool:
        """Remove ``worker`` if it is idle; ``False`` means it was handed out meanwhile.

        Runs in: the worker's own thread, after it waited ``IDLE_TIMEOUT`` seconds.
        """
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                return True
            return False

    def close(self) -> list[Worker]:
        """Stop every idle worker; later releases stop their worker.  Returns them."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()
        return idle


class _Process:
    """The singletons of one process (replaced in a forked child).

    Thread rules: ``_sync_worker`` is guarded by ``_lock``.
    """

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.pool = WorkerPool("asgiref-worker")
        self._lock = threading.Lock()
        self._sync_worker: Worker | None = None  # guarded by _lock

    def sync_worker(self) -> Worker:
        """Return the process-wide sync thread's worker, starting it on first use."""
        worker = self._sync_worker
        if worker is not None:
            return worker
        with self._lock:
            if self._sync_worker is None:  # pragma: no branch - lost a start-up race
                self._sync_worker = Worker("asgiref-sync-thread")
            return self._sync_worker

    def shutdown(self) -> list[Worker]:
        """Stop the sync thread and the idle workers; return the stopped workers."""
        with self._lock:
            worker, self._sync_worker = self._sync_worker, None
        stopped = self.pool.close()
        if worker is not None:
            worker.stop()
            stopped.append(worker)
        return stopped


_process = _Process(0)


def generation() -> int:
    """Return the fork generation: it changes in a child after ``os.fork()``."""
    return _process.generation


def pool() -> WorkerPool:
    """Return this process's pool of idle workers."""
    return _process.pool


def sync_worker() -> Worker:
    """Return the process-wide sync thread, starting it lazily."""
    return _process.sync_worker()


def shutdown(timeout: float | None = None) -> None:
    """Stop the process-wide sync thread and every idle pooled thread.

    Work already queued still runs first.  Later calls start fresh threads.

    Args:
        timeout: Seconds to wait for each stopped thread, ``None`` to wait forever.
    """
    global _process
    old, _process = _process, _Process(_process.generation)
    for worker in old.shutdown():
        if not worker.is_current():
            worker.thread.join(timeout)


def _after_fork_in_child() -> None:  # pragma: no cover - runs in forked children only
    """Forget the parent's threads: the child starts new ones on demand."""
    global _process, _live_lock
    _process = _Process(_process.generation + 1)
    _live_lock = threading.Lock()  # it may have been held by a thread that is gone
    _live.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
