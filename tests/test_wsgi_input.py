"""Streaming ``wsgi.input`` (``docs/wsgi.rst``; D8)."""

from __future__ import annotations

import asyncio
import threading
import tracemalloc
from typing import Any

import pytest

from asgiref._wsgi.request_body import READ_AHEAD
from asgiref.wsgi import ClientDisconnected, WsgiToAsgi
from wsgi_support import WAIT, Environ, Peer, StartResponse, http_scope, request, run_app


def echo(reader: Any) -> Any:
    """An app that answers with what ``reader(wsgi.input)`` returns (joined if a list)."""

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        data = reader(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b"|".join(data) if isinstance(data, list) else data]

    return app


async def echoed(reader: Any, *chunks: bytes) -> bytes:
    messages = [request(chunk, more_body=True) for chunk in chunks[:-1]]
    messages.append(request(chunks[-1]))
    peer = await run_app(echo(reader), *messages)
    return peer.bodies()[0]


@pytest.mark.asyncio
async def test_read_n_blocks_until_n_bytes_across_messages() -> None:
    assert await echoed(lambda f: f.read(12), b"Hello ", b"World!") == b"Hello World!"


@pytest.mark.asyncio
async def test_read_all_and_none_and_negative() -> None:
    assert await echoed(lambda f: f.read(), b"a", b"b", b"", b"c") == b"abc"
    assert await echoed(lambda f: f.read(None), b"ab", b"c") == b"abc"
    assert await echoed(lambda f: f.read(-5), b"ab", b"c") == b"abc"


@pytest.mark.asyncio
async def test_reads_after_eof_return_empty_bytes() -> None:
    assert await echoed(lambda f: [f.read(), f.read(), f.read(3), f.readline()], b"xy") == b"xy|||"


@pytest.mark.asyncio
async def test_read_n_returns_short_only_at_eof() -> None:
    result = await echoed(lambda f: [f.read(2), f.read(10), f.read(1)], b"abc", b"def")
    assert result == b"ab|cdef|"


@pytest.mark.asyncio
async def test_read_zero_returns_nothing() -> None:
    assert await echoed(lambda f: [f.read(0), f.read(1)], b"a") == b"|a"


@pytest.mark.asyncio
async def test_readline_across_messages_and_with_size() -> None:
    result = await echoed(
        lambda f: [f.readline(), f.readline(3), f.readline(), f.readline(None), f.readline()],
        b"one\ntw",
        b"o\nthree\nla",
        b"st",
    )
    assert result == b"one\n|two|\n|three\n|last"


@pytest.mark.asyncio
async def test_readline_size_limit_before_newline_arrives() -> None:
    result = await echoed(lambda f: [f.readline(4), f.readline(100)], b"ab", b"cdef", b"g\nh")
    assert result == b"abcd|efg\n"


@pytest.mark.asyncio
async def test_readlines_and_hint_and_iteration() -> None:
    assert await echoed(lambda f: f.readlines(), b"a\nb", b"\nc") == b"a\n|b\n|c"
    assert await echoed(lambda f: f.readlines(3), b"a\nbb\n", b"c\n") == b"a\n|bb\n"
    assert await echoed(lambda f: f.readlines(None), b"a\nb") == b"a\n|b"
    assert await echoed(lambda f: list(f), b"x\ny", b"\n") == b"x\n|y\n"


@pytest.mark.asyncio
async def test_bytearray_bodies_are_accepted() -> None:
    first: dict[str, Any] = {"type": "http.request", "body": bytearray(b"ab"), "more_body": True}
    second: dict[str, Any] = {"type": "http.request", "body": bytearray(b"cd")}
    peer = await run_app(echo(lambda f: f.read()), first, second)
    assert peer.bodies()[0] == b"abcd"


@pytest.mark.asyncio
async def test_D8_app_starts_before_the_last_body_message_arrives() -> None:
    first_read = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        stream = environ["wsgi.input"]
        head = stream.read(5)
        first_read.set()
        rest = stream.read()
        start_response("200 OK", [])
        return [head, rest]

    peer = Peer(request(b"first", more_body=True))
    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(first_read.wait, WAIT)
    assert peer.sent == []
    peer.inbox.put_nowait(request(b"-second"))
    await task
    assert peer.bodies() == [b"first", b"-second", b""]


@pytest.mark.asyncio
async def test_D8_disconnect_mid_upload_raises_an_oserror_subclass_from_read() -> None:
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except ClientDisconnected as exc:
            errors.append(exc)
            raise
        raise AssertionError("read must not return a truncated body")

    peer = await run_app(app, request(b"partial", more_body=True), {"type": "http.disconnect"})
    assert len(errors) == 1
    assert isinstance(errors[0], OSError)
    assert peer.sent == []


@pytest.mark.asyncio
async def test_data_already_buffered_is_returned_before_the_disconnect_error() -> None:
    results: list[Any] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        stream = environ["wsgi.input"]
        results.append(stream.read(2))
        results.append(stream.read(3))
        with pytest.raises(ClientDisconnected):
            stream.read(10)
        start_response("200 OK", [])
        return []

    await run_app(
        app,
        request(b"ab", more_body=True),
        request(b"cde", more_body=True),
        {"type": "http.disconnect"},
    )
    assert results == [b"ab", b"cde"]


@pytest.mark.asyncio
async def test_unexpected_message_during_the_body_raises_the_value_error_from_read() -> None:
    errors: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except ValueError as exc:
            errors.append(exc)
        start_response("200 OK", [])
        return []

    await run_app(app, request(b"a", more_body=True), {"type": "websocket.receive"})
    assert str(errors[0]).startswith("WSGI wrapper received a non-HTTP-request message")


@pytest.mark.asyncio
async def test_an_exception_from_receive_is_raised_by_the_read() -> None:
    errors: list[BaseException] = []
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return request(b"a", more_body=True)
        raise ConnectionResetError("gone")

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except ConnectionResetError as exc:
            errors.append(exc)
        start_response("200 OK", [])
        return []

    sent: list[Any] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await WsgiToAsgi(app)(http_scope(), receive, send)
    assert [str(e) for e in errors] == ["gone"]


@pytest.mark.asyncio
async def test_D8_disconnect_before_the_first_message_returns_quietly() -> None:
    called: list[bool] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        called.append(True)
        return []

    peer = await run_app(app, {"type": "http.disconnect"})
    assert peer.sent == []
    assert called == []


@pytest.mark.asyncio
async def test_a_non_request_first_message_raises_value_error() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise AssertionError("not called")

    with pytest.raises(ValueError, match=r"^WSGI wrapper received a non-HTTP-request message"):
        await run_app(app, {"type": "websocket.connect"})


@pytest.mark.asyncio
async def test_body_is_not_received_until_the_app_reads_past_the_first_message() -> None:
    calls_while_running: list[int] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        data = environ["wsgi.input"].read(5)
        calls_while_running.append(peer.receive_calls)
        return [data]

    peer = Peer(request(b"first", more_body=True), request(b"never read"))
    await WsgiToAsgi(app)(http_scope(), peer.receive, peer.send)
    assert calls_while_running == [1]
    assert peer.inbox.empty()  # the unread rest is drained before the response ends (D42)
    assert peer.bodies() == [b"first", b""]


@pytest.mark.asyncio
async def test_read_ahead_is_bounded_while_the_app_does_not_read() -> None:
    chunk = b"x" * 65536
    app_read = threading.Event()
    release = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        stream = environ["wsgi.input"]
        stream.read(len(chunk) + 1)  # past the first message: the pump starts
        app_read.set()
        release.wait(WAIT)
        start_response("200 OK", [])
        return [str(len(stream.read()) + len(chunk) + 1).encode()]

    total = 64
    peer = Peer(*[request(chunk, more_body=i < total - 1) for i in range(total)])
    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(app_read.wait, WAIT)
    for _ in range(20):  # let the pump run as far as it will go
        await asyncio.sleep(0)
    ahead = peer.receive_calls
    release.set()
    await task
    assert ahead <= READ_AHEAD // len(chunk) + 3
    assert peer.bodies()[0] == str(total * len(chunk)).encode()


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_D8_64_mib_upload_read_in_64_kib_pieces_keeps_memory_bounded() -> None:
    piece = 65536
    count = 1024
    sent_messages = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent_messages
        sent_messages += 1
        return request(b"\0" * piece, more_body=sent_messages < count)

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        stream = environ["wsgi.input"]
        total = 0
        while data := stream.read(piece):
            total += len(data)
        start_response("200 OK", [])
        return [str(total).encode()]

    out: list[Any] = []

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await WsgiToAsgi(app)(http_scope(method="POST"), receive, send)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out[1]["body"] == str(piece * count).encode()
    assert peak - baseline < 8 * 1024 * 1024


@pytest.mark.asyncio
async def test_D42_an_unread_body_is_drained_before_the_last_message_up_to_the_limit() -> None:
    from asgiref._wsgi.request_body import DRAIN_LIMIT

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    chunk = b"x" * 65536
    small = Peer(request(chunk, more_body=True), request(chunk, more_body=True), request(chunk))
    await WsgiToAsgi(app)(http_scope(), small.receive, small.send)
    assert small.inbox.empty()
    assert small.bodies() == [b"ok", b""]
    count = DRAIN_LIMIT // len(chunk) + 10
    big = Peer(*(request(chunk, more_body=True) for _ in range(count)))
    await WsgiToAsgi(app)(http_scope(), big.receive, big.send)
    assert 0 < big.inbox.qsize() <= 10  # stopped after the limit; the response still ended
    assert big.bodies() == [b"ok", b""]


@pytest.mark.asyncio
async def test_D42_reading_wsgi_input_after_the_response_ended_raises_runtime_error() -> None:
    kept: list[Any] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        kept.append(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b"ok"]

    peer = await run_app(app, request(b"a", more_body=True), request(b"b"))
    assert peer.bodies() == [b"ok", b""]
    assert peer.inbox.empty()  # drained
    with pytest.raises(RuntimeError, match="unread request body was discarded"):
        kept[0].read()


@pytest.mark.asyncio
async def test_D42_a_paused_read_ahead_is_resumed_and_drained() -> None:
    # The application reads a little, the pump fills the read-ahead buffer and pauses;
    # the application answers without reading the rest: the drain resumes the pump.
    chunk = b"x" * 65536
    app_read = threading.Event()
    release = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        environ["wsgi.input"].read(len(chunk) + 1)  # past the first message: the pump starts
        app_read.set()
        release.wait(WAIT)
        start_response("200 OK", [])
        return [b"ok"]

    total = 64
    peer = Peer(*[request(chunk, more_body=i < total - 1) for i in range(total)])
    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    assert await asyncio.to_thread(app_read.wait, WAIT)
    for _ in range(20):  # let the pump run until it pauses
        await asyncio.sleep(0)
    paused_at = peer.receive_calls
    release.set()
    await task
    assert paused_at < total
    assert peer.inbox.empty()
    assert peer.bodies() == [b"ok", b""]


@pytest.mark.asyncio
async def test_D42_a_client_leaving_during_the_drain_ends_it() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    peer = Peer(request(b"a", more_body=True), request(b"b", more_body=True))
    peer.inbox.put_nowait({"type": "http.disconnect"})
    await WsgiToAsgi(app)(http_scope(), peer.receive, peer.send)
    # the client is gone: the last message is not sent, and the call returns
    assert peer.bodies() == [b"ok"]


@pytest.mark.asyncio
async def test_D42_a_cancelled_drain_leaves_no_pending_future() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    peer = Peer(request(b"a", more_body=True))  # the rest of the body never comes
    task = asyncio.create_task(WsgiToAsgi(app)(http_scope(), peer.receive, peer.send))
    for _ in range(100):
        if peer.bodies():
            break
        await asyncio.sleep(0.01)
    assert peer.bodies() == [b"ok"]  # the drain waits for the body's end
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    peer.inbox.put_nowait({"type": "http.disconnect"})
    for _ in range(10):
        await asyncio.sleep(0)
