"""Default ``Local`` values across ``sync_to_async`` and ``async_to_sync`` (``docs/local.rst``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

import pytest

from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async


@pytest.mark.asyncio
@pytest.mark.parametrize("thread_sensitive", [True, False])
async def test_sync_to_async_sees_the_value_and_its_writes_flow_back(
    thread_sensitive: bool,
) -> None:
    local = Local()
    local.x = "task"
    local.gone = "task"

    def sync_code() -> tuple[Any, int]:
        seen = local.x
        local.x = "worker"
        local.new = "worker"
        del local.gone
        return seen, threading.get_ident()

    seen, worker = await sync_to_async(sync_code, thread_sensitive=thread_sensitive)()
    assert worker != threading.get_ident()
    assert seen == "task"
    assert local.x == "worker"
    assert local.new == "worker"
    assert not hasattr(local, "gone")


@pytest.mark.asyncio
async def test_sync_to_async_write_back_happens_also_when_the_function_raises() -> None:
    local = Local()

    def failing() -> None:
        local.x = "before the error"
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await sync_to_async(failing)()
    assert local.x == "before the error"


def test_async_to_sync_sees_the_value_and_its_writes_flow_back() -> None:
    local = Local()
    local.x = "sync"
    local.gone = "sync"

    async def async_code() -> Any:
        seen = local.x
        local.x = "coroutine"
        local.new = "coroutine"
        del local.gone
        return seen

    assert async_to_sync(async_code)() == "sync"
    assert local.x == "coroutine"
    assert local.new == "coroutine"
    assert not hasattr(local, "gone")


def test_async_to_sync_in_a_plain_thread_starts_from_that_threads_values() -> None:
    local = Local()
    local.x = "main"

    def thread_code() -> tuple[bool, Any]:
        async def async_code() -> bool:
            return hasattr(local, "x")

        seen_in_coroutine = async_to_sync(async_code)()
        local.x = "thread"
        return seen_in_coroutine, async_to_sync(_read_x(local))()

    results: list[tuple[bool, Any]] = []
    thread = threading.Thread(target=lambda: results.append(thread_code()))
    thread.start()
    thread.join()
    assert results == [(False, "thread")]
    assert local.x == "main"


def _read_x(local: Local) -> Any:
    async def read() -> Any:
        return local.x

    return read


@pytest.mark.asyncio
async def test_round_trip_to_the_parent_loop_carries_values_both_ways() -> None:
    local = Local()
    local.x = "outer task"
    loop_thread = threading.get_ident()

    async def inner() -> tuple[Any, int]:
        seen = local.x
        local.x = "inner coroutine"
        return seen, threading.get_ident()

    def middle() -> tuple[Any, int, Any]:
        seen = local.x
        local.x = "middle"
        inner_seen, inner_thread = async_to_sync(inner)()
        return seen, inner_thread, (inner_seen, local.x)

    seen, inner_thread, (inner_seen, after) = await sync_to_async(middle)()
    assert inner_thread == loop_thread
    assert (seen, inner_seen, after) == ("outer task", "middle", "inner coroutine")
    assert local.x == "inner coroutine"


@pytest.mark.asyncio
async def test_values_cross_many_nested_layers_in_both_directions() -> None:
    local = Local()
    depth = 8
    local.trail = ()

    async def async_layer(level: int) -> None:
        local.trail = (*local.trail, f"a{level}")
        if level < depth:
            await sync_to_async(sync_layer)(level + 1)
            local.trail = (*local.trail, f"a{level} back")

    def sync_layer(level: int) -> None:
        local.trail = (*local.trail, f"s{level}")
        if level < depth:
            async_to_sync(async_layer)(level + 1)
            local.trail = (*local.trail, f"s{level} back")

    await async_layer(0)
    down = [f"{'a' if i % 2 == 0 else 's'}{i}" for i in range(depth + 1)]
    back = [f"{'a' if i % 2 == 0 else 's'}{i} back" for i in reversed(range(depth))]
    assert list(local.trail) == down + back


@pytest.mark.asyncio
async def test_deletion_flows_back_through_nested_layers() -> None:
    local = Local()
    local.x = "outer"

    async def innermost() -> None:
        del local.x

    def middle() -> None:
        async_to_sync(innermost)()

    await sync_to_async(middle)()
    assert not hasattr(local, "x")


@pytest.mark.asyncio
async def test_a_worker_threads_value_is_not_seen_by_another_tasks_later_call() -> None:
    local = Local()

    def write() -> int:
        local.x = "task a"
        return threading.get_ident()

    def read() -> tuple[bool, int]:
        return hasattr(local, "x"), threading.get_ident()

    async def task_a() -> int:
        return await sync_to_async(write)()

    async def task_b() -> tuple[bool, int]:
        return await sync_to_async(read)()

    thread_a = await asyncio.create_task(task_a())
    seen, thread_b = await asyncio.create_task(task_b())
    assert thread_a == thread_b  # both on the process-wide sync thread
    assert seen is False
    assert not hasattr(local, "x")


@pytest.mark.asyncio
async def test_values_written_back_stay_invisible_to_foreign_work_on_the_worker_thread() -> None:
    """A value written by a worker and handed back does not reappear on that worker later."""
    local = Local()
    loop = asyncio.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:

        def write() -> int:
            local.x = "from worker"
            return threading.get_ident()

        def foreign_read() -> tuple[bool, int]:
            return hasattr(local, "x"), threading.get_ident()

        writer = await sync_to_async(write, thread_sensitive=False, executor=pool)()
        assert local.x == "from worker"
        seen, reader = await loop.run_in_executor(pool, foreign_read)
        assert reader == writer
        assert seen is False


@pytest.mark.asyncio
async def test_concurrent_tasks_keep_their_own_values_across_sync_to_async() -> None:
    local = Local()

    async def task(index: int) -> list[Any]:
        local.value = index

        def sync_code() -> Any:
            seen = local.value
            local.value = (index, "sync")
            return seen

        results = []
        for _ in range(5):
            results.append(await sync_to_async(sync_code, thread_sensitive=False)())
            results.append(local.value)
            local.value = index
        return results

    outcomes = await asyncio.gather(*(task(i) for i in range(20)))
    for index, results in enumerate(outcomes):
        assert results == [index, (index, "sync")] * 5


def test_D38_values_stay_hidden_in_a_bridge_started_on_a_foreign_thread() -> None:
    # The program of issue R2: asgiref 3.13.0 prints ('-', 1, 1), the value hidden
    # from the ``to_thread`` worker re-appearing inside a bridge that worker starts.
    local = Local()

    async def set_x() -> None:
        local.x = 1

    async_to_sync(set_x)()

    async def outer() -> tuple[Any, Any, Any]:
        def in_thread() -> tuple[Any, Any, Any]:
            async def peek() -> Any:
                return getattr(local, "x", "-")

            return getattr(local, "x", "-"), async_to_sync(peek)(), getattr(local, "x", "-")

        return await asyncio.to_thread(in_thread)

    assert async_to_sync(outer)() == ("-", "-", "-")
    assert local.x == 1  # still the writer's, on the writer's thread
