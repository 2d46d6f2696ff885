"""asgiref.compatibility: classification order (``docs/compatibility.rst``)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from asgiref.compatibility import (
    double_to_single_callable,
    guarantee_single_callable,
    is_double_callable,
)

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]


async def single_app(scope: Any, receive: Receive, send: Send) -> None:
    await send({"type": "single", "scope": scope})


class DoubleApp:
    def __init__(self, scope: Any) -> None:
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        await send({"type": "double", "scope": self.scope, "received": await receive()})


class AsyncCallInstance:
    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        await send({"type": "instance"})


def sync_returning_coroutine(scope: Any) -> Callable[[Receive, Send], Awaitable[None]]:
    async def inner(receive: Receive, send: Send) -> None:
        await send({"type": "inner"})

    return inner


def test_coroutine_function_is_single() -> None:
    assert is_double_callable(single_app) is False


def test_class_is_double() -> None:
    assert is_double_callable(DoubleApp) is True


def test_instance_with_async_call_is_single() -> None:
    assert is_double_callable(AsyncCallInstance()) is False


def test_sync_callable_returning_a_coroutine_counts_as_double() -> None:
    assert is_double_callable(sync_returning_coroutine) is True


def test_async_partial_is_single() -> None:
    assert is_double_callable(functools.partial(single_app, {"type": "x"})) is False


def test_marked_sync_callable_is_single() -> None:
    from asgiref.sync import markcoroutinefunction

    def marked(scope: Any, receive: Receive, send: Send) -> Awaitable[None]:
        return single_app(scope, receive, send)

    assert is_double_callable(markcoroutinefunction(marked)) is False


def test_single_marker_wins_over_everything() -> None:
    class Marked(DoubleApp):
        _asgi_single_callable = True
        _asgi_double_callable = True

    assert is_double_callable(Marked) is False


def test_double_marker_wins_over_coroutine_detection() -> None:
    async def app(scope: Any, receive: Receive, send: Send) -> None:
        pass

    app._asgi_double_callable = True  # type: ignore[attr-defined]  # the marker is ad hoc
    assert is_double_callable(app) is True


def test_falsy_markers_are_ignored() -> None:
    async def app(scope: Any, receive: Receive, send: Send) -> None:
        pass

    app._asgi_single_callable = False  # type: ignore[attr-defined]  # the marker is ad hoc
    app._asgi_double_callable = 0  # type: ignore[attr-defined]  # the marker is ad hoc
    assert is_double_callable(app) is False
    assert is_double_callable(DoubleApp) is True


def test_class_check_comes_before_async_call_check() -> None:
    # A class always has a __call__ attribute; rule 3 must decide before rule 4 looks.
    assert is_double_callable(AsyncCallInstance) is True


def test_object_without_call_is_double() -> None:
    assert is_double_callable(object()) is True


@pytest.mark.asyncio
async def test_double_to_single_callable_calls_in_two_steps() -> None:
    single = double_to_single_callable(DoubleApp)
    assert is_double_callable(single) is False
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "in"}

    async def send(message: Any) -> None:
        sent.append(message)

    await single({"type": "http"}, receive, send)  # type: ignore[arg-type]  # untyped test doubles
    assert sent == [{"type": "double", "scope": {"type": "http"}, "received": {"type": "in"}}]


def test_double_to_single_callable_constructs_the_instance_synchronously() -> None:
    calls: list[str] = []

    def factory(scope: Any) -> Callable[[Receive, Send], Awaitable[None]]:
        calls.append("constructed")

        async def instance(receive: Receive, send: Send) -> None:
            calls.append("awaited")

        return instance

    coroutine = double_to_single_callable(factory)({}, None, None)  # type: ignore[arg-type]
    assert calls == []  # nothing runs until the coroutine is driven
    with pytest.raises(StopIteration):
        coroutine.send(None)  # type: ignore[attr-defined]  # it is a coroutine object
    assert calls == ["constructed", "awaited"]


def test_guarantee_single_callable_returns_single_callables_unchanged() -> None:
    assert guarantee_single_callable(single_app) is single_app
    instance = AsyncCallInstance()
    assert guarantee_single_callable(instance) is instance


@pytest.mark.asyncio
async def test_CORE_08_guarantee_single_callable_converts_double_callables() -> None:
    converted = guarantee_single_callable(DoubleApp)
    as_object: object = converted
    assert as_object is not DoubleApp
    assert is_double_callable(converted) is False
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "in"}

    async def send(message: Any) -> None:
        sent.append(message)

    await converted({"type": "websocket"}, receive, send)  # type: ignore[arg-type]  # untyped test doubles
    assert sent[0]["type"] == "double"
