"""``asgiref.local.Local``: API, error texts, default-mode semantics without bridges, memory.

Bridges are covered in ``test_local_bridges.py``, thread-critical mode in
``test_local_thread_critical.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import copy
import gc
import pickle
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import asgiref.local
from asgiref.local import Local

BOTH_MODES = pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "tc"])


def in_thread(fn: Callable[[], Any], *, ctx: contextvars.Context | None = None) -> Any:
    """Run ``fn`` in a new plain thread (optionally inside ``ctx``) and return its result."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn() if ctx is None else ctx.run(fn))
        except BaseException as exc:  # pragma: no cover - only reached when a test fails
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:  # pragma: no cover - only reached when a test fails
        raise errors[0]
    return result[0]


@pytest.fixture
def gc_disabled() -> Iterator[None]:
    """Disable the cyclic GC and save what it finds, restoring both afterwards."""
    was_enabled = gc.isenabled()
    flags = gc.get_debug()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


# --- construction and class identity ---------------------------------------------------


def test_module_exports_only_local() -> None:
    assert asgiref.local.__all__ == ["Local"]
    assert Local.__module__ == "asgiref.local"


@pytest.mark.parametrize(
    "make",
    [Local, lambda: Local(False), lambda: Local(thread_critical=False)],
    ids=["no-arg", "positional", "keyword"],
)
def test_default_mode_constructors(make: Callable[[], Local]) -> None:
    local = make()
    assert isinstance(local, Local)
    assert "thread_critical=False" in repr(local)


@pytest.mark.parametrize(
    "make", [lambda: Local(True), lambda: Local(thread_critical=True)], ids=["pos", "kw"]
)
def test_thread_critical_can_be_passed_positionally_or_by_keyword(
    make: Callable[[], Local],
) -> None:
    local = make()
    assert isinstance(local, Local)
    assert "thread_critical=True" in repr(local)


def test_unknown_constructor_argument_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Local(thread_critical=False, other=1)  # type: ignore[call-arg]  # the point of the test


def test_subclass_can_be_defined_but_instantiating_it_raises_type_error() -> None:
    class Sub(Local):  # type: ignore[misc]  # Local is final: that is what is tested
        pass

    with pytest.raises(TypeError, match=r"^asgiref\.local\.Local cannot be subclassed"):
        Sub()
    with pytest.raises(TypeError, match=r"^asgiref\.local\.Local cannot be subclassed"):
        Sub(thread_critical=True)


@BOTH_MODES
def test_local_is_neither_copyable_nor_picklable(thread_critical: bool) -> None:
    local = Local(thread_critical)
    with pytest.raises(TypeError):
        copy.copy(local)
    with pytest.raises(TypeError):
        pickle.dumps(local)


@BOTH_MODES
def test_instances_are_hashable_truthy_and_compare_by_identity(thread_critical: bool) -> None:
    first, second = Local(thread_critical), Local(thread_critical)
    assert bool(first)
    assert bool(second)
    assert first != second
    assert first == first  # identity comparison is the point
    assert len({first, second}) == 2
    assert weakref.ref(first)() is first


@BOTH_MODES
def test_local_is_not_a_sequence(thread_critical: bool) -> None:
    local: Any = Local(thread_critical)
    with pytest.raises(TypeError, match="not a sequence"):
        len(local)
    with pytest.raises(TypeError, match="not a sequence"):
        iter(local)
    with pytest.raises(TypeError, match="not a sequence"):
        "x" in local  # noqa: B015  # the containment test itself is what is tested
    with pytest.raises(TypeError, match="not a sequence"):
        local[0] = 1
    with pytest.raises(TypeError, match="not a sequence"):
        del local[0]


# --- attribute protocol -----------------------------------------------------------------


@BOTH_MODES
def test_dynamic_names_work_with_setattr_getattr_hasattr_delattr(thread_critical: bool) -> None:
    local = Local(thread_critical)
    for index in range(20):
        setattr(local, f"alias_{index}", index)
    assert all(getattr(local, f"alias_{i}") == i for i in range(20))
    assert hasattr(local, "alias_3")
    delattr(local, "alias_3")
    assert not hasattr(local, "alias_3")
    assert getattr(local, "alias_3", "default") == "default"
    assert getattr(local, "alias_4", "default") == 4


@BOTH_MODES
def test_replacing_and_deleting_values(thread_critical: bool) -> None:
    local = Local(thread_critical)
    local.x = 1
    local.x = 2
    assert local.x == 2
    del local.x
    assert not hasattr(local, "x")
    local.x = 3
    assert local.x == 3


@BOTH_MODES
def test_D12_missing_attribute_message_names_the_attribute(thread_critical: bool) -> None:
    """[D12] ``'Local' object has no attribute 'x'`` with ``.name`` set, in both modes."""
    local = Local(thread_critical)
    with pytest.raises(
        AttributeError, match=r"^'Local' object has no attribute 'missing'$"
    ) as info:
        local.missing
    assert info.value.name == "missing"
    assert info.value.obj is local


@BOTH_MODES
def test_D12_deleting_a_missing_attribute_raises_attribute_error(thread_critical: bool) -> None:
    local = Local(thread_critical)
    with pytest.raises(AttributeError, match=r"^'Local' object has no attribute 'nope'$") as info:
        del local.nope
    assert info.value.name == "nope"
    local.nope = 1
    del local.nope
    with pytest.raises(AttributeError, match="'nope'"):
        del local.nope


@BOTH_MODES
def test_D25_reserved_name_data_cannot_be_set_or_deleted(thread_critical: bool) -> None:
    """[D25] ``_data`` is reserved: set and delete raise, and user data is left intact."""
    local = Local(thread_critical)
    local.value = "kept"
    with pytest.raises(AttributeError, match=r"^Cannot set attribute '_data' on Local$"):
        local._data = 1
    with pytest.raises(AttributeError, match=r"^Cannot set attribute '_data' on Local$"):
        del local._data
    assert not hasattr(local, "_data")
    assert local.value == "kept"


@BOTH_MODES
@pytest.mark.parametrize("name", ["_lock", "_storage", "_thread_critical", "__foo__", "count"])
def test_D25_other_names_are_user_data(thread_critical: bool, name: str) -> None:
    """[D25] Names asgiref's internals silently shadowed are ordinary user data here."""
    local = Local(thread_critical)
    assert not hasattr(local, name)
    setattr(local, name, "user")
    assert getattr(local, name) == "user"
    delattr(local, name)
    assert not hasattr(local, name)


@BOTH_MODES
def test_class_attributes_are_still_reachable(thread_critical: bool) -> None:
    local = Local(thread_critical)
    assert local.__class__ is type(local)
    assert isinstance(local.__repr__(), str)
    assert not hasattr(local, "__dict__")


# --- default mode: contexts, tasks, threads ------------------------------------------------


def test_value_is_visible_to_all_sync_code_in_the_thread() -> None:
    local = Local()

    def reader() -> Any:
        return local.x

    local.x = "here"
    assert reader() == "here"
    assert contextvars.copy_context().run(reader) == "here"


def test_value_set_in_a_copied_context_stays_there() -> None:
    local = Local()
    local.x = "outer"

    def writer() -> None:
        local.x = "inner"
        local.y = "new"

    contextvars.copy_context().run(writer)
    assert local.x == "outer"
    assert not hasattr(local, "y")


def test_empty_context_sees_nothing() -> None:
    local = Local()
    local.x = 1
    assert contextvars.Context().run(hasattr, local, "x") is False


def test_new_thread_starts_empty_and_its_writes_never_leak_back() -> None:
    local = Local()
    local.x = "main"

    def worker() -> tuple[bool, Any]:
        seen = hasattr(local, "x")
        local.x = "thread"
        local.y = "thread"
        return seen, local.x

    assert in_thread(worker) == (False, "thread")
    assert local.x == "main"
    assert not hasattr(local, "y")


def test_thread_running_a_copy_of_the_writers_context_sees_nothing() -> None:
    """Like Python 3.14's inheriting threads: a copied context is not a bridge."""
    local = Local()
    local.x = "main"
    ctx = contextvars.copy_context()

    def worker() -> tuple[bool, bool, Any]:
        seen = hasattr(local, "x")
        local.y = "thread"
        return seen, hasattr(local, "x"), local.y

    assert in_thread(worker, ctx=ctx) == (False, False, "thread")
    assert not hasattr(local, "y")
    assert local.x == "main"


def test_a_copy_back_on_the_writers_thread_shows_its_values_unless_another_thread_wrote() -> None:
    local = Local()
    other = Local()
    local.x = "main"
    only_read = contextvars.copy_context()
    written = contextvars.copy_context()

    def reader() -> bool:
        return hasattr(local, "x")

    def writer() -> bool:
        other.y = "thread"
        return hasattr(local, "x")

    assert in_thread(reader, ctx=only_read) is False
    assert in_thread(writer, ctx=written) is False
    assert only_read.run(getattr, local, "x") == "main"
    assert written.run(hasattr, local, "x") is False  # forgotten when the thread wrote
    assert written.run(hasattr, other, "y") is False  # the thread's, not ours
    assert local.x == "main"


@pytest.mark.skipif(sys.version_info < (3, 14), reason="Thread(context=) is new in 3.14")
def test_thread_started_with_context_argument_sees_nothing() -> None:  # pragma: no cover
    local = Local()
    local.x = "main"
    seen: list[bool] = []
    thread = threading.Thread(  # type: ignore[call-arg]  # 3.14 parameter
        target=lambda: seen.append(hasattr(local, "x")), context=contextvars.copy_context()
    )
    thread.start()
    thread.join()
    assert seen == [False]


def test_thread_pool_workers_see_nothing() -> None:
    local = Local()
    local.x = "main"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        ctx = contextvars.copy_context()
        assert pool.submit(ctx.run, hasattr, local, "x").result() is False
        assert pool.submit(hasattr, local, "x").result() is False


@pytest.mark.asyncio
async def test_to_thread_and_run_in_executor_see_nothing_and_do_not_leak_back() -> None:
    local = Local()
    local.x = "task"

    def worker() -> bool:
        seen = hasattr(local, "x")
        local.x = "worker"
        local.y = "worker"
        return seen

    assert await asyncio.to_thread(worker) is False
    assert await asyncio.get_running_loop().run_in_executor(None, worker) is False
    assert local.x == "task"
    assert not hasattr(local, "y")


@pytest.mark.asyncio
async def test_run_coroutine_threadsafe_from_a_foreign_thread_sees_nothing() -> None:
    local = Local()
    loop = asyncio.get_running_loop()

    async def reader() -> bool:
        seen = hasattr(local, "x")
        local.z = "from coroutine"
        return seen

    def foreign() -> bool:
        local.x = "foreign thread"
        return asyncio.run_coroutine_threadsafe(reader(), loop).result()

    assert await asyncio.to_thread(foreign) is False
    assert not hasattr(local, "x")
    assert not hasattr(local, "z")


@pytest.mark.asyncio
async def test_new_task_sees_values_present_at_its_creation() -> None:
    local = Local()
    local.x = "parent"
    started = asyncio.Event()
    proceed = asyncio.Event()

    async def child() -> tuple[Any, Any, bool]:
        first = local.x
        started.set()
        await proceed.wait()
        return first, local.x, hasattr(local, "later")

    task = asyncio.create_task(child())
    await started.wait()
    local.x = "parent changed"
    local.later = True
    proceed.set()
    assert await task == ("parent", "parent", False)


@pytest.mark.asyncio
async def test_child_task_writes_and_deletes_are_not_seen_by_the_parent() -> None:
    local = Local()
    local.x = "parent"
    local.d = "parent"

    async def child() -> None:
        local.x = "child"
        local.y = "child"
        del local.d

    await asyncio.create_task(child())
    assert local.x == "parent"
    assert not hasattr(local, "y")
    assert local.d == "parent"


@pytest.mark.asyncio
async def test_delete_removes_the_value_in_the_current_context_only() -> None:
    local = Local()
    local.x = "shared"
    deleted = asyncio.Event()

    async def holder() -> Any:
        await deleted.wait()
        return local.x

    task = asyncio.create_task(holder())
    del local.x
    deleted.set()
    assert await task == "shared"
    assert not hasattr(local, "x")


@pytest.mark.asyncio
async def test_100_concurrent_tasks_never_see_another_tasks_value() -> None:
    local = Local()
    errors: list[str] = []

    async def worker(index: int) -> None:
        for step in range(1000):
            value = (index, step)
            local.value = value
            if step % 10 == 0:
                await asyncio.sleep(0)
            if local.value != value:  # pragma: no cover - only reached on a leak
                errors.append(f"task {index} saw {local.value} at step {step}")
            if step % 100 == 0:
                del local.value
                local.value = value

    await asyncio.gather(*(worker(index) for index in range(100)))
    assert errors == []
    assert not hasattr(local, "value")


def test_concurrent_threads_share_one_instance_without_interference() -> None:
    local = Local()
    threads = 8
    barrier = threading.Barrier(threads)
    failures: list[str] = []

    def worker(index: int) -> None:
        barrier.wait()
        for step in range(2000):
            name = f"n{step % 7}"
            setattr(local, name, (index, step))
            if getattr(local, name) != (index, step):  # pragma: no cover - only on a race
                failures.append(f"thread {index} step {step}")
            if step % 3 == 0:
                delattr(local, name)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []


# --- memory ---------------------------------------------------------------------------------


@BOTH_MODES
@pytest.mark.usefixtures("gc_disabled")
def test_set_get_delete_in_sync_code_create_no_reference_cycles(thread_critical: bool) -> None:
    local = Local(thread_critical)
    local.warm = 1  # first use of a name may allocate long-lived bookkeeping
    del local.warm
    gc.collect()
    gc.garbage.clear()
    for index in range(10_000):
        local.warm = [index]
        assert local.warm == [index]
        assert hasattr(local, "warm")
        del local.warm
        assert not hasattr(local, "warm")
        assert getattr(local, "warm", None) is None
    assert gc.collect() == 0
    assert gc.garbage == []


@BOTH_MODES
def test_replaced_and_deleted_values_are_freed_by_reference_counting(
    thread_critical: bool,
) -> None:
    class Value:
        pass

    local = Local(thread_critical)
    first, second = Value(), Value()
    refs = [weakref.ref(first), weakref.ref(second)]
    local.x = first
    local.x = second
    del first, second
    assert refs[0]() is None
    del local.x
    assert refs[1]() is None
