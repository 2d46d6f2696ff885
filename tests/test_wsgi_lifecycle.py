"""Request lifecycle of ``asgiref.wsgi``: threads, context, errors, close(), scopes."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from asgiref.wsgi import WsgiToAsgi
from wsgi_support import (
    END,
    WAIT,
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

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("test_wsgi_response_var")


def returning(
    result: Any, status: str = "200 OK", headers: list[tuple[str, str]] | None = None
) -> Any:
    def app(environ: Environ, start_response: StartResponse) -> Any:
        start_response(status, headers or [])
        return result

    return app


@pytest.mark.asyncio
async def test_app_error_before_the_response_propagates_and_is_not_logged_by_the_adapter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise LookupError("app failed")

    with (
        caplog.at_level(logging.ERROR, logger="asgiref.wsgi"),
        pytest.raises(LookupError, match="app failed"),
    ):
        await run_app(app)
    assert [r for r in caplog.records if r.name == "asgiref.wsgi"] == []  # the server logs it


@pytest.mark.asyncio
async def test_iteration_error_after_start_propagates_after_close_and_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def gen() -> Iterator[bytes]:
        yield b"partial"
        raise LookupError("mid-stream")

    items = Closing(gen())
    peer = Peer(request())
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"), pytest.raises(LookupError):
        await WsgiToAsgi(returning(items))(http_scope(), peer.receive, peer.send)
    assert items.closed == 1
    assert peer.sent == [start(), body(b"partial")]
    assert [r for r in caplog.records if r.name == "asgiref.wsgi"] == []  # the server logs it


@pytest.mark.asyncio
async def test_close_error_after_a_complete_response_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent_before_close: list[int] = []
    peer = Peer(request())

    class BadClose(Closing):
        def close(self) -> None:
            sent_before_close.append(len(peer.sent))
            super().close()
            raise OSError("close failed")

    items = BadClose([b"a", b"b"])
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        await WsgiToAsgi(returning(items))(http_scope(), peer.receive, peer.send)
    assert peer.sent == [start(), body(b"a"), body(b"b"), END]
    assert sent_before_close == [4]  # the response was complete before close()
    assert items.closed == 1
    records = [r for r in caplog.records if r.name == "asgiref.wsgi"]
    assert len(records) == 1
    assert "close()" in records[0].getMessage()


@pytest.mark.asyncio
async def test_D1_a_generator_stopped_by_content_length_is_closed_after_the_response() -> None:
    # Its close() runs the generator's cleanup (GeneratorExit at the yield), which may
    # raise: it waits until the response is complete, and its error is only logged.
    peer = Peer(request())
    sent_at_cleanup: list[int] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        try:
            yield b"ab"
            yield b"never requested"
        finally:
            sent_at_cleanup.append(len(peer.sent))
            raise RuntimeError("cleanup failed")

    await WsgiToAsgi(app)(http_scope(), peer.receive, peer.send)
    assert peer.sent == [start(headers=[(b"content-length", b"2")]), body(b"ab"), END]
    assert sent_at_cleanup == [3]


@pytest.mark.asyncio
async def test_D1_an_exhausted_generator_needs_no_wait_before_its_response_ends() -> None:
    # close() of a generator that ran to its end does nothing and cannot raise; the
    # adapter calls it at once (the response order is unchanged for the client).
    generators: list[Generator[bytes, None, None]] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        def items() -> Generator[bytes, None, None]:
            yield b"a"
            yield b"b"

        start_response("200 OK", [])
        generators.append(items())
        return generators[0]

    peer = await run_app(app)
    assert peer.sent == [start(), body(b"a"), body(b"b"), END]
    assert inspect.getgeneratorstate(generators[0]) == inspect.GEN_CLOSED


@pytest.mark.asyncio
async def test_D1_close_is_called_once_on_the_request_thread_at_normal_end() -> None:
    app_threads: list[int] = []
    items = Closing([b"a", b"b"])

    def app(environ: Environ, start_response: StartResponse) -> Closing:
        app_threads.append(threading.get_ident())
        start_response("200 OK", [])
        return items

    await run_app(app)
    assert items.closed == 1
    assert items.close_thread == app_threads[0]
    assert items.next_threads == {app_threads[0]}
    assert app_threads[0] != threading.get_ident()


@pytest.mark.asyncio
async def test_D7_requests_run_concurrently() -> None:
    barrier = threading.Barrier(3)

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        barrier.wait(WAIT)  # breaks (and fails the test) unless three requests run at once
        start_response("200 OK", [])
        return [b"ok"]

    adapter = WsgiToAsgi(app)
    peers = [Peer(request()) for _ in range(3)]
    await asyncio.gather(*(adapter(http_scope(), p.receive, p.send) for p in peers))
    assert all(p.bodies() == [b"ok", b""] for p in peers)


@pytest.mark.asyncio
async def test_context_is_copied_in_and_written_back() -> None:
    seen: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        seen.append(VAR.get())
        VAR.set("from the wsgi thread")
        start_response("200 OK", [])
        return []

    VAR.set("from the caller")
    await run_app(app)
    assert seen == ["from the caller"]
    assert VAR.get() == "from the wsgi thread"


@pytest.mark.asyncio
async def test_D28_lifespan_is_answered() -> None:
    peer = Peer({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
    await WsgiToAsgi(returning([]))(
        {"type": "lifespan", "asgi": {"version": "3.0"}}, peer.receive, peer.send
    )
    assert peer.sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    peer = Peer({"type": "lifespan.unknown"})
    await WsgiToAsgi(returning([]))({"type": "lifespan"}, peer.receive, peer.send)
    assert peer.sent == []


@pytest.mark.asyncio
async def test_other_scopes_raise_value_error_before_receiving() -> None:
    peer = Peer()
    with pytest.raises(ValueError, match=r"^WSGI wrapper received a non-HTTP scope"):
        await WsgiToAsgi(returning([]))({"type": "websocket"}, peer.receive, peer.send)
    assert peer.receive_calls == 0


@pytest.mark.asyncio
async def test_the_call_returns_after_the_final_body_without_waiting_for_disconnect() -> None:
    items = Closing([b"a", b"b"])
    peer = Peer(request())  # receive() would block forever after the request
    await WsgiToAsgi(returning(items))(http_scope(), peer.receive, peer.send)
    assert peer.sent[-1] == END
    assert items.closed == 1


@pytest.mark.asyncio
async def test_receive_nothing_after_the_final_body() -> None:
    from asgiref.testing import ApplicationCommunicator

    communicator = ApplicationCommunicator(WsgiToAsgi(returning(Closing([b"a"]))), http_scope())
    await communicator.send_input(request())
    assert (await communicator.receive_output(WAIT))["type"] == "http.response.start"
    assert await communicator.receive_output(WAIT) == body(b"a")
    assert await communicator.receive_output(WAIT) == END
    assert await communicator.receive_nothing()
    await communicator.wait(WAIT)


@pytest.mark.asyncio
async def test_max_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_workers"):
        WsgiToAsgi(returning([]), max_workers=0)


@pytest.mark.asyncio
async def test_local_values_cross_into_the_wsgi_thread_and_back() -> None:
    from asgiref.local import Local

    local = Local()
    seen: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        seen.append(local.value)
        local.value = "set by the wsgi app"
        start_response("200 OK", [])
        return []

    local.value = "set by the caller"
    await run_app(app)
    assert seen == ["set by the caller"]
    assert local.value == "set by the wsgi app"


@pytest.mark.asyncio
async def test_bridge_frames_are_hidden_from_django_tracebacks() -> None:
    def gen() -> Iterator[bytes]:
        yield b"x"
        raise LookupError("in the iterable")

    with pytest.raises(LookupError) as info:
        await run_app(returning(gen()))
    frames = [tb.tb_frame for tb in _walk(info.value.__traceback__)]
    ours = [f for f in frames if "/asgiref/_wsgi" in f.f_code.co_filename]
    assert ours
    assert all(f.f_locals.get("__traceback_hide__") is True for f in ours)


def _walk(tb: Any) -> Iterator[Any]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


@pytest.mark.asyncio
async def test_async_to_sync_in_the_app_runs_on_the_server_loop_like_asgiref() -> None:
    from asgiref.sync import async_to_sync, sync_to_async

    seen: dict[str, Any] = {}

    def record() -> None:
        seen["thread_sensitive"] = threading.get_ident()

    async def inner() -> None:
        seen["loop"] = asyncio.get_running_loop()
        await sync_to_async(record)()

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        seen["app"] = threading.get_ident()
        async_to_sync(inner)()
        start_response("200 OK", [])
        yield b"x"
        async_to_sync(inner)()  # also while the body is iterated

    await run_app(app)
    assert seen["loop"] is asyncio.get_running_loop()
    assert seen["thread_sensitive"] == seen["app"]


def test_the_parent_loop_marker_is_ignored_after_fork_or_when_the_loop_stopped() -> None:
    from asgiref._wsgi.adapter import ParentLoop

    loop = asyncio.new_event_loop()
    try:
        marker = ParentLoop(loop)
        assert marker.running_on_parent() is False  # not running
        marker.generation = -1  # as seen from a forked child
        assert marker.running_on_parent() is False
    finally:
        loop.close()


@pytest.mark.asyncio
async def test_cancellation_reaches_an_async_to_sync_call_of_the_app() -> None:
    from asgiref.sync import async_to_sync

    blocked = threading.Event()
    outcome: list[BaseException] = []
    finished = threading.Event()

    async def forever() -> None:
        blocked.set()
        await asyncio.Event().wait()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            async_to_sync(forever)()
        except BaseException as exc:
            outcome.append(exc)
            raise
        finally:
            finished.set()
        return []  # pragma: no cover - never reached

    peer = Peer(request())
    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(blocked.wait, WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(finished.wait, WAIT)
    assert isinstance(outcome[0], asyncio.CancelledError)


@pytest.mark.asyncio
async def test_a_send_error_before_the_last_message_skips_the_drain() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    peer = Peer(request(b"a", more_body=True), request(b"b"))

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("connection lost")
        peer.sent.append(message)

    with pytest.raises(OSError, match="connection lost"):
        await WsgiToAsgi(app)(http_scope(), peer.receive, send)
    assert peer.inbox.qsize() == 1  # not drained: the connection is gone anyway


@pytest.mark.asyncio
async def test_D1_close_may_run_while_the_last_message_is_still_being_sent() -> None:
    # The client leaves while the server sends the last message: the worker is released
    # and closes the iterable before that send returns; the call still ends cleanly.
    items = Closing([b"a"])
    peer = Peer(request())
    original_send = peer.send

    async def send(message: dict[str, Any]) -> None:
        await original_send(message)
        if message == END:
            peer.inbox.put_nowait({"type": "http.disconnect"})
            for _ in range(500):
                if items.closed:
                    break
                await asyncio.sleep(0.01)

    await WsgiToAsgi(returning(items))(http_scope(), peer.receive, send)
    assert items.closed == 1
    assert peer.sent == [start(), body(b"a"), END]
