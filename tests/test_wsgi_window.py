"""The bounded response window of ``asgiref.wsgi`` (D33).

The worker may produce at most ``WINDOW_ITEMS`` items and ``WINDOW_BYTES`` bytes
(plus the item that crosses it) that were not sent yet; everything else about the
response (message shapes and order, the Content-Length clamp, ``close()``) is as with
one item in flight.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from asgiref._wsgi.response_window import WINDOW_BYTES, WINDOW_ITEMS, Link
from asgiref.wsgi import WsgiToAsgi
from wsgi_support import (
    END,
    Closing,
    Environ,
    Peer,
    StartResponse,
    body,
    http_scope,
    request,
    run_app,
    start,
)


class Ledger:
    """Counts what the application produced and what ``send()`` completed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.produced_items = self.produced_bytes = 0
        self.sent_items = self.sent_bytes = 0
        self.max_items_ahead = self.max_bytes_ahead = 0

    def produce(self, item: bytes) -> bytes:
        with self.lock:
            self.produced_items += 1
            self.produced_bytes += len(item)
            self.max_items_ahead = max(self.max_items_ahead, self.produced_items - self.sent_items)
            self.max_bytes_ahead = max(self.max_bytes_ahead, self.produced_bytes - self.sent_bytes)
        return item

    async def slow_send(self, message: dict[str, Any]) -> None:
        """A slow client: every send gives the worker a chance to run ahead."""
        await asyncio.to_thread(lambda: None)
        if message.get("more_body"):
            with self.lock:
                self.sent_items += 1
                self.sent_bytes += len(message["body"])


async def _serve_slowly(items: Iterator[bytes], ledger: Ledger) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        return items

    peer = Peer(request())
    await WsgiToAsgi(app)(http_scope(), peer.receive, ledger.slow_send)


@pytest.mark.asyncio
async def test_D33_small_items_run_ahead_by_at_most_window_items() -> None:
    ledger = Ledger()
    count = WINDOW_ITEMS * 5
    await _serve_slowly((ledger.produce(b"%d" % i) for i in range(count)), ledger)
    assert ledger.sent_items == count
    assert 1 <= ledger.max_items_ahead <= WINDOW_ITEMS


@pytest.mark.asyncio
async def test_D33_big_items_buffer_at_most_window_bytes_plus_one_item() -> None:
    ledger = Ledger()
    item = b"x" * (WINDOW_BYTES // 3 + 1)  # the third item crosses WINDOW_BYTES
    count = 1024 * 1024 * 3 // len(item) + 1  # a response of more than 3 MiB
    await _serve_slowly((ledger.produce(item) for _ in range(count)), ledger)
    assert ledger.sent_bytes == count * len(item)
    assert ledger.max_bytes_ahead <= WINDOW_BYTES + len(item)
    assert ledger.max_items_ahead <= WINDOW_ITEMS


@pytest.mark.asyncio
async def test_D33_messages_keep_their_shapes_and_order_through_the_window() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        write = start_response("200 OK", [("X-A", "1")])
        write(b"w1")
        write(b"w2")
        for i in range(WINDOW_ITEMS * 2):
            yield b"%d" % i
        yield b""

    peer = await run_app(app)
    items = [body(b"%d" % i) for i in range(WINDOW_ITEMS * 2)]
    assert peer.sent == [
        start(headers=[(b"x-a", b"1")]),
        body(b"w1"),
        body(b"w2"),
        *items,
        body(b""),
        END,
    ]


@pytest.mark.asyncio
async def test_D33_content_length_is_counted_when_items_are_produced() -> None:
    resumed: list[str] = []

    def gen() -> Iterator[bytes]:
        yield b"0123"
        yield b"45"
        yield b"6789"
        resumed.append("after 8 of 8 bytes")
        yield b"never"

    items = Closing(gen())

    def app(environ: Environ, start_response: StartResponse) -> Closing:
        start_response("200 OK", [("Content-Length", "8")])
        return items

    ledger = Ledger()
    peer = Peer(request())
    await WsgiToAsgi(app)(http_scope(), peer.receive, ledger.slow_send)
    assert ledger.sent_bytes == 8
    assert resumed == []
    assert items.requested == 3
    assert items.closed == 1
    items = Closing(gen())
    peer = await run_app(app)
    assert peer.bodies() == [b"0123", b"45", b"67", b""]
    assert items.requested == 3


@pytest.mark.asyncio
async def test_D33_close_runs_once_on_the_worker_after_a_long_stream() -> None:
    items = Closing(b"%d" % i for i in range(WINDOW_ITEMS * 4))

    def app(environ: Environ, start_response: StartResponse) -> Closing:
        start_response("200 OK", [])
        return items

    peer = await run_app(app)
    assert len(peer.bodies()) == WINDOW_ITEMS * 4 + 1
    assert items.closed == 1
    assert items.close_thread in items.next_threads
    assert items.close_thread != threading.get_ident()


@pytest.mark.asyncio
async def test_D33_non_bytes_item_in_the_window_raises_type_error_and_closes() -> None:
    items = Closing([b"a", b"b", "text", b"never"])

    def app(environ: Environ, start_response: StartResponse) -> Closing:
        start_response("200 OK", [])
        return items

    with pytest.raises(TypeError, match="must be bytes, not str"):
        await run_app(app)
    assert items.requested == 3
    assert items.closed == 1


@pytest.mark.asyncio
async def test_D33_worker_wakes_the_loop_only_when_it_is_parked() -> None:
    link = Link(asyncio.get_running_loop(), lambda: None)
    posts: list[object] = []
    post = link._post

    def counting_post(callback: Any, *args: Any) -> None:
        posts.append(callback)
        post(callback, *args)

    link._post = counting_post
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    serving = asyncio.create_task(link.serve(send))
    await asyncio.sleep(0)  # serve() finds nothing and parks
    for i in range(5):  # the loop cannot run meanwhile: one wake-up for all five
        link.push([{"type": "item", "n": i}], 1, 1)
    link.finish([{"type": "end"}], None)
    assert await serving is None
    assert len(posts) == 1
    assert [m.get("n") for m in sent] == [0, 1, 2, 3, 4, None]


class _CountingLock:
    """Stands in for the worker's ``_room`` lock, counting the loop's releases."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self.releases = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self.releases += 1
        self._lock.release()


@pytest.mark.asyncio
async def test_D33_loop_wakes_a_blocked_worker_once_per_half_window() -> None:
    link = Link(asyncio.get_running_loop(), lambda: None)
    room = _CountingLock()
    link._room = room  # type: ignore[assignment]  # duck-typed lock that counts releases
    for _ in range(WINDOW_ITEMS):
        link.push([{"type": "item"}], 1, 1)
    waiting = asyncio.create_task(asyncio.to_thread(link.wait_for_room))
    while not link._blocked:  # the worker thread blocks on the full window
        await asyncio.to_thread(lambda: None)
    link.finish([], None)

    async def send(message: dict[str, Any]) -> None:
        pass

    assert await link.serve(send) is None
    await waiting
    assert room.releases == 1  # not one per item sent
