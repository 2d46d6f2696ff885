"""``async_to_sync`` / ``AsyncToSync``: call an async function from sync code."""

from __future__ import annotations

import asyncio
import functools
import sys
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, ParamSpec, TypeVar, overload

from asgiref._bridges import run_on_fresh_loop, run_on_parent_loop
from asgiref._coroutines import is_async_callable
from asgiref._state import THREAD

__all__ = ["AsyncToSync", "async_to_sync"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_METADATA = ("__module__", "__name__", "__qualname__", "__doc__")

_SAME_LOOP_MESSAGE = (
    "You cannot use AsyncToSync in the same thread as an async event loop - "
    "just await the async function directly."
)


def _user_stacklevel() -> int:
    """Return the ``stacklevel`` that points at the first frame outside this package."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("asgiref."):
        frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
        level += 1
    return level


class AsyncToSync(Generic[_P, _R]):
    """Wrap an async callable into a sync callable that blocks until it finishes.

    The coroutine runs on the loop the contract's Table B chooses (see
    :doc:`/where-code-runs`): the parent loop when called from code run by
    ``sync_to_async``, otherwise a fresh event loop per call.  While blocked, the calling
    thread runs the thread-sensitive sync work the coroutine sends back to it.

    Args:
        awaitable: An async callable (or any callable returning an awaitable).
        force_new_loop: Always use a fresh event loop, even with a parent loop.

    Warns:
        UserWarning: When ``awaitable`` is not an async-marked callable.
    """

    # Copied from the wrapped callable at construction, when it has them.
    __name__: str
    __qualname__: str
    __wrapped__: Callable[..., Any]

    def __init__(
        self,
        awaitable: Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]],
        force_new_loop: bool = False,
    ) -> None:
        if not callable(awaitable) or not is_async_callable(awaitable):
            warnings.warn(
                f"async_to_sync was passed a non-async-marked callable: {awaitable!r}; "
                "pass an async function or mark it with markcoroutinefunction()",
                UserWarning,
                stacklevel=_user_stacklevel(),
            )
        self.awaitable = awaitable
        self.force_new_loop = force_new_loop
        for name in _METADATA:  # [D11]; no __dict__ merge: never copy a coroutine marker
            try:
                value = getattr(awaitable, name)
            except AttributeError:
                continue
            setattr(self, name, value)
        self.__wrapped__ = awaitable
        self_attr = getattr(awaitable, "__self__", None)
        if self_attr is not None:
            self.__self__ = self_attr

    def __call__(self, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run the awaitable to completion and return its result.

        Runs in: a thread without a running event loop, which blocks here.

        Raises:
            RuntimeError: When the calling thread has a running event loop.
        """
        __traceback_hide__ = True  # R11: Django's debug page hides this frame
        if asyncio._get_running_loop() is not None:
            raise RuntimeError(f"{_SAME_LOOP_MESSAGE} (called {self!r})")
        awaitable = self.awaitable(*args, **kwargs)
        exc = sys.exc_info()[1]
        parent = THREAD.call
        if not self.force_new_loop and parent is not None and parent.running_on_parent():
            result: _R = run_on_parent_loop(parent, awaitable, exc)
        else:
            result = run_on_fresh_loop(awaitable, exc)
        return result

    def __repr__(self) -> str:
        return f"<AsyncToSync {self.awaitable!r}>"

    @overload
    def __get__(self, parent: None, objtype: type[Any] | None = None) -> AsyncToSync[_P, _R]: ...

    @overload
    def __get__(self, parent: object, objtype: type[Any] | None = None) -> Callable[..., _R]: ...

    def __get__(
        self, parent: object, objtype: type[Any] | None = None
    ) -> AsyncToSync[_P, _R] | Callable[..., _R]:
        """Bind to ``parent`` for method use; class access returns the wrapper [D17]."""
        if parent is None:
            return self
        bound: functools.partial[_R] = functools.partial(
            self.__call__,
            parent,  # type: ignore[arg-type]  # parent is the method's first argument
        )
        functools.update_wrapper(bound, self.awaitable, updated=())
        return bound


@overload
def async_to_sync(
    awaitable: None = None, *, force_new_loop: bool = False
) -> Callable[
    [Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]]], AsyncToSync[_P, _R]
]: ...


@overload
def async_to_sync(
    awaitable: Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]],
    *,
    force_new_loop: bool = False,
) -> AsyncToSync[_P, _R]: ...


def async_to_sync(
    awaitable: Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]] | None = None,
    *,
    force_new_loop: bool = False,
) -> (
    AsyncToSync[_P, _R]
    | Callable[
        [Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]]],
        AsyncToSync[_P, _R],
    ]
):
    """Return a sync version of an async callable (or a decorator making one).

    Args:
        awaitable: The async callable; omit it to get a decorator.
        force_new_loop: See :class:`AsyncToSync`.

    Returns:
        An :class:`AsyncToSync`, or a one-argument decorator building one.
    """
    if awaitable is None:

        def decorator(
            f: Callable[_P, Coroutine[Any, Any, _R]] | Callable[_P, Awaitable[_R]],
        ) -> AsyncToSync[_P, _R]:
            return AsyncToSync(f, force_new_loop=force_new_loop)

        return decorator
    return AsyncToSync(awaitable, force_new_loop=force_new_loop)
