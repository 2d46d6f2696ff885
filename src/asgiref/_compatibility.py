"""Telling ASGI 2 "double callable" applications from ASGI 3 single callables.

ASGI 2 applications are called in two steps: ``instance = app(scope)`` (synchronous),
then ``await instance(receive, send)``.  ASGI 3 applications are one coroutine function,
``await app(scope, receive, send)``.  Servers accept both by
passing whatever they are given through :func:`guarantee_single_callable`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, cast

from asgiref._coroutines import iscoroutinefunction

if TYPE_CHECKING:
    from asgiref._typing import (
        ASGI3Application,
        ASGIReceiveCallable,
        ASGISendCallable,
        Scope,
    )

__all__ = ["double_to_single_callable", "guarantee_single_callable", "is_double_callable"]


def is_double_callable(application: object) -> bool:
    """Tell whether ``application`` is an ASGI 2 "double callable".

    The rules are tried in this order, and the first one that applies decides:

    1. a truthy attribute ``_asgi_single_callable`` means single (``False``);
    2. a truthy attribute ``_asgi_double_callable`` means double (``True``);
    3. a class is double (instantiating it is the first call);
    4. an object whose ``__call__`` is a coroutine function is single;
    5. otherwise it is double unless it is itself a coroutine function.  A plain sync
       callable that *returns* a coroutine therefore counts as double.

    Coroutine functions are recognised with :func:`asgiref.sync.iscoroutinefunction`, so
    ``functools.partial`` objects and callables marked with
    :func:`asgiref.sync.markcoroutinefunction` count as coroutine functions.

    Args:
        application: Any object offered as an ASGI application.

    Returns:
        ``True`` for an ASGI 2 double callable, ``False`` for an ASGI 3 single callable.
    """
    if getattr(application, "_asgi_single_callable", False):
        return False
    if getattr(application, "_asgi_double_callable", False):
        return True
    if inspect.isclass(application):
        return True
    dunder_call = getattr(application, "__call__", None)  # noqa: B004 - the method itself
    if dunder_call is not None and iscoroutinefunction(dunder_call):
        return False
    return not iscoroutinefunction(application)


def double_to_single_callable(application: Any) -> ASGI3Application:
    """Wrap an ASGI 2 double callable so that it can be called as an ASGI 3 application.

    Args:
        application: A callable taking ``scope`` and returning an awaitable callable that
            takes ``(receive, send)``, such as an ASGI 2 application class.

    Returns:
        A coroutine function ``(scope, receive, send)`` that calls
        ``application(scope)`` synchronously, then awaits ``instance(receive, send)``.
        :func:`is_double_callable` reports it as a single callable.
    """

    async def new_application(
        scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        instance = application(scope)
        await instance(receive, send)

    return new_application


def guarantee_single_callable(application: Any) -> ASGI3Application:
    """Return ``application`` as an ASGI 3 single callable.

    Args:
        application: An ASGI 2 or ASGI 3 application.

    Returns:
        :func:`double_to_single_callable` of ``application`` if
        :func:`is_double_callable` says it is a double callable, otherwise
        ``application`` itself, unchanged.
    """
    if is_double_callable(application):
        return double_to_single_callable(application)
    return cast("ASGI3Application", application)
