"""asgiref.testing.ApplicationCommunicator (``docs/testing.rst``)."""

from __future__ import annotations

import asyncio
import contextvars
import gc
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from asgiref.testing import ApplicationCommunicator
from asgiref.validation import ASGIValidationError

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


async def echo_app(scope: Any, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "stop":
            return
        if message["type"] == "crash":
            raise ValueError("crashed on request")
        await send({"type": "echo", "message": message, "scope": scope})


async def silent_app(scope: Any, receive: Receive, send: Send) -> None:
    await asyncio.Event().wait()


async def crashing_app(scope: Any, receive: Receive, send: Send) -> None:
    raise ValueError("boom")


async def finished_app(scope: Any, receive: Receive, send: Send) -> None:
    await send({"type": "one"})
    await send({"type": "two"})


def test_construction_needs_no_running_loop() -> None:
    communicator = ApplicationCommunicator(echo_app, {"type": "http"})
    assert communicator.application is echo_app
    assert communicator.scope == {"type": "http"}
    communicator.stop()  # never started: nothing to do


def test_CORE_08_double_callables_are_converted() -> None:
    class Legacy:
        def __init__(self, scope: Any) -> None:
            self.scope = scope

        async def __call__(self, receive: Receive, send: Send) -> None:
            await send({"type": "legacy", "scope": self.scope})

    communicator = ApplicationCommunicator(Legacy, {"type": "x"})
    application: object = communicator.application
    assert application is not Legacy

    async def main() -> Any:
        return await communicator.receive_output()

    assert asyncio.run(main()) == {"type": "legacy", "scope": {"type": "x"}}


def test_queues_and_task_are_created_lazily_in_the_running_loop() -> None:
    communicator = ApplicationCommunicator(echo_app, {"type": "http"})

    async def main() -> None:
        await communicator.send_input({"type": "ping"})
        assert communicator.future.get_loop() is asyncio.get_running_loop()
        assert await communicator.receive_output() == {
            "type": "echo",
            "message": {"type": "ping"},
            "scope": {"type": "http"},
        }
        await communicator.send_input({"type": "stop"})
        await communicator.wait()

    asyncio.run(main())  # a loop that did not exist at construction time
    assert communicator.future.done()


def test_first_use_of_future_without_a_loop_raises() -> None:
    communicator = ApplicationCommunicator(echo_app, {})
    with pytest.raises(RuntimeError):
        communicator.future  # the property access is the test


@pytest.mark.asyncio
async def test_application_runs_in_a_fresh_empty_context() -> None:
    seen: list[list[contextvars.ContextVar[Any]]] = []

    async def app(scope: Any, receive: Receive, send: Send) -> None:
        seen.append(list(contextvars.copy_context()))
        request_id.set("inside")
        await send({"type": "done"})

    request_id.set("test")
    communicator = ApplicationCommunicator(app, {})
    await communicator.receive_output()
    await communicator.wait()
    assert request_id not in seen[0]
    assert request_id.get() == "test"  # the application's change did not leak out


@pytest.mark.asyncio
async def test_application_receives_the_scope_and_bound_queue_methods() -> None:
    arguments: list[tuple[Any, ...]] = []

    async def app(scope: Any, receive: Receive, send: Send) -> None:
        arguments.append((scope, receive, send))

    communicator = ApplicationCommunicator(app, {"type": "lifespan"})
    await communicator.wait()
    assert arguments == [
        ({"type": "lifespan"}, communicator.input_queue.get, communicator.output_queue.put)
    ]


@pytest.mark.asyncio
async def test_subclasses_may_set_scope_before_init() -> None:
    class Subclass(ApplicationCommunicator):
        def __init__(self, application: Any, path: str) -> None:
            self.scope = {"type": "http", "path": path}
            super().__init__(application, self.scope)

    communicator = Subclass(echo_app, "/x")
    await communicator.send_input({"type": "ping"})
    assert (await communicator.receive_output())["scope"]["path"] == "/x"
    communicator.stop()


async def finish(communicator: ApplicationCommunicator) -> None:
    """Let the application run until it has finished, without touching its outcome."""
    await asyncio.wait({communicator.future})


@pytest.mark.asyncio
async def test_send_input_reraises_the_application_error() -> None:
    communicator = ApplicationCommunicator(crashing_app, {})
    await finish(communicator)
    with pytest.raises(ValueError, match="boom"):
        await communicator.send_input({"type": "x"})


@pytest.mark.asyncio
async def test_send_input_reraises_cancellation_of_the_application() -> None:
    communicator = ApplicationCommunicator(silent_app, {})
    communicator.future.cancel()
    await finish(communicator)
    with pytest.raises(asyncio.CancelledError):
        await communicator.send_input({"type": "x"})


@pytest.mark.asyncio
async def test_send_input_after_a_normal_finish_still_enqueues() -> None:
    communicator = ApplicationCommunicator(finished_app, {})
    await finish(communicator)
    await communicator.send_input({"type": "late"})
    assert communicator.input_queue.get_nowait() == {"type": "late"}


@pytest.mark.asyncio
async def test_receive_output_returns_messages_in_order() -> None:
    communicator = ApplicationCommunicator(echo_app, {})
    for number in range(3):
        await communicator.send_input({"type": "n", "n": number})
    for number in range(3):
        assert (await communicator.receive_output())["message"]["n"] == number
    await communicator.send_input({"type": "stop"})
    await communicator.wait()


@pytest.mark.asyncio
async def test_receive_output_reads_queued_messages_after_a_normal_finish() -> None:
    communicator = ApplicationCommunicator(finished_app, {})
    await finish(communicator)
    assert await communicator.receive_output() == {"type": "one"}
    assert await communicator.receive_output() == {"type": "two"}


@pytest.mark.asyncio
async def test_receive_output_reraises_the_application_error() -> None:
    communicator = ApplicationCommunicator(echo_app, {})
    await communicator.send_input({"type": "crash"})
    await asyncio.wait({communicator.future})
    with pytest.raises(ValueError, match="crashed on request"):
        await communicator.receive_output(timeout=5)


@pytest.mark.asyncio
async def test_receive_output_reraises_an_error_that_arrives_while_waiting() -> None:
    communicator = ApplicationCommunicator(echo_app, {})
    await communicator.send_input({"type": "ping"})
    await communicator.receive_output()
    await communicator.send_input({"type": "crash"})
    with pytest.raises(ValueError, match="crashed on request"):
        await communicator.receive_output(timeout=0.05)


@pytest.mark.asyncio
async def test_receive_output_timeout_cancels_the_application_and_raises_timeout_error() -> None:
    communicator = ApplicationCommunicator(silent_app, {})
    task = asyncio.current_task()
    assert task is not None
    cancelling_before = task.cancelling()
    with pytest.raises(TimeoutError):
        await communicator.receive_output(timeout=0.05)
    assert communicator.future.cancelled()
    assert task.cancelling() == cancelling_before
    await asyncio.sleep(0)  # a leaked cancellation would be delivered here


@pytest.mark.asyncio
async def test_receive_output_timeout_after_a_normal_finish_raises_timeout_error() -> None:
    communicator = ApplicationCommunicator(finished_app, {})
    await finish(communicator)
    await communicator.receive_output()
    await communicator.receive_output()
    with pytest.raises(TimeoutError):
        await communicator.receive_output(timeout=0.05)


@pytest.mark.asyncio
async def test_receive_output_timeout_propagates_an_error_raised_on_cancellation() -> None:
    async def stubborn(scope: Any, receive: Receive, send: Send) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise LookupError("cleanup failed") from None

    communicator = ApplicationCommunicator(stubborn, {})
    with pytest.raises(LookupError, match="cleanup failed"):
        await communicator.receive_output(timeout=0.05)


@pytest.mark.asyncio
async def test_receive_nothing_true_when_nothing_is_sent() -> None:
    communicator = ApplicationCommunicator(silent_app, {})
    assert await communicator.receive_nothing(timeout=0.05, interval=0.01) is True
    assert await communicator.receive_nothing(timeout=0) is True
    communicator.stop()


@pytest.mark.asyncio
async def test_receive_nothing_false_as_soon_as_a_message_is_waiting() -> None:
    communicator = ApplicationCommunicator(echo_app, {})
    await communicator.send_input({"type": "ping"})
    assert await communicator.receive_nothing(timeout=30) is False
    assert (await communicator.receive_output())["type"] == "echo"
    assert await communicator.receive_nothing() is True
    communicator.stop()


@pytest.mark.asyncio
async def test_receive_nothing_reraises_the_application_error() -> None:
    communicator = ApplicationCommunicator(crashing_app, {})
    await finish(communicator)
    with pytest.raises(ValueError, match="boom"):
        await communicator.receive_nothing()


@pytest.mark.asyncio
async def test_wait_returns_when_the_application_finishes() -> None:
    communicator = ApplicationCommunicator(echo_app, {})
    await communicator.send_input({"type": "stop"})
    await communicator.wait(timeout=30)
    assert communicator.future.done()


@pytest.mark.asyncio
async def test_wait_reraises_the_application_error() -> None:
    communicator = ApplicationCommunicator(crashing_app, {})
    with pytest.raises(ValueError, match="boom"):
        await communicator.wait()


@pytest.mark.asyncio
async def test_wait_swallows_cancellation_of_the_application() -> None:
    communicator = ApplicationCommunicator(silent_app, {})
    communicator.future.cancel()
    await communicator.wait()


@pytest.mark.asyncio
async def test_wait_returns_silently_on_timeout_after_cancelling_the_application() -> None:
    communicator = ApplicationCommunicator(silent_app, {})
    task = asyncio.current_task()
    assert task is not None
    cancelling_before = task.cancelling()
    await communicator.wait(timeout=0.05)  # no TimeoutError
    assert communicator.future.cancelled()
    assert task.cancelling() == cancelling_before


@pytest.mark.asyncio
async def test_stop_cancels_a_running_application_without_waiting() -> None:
    communicator = ApplicationCommunicator(silent_app, {})
    future = communicator.future
    communicator.stop()
    assert not future.done()  # cancellation requested, not awaited
    await asyncio.wait({future})
    assert future.cancelled()


@pytest.mark.asyncio
async def test_stop_reraises_the_error_of_a_finished_application_unless_told_not_to() -> None:
    communicator = ApplicationCommunicator(crashing_app, {})
    await finish(communicator)
    communicator.stop(exceptions=False)
    with pytest.raises(ValueError, match="boom"):
        communicator.stop()


def test_del_stops_a_running_application() -> None:
    async def main() -> asyncio.Task[None]:
        communicator = ApplicationCommunicator(silent_app, {})
        future = communicator.future
        await asyncio.sleep(0)
        del communicator
        gc.collect()
        await asyncio.wait({future})
        return future

    assert asyncio.run(main()).cancelled()


def test_del_ignores_a_closed_loop() -> None:
    holder: list[ApplicationCommunicator] = []

    async def main() -> None:
        communicator = ApplicationCommunicator(silent_app, {})
        communicator.future  # start the application
        await asyncio.sleep(0)
        holder.append(communicator)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    communicator = holder.pop()
    communicator.__del__()  # the task's loop is closed: cancelling it raises RuntimeError


def test_del_of_a_half_constructed_communicator_is_quiet() -> None:
    communicator = ApplicationCommunicator.__new__(ApplicationCommunicator)
    communicator.__del__()


@pytest.mark.asyncio
async def test_channels_style_subclass_overrides_send_input_and_receive_output() -> None:
    class Websocket(ApplicationCommunicator):
        async def send_input(self, message: Any) -> None:
            await super().send_input({"type": "wrapped", "inner": message})

        async def receive_output(self, timeout: float | None = 1) -> Any:
            return (await super().receive_output(timeout))["message"]

    communicator = Websocket(echo_app, {"type": "websocket"})
    await communicator.send_input({"text": "hi"})
    assert await communicator.receive_output(5) == {"type": "wrapped", "inner": {"text": "hi"}}
    communicator.stop()


@pytest.mark.asyncio
async def test_receive_output_after_a_timeout_loses_no_message() -> None:
    gate = asyncio.Event()

    async def late_app(scope: Any, receive: Receive, send: Send) -> None:
        await gate.wait()
        await send({"type": "late"})
        await asyncio.Event().wait()

    communicator = ApplicationCommunicator(late_app, {})
    assert await communicator.receive_nothing(timeout=0) is True
    gate.set()
    assert await communicator.receive_output(timeout=5) == {"type": "late"}
    communicator.stop()


# --- ApplicationCommunicator(validate=True) ------------------------------------------------

HTTP_SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "path": "/",
    "query_string": b"",
    "headers": [],
}


async def _body_before_start(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.body", "body": b"early"})


@pytest.mark.asyncio
async def test_validate_true_raises_the_broken_rule_out_of_receive_output() -> None:
    communicator = ApplicationCommunicator(_body_before_start, HTTP_SCOPE, validate=True)
    await communicator.send_input({"type": "http.request"})
    with pytest.raises(ASGIValidationError, match="HTTP-SEND-003"):
        await communicator.receive_output()


@pytest.mark.asyncio
async def test_validate_true_passes_well_formed_traffic_unchanged() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    communicator = ApplicationCommunicator(app, HTTP_SCOPE, validate=True)
    await communicator.send_input({"type": "http.request"})
    assert (await communicator.receive_output())["status"] == 200
    assert (await communicator.receive_output())["body"] == b"ok"
    await communicator.wait()


def test_validation_off_does_not_wrap_the_application() -> None:
    communicator = ApplicationCommunicator(_body_before_start, HTTP_SCOPE)
    assert communicator.application is _body_before_start
    wrapped = ApplicationCommunicator(_body_before_start, HTTP_SCOPE, validate=True)
    assert wrapped.application.__wrapped__ is _body_before_start  # type: ignore[attr-defined]


def test_validate_is_keyword_only() -> None:
    with pytest.raises(TypeError, match="positional"):
        ApplicationCommunicator(_body_before_start, HTTP_SCOPE, True)  # type: ignore[call-arg]


@pytest.mark.asyncio
async def test_subclass_calling_super_with_two_arguments_still_works() -> None:
    class ChannelsStyle(ApplicationCommunicator):
        def __init__(self, application: Any, path: str) -> None:
            self.scope = {**HTTP_SCOPE, "path": path}
            super().__init__(application, self.scope)

    communicator = ChannelsStyle(_body_before_start, "/x")
    await communicator.send_input({"type": "http.request"})
    assert (await communicator.receive_output())["body"] == b"early"  # not validated
