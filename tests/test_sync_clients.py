"""How real clients use the bridges' internals (Django, Channels, daphne)."""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import asgiref
from asgiref.sync import AsyncToSync, SyncToAsync, async_to_sync, sync_to_async

# -- Channels: DatabaseSyncToAsync -----------------------------------------------------

_closed_on: list[int] = []


def close_old_connections() -> None:
    _closed_on.append(threading.get_ident())


class DatabaseSyncToAsync(SyncToAsync[Any, Any]):
    """Channels' subclass, verbatim in shape: ``thread_handler(self, loop, *args, **kwargs)``."""

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            close_old_connections()


database_sync_to_async = DatabaseSyncToAsync


@database_sync_to_async
def get_user(name: str) -> tuple[str, int]:
    return name, threading.get_ident()


class Consumer:
    @database_sync_to_async
    def get_room(self, room: str) -> tuple[str, int]:
        return room, threading.get_ident()


@pytest.mark.asyncio
async def test_R1_channels_subclass_wraps_the_call_on_the_worker_thread() -> None:
    _closed_on.clear()
    name, ran_on = await get_user("alice")
    assert name == "alice"
    assert _closed_on == [ran_on, ran_on]
    _closed_on.clear()
    room, ran_on = await Consumer().get_room("lobby")
    assert room == "lobby"
    assert _closed_on == [ran_on, ran_on]


# -- APM agents ----------------------------------------------------------------------


@pytest.fixture
def apm_patch() -> Iterator[list[tuple[Any, ...]]]:
    """Monkeypatch the class like an APM agent: inject in ``__call__``, pop in the worker."""
    seen: list[tuple[Any, ...]] = []
    original_call = SyncToAsync.__call__
    original_handler = SyncToAsync.thread_handler

    async def traced_call(self: SyncToAsync[Any, Any], *args: Any, **kwargs: Any) -> Any:
        kwargs["_apm_transaction"] = "txn-1"
        return await original_call(self, *args, **kwargs)

    def traced_handler(
        self: SyncToAsync[Any, Any],
        loop: Any,
        exc_info: Any,
        task_context: Any,
        func: Callable[..., Any],
        child: functools.partial[Any],
    ) -> Any:
        transaction = child.keywords.pop("_apm_transaction")
        seen.append((transaction, loop, exc_info, child.func, child.args, threading.get_ident()))
        return original_handler(self, loop, exc_info, task_context, func, child)

    SyncToAsync.__call__ = traced_call  # type: ignore[method-assign,assignment]
    SyncToAsync.thread_handler = traced_handler  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        SyncToAsync.__call__ = original_call  # type: ignore[method-assign]
        SyncToAsync.thread_handler = original_handler  # type: ignore[method-assign]


@pytest.mark.asyncio
async def test_R2_apm_keyword_injected_in_call_is_popped_in_thread_handler(
    apm_patch: list[tuple[Any, ...]],
) -> None:
    def view(request: str, *, page: int) -> tuple[str, int, int]:
        return request, page, threading.get_ident()

    wrapper = sync_to_async(view)
    try:
        raise KeyError("active")
    except KeyError:
        request, page, ran_on = await wrapper("req", page=2)
    assert (request, page) == ("req", 2)
    [(transaction, loop, exc_info, func, args, handler_thread)] = apm_patch
    assert transaction == "txn-1"
    assert loop is asyncio.get_running_loop()
    assert isinstance(exc_info[1], KeyError)
    assert func is view
    assert args == ("req",)
    assert handler_thread == ran_on


@pytest.mark.asyncio
async def test_R1_child_keywords_changed_in_place_take_effect() -> None:
    class Injecting(SyncToAsync[Any, Any]):
        def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
            args[-1].keywords["extra"] = "added"
            return super().thread_handler(loop, *args, **kwargs)

    def f(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    assert await Injecting(f)(given=1) == {"given": 1, "extra": "added"}


@pytest.mark.asyncio
async def test_R1_thread_handler_result_and_error_are_the_outcome() -> None:
    class Replacing(SyncToAsync[Any, Any]):
        def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
            if args[-1].args == ("fail",):
                raise LookupError("from handler")
            return "replaced"

    def identity(x: str) -> str:
        return x

    wrapper = Replacing(identity)
    assert await wrapper("x") == "replaced"
    with pytest.raises(LookupError, match="from handler"):
        await wrapper("fail")


# -- Django ----------------------------------------------------------------------------


def test_R4_django_isinstance_check_on_async_test_methods() -> None:
    class TestCase:
        async def test_method(self) -> None:
            pass

    case = TestCase()
    method = async_to_sync(case.test_method)
    case.test_method = method  # type: ignore[method-assign,assignment]
    assert isinstance(case.test_method, AsyncToSync)
    case.test_method()


# -- traceback hiding [traceback-hide] -----------------------------------------------------------


def _package_frames(tb: types.TracebackType | None) -> list[types.FrameType]:
    root = asgiref.__file__.rsplit("/", 1)[0]
    frames = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(root):
            frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


@pytest.mark.asyncio
async def test_R11_bridge_frames_hide_from_tracebacks_sync_to_async() -> None:
    def fails() -> None:
        raise ValueError("deep")

    with pytest.raises(ValueError, match="deep") as info:
        await sync_to_async(fails)()
    frames = _package_frames(info.value.__traceback__)
    assert len(frames) >= 3
    assert all(frame.f_locals.get("__traceback_hide__") is True for frame in frames)


def test_R11_bridge_frames_hide_from_tracebacks_async_to_sync() -> None:
    async def fails() -> None:
        raise ValueError("deep")

    with pytest.raises(ValueError, match="deep") as info:
        async_to_sync(fails)()
    frames = _package_frames(info.value.__traceback__)
    assert len(frames) >= 2
    assert all(frame.f_locals.get("__traceback_hide__") is True for frame in frames)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="inspect sees markers from 3.12")
def test_R5_inspect_detects_wrappers_and_bound_methods() -> None:
    import inspect

    assert inspect.iscoroutinefunction(database_sync_to_async(close_old_connections))
    assert inspect.iscoroutinefunction(Consumer().get_room)
