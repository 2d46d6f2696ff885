"""``Local(thread_critical=True)``: per-thread state, split by "is a loop running here"."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from asgiref.local import Local
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async


def run_in_new_thread(fn: Callable[[], Any]) -> Any:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


# --- no running loop: exactly threading.local ---------------------------------------------


def test_sync_value_is_visible_to_all_code_in_the_thread_regardless_of_context() -> None:
    local = Local(thread_critical=True)

    def write_in_a_copy() -> None:
        local.x = "written in a copied context"

    contextvars.copy_context().run(write_in_a_copy)
    assert local.x == "written in a copied context"
    assert contextvars.Context().run(lambda: local.x) == "written in a copied context"


def test_each_thread_has_its_own_values() -> None:
    local = Local(thread_critical=True)
    local.x = "main"

    def other() -> tuple[bool, Any]:
        seen = hasattr(local, "x")
        local.x = "other"
        return seen, local.x

    assert run_in_new_thread(other) == (False, "other")
    assert local.x == "main"


def test_concurrent_threads_do_not_interfere() -> None:
    local = Local(thread_critical=True)
    barrier = threading.Barrier(6)
    failures: list[int] = []

    def worker(index: int) -> None:
        barrier.wait()
        for step in range(2000):
            local.value = (index, step)
            if local.value != (index, step):  # pragma: no cover - only on a race
                failures.append(index)
            if step % 5 == 0:
                del local.value

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# --- the two storages are separate ---------------------------------------------------------


def test_sync_and_async_storages_are_separate() -> None:
    local = Local(thread_critical=True)
    local.x = "sync"

    async def main() -> tuple[bool, Any]:
        seen = hasattr(local, "x")
        local.x = "async"
        local.only_async = True
        return seen, local.x

    assert asyncio.run(main()) == (False, "async")
    assert local.x == "sync"
    assert not hasattr(local, "only_async")


def test_async_values_are_not_seen_by_sync_code_entering_the_tasks_context_later() -> None:
    local = Local(thread_critical=True)
    ctx = contextvars.copy_context()

    async def main() -> None:
        local.x = "async"

    with asyncio.Runner() as runner:
        runner.run(main(), context=ctx)
    assert ctx.run(hasattr, local, "x") is False

    async def other_loop() -> bool:
        return hasattr(local, "x")

    with asyncio.Runner() as runner:
        assert runner.run(other_loop(), context=ctx) is False


def test_stale_async_values_of_a_stopped_loop_are_replaced_by_a_new_loop() -> None:
    local = Local(thread_critical=True)
    ctx = contextvars.copy_context()

    async def write(value: str) -> None:
        local.x = value

    async def read() -> Any:
        return getattr(local, "x", None)

    async def delete() -> None:
        del local.x

    with asyncio.Runner() as runner:
        runner.run(write("first"), context=ctx)
    with asyncio.Runner() as runner:
        assert runner.run(read(), context=ctx) is None
        with pytest.raises(AttributeError, match="'x'"):
            runner.run(delete(), context=ctx)
        runner.run(write("second"), context=ctx)
        assert runner.run(read(), context=ctx) == "second"
        runner.run(delete(), context=ctx)
        assert runner.run(read(), context=ctx) is None


# --- running loop: context-local within the thread -----------------------------------------


@pytest.mark.asyncio
async def test_tasks_on_one_loop_are_isolated_like_context_variables() -> None:
    local = Local(thread_critical=True)
    local.x = "parent"
    started = asyncio.Event()
    proceed = asyncio.Event()

    async def child() -> tuple[Any, Any]:
        first = local.x
        local.mine = "child"
        started.set()
        await proceed.wait()
        return first, local.x

    task = asyncio.create_task(child())
    await started.wait()
    local.x = "parent later"
    proceed.set()
    assert await task == ("parent", "parent")
    assert not hasattr(local, "mine")


@pytest.mark.asyncio
async def test_async_delete_and_missing_names() -> None:
    local = Local(thread_critical=True)
    with pytest.raises(AttributeError, match=r"^'Local' object has no attribute 'x'$"):
        local.x
    with pytest.raises(AttributeError, match="'x'"):
        del local.x
    local.x = 1
    local.y = 2
    del local.x
    assert not hasattr(local, "x")
    assert local.y == 2
    with pytest.raises(AttributeError, match="'x'"):
        del local.x


@pytest.mark.asyncio
async def test_async_values_are_not_visible_in_executor_threads() -> None:
    local = Local(thread_critical=True)
    local.x = "loop"
    loop = asyncio.get_running_loop()
    assert await asyncio.to_thread(hasattr, local, "x") is False
    assert await loop.run_in_executor(None, hasattr, local, "x") is False


# --- across the bridges --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_sync_to_async_does_not_see_the_tasks_value_and_writes_stay_on_the_worker() -> None:
    local = Local(thread_critical=True)
    local.x = "task"

    def sync_code() -> bool:
        seen = hasattr(local, "x")
        local.x = "worker"
        local.y = "worker"
        return seen

    assert await sync_to_async(sync_code)() is False
    assert local.x == "task"
    assert not hasattr(local, "y")
    assert await sync_to_async(lambda: local.y)() == "worker"


@pytest.mark.asyncio
async def test_calls_from_different_tasks_on_the_same_sync_thread_share_values() -> None:
    local = Local(thread_critical=True)
    first_done = asyncio.Event()

    def write() -> int:
        local.connection = "opened by task one"
        return threading.get_ident()

    def read() -> tuple[Any, int]:
        return getattr(local, "connection", None), threading.get_ident()

    async def task_one() -> int:
        thread = await sync_to_async(write)()
        first_done.set()
        return thread

    async def task_two() -> tuple[Any, int]:
        await first_done.wait()
        return await sync_to_async(read)()

    thread_one, (seen, thread_two) = await asyncio.gather(task_one(), task_two())
    assert thread_one == thread_two
    assert seen == "opened by task one"


@pytest.mark.asyncio
async def test_values_persist_across_thread_sensitive_contexts_sharing_an_executor() -> None:
    local = Local(thread_critical=True)
    with concurrent.futures.ThreadPoolExecutor(1) as executor:

        def write() -> None:
            local.connection = "per-thread connection"

        def read() -> Any:
            return getattr(local, "connection", None)

        async with ThreadSensitiveContext(executor=executor):
            await sync_to_async(write)()
        async with ThreadSensitiveContext(executor=executor):
            assert await sync_to_async(read)() == "per-thread connection"


def test_async_to_sync_from_sync_code_does_not_see_the_sync_value() -> None:
    local = Local(thread_critical=True)
    local.x = "sync"

    async def async_code() -> bool:
        seen = hasattr(local, "x")
        local.x = "coroutine"
        return seen

    assert async_to_sync(async_code)() is False
    assert local.x == "sync"


@pytest.mark.asyncio
async def test_value_set_on_the_loop_thread_is_seen_again_back_on_that_thread() -> None:
    """Edge case kept from asgiref: async -> sync -> async on the same loop and thread."""
    local = Local(thread_critical=True)
    local.x = "loop thread"

    async def inner() -> Any:
        local.y = "written by the inner coroutine"
        return local.x

    def middle() -> tuple[bool, Any]:
        return hasattr(local, "x"), async_to_sync(inner)()

    assert await sync_to_async(middle)() == (False, "loop thread")
    assert local.y == "written by the inner coroutine"  # flows back like a ContextVar


# --- loops that do not record the thread running them (the exact slow path) ---------------


class _LoopWithoutThreadId(asyncio.SelectorEventLoop):
    """Hides ``_thread_id`` like loops that are not ``asyncio.BaseEventLoop`` subclasses."""

    _running_in: int | None = None

    @property
    def _thread_id(self) -> int | None:
        raise AttributeError("_thread_id")

    @_thread_id.setter
    def _thread_id(self, value: int | None) -> None:
        self._running_in = value

    def is_running(self) -> bool:
        return self._running_in is not None


def _run_on_loop_without_thread_id(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    with asyncio.Runner(loop_factory=_LoopWithoutThreadId) as runner:
        return runner.run(main())


def test_loops_without_thread_record_take_the_exact_path() -> None:
    local = Local(thread_critical=True)
    local.x = "sync"

    async def main() -> list[Any]:
        seen = [hasattr(local, "x")]
        local.x = "async"
        local.x = "async again"
        seen.append(local.x)
        del local.x
        seen.append(hasattr(local, "x"))
        with pytest.raises(AttributeError):
            del local.x
        local.y = "y"
        seen.append(local.y)
        return seen

    assert _run_on_loop_without_thread_id(main) == [False, "async again", False, "y"]
    assert local.x == "sync"
    assert not hasattr(local, "y")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.skipif(sys.version_info >= (3, 12), reason="fork with threads warns on 3.12+")
def test_a_child_forked_inside_a_running_loop_uses_the_thread_local_storage() -> None:
    """The dead parent loop must not look as if it still ran in the child (3.11 fast path)."""
    local = Local(thread_critical=True)
    local.x = "sync"

    async def main() -> tuple[int, int]:
        local.x = "async"
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process (coverage does not follow)
            os.close(read)
            os.write(write, repr(getattr(local, "x", None)).encode())
            os._exit(0)
        os.close(write)
        return pid, read

    pid, read = asyncio.run(main())
    with os.fdopen(read) as pipe:
        seen = pipe.read()
    assert os.waitpid(pid, 0)[1] == 0
    assert seen == "'sync'"
