"""Where does code run? Conformance tests for ``docs/where-code-runs.rst``.

Every test names the table row it checks.  Tests of a deliberate difference from
asgiref 3.13.0 carry their D-id in their name (``test_D18_...``, ``test_D19_...``,
``test_D35_...``: see the "Differences from asgiref 3.13" page); asgiref 3.13.0 fails
those.

Threads are compared by identity (``threading.current_thread()`` objects kept alive
by the test), loops by identity (loop objects kept alive by the test), so identifier
reuse cannot fool an assertion.  Ordering is forced with events and barriers; the
``WAIT`` timeouts only turn a hang into a failure and are never reached when the code
under test is correct.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

import pytest

from asgiref.sync import (
    AsyncSingleThreadContext,
    ThreadSensitiveContext,
    async_to_sync,
    markcoroutinefunction,
    sync_to_async,
)

T = TypeVar("T")

#: Hang guard (seconds) for waits on events and barriers; never an expected duration.
WAIT = 20.0


def here() -> threading.Thread:
    """Return the thread running the caller."""
    return threading.current_thread()


def in_new_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a fresh plain ``threading.Thread`` (a "WSGI worker") and return its result."""
    box: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="plain-worker")
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), "the worker thread hung"
    if errors:
        raise errors[0]
    return box[0]


def named_default_executor(prefix: str) -> ThreadPoolExecutor:
    """Install a recognisable default executor on the running loop and return it.

    Runs in: the event-loop thread.
    """
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=prefix)
    asyncio.get_running_loop().set_default_executor(pool)
    return pool


async def wide_thread() -> threading.Thread:
    """The thread a thread-sensitive call lands on from here ([ts-sync-thread] at top level)."""
    return await sync_to_async(here)()


class DaemonThreadExecutor:
    """Duck-typed executor that runs every ``submit`` in a new daemon thread.

    It is not an ``Executor`` subclass: ``executor=`` accepts any object with a
    ``submit()`` (``docs/sync.rst``).

    Used where a broken implementation would leave the worker blocked forever: a daemon
    thread cannot keep the test process alive.
    """

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Start ``fn(*args, **kwargs)`` in a new daemon thread and return its future."""
        self.submitted += 1
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=run, name="daemon-executor", daemon=True).start()
        return future


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """A one-thread executor, as ``ThreadSensitiveContext(executor=...)`` requires."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-pool") as executor:
        yield executor


# --------------------------------------------------------------------------------------
# Thread-sensitive rules (docs/where-code-runs.rst): sync_to_async(f), thread_sensitive=True
# --------------------------------------------------------------------------------------


def test_a1_thread_sensitive_call_under_a_bridge_runs_on_the_bridge_thread() -> None:
    async def outer() -> threading.Thread:
        return await sync_to_async(here)()

    assert async_to_sync(outer)() is here()
    worker_result, worker = in_new_thread(lambda: (async_to_sync(outer)(), here()))
    assert worker_result is worker


def test_a1_nested_bridges_on_one_thread_all_serve_that_thread() -> None:
    async def level2() -> threading.Thread:
        return await sync_to_async(here)()

    def level1() -> tuple[threading.Thread, threading.Thread]:
        return here(), async_to_sync(level2)()

    async def outer() -> tuple[threading.Thread, threading.Thread]:
        return await sync_to_async(level1)()

    first, second = async_to_sync(outer)()
    assert first is here()
    assert second is here()


def test_a1_task_outliving_its_bridge_uses_the_enclosing_bridge_still_blocked_on_that_thread() -> (
    None
):
    async def outer() -> tuple[threading.Thread, threading.Thread]:
        gate = asyncio.Event()
        tasks: list[asyncio.Task[threading.Thread]] = []

        async def late() -> threading.Thread:
            await gate.wait()
            return await sync_to_async(here)()

        async def inner() -> None:
            tasks.append(asyncio.create_task(late()))

        def middle() -> threading.Thread:
            async_to_sync(inner)()  # this bridge returns; `late` outlives it
            return here()

        middle_thread = await sync_to_async(middle)()
        gate.set()
        return middle_thread, await tasks[0]

    middle_thread, late_thread = async_to_sync(outer)()
    assert middle_thread is here()
    assert late_thread is here()


def test_D18_task_outliving_every_bridge_on_its_thread_falls_through_to_process_wide_thread() -> (
    None
):
    """D18: asgiref 3.13.0 raises "CurrentThreadExecutor already quit or is broken" here."""

    async def main() -> tuple[threading.Thread, threading.Thread, threading.Thread]:
        wide = await wide_thread()
        gate = asyncio.Event()
        tasks: list[asyncio.Task[threading.Thread]] = []

        async def late() -> threading.Thread:
            await gate.wait()
            return await sync_to_async(here)()

        async def inner() -> None:
            tasks.append(asyncio.create_task(late()))

        def middle() -> threading.Thread:
            async_to_sync(inner)()
            return here()

        middle_thread = await sync_to_async(middle)()
        gate.set()
        return wide, middle_thread, await tasks[0]

    wide, middle_thread, late_thread = asyncio.run(main())
    assert middle_thread is wide
    assert late_thread is wide


def test_D18_task_outliving_its_bridge_in_a_thread_sensitive_context_uses_that_context() -> None:
    """D18: asgiref 3.13.0 raises "CurrentThreadExecutor already quit or is broken" here."""

    async def main() -> tuple[threading.Thread, threading.Thread, threading.Thread]:
        wide = await wide_thread()
        gate = asyncio.Event()
        tasks: list[asyncio.Task[threading.Thread]] = []

        async def late() -> threading.Thread:
            await gate.wait()
            return await sync_to_async(here)()

        async def inner() -> None:
            tasks.append(asyncio.create_task(late()))

        def middle() -> threading.Thread:
            async_to_sync(inner)()
            return here()

        async with ThreadSensitiveContext():
            middle_thread = await sync_to_async(middle)()
            gate.set()
            late_thread = await tasks[0]
        return wide, middle_thread, late_thread

    wide, middle_thread, late_thread = asyncio.run(main())
    assert middle_thread is not wide
    assert late_thread is middle_thread


def test_a3_task_outliving_every_bridge_on_its_thread_runs_on_the_loop_owner() -> None:
    """Row A3 serves a task whose own bridge has returned.

    ``late`` descends from a bridge in a default-executor thread that has returned; the
    running loop was created by the ``async_to_sync`` still blocked in this thread.
    """

    async def outer() -> tuple[threading.Thread, threading.Thread]:
        gate = asyncio.Event()
        tasks: list[asyncio.Task[threading.Thread]] = []

        async def late() -> threading.Thread:
            await gate.wait()
            return await sync_to_async(here)()

        async def inner() -> None:
            tasks.append(asyncio.create_task(late()))

        def middle() -> threading.Thread:
            async_to_sync(inner)()
            return here()

        middle_thread = await sync_to_async(middle, thread_sensitive=False)()
        gate.set()
        return middle_thread, await tasks[0]

    middle_thread, late_thread = async_to_sync(outer)()
    assert middle_thread is not here()
    assert late_thread is here()


def test_a1_wins_over_a_plain_thread_sensitive_context_entered_under_a_bridge() -> None:
    async def outer() -> threading.Thread:
        async with ThreadSensitiveContext():
            return await sync_to_async(here)()

    assert async_to_sync(outer)() is here()


@pytest.mark.asyncio
async def test_a2_plain_context_has_one_own_thread_shared_by_its_calls_and_tasks() -> None:
    wide = await wide_thread()
    async with ThreadSensitiveContext():
        first = await sync_to_async(here)()
        second = await sync_to_async(here)()
        from_task = await asyncio.create_task(sync_to_async(here)())
        async with ThreadSensitiveContext():  # inner plain contexts are no-ops
            nested = await sync_to_async(here)()
    assert first is second
    assert from_task is first
    assert nested is first
    assert first is not wide
    assert first is not here()


@pytest.mark.asyncio
async def test_a2_task_outliving_a_plain_context_still_gets_a_context_thread() -> None:
    wide = await wide_thread()
    gate = asyncio.Event()

    async def late() -> threading.Thread:
        await gate.wait()
        return await sync_to_async(here)()

    async with ThreadSensitiveContext():
        task = asyncio.create_task(late())
    gate.set()
    got = await task
    assert got is not wide
    assert got is not here()


@pytest.mark.asyncio
async def test_a2_executor_context_runs_calls_and_inheriting_tasks_on_its_executor(
    pool: ThreadPoolExecutor,
) -> None:
    pool_thread = pool.submit(here).result()
    async with ThreadSensitiveContext(executor=pool):
        direct = await sync_to_async(here)()
        from_task = await asyncio.create_task(sync_to_async(here)())
    assert direct is pool_thread
    assert from_task is pool_thread
    assert pool.submit(here).result() is pool_thread  # the context never shuts `e` down


@pytest.mark.asyncio
async def test_a2_task_outliving_an_executor_context_gets_the_has_exited_error(
    pool: ThreadPoolExecutor,
) -> None:
    gate = asyncio.Event()

    async def late() -> threading.Thread:
        await gate.wait()
        return await sync_to_async(here)()

    async with ThreadSensitiveContext(executor=pool):
        task = asyncio.create_task(late())
    gate.set()
    with pytest.raises(
        RuntimeError,
        match=r"^ThreadSensitiveContext has exited\. Tasks created inside a context with an "
        r"executor must finish before it exits\.; executor ",
    ):
        await task


def test_a2_executor_context_hides_the_bridge_and_exit_restores_it(
    pool: ThreadPoolExecutor,
) -> None:
    pool_thread = pool.submit(here).result()

    async def outer() -> tuple[threading.Thread, threading.Thread]:
        async with ThreadSensitiveContext(executor=pool):
            inside = await sync_to_async(here)()
        after = await sync_to_async(here)()
        return inside, after

    inside, after = async_to_sync(outer)()
    assert inside is pool_thread
    assert after is here()


def test_a2_executor_context_restores_the_bridge_when_the_block_raises(
    pool: ThreadPoolExecutor,
) -> None:
    async def failing_block() -> None:
        async with ThreadSensitiveContext(executor=pool):
            await sync_to_async(here)()
            raise ZeroDivisionError

    async def outer() -> threading.Thread:
        with pytest.raises(ZeroDivisionError):
            await failing_block()
        return await sync_to_async(here)()

    assert async_to_sync(outer)() is here()


@pytest.mark.asyncio
async def test_a2_async_to_sync_inside_an_executor_context_creates_a_bridge_of_its_own(
    pool: ThreadPoolExecutor,
) -> None:
    pool_thread = pool.submit(here).result()

    async def inner() -> threading.Thread:
        return await sync_to_async(here)()

    def middle() -> tuple[threading.Thread, threading.Thread]:
        return here(), async_to_sync(inner)()

    async with ThreadSensitiveContext(executor=pool):
        middle_thread, inner_thread = await sync_to_async(middle)()
    assert middle_thread is pool_thread
    assert inner_thread is pool_thread


@pytest.mark.asyncio
async def test_a2_nested_executor_contexts_each_get_their_own_scope(
    pool: ThreadPoolExecutor,
) -> None:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="other-pool") as other:
        first_thread = pool.submit(here).result()
        other_thread = other.submit(here).result()
        async with ThreadSensitiveContext(executor=pool):
            async with ThreadSensitiveContext(executor=other):
                inner = await sync_to_async(here)()
            outer_again = await sync_to_async(here)()
    assert inner is other_thread
    assert outer_again is first_thread


@pytest.mark.asyncio
async def test_a2_sibling_executor_contexts_are_isolated_and_run_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=WAIT)

    def meet() -> threading.Thread:
        barrier.wait()
        return here()

    async def sibling(executor: ThreadPoolExecutor) -> tuple[threading.Thread, threading.Thread]:
        expected = executor.submit(here).result()
        async with ThreadSensitiveContext(executor=executor):
            return expected, await sync_to_async(meet)()

    with (
        ThreadPoolExecutor(max_workers=1) as first,
        ThreadPoolExecutor(max_workers=1) as second,
    ):
        results = await asyncio.gather(sibling(first), sibling(second))
    for expected, got in results:
        assert got is expected


@pytest.mark.asyncio
async def test_a2_executor_context_is_single_use(pool: ThreadPoolExecutor) -> None:
    context = ThreadSensitiveContext(executor=pool)
    async with context:
        with pytest.raises(RuntimeError, match=r"^ThreadSensitiveContext is already entered; "):
            await context.__aenter__()
    with pytest.raises(
        RuntimeError, match=r"^ThreadSensitiveContext with an executor cannot be entered again"
    ):
        await context.__aenter__()


def test_a3_task_that_lost_its_context_runs_on_the_thread_blocked_in_the_loops_bridge() -> None:
    async def orphan() -> threading.Thread:
        return await sync_to_async(here)()

    async def outer() -> threading.Thread:
        loop = asyncio.get_running_loop()
        return await loop.create_task(orphan(), context=contextvars.Context())

    assert async_to_sync(outer)() is here()
    worker_result, worker = in_new_thread(lambda: (async_to_sync(outer)(), here()))
    assert worker_result is worker


def test_a3_callback_that_lost_its_context_inside_async_single_thread_context() -> None:
    async def orphan() -> threading.Thread:
        return await sync_to_async(here)()

    async def outer() -> threading.Thread:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[threading.Thread] = loop.create_future()

        def callback() -> None:
            task = loop.create_task(orphan())
            task.add_done_callback(lambda t: done.set_result(t.result()))

        loop.call_soon(callback, context=contextvars.Context())
        return await done

    with AsyncSingleThreadContext():
        assert async_to_sync(outer)() is here()


def test_a4_process_wide_sync_thread_is_shared_by_successive_loops_and_threads() -> None:
    first = asyncio.run(wide_thread())
    second = asyncio.run(wide_thread())
    from_other_thread = in_new_thread(lambda: asyncio.run(wide_thread()))
    assert first is second
    assert from_other_thread is first
    assert first is not here()


# --------------------------------------------------------------------------------------
# Non-thread-sensitive calls and custom executors
# --------------------------------------------------------------------------------------


def test_non_thread_sensitive_call_runs_on_the_running_loops_default_executor() -> None:
    async def main() -> threading.Thread:
        named_default_executor("loop-default")
        return await sync_to_async(here, thread_sensitive=False)()

    assert asyncio.run(main()).name.startswith("loop-default")


@pytest.mark.asyncio
async def test_non_thread_sensitive_call_with_executor_runs_on_that_executor(
    pool: ThreadPoolExecutor,
) -> None:
    pool_thread = pool.submit(here).result()
    got = await sync_to_async(here, thread_sensitive=False, executor=pool)()
    assert got is pool_thread


@pytest.mark.asyncio
async def test_executor_is_duck_typed_any_object_with_submit_works() -> None:
    executor = DaemonThreadExecutor()
    got = await sync_to_async(here, thread_sensitive=False, executor=cast(Executor, executor))()
    assert executor.submitted == 1
    assert got.name == "daemon-executor"


@pytest.mark.asyncio
async def test_non_thread_sensitive_calls_ignore_thread_sensitive_context(
    pool: ThreadPoolExecutor,
) -> None:
    pool_thread = pool.submit(here).result()
    async with ThreadSensitiveContext(executor=pool):
        got = await sync_to_async(here, thread_sensitive=False)()
    assert got is not pool_thread
    assert got is not here()


# --------------------------------------------------------------------------------------
# Loop rules (docs/where-code-runs.rst): async_to_sync(af)(...), which loop runs it
# --------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_b0_async_to_sync_on_a_loop_thread_raises_before_calling_the_awaitable() -> None:
    calls: list[str] = []

    def target() -> Coroutine[Any, Any, None]:
        calls.append("called")
        return asyncio.sleep(0)

    wrapper = async_to_sync(markcoroutinefunction(target))
    with pytest.raises(
        RuntimeError,
        match=r"^You cannot use AsyncToSync in the same thread as an async event loop - "
        r"just await the async function directly\.; called <AsyncToSync ",
    ):
        wrapper()
    assert calls == []


@pytest.mark.parametrize("thread_sensitive", [True, False])
def test_b1_async_to_sync_under_sync_to_async_runs_a_task_on_the_parent_loop(
    thread_sensitive: bool,
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop_thread = here()
        outer_task = asyncio.current_task()

        async def inner() -> tuple[asyncio.AbstractEventLoop, threading.Thread, object]:
            return asyncio.get_running_loop(), here(), asyncio.current_task()

        def middle() -> tuple[asyncio.AbstractEventLoop, threading.Thread, object]:
            return async_to_sync(inner)()

        got_loop, got_thread, got_task = await sync_to_async(
            middle, thread_sensitive=thread_sensitive
        )()
        assert got_loop is loop
        assert got_thread is loop_thread
        assert got_task is not None
        assert got_task is not outer_task

    asyncio.run(main())


def test_b1_tasks_created_by_the_coroutine_live_on_after_the_call_returns() -> None:
    async def main() -> str:
        gate = asyncio.Event()
        tasks: list[asyncio.Task[str]] = []

        async def child() -> str:
            await gate.wait()
            return "child finished"

        async def inner() -> None:
            tasks.append(asyncio.create_task(child()))

        await sync_to_async(async_to_sync(inner))()
        gate.set()
        return await tasks[0]

    assert asyncio.run(main()) == "child finished"


def test_D19_stopped_but_open_parent_loop_is_not_used_and_the_call_does_not_hang() -> None:
    """D19: asgiref 3.13.0 hands the coroutine to the stopped parent loop and hangs."""
    proceed = threading.Event()
    finished = threading.Event()
    results: list[asyncio.AbstractEventLoop] = []
    started: Future[None] = Future()

    async def inner() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def middle() -> None:
        started.set_result(None)
        proceed.wait(WAIT)
        try:
            results.append(async_to_sync(inner)())
        finally:
            finished.set()

    executor = DaemonThreadExecutor()  # a hung worker must not keep the process alive
    loop = asyncio.new_event_loop()
    try:

        async def start() -> asyncio.Future[None]:
            call = asyncio.ensure_future(
                sync_to_async(middle, thread_sensitive=False, executor=cast(Executor, executor))()
            )
            await asyncio.wrap_future(started)
            return call

        call = loop.run_until_complete(start())
        # The parent loop is now stopped but not closed, while `middle` still runs.
        assert not loop.is_running()
        proceed.set()
        assert finished.wait(WAIT), "async_to_sync hung on a stopped parent loop"
        assert results
        assert results[0] is not loop
        loop.run_until_complete(call)
    finally:
        proceed.set()
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def test_D19_thread_that_left_its_sync_to_async_call_has_no_parent_loop() -> None:
    """D19: a thread is no longer a parent-loop thread once its ``sync_to_async`` call ended.

    The default executor's only thread runs a ``sync_to_async`` call, then plain
    ``run_in_executor`` work that calls ``async_to_sync``: [loop-fresh] applies (a fresh loop).
    asgiref 3.13.0 still hands the coroutine to the old parent loop.
    """

    async def probe() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def plain_sync() -> asyncio.AbstractEventLoop:
        return async_to_sync(probe)()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
        used_thread = await sync_to_async(here, thread_sensitive=False)()
        reused_thread = await loop.run_in_executor(None, here)
        assert reused_thread is used_thread  # the only worker of the default executor
        assert await loop.run_in_executor(None, plain_sync) is not loop

    asyncio.run(main())


def test_b2_async_single_thread_context_runs_a_new_loop_per_call_on_one_shared_thread() -> None:
    async def probe() -> tuple[threading.Thread, asyncio.AbstractEventLoop]:
        return here(), asyncio.get_running_loop()

    with AsyncSingleThreadContext():
        thread1, loop1 = async_to_sync(probe)()
        with AsyncSingleThreadContext():  # nested contexts share the outermost's thread
            thread2, loop2 = async_to_sync(probe)()
        thread3, loop3 = async_to_sync(probe)()
    assert thread1 is thread2
    assert thread2 is thread3
    assert thread1 is not here()
    assert len({id(loop1), id(loop2), id(loop3)}) == 3
    assert loop1.is_closed()
    assert loop2.is_closed()
    assert loop3.is_closed()
    assert not thread1.is_alive()  # exiting the outermost context waited for its thread


def test_b2_async_single_thread_context_has_no_effect_when_a_parent_loop_runs() -> None:
    async def probe() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def middle() -> asyncio.AbstractEventLoop:
        with AsyncSingleThreadContext():
            return async_to_sync(probe)()

    async def main() -> bool:
        return await sync_to_async(middle)() is asyncio.get_running_loop()

    assert asyncio.run(main())


def test_b3_each_call_from_plain_sync_code_gets_a_fresh_loop_closed_afterwards() -> None:
    async def probe() -> tuple[threading.Thread, asyncio.AbstractEventLoop]:
        return here(), asyncio.get_running_loop()

    thread1, loop1 = async_to_sync(probe)()
    thread2, loop2 = async_to_sync(probe)()
    assert loop1 is not loop2
    assert loop1.is_closed()
    assert loop2.is_closed()
    assert thread1 is not here()
    assert thread2 is not here()


def test_b3_leftover_tasks_are_cancelled_and_async_generators_finalised() -> None:
    events: list[str] = []
    generators: list[AsyncIterator[int]] = []
    # The loop holds tasks only weakly: a leftover task blocked on an event nothing else
    # references is a cycle the garbage collector may free before the shutdown sees it
    # ("Task was destroyed but it is pending!"), so the test keeps it alive, as asyncio's
    # docs ask of every fire-and-forget task.
    tasks: list[asyncio.Task[None]] = []
    pools: list[ThreadPoolExecutor] = []

    async def numbers() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            events.append("generator finalised")

    async def main() -> None:
        started = asyncio.Event()

        async def leftover() -> None:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                events.append("task cancelled")
                raise

        tasks.append(asyncio.create_task(leftover()))
        await started.wait()
        generator = numbers()
        generators.append(generator)
        assert await generator.__anext__() == 1
        pools.append(named_default_executor("temporary-default"))

    async_to_sync(main)()
    assert sorted(events) == ["generator finalised", "task cancelled"]
    assert tasks[0].cancelled()
    with pytest.raises(RuntimeError):  # the temporary loop's default executor was shut down
        pools[0].submit(here)


def test_force_new_loop_under_sync_to_async_runs_a_fresh_loop_and_serves_the_caller() -> None:
    async def main() -> None:
        outer_loop = asyncio.get_running_loop()
        outer_thread = here()

        async def inner() -> tuple[asyncio.AbstractEventLoop, threading.Thread, threading.Thread]:
            return asyncio.get_running_loop(), here(), await sync_to_async(here)()

        def middle() -> tuple[
            threading.Thread, tuple[asyncio.AbstractEventLoop, threading.Thread, threading.Thread]
        ]:
            return here(), async_to_sync(inner, force_new_loop=True)()

        middle_thread, (loop, loop_thread, sensitive) = await sync_to_async(middle)()
        assert loop is not outer_loop
        assert loop.is_closed()
        assert loop_thread is not outer_thread
        assert loop_thread is not middle_thread
        assert sensitive is middle_thread

    asyncio.run(main())


# --------------------------------------------------------------------------------------
# The summary table of docs/where-code-runs.rst, by situation
# (async code / thread-sensitive / non-thread-sensitive)
# --------------------------------------------------------------------------------------


async def three_columns(
    prefix: str,
) -> tuple[threading.Thread, threading.Thread, threading.Thread, asyncio.AbstractEventLoop]:
    """Return (coroutine thread, thread-sensitive thread, non-sensitive thread, loop).

    Installs a default executor named ``prefix`` on the running loop first, so the
    non-thread-sensitive column can be recognised by thread name.
    """
    named_default_executor(prefix)
    sensitive = await sync_to_async(here)()
    insensitive = await sync_to_async(here, thread_sensitive=False)()
    return here(), sensitive, insensitive, asyncio.get_running_loop()


@pytest.mark.parametrize("runner", [lambda f: f(), in_new_thread], ids=["main", "worker"])
def test_c1_sync_program(runner: Callable[[Callable[[], Any]], Any]) -> None:
    def program() -> tuple[threading.Thread, Any]:
        return here(), async_to_sync(three_columns)("c1-default")

    caller, (coroutine, sensitive, insensitive, loop) = runner(program)
    assert coroutine is not caller
    assert loop.is_closed()
    assert sensitive is caller
    assert insensitive.name.startswith("c1-default")


def test_c2_sync_program_inside_async_single_thread_context() -> None:
    with AsyncSingleThreadContext():
        coroutine1, sensitive1, insensitive1, loop1 = async_to_sync(three_columns)("c2-a")
        coroutine2, sensitive2, insensitive2, loop2 = async_to_sync(three_columns)("c2-b")
    assert coroutine1 is coroutine2
    assert coroutine1 is not here()
    assert loop1 is not loop2
    assert sensitive1 is here()
    assert sensitive2 is here()
    assert insensitive1.name.startswith("c2-a")
    assert insensitive2.name.startswith("c2-b")


def test_c3_async_program_without_thread_sensitive_context() -> None:
    async def program() -> tuple[Any, ...]:
        with pytest.raises(RuntimeError, match=r"^You cannot use AsyncToSync in the same thread"):
            async_to_sync(asyncio.sleep)(0)
        return await three_columns("c3-default")

    coroutine1, sensitive1, insensitive1, _ = asyncio.run(program())
    coroutine2, sensitive2, _, _ = asyncio.run(program())
    assert sensitive1 is sensitive2  # the process-wide sync thread
    assert sensitive1 is not coroutine1
    assert sensitive1 is not coroutine2
    assert insensitive1.name.startswith("c3-default")


def test_c4_async_program_inside_thread_sensitive_context() -> None:
    async def program() -> tuple[Any, ...]:
        wide = await wide_thread()
        async with ThreadSensitiveContext():
            return (wide, *(await three_columns("c4-default")))

    wide, coroutine, sensitive, insensitive, _ = asyncio.run(program())
    assert sensitive is not wide
    assert sensitive is not coroutine
    assert insensitive.name.startswith("c4-default")


@pytest.mark.parametrize("thread_sensitive", [True, False])
def test_c5_sync_code_run_by_sync_to_async_calls_async_to_sync(thread_sensitive: bool) -> None:
    async def inner() -> tuple[Any, ...]:
        sensitive = await sync_to_async(here)()
        insensitive = await sync_to_async(here, thread_sensitive=False)()
        return here(), sensitive, insensitive, asyncio.get_running_loop()

    def middle() -> tuple[threading.Thread, tuple[Any, ...]]:
        return here(), async_to_sync(inner)()

    async def program() -> None:
        named_default_executor("c5-parent-default")
        middle_thread, (coroutine, sensitive, insensitive, loop) = await sync_to_async(
            middle, thread_sensitive=thread_sensitive
        )()
        assert loop is asyncio.get_running_loop()
        assert coroutine is here()
        assert sensitive is middle_thread
        assert insensitive.name.startswith("c5-parent-default")
        assert insensitive is not middle_thread

    asyncio.run(program())


def test_c6_sync_code_run_by_sync_to_async_calls_async_to_sync_with_force_new_loop() -> None:
    def middle() -> tuple[threading.Thread, tuple[Any, ...]]:
        return here(), async_to_sync(three_columns, force_new_loop=True)("c6-temporary-default")

    async def program() -> None:
        named_default_executor("c6-parent-default")
        middle_thread, (coroutine, sensitive, insensitive, loop) = await sync_to_async(middle)()
        assert loop is not asyncio.get_running_loop()
        assert loop.is_closed()
        assert coroutine is not here()
        assert coroutine is not middle_thread
        assert sensitive is middle_thread
        assert insensitive.name.startswith("c6-temporary-default")

    asyncio.run(program())


def test_D35_parent_loop_is_used_again_after_a_force_new_loop_call_that_used_this_thread() -> None:
    """D35: [loop-parent] still applies after a ``force_new_loop`` bridge that used this thread.

    The ``force_new_loop`` coroutine sent thread-sensitive work back to this thread; the
    thread is still inside its ``sync_to_async`` call, so the parent loop is used.
    asgiref 3.13.0 runs the second coroutine on a fresh loop instead of the parent loop.
    """

    async def uses_caller_thread() -> None:
        await sync_to_async(here)()

    async def probe() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def middle() -> asyncio.AbstractEventLoop:
        async_to_sync(uses_caller_thread, force_new_loop=True)()
        return async_to_sync(probe)()

    async def main() -> bool:
        return await sync_to_async(middle)() is asyncio.get_running_loop()

    assert asyncio.run(main())


def test_force_new_loop_from_plain_sync_code_behaves_like_b3() -> None:
    caller = here()
    coroutine, sensitive, insensitive, loop = async_to_sync(three_columns, force_new_loop=True)(
        "force-default"
    )
    assert coroutine is not caller
    assert sensitive is caller
    assert insensitive.name.startswith("force-default")
    assert loop.is_closed()


# --------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------


def sync_level(depth: int) -> list[threading.Thread]:
    """Record this thread, then go one async level deeper while ``depth`` allows."""
    threads = [here()]
    if depth:
        threads += async_to_sync(async_level)(depth - 1)
    return threads


async def async_level(depth: int) -> list[threading.Thread]:
    """Go one sync level deeper through a thread-sensitive ``sync_to_async``."""
    return await sync_to_async(sync_level)(depth)


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_sync_async_sync_round_trips_return_to_the_same_thread_at_every_depth(depth: int) -> None:
    assert sync_level(depth) == [here()] * (depth + 1)
    worker_threads, worker = in_new_thread(lambda: (sync_level(depth), here()))
    assert worker_threads == [worker] * (depth + 1)


def test_sync_async_sync_round_trips_from_an_async_root_stay_on_the_process_wide_thread() -> None:
    async def main() -> tuple[threading.Thread, list[threading.Thread]]:
        return await wide_thread(), await async_level(4)

    wide, threads = asyncio.run(main())
    assert threads == [wide] * 5


@pytest.mark.parametrize("thread_sensitive", [True, False])
@pytest.mark.parametrize("depth", [1, 4])
def test_async_sync_async_round_trips_run_on_the_outer_loop_and_thread(
    thread_sensitive: bool, depth: int
) -> None:
    seen: list[tuple[asyncio.AbstractEventLoop, threading.Thread]] = []

    async def a_level(remaining: int) -> None:
        seen.append((asyncio.get_running_loop(), here()))
        if remaining:
            await sync_to_async(s_level, thread_sensitive=thread_sensitive)(remaining - 1)

    def s_level(remaining: int) -> None:
        async_to_sync(a_level)(remaining)

    async def main() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
        await a_level(depth)
        return asyncio.get_running_loop(), here()

    loop, thread = asyncio.run(main())
    assert len(seen) == depth + 1
    for got_loop, got_thread in seen:
        assert got_loop is loop
        assert got_thread is thread


def test_one_thread_sensitive_context_per_request_is_one_thread_per_request_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=WAIT)

    def meet() -> threading.Thread:
        barrier.wait()  # both requests' sync work must be running at the same time
        return here()

    def handler_with_nested_bridge() -> threading.Thread:
        return async_to_sync(sync_to_async(here))()

    async def request() -> set[threading.Thread]:
        async with ThreadSensitiveContext():
            threads = {await sync_to_async(here)()}
            threads.add(await sync_to_async(meet)())
            threads.add(await asyncio.create_task(sync_to_async(here)()))  # e.g. a signal
            threads.add(await sync_to_async(handler_with_nested_bridge)())
            return threads

    async def server() -> tuple[threading.Thread, list[set[threading.Thread]]]:
        return await wide_thread(), list(await asyncio.gather(request(), request()))

    wide, (first, second) = asyncio.run(server())
    assert len(first) == 1
    assert len(second) == 1
    assert first != second
    assert wide not in first | second


def test_D39_asyncio_run_inside_to_thread_sends_thread_sensitive_work_to_the_bridge_thread() -> (
    None
):
    """D39: the issue's program; asgiref 3.13.0 runs ``name`` on the ``to_thread`` worker.

    The worker runs a copy of the coroutine's context, so the loop ``asyncio.run`` starts
    there descends from the bridge blocked in this thread ([ts-bridge]).
    """
    seen: dict[str, threading.Thread] = {}

    def name() -> str:
        seen["name"] = threading.current_thread()
        return threading.current_thread().name

    async def outer() -> str:
        def in_thread() -> str:
            seen["worker"] = threading.current_thread()

            async def g() -> str:
                return await sync_to_async(name)()

            return asyncio.run(g())

        return await asyncio.to_thread(in_thread)

    assert async_to_sync(outer)() == threading.current_thread().name
    assert seen["name"] is here()
    assert seen["worker"] is not here()
