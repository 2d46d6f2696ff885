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


# -- [ts-bridge-own-thread] (issue 15, R1) ----------------------------------------------

OWN_THREAD = r"^You cannot submit onto CurrentThreadExecutor from its own thread; "


def test_ts_bridge_own_thread_asyncio_run_on_the_blocked_thread_raises() -> None:
    """The issue's program: asgiref 3.13.0 raises with the same leading text."""

    def inner() -> str:
        return threading.current_thread().name

    def f() -> str:  # thread-sensitive: runs on this thread, blocked in async_to_sync
        async def g() -> str:
            return await sync_to_async(inner)()

        return asyncio.run(g())

    async def top() -> str:
        return await sync_to_async(f)()

    with pytest.raises(RuntimeError, match=OWN_THREAD) as caught:
        async_to_sync(top)()
    message = str(caught.value)
    assert "use async_to_sync instead of asyncio.run" in message
    assert "sync_to_async(thread_sensitive=False)" in message


def test_ts_bridge_own_thread_raises_at_any_depth_and_the_advice_works() -> None:
    """Under a nested bridge too; ``async_to_sync`` instead of ``asyncio.run`` works."""
    here = threading.get_ident()

    def with_asyncio_run() -> int:
        return asyncio.run(ident())

    def with_async_to_sync() -> int:
        return async_to_sync(ident)()

    def middle() -> tuple[int, int]:
        async def nested() -> int:
            return await sync_to_async(with_async_to_sync)()

        with pytest.raises(RuntimeError, match=OWN_THREAD):
            async_to_sync(sync_to_async(with_asyncio_run))()
        return async_to_sync(nested)(), threading.get_ident()

    async def top() -> tuple[int, int]:
        return await sync_to_async(middle)()

    assert async_to_sync(top)() == (here, here)
    # Thread-insensitive work from asyncio.run on the blocked thread is fine.
    unbound = sync_to_async(threading.get_ident, thread_sensitive=False)
    assert async_to_sync(sync_to_async(lambda: asyncio.run(unbound())))() != here


def test_D18_bridge_of_this_thread_that_returned_falls_through_from_asyncio_run() -> None:
    """A context that still names this thread's returned bridge: [D18], not an error."""
    captured: list[contextvars.Context] = []

    async def grab() -> None:
        captured.append(contextvars.copy_context())

    async_to_sync(grab)()
    # This thread no longer serves any bridge: the process-wide sync thread runs it.
    assert captured[0].run(asyncio.run, ident()) == asyncio.run(ident())
