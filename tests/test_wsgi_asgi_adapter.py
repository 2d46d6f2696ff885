"""``AsgiToWsgi`` called directly like a WSGI server would: requests, streaming, errors."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from typing import Any

import pytest

from asgi_wsgi_support import (
    Receive,
    RecordingInput,
    Scope,
    Send,
    app_tasks,
    call,
    environ,
    hello,
    start,
)
from asgiref._wsgi import asgi_exchange
from asgiref.wsgi import AsgiToWsgi, ClientDisconnected

WAIT = 10.0


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "asgiref.wsgi" and r.levelno >= logging.ERROR]


def wait_until(predicate: Any, what: str) -> None:
    event = threading.Event()
    for _ in range(1000):
        if predicate():
            return
        event.wait(0.01)
    raise AssertionError(f"timed out waiting for {what}")


# -- construction ----------------------------------------------------------------------


def test_defaults_and_keyword_only_arguments() -> None:
    adapter = AsgiToWsgi(hello())
    assert (adapter.lifespan, adapter.startup_timeout, adapter.shutdown_timeout) == (
        "auto",
        10.0,
        10.0,
    )
    assert adapter.response_timeout is None
    with pytest.raises(TypeError):
        AsgiToWsgi(hello(), "on")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lifespan": "yes"}, "lifespan must be 'auto', 'on' or 'off', not 'yes'"),
        ({"startup_timeout": -1}, "startup_timeout must not be negative"),
        ({"response_timeout": -0.5}, "response_timeout must not be negative"),
    ],
)
def test_invalid_arguments_are_rejected_with_their_name(kwargs: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AsgiToWsgi(hello(), **kwargs)


# -- the normal path -------------------------------------------------------------------


def test_hello_response_status_headers_and_body() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        message = await receive()
        assert message == {"type": "http.request", "body": b"", "more_body": False}
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"text/plain"), (b"x-caf\xe9", b"\xe9")],
            }
        )
        await send({"type": "http.response.body", "body": b"created"})

    result = call(AsgiToWsgi(app, lifespan="off"))
    assert result.status == "201 Created"
    assert result.headers == [("content-type", "text/plain"), ("x-café", "é")]
    assert result.body == b"created"
    assert result.starts == 1


def test_unknown_status_code_gets_a_generic_reason() -> None:
    assert call(AsgiToWsgi(hello(status=599), lifespan="off")).status == "599 Unknown"


def test_head_and_empty_bodies_and_app_content_length_pass_through() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body"})

    result = call(AsgiToWsgi(app, lifespan="off"), environ("HEAD"))
    assert result.status == "200 OK"
    assert result.headers == [("content-length", "5")]
    assert result.body == b""


def test_response_streams_chunks_in_order_and_skips_empty_middle_chunks() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        for piece in (b"a", b"", b"b", bytearray(b"c"), memoryview(b"d")):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"e", "more_body": False})

    result = call(AsgiToWsgi(app, lifespan="off"))
    assert result.chunks == [b"a", b"b", b"c", b"d", b"e"]


def test_app_may_run_on_after_the_response_without_being_cancelled() -> None:
    finished = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"done"})
        assert await receive() == {"type": "http.disconnect"}
        await asyncio.sleep(0.05)  # a background task after the response
        finished.set()

    assert call(AsgiToWsgi(app, lifespan="off")).body == b"done"
    assert finished.wait(WAIT)


def test_trailers_are_accepted_and_dropped() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await send({"type": "http.response.body", "body": b"y"})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": True})
        await send({"type": "http.response.trailers", "headers": []})
        assert await receive() == {"type": "http.disconnect"}

    assert call(AsgiToWsgi(app, lifespan="off")).chunks == [b"x", b"y"]


# -- the request body ------------------------------------------------------------------


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the whole body, answer with the chunk sizes and the body."""
    sizes = []
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            sizes.append(-1)
            break
        sizes.append(len(message["body"]))
        body += message["body"]
        if not message["more_body"]:
            break
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": repr(sizes).encode() + b"|" + body})


def test_request_body_is_read_in_bounded_chunks_and_never_past_content_length() -> None:
    data = b"x" * (asgi_exchange.CHUNK_SIZE * 2 + 10)
    stream = RecordingInput(data + b"NEXT REQUEST")
    env = environ("POST", body=stream, CONTENT_LENGTH=str(len(data)))
    result = call(AsgiToWsgi(echo, lifespan="off"), env)
    sizes, body = result.body.split(b"|", 1)
    assert body == data
    assert sizes == b"[65536, 65536, 10]"
    assert stream.reads == [65536, 65536, 10]
    assert stream.read() == b"NEXT REQUEST"


def test_input_terminated_body_is_read_until_the_stream_ends() -> None:
    stream = RecordingInput(b"y" * 70000)
    env = environ("POST", body=stream)
    env["wsgi.input_terminated"] = True
    body = call(AsgiToWsgi(echo, lifespan="off"), env).body
    assert body == b"[65536, 4464, 0]|" + b"y" * 70000


def test_without_length_or_termination_the_input_is_never_read() -> None:
    stream = RecordingInput(b"ignored")
    env = environ("POST", body=stream, CONTENT_LENGTH="not a number")
    assert call(AsgiToWsgi(echo, lifespan="off"), env).body == b"[0]|"
    assert stream.reads == []


def test_a_body_cut_short_before_content_length_is_a_disconnect() -> None:
    env = environ("POST", body=RecordingInput(b"abc"), CONTENT_LENGTH="10")
    assert call(AsgiToWsgi(echo, lifespan="off"), env).body == b"[3, -1]|abc"


def test_a_failing_input_stream_is_a_disconnect() -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            raise OSError("connection reset")

    env = environ("POST", body=Broken(), CONTENT_LENGTH="10")
    assert call(AsgiToWsgi(echo, lifespan="off"), env).body == b"[-1]|"


def test_body_reads_run_on_the_wsgi_thread_after_the_response_started() -> None:
    threads: list[int] = []

    class Tracking(RecordingInput):
        def read(self, size: int | None = -1, /) -> bytes:
            threads.append(threading.get_ident())
            return super().read(size)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        while True:
            message = await receive()
            await send({"type": "http.response.body", "body": message["body"], "more_body": True})
            if not message["more_body"]:
                break
        await send({"type": "http.response.body"})

    env = environ("POST", body=Tracking(b"z" * 100000), CONTENT_LENGTH="100000")
    result = call(AsgiToWsgi(app, lifespan="off"), env)
    assert result.body == b"z" * 100000
    assert set(threads) == {threading.get_ident()}


# -- backpressure and disconnect -------------------------------------------------------


def test_send_waits_while_the_window_of_unsent_chunks_is_full() -> None:
    sent = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal sent
        await send({"type": "http.response.start", "status": 200})
        for _ in range(50):
            await send({"type": "http.response.body", "body": b"c", "more_body": True})
            sent += 1
        await send({"type": "http.response.body"})

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    iterator = iter(iterable)
    taken = 0
    window = asgi_exchange.WINDOW_CHUNKS
    for chunk in iterator:
        if chunk:
            taken += 1
            if taken in (1, 20):
                target = taken + window - 1
                wait_until(lambda: sent >= target, "the window")  # noqa: B023
                threading.Event().wait(0.05)  # give the app a chance to overrun (it must not)
                assert sent <= taken + window
    assert taken == 50


def test_byte_window_bounds_large_chunks() -> None:
    sent = 0
    big = b"b" * (asgi_exchange.WINDOW_BYTES // 2)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal sent
        await send({"type": "http.response.start", "status": 200})
        for _ in range(6):
            await send({"type": "http.response.body", "body": big, "more_body": True})
            sent += 1
        await send({"type": "http.response.body"})

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    iterator = iter(iterable)
    next(iterator)
    wait_until(lambda: sent >= 2, "two chunks")
    threading.Event().wait(0.05)
    assert sent <= 3
    assert sum(len(c) for c in iterator) == 5 * len(big)


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asgi_exchange, "DISCONNECT_GRACE", 0.05)


@pytest.mark.usefixtures("short_grace")
def test_close_before_the_end_is_a_disconnect_for_receive_and_send() -> None:
    seen: list[Any] = []
    done = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        seen.append(await receive())
        try:
            await send({"type": "http.response.body", "body": b"more", "more_body": True})
        except ClientDisconnected as exc:
            seen.append(exc)
        done.set()

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    assert next(iter(iterable)) == b"first"
    iterable.close()  # type: ignore[attr-defined]
    assert done.wait(WAIT)
    assert seen[0] == {"type": "http.disconnect"}
    assert isinstance(seen[1], OSError)
    wait_until(lambda: app_tasks() == 0, "no task left")


@pytest.mark.usefixtures("short_grace")
def test_an_app_that_ignores_the_disconnect_is_cancelled_after_the_grace() -> None:
    cancelled = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    assert next(iter(iterable)) == b"x"
    iterable.close()  # type: ignore[attr-defined]
    iterable.close()  # type: ignore[attr-defined]  # idempotent
    assert cancelled.wait(WAIT)
    wait_until(lambda: app_tasks() == 0, "no task left")


@pytest.mark.usefixtures("short_grace")
def test_close_wakes_a_send_blocked_by_backpressure_and_a_pending_read() -> None:
    outcome: list[Any] = []
    done = threading.Event()

    async def reader(receive: Receive) -> None:
        outcome.append(await receive())

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"c", "more_body": True})
        except ClientDisconnected:
            outcome.append("send raised")
        done.set()

    # a body that is never read makes no difference; a body read waits on the WSGI thread
    env = environ("POST", body=RecordingInput(b"abc"), CONTENT_LENGTH="3")
    _, iterable = start(AsgiToWsgi(app, lifespan="off"), env)
    assert next(iter(iterable)) == b"c"
    iterable.close()  # type: ignore[attr-defined]
    assert done.wait(WAIT)
    assert outcome == ["send raised"]


@pytest.mark.usefixtures("short_grace")
def test_a_read_queued_when_the_response_is_closed_gets_a_disconnect() -> None:
    got: list[Any] = []
    done = threading.Event()
    queued = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        read = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        queued.set()
        got.append(await read)
        got.append(await receive())
        done.set()

    env = environ("POST", body=RecordingInput(b"abc"), CONTENT_LENGTH="3")
    _, iterable = start(AsgiToWsgi(app, lifespan="off"), env)
    assert queued.wait(WAIT)
    iterable.close()  # type: ignore[attr-defined]
    assert done.wait(WAIT)
    assert got == [{"type": "http.disconnect"}, {"type": "http.disconnect"}]


# -- errors ----------------------------------------------------------------------------


def test_app_raising_before_the_start_is_a_500_with_one_log_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise LookupError("boom")

    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        result = call(AsgiToWsgi(app, lifespan="off"))
    assert result.status == "500 Internal Server Error"
    assert result.body == b"Internal Server Error"
    assert ("Content-Type", "text/plain; charset=utf-8") in result.headers
    [record] = records(caplog)
    assert "raised before starting its response" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], LookupError)


def test_app_returning_without_a_start_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        assert call(AsgiToWsgi(app, lifespan="off")).status.startswith("500")
    [record] = records(caplog)
    assert "returned without sending http.response.start" in record.getMessage()


def test_a_callable_that_is_not_an_asgi_3_app_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    def not_async(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        assert call(AsgiToWsgi(not_async, lifespan="off")).status.startswith("500")  # type: ignore[arg-type]
    assert len(records(caplog)) == 1


@pytest.mark.parametrize(
    ("messages", "error", "match"),
    [
        ([{"type": "http.response.start"}], ValueError, "missing the 'status' key"),
        ([{"type": "http.response.start", "status": "200"}], TypeError, "'status' must be an int"),
        ([{"type": "http.response.start", "status": 42}], ValueError, "must be in 100-999"),
        (
            [{"type": "http.response.start", "status": 200, "headers": [(b"a",)]}],
            TypeError,
            "'headers' items must be",
        ),
        (
            [{"type": "http.response.start", "status": 200, "headers": [("a", "b")]}],
            TypeError,
            "names and values must be bytes",
        ),
        ([{"type": "http.response.body", "body": b"x"}], ValueError, "while waiting for"),
        ([{"type": "http.response.trailers"}], ValueError, "while waiting for"),
        ([{"type": "websocket.send"}], ValueError, "unknown ASGI message type 'websocket.send'"),
        (["not a dict"], ValueError, "unknown ASGI message type None"),
    ],
)
def test_invalid_messages_before_the_start_are_a_500_naming_the_key(
    caplog: pytest.LogCaptureFixture, messages: list[Any], error: type[Exception], match: str
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        assert call(AsgiToWsgi(app, lifespan="off")).status.startswith("500")
    [record] = records(caplog)
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], error)
    assert match in str(record.exc_info[1])


def test_a_str_body_raises_a_type_error_that_ends_the_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": "text"})

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    with (
        caplog.at_level(logging.ERROR, logger="asgiref.wsgi"),
        pytest.raises(RuntimeError, match="raised after starting its response") as info,
    ):
        list(iterable)
    assert isinstance(info.value.__cause__, TypeError)
    assert "'body' must be bytes, not 'text'" in str(info.value.__cause__)
    assert len(records(caplog)) == 1
    assert list(iterable) == []


def test_returning_before_the_last_chunk_ends_the_stream_with_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    iterator = iter(iterable)
    assert next(iterator) == b"part"
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="without finishing"):
        next(iterator)
    iterable.close()  # type: ignore[attr-defined]
    assert len(records(caplog)) == 1


def test_failures_after_the_response_are_logged() -> None:
    logged = threading.Event()

    seen: list[logging.LogRecord] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)
            logged.set()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})
        await send({"type": "http.response.body", "body": b"again"})

    handler = Handler(logging.ERROR)
    logger = logging.getLogger("asgiref.wsgi")
    logger.addHandler(handler)
    try:
        assert call(AsgiToWsgi(app, lifespan="off")).body == b"ok"
        assert logged.wait(WAIT)
    finally:
        logger.removeHandler(handler)
    [record] = seen
    assert "after its response was complete" in record.getMessage()
    assert record.exc_info is not None
    assert "after the response was complete" in str(record.exc_info[1])


def test_response_timeout_gives_a_504_and_cancels_the_app(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        result = call(AsgiToWsgi(app, lifespan="off", response_timeout=0.05))
    assert result.status == "504 Gateway Timeout"
    assert cancelled.wait(WAIT)
    [record] = records(caplog)
    assert "within 0.05 s" in record.getMessage()


def test_a_broken_environ_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    env = environ(PATH_INFO="/\u20ac")  # not a latin-1 native string
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        assert call(AsgiToWsgi(hello(), lifespan="off"), env).status.startswith("500")
    assert "could not build the ASGI scope" in records(caplog)[0].getMessage()


# -- concurrency -----------------------------------------------------------------------


def test_concurrent_requests_share_the_loop_without_serialising() -> None:
    count = 8
    arrived = 0
    all_in: asyncio.Event | None = None
    loops: set[int] = set()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal arrived, all_in
        loops.add(id(asyncio.get_running_loop()))
        if all_in is None:
            all_in = asyncio.Event()
        arrived += 1
        if arrived == count:
            all_in.set()
        await all_in.wait()  # every request must be in flight at once to get past here
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    adapter = AsgiToWsgi(app, lifespan="off")
    results: list[bytes] = []

    def client() -> None:
        results.append(call(adapter).body)

    threads = [threading.Thread(target=client) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert results == [b"ok"] * count
    assert len(loops) == 1


# -- hand-off corners --------------------------------------------------------------------


def test_a_body_sent_after_the_wsgi_call_returned_is_streamed() -> None:
    go = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        while not go.is_set():  # the WSGI call returns before any body is sent
            await asyncio.sleep(0.001)
        await send({"type": "http.response.body", "body": b"late"})

    result, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    assert result.status == "200 OK"
    go.set()
    assert list(iterable) == [b"late"]
    iterable.close()  # type: ignore[attr-defined]


def test_a_second_start_is_a_value_error_that_ends_the_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        await send({"type": "http.response.start", "status": 200})

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    iterator = iter(iterable)
    assert next(iterator) == b"part"
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError) as raised:
        next(iterator)
    iterable.close()  # type: ignore[attr-defined]
    cause = raised.value.__cause__
    assert isinstance(cause, ValueError)
    assert "'http.response.start' while streaming the body" in str(cause)


def test_receive_after_the_client_went_away_is_a_disconnect_without_reading() -> None:
    closed = threading.Event()
    got: list[Any] = []
    done = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        while not closed.is_set():
            await asyncio.sleep(0.001)
        got.append(await receive())
        done.set()

    body = RecordingInput(b"abc")
    env = environ("POST", body=body, CONTENT_LENGTH="3")
    _, iterable = start(AsgiToWsgi(app, lifespan="off"), env)
    assert next(iter(iterable)) == b"x"
    iterable.close()  # type: ignore[attr-defined]
    closed.set()
    assert done.wait(WAIT)
    assert got == [{"type": "http.disconnect"}]
    assert body.reads == []  # the body of a gone client is never read


def test_an_app_letting_send_fail_after_a_disconnect_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = threading.Event()
    ended = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            while not closed.is_set():
                await asyncio.sleep(0.001)
            await send({"type": "http.response.body", "body": b"y", "more_body": True})
        finally:
            ended.set()

    with caplog.at_level(logging.DEBUG, logger="asgiref.wsgi"):
        _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
        assert next(iter(iterable)) == b"x"
        iterable.close()  # type: ignore[attr-defined]
        closed.set()
        assert ended.wait(WAIT)
        wait_until(lambda: app_tasks() == 0, "the task ended")
    assert records(caplog) == []


def test_close_wakes_a_send_that_waits_for_window_space() -> None:
    outcome: list[Any] = []
    done = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"c", "more_body": True})
        except ClientDisconnected as exc:
            outcome.append(exc)
        done.set()

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    assert next(iter(iterable)) == b"c"
    exchange = iterable._exchange  # type: ignore[attr-defined]
    wait_until(lambda: exchange._space is not None, "send waiting for window space")
    iterable.close()  # type: ignore[attr-defined]
    assert done.wait(WAIT)
    assert "the client went away" in str(outcome[0])


def test_disconnect_waiters_get_http_disconnect_when_the_response_completes() -> None:
    sent = threading.Event()
    got: list[Any] = []
    done = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["more_body"] is False
        waiters = [asyncio.ensure_future(receive()) for _ in range(2)]  # one shared future
        await asyncio.sleep(0)
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})
        sent.set()
        got.extend(await asyncio.gather(*waiters))
        done.set()

    _, iterable = start(AsgiToWsgi(app, lifespan="off"), environ())
    assert next(iter(iterable)) == b"a"
    assert sent.wait(WAIT)
    iterable.close()  # type: ignore[attr-defined]  # before taking the queued last chunk
    assert done.wait(WAIT)
    assert got == [{"type": "http.disconnect"}] * 2
