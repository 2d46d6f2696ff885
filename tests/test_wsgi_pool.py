"""The worker-thread pool behind ``asgiref.wsgi`` (``asgiref._wsgi_pool``)."""

from __future__ import annotations

import functools
import threading

import pytest

from asgiref import _wsgi_pool
from asgiref._wsgi_pool import DEFAULT_MAX_WORKERS, WorkerPool, default_pool
from wsgi_support import WAIT


def test_default_pool_is_shared_and_bounded() -> None:
    assert default_pool() is default_pool()
    assert default_pool().max_workers == DEFAULT_MAX_WORKERS == 40


def test_pool_rejects_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WorkerPool(0)


def test_no_thread_starts_before_the_first_job() -> None:
    assert WorkerPool(3).threads == 0


def test_jobs_beyond_max_workers_wait_and_run_in_order() -> None:
    pool = WorkerPool(1)
    gate = threading.Event()
    order: list[int] = []
    done = threading.Event()
    threads: set[int] = set()

    def job(n: int) -> None:
        threads.add(threading.get_ident())
        if n == 0:
            gate.wait(WAIT)
        order.append(n)
        if n == 3:
            done.set()

    for n in range(4):
        pool.submit(functools.partial(job, n))
    assert pool.threads == 1
    gate.set()
    assert done.wait(WAIT)
    assert order == [0, 1, 2, 3]
    assert len(threads) == 1


def test_an_idle_thread_is_reused_and_retires_after_the_idle_timeout() -> None:
    pool = WorkerPool(2, idle_timeout=0.05)
    idents: list[int] = []
    ran = threading.Event()

    def job() -> None:
        idents.append(threading.get_ident())
        ran.set()

    pool.submit(job)
    assert ran.wait(WAIT)
    worker = next(t for t in threading.enumerate() if t.ident == idents[0])
    worker.join(WAIT)
    assert not worker.is_alive()
    assert pool.threads == 0


def test_a_worker_picked_as_its_idle_wait_times_out_still_gets_the_job() -> None:
    pool = WorkerPool(1, idle_timeout=WAIT)
    worker = _wsgi_pool._Worker()

    def job() -> None:
        pass

    real_wake = worker.wake

    class TimesOutWhilePicked:
        """The timed wait fails just as a submitter assigns a job to this worker."""

        def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
            if timeout >= 0:
                pool.submit(job)  # pops the idle worker and releases its lock
                return False
            return real_wake.acquire()

        def release(self) -> None:
            real_wake.release()

    worker.wake = TimesOutWhilePicked()  # type: ignore[assignment]  # test double for the lock
    assert pool._next_job(worker) is job
    assert pool.threads == 0


def test_after_fork_the_child_forgets_threads_and_backlog() -> None:
    pool = WorkerPool(1)
    gate = threading.Event()
    pool.submit(lambda: gate.wait(WAIT))
    pool.submit(lambda: None)
    _wsgi_pool._after_fork_in_child()
    assert pool.threads == 0
    assert not pool._backlog
    gate.set()
