"""Thread-sensitive routing: the rules of ``docs/where-code-runs.rst``, and D18."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

ident = sync_to_async(threading.get_ident)


def test_A1_thread_sensitive_work_returns_to_the_bridge_thread_at_every_depth() -> None:
    seen: list[int] = []

    async def level(depth: int) -> None:
        seen.append(await ident())
        if depth:
            await sync_to_async(lambda: async_to_sync(level)(depth - 1))()

    async_to_sync(level)(4)
    assert set(seen) == {threading.get_ident()}


def test_A1_tasks_created_under_a_bridge_use_its_thread() -> None:
    async def outer() -> tuple[int, int]:
        task = asyncio.ensure_future(ident())
        return await ident(), await task

    assert async_to_sync(outer)() == (threading.get_ident(), threading.get_ident())


def test_A1_returned_bridge_falls_back_to_the_enclosing_blocked_bridge() -> None:
    """A task outliving an inner bridge runs under the outer bridge on the same thread."""
    spawned: list[asyncio.Task[int]] = []
    go: list[asyncio.Event] = []

    async def inner() -> None:
        go.append(asyncio.Event())

        async def outliving() -> int:
            await go[0].wait()
            return await ident()

        spawned.append(asyncio.ensure_future(outliving()))

    def middle() -> None:
        async_to_sync(inner)()  # returns at once; its task lives on

    async def outer() -> int:
        await sync_to_async(middle)()
        go[0].set()
        return await spawned[0]

    assert async_to_sync(outer)() == threading.get_ident()


@pytest.mark.asyncio
async def test_D18_task_outliving_bridge_falls_through() -> None:
    spawned: list[asyncio.Task[int]] = []
    go = asyncio.Event()

    async def inner() -> None:
        async def outliving() -> int:
            await go.wait()
            return await ident()

        spawned.append(asyncio.ensure_future(outliving()))

    def middle() -> int:
        async_to_sync(inner)()
        return threading.get_ident()

    async with ThreadSensitiveContext():
        middle_thread = await sync_to_async(middle)()
        go.set()
        # No bridge on that thread is blocked any more: [ts-scope] applies.
        assert await spawned[0] == middle_thread


@pytest.mark.asyncio
async def test_D18_task_outliving_bridge_without_context_uses_sync_thread() -> None:
    spawned: list[asyncio.Task[int]] = []
    go = asyncio.Event()

    async def inner() -> None:
        async def outliving() -> int:
            await go.wait()
            return await ident()

        spawned.append(asyncio.ensure_future(outliving()))

    await sync_to_async(lambda: async_to_sync(inner)())()
    go.set()
    assert await spawned[0] == await ident()


def test_A3_code_that_lost_its_context_runs_on_the_loop_owner_thread() -> None:
    async def outer() -> int:
        loop = asyncio.get_running_loop()
        task = loop.create_task(ident(), context=contextvars.Context())
        return await task

    assert async_to_sync(outer)() == threading.get_ident()


def test_A4_process_wide_thread_is_shared_by_loops_in_different_threads() -> None:
    results: list[int] = []

    def run_loop() -> None:
        results.append(asyncio.run(ident()))

    threads = [threading.Thread(target=run_loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    results.append(asyncio.run(ident()))
    assert len(set(results)) == 1
    assert results[0] != threading.get_ident()


@pytest.mark.asyncio
async def test_A2_context_inside_sync_to_async_inside_async_to_sync_chain() -> None:
    async def in_context() -> tuple[int, int]:
        async with ThreadSensitiveContext():
            first = await ident()
            second = await asyncio.ensure_future(ident())
            return first, second

    first, second = await in_context()
    assert first == second != await ident()
