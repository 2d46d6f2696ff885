"""What a ``Local`` keeps in memory once its names or the ``Local`` itself are gone [D40]."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
import tracemalloc
import weakref
from collections.abc import Callable

import pytest

from asgiref.local import Local

N = 100_000
MIB = 1 << 20

# Interned up front and kept alive: ``setattr`` interns attribute names, and the
# interpreter's table of interned strings grows (and never shrinks) while new names
# arrive; that growth is not ``Local``'s memory.
NAMES = [sys.intern(f"name{i}") for i in range(N)]


class Value:
    """A value that can be watched with a weak reference."""


def _retained(scenario: Callable[[], None]) -> int:
    """Bytes still allocated after ``scenario`` ran (once to warm up, once measured)."""
    scenario()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        scenario()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "thread_critical"])
def test_D40_many_names_set_then_deleted_on_one_local_retain_under_1_mib(
    thread_critical: bool,
) -> None:
    def scenario() -> None:
        local = Local(thread_critical)
        for name in NAMES:
            setattr(local, name, 1)
        for name in NAMES:
            delattr(local, name)

    assert _retained(scenario) < MIB


@pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "thread_critical"])
def test_D40_many_names_each_set_and_deleted_on_one_local_retain_under_1_mib(
    thread_critical: bool,
) -> None:
    def scenario() -> None:
        local = Local(thread_critical)
        for name in NAMES:
            setattr(local, name, 1)
            delattr(local, name)

    assert _retained(scenario) < MIB


@pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "thread_critical"])
def test_D40_many_dropped_locals_retain_under_1_mib(thread_critical: bool) -> None:
    def scenario() -> None:
        for _ in range(N):
            local = Local(thread_critical)
            local.x = Value()

    assert _retained(scenario) < MIB


def test_D40_a_collected_local_releases_its_value_in_the_context_that_drops_it() -> None:
    local = Local()
    value = Value()
    local.x = value
    ref = weakref.ref(value)
    del value, local
    gc.collect()
    assert ref() is None


def test_D40_a_collected_local_releases_values_of_contexts_that_are_gone() -> None:
    # This context gives the name its first key; every other context is gone by the
    # time the ``Local`` is collected here.
    box = [Local()]
    box[0].x = Value()
    refs: list[weakref.ref[Value]] = [weakref.ref(box[0].x)]

    def set_in_thread() -> None:
        value = Value()
        refs.append(weakref.ref(value))
        box[0].x = value

    thread = threading.Thread(target=set_in_thread)
    thread.start()
    thread.join(10)

    async def set_in_task() -> None:
        value = Value()
        refs.append(weakref.ref(value))
        box[0].x = value

    asyncio.run(set_in_task())
    contextvars.copy_context().run(set_in_thread)
    box.clear()
    gc.collect()
    assert [ref() for ref in refs] == [None] * 4


def test_D40_a_local_collected_while_another_context_runs_leaves_the_value_to_this_context() -> (
    None
):
    local = Local()
    value = Value()
    local.x = value
    ref = weakref.ref(value)
    holder = [local]
    del value, local
    contextvars.copy_context().run(holder.clear)  # the last reference goes in a copy
    gc.collect()
    assert ref() is not None  # this context still holds it, and frees it when it dies

    def in_a_fresh_context() -> None:
        fresh = Local()
        kept = Value()
        fresh.x = kept
        refs.append(weakref.ref(kept))
        holders.append(fresh)

    refs: list[weakref.ref[Value]] = []
    holders: list[Local] = []
    context = contextvars.Context()
    context.run(in_a_fresh_context)
    holders.clear()  # collected here, not in ``context``
    del context  # ``context`` is gone, and so is the value
    gc.collect()
    assert refs[0]() is None


def test_D40_a_deleted_name_stays_visible_in_a_copy_made_before_the_delete() -> None:
    local = Local()
    local.x = "mine"
    copied = contextvars.copy_context()
    del local.x  # takes the key out of this context and parks the name
    assert not hasattr(local, "x")
    assert copied.run(getattr, local, "x") == "mine"
    copied.run(setattr, local, "x", "copy's")  # brings the name back
    assert copied.run(getattr, local, "x") == "copy's"
    assert not hasattr(local, "x")
    local.x = "again"
    assert local.x == "again"
    assert copied.run(getattr, local, "x") == "copy's"


def test_D40_a_delete_in_a_copy_writes_deleted_there_and_keeps_the_original() -> None:
    local = Local()
    local.x = "original"
    copied = contextvars.copy_context()
    copied.run(delattr, local, "x")
    assert local.x == "original"
    assert not copied.run(hasattr, local, "x")
    with pytest.raises(AttributeError):
        copied.run(delattr, local, "x")
    del local.x
    with pytest.raises(AttributeError):
        del local.x


def test_D40_a_parked_name_can_be_deleted_in_a_copy_that_still_has_it() -> None:
    local = Local()
    local.x = 1
    copied = contextvars.copy_context()
    del local.x
    copied.run(delattr, local, "x")
    assert not copied.run(hasattr, local, "x")
    assert not hasattr(local, "x")


def test_D40_a_name_set_again_after_its_delete_is_released_with_the_local() -> None:
    local = Local()
    local.x = Value()
    del local.x
    value = Value()
    local.x = value
    ref = weakref.ref(value)
    del value, local
    gc.collect()
    assert ref() is None


def test_D40_names_set_in_loop_code_go_with_their_task() -> None:
    box = [Local()]
    refs: list[weakref.ref[Value]] = []

    async def main() -> None:
        value = Value()
        refs.append(weakref.ref(value))
        box[0].x = value
        del box[0].x
        box[0].y = value

    asyncio.run(main())
    box.clear()
    gc.collect()
    assert refs[0]() is None


def test_D40_concurrent_threads_setting_and_deleting_one_name_never_lose_a_value() -> None:
    local = Local()
    errors: list[str] = []
    start = threading.Barrier(4)

    def churn(tag: int) -> None:
        start.wait()
        for i in range(2000):
            value = (tag, i)
            local.x = value
            if local.x != value:
                errors.append(f"thread {tag} read {local.x!r} after writing {value!r}")
            del local.x
            if hasattr(local, "x"):
                errors.append(f"thread {tag} still sees x after deleting it")

    threads = [threading.Thread(target=churn, args=(tag,)) for tag in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
