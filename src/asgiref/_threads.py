"""Every thread this package starts: workers, pools, fork and interpreter-exit rules.

* A :class:`Worker` is one daemon thread running jobs from a ``SimpleQueue`` one at a
  time, in FIFO order.  Threads start with a fresh, empty ``contextvars.Context``.
* A :class:`WorkerPool` keeps idle workers for reuse; an idle worker retires after
  ``IDLE_TIMEOUT`` seconds without work.  It is used in two ways:

  - *borrowing* (:meth:`~WorkerPool.acquire` / :meth:`~WorkerPool.release`): a
    ``ThreadSensitiveContext`` keeps one worker for a whole request, an
    ``async_to_sync`` loop runner for one call (the process's *loop-runner pool*:
    unbounded, at most ``MAX_IDLE`` idle workers kept);
  - *running* (:meth:`~WorkerPool.run`): one job on any pool thread, the thread going
    back to the pool afterwards.  A pool built with ``max_workers`` (the WSGI pool)
    keeps at most that many threads alive; further jobs wait in FIFO order.

* The *process-wide sync thread* is one dedicated worker shared by every event loop.

Process-wide singletons live on one :class:`_Process` object, created lazily, replaced
in the child after ``os.fork()`` and stopped by :func:`shutdown`.

Fork: this module registers the package's only ``os.register_at_fork`` hook (where the
platform has one).  In the child it increments the *generation* (:func:`generation`),
replaces the singletons, forgets the threads of every pool (their threads do not
exist in the child) and runs the callbacks registered with :func:`on_fork_in_child`.
Objects that must not be used across a fork record the generation they were made in
and compare it with :func:`generation`.  Without ``fork`` (Windows) nothing is
registered and the generation stays 0.

Interpreter exit: our threads are daemon threads, so an idle one never delays the
exit; like ``concurrent.futures`` workers, every worker first finishes the job it is
running and the jobs already queued on it.

Importing this module starts no thread.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import queue
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, Final

__all__ = [
    "IDLE_TIMEOUT",
    "MAX_IDLE",
    "WSGI_MAX_WORKERS",
    "Job",
    "Worker",
    "WorkerPool",
    "before_interpreter_exit",
    "generation",
    "loop_runners",
    "on_fork_in_child",
    "shutdown",
    "start_thread",
    "sync_worker",
    "wsgi_pool",
]

#: Seconds an idle pooled worker waits for new work before its thread ends.
IDLE_TIMEOUT: Final = 10.0
#: Most idle workers the loop-runner pool keeps for reuse; more are stopped.
MAX_IDLE: Final = 8
#: Threads of the process-wide WSGI pool (``WsgiToAsgi`` without ``max_workers``).
WSGI_MAX_WORKERS: Final = 40

Job = Callable[[], object]


def _stop() -> None:
    """Sentinel job that ends a worker's thread (never called)."""


# -- interpreter exit -------------------------------------------------------------------

_live_lock = threading.Lock()
_live: set[Worker] = set()  # guarded by _live_lock: workers whose thread has not ended
_exit_hook_registered = False  # guarded by _live_lock
_exit_callbacks: list[Callable[[], None]] = []  # guarded by _live_lock


def _register_exit_hook() -> None:
    """Register :func:`_at_interpreter_exit` once.  The caller holds ``_live_lock``."""
    global _exit_hook_registered
    if not _exit_hook_registered:
        _exit_hook_registered = True
        register = getattr(threading, "_register_atexit", None)
        if register is not None:  # pragma: no branch - present on every CPython 3.9+
            register(_at_interpreter_exit)


def _track(worker: Worker, alive: bool) -> None:
    """Record that ``worker``'s thread started or ended.  Runs in: any thread."""
    with _live_lock:
        if alive:
            _live.add(worker)
        else:
            _live.discard(worker)
        _register_exit_hook()


def before_interpreter_exit(callback: Callable[[], None]) -> None:
    """Run ``callback`` at interpreter exit, before any worker of the package is stopped.

    Code that still needs the package's threads at exit (``AsgiToWsgi`` runs the
    application's lifespan shutdown, which may call ``sync_to_async``) registers here.
    The callback must not raise; it also runs in a forked child, so it checks
    :func:`generation` itself.

    Runs in: any thread.
    """
    with _live_lock:
        _exit_callbacks.append(callback)
        _register_exit_hook()


def _at_interpreter_exit() -> None:  # pragma: no cover - tested in a subprocess
    """Run the exit callbacks, then let every worker finish its queued jobs and end it.

    Runs in: the main thread, during interpreter shutdown (before non-daemon threads
    are joined).
    """
    with _live_lock:
        callbacks = list(_exit_callbacks)
    for callback in callbacks:
        callback()
    with _live_lock:
        workers = list(_live)
    for worker in workers:
        worker.stop()
    for worker in workers:
        if not worker.is_current():
            worker.thread.join()


# -- workers ----------------------------------------------------------------------------


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """Start a daemon thread running ``target`` in a fresh, empty context.

    Runs in: any thread.
    """
    kwargs: dict[str, Any] = {}
    if sys.version_info >= (3, 14):  # pragma: no cover - threads start empty before 3.14
        kwargs["context"] = contextvars.Context()
    thread = threading.Thread(target=target, name=name, daemon=True, **kwargs)
    thread.start()
    return thread


class Worker:
    """One thread that runs submitted jobs in order.

    Jobs must not raise (every job of this package catches everything itself).

    Args:
        name: The thread name.
        pool: The pool the worker belongs to (its idle waits time out and it may
            retire), or ``None`` for a dedicated worker that waits forever.
    """

    __slots__ = ("_pool", "_queue", "generation", "ident", "thread")

    def __init__(self, name: str, pool: WorkerPool | None = None) -> None:
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._pool = pool
        self.generation = generation()
        self.thread = start_thread(self._main, name)
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
        __traceback_hide__ = True  # see docs/where-code-runs.rst, "Tracebacks"
        try:
            self._serve()
        finally:
            _track(self, alive=False)

    def _serve(self) -> None:
        """Run jobs until told to stop (or retired from the pool when idle)."""
        __traceback_hide__ = True
        get = self._queue.get
        pool = self._pool
        while True:
            if pool is None:
                job = get()
            else:
                try:
                    job = get(timeout=pool.idle_timeout or IDLE_TIMEOUT)
                except queue.Empty:
                    if pool.retire(self):
                        return
                    continue
            if job is _stop:
                return
            job()


# -- pools ------------------------------------------------------------------------------

_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()  # every pool, for the fork hook


class WorkerPool:
    """Workers kept for reuse, optionally bounded in number.

    Args:
        name: The name of every thread the pool starts (numbered when bounded).
        max_workers: Most threads alive at once, or ``None`` for no bound.  Only
            :meth:`run` may be used on a bounded pool.
        idle_timeout: Seconds an idle worker lingers before its thread ends;
            ``None`` reads :data:`IDLE_TIMEOUT` when it waits.

    Raises:
        ValueError: ``max_workers`` is smaller than 1.

    Thread rules: every attribute below ``_lock`` is guarded by it.
    """

    def __init__(
        self, name: str, *, max_workers: int | None = None, idle_timeout: float | None = None
    ) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers!r}")
        self._name = name
        self.max_workers = max_workers
        self.idle_timeout = idle_timeout
        self._names = itertools.count(1)
        self._forget_threads()
        _pools.add(self)

    def _forget_threads(self) -> None:
        """Start over with no thread (construction, and in a forked child)."""
        self._lock = threading.Lock()
        self._idle: list[Worker] = []  # guarded by _lock; waiting for work, LIFO
        self._backlog: deque[Job] = deque()  # guarded by _lock; jobs waiting for a thread
        self._alive = 0  # guarded by _lock; threads started and not ended
        self._closed = False  # guarded by _lock

    @property
    def threads(self) -> int:
        """Number of the pool's threads currently alive (busy or idle)."""
        with self._lock:
            return self._alive

    def _new_worker(self) -> Worker:
        """Start a worker.  The caller counted it in ``_alive`` already."""
        name = self._name if self.max_workers is None else f"{self._name}-{next(self._names)}"
        return Worker(name, self)

    def acquire(self) -> Worker:
        """Borrow a worker for any number of jobs: an idle one, or a new one.

        Runs in: any thread.  Only for pools without ``max_workers``.
        """
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self._alive += 1
        return self._new_worker()

    def release(self, worker: Worker) -> None:
        """Give ``worker`` back: keep it idle, or stop it.

        Runs in: any thread, usually the worker itself at the end of its last job.  Only
        for pools without ``max_workers`` (see :meth:`acquire`), which keep no backlog.
        """
        job = self._after_job(worker)
        assert job is None, "release() is for pools without max_workers (no backlog)"

    def _after_job(self, worker: Worker) -> Job | None:
        """Return a waiting job for ``worker``, or ``None`` once it is idle or stopping."""
        with self._lock:
            if self._backlog:
                return self._backlog.popleft()
            if not self._closed and len(self._idle) < self._max_idle():
                self._idle.append(worker)
                return None
            self._alive -= 1
        worker.stop()
        return None

    def run(self, job: Job) -> None:
        """Run ``job`` on a pool thread as soon as one is free; never blocks.

        Runs in: any thread.
        """
        with self._lock:
            if self._idle:
                worker: Worker | None = self._idle.pop()
            elif self.max_workers is None or self._alive < self.max_workers:
                self._alive += 1
                worker = None
            else:
                self._backlog.append(job)
                return
        self._run_on(worker or self._new_worker(), job)

    def _run_on(self, worker: Worker, job: Job) -> None:
        worker.submit(partial(self._run_jobs, worker, job))

    def _run_jobs(self, worker: Worker, job: Job | None) -> None:
        """Run ``job``, then the waiting jobs, then give ``worker`` back.

        One queued item per burst of work: the worker takes the backlog's jobs directly
        instead of queueing each one and a release behind it.

        Runs in: the worker's thread.
        """
        while job is not None:
            job()
            job = self._after_job(worker)

    def _max_idle(self) -> int:
        return MAX_IDLE if self.max_workers is None else self.max_workers

    def retire(self, worker: Worker) -> bool:
        """Remove ``worker`` if it is idle; ``False`` means it was handed out meanwhile.

        Runs in: the worker's own thread, after it waited the idle timeout.
        """
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                self._alive -= 1
                return True
            return False

    def close(self) -> list[Worker]:
        """Stop every idle worker; later releases stop their worker.  Returns them."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._alive -= len(idle)
        for worker in idle:
            worker.stop()
        return idle


# -- the process ------------------------------------------------------------------------


class _Process:
    """The singletons of one process (replaced in a forked child).

    Thread rules: ``_sync_worker`` and ``_wsgi_pool`` are guarded by ``_lock``.
    """

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.loop_runners = WorkerPool("asgiref-worker")
        self._lock = threading.Lock()
        self._sync_worker: Worker | None = None  # guarded by _lock
        self._wsgi_pool: WorkerPool | None = None  # guarded by _lock

    def sync_worker(self) -> Worker:
        """Return the process-wide sync thread's worker, starting it on first use."""
        worker = self._sync_worker
        if worker is not None:
            return worker
        with self._lock:
            if self._sync_worker is None:  # pragma: no branch - lost a start-up race
                self._sync_worker = Worker("asgiref-sync-thread")
            return self._sync_worker

    def wsgi_pool(self) -> WorkerPool:
        """Return the process-wide WSGI pool, creating it on first use."""
        pool = self._wsgi_pool
        if pool is not None:
            return pool
        with self._lock:
            if self._wsgi_pool is None:  # pragma: no branch - lost a creation race
                self._wsgi_pool = WorkerPool("asgiref-wsgi", max_workers=WSGI_MAX_WORKERS)
            return self._wsgi_pool

    def shutdown(self) -> list[Worker]:
        """Stop the sync thread and the idle workers; return the stopped workers."""
        with self._lock:
            worker, self._sync_worker = self._sync_worker, None
            wsgi, self._wsgi_pool = self._wsgi_pool, None
        stopped = self.loop_runners.close()
        if wsgi is not None:
            stopped += wsgi.close()
        if worker is not None:
            worker.stop()
            stopped.append(worker)
        return stopped


_process = _Process(0)


def generation() -> int:
    """Return the fork generation: it changes in a child after ``os.fork()``."""
    return _process.generation


def loop_runners() -> WorkerPool:
    """Return this process's pool of ``async_to_sync`` loop runners (and scope threads)."""
    return _process.loop_runners


def sync_worker() -> Worker:
    """Return the process-wide sync thread, starting it lazily."""
    return _process.sync_worker()


def wsgi_pool() -> WorkerPool:
    """Return the process-wide pool shared by ``WsgiToAsgi`` adapters without ``max_workers``."""
    return _process.wsgi_pool()


def shutdown(timeout: float | None = None) -> None:
    """Stop the process-wide sync thread and every idle thread of the process pools.

    Work already queued still runs first.  Later calls start fresh threads.

    Args:
        timeout: Seconds to wait for each stopped thread, ``None`` to wait forever.
    """
    global _process
    old, _process = _process, _Process(_process.generation)
    for worker in old.shutdown():
        if not worker.is_current():
            worker.thread.join(timeout)


# -- fork -------------------------------------------------------------------------------

_fork_callbacks: list[Callable[[], None]] = []  # appended to at import time only


def on_fork_in_child(callback: Callable[[], None]) -> None:
    """Run ``callback`` in the child after ``os.fork()``, after the package's own reset.

    Never called where the platform has no ``fork``.

    Runs in: the importing thread (modules register at import time).
    """
    _fork_callbacks.append(callback)


def _after_fork_in_child() -> None:
    """Forget the parent's threads: the child starts new ones on demand.

    Runs in: the child process, right after ``os.fork()`` (one thread).
    """
    global _process, _live_lock
    _process = _Process(_process.generation + 1)
    _live_lock = threading.Lock()  # it may have been held by a thread that is gone
    _live.clear()
    for pool in list(_pools):
        pool._forget_threads()
    for callback in _fork_callbacks:
        callback()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX only; no fork elsewhere
    os.register_at_fork(after_in_child=_after_fork_in_child)
