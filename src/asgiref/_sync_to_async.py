"""``sync_to_async`` / ``SyncToAsync``: await a sync function run in a worker thread."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from contextvars import Context
from typing import Any, Generic, ParamSpec, TypeVar, overload

from asgiref import _context
from asgiref._calls import Call, Handoff
from asgiref._coroutines import is_async_callable, is_generator_callable, markcoroutinefunction
from asgiref._routing import submit_thread_sensitive
from asgiref._state import SYNC_THREAD_CALL

__all__ = ["SyncToAsync", "sync_to_async"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _check_wrappable(func: object, thread_sensitive: bool, executor: object) -> None:
    """The construction guards of §2.1, in their observable order."""
    if not callable(func) or is_async_callable(func):
        raise TypeError(
            f"sync_to_async can only be applied to sync functions. Got {func!r}; "
            "await async functions directly instead."
        )
    if is_generator_callable(func):
        raise TypeError(
            f"sync_to_async cannot be applied to generator functions ({func!r}): "
            "the generator body would run on the event-loop thread; wrap a function "
            "that returns a list, or iterate the generator inside a sync function"
        )
    if thread_sensitive and executor is not None:
        raise TypeError(
            "executor must not be set when thread_sensitive is True; "
            "pass thread_sensitive=False together with executor="
        )


def _write_back(call: Call) -> None:
    """Copy the call's context changes back, except the deadlock marker.

    After a cancellation the function may still be running, with the marker of its
    own call set in its context; that marker must not reach the caller.

    Runs in: the awaiting loop's thread, in the caller's context.
    """
    if not call.on_sync_thread:
        _context.write_back(call.ctx)
        return
    previous = SYNC_THREAD_CALL.get()
    _context.write_back(call.ctx)
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
    contract's Table A chooses (see :doc:`/where-code-runs`); with
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

    def __init__(
        self,
        func: Callable[_P, _R],
        thread_sensitive: bool = True,
        executor: Executor | None = None,
        context: Context | None = None,
    ) -> None:
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

    async def __call__(self, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run the wrapped function in a worker thread and return its result.

        Runs in: the awaiting event loop's thread; ``func`` runs in the worker.

        Cancellation: see the contract, §2.8 (``func`` keeps running unless it is
        still queued; a cancellation is forwarded into an inner ``async_to_sync``).
        """
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        loop = asyncio.get_running_loop()
        context = self.context
        if context is None:
            ctx, handoff = _context.capture(), Handoff.COPY
        else:  # the user's context is entered itself; its Local values go along too
            ctx = context
            handoff = Handoff.IN_PLACE if context.run(_context.owns_values) else Handoff.NONE
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
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
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
