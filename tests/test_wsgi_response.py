"""Responses of ``asgiref.wsgi``: messages, start_response, write, clamping (``docs/wsgi.rst``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from asgiref._wsgi.response_window import WINDOW_ITEMS
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance
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
async def test_shorter_bodies_are_sent_as_they_are() -> None:
    peer = await run_app(returning([b"ab"], headers=[("Content-Length", "10")]))
    assert peer.bodies() == [b"ab", b""]


@pytest.mark.asyncio
async def test_D41_invalid_content_length_raises_in_start_response_before_anything_is_sent() -> (
    None
):
    for bad in ("abc", "-1", "+5"):
        peer = Peer(request())
        with pytest.raises(ValueError, match="invalid Content-Length header value"):
            await WsgiToAsgi(returning([b"abcdef"], headers=[("Content-Length", bad)]))(
                http_scope(), peer.receive, peer.send
            )
        assert peer.sent == []


@pytest.mark.asyncio
async def test_D41_header_injection_raises_in_start_response_before_anything_is_sent() -> None:
    cases = [
        ([("X-A", "ok\r\nX-Injected: yes")], "header value for 'X-A' contains CR or LF"),
        ([("X-A", "a\0b")], "contains NUL"),
        ([("X A", "v")], "not an HTTP token"),
        ([("X:A", "v")], "not an HTTP token"),
        ([("Content-Length", "1"), ("Content-Length", "2")], "conflicting Content-Length"),
    ]
    for headers, reason in cases:
        peer = Peer(request())
        with pytest.raises(ValueError, match=reason):
            await WsgiToAsgi(returning([b"x"], headers=headers))(
                http_scope(), peer.receive, peer.send
            )
        assert peer.sent == []


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
async def test_D33_backpressure_the_app_runs_ahead_by_at_most_the_window() -> None:
    send_gate = asyncio.Event()
    send_blocked = asyncio.Event()
    sends_done = 0
    progress: list[int] = []  # sends completed when each item was requested

    def gen() -> Iterator[bytes]:
        for i in range(WINDOW_ITEMS + 3):
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
    await send_blocked.wait()  # the first item's send is stuck
    while len(progress) < WINDOW_ITEMS:  # the worker fills the window...
        await asyncio.to_thread(lambda: None)
    for _ in range(3):  # ...and gets every chance to run further ahead
        await asyncio.to_thread(lambda: None)
    assert len(progress) == WINDOW_ITEMS  # no item beyond the window was requested
    assert sends_done <= 1  # only the start message was sent meanwhile
    send_gate.set()
    await task
    assert len(progress) == WINDOW_ITEMS + 3


@pytest.mark.asyncio
async def test_D2_a_stale_write_raises_runtime_error_naming_the_request() -> None:
    kept: list[Any] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        kept.append(start_response("200 OK", []))
        return [b"done"]

    first = await run_app(app, scope=http_scope(path="/first"))
    second_sent: list[Any] = []

    def other(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        with pytest.raises(
            RuntimeError, match=r"write\(\) called after the response to GET '/first'"
        ):
            kept[0](b"lost")
        return [b"second"]

    second = await run_app(other)
    second_sent.extend(second.bodies())
    assert first.bodies() == [b"done", b""]
    assert second_sent == [b"second", b""]  # the stale data never reached another request


@pytest.mark.asyncio
async def test_D2_a_stale_start_response_raises_runtime_error_naming_the_request() -> None:
    kept: list[StartResponse] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        kept.append(start_response)
        start_response("200 OK", [])
        return [b"done"]

    peer = await run_app(app, scope=http_scope(path="/kept"))
    with pytest.raises(
        RuntimeError, match=r"start_response\(\) called after the response to GET '/kept' ended"
    ):
        kept[0]("500 Error", [], (ValueError, ValueError("late"), None))
    assert peer.bodies() == [b"done", b""]
