"""``sync_to_async`` / ``SyncToAsync``: construction, wrapper object, calling."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from asgiref.local import Local
from asgiref.sync import (
    SyncToAsync,
    async_to_sync,
    iscoroutinefunction,
    markcoroutinefunction,
    sync_to_async,
)

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


def _thread_name() -> str:
    return threading.current_thread().name


# -- construction ---------------------------------------------------------------------


async def _async_fn() -> None:
    pass


class _AsyncCallable:
    async def __call__(self) -> None:
        pass


def _generator() -> Iterator[int]:
    yield 1


class _GeneratorCallable:
    def __call__(self) -> Iterator[int]:
        yield 1

    def method(self) -> Iterator[int]:
        yield 1


@pytest.mark.parametrize(
    "func",
    [
        1,
        _async_fn,
        functools.partial(_async_fn),
        _AsyncCallable(),
        markcoroutinefunction(lambda: None),
    ],
    ids=["not-callable", "async-def", "async-partial", "async-call", "marked"],
)
def test_rejects_non_sync_functions(func: Any) -> None:
    with pytest.raises(
        TypeError, match=r"^sync_to_async can only be applied to sync functions\.; got "
    ):
        sync_to_async(func)


@pytest.mark.parametrize(
    "func",
    [
        _generator,
        functools.partial(_generator),
        _GeneratorCallable(),
        _GeneratorCallable().method,
    ],
    ids=["function", "partial", "call", "bound-method"],
)
def test_D10_generator_functions_are_rejected(func: Any) -> None:
    with pytest.raises(
        TypeError, match=r"^sync_to_async cannot be applied to generator functions; got "
    ):
        sync_to_async(func)


# -- construction fast path (issue 12 item 7): the same object as the general path ----------


class _GeneralPath(SyncToAsync[..., Any]):
    """A ``__setattr__`` override makes ``__init__`` take the general path."""

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)


class _WithProperty(SyncToAsync[..., Any]):
    """A data descriptor for an attribute ``__init__`` writes: the general path too."""

    @property
    def context(self) -> contextvars.Context | None:
        seen: contextvars.Context | None = self.__dict__["_seen_context"]
        return seen

    @context.setter
    def context(self, value: contextvars.Context | None) -> None:
        self.__dict__["_seen_context"] = value


class _Subclass(SyncToAsync[..., Any]):
    """Like channels' ``DatabaseSyncToAsync``: only overrides a method."""

    def thread_handler(self, *args: Any, **kwargs: Any) -> Any:
        return super().thread_handler(*args, **kwargs)


def _annotated(x: int, /, *, y: str = "y") -> str:
    """A docstring."""
    return f"{x}{y}"


@functools.wraps(_annotated)
def _decorated(*args: Any, **kwargs: Any) -> str:
    return _annotated(*args, **kwargs)


def _with_attributes() -> None:
    pass


_with_attributes.custom = ["a list"]  # type: ignore[attr-defined]
_with_attributes.__self__ = "not a method"  # type: ignore[attr-defined]


def _with_plain_attributes() -> None:
    pass


_with_plain_attributes.custom = ["a list"]  # type: ignore[attr-defined]


async def _async_generator() -> AsyncIterator[int]:
    yield 1


class _Targets:
    def method(self) -> None:
        """Method doc."""

    decorated = functools.wraps(method)(lambda self: None)

    @classmethod
    def klass(cls) -> None:
        pass

    @staticmethod
    def static() -> None:
        pass

    def __call__(self) -> None:
        pass


@pytest.mark.parametrize(
    "func",
    [
        _thread_name,
        _annotated,
        _decorated,
        _with_attributes,
        _with_plain_attributes,
        lambda: None,
        _async_generator,
        _Targets().method,
        _Targets().decorated,
        _Targets.klass,
        _Targets.static,
        _Targets(),
        functools.partial(_annotated, 1),
        len,
    ],
    ids=[
        "function",
        "annotated",
        "decorated",
        "attributes",
        "plain-attributes",
        "lambda",
        "async-generator",
        "method",
        "decorated-method",
        "classmethod",
        "staticmethod",
        "callable-object",
        "partial",
        "builtin",
    ],
)
@pytest.mark.parametrize("cls", [SyncToAsync, _Subclass], ids=["SyncToAsync", "subclass"])
def test_construction_fast_path_matches_the_general_path(func: Any, cls: type[Any]) -> None:
    context = contextvars.copy_context()
    fast = cls(func, thread_sensitive=False, context=context)
    general = _GeneralPath(func, thread_sensitive=False, context=context)
    assert list(vars(fast)) == list(vars(general))
    for name, value in vars(general).items():
        # Builtins create their name strings on each access: equal, not identical.
        assert vars(fast)[name] is value or (type(value) is str and vars(fast)[name] == value)
    assert iscoroutinefunction(fast)
    assert inspect.iscoroutinefunction(fast) is inspect.iscoroutinefunction(general)
    assert asyncio.iscoroutinefunction(fast)
    assert fast.__wrapped__ is func


def test_construction_fast_path_respects_subclass_descriptors_and_markers() -> None:
    context = contextvars.copy_context()
    wrapper = _WithProperty(_thread_name, context=context)
    assert wrapper.context is context
    assert "context" not in vars(wrapper)

    def marked() -> None:
        pass

    setattr(marked, "__call__", _async_fn)  # noqa: B010 - seen through __call__
    with pytest.raises(TypeError, match="can only be applied to sync functions"):
        sync_to_async(marked)
    mark_as_async = markcoroutinefunction(lambda: None)
    with pytest.raises(TypeError, match="can only be applied to sync functions"):
        sync_to_async(mark_as_async)


def test_async_check_comes_before_executor_check() -> None:
    with pytest.raises(TypeError, match="can only be applied to sync functions"):
        SyncToAsync(_async_fn, True, concurrent.futures.ThreadPoolExecutor(1))


def test_executor_with_thread_sensitive_is_rejected() -> None:
    with (
        concurrent.futures.ThreadPoolExecutor(1) as pool,
        pytest.raises(TypeError, match=r"^executor must not be set when thread_sensitive is True"),
    ):
        sync_to_async(_thread_name, executor=pool)


def test_only_func_is_positional() -> None:
    with pytest.raises(TypeError, match="positional"):
        sync_to_async(_thread_name, False)  # type: ignore[call-overload]


@pytest.mark.asyncio
async def test_async_generator_functions_are_accepted() -> None:
    async def agen() -> AsyncIterator[int]:
        yield 1

    wrapper = sync_to_async(agen)
    result = await wrapper()
    assert inspect.isasyncgen(result)
    await result.aclose()


def test_decorator_form_is_not_a_coroutine_function() -> None:
    decorator = sync_to_async(thread_sensitive=False)
    assert not iscoroutinefunction(decorator)
    assert not iscoroutinefunction(sync_to_async)
    wrapper = decorator(_thread_name)
    assert isinstance(wrapper, SyncToAsync)


# -- the wrapper object --------------------------------------------------------------


def _documented(a: int, *, b: str = "x") -> str:
    """Docstring of the sync function."""
    return f"{a}{b}"


_documented.custom = "attribute"  # type: ignore[attr-defined]


def test_wrapper_metadata_is_copied() -> None:
    wrapper = sync_to_async(_documented)
    assert wrapper.__name__ == "_documented"
    assert wrapper.__qualname__ == "_documented"
    assert wrapper.__module__ == __name__
    assert wrapper.__doc__ == "Docstring of the sync function."
    assert wrapper.__wrapped__ is _documented
    assert wrapper.custom == "attribute"  # type: ignore[attr-defined]
    assert inspect.signature(wrapper) == inspect.signature(_documented)
    assert wrapper.func is _documented
    assert wrapper.context is None


def test_outer_functools_wraps_sees_the_name() -> None:
    def outer(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        async def inner(*args: Any) -> Any:
            return await f(*args)

        return inner

    assert outer(sync_to_async(_documented)).__name__ == "_documented"


def test_func_attribute_named_context_does_not_change_the_context() -> None:
    def f() -> None:
        pass

    f.context = "not a context"  # type: ignore[attr-defined]
    assert sync_to_async(f).context is None
    ctx = contextvars.copy_context()
    assert sync_to_async(f, context=ctx).context is ctx


def test_bound_method_self_is_exposed() -> None:
    class Thing:
        def method(self) -> int:
            return 1

    thing = Thing()
    assert sync_to_async(thing.method).__self__ is thing


def test_wrapper_is_detected_as_coroutine_function() -> None:
    wrapper = sync_to_async(_thread_name)
    assert iscoroutinefunction(wrapper)
    if sys.version_info >= (3, 12):
        assert inspect.iscoroutinefunction(wrapper)


def test_subclass_with_default_arguments() -> None:
    class Sub(SyncToAsync[[], str]):
        pass

    wrapper = Sub(_thread_name)
    assert isinstance(wrapper, SyncToAsync)
    assert asyncio.run(wrapper()) == "asgiref-sync-thread"


class _Methods:
    def __init__(self, value: int) -> None:
        self.value = value

    @sync_to_async
    def get(self, extra: int) -> int:
        """Get the value."""
        return self.value + extra

    @staticmethod
    @sync_to_async
    def static(x: int) -> int:
        return x * 2

    @classmethod
    @sync_to_async
    def klass(cls, x: int) -> str:
        return f"{cls.__name__}{x}"


@pytest.mark.asyncio
async def test_instance_access_returns_marked_partial() -> None:
    obj = _Methods(40)
    bound = obj.get
    assert isinstance(bound, functools.partial)
    assert bound.__name__ == "get"  # type: ignore[attr-defined]
    assert bound.__doc__ == "Get the value."
    assert bound.__wrapped__ is _Methods.__dict__["get"].func  # type: ignore[attr-defined]
    assert iscoroutinefunction(bound)
    if sys.version_info >= (3, 12):
        assert inspect.iscoroutinefunction(bound)
    assert await obj.get(2) == 42


@pytest.mark.asyncio
async def test_D17_class_access_returns_the_wrapper() -> None:
    assert _Methods.get is _Methods.__dict__["get"]
    assert await _Methods.get(_Methods(1), 2) == 3


@pytest.mark.asyncio
async def test_staticmethod_and_classmethod_over_the_wrapper() -> None:
    assert await _Methods.static(4) == 8
    assert await _Methods(0).static(5) == 10
    assert await _Methods.klass(1) == "_Methods1"  # type: ignore[call-arg,arg-type]  # classmethod over a descriptor
    assert await _Methods(0).klass(2) == "_Methods2"


# -- calling -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_arguments_with_internal_names_reach_the_function() -> None:
    def f(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return args, kwargs

    names = {"context": 1, "task_context": 2, "loop": 3, "func": 4, "exc_info": 5, "self": 6}
    assert await sync_to_async(f)(1, 2, **names) == ((1, 2), names)


@pytest.mark.asyncio
async def test_thread_sensitive_calls_share_the_process_wide_sync_thread() -> None:
    first = await sync_to_async(threading.get_ident)()
    second = await sync_to_async(threading.get_ident)()
    assert first == second != threading.get_ident()


def test_process_wide_sync_thread_is_the_same_across_asyncio_run() -> None:
    async def ident() -> int:
        return await sync_to_async(threading.get_ident)()

    assert asyncio.run(ident()) == asyncio.run(ident())


@pytest.mark.asyncio
async def test_non_thread_sensitive_runs_on_the_default_executor() -> None:
    loop = asyncio.get_running_loop()
    default_ident = await loop.run_in_executor(None, threading.get_ident)
    pool_idents = {await sync_to_async(threading.get_ident, thread_sensitive=False)()}
    sync_thread = await sync_to_async(threading.get_ident)()
    assert sync_thread not in pool_idents
    assert default_ident != threading.get_ident()


@pytest.mark.asyncio
async def test_custom_executor_is_duck_typed() -> None:
    submitted: list[Any] = []

    class Inline(concurrent.futures.Executor):
        def submit(  # type: ignore[override]  # duck-typed: the result is not used
            self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
        ) -> None:
            submitted.append(fn)
            fn(*args, **kwargs)

    wrapper = sync_to_async(threading.get_ident, thread_sensitive=False, executor=Inline())
    assert await wrapper() == threading.get_ident()
    assert len(submitted) == 1


@pytest.mark.asyncio
async def test_event_loop_is_not_blocked_by_the_function() -> None:
    release = threading.Event()
    started = threading.Event()

    def blocking() -> str:
        started.set()
        assert release.wait(10)
        return "done"

    task = asyncio.ensure_future(sync_to_async(blocking, thread_sensitive=False)())
    await asyncio.to_thread(started.wait, 10)
    release.set()
    assert await task == "done"


# -- context variables -------------------------------------------------------------


@pytest.mark.asyncio
async def test_context_is_copied_in_and_changes_come_back() -> None:
    fresh: contextvars.ContextVar[str] = contextvars.ContextVar("fresh")
    VAR.set("outer")

    def f() -> str:
        seen = VAR.get()
        VAR.set("inner")
        fresh.set("new")
        return seen

    assert await sync_to_async(f)() == "outer"
    assert VAR.get() == "inner"
    assert fresh.get() == "new"


@pytest.mark.asyncio
async def test_context_changes_come_back_after_an_exception() -> None:
    def f() -> None:
        VAR.set("set-before-raising")
        raise ValueError

    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError
        await sync_to_async(f)()
    assert VAR.get() == "set-before-raising"


@pytest.mark.asyncio
async def test_context_values_are_compared_by_identity() -> None:
    class NeverEqual:
        def __eq__(self, other: object) -> bool:
            raise AssertionError("__eq__ must not be called")

        __hash__ = object.__hash__

    var: contextvars.ContextVar[object] = contextvars.ContextVar("identity")
    value = NeverEqual()
    var.set(value)

    def f() -> None:
        token = var.set(NeverEqual())
        var.reset(token)

    await sync_to_async(f)()
    assert var.get() is value


@pytest.mark.asyncio
async def test_user_context_is_entered_and_not_copied_back() -> None:
    ctx = contextvars.Context()

    def f() -> str:
        previous = VAR.get()
        VAR.set("in-ctx")
        return previous

    VAR.set("caller")
    wrapper = sync_to_async(f, context=ctx)
    assert await wrapper() == "unset"
    assert await wrapper() == "in-ctx"
    assert ctx[VAR] == "in-ctx"
    assert VAR.get() == "caller"


@pytest.mark.asyncio
async def test_user_context_carries_its_default_local_values_to_the_worker() -> None:
    local = Local()
    local.from_loop = "visible"
    ctx = contextvars.copy_context()
    ctx.run(setattr, local, "in_ctx", "also visible")

    def read() -> tuple[str, str]:
        return local.from_loop, local.in_ctx

    assert await sync_to_async(read, context=ctx)() == ("visible", "also visible")

    def has_value() -> bool:
        return hasattr(local, "from_loop")

    assert await sync_to_async(has_value, context=contextvars.Context())() is False


@pytest.mark.asyncio
async def test_user_context_stays_readable_by_the_caller_after_the_call() -> None:
    local = Local()
    ctx = contextvars.copy_context()
    ctx.run(setattr, local, "before", "set on the loop")

    def write() -> None:
        local.during = "set by the worker"
        del local.before

    await sync_to_async(write, context=ctx)()
    assert ctx.run(getattr, local, "during") == "set by the worker"
    assert ctx.run(hasattr, local, "before") is False
    ctx.run(setattr, local, "after", "set on the loop again")
    assert ctx.run(getattr, local, "after") == "set on the loop again"


@pytest.mark.asyncio
async def test_user_context_owned_by_another_thread_shows_its_values_to_nobody() -> None:
    local = Local()

    def make_context() -> contextvars.Context:
        local.x = "the other thread's"
        return contextvars.copy_context()

    ctx = await asyncio.to_thread(contextvars.Context().run, make_context)

    def read_then_write() -> tuple[bool, str]:
        seen = hasattr(local, "x")
        local.x = "the worker's"
        return seen, local.x

    assert await sync_to_async(read_then_write, context=ctx)() == (False, "the worker's")
    assert ctx.run(hasattr, local, "x") is False  # its home is the worker's thread now


# -- exceptions ---------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt, SystemExit])
async def test_any_exception_crosses_with_the_same_object(exc_type: type[BaseException]) -> None:
    error = exc_type("boom")

    def f() -> None:
        raise error

    with pytest.raises(exc_type) as info:
        await sync_to_async(f)()
    assert info.value is error
    assert info.value.__traceback__ is not None


@pytest.mark.asyncio
async def test_cancelled_error_from_the_function_crosses() -> None:
    def f() -> None:
        raise asyncio.CancelledError("from f")

    with pytest.raises(asyncio.CancelledError, match="from f"):
        await sync_to_async(f)()


@pytest.mark.asyncio
async def test_active_exception_is_visible_and_chained() -> None:
    def f() -> None:
        assert isinstance(sys.exc_info()[1], KeyError)
        raise ValueError("inner")

    outer = KeyError("outer")
    try:
        raise outer
    except KeyError:
        with pytest.raises(ValueError, match="inner") as info:
            await sync_to_async(f)()
    assert info.value.__context__ is outer


@pytest.mark.asyncio
async def test_D26_stop_iteration_becomes_runtime_error() -> None:
    def f() -> None:
        raise StopIteration("done")

    with pytest.raises(RuntimeError, match=r"^sync function raised StopIteration") as info:
        await asyncio.wait_for(sync_to_async(f)(), 10)
    assert isinstance(info.value.__cause__, StopIteration)


# -- cancellation [sync-cancellation] ---------------------------------------------------------


@pytest.mark.asyncio
async def test_cancel_while_queued_never_runs_the_function() -> None:
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def blocker() -> None:
        started.set()
        assert release.wait(10)

    first = asyncio.ensure_future(sync_to_async(blocker)())
    await asyncio.to_thread(started.wait, 10)
    queued = asyncio.ensure_future(sync_to_async(ran.append)("queued"))
    await asyncio.sleep(0)
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    release.set()
    await first
    await sync_to_async(ran.append)("after")
    assert ran == ["after"]


@pytest.mark.asyncio
async def test_cancel_while_running_returns_at_once_and_function_completes() -> None:
    release = threading.Event()
    started = threading.Event()
    finished = threading.Event()

    def f() -> None:
        started.set()
        assert release.wait(10)
        finished.set()

    task = asyncio.ensure_future(sync_to_async(f)())
    await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not finished.is_set()
    release.set()
    # The sync thread stays busy until f finished: the next call waits for it.
    await sync_to_async(lambda: None)()
    assert finished.is_set()


@pytest.mark.asyncio
async def test_context_written_back_on_cancellation() -> None:
    release = threading.Event()
    wrote = threading.Event()

    def f() -> None:
        VAR.set("written-before-cancel")
        wrote.set()
        assert release.wait(10)

    async def caller() -> str:
        try:
            await sync_to_async(f)()
        except asyncio.CancelledError:
            return VAR.get()
        return "not cancelled"

    task = asyncio.ensure_future(caller())
    await asyncio.to_thread(wrote.wait, 10)
    task.cancel()
    assert await task == "written-before-cancel"
    release.set()
    await sync_to_async(lambda: None)()


@pytest.mark.asyncio
async def test_wait_for_timeout_leaves_function_running() -> None:
    release = threading.Event()

    def f() -> None:
        assert release.wait(10)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sync_to_async(f)(), 0.01)
    release.set()
    await sync_to_async(lambda: None)()


async def _shielded_inner(started: threading.Event, absorbed: list[str]) -> str:
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        absorbed.append("absorbed")
        return "completed despite cancel"
    return "slept"


@pytest.mark.asyncio
async def test_R14_cancel_is_forwarded_into_inner_async_to_sync_task() -> None:
    started = threading.Event()
    absorbed: list[str] = []

    async def inner() -> str:
        started.set()
        return await _shielded_inner(started, absorbed)

    def f() -> str:
        return "f saw " + async_to_sync(inner)()

    task = asyncio.ensure_future(sync_to_async(f)())
    await asyncio.to_thread(started.wait, 10)
    await asyncio.sleep(0)
    task.cancel()
    assert await task == "f saw completed despite cancel"
    assert absorbed == ["absorbed"]
    assert task.cancelling() == 0


@pytest.mark.asyncio
async def test_R14_inner_task_ending_cancelled_cancels_the_caller() -> None:
    started = threading.Event()
    seen_in_f: list[type[BaseException]] = []

    async def inner() -> None:
        started.set()
        await asyncio.sleep(30)

    def f() -> None:
        try:
            async_to_sync(inner)()
        except BaseException as exc:
            seen_in_f.append(type(exc))
            raise

    task = asyncio.ensure_future(sync_to_async(f)())
    await asyncio.to_thread(started.wait, 10)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen_in_f == [asyncio.CancelledError]


@pytest.mark.asyncio
async def test_R14_shield_pattern_like_django_disconnect() -> None:
    started = threading.Event()

    async def view_body() -> str:
        started.set()
        try:
            await asyncio.shield(asyncio.sleep(0.01))
        except asyncio.CancelledError:
            return "handled disconnect"
        return "finished"

    def sync_view() -> str:
        return async_to_sync(view_body)()

    task = asyncio.ensure_future(sync_to_async(sync_view)())
    await asyncio.to_thread(started.wait, 10)
    await asyncio.sleep(0)
    task.cancel()
    assert await task in {"handled disconnect", "finished"}


@pytest.mark.asyncio
async def test_cancel_after_finish_raises_cancelled() -> None:
    task = asyncio.ensure_future(sync_to_async(lambda: 1)())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# -- deadlock detection [deadlock-detection] ---------------------------------------------------


@pytest.mark.asyncio
async def test_deadlock_detection_1_asyncio_run_inside_sync_thread_call() -> None:
    def f() -> None:
        async def nested() -> None:
            await sync_to_async(lambda: None)()

        asyncio.run(nested())

    with pytest.raises(RuntimeError, match=r"^Single thread executor already being used"):
        await sync_to_async(f)()


@pytest.mark.asyncio
async def test_deadlock_detection_1_coroutine_handed_to_another_loop() -> None:
    other = asyncio.new_event_loop()
    runner = threading.Thread(target=other.run_forever)
    runner.start()
    try:

        def f() -> None:
            async def nested() -> None:
                await sync_to_async(lambda: None)()

            asyncio.run_coroutine_threadsafe(nested(), other).result(10)

        with pytest.raises(
            RuntimeError, match=r"^Single thread executor already being used, would deadlock; "
        ):
            await sync_to_async(f)()
    finally:
        other.call_soon_threadsafe(other.stop)
        runner.join(10)
        other.close()


@pytest.mark.asyncio
async def test_D21_no_false_deadlock_after_the_marked_call_ended() -> None:
    captured: list[contextvars.Context] = []

    def f() -> None:
        captured.append(contextvars.copy_context())

    await sync_to_async(f)()
    # A context copied while f ran descends from it, but f has ended: no error.
    assert await captured[0].run(asyncio.ensure_future, sync_to_async(_thread_name)()) == (
        "asgiref-sync-thread"
    )


@pytest.mark.asyncio
async def test_D21_marker_cleared_after_exception_and_cancellation() -> None:
    def fails() -> None:
        raise ValueError

    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError
        await sync_to_async(fails)()
    assert await sync_to_async(_thread_name)() == "asgiref-sync-thread"


@pytest.mark.asyncio
async def test_D20_loop_without_context_on_the_sync_thread_raises() -> None:
    def f() -> None:
        loop = asyncio.new_event_loop()
        try:
            # An empty context: detection 1 cannot see the running call.
            task = loop.create_task(sync_to_async(lambda: None)(), context=contextvars.Context())
            loop.run_until_complete(task)
        finally:
            loop.close()

    with pytest.raises(RuntimeError, match=r"^Single thread executor already being used"):
        await sync_to_async(f)()
