"""R4: a thread-critical value written on another thread never replaces or hides the caller's.

Each bridge copies its context's changes back to the caller
(:ref:`local-thread-critical-write-back`); a thread-critical cell written by another
loop (so on another thread) stays behind, while a change made on the caller's own loop
flows back.  Every expected value here is what asgiref 3.13.0 shows for the same program.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async


@pytest.mark.asyncio
async def test_R4_a_force_new_loop_write_on_another_thread_keeps_the_callers_value() -> None:
    # The program of issue R4, verbatim apart from the names.
    local = Local(thread_critical=True)
    local.y = "set on the loop thread"

    def f() -> None:
        async def g() -> None:
            local.y = "set on the force_new_loop thread"

        async_to_sync(g, force_new_loop=True)()

    await sync_to_async(f, thread_sensitive=False)()
    assert getattr(local, "y", "-") == "set on the loop thread"


@pytest.mark.asyncio
async def test_R4_a_force_new_loop_delete_on_another_thread_keeps_the_callers_value() -> None:
    local = Local(thread_critical=True)
    local.y = "outer"

    def f() -> None:
        async def g() -> None:
            local.y = "inner"
            del local.y

        async_to_sync(g, force_new_loop=True)()

    await sync_to_async(f, thread_sensitive=False)()
    assert local.y == "outer"


@pytest.mark.asyncio
async def test_R4_a_force_new_loop_write_stays_invisible_where_the_caller_had_no_value() -> None:
    local = Local(thread_critical=True)

    def f() -> None:
        async def g() -> None:
            local.z = "force_new_loop"

        async_to_sync(g, force_new_loop=True)()

    await sync_to_async(f, thread_sensitive=False)()
    assert not hasattr(local, "z")


@pytest.mark.parametrize("thread_sensitive", [True, False], ids=["sensitive", "insensitive"])
@pytest.mark.asyncio
async def test_R4_a_write_on_the_callers_own_loop_flows_back(thread_sensitive: bool) -> None:
    local = Local(thread_critical=True)
    local.y = "outer"

    def f() -> Any:
        async def g() -> Any:
            seen = getattr(local, "y", "-")
            local.y = "inner"
            return seen

        return async_to_sync(g)()  # the caller's loop, on the caller's thread

    assert await sync_to_async(f, thread_sensitive=thread_sensitive)() == "outer"
    assert local.y == "inner"


@pytest.mark.asyncio
async def test_R4_a_delete_on_the_callers_own_loop_flows_back() -> None:
    local = Local(thread_critical=True)
    local.y = "outer"

    def f() -> None:
        async def g() -> None:
            del local.y

        async_to_sync(g)()

    await sync_to_async(f, thread_sensitive=False)()
    assert not hasattr(local, "y")


@pytest.mark.asyncio
async def test_R4_nested_bridges_keep_each_loops_value_on_its_own_thread() -> None:
    local = Local(thread_critical=True)
    local.y = "outer"

    def f() -> Any:
        async def g() -> Any:
            local.y = "g, force_new_loop"

            def h() -> None:
                async def k() -> None:
                    local.y = "k, on g's loop"

                async_to_sync(k)()

            await sync_to_async(h)()
            return local.y  # k ran on g's loop: its write flows back to g

        return async_to_sync(g, force_new_loop=True)()

    assert await sync_to_async(f, thread_sensitive=False)() == "k, on g's loop"
    assert local.y == "outer"


@pytest.mark.asyncio
async def test_R4_concurrent_threads_with_force_new_loop_keep_the_callers_value() -> None:
    local = Local(thread_critical=True)
    local.y = "outer"
    start = threading.Barrier(4)

    def f(tag: int) -> None:
        start.wait(10)

        async def g() -> None:
            for i in range(20):
                local.y = (tag, i)
                await asyncio.sleep(0)

        async_to_sync(g, force_new_loop=True)()

    await asyncio.gather(*(sync_to_async(f, thread_sensitive=False)(tag) for tag in range(4)))
    assert local.y == "outer"


def test_R4_a_sync_threads_value_is_untouched_by_a_loop_it_starts() -> None:
    local = Local(thread_critical=True)
    local.s = "sync"

    async def g() -> Any:
        local.s = "loop"
        return local.s

    assert async_to_sync(g)() == "loop"
    assert async_to_sync(g, force_new_loop=True)() == "loop"
    assert local.s == "sync"


def test_R4_a_forced_loop_on_another_thread_does_not_reach_the_loop_of_this_thread() -> None:
    local = Local(thread_critical=True)

    async def main() -> Any:
        local.y = "main loop"

        def in_thread() -> Any:
            async def g() -> None:
                local.y = "other loop"

            async_to_sync(g, force_new_loop=True)()
            return getattr(local, "y", "-")  # sync code sees the thread's own storage

        seen = await sync_to_async(in_thread, thread_sensitive=False)()
        return seen, local.y

    assert asyncio.run(main()) == ("-", "main loop")
