"""``async_to_sync`` / ``AsyncToSync``: construction, metadata, loop rules, semantics."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import os
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any

import pytest

from asgiref.sync import (
    AsyncToSync,
    async_to_sync,
    iscoroutinefunction,
    markcoroutinefunction,
    sync_to_async,
)

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


async def documented(a: int, b: int = 2) -> int:
    """Add two numbers."""
    return a + b


async def loop_and_thread() -> tuple[asyncio.AbstractEventLoop, int]:
    return asyncio.get_running_loop(), threading.get_ident()


# -- construction ------------------------------------------------------------------


def test_returns_an_async_to_sync_instance() -> None:
    wrapper = async_to_sync(documented)
    assert isinstance(wrapper, AsyncToSync)
    assert wrapper.awaitable is documented
    assert wrapper.force_new_loop is False
    assert async_to_sync(force_new_loop=True)(documented).force_new_loop is True


def test_decorator_form_is_not_a_coroutine_function() -> None:
    decorator = async_to_sync(force_new_loop=True)
    assert not iscoroutinefunction(decorator)
    assert not inspect.iscoroutinefunction(decorator)


def test_only_the_awaitable_is_positional() -> None:
    with pytest.raises(TypeError, match="positional"):
        async_to_sync(documented, True)  # type: ignore[call-overload]
    assert AsyncToSync(documented, True).force_new_loop is True


def test_D11_metadata_is_copied() -> None:
    wrapper = async_to_sync(documented)
    assert wrapper.__name__ == "documented"
    assert wrapper.__qualname__ == "documented"
    assert wrapper.__doc__ == "Add two numbers."
    assert wrapper.__module__ == __name__
    assert wrapper.__wrapped__ is documented
    assert wrapper(1) == 3


def test_D11_never_a_coroutine_function_even_when_wrapping_a_marked_object() -> None:
    marked = markcoroutinefunction(lambda: documented(1))
    for wrapper in (async_to_sync(documented), async_to_sync(marked)):
        assert not iscoroutinefunction(wrapper)
        assert not inspect.iscoroutinefunction(wrapper)


def test_self_is_exposed_for_bound_methods() -> None:
    class Thing:
        async def method(self) -> int:
            return 1

    thing = Thing()
    assert async_to_sync(thing.method).__self__ is thing


class _AsyncCall:
    async def __call__(self) -> str:
        return "called"


@pytest.mark.parametrize(
    "awaitable",
    [
        documented,
        functools.partial(documented, 1),
        _AsyncCall(),
        markcoroutinefunction(lambda: documented(1)),
    ],
    ids=["async-def", "async-partial", "async-call", "marked"],
)
def test_async_callables_do_not_warn(awaitable: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        async_to_sync(awaitable)


def test_D23_warning_is_attributed_to_the_users_line() -> None:
    def sync() -> None:
        pass

    with pytest.warns(
        UserWarning, match=r"^async_to_sync was passed a non-async-marked callable"
    ) as rec:
        async_to_sync(sync)  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match="non-async-marked") as rec2:
        AsyncToSync(sync)  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match="non-async-marked") as rec3:
        async_to_sync(force_new_loop=True)(sync)  # type: ignore[arg-type]
    for record in (rec[0], rec2[0], rec3[0]):
        assert record.filename == __file__


def test_async_generator_function_warns_then_fails_when_called() -> None:
    async def agen() -> AsyncIterator[int]:
        yield 1

    with pytest.warns(UserWarning, match="non-async-marked"):
        wrapper: AsyncToSync[[], int] = async_to_sync(agen)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        wrapper()


def test_non_callable_warns_then_fails_when_called() -> None:
    with pytest.warns(UserWarning, match="non-async-marked"):
        wrapper: AsyncToSync[[], int] = AsyncToSync(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'int' object is not callable"):
        wrapper()


def test_non_awaitable_result_raises_type_error() -> None:
    with pytest.warns(UserWarning, match="non-async-marked"):
        wrapper: AsyncToSync[[], int] = async_to_sync(lambda: 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        wrapper()


def test_errors_from_the_call_propagate_directly() -> None:
    def broken() -> Coroutine[Any, Any, None]:
        raise LookupError("sync part")

    wrapper = async_to_sync(markcoroutinefunction(broken))
    with pytest.raises(LookupError, match="sync part"):
        wrapper()


def test_built_in_a_loop_and_called_later_after_the_loop_stopped() -> None:
    async def build() -> AsyncToSync[[int], int]:
        return async_to_sync(documented)

    loop = asyncio.new_event_loop()
    try:
        wrapper = loop.run_until_complete(build())
        assert wrapper(5) == 7
    finally:
        loop.close()


# -- calling: loop rules ------------------------------------------------------------


@pytest.mark.asyncio
async def test_B0_running_loop_raises_before_calling_the_awaitable() -> None:
    called: list[int] = []

    async def af() -> None:
        called.append(1)

    with pytest.raises(
        RuntimeError,
        match=r"^You cannot use AsyncToSync in the same thread as an async event loop - "
        r"just await the async function directly\.; called ",
    ):
        async_to_sync(af)()
    assert called == []


@pytest.mark.asyncio
async def test_B1_parent_loop_runs_the_coroutine() -> None:
    def sync() -> tuple[asyncio.AbstractEventLoop, int]:
        return async_to_sync(loop_and_thread)()

    loop, ident = await sync_to_async(sync)()
    assert loop is asyncio.get_running_loop()
    assert ident == threading.get_ident()


@pytest.mark.asyncio
async def test_B1_round_trip_returns_to_the_same_sync_thread() -> None:
    async def inner() -> int:
        return await sync_to_async(threading.get_ident)()

    def sync() -> tuple[int, int]:
        return threading.get_ident(), async_to_sync(inner)()

    outer, inner_ident = await sync_to_async(sync)()
    assert outer == inner_ident


@pytest.mark.asyncio
async def test_B1_tasks_created_by_the_coroutine_live_on() -> None:
    finished = asyncio.Event()

    async def spawn() -> asyncio.Task[None]:
        async def child() -> None:
            await asyncio.sleep(0)
            finished.set()

        return asyncio.ensure_future(child())

    child = await sync_to_async(async_to_sync(spawn))()
    await asyncio.wait_for(finished.wait(), 10)
    assert child.done()
    assert not child.cancelled()


@pytest.mark.asyncio
async def test_force_new_loop_ignores_the_parent_loop() -> None:
    def sync() -> asyncio.AbstractEventLoop:
        return async_to_sync(loop_and_thread, force_new_loop=True)()[0]

    loop = await sync_to_async(sync)()
    assert loop is not asyncio.get_running_loop()
    assert loop.is_closed()


def test_D19_stopped_parent_loop_is_not_used() -> None:
    parent = asyncio.new_event_loop()
    proceed = threading.Event()
    finished = threading.Event()
    result: list[tuple[asyncio.AbstractEventLoop, int]] = []
    started = asyncio.Event()

    def sync() -> None:
        parent.call_soon_threadsafe(started.set)
        assert proceed.wait(10)
        try:
            result.append(async_to_sync(loop_and_thread)())
        finally:
            finished.set()

    async def outer() -> None:
        task = asyncio.ensure_future(sync_to_async(sync)())
        await started.wait()
        task.cancel()  # sync() keeps running; the loop then stops (not closed)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    parent.run_until_complete(outer())
    proceed.set()
    assert finished.wait(10)
    parent.close()
    assert result[0][0] is not parent


def test_D19_parent_call_from_before_fork_is_ignored() -> None:
    if not hasattr(os, "fork"):  # pragma: no cover - POSIX only
        pytest.skip("needs os.fork")

    async def outer() -> int:
        def sync() -> int:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child
                code = 1
                try:
                    loop, _ = async_to_sync(loop_and_thread)()
                    code = 0 if loop.is_closed() else 2
                finally:
                    os.write(write, bytes([code]))
                    os._exit(0)
            os.close(write)
            status = os.read(read, 1)
            os.close(read)
            os.waitpid(pid, 0)
            return status[0]

        return await sync_to_async(sync)()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads (3.12+)
        assert asyncio.run(outer()) == 0


def test_B3_fresh_loop_per_call_on_another_thread() -> None:
    first_loop, first_thread = async_to_sync(loop_and_thread)()
    second_loop, _ = async_to_sync(loop_and_thread)()
    assert first_loop is not second_loop
    assert first_loop.is_closed()
    assert second_loop.is_closed()
    assert first_thread != threading.get_ident()


def test_B3_leftover_tasks_are_cancelled() -> None:
    cancelled = threading.Event()
    leftovers: list[asyncio.Task[None]] = []

    async def spawn() -> None:
        async def leftover() -> None:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        leftovers.append(asyncio.ensure_future(leftover()))
        await asyncio.sleep(0)

    async_to_sync(spawn)()
    assert cancelled.is_set()
    assert leftovers[0].cancelled()


def test_B3_async_generators_are_finalised() -> None:
    finalised = threading.Event()

    async def agen() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            finalised.set()

    async def partly() -> int:
        gen = agen()
        return await gen.__anext__()

    assert async_to_sync(partly)() == 1
    assert finalised.is_set()


def test_B3_async_generators_still_referenced_are_finalised() -> None:
    finalised = threading.Event()
    kept: list[AsyncIterator[int]] = []

    async def agen() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            finalised.set()

    async def partly() -> int:
        kept.append(agen())
        return await kept[0].__anext__()

    assert async_to_sync(partly)() == 1
    assert finalised.is_set()


def test_B3_default_executor_is_shut_down() -> None:
    async def use_executor() -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: None)
        return loop

    loop = async_to_sync(use_executor)()
    assert loop.is_closed()
    assert not any(t.name.startswith("asyncio_") and t.is_alive() for t in threading.enumerate())


def test_B3_thread_sensitive_work_runs_on_the_calling_thread() -> None:
    async def inner() -> int:
        return await sync_to_async(threading.get_ident)()

    assert async_to_sync(inner)() == threading.get_ident()


def test_B3_non_thread_sensitive_work_uses_the_temporary_loops_executor() -> None:
    async def inner() -> int:
        return await sync_to_async(threading.get_ident, thread_sensitive=False)()

    assert async_to_sync(inner)() != threading.get_ident()


def test_no_loop_calls_leave_the_thread_count_bounded() -> None:
    before = threading.active_count()
    wrapper = async_to_sync(documented)
    for i in range(2000):
        assert wrapper(i, 0) == i
    assert threading.active_count() <= before + 3


# -- context and exceptions -----------------------------------------------------------


def test_context_flows_in_and_back_on_a_fresh_loop() -> None:
    VAR.set("caller")

    async def af() -> str:
        seen = VAR.get()
        VAR.set("coroutine")
        return seen

    assert async_to_sync(af)() == "caller"
    assert VAR.get() == "coroutine"


@pytest.mark.asyncio
async def test_context_flows_in_and_back_on_the_parent_loop() -> None:
    async def af() -> str:
        seen = VAR.get()
        VAR.set("coroutine")
        return seen

    def sync() -> tuple[str, str]:
        VAR.set("sync")
        return async_to_sync(af)(), VAR.get()

    assert await sync_to_async(sync)() == ("sync", "coroutine")
    assert VAR.get() == "coroutine"


def test_child_task_changes_do_not_propagate() -> None:
    async def af() -> None:
        async def child() -> None:
            VAR.set("child")

        await asyncio.ensure_future(child())

    VAR.set("caller")
    async_to_sync(af)()
    assert VAR.get() == "caller"


def test_many_alternating_layers_propagate_context() -> None:
    def deepest() -> None:
        VAR.set("deepest")

    async def layer3() -> None:
        await sync_to_async(deepest)()

    def layer2() -> None:
        async_to_sync(layer3)()

    async def layer1() -> None:
        await sync_to_async(layer2)()

    async_to_sync(layer1)()
    assert VAR.get() == "deepest"


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt, asyncio.CancelledError])
def test_exceptions_cross_with_the_same_object(exc_type: type[BaseException]) -> None:
    error = exc_type("boom")

    async def af() -> None:
        raise error

    with pytest.raises(exc_type) as info:
        async_to_sync(af)()
    assert info.value is error


def test_stop_iteration_in_a_coroutine_is_python_runtime_error() -> None:
    async def af() -> None:
        raise StopIteration

    with pytest.raises(RuntimeError, match="coroutine raised StopIteration"):
        async_to_sync(af)()


def test_active_exception_is_visible_in_the_coroutine() -> None:
    async def af() -> None:
        assert isinstance(sys.exc_info()[1], KeyError)
        raise ValueError("inner")

    outer = KeyError("outer")
    try:
        raise outer
    except KeyError:
        with pytest.raises(ValueError, match="inner") as info:
            async_to_sync(af)()
    assert info.value.__context__ is outer


# -- descriptor ----------------------------------------------------------------------


class _Methods:
    def __init__(self, value: int) -> None:
        self.value = value

    @async_to_sync
    async def get(self, extra: int) -> int:
        """Get the value."""
        return self.value + extra


def test_instance_access_returns_a_partial_with_metadata() -> None:
    obj = _Methods(40)
    bound: Callable[..., int] = obj.get
    assert isinstance(bound, functools.partial)
    assert bound.__name__ == "get"  # type: ignore[attr-defined]
    assert bound.__doc__ == "Get the value."
    assert not iscoroutinefunction(bound)
    assert not inspect.iscoroutinefunction(bound)
    assert bound(2) == 42


def test_D17_class_access_returns_the_wrapper() -> None:
    assert isinstance(_Methods.get, AsyncToSync)
    assert _Methods.get(_Methods(1), 2) == 3


def test_fresh_loop_comes_from_the_current_policy() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # policies are deprecated in 3.14

        class BrokenPolicy(asyncio.DefaultEventLoopPolicy):
            def new_event_loop(self) -> asyncio.AbstractEventLoop:
                raise OSError("no loop for you")

        previous = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(BrokenPolicy())

    class PlainAwaitable:
        def __await__(self) -> Generator[None, None, int]:
            yield
            return 1

    try:
        with pytest.raises(OSError, match="no loop for you"):
            async_to_sync(documented)(1)
        with pytest.raises(OSError, match="no loop for you"):
            async_to_sync(markcoroutinefunction(PlainAwaitable))()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_event_loop_policy(previous)


def test_leftover_task_failing_on_cancel_is_reported_to_the_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def spawn() -> None:
        async def stubborn() -> None:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                raise LookupError("failed while cancelled") from None

        leftovers.append(asyncio.ensure_future(stubborn()))
        await asyncio.sleep(0)

    leftovers: list[asyncio.Task[None]] = []
    with caplog.at_level("ERROR", logger="asyncio"):
        async_to_sync(spawn)()
    assert "unhandled exception during async_to_sync() shutdown" in caplog.text
    assert isinstance(leftovers[0].exception(), LookupError)
