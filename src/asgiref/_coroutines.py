"""Coroutine-function detection and marking, shared by both bridges.

``iscoroutinefunction`` and ``markcoroutinefunction`` are the public helpers of
:mod:`asgiref.sync`.  On Python 3.12+ they *are* the :mod:`inspect` functions (the same
objects).  On 3.11 they behave as :func:`asyncio.iscoroutinefunction` and set the
marker that it recognises, seeing through :class:`functools.partial`.

The private helpers below are the single guards used by ``SyncToAsync`` and
``AsyncToSync`` to classify what they wrap.
"""

from __future__ import annotations

import asyncio.coroutines
import functools
import inspect
import sys
import types
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

__all__ = [
    "COROUTINE_MARK",
    "is_async_callable",
    "is_generator_callable",
    "iscoroutinefunction",
    "markcoroutinefunction",
]

_F = TypeVar("_F", bound=Callable[..., Any])

if sys.version_info >= (3, 12):
    iscoroutinefunction = inspect.iscoroutinefunction
    markcoroutinefunction = inspect.markcoroutinefunction
else:  # pragma: no cover - exercised by the 3.11 CI job, not by the 3.12+ coverage run
    #: The marker object :func:`asyncio.iscoroutinefunction` looks for on 3.11.
    _MARKER: Final[object] = getattr(asyncio.coroutines, "_is_coroutine", object())

    def iscoroutinefunction(func: object) -> bool:
        """Return whether ``func`` is a coroutine function or is marked as one.

        Sees through :class:`functools.partial` and bound methods, and recognises
        objects marked with :func:`markcoroutinefunction`.

        Args:
            func: Any object.

        Returns:
            ``True`` for ``async def`` functions (and partials or methods of them)
            and for marked objects.
        """
        if inspect.iscoroutinefunction(func):
            return True
        while isinstance(func, functools.partial):
            func = func.func
        return getattr(func, "_is_coroutine", None) is _MARKER

    def markcoroutinefunction(func: _F) -> _F:
        """Mark ``func`` so that :func:`iscoroutinefunction` reports ``True``.

        Args:
            func: A callable that returns an awaitable.  For a bound method the
                underlying function is marked.

        Returns:
            ``func`` itself.
        """
        target = getattr(func, "__func__", func)
        setattr(target, "_is_coroutine", _MARKER)  # noqa: B010 - an arbitrary object
        return func


def is_async_callable(obj: object) -> bool:
    """Return whether ``obj`` or its ``__call__`` is a coroutine function."""
    if iscoroutinefunction(obj):
        return True
    call = getattr(obj, "__call__", None)  # noqa: B004 - we want the attribute itself
    return call is not None and iscoroutinefunction(call)


def is_generator_callable(obj: object) -> bool:
    """Return whether ``obj`` or its ``__call__`` is a (sync) generator function.

    Sees through :class:`functools.partial` and bound methods (via :mod:`inspect`).
    """
    if inspect.isgeneratorfunction(obj):
        return True
    call = getattr(obj, "__call__", None)  # noqa: B004 - we want the attribute itself
    return call is not None and inspect.isgeneratorfunction(call)


def _mark_of_this_python() -> dict[str, object]:
    """The attributes :func:`markcoroutinefunction` sets on an object, as a dict."""
    probe = types.SimpleNamespace()
    markcoroutinefunction(cast(Callable[..., Any], probe))
    return dict(vars(probe))


#: What :func:`markcoroutinefunction` writes into the ``__dict__`` of an object without
#: ``__func__``: one name and marker object on every supported Python.  ``SyncToAsync``
#: applies it with one ``dict.update`` on its construction fast path.
COROUTINE_MARK: Final[dict[str, object]] = _mark_of_this_python()
