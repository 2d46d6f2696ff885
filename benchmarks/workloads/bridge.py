"""Bodies of the ``asgiref.sync`` workloads and of their bare-asyncio floors.

Every body calls a no-op, so what is timed is the bridge itself: thread hops, loop
creation, context copies and bookkeeping. The ``*_construct*`` bodies only build the
wrapper (``sync_to_async(f)``, as Django does inline on hot paths) and drop it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from benchmarks.workloads._base import Body, load

__all__ = ["BODIES"]


def _noop() -> None:
    """The sync function every hop runs."""


async def _anoop() -> None:
    """The coroutine every async hop runs."""


def _s2a_hop(thread_sensitive: bool) -> Callable[[], Body]:
    def build() -> Body:
        sync_to_async = load("asgiref.sync", "sync_to_async")
        hop = sync_to_async(_noop, thread_sensitive=thread_sensitive)

        async def run(n: int) -> None:
            for _ in range(n):
                await hop()

        return Body(run_async=run)

    return build


def _floor_executor() -> Body:
    async def run(n: int) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(n):
            await loop.run_in_executor(None, _noop)

    return Body(run_async=run)


def _a2s_noloop() -> Body:
    call = load("asgiref.sync", "async_to_sync")(_anoop)

    def run(n: int) -> None:
        for _ in range(n):
            call()

    return Body(run_sync=run)


def _floor_asyncio_run() -> Body:
    def run(n: int) -> None:
        for _ in range(n):
            asyncio.run(_anoop())

    return Body(run_sync=run)


def _a2s_in_s2a() -> Body:
    sync_to_async = load("asgiref.sync", "sync_to_async")
    call = load("asgiref.sync", "async_to_sync")(_anoop)

    async def run(n: int) -> None:
        def in_worker_thread() -> None:
            for _ in range(n):
                call()

        await sync_to_async(in_worker_thread)()

    return Body(run_async=run)


def _floor_rcts() -> Body:
    async def run(n: int) -> None:
        loop = asyncio.get_running_loop()

        def in_worker_thread() -> None:
            for _ in range(n):
                asyncio.run_coroutine_threadsafe(_anoop(), loop).result()

        await loop.run_in_executor(None, in_worker_thread)

    return Body(run_async=run)


def _nest3() -> Body:
    sync_to_async = load("asgiref.sync", "sync_to_async")
    async_to_sync = load("asgiref.sync", "async_to_sync")
    leaf = sync_to_async(_noop)

    async def middle() -> None:
        await leaf()

    outer = sync_to_async(async_to_sync(middle))

    async def run(n: int) -> None:
        for _ in range(n):
            await outer()

    return Body(run_async=run)


def _floor_nest3() -> Body:
    async def run(n: int) -> None:
        loop = asyncio.get_running_loop()

        async def middle() -> None:
            await loop.run_in_executor(None, _noop)

        def in_worker_thread() -> None:
            asyncio.run_coroutine_threadsafe(middle(), loop).result()

        for _ in range(n):
            await loop.run_in_executor(None, in_worker_thread)

    return Body(run_async=run)


def _tsc_request() -> Body:
    context_class = load("asgiref.sync", "ThreadSensitiveContext")
    hop = load("asgiref.sync", "sync_to_async")(_noop)

    async def run(n: int) -> None:
        for _ in range(n):
            async with context_class():
                await hop()

    return Body(run_async=run)


class _Holder:
    """A class whose bound method is wrapped, as Django wraps ``self.method``."""

    def method(self) -> None:
        """The sync method the construction workload wraps."""


def _construct(wrapper_name: str, target: Callable[..., object]) -> Callable[[], Body]:
    """Construct ``asgiref.sync.<wrapper_name>(target)`` per operation, without calling it."""

    def build() -> Body:
        wrapper = load("asgiref.sync", wrapper_name)

        def run(n: int) -> None:
            for _ in range(n):
                wrapper(target)

        return Body(run_sync=run)

    return build


def _s2a_construct_method() -> Body:
    sync_to_async = load("asgiref.sync", "sync_to_async")
    holder = _Holder()

    def run(n: int) -> None:
        for _ in range(n):
            sync_to_async(holder.method)  # a fresh bound method each time, as in Django

    return Body(run_sync=run)


BODIES: dict[str, dict[str, Callable[[], Body]]] = {
    "s2a_hop_ts": {"ours": _s2a_hop(True), "ref": _s2a_hop(True), "floor": _floor_executor},
    "s2a_hop": {"ours": _s2a_hop(False), "ref": _s2a_hop(False), "floor": _floor_executor},
    "a2s_noloop": {"ours": _a2s_noloop, "ref": _a2s_noloop, "floor": _floor_asyncio_run},
    "a2s_in_s2a": {"ours": _a2s_in_s2a, "ref": _a2s_in_s2a, "floor": _floor_rcts},
    "nest3": {"ours": _nest3, "ref": _nest3, "floor": _floor_nest3},
    "tsc_request": {"ours": _tsc_request, "ref": _tsc_request, "floor": _floor_executor},
    "s2a_construct": {
        "ours": _construct("sync_to_async", _noop),
        "ref": _construct("sync_to_async", _noop),
    },
    "s2a_construct_method": {"ours": _s2a_construct_method, "ref": _s2a_construct_method},
    "a2s_construct": {
        "ours": _construct("async_to_sync", _anoop),
        "ref": _construct("async_to_sync", _anoop),
    },
}
"""Workload name -> implementation key -> body factory."""
