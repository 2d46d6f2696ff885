"""Every thread the package starts (``asgiref._threads``): laziness, reuse, retirement,
bounds, shutdown, interpreter exit and fork."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import subprocess
import sys
import threading
import warnings

import pytest

from asgiref import _threads
from asgiref._threads import WSGI_MAX_WORKERS, WorkerPool
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from wsgi_support import WAIT

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


def test_importing_starts_no_thread_and_creates_no_loop() -> None:
    code = (
        "import asyncio, threading\n"
        "import asgiref.sync, asgiref.current_thread_executor\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert asyncio._get_running_loop() is None\n"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, timeout=60)


def test_orphaned_work_completes_before_the_interpreter_exits() -> None:
    code = (
        "import asyncio, threading\n"
        "from asgiref.sync import sync_to_async\n"
        "started, main_done = threading.Event(), threading.Event()\n"
        "def slow():\n"
        "    started.set()\n"
        "    assert main_done.wait(10)\n"
        "    print('finished', flush=True)\n"
        "async def main():\n"
        "    task = asyncio.ensure_future(sync_to_async(slow)())\n"
        "    await asyncio.to_thread(started.wait, 10)\n"
        "    task.cancel()\n"
        "asyncio.run(main())\n"
        "main_done.set()  # slow() is still running when the script ends\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, timeout=60, capture_output=True, text=True
    )
    assert result.stdout == "finished\n"


def test_threads_we_start_have_an_empty_context() -> None:
    VAR.set("caller")
    seen: list[int] = []
    done = threading.Event()
    worker = _threads.Worker("test-worker")
    worker.submit(lambda: seen.append(len(contextvars.copy_context())))
    worker.submit(done.set)
    worker.stop()
    assert done.wait(10)
    worker.thread.join(10)
    assert seen == [0]


def test_shutdown_stops_the_threads_and_later_calls_start_new_ones() -> None:
    async def sync_thread() -> threading.Thread:
        return await sync_to_async(threading.current_thread)()

    async def request() -> threading.Thread:
        async with ThreadSensitiveContext():
            return await sync_to_async(threading.current_thread)()

    old_sync = asyncio.run(sync_thread())
    old_pooled = asyncio.run(request())
    _threads.shutdown(timeout=10)
    assert not old_sync.is_alive()
    assert not old_pooled.is_alive()
    new_sync = asyncio.run(sync_thread())
    assert new_sync is not old_sync
    assert new_sync.is_alive()
    _threads.shutdown(timeout=10)
    _threads.shutdown(timeout=10)  # nothing left to stop


def test_shutdown_stops_the_idle_threads_of_the_wsgi_pool() -> None:
    ran = threading.Event()
    seen: list[threading.Thread] = []

    def job() -> None:
        seen.append(threading.current_thread())
        ran.set()

    old_pool = _threads.wsgi_pool()
    old_pool.run(job)
    assert ran.wait(WAIT)
    _threads.shutdown(timeout=10)
    assert not seen[0].is_alive()
    assert _threads.wsgi_pool() is not old_pool


def test_shutdown_from_a_package_thread_does_not_join_itself() -> None:
    async def shut_down_from_sync_thread() -> threading.Thread:
        def shut() -> threading.Thread:
            _threads.shutdown(timeout=10)
            return threading.current_thread()

        return await sync_to_async(shut)()

    stopped = asyncio.run(shut_down_from_sync_thread())
    assert asyncio.run(sync_to_async(threading.current_thread)()) is not stopped


def test_idle_pooled_workers_retire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "IDLE_TIMEOUT", 0.01)
    pool = _threads.WorkerPool("test-pool")
    worker = pool.acquire()
    pool.release(worker)
    worker.thread.join(10)
    assert not worker.thread.is_alive()
    assert pool.acquire() is not worker


def test_a_handed_out_worker_does_not_retire() -> None:
    pool = _threads.WorkerPool("test-pool")
    worker = pool.acquire()
    assert pool.retire(worker) is False
    worker.stop()
    worker.thread.join(10)


def test_pool_keeps_at_most_max_idle_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "MAX_IDLE", 1)
    pool = _threads.WorkerPool("test-pool")
    first, second = pool.acquire(), pool.acquire()
    pool.release(first)
    pool.release(second)  # the pool is full: this one stops
    second.thread.join(10)
    assert not second.thread.is_alive()
    assert pool.close() == [first]
    first.thread.join(10)
    assert not first.thread.is_alive()


def _child_uses_both_bridges() -> int:
    async def inner() -> int:
        return await sync_to_async(threading.get_ident)()

    async def outer() -> int:
        return await sync_to_async(threading.get_ident)()

    from_sync = async_to_sync(inner)()
    from_async = asyncio.run(outer())
    return 0 if from_sync == threading.get_ident() and from_async != from_sync else 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_after_fork_the_child_uses_fresh_threads_for_both_bridges() -> None:
    async def warm_up() -> None:
        await sync_to_async(threading.get_ident)()

    asyncio.run(warm_up())  # the parent has a process-wide sync thread now
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            code = _child_uses_both_bridges()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# -- bounded pools (the WSGI pool) ------------------------------------------------------


def test_the_wsgi_pool_is_shared_and_bounded() -> None:
    assert _threads.wsgi_pool() is _threads.wsgi_pool()
    assert _threads.wsgi_pool().max_workers == WSGI_MAX_WORKERS == 40


def test_pool_rejects_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WorkerPool("test-pool", max_workers=0)


def test_no_thread_starts_before_the_first_job() -> None:
    assert WorkerPool("test-pool", max_workers=3).threads == 0


def test_jobs_beyond_max_workers_wait_and_run_in_order() -> None:
    pool = WorkerPool("test-pool", max_workers=1)
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
        pool.run(functools.partial(job, n))
    assert pool.threads == 1
    gate.set()
    assert done.wait(WAIT)
    assert order == [0, 1, 2, 3]
    assert len(threads) == 1


def test_an_idle_thread_is_reused_and_retires_after_the_idle_timeout() -> None:
    pool = WorkerPool("test-pool", max_workers=2, idle_timeout=0.05)
    idents: list[int] = []
    ran = threading.Event()

    def job() -> None:
        idents.append(threading.get_ident())
        ran.set()

    pool.run(job)
    assert ran.wait(WAIT)
    worker = next(t for t in threading.enumerate() if t.ident == idents[0])
    worker.join(WAIT)
    assert not worker.is_alive()
    assert pool.threads == 0


def test_a_worker_picked_as_its_idle_wait_times_out_does_not_retire() -> None:
    pool = WorkerPool("test-pool", max_workers=1, idle_timeout=WAIT)
    ran = threading.Event()
    pool.run(lambda: None)
    while not pool._idle:  # the worker goes idle after its job
        threading.Event().wait(0.001)
    worker = pool._idle[0]
    pool.run(ran.set)  # picks the idle worker just as its wait would time out
    assert pool.retire(worker) is False
    assert ran.wait(WAIT)
    assert pool.threads == 1


def test_a_forked_child_forgets_the_pools_threads_and_backlog() -> None:
    pool = WorkerPool("test-pool", max_workers=1)
    gate = threading.Event()
    pool.run(lambda: gate.wait(WAIT))
    pool.run(lambda: None)
    pool._forget_threads()  # what the fork hook does to every pool in the child
    assert pool.threads == 0
    assert not pool._backlog
    gate.set()


def test_the_process_pools_are_created_once_when_two_threads_race() -> None:
    process = _threads._Process(0)
    winner = WorkerPool("test-pool", max_workers=1)

    class RacingLock:
        """Another thread creates the pool just before we get the lock."""

        def __enter__(self) -> None:
            process._wsgi_pool = winner

        def __exit__(self, *exc: object) -> None:
            pass

    process._lock = RacingLock()  # type: ignore[assignment]  # test double for the lock
    assert process.wsgi_pool() is winner
