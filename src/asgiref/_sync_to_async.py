"""``sync_to_async`` / ``SyncToAsync``: await a sync function run in a worker thread.

One ``await sync_to_async(f)()`` reads top to bottom in this module:

1. :meth:`SyncToAsync.__call__` (the awaiting loop's thread) captures the caller's
   context (:mod:`asgiref._local_home`) and creates a :class:`Call`;
2. it chooses the thread: :func:`submit_thread_sensitive` applies the routing rules of
   :ref:`thread-sensitive-rules` (first match wins) and queues the call on a worker
   from :mod:`asgiref._threads`, a blocked ``async_to_sync`` caller's
   ``CurrentThreadExecutor`` or a ``ThreadSensitiveContext`` scope; other calls go to
   an executor;
3. :meth:`Call.run` (the worker thread) runs the function inside the context and hands
   the outcome back with one ``loop.call_soon_threadsafe``; :meth:`Call.wait` unwraps
   it and the caller copies context changes back.

Guarantees of a :class:`Call`:

* ``state`` moves QUEUED → RUNNING → DONE, or QUEUED → CANCELLED; the two moves out of
  QUEUED happen under ``_transition_lock``, so a call cancelled while queued never runs.
* ``result`` / ``error`` are written by the worker before ``state`` becomes DONE and
  read by the loop thread only after the delivery callback ran.
* ``waiter`` and ``inner_task`` are only touched in the awaiting loop's thread.

Frames of this package set ``__traceback_hide__ = True`` so that Django's technical
500 page hides them and a traceback shows the user's code ([traceback-hide] in
``docs/sync.rst``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import inspect
import sys
import threading
import types
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from contextvars import Context, ContextVar
from functools import partial
from types import TracebackType
from typing import Any, ClassVar, Final, Generic, ParamSpec, TypeVar, overload

from asgiref import _local_home, _threads
from asgiref._coroutines import (
    COROUTINE_MARK,
    is_async_callable,
    is_generator_callable,
    markcoroutinefunction,
)
from asgiref._current_thread_executor import OWN_THREAD_MESSAGE
from asgiref._local_home import Handoff
from asgiref._state import BRIDGE, LOOP_OWNERS, SCOPE, THREAD

__all__ = [
    "DEADLOCK_MESSAGE",
    "SYNC_THREAD_CALL",
    "Call",
    "CallState",
    "SyncToAsync",
    "deadlock_error",
    "own_thread_error",
    "submit_thread_sensitive",
    "sync_to_async",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]

DEADLOCK_MESSAGE: Final = "Single thread executor already being used, would deadlock"

#: The call running on the process-wide sync thread that this code descends from
#: (:ref:`deadlock-detection`, first case).
SYNC_THREAD_CALL: Final[ContextVar[Call | None]] = ContextVar(
    "asgiref.sync.sync_thread_call", default=None
)

_transition_lock: Final = threading.Lock()


# -- the call in flight -------------------------------------------------------------------


class CallState(enum.Enum):
    """Lifecycle of a :class:`Call`."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class Call:
    """A ``sync_to_async`` call in flight.

    Args:
        wrapper: The ``SyncToAsync`` object; its ``thread_handler`` runs the call.
        loop: The awaiting coroutine's running loop.
        exc_info: ``sys.exc_info()`` of the caller, made current around ``func``.
        child: ``functools.partial(wrapper.func, *args, **kwargs)``.
        ctx: The context to run in (a copy, or the user's ``context=``).
        handoff: How the worker takes over ``ctx``'s ``Local`` values.
    """

    __slots__ = (
        "child",
        "ctx",
        "error",
        "exc_info",
        "generation",
        "handoff",
        "inner_task",
        "loop",
        "on_sync_thread",
        "result",
        "state",
        "task",
        "waiter",
        "wrapper",
    )

    def __init__(
        self,
        wrapper: SyncToAsync[..., Any],
        loop: asyncio.AbstractEventLoop,
        exc_info: ExcInfo,
        child: partial[Any],
        ctx: Context,
        handoff: Handoff,
    ) -> None:
        self.wrapper = wrapper
        self.loop = loop
        self.exc_info = exc_info
        self.child = child
        self.ctx = ctx
        self.handoff = handoff
        self.task = asyncio.current_task(loop)
        self.generation = _threads.generation()
        self.state = CallState.QUEUED
        self.waiter: asyncio.Future[None] = loop.create_future()
        self.result: Any = None
        self.error: BaseException | None = None
        self.inner_task: asyncio.Task[Any] | None = None
        self.on_sync_thread = False

    # -- worker side ------------------------------------------------------------

    def run(self) -> None:
        """Run the call (unless cancelled while queued) and deliver its outcome.

        Runs in: the worker thread.  Never raises.
        """
        __traceback_hide__ = True
        with _transition_lock:
            if self.state is not CallState.QUEUED:
                return
            self.state = CallState.RUNNING
        try:
            self.result = self.ctx.run(self._invoke)
        except StopIteration as exc:  # D26: a future cannot carry StopIteration
            error = RuntimeError("sync function raised StopIteration")
            error.__cause__ = exc
            self.error = error
        except BaseException as exc:
            self.error = exc
        self.state = CallState.DONE
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
            self.loop.call_soon_threadsafe(self._deliver)

    def _invoke(self) -> Any:
        """Runs in: the worker thread, inside ``ctx``."""
        __traceback_hide__ = True
        handoff = self.handoff
        home = None if handoff is Handoff.NONE else _local_home.adopt()
        thread = THREAD
        previous = thread.call
        thread.call = self
        token = SYNC_THREAD_CALL.set(self) if self.on_sync_thread else None
        try:
            return self.wrapper.thread_handler(
                self.loop, self.exc_info, self.task, self.call_child, self.child
            )
        finally:
            thread.call = previous
            if token is not None:
                SYNC_THREAD_CALL.reset(token)
            if home is not None and handoff is Handoff.IN_PLACE:
                _local_home.restore(home)

    def call_child(self, child: Callable[[], Any]) -> Any:
        """Call ``child()`` with the caller's active exception made current.

        This is the ``func`` argument of ``thread_handler``.

        Runs in: the worker thread.
        """
        __traceback_hide__ = True
        exc = self.exc_info[1]
        if exc is None:
            return child()
        traceback = exc.__traceback__
        try:
            raise exc
        except BaseException:
            exc.__traceback__ = traceback
            return child()

    # -- loop side --------------------------------------------------------------

    def _deliver(self) -> None:
        """Runs in: the awaiting loop's thread."""
        waiter = self.waiter
        if not waiter.done():
            waiter.set_result(None)

    def running_on_parent(self) -> bool:
        """Return whether this call may act as a parent loop for ``async_to_sync``.

        See [loop-parent] in ``docs/where-code-runs.rst``.

        Runs in: the thread executing the call.
        """
        return self.generation == _threads.generation() and self.loop.is_running()

    async def wait(self) -> Any:
        """Wait for the outcome, handling cancellation (:ref:`sync-cancellation`).

        Cancellation: a call still queued is dropped; a call running an inner
        ``async_to_sync`` task on this loop gets the cancellation forwarded to that
        task and is waited for; otherwise ``CancelledError`` is raised at once and the
        sync function keeps running.

        Runs in: the awaiting loop's thread.
        """
        __traceback_hide__ = True
        forwarded = 0
        while True:
            try:
                await self.waiter
                break
            except asyncio.CancelledError:
                if not self._forward_cancel():
                    raise
                forwarded += 1
                self.waiter = self.loop.create_future()
        task = self.task
        if forwarded and task is not None and not isinstance(self.error, asyncio.CancelledError):
            for _ in range(forwarded):  # the cancellation was delivered to the inner task
                task.uncancel()
        return self.unwrap()

    def _forward_cancel(self) -> bool:
        """Apply a cancellation; return ``True`` when the call must still be awaited."""
        with _transition_lock:
            if self.state is CallState.QUEUED:
                self.state = CallState.CANCELLED
                return False
        inner = self.inner_task
        if self.state is CallState.RUNNING and inner is not None and not inner.done():
            inner.cancel()
            return True
        return False

    def finished(self) -> bool:
        """Return whether the call has run to its end.  Runs in: any thread."""
        return self.state is CallState.DONE

    def unwrap(self) -> Any:
        """Return the result or raise the error.  Runs in: the awaiting loop's thread."""
        __traceback_hide__ = True
        error = self.error
        if error is not None:
            try:
                raise error
            finally:
                del error
                self.error = None
        return self.result


# -- where thread-sensitive calls go ------------------------------------------------------


def deadlock_error(where: str) -> RuntimeError:
    """Build the "would deadlock" error, naming the thread involved and the fix."""
    return RuntimeError(
        f"{DEADLOCK_MESSAGE}; this code already runs on (or waits for) {where}; "
        "call the sync function directly, or use sync_to_async(thread_sensitive=False)"
    )


def own_thread_error() -> RuntimeError:
    """Build the error of :ref:`ts-bridge-own-thread`: asgiref's text, then the fix."""
    return RuntimeError(
        f"{OWN_THREAD_MESSAGE}; this thread-sensitive call must run on this thread, which "
        "is blocked in async_to_sync, and an event loop started on it (asyncio.run) cannot "
        "hand it work; use async_to_sync instead of asyncio.run, call the sync function "
        "directly, or use sync_to_async(thread_sensitive=False)"
    )


def submit_thread_sensitive(call: Call) -> None:
    """Queue ``call`` on the thread :ref:`thread-sensitive-rules` choose (first match wins).

    Runs in: the awaiting loop's thread, when the call is submitted.

    Raises:
        RuntimeError: "own thread" (:ref:`ts-bridge-own-thread`), "would deadlock"
            (:ref:`deadlock-detection`), or "has exited" from an exited
            ``ThreadSensitiveContext(executor=...)``.
    """
    bridge = BRIDGE.get()
    # ts-bridge: the bridge this code descends from; [D18] falls through once it returned.
    if bridge is not None:
        if not bridge.owned_by_current_thread():
            if bridge.enqueue(call.run):
                return
        elif THREAD.executor is not None:  # ts-bridge-own-thread: the thread is blocked
            raise own_thread_error()
    scope = SCOPE.get()
    if scope is not None:  # ts-scope
        scope.submit(call)
        return
    # ts-loop-owner: the running loop was created by a bridge that is still blocked.
    owner = LOOP_OWNERS.get(call.loop) if LOOP_OWNERS else None
    if owner is not None and not owner.owned_by_current_thread() and owner.enqueue(call.run):
        return
    _submit_to_sync_thread(call)


def _submit_to_sync_thread(call: Call) -> None:
    """:ref:`ts-sync-thread`, guarded by both cases of :ref:`deadlock-detection`."""
    running = SYNC_THREAD_CALL.get()
    if running is not None and running.state is CallState.RUNNING:
        raise deadlock_error("the process-wide sync thread (called from its own call)")
    worker = _threads.sync_worker()
    if worker.is_current():  # [D20]
        raise deadlock_error("the process-wide sync thread")
    call.on_sync_thread = True
    worker.submit(call.run)


# -- the wrapper --------------------------------------------------------------------------


def _check_wrappable(func: object, thread_sensitive: bool, executor: object) -> None:
    """The construction guards, in asgiref's order (which error wins is observable)."""
    if not callable(func) or is_async_callable(func):
        raise TypeError(
            f"sync_to_async can only be applied to sync functions.; got {func!r}; "
            "await async functions directly instead."
        )
    if is_generator_callable(func):
        raise TypeError(
            f"sync_to_async cannot be applied to generator functions; got {func!r}; "
            "the generator body would run on the event-loop thread; wrap a function "
            "that returns a list, or iterate the generator inside a sync function"
        )
    if thread_sensitive and executor is not None:
        raise TypeError(
            "executor must not be set when thread_sensitive is True; "
            "pass thread_sensitive=False together with executor="
        )


# -- construction fast path ----------------------------------------------------------------
#
# Django builds ``sync_to_async(f)`` per call on hot paths, so construction counts
# (issue 12, item 7).  For the usual targets, a plain Python function or a bound method
# of one, everything ``_check_wrappable`` and ``functools.update_wrapper`` compute follows
# from the code flags and the function's ``__dict__``; ``_plain_function`` decides when
# that holds, and the fast path writes the same attributes, in the same order, that the
# general path does.  ``test_construction_fast_path_matches_the_general_path`` compares
# the two on every supported Python.

_FunctionType: Final = types.FunctionType
_MethodType: Final = types.MethodType
#: Code flags the fast path leaves to the general path (it raises for them).
_REJECTED_FLAGS: Final = inspect.CO_COROUTINE | inspect.CO_GENERATOR
#: ``__dict__`` entries that change how ``inspect`` / ``markcoroutinefunction`` see a
#: function (markers, ``partialmethod``, an instance ``__call__`` or ``__func__``), or
#: that ``update_wrapper`` could not copy into the wrapper's ``__dict__`` as they are.
_CLASSIFYING: Final = frozenset(
    {
        "__call__",
        "__class__",
        "__dict__",
        "__func__",
        "__partialmethod__",
        "__weakref__",
        "_is_coroutine",
        "_is_coroutine_marker",
    }
)
#: ``functools.WRAPPER_ASSIGNMENTS`` holds ``__type_params__`` from Python 3.12 on.
_COPY_TYPE_PARAMS: Final = "__type_params__" in functools.WRAPPER_ASSIGNMENTS


def _plain_function(func: object) -> types.FunctionType | None:
    """Return the Python function behind ``func`` if the fast path applies, else ``None``.

    It applies to a plain function and to a bound method of one (``obj.method``) that is
    neither a coroutine function nor a generator function and carries no attribute that
    changes its classification.
    """
    target = func.__func__ if type(func) is _MethodType else func
    if type(target) is not _FunctionType or target.__code__.co_flags & _REJECTED_FLAGS:
        return None
    extra = target.__dict__
    if extra and not _CLASSIFYING.isdisjoint(extra):
        return None
    return target


def _allows_direct_init(cls: type) -> bool:
    """Whether ``cls.__init__`` may write the fast path's attributes into ``__dict__``.

    Not when a subclass of ``SyncToAsync`` defines ``__setattr__`` or a data descriptor
    (a property, a slot) that ``setattr`` would call.
    """
    if getattr(cls, "__setattr__") is not object.__setattr__:  # noqa: B009 - for mypy
        return False
    mro = cls.__mro__
    for klass in mro[: mro.index(SyncToAsync)]:
        for name, value in vars(klass).items():
            kind = type(value)
            if name not in {"__dict__", "__weakref__"} and (
                hasattr(kind, "__set__") or hasattr(kind, "__delete__")
            ):
                return False
    return True


def _write_back(call: Call) -> None:
    """Copy the call's context changes back, except the deadlock marker.

    After a cancellation the function may still be running, with the marker of its
    own call set in its context; that marker must not reach the caller.

    Runs in: the awaiting loop's thread, in the caller's context.
    """
    if not call.on_sync_thread:
        _local_home.write_back(call.ctx)
        return
    previous = SYNC_THREAD_CALL.get()
    _local_home.write_back(call.ctx)
    if SYNC_THREAD_CALL.get() is not previous:
        SYNC_THREAD_CALL.set(previous)


def _submit_to_default_executor(loop: asyncio.AbstractEventLoop, call: Call) -> None:
    """Queue ``call`` on the loop's default executor.

    ``call`` reports back by itself, so the asyncio future that ``run_in_executor``
    wraps around the executor's future is not needed: once the loop has created its
    default executor, submit to it directly.  ``run_in_executor`` is used the first time
    (it creates the executor) and for loops that do not keep asyncio's attribute.

    Runs in: the awaiting loop's thread.
    """
    executor = getattr(loop, "_default_executor", None)
    if executor is None or getattr(loop, "_executor_shutdown_called", True):
        loop.run_in_executor(None, call.run)
    else:
        executor.submit(call.run)


class SyncToAsync(Generic[_P, _R]):
    """Wrap a sync callable into an awaitable callable that runs it in a worker thread.

    ``await SyncToAsync(func)(*args, **kwargs)`` runs ``func(*args, **kwargs)`` without
    blocking the event loop: thread-sensitive calls (the default) go to the thread the
    routing rules choose (:ref:`thread-sensitive-rules`); with
    ``thread_sensitive=False`` they go to ``executor`` or the loop's default executor.

    Args:
        func: The sync callable.  Coroutine functions and generator functions are
            rejected.
        thread_sensitive: Route the call to the single thread shared by related code.
        executor: With ``thread_sensitive=False``, the executor to run on.
        context: A :class:`contextvars.Context` entered by every call (changes stay in
            it); by default each call runs in a copy of the caller's context and its
            changes are copied back.

    Raises:
        TypeError: For async callables, generator functions, or ``executor`` given with
            ``thread_sensitive=True``.
    """

    # Copied from the wrapped callable at construction, when it has them.
    __name__: str
    __qualname__: str
    __wrapped__: Callable[_P, _R]

    #: Whether ``__init__`` may take the construction fast path (``_allows_direct_init``).
    _direct_init: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._direct_init = _allows_direct_init(cls)

    def __init__(
        self,
        func: Callable[_P, _R],
        thread_sensitive: bool = True,
        executor: Executor | None = None,
        context: Context | None = None,
    ) -> None:
        target = _plain_function(func)
        if target is None or (thread_sensitive and executor is not None) or not self._direct_init:
            _check_wrappable(func, thread_sensitive, executor)
            functools.update_wrapper(self, func)
            self.func = func
            self.context = context
            self._thread_sensitive = bool(thread_sensitive)
            self._executor = executor
            self_attr = getattr(func, "__self__", None)
            if self_attr is not None:
                self.__self__ = self_attr
            markcoroutinefunction(self)
            return
        # What the lines above do for a plain function or method, without the lookups
        # that cannot find anything (see "construction fast path").
        attributes = self.__dict__
        attributes["__module__"] = target.__module__
        attributes["__name__"] = target.__name__
        attributes["__qualname__"] = target.__qualname__
        attributes["__doc__"] = target.__doc__
        attributes["__annotations__"] = target.__annotations__
        if _COPY_TYPE_PARAMS:  # pragma: no branch - constant per Python version
            attributes["__type_params__"] = getattr(target, "__type_params__")  # noqa: B009
        extra = target.__dict__
        if extra:
            attributes.update(extra)
        attributes["__wrapped__"] = func
        attributes["func"] = func
        attributes["context"] = context
        attributes["_thread_sensitive"] = bool(thread_sensitive)
        attributes["_executor"] = executor
        if target is not func:
            attributes["__self__"] = func.__self__  # type: ignore[attr-defined]
        attributes.update(COROUTINE_MARK)

    async def __call__(self, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run the wrapped function in a worker thread and return its result.

        Runs in: the awaiting event loop's thread; ``func`` runs in the worker.

        Cancellation: see :ref:`sync-cancellation` (``func`` keeps running unless it is
        still queued; a cancellation is forwarded into an inner ``async_to_sync``).
        """
        __traceback_hide__ = True
        loop = asyncio.get_running_loop()
        context = self.context
        if context is None:
            ctx, handoff = _local_home.capture(), Handoff.COPY
        else:  # the user's context is entered itself; its Local values go along too
            ctx = context
            handoff = Handoff.IN_PLACE if context.run(_local_home.owns_values) else Handoff.NONE
        child = functools.partial(self.func, *args, **kwargs)
        call = Call(self, loop, sys.exc_info(), child, ctx, handoff)
        if self._thread_sensitive:
            submit_thread_sensitive(call)
        elif self._executor is not None:
            self._executor.submit(call.run)
        else:
            _submit_to_default_executor(loop, call)
        try:
            result: _R = await call.wait()
        finally:
            if context is None:
                _write_back(call)
        return result

    def thread_handler(
        self,
        loop: asyncio.AbstractEventLoop,
        exc_info: Any,
        task_context: Any,
        func: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Override point, invoked in the worker thread immediately before the function.

        ``__call__`` invokes ``self.thread_handler(loop, exc_info, task_context, func,
        child)`` where ``child`` is ``functools.partial(self.func, *args, **kwargs)``.
        Overrides may adjust ``child.keywords`` in place, do work before and after, and
        must call ``super().thread_handler(...)`` (which runs ``func(child)``).

        Runs in: the worker thread, inside the call's context.

        Args:
            loop: The awaiting coroutine's running loop.
            exc_info: The caller's ``sys.exc_info()`` at call time.
            task_context: Opaque; pass it through.
            func: Opaque one-argument callable; ``func(child)`` runs the call.
            *args: ``(child,)``.
            **kwargs: Nothing (kept for overrides).

        Returns:
            The result of the wrapped function.
        """
        __traceback_hide__ = True
        return func(*args, **kwargs)

    @overload
    def __get__(self, parent: None, objtype: type[Any] | None = None) -> SyncToAsync[_P, _R]: ...

    @overload
    def __get__(
        self, parent: object, objtype: type[Any] | None = None
    ) -> Callable[..., Coroutine[Any, Any, _R]]: ...

    def __get__(
        self, parent: object, objtype: type[Any] | None = None
    ) -> SyncToAsync[_P, _R] | Callable[..., Coroutine[Any, Any, _R]]:
        """Bind to ``parent`` for method use; class access returns the wrapper [D17]."""
        if parent is None:
            return self
        bound: functools.partial[Coroutine[Any, Any, _R]] = functools.partial(
            type(self).__call__,
            self,
            parent,  # type: ignore[arg-type]  # parent is the method's first argument
        )
        functools.update_wrapper(bound, self.func, updated=())
        return markcoroutinefunction(bound)


@overload
def sync_to_async(
    func: None = None,
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: Context | None = None,
) -> Callable[[Callable[_P, _R]], SyncToAsync[_P, _R]]: ...


@overload
def sync_to_async(
    func: Callable[_P, _R],
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: Context | None = None,
) -> SyncToAsync[_P, _R]: ...


def sync_to_async(
    func: Callable[_P, _R] | None = None,
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: Context | None = None,
) -> SyncToAsync[_P, _R] | Callable[[Callable[_P, _R]], SyncToAsync[_P, _R]]:
    """Return an awaitable version of a sync function (or a decorator making one).

    Args:
        func: The sync callable; omit it to get a decorator
            (``@sync_to_async(thread_sensitive=False)``).
        thread_sensitive: See :class:`SyncToAsync`.
        executor: See :class:`SyncToAsync`.
        context: See :class:`SyncToAsync`.

    Returns:
        A :class:`SyncToAsync`, or a one-argument decorator building one.

    Raises:
        TypeError: As :class:`SyncToAsync`.
    """
    if func is None:

        def decorator(f: Callable[_P, _R]) -> SyncToAsync[_P, _R]:
            return SyncToAsync(
                f, thread_sensitive=thread_sensitive, executor=executor, context=context
            )

        return decorator
    return SyncToAsync(func, thread_sensitive=thread_sensitive, executor=executor, context=context)
