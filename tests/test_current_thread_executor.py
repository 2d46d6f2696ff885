"""``asgiref.current_thread_executor.CurrentThreadExecutor`` (its docs page)."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

import pytest

from asgiref.current_thread_executor import CurrentThreadExecutor


def _in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a helper thread and return its result (or raise its error)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result(10)


def test_runs_items_in_fifo_order_on_the_creating_thread() -> None:
    executor = CurrentThreadExecutor(None)
    done: concurrent.futures.Future[None] = concurrent.futures.Future()
    seen: list[tuple[int, int]] = []

    def producer() -> list[concurrent.futures.Future[None]]:
        futures = [
            executor.submit(lambda i=i: seen.append((i, threading.get_ident()))) for i in range(5)
        ]
        done.set_result(None)
        return futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        produced = pool.submit(producer)
        executor.run_until_future(done)
        futures = produced.result(10)
    assert [i for i, _ in seen] == list(range(5))
    assert {ident for _, ident in seen} == {threading.get_ident()}
    assert all(f.done() for f in futures)


def test_run_until_future_from_another_thread_is_rejected() -> None:
    executor = CurrentThreadExecutor(None)
    future: concurrent.futures.Future[None] = concurrent.futures.Future()
    with pytest.raises(
        RuntimeError, match=r"^You cannot run CurrentThreadExecutor from a different thread; "
    ):
        _in_thread(lambda: executor.run_until_future(future))


def test_submit_from_its_own_thread_is_rejected() -> None:
    executor = CurrentThreadExecutor(None)
    with pytest.raises(
        RuntimeError, match=r"^You cannot submit onto CurrentThreadExecutor from its own thread; "
    ):
        executor.submit(lambda: None)


def test_finished_executor_forwards_to_old_executor_then_raises() -> None:
    outer = CurrentThreadExecutor(None)
    inner = CurrentThreadExecutor(outer)
    finished: concurrent.futures.Future[None] = concurrent.futures.Future()
    finished.set_result(None)
    inner.run_until_future(finished)  # inner is finished now

    forwarded = _in_thread(lambda: inner.submit(threading.get_ident))
    outer_done: concurrent.futures.Future[None] = concurrent.futures.Future()
    forwarded.add_done_callback(lambda _: outer_done.set_result(None))
    outer.run_until_future(outer_done)
    assert forwarded.result() == threading.get_ident()

    with pytest.raises(RuntimeError, match=r"^CurrentThreadExecutor already quit or is broken; "):
        _in_thread(lambda: inner.submit(lambda: None))


def test_cancelled_items_are_skipped_and_base_exceptions_are_captured() -> None:
    executor = CurrentThreadExecutor(None)
    done: concurrent.futures.Future[None] = concurrent.futures.Future()
    ran: list[str] = []

    def interrupt() -> None:
        raise KeyboardInterrupt

    def producer() -> tuple[concurrent.futures.Future[None], concurrent.futures.Future[None]]:
        skipped = executor.submit(ran.append, "skipped")
        skipped.cancel()
        failing = executor.submit(interrupt)
        executor.submit(ran.append, "ran")
        done.set_result(None)
        return skipped, failing

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        produced = pool.submit(producer)
        executor.run_until_future(done)
        skipped, failing = produced.result(10)
    assert ran == ["ran"]
    assert skipped.cancelled()
    assert isinstance(failing.exception(), KeyboardInterrupt)


def test_shutdown_is_a_no_op_and_map_uses_submit() -> None:
    executor = CurrentThreadExecutor(None)
    executor.shutdown()
    done: concurrent.futures.Future[None] = concurrent.futures.Future()
    results: list[list[int]] = []

    def producer() -> None:
        mapped = executor.map(lambda x: x * 2, [1, 2, 3])
        done.set_result(None)
        results.append(list(mapped))

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        produced = pool.submit(producer)
        executor.run_until_future(done)
        # map() results are collected by the producer after the items ran here.
        produced.result(10)
    assert results == [[2, 4, 6]]


def test_items_queued_after_the_future_finished_still_run_before_returning() -> None:
    executor = CurrentThreadExecutor(None)
    done: concurrent.futures.Future[None] = concurrent.futures.Future()
    ran: list[str] = []
    late: list[concurrent.futures.Future[None]] = []

    def first() -> None:
        ran.append("first")
        done.set_result(None)  # the executor is told it may finish...
        # ...but an item submitted before it did is still run.
        late.append(_in_thread(lambda: executor.submit(ran.append, "late")))

    _in_thread(lambda: executor.submit(first))
    executor.run_until_future(done)
    assert ran == ["first", "late"]
    assert late[0].done()
