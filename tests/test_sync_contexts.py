"""``ThreadSensitiveContext`` (plain and executor forms) and ``AsyncSingleThreadContext``."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Iterator

import pytest

from asgiref.local import Local
from asgiref.sync import (
    AsyncSingleThreadContext,
    ThreadSensitiveContext,
    async_to_sync,
    sync_to_async,
)

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")

ident = sync_to_async(threading.get_ident)


@pytest.fixture
def single_pool() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


# -- plain form ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_plain_context_gives_its_own_thread_shared_by_its_tasks() -> None:
    sync_thread = await ident()
    async with ThreadSensitiveContext():
        first = await ident()
        from_task = await asyncio.ensure_future(ident())
        second = await ident()
    assert first == from_task == second
    assert first not in {sync_thread, threading.get_ident()}


@pytest.mark.asyncio
async def test_concurrent_contexts_run_on_different_threads_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=10)

    async def request() -> int:
        async with ThreadSensitiveContext():
            await sync_to_async(barrier.wait)()  # both must be inside at once
            return await ident()

    first, second = await asyncio.gather(request(), request())
    assert first != second


@pytest.mark.asyncio
async def test_unused_context_creates_no_thread() -> None:
    before = {t.ident for t in threading.enumerate()}
    async with ThreadSensitiveContext():
        pass
    assert {t.ident for t in threading.enumerate()} <= before


@pytest.mark.asyncio
async def test_nested_plain_contexts_use_the_outermost_thread() -> None:
    async with ThreadSensitiveContext():
        outer = await ident()
        async with ThreadSensitiveContext():
            inner = await ident()
        after = await ident()
    assert outer == inner == after


@pytest.mark.asyncio
async def test_plain_instance_may_be_entered_again() -> None:
    context = ThreadSensitiveContext()
    async with context:
        await ident()
    async with context:
        assert await ident() != threading.get_ident()


@pytest.mark.asyncio
async def test_exit_waits_for_orphaned_work_without_blocking_the_loop() -> None:
    release = threading.Event()
    started = threading.Event()
    finished = threading.Event()

    def slow() -> None:
        started.set()
        assert release.wait(10)
        finished.set()

    exiting = asyncio.Event()

    async def request() -> None:
        async with ThreadSensitiveContext():
            task = asyncio.ensure_future(sync_to_async(slow)())
            await asyncio.to_thread(started.wait, 10)
            task.cancel()  # slow() keeps running: exit must wait for it
            exiting.set()  # no await until __aexit__ waits

    request_task = asyncio.ensure_future(request())
    await exiting.wait()
    for _ in range(20):  # the loop keeps running while exit waits
        await asyncio.sleep(0)
    assert not request_task.done()
    release.set()
    await asyncio.wait_for(request_task, 10)
    assert finished.is_set()


@pytest.mark.asyncio
async def test_exit_finishes_when_the_default_executor_is_saturated() -> None:
    loop = asyncio.get_running_loop()
    release = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as saturated:
        loop.set_default_executor(saturated)
        blocker = loop.run_in_executor(None, release.wait, 10)
        async with ThreadSensitiveContext():
            await ident()
        release.set()
        await blocker


@pytest.mark.asyncio
async def test_cancellation_during_exit_propagates_and_thread_finishes() -> None:
    release = threading.Event()
    started = threading.Event()
    finished = threading.Event()
    exiting = asyncio.Event()

    def slow() -> None:
        started.set()
        assert release.wait(10)
        finished.set()

    async def request() -> None:
        async with ThreadSensitiveContext():
            inner = asyncio.ensure_future(sync_to_async(slow)())
            await asyncio.to_thread(started.wait, 10)
            inner.cancel()
            exiting.set()  # no await until __aexit__ waits for slow()

    task = asyncio.ensure_future(request())
    await exiting.wait()
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    assert await asyncio.to_thread(finished.wait, 10)


@pytest.mark.asyncio
async def test_tasks_outliving_a_plain_context_still_get_a_worker_thread() -> None:
    go = asyncio.Event()
    sync_thread = await ident()

    async def outliving() -> int:
        await go.wait()
        return await ident()

    async with ThreadSensitiveContext():
        inside = await ident()
        task = asyncio.ensure_future(outliving())
    go.set()
    after = await task  # nobody waits for it; it may be a reused pool thread
    assert after not in {sync_thread, threading.get_ident()}
    assert inside != sync_thread


@pytest.mark.asyncio
async def test_D20_same_thread_nested_call_in_context_raises_instead_of_hanging() -> None:
    def f() -> None:
        async def nested() -> None:
            await sync_to_async(lambda: None)()

        asyncio.run(nested())

    async with ThreadSensitiveContext():
        with pytest.raises(RuntimeError, match=r"^Single thread executor already being used"):
            await sync_to_async(f)()
        assert await sync_to_async(lambda: "still usable")() == "still usable"


@pytest.mark.asyncio
async def test_plain_context_under_a_bridge_keeps_the_bridge_thread() -> None:
    async def inner() -> int:
        async with ThreadSensitiveContext():
            return await ident()

    def sync() -> tuple[int, int]:
        return threading.get_ident(), async_to_sync(inner)()

    outer_thread, in_context = await sync_to_async(sync)()
    assert outer_thread == in_context


@pytest.mark.asyncio
async def test_500_sequential_contexts_leave_the_thread_count_bounded() -> None:
    before = threading.active_count()
    for _ in range(500):
        async with ThreadSensitiveContext():
            await ident()
    assert threading.active_count() <= before + 3


@pytest.mark.asyncio
async def test_thread_critical_local_persists_on_reused_threads() -> None:
    local = Local(thread_critical=True)

    def remember() -> tuple[threading.Thread, bool]:
        had = hasattr(local, "connection")
        local.connection = threading.get_ident()
        return threading.current_thread(), had

    async with ThreadSensitiveContext():
        first_thread, _ = await sync_to_async(remember)()
    async with ThreadSensitiveContext():
        second_thread, had = await sync_to_async(remember)()
    assert had is (first_thread is second_thread)


# -- executor form -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_executor_context_routes_calls_to_the_executor(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    pool_thread = single_pool.submit(threading.get_ident).result(10)
    async with ThreadSensitiveContext(executor=single_pool) as context:
        assert isinstance(context, ThreadSensitiveContext)
        assert await ident() == pool_thread
    assert await ident() != pool_thread
    assert single_pool.submit(lambda: "still usable").result(10) == "still usable"


@pytest.mark.asyncio
async def test_executor_context_hides_the_bridge(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    pool_thread = single_pool.submit(threading.get_ident).result(10)

    async def inner() -> tuple[int, int]:
        async with ThreadSensitiveContext(executor=single_pool):
            in_block = await ident()
        return in_block, await ident()

    def sync() -> tuple[int, tuple[int, int]]:
        return threading.get_ident(), async_to_sync(inner)()

    bridge_thread, (in_block, after) = await sync_to_async(sync)()
    assert in_block == pool_thread
    assert after == bridge_thread


@pytest.mark.asyncio
async def test_async_to_sync_inside_executor_block_makes_its_own_bridge(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    async def innermost() -> int:
        return await ident()

    def on_pool() -> tuple[int, int]:
        return threading.get_ident(), async_to_sync(innermost)()

    async with ThreadSensitiveContext(executor=single_pool):
        pool_thread, back = await sync_to_async(on_pool)()
    assert pool_thread == back


@pytest.mark.asyncio
async def test_executor_context_is_single_use(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    context = ThreadSensitiveContext(executor=single_pool)
    async with context:
        with pytest.raises(RuntimeError, match=r"^ThreadSensitiveContext is already entered; "):
            await context.__aenter__()
    with pytest.raises(
        RuntimeError, match=r"^ThreadSensitiveContext with an executor cannot be entered again"
    ):
        await context.__aenter__()


@pytest.mark.asyncio
async def test_tasks_outliving_an_executor_context_get_the_exited_error(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    go = asyncio.Event()

    async def outliving() -> int:
        await go.wait()
        return await ident()

    async with ThreadSensitiveContext(executor=single_pool):
        task = asyncio.ensure_future(outliving())
    go.set()
    with pytest.raises(RuntimeError, match=r"^ThreadSensitiveContext has exited\. Tasks created"):
        await task


@pytest.mark.asyncio
async def test_executor_context_exit_restores_routing_after_an_error(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    async with ThreadSensitiveContext():
        plain = await ident()
        with pytest.raises(ZeroDivisionError):
            async with ThreadSensitiveContext(executor=single_pool):
                raise ZeroDivisionError
        assert await ident() == plain


@pytest.mark.asyncio
async def test_executor_is_reused_and_thread_critical_local_persists(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    local = Local(thread_critical=True)

    def set_value() -> None:
        local.value = "kept"

    def get_value() -> str:
        return str(local.value)

    async with ThreadSensitiveContext(executor=single_pool):
        await sync_to_async(set_value)()
    async with ThreadSensitiveContext(executor=single_pool):
        assert await sync_to_async(get_value)() == "kept"


@pytest.mark.asyncio
async def test_plain_context_inside_an_executor_block_is_a_no_op(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    pool_thread = single_pool.submit(threading.get_ident).result(10)
    async with ThreadSensitiveContext(executor=single_pool), ThreadSensitiveContext():
        assert await ident() == pool_thread


@pytest.mark.asyncio
async def test_sibling_executor_contexts_are_isolated() -> None:
    with (
        concurrent.futures.ThreadPoolExecutor(1) as first_pool,
        concurrent.futures.ThreadPoolExecutor(1) as second_pool,
    ):
        expected = {
            first_pool.submit(threading.get_ident).result(10),
            second_pool.submit(threading.get_ident).result(10),
        }

        async def use(pool: concurrent.futures.ThreadPoolExecutor) -> int:
            async with ThreadSensitiveContext(executor=pool):
                await asyncio.sleep(0)
                return await ident()

        assert set(await asyncio.gather(use(first_pool), use(second_pool))) == expected


@pytest.mark.asyncio
async def test_cancelling_inside_executor_block_does_not_wait_for_the_worker(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow() -> None:
        started.set()
        assert release.wait(10)

    async def block() -> None:
        async with ThreadSensitiveContext(executor=single_pool):
            await sync_to_async(slow)()

    task = asyncio.ensure_future(block())
    await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()


@pytest.mark.asyncio
async def test_non_thread_sensitive_calls_ignore_executor_context(
    single_pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    pool_thread = single_pool.submit(threading.get_ident).result(10)
    async with ThreadSensitiveContext(executor=single_pool):
        assert await sync_to_async(threading.get_ident, thread_sensitive=False)() != pool_thread


# -- AsyncSingleThreadContext ------------------------------------------------------------


async def _loop_and_thread() -> tuple[asyncio.AbstractEventLoop, int]:
    return asyncio.get_running_loop(), threading.get_ident()


def test_single_thread_context_one_thread_new_loop_per_call() -> None:
    with AsyncSingleThreadContext() as context:
        assert isinstance(context, AsyncSingleThreadContext)
        first_loop, first_thread = async_to_sync(_loop_and_thread)()
        second_loop, second_thread = async_to_sync(_loop_and_thread)()
    assert first_thread == second_thread != threading.get_ident()
    assert first_loop is not second_loop


def test_single_thread_context_nested_share_the_outer_thread() -> None:
    with AsyncSingleThreadContext():
        _, outer = async_to_sync(_loop_and_thread)()
        with AsyncSingleThreadContext():
            _, inner = async_to_sync(_loop_and_thread)()
        _, after = async_to_sync(_loop_and_thread)()
    assert outer == inner == after


def test_single_thread_context_is_lazy_and_exit_joins_its_thread() -> None:
    before = {t.ident for t in threading.enumerate()}
    with AsyncSingleThreadContext():
        pass
    assert {t.ident for t in threading.enumerate()} <= before
    threads: list[threading.Thread] = []

    async def record() -> None:
        threads.append(threading.current_thread())

    with AsyncSingleThreadContext():
        async_to_sync(record)()
    assert not threads[0].is_alive()


@pytest.mark.asyncio
async def test_single_thread_context_has_no_effect_with_a_parent_loop() -> None:
    def sync() -> tuple[int, int]:
        with AsyncSingleThreadContext():
            return async_to_sync(_loop_and_thread)()[1], async_to_sync(_loop_and_thread)()[1]

    assert await sync_to_async(sync)() == (threading.get_ident(), threading.get_ident())


def test_single_thread_context_propagates_context_vars() -> None:
    async def bump() -> None:
        VAR.set(VAR.get() + "+")

    VAR.set("x")
    with AsyncSingleThreadContext():
        async_to_sync(bump)()
        async_to_sync(bump)()
    assert VAR.get() == "x++"


def test_single_thread_context_thread_sensitive_work_on_calling_thread() -> None:
    async def inner() -> int:
        return await ident()

    with AsyncSingleThreadContext():
        assert async_to_sync(inner)() == threading.get_ident()


def test_single_thread_context_copied_past_its_exit_falls_back_to_a_pooled_thread() -> None:
    with AsyncSingleThreadContext():
        copied = contextvars.copy_context()
    loop, thread = copied.run(async_to_sync(_loop_and_thread))
    assert loop.is_closed()
    assert thread != threading.get_ident()


def test_many_loops_and_contexts_at_once_keep_each_request_on_one_thread() -> None:
    """Four event loops in four threads, 25 concurrent requests each."""
    failures: list[str] = []

    async def request(n: int) -> None:
        async with ThreadSensitiveContext():
            threads = {await ident() for _ in range(3)}
            inner = await sync_to_async(lambda: async_to_sync(_loop_and_thread)()[1])()
            if len(threads) != 1 or inner != threading.get_ident():
                failures.append(f"request {n}: {threads} {inner}")

    async def serve() -> None:
        await asyncio.gather(*(request(n) for n in range(25)))

    loops = [threading.Thread(target=asyncio.run, args=(serve(),)) for _ in range(4)]
    for thread in loops:
        thread.start()
    for thread in loops:
        thread.join(30)
    assert not any(thread.is_alive() for thread in loops)
    assert failures == []
