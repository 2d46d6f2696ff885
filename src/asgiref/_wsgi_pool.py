"""A bounded pool of worker threads that run whole WSGI requests.

Each job is one request: the application call, iteration, ``write()``,
``wsgi.input`` reads and ``close()`` all run inside it, on one thread.

Guarantees:

* at most ``max_workers`` threads exist per pool; further jobs wait in FIFO order;
* an idle thread is reused (most recently idle first) and exits after
  ``idle_timeout`` seconds without work, so an idle process keeps no threads;
* threads start lazily (never at import or construction), run with a fresh empty
  :mod:`contextvars` context, and are daemon threads named ``asgiref-wsgi-<n>``;
* after ``os.fork()`` the child forgets the parent's threads and queue.

This code assumes: jobs never raise (the request runner catches everything); a job
that does raise is logged and the thread carries on.
"""

from __future__ import annotations

import _thread
import contextvars
import itertools
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Final

__all__ = ["DEFAULT_MAX_WORKERS", "IDLE_TIMEOUT", "WorkerPool", "default_pool"]

#: Threads per pool unless ``WsgiToAsgi(max_workers=...)`` says otherwise.
DEFAULT_MAX_WORKERS: Final = 40
#: Seconds an idle worker thread waits for a new request before it exits.
IDLE_TIMEOUT: Final = 10.0

logger = logging.getLogger("asgiref.wsgi")
_names = itertools.count(1)
_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()

Job = Callable[[], object]


class _Worker:
    """One thread's mailbox: ``wake`` is released when ``job`` has been set."""

    __slots__ = ("job", "wake")

    def __init__(self) -> None:
        self.job: Job | None = None
        self.wake = _thread.allocate_lock()
        self.wake.acquire()


class WorkerPool:
    """A bounded, lazily started, self-shrinking set of worker threads.

    Args:
        max_workers: Most threads alive at once (at least 1).
        idle_timeout: Seconds an idle thread lingers before it exits.

    Raises:
        ValueError: ``max_workers`` is smaller than 1.
    """

    def __init__(
        self, max_workers: int = DEFAULT_MAX_WORKERS, idle_timeout: float = IDLE_TIMEOUT
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers!r}")
        self.max_workers = max_workers
        self.idle_timeout = idle_timeout
        self._reset()
        _pools.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []  # guarded by _lock; waiting for a job, LIFO
        self._backlog: deque[Job] = deque()  # guarded by _lock; jobs waiting for a thread
        self._threads = 0  # guarded by _lock; threads alive

    @property
    def threads(self) -> int:
        """Number of worker threads currently alive (busy or idle)."""
        with self._lock:
            return self._threads

    def submit(self, job: Job) -> None:
        """Run ``job`` on a pool thread as soon as one is free.

        Runs in: any thread; never blocks on a busy pool.
        """
        with self._lock:
            if self._idle:
                worker = self._idle.pop()
                worker.job = job
                worker.wake.release()
                return
            if self._threads >= self.max_workers:
                self._backlog.append(job)
                return
            self._threads += 1
        thread = threading.Thread(
            target=contextvars.Context().run,
            args=(self._thread_main, _Worker(), job),
            name=f"asgiref-wsgi-{next(_names)}",
            daemon=True,
        )
        thread.start()

    def _thread_main(self, worker: _Worker, job: Job | None) -> None:
        """Run jobs until idle for ``idle_timeout`` seconds.  Runs in: a pool thread."""
        while job is not None:
            try:
                job()
            except BaseException:  # pragma: no cover - jobs catch everything themselves
                logger.exception("Unexpected error in a WSGI worker thread")
            job = self._next_job(worker)

    def _next_job(self, worker: _Worker) -> Job | None:
        """Wait for the next job; ``None`` means this thread should exit.

        Runs in: a pool thread, between jobs.
        """
        with self._lock:
            if self._backlog:
                return self._backlog.popleft()
            self._idle.append(worker)
        if not worker.wake.acquire(timeout=self.idle_timeout):
            with self._lock:
                if worker in self._idle:
                    self._idle.remove(worker)
                    self._threads -= 1
                    return None
            # A submitter picked this worker just as the wait timed out.
            worker.wake.acquire()
        job, worker.job = worker.job, None
        return job


_default: WorkerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """Return the process-wide pool shared by adapters without ``max_workers``."""
    global _default
    pool = _default
    if pool is None:
        with _default_lock:
            if _default is None:
                _default = WorkerPool()
            pool = _default
    return pool


def _after_fork_in_child() -> None:
    for pool in list(_pools):
        pool._reset()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX only; no fork elsewhere
    os.register_at_fork(after_in_child=_after_fork_in_child)
