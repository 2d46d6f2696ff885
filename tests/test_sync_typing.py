"""Static types of the ``sync_to_async`` / ``async_to_sync`` overloads.

Checked by ``mypy --strict`` in CI (``typing.assert_type``); at run time the asserts
are no-ops and the test only checks the values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, assert_type

import pytest

from asgiref.sync import AsyncToSync, SyncToAsync, async_to_sync, sync_to_async


def add(a: int, b: int, /) -> int:
    return a + b


async def async_add(a: int, b: int, /) -> int:
    return a + b


class Service:
    @sync_to_async
    def fetch(self, key: str, /) -> bytes:
        return key.encode()

    @async_to_sync
    async def load(self, key: str, /) -> str:
        return key.upper()


def test_sync_to_async_plain_and_decorator_factory_types() -> None:
    wrapped = sync_to_async(add)
    assert_type(wrapped, SyncToAsync[[int, int], int])
    factory = sync_to_async(thread_sensitive=False)
    decorated = factory(add)
    assert_type(decorated, SyncToAsync[[int, int], int])
    coroutine = assert_type(wrapped(1, 2), Coroutine[Any, Any, int])
    assert asyncio.run(coroutine) == 3


def test_async_to_sync_plain_and_decorator_factory_types() -> None:
    wrapped = async_to_sync(async_add)
    assert_type(wrapped, AsyncToSync[[int, int], int])
    factory = async_to_sync(force_new_loop=True)
    assert_type(factory(async_add), AsyncToSync[[int, int], int])
    result = wrapped(1, 2)
    assert_type(result, int)
    assert result == 3


@pytest.mark.asyncio
async def test_method_types() -> None:
    service = Service()
    fetch = service.fetch
    assert_type(fetch, Callable[..., Coroutine[Any, Any, bytes]])
    assert await fetch("k") == b"k"
    assert_type(Service.fetch, SyncToAsync[[Service, str], bytes])
    load = Service().load
    assert_type(load, Callable[..., str])
    assert await asyncio.to_thread(load, "k") == "K"
