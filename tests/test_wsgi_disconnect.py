"""Disconnect, send errors and cancellation in ``asgiref.wsgi`` (``docs/wsgi.rst``; D1, D13)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from asgiref._wsgi.response_window import WINDOW_ITEMS
from asgiref.wsgi import ClientDisconnected, WsgiToAsgi
from wsgi_support import WAIT, Closing, Environ, Peer, StartResponse, http_scope, request


def endless() -> Iterator[bytes]:
    while True:
        yield b"tick"


def serving(items: Any) -> Any:
    def app(environ: Environ, start_response: StartResponse) -> Any:
        start_response("200 OK", [])
        return items

    return app


@pytest.mark.asyncio
async def test_D13_close_is_called_when_client_disconnects_during_the_response() -> None:
    items = Closing(endless())
    peer = Peer(request())
    sends = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal sends
        sends += 1
        if sends == 3:
            peer.inbox.put_nowait({"type": "http.disconnect"})
            await asyncio.sleep(0)  # let the watcher see it

    await WsgiToAsgi(serving(items))(http_scope(), peer.receive, send)
    assert items.closed == 1
    assert items.close_thread != threading.get_ident()
    # At most the window ran ahead, plus the item being produced when the worker
    # learnt of the disconnect (sends counts the start message too).
    assert items.requested <= (sends - 1) + WINDOW_ITEMS + 1


@pytest.mark.asyncio
async def test_D13_close_is_called_when_send_raises_and_the_same_exception_propagates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = ConnectionResetError("client went away")
    failed = threading.Event()

    def gen() -> Iterator[bytes]:
        yield b"one"
        yield b"two"
        failed.wait(WAIT)  # the loop has seen send() fail: it is FAILED now
        yield b"three"
        yield b"never requested"

    items = Closing(gen())

    async def send(message: dict[str, Any]) -> None:
        if message.get("body") == b"two":
            asyncio.get_running_loop().call_soon(failed.set)  # runs after FAILED is set
            raise error

    peer = Peer(request())
    with (
        caplog.at_level(logging.ERROR, logger="asgiref.wsgi"),
        pytest.raises(ConnectionResetError) as info,
    ):
        await WsgiToAsgi(serving(items))(http_scope(), peer.receive, send)
    assert info.value is error
    assert items.closed == 1
    assert items.requested == 3  # the worker learnt of it when queueing "three"
    assert [r for r in caplog.records if r.name == "asgiref.wsgi"] == []


@pytest.mark.asyncio
async def test_send_error_in_the_final_batch_propagates() -> None:
    error = ConnectionResetError("late")

    async def send(message: dict[str, Any]) -> None:
        raise error

    peer = Peer(request())
    with pytest.raises(ConnectionResetError) as info:
        await WsgiToAsgi(serving([b"x"]))(http_scope(), peer.receive, send)
    assert info.value is error


@pytest.mark.asyncio
async def test_write_raises_the_send_error_and_later_writes_too() -> None:
    error = BrokenPipeError("closed")
    failed = threading.Event()
    seen: list[BaseException | None] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"queued")  # buffered for transmission (PEP 3333): returns at once
        failed.wait(WAIT)
        for _ in range(2):
            try:
                write(b"data")
                seen.append(None)
            except OSError as exc:
                seen.append(exc)
        return []

    async def send(message: dict[str, Any]) -> None:
        asyncio.get_running_loop().call_soon(failed.set)  # runs after FAILED is set
        raise error

    peer = Peer(request())
    with pytest.raises(BrokenPipeError) as info:
        await WsgiToAsgi(app)(http_scope(), peer.receive, send)
    assert info.value is error
    assert seen == [error, error]


@pytest.mark.asyncio
async def test_write_after_disconnect_raises_client_disconnected_and_call_returns() -> None:
    peer = Peer(request())
    disconnected = threading.Event()
    seen: list[BaseException] = []
    first_written = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"first")
        first_written.set()
        disconnected.wait(WAIT)
        try:
            write(b"second")
        except ClientDisconnected as exc:
            seen.append(exc)
            raise
        return []

    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(first_written.wait, WAIT)
    peer.inbox.put_nowait({"type": "http.disconnect"})
    while peer.inbox.qsize():
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    disconnected.set()
    await task  # returns normally: the client is gone
    assert len(seen) == 1
    assert [m.get("body") for m in peer.sent[1:]] == [b"first"]


@pytest.mark.asyncio
async def test_D13_cancellation_does_not_wait_and_the_worker_stops_at_its_next_send() -> None:
    items_started = threading.Event()
    release = threading.Event()

    def gen() -> Iterator[bytes]:
        yield b"one"
        items_started.set()
        release.wait(WAIT)
        yield b"two"
        yield b"never requested"

    items = Closing(gen())
    peer = Peer(request())
    task = asyncio.create_task(WsgiToAsgi(serving(items))(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(items_started.wait, WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task  # does not wait for the blocked worker
    assert items.closed == 0
    release.set()
    assert await asyncio.to_thread(items.close_event.wait, WAIT)
    assert items.closed == 1
    assert items.requested == 2
    assert [m.get("body") for m in peer.sent[1:]] == [b"one"]


@pytest.mark.asyncio
async def test_cancellation_while_the_worker_waits_for_a_send_releases_it() -> None:
    window_full = threading.Event()

    def gen() -> Iterator[bytes]:
        for produced in range(1, 100):
            if produced == WINDOW_ITEMS:
                window_full.set()
            yield b"tick"

    items = Closing(gen())

    async def send(message: dict[str, Any]) -> None:
        await asyncio.Event().wait()  # the client never reads

    peer = Peer(request())
    task = asyncio.create_task(WsgiToAsgi(serving(items))(http_scope(), peer.receive, send))
    assert await asyncio.to_thread(window_full.wait, WAIT)  # the worker fills the window
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(items.close_event.wait, WAIT)
    assert items.requested == WINDOW_ITEMS  # blocked on the full window, then released


@pytest.mark.asyncio
async def test_cancellation_while_the_worker_reads_input_raises_client_disconnected() -> None:
    errors: list[BaseException] = []
    done = threading.Event()
    reading = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            reading.set()
            environ["wsgi.input"].read()
        except ClientDisconnected as exc:
            errors.append(exc)
        finally:
            done.set()
        return []

    peer = Peer(request(b"part", more_body=True))
    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(reading.wait, WAIT)
    while peer.receive_calls < 2:  # the pump waits for the next body message
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(done.wait, WAIT)
    assert len(errors) == 1


@pytest.mark.asyncio
async def test_cancellation_before_the_worker_starts_skips_the_app() -> None:
    gate = threading.Event()
    called: list[str] = []

    def blocker(environ: Environ, start_response: StartResponse) -> list[bytes]:
        called.append(environ["PATH_INFO"])
        gate.wait(WAIT)
        start_response("200 OK", [])
        return []

    adapter = WsgiToAsgi(blocker, max_workers=1)
    first = Peer(request())
    first_task = asyncio.create_task(adapter(http_scope(path="/first"), first.receive, first.send))
    while not called:
        await asyncio.sleep(0)
    second = Peer(request())
    second_task = asyncio.create_task(
        adapter(http_scope(path="/second"), second.receive, second.send)
    )
    for _ in range(10):
        await asyncio.sleep(0)
    second_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second_task
    gate.set()
    await first_task
    third = Peer(request())
    await adapter(http_scope(path="/third"), third.receive, third.send)
    assert called == ["/first", "/third"]


@pytest.mark.asyncio
async def test_disconnects_free_the_worker_thread_no_leak() -> None:
    adapter_items: list[Closing] = []

    def app(environ: Environ, start_response: StartResponse) -> Closing:
        start_response("200 OK", [])
        items = Closing([b"fine"] if environ["PATH_INFO"] == "/healthy" else endless())
        adapter_items.append(items)
        return items

    adapter = WsgiToAsgi(app, max_workers=1)  # a leaked worker would hang the next request
    for _ in range(5):
        peer = Peer(request())

        async def send(message: dict[str, Any], peer: Peer = peer) -> None:
            if message.get("body"):
                peer.inbox.put_nowait({"type": "http.disconnect"})
                await asyncio.sleep(0)

        await adapter(http_scope(), peer.receive, send)
    for _ in range(5):
        peer = Peer(request())

        async def failing(message: dict[str, Any]) -> None:
            if message.get("body"):
                raise ConnectionResetError

        with pytest.raises(ConnectionResetError):
            await adapter(http_scope(), peer.receive, failing)
    assert [items.closed for items in adapter_items] == [1] * 10
    assert adapter._pool is not None
    assert adapter._pool.threads == 1
    peer = Peer(request())
    await adapter(http_scope(path="/healthy"), peer.receive, peer.send)
    assert peer.bodies() == [b"fine", b""]


@pytest.mark.asyncio
async def test_a_disconnect_seen_before_the_final_list_batch_sends_nothing_more() -> None:
    reading_done = threading.Event()
    proceed = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        environ["wsgi.input"].read()
        reading_done.set()
        proceed.wait(WAIT)
        start_response("200 OK", [])
        return [b"unsent"]

    peer = Peer(request(b"a", more_body=True), request(b"b"))
    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(reading_done.wait, WAIT)
    peer.inbox.put_nowait({"type": "http.disconnect"})
    while peer.inbox.qsize():
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    proceed.set()
    await task
    assert peer.sent == []


@pytest.mark.asyncio
async def test_cancellation_before_the_iterable_is_consumed_closes_it_unread() -> None:
    returning = threading.Event()
    entered = threading.Event()
    items = Closing([b"never"])

    def app(environ: Environ, start_response: StartResponse) -> Closing:
        start_response("200 OK", [])
        entered.set()
        returning.wait(WAIT)
        return items

    peer = Peer(request())
    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(entered.wait, WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    returning.set()
    assert await asyncio.to_thread(items.close_event.wait, WAIT)
    assert items.requested == 0
    assert peer.sent == []


@pytest.mark.asyncio
async def test_an_item_produced_while_the_client_left_is_not_sent() -> None:
    in_next = threading.Event()
    release = threading.Event()

    def gen() -> Iterator[bytes]:
        yield b"first"
        in_next.set()
        release.wait(WAIT)
        yield b"unsent"
        yield b"never requested"

    items = Closing(gen())
    peer = Peer(request())
    task = asyncio.create_task(WsgiToAsgi(serving(items))(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(in_next.wait, WAIT)
    peer.inbox.put_nowait({"type": "http.disconnect"})
    while peer.inbox.qsize():
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    release.set()
    await task
    assert [m.get("body") for m in peer.sent[1:]] == [b"first"]
    assert items.requested == 2
    assert items.closed == 1


@pytest.mark.asyncio
async def test_an_iteration_error_wins_over_a_close_error() -> None:
    class FailingBoth(Closing):
        def close(self) -> None:
            super().close()
            raise OSError("close failed too")

    def boom(_: object) -> bytes:
        raise LookupError("iteration failed")

    items = FailingBoth(map(boom, [1]))
    peer = Peer(request())
    with pytest.raises(LookupError, match="iteration failed"):
        await WsgiToAsgi(serving(items))(http_scope(), peer.receive, peer.send)
    assert items.closed == 1


@pytest.mark.asyncio
async def test_streaming_after_reading_the_body_reuses_the_body_reader_for_disconnects() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        data = environ["wsgi.input"].read()
        start_response("200 OK", [])
        yield data
        yield b"!"

    peer = Peer(request(b"a", more_body=True), request(b"b"))
    await WsgiToAsgi(app)(http_scope(), peer.receive, peer.send)
    assert [m.get("body") for m in peer.sent[1:]] == [b"ab", b"!", None]
