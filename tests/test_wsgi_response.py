"""Responses of ``asgiref.wsgi``: messages, start_response, write, clamping (contract §6.4)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance
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
async def test_hello_sends_exactly_start_body_end() -> None:
    peer = await run_app(returning([b"Hello"], headers=[("Content-Type", "text/plain")]))
    assert peer.sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "http.response.body", "body": b"Hello", "more_body": True},
        {"type": "http.response.body"},
    ]


@pytest.mark.asyncio
async def test_every_item_is_a_body_message_including_empty_ones() -> None:
    results: list[Any] = [
        [b"", b"a", b"", b"b"],
        (b"", b"a", b"", b"b"),
        Closing([b"", b"a", b"", b"b"]),
    ]
    for result in results:
        peer = await run_app(returning(result))
        assert peer.sent == [start(), body(b""), body(b"a"), body(b""), body(b"b"), END]


@pytest.mark.asyncio
async def test_an_empty_body_sends_start_and_end_only() -> None:
    empty: list[Any] = [[], Closing([])]
    for result in empty:
        peer = await run_app(returning(result, "204 No Content"))
        assert peer.sent == [start("204 No Content"), END]


@pytest.mark.asyncio
async def test_status_is_the_int_before_the_first_space_and_headers_are_lowercased() -> None:
    headers = [("X-One", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    peer = await run_app(returning([], "404 Not Found At All", headers))
    assert peer.sent[0] == {
        "type": "http.response.start",
        "status": 404,
        "headers": [(b"x-one", b"1"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")],
    }


@pytest.mark.asyncio
async def test_header_values_lose_surrounding_spaces_and_tabs() -> None:
    headers = [("Set-Cookie", " csrftoken=abc; Path=/"), ("X-Tab", "\tv w\t ")]
    peer = await run_app(returning([], headers=headers))
    expected = [(b"set-cookie", b"csrftoken=abc; Path=/"), (b"x-tab", b"v w")]
    assert peer.sent[0]["headers"] == expected


@pytest.mark.asyncio
async def test_status_without_a_space_raises_value_error() -> None:
    with pytest.raises(ValueError, match="200"):
        await run_app(returning([], "200"))


@pytest.mark.asyncio
async def test_D14_header_values_are_encoded_latin1() -> None:
    peer = await run_app(returning([], headers=[("X-Name", "Andr\xe9")]))
    assert peer.sent[0]["headers"] == [(b"x-name", b"Andr\xe9")]
    with pytest.raises(UnicodeEncodeError):
        await run_app(returning([], headers=[("X-Name", "\u20ac")]))


@pytest.mark.asyncio
async def test_D2_start_response_returns_write_and_write_goes_first() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"w1")
        write(b"")
        write(bytearray(b"w2"))
        return [b"i1"]

    peer = await run_app(app)
    assert peer.sent == [start(), body(b"w1"), body(b"w2"), body(b"i1"), END]


@pytest.mark.asyncio
async def test_write_before_start_response_raises_runtime_error() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = WsgiToAsgiInstance(app).start_response  # no request running on it
        with pytest.raises(RuntimeError, match="no request is running"):
            write("200 OK", [])
        return []

    with pytest.raises(RuntimeError, match="returned without calling start_response"):
        await run_app(app)

    written: list[Any] = []

    def early_writer(environ: Environ, start_response: StartResponse) -> list[bytes]:
        late_write = start_response("200 OK", [])
        written.append(late_write)
        return []

    await run_app(early_writer)

    def instance_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        response = start_response.__self__._response  # type: ignore[attr-defined]  # bound method of the instance
        with pytest.raises(RuntimeError, match=r"^write\(\) called before start_response\(\)"):
            response.write(b"x")
        start_response("200 OK", [])
        return []

    await run_app(instance_app)


@pytest.mark.asyncio
async def test_write_rejects_str() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])("text")
        return []

    with pytest.raises(TypeError, match="must be bytes, not str"):
        await run_app(app)


@pytest.mark.asyncio
async def test_start_is_held_until_the_first_body_item() -> None:
    seen_before_first_item: list[list[Any]] = []
    peer = Peer(request())

    def gen() -> Iterator[bytes]:
        seen_before_first_item.append(list(peer.sent))
        yield b"x"

    await WsgiToAsgi(returning(gen()))(http_scope(), peer.receive, peer.send)
    assert seen_before_first_item == [[]]
    assert peer.sent == [start(), body(b"x"), END]


@pytest.mark.asyncio
async def test_start_response_may_be_called_lazily_inside_the_iterable() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("201 Created", [])
        yield b"made"

    peer = await run_app(app)
    assert peer.sent == [start("201 Created"), body(b"made"), END]


@pytest.mark.asyncio
async def test_content_length_clamps_a_list() -> None:
    peer = await run_app(returning([b"0123", b"45", b"6789"], headers=[("Content-Length", "8")]))
    assert peer.bodies() == [b"0123", b"45", b"67", b""]


@pytest.mark.asyncio
async def test_content_length_stops_requesting_items_from_a_generator() -> None:
    resumed: list[str] = []

    def gen() -> Iterator[bytes]:
        yield b"0123"
        resumed.append("after 4 of 4 bytes")
        yield b"more"

    items = Closing(gen())
    peer = await run_app(returning(items, headers=[("content-length", "4")]))
    assert peer.bodies() == [b"0123", b""]
    assert resumed == []
    assert items.requested == 1
    assert items.closed == 1


@pytest.mark.asyncio
async def test_content_length_clamp_with_write_and_zero_length() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [("Content-Length", "3")])
        write(b"ab")
        write(b"cd")
        write(b"ef")
        return [b"never"]

    peer = await run_app(app)
    assert peer.bodies() == [b"ab", b"c", b""]
    items = Closing([b"x"])
    peer = await run_app(returning(items, headers=[("Content-Length", "0")]))
    assert peer.sent == [start(headers=[(b"content-length", b"0")]), END]
    assert items.requested == 0


@pytest.mark.asyncio
async def test_shorter_bodies_and_invalid_content_length_are_sent_as_they_are() -> None:
    peer = await run_app(returning([b"ab"], headers=[("Content-Length", "10")]))
    assert peer.bodies() == [b"ab", b""]
    for bad in ("abc", "-1"):
        peer = await run_app(returning([b"abcdef"], headers=[("Content-Length", bad)]))
        assert peer.bodies() == [b"abcdef", b""]


@pytest.mark.asyncio
async def test_exc_info_before_the_start_was_sent_replaces_status_headers_and_clamp() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        try:
            raise KeyError("boom")
        except KeyError:
            start_response("500 Internal Server Error", [("X-Error", "1")], sys.exc_info())
        return [b"full error body"]

    peer = await run_app(app)
    assert peer.sent == [start("500 Oops", [(b"x-error", b"1")]), body(b"full error body"), END]


@pytest.mark.asyncio
async def test_exc_info_after_the_start_was_sent_reraises_it() -> None:
    raised: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"started"
        try:
            raise KeyError("original")
        except KeyError as exc:
            try:
                start_response("500 Error", [], sys.exc_info())
            except KeyError as again:
                raised.append(again)
                raised.append(exc)
                raise

    with pytest.raises(KeyError, match="original"):
        await run_app(app)
    assert len(raised) == 2
    assert raised[0] is raised[1]


@pytest.mark.asyncio
async def test_D12_second_start_response_without_exc_info_raises_value_error() -> None:
    errors: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        try:
            start_response("200 OK", [])
        except ValueError as exc:
            errors.append(str(exc))
        yield b"sent"
        try:
            start_response("200 OK", [])
        except ValueError as exc:
            errors.append(str(exc))

    await run_app(app)
    assert errors == ["You cannot call start_response a second time without exc_info"] * 2


@pytest.mark.asyncio
async def test_D24_bytearray_and_memoryview_items_are_converted() -> None:
    for result in (
        [bytearray(b"ab"), memoryview(b"cd")],
        Closing([bytearray(b"ab"), memoryview(b"cd")]),
    ):
        peer = await run_app(returning(result))
        assert peer.sent == [start(), body(b"ab"), body(b"cd"), END]
        assert all(type(b) is bytes for b in peer.bodies())


@pytest.mark.asyncio
async def test_D24_non_bytes_items_raise_type_error_and_close_is_still_called() -> None:
    for items in (Closing(["text"]), Closing([b"ok", 42])):
        with pytest.raises(TypeError, match=r"must be bytes, not (str|int)"):
            await run_app(returning(items))
        assert items.closed == 1
    with pytest.raises(TypeError, match="must be bytes, not str"):
        await run_app(returning(["text"]))


@pytest.mark.asyncio
async def test_D12_app_returning_without_start_response_raises_after_close() -> None:
    for items in (Closing([b"x"]), Closing([])):

        def app(environ: Environ, start_response: StartResponse, items: Closing = items) -> Closing:
            return items

        with pytest.raises(
            RuntimeError, match=r"^WSGI application returned without calling start_response"
        ):
            await run_app(app)
        assert items.closed == 1
    with pytest.raises(
        RuntimeError, match=r"^WSGI application returned without calling start_response"
    ):
        await run_app(lambda environ, start_response: [])


@pytest.mark.asyncio
async def test_app_error_before_the_response_propagates_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise LookupError("app failed")

    with (
        caplog.at_level(logging.ERROR, logger="asgiref.wsgi"),
        pytest.raises(LookupError, match="app failed"),
    ):
        await run_app(app)
    records = [r for r in caplog.records if r.name == "asgiref.wsgi"]
    assert len(records) == 1
    assert "before the response started" in records[0].getMessage()
    assert records[0].exc_info is not None


@pytest.mark.asyncio
async def test_iteration_error_after_start_propagates_after_close_and_is_logged(
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
    assert "response already started" in caplog.records[-1].getMessage()


@pytest.mark.asyncio
async def test_close_error_propagates() -> None:
    class BadClose(Closing):
        def close(self) -> None:
            super().close()
            raise OSError("close failed")

    with pytest.raises(OSError, match="close failed"):
        await run_app(returning(BadClose([b"a"])))


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
async def test_backpressure_the_next_item_is_requested_only_after_send_completed() -> None:
    send_gate = asyncio.Event()
    send_blocked = asyncio.Event()
    sends_done = 0
    progress: list[int] = []

    def gen() -> Iterator[bytes]:
        for i in range(3):
            progress.append(sends_done)
            yield str(i).encode()

    async def send(message: dict[str, Any]) -> None:
        nonlocal sends_done
        if message.get("body") == b"0":
            send_blocked.set()
            await send_gate.wait()
        sends_done += 1

    async def receive() -> dict[str, Any]:
        return request()

    task = asyncio.create_task(WsgiToAsgi(returning(gen()))(http_scope(), receive, send))
    await send_blocked.wait()  # the worker now waits for this send to complete
    await asyncio.to_thread(lambda: None)  # give the worker every chance to run ahead
    assert progress == [0]
    send_gate.set()
    await task
    assert progress == [0, 2, 3]


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
