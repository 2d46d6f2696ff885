"""End to end: a real Channels 4.3 project on top of this package.

(a) Channels' ``Worker`` (a :class:`~asgiref.server.StatelessServer` subclass) consumes
from the in-memory channel layer and runs a ``SyncConsumer`` and an ``AsyncConsumer``;
(b) ``HttpCommunicator`` and ``WebsocketCommunicator`` (both
:class:`~asgiref.testing.ApplicationCommunicator` subclasses) drive consumers that use
``database_sync_to_async``.  Django is configured in-process (SQLite in a temporary
directory); every request goes through the project's ``ProtocolTypeRouter``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from channels.db import database_sync_to_async  # type: ignore[import-untyped]
from channels.layers import get_channel_layer  # type: ignore[import-untyped]
from channels.testing import (  # type: ignore[import-untyped]
    HttpCommunicator,
    WebsocketCommunicator,
)
from channels.worker import Worker  # type: ignore[import-untyped]

from asgiref.validation import ASGIValidationError, validate
from e2e.channels_project.settings import configure

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

TIMEOUT = 10.0


@pytest.fixture(scope="module")
def routing(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """Configure Django for the project (SQLite in a temp dir) and return its routing module."""
    database: Path = tmp_path_factory.mktemp("channels_project") / "db.sqlite3"
    configure(database)
    from e2e.channels_project import routing

    return routing


@pytest.fixture
def project(routing: ModuleType) -> ModuleType:
    """The project with an empty ``Note`` table."""
    from django.db import connection

    from e2e.channels_project.models import Note

    Note.objects.all().delete()
    connection.close()
    return routing


def stored_notes() -> list[tuple[str, str]]:
    """Return ``(text, source)`` of every note, oldest first.  Runs in: a sync thread."""
    from e2e.channels_project.models import Note

    return [(note.text, note.source) for note in Note.objects.all()]


async def notes() -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = await database_sync_to_async(stored_notes)()
    return result


@contextlib.asynccontextmanager
async def running_worker(routing: ModuleType) -> AsyncIterator[tuple[Any, Any]]:
    """Run Channels' Worker (``arun()``) in this loop; cancel it and its instances afterwards."""
    layer = get_channel_layer()
    worker = Worker(routing.application, list(routing.WORKER_CHANNELS), layer)
    task = asyncio.create_task(worker.arun())
    try:
        yield worker, layer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()
        futures = [details["future"] for details in worker.application_instances.values()]
        for scope_id in list(worker.application_instances):
            worker.delete_application_instance(scope_id)
        await asyncio.gather(*futures, return_exceptions=True)
        await layer.flush()


async def request(layer: Any, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    """Send ``message`` to ``channel`` with a fresh reply channel; return the reply."""
    reply_channel = await layer.new_channel()
    await layer.send(channel, {**message, "reply_channel": reply_channel})
    reply: dict[str, Any] = await asyncio.wait_for(layer.receive(reply_channel), TIMEOUT)
    return reply


class _SignalOnError(logging.Handler):
    """Collects ERROR records and sets an event when one arrives."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.event.set()


@pytest.mark.asyncio
async def test_worker_runs_sync_and_async_consumers_from_the_in_memory_layer(
    project: ModuleType,
) -> None:
    async with running_worker(project) as (worker, layer):
        created = await request(layer, "notes-worker", {"type": "notes.create", "text": "hi"})
        assert created["type"] == "notes.created"
        assert created["text"] == "hi"
        shouted = await request(layer, "shout-worker", {"type": "text.shout", "text": "hello"})
        assert shouted == {"type": "text.shouted", "text": "HELLO", "notes": 1}
        again = await request(layer, "notes-worker", {"type": "notes.create", "text": "again"})
        assert again["id"] > created["id"]

        assert await notes() == [("hi", "worker"), ("again", "worker")]
        # One application instance per channel, with Channels' scope for it.
        assert set(worker.application_instances) == {"notes-worker", "shout-worker"}
        for channel, details in worker.application_instances.items():
            assert details["scope"] == {"type": "channel", "channel": channel}
            assert not details["future"].done()


class StoppableWorker(Worker):  # type: ignore[misc]  # channels is untyped
    """Channels' Worker whose ``handle()`` returns when :meth:`stop` is called (any thread).

    Runs in: ``handle()`` in the worker's event loop thread; ``stop()`` in any thread.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self._stopping: asyncio.Event | None = None

    async def handle(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        listening = asyncio.ensure_future(super().handle())
        stopping = asyncio.ensure_future(self._stopping.wait())
        self.started.set()
        await asyncio.wait({listening, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (listening, stopping):
            task.cancel()
        await asyncio.wait({listening, stopping})
        if not listening.cancelled():
            listening.result()  # a listener failed: let arun() raise it

    def stop(self) -> None:
        assert self.loop is not None
        assert self._stopping is not None
        self.loop.call_soon_threadsafe(self._stopping.set)


def test_worker_run_in_a_fresh_thread_serves_until_handle_returns(project: ModuleType) -> None:
    """``runworker``'s path: ``Worker.run()`` (a fresh event loop) in a thread of its own."""
    layer = get_channel_layer()
    worker = StoppableWorker(project.application, list(project.WORKER_CHANNELS), layer)
    thread = threading.Thread(target=worker.run, name="channels-worker")
    thread.start()
    try:
        assert worker.started.wait(TIMEOUT)
        assert worker.loop is not None
        message = {"type": "notes.create", "text": "from a thread"}
        future = asyncio.run_coroutine_threadsafe(
            request(layer, "notes-worker", message), worker.loop
        )
        assert future.result(TIMEOUT)["text"] == "from a thread"
    finally:
        if worker.started.is_set():
            worker.stop()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    asyncio.run(layer.flush())

    from django.db import connection

    assert stored_notes() == [("from a thread", "worker")]
    connection.close()


@pytest.mark.asyncio
async def test_worker_logs_a_crashed_consumer_and_keeps_serving(project: ModuleType) -> None:
    handler = _SignalOnError()
    server_logger = logging.getLogger("asgiref.server")
    server_logger.addHandler(handler)
    try:
        async with running_worker(project) as (worker, layer):
            await layer.send("notes-worker", {"type": "notes.explode", "text": "boom"})
            await asyncio.wait_for(handler.event.wait(), TIMEOUT)
            while "notes-worker" in worker.application_instances:  # the checker's same pass
                await asyncio.sleep(0.01)

            created = await request(layer, "notes-worker", {"type": "notes.create", "text": "ok"})
            assert created["text"] == "ok"
            assert "notes-worker" in worker.application_instances
    finally:
        server_logger.removeHandler(handler)

    (record,) = handler.records
    assert record.name == "asgiref.server"
    assert record.getMessage().startswith("Exception inside application: ")
    assert "notes.explode asked for it: boom" in record.getMessage()
    assert await notes() == [("ok", "worker")]


@pytest.mark.asyncio
async def test_http_communicator_drives_a_consumer_using_database_sync_to_async(
    project: ModuleType,
) -> None:
    for text in ("first note", "second note"):
        communicator = HttpCommunicator(project.application, "POST", "/notes/", body=text.encode())
        response = await communicator.get_response(timeout=TIMEOUT)
        assert response["status"] == 201
        assert isinstance(json.loads(response["body"])["id"], int)
        await communicator.wait(timeout=TIMEOUT)

    communicator = HttpCommunicator(project.application, "GET", "/notes/?format=json")
    response = await communicator.get_response(timeout=TIMEOUT)
    await communicator.wait(timeout=TIMEOUT)
    assert response["status"] == 200
    assert (b"content-type", b"application/json") in response["headers"]
    assert json.loads(response["body"]) == [
        {"text": "first note", "source": "http"},
        {"text": "second note", "source": "http"},
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "source"), [("/ws/notes/", "ws-async"), ("/ws/sync-notes/", "ws-sync")]
)
async def test_websocket_communicator_drives_a_consumer_using_database_sync_to_async(
    project: ModuleType, path: str, source: str
) -> None:
    communicator = WebsocketCommunicator(project.application, path)
    connected, subprotocol = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert subprotocol is None
    for n in (1, 2, 3):
        await communicator.send_json_to({"text": f"frame {n}"})
        answer = await communicator.receive_json_from(timeout=TIMEOUT)
        assert answer["total"] == n
    assert await communicator.receive_nothing()
    await communicator.disconnect(timeout=TIMEOUT)
    assert await notes() == [(f"frame {n}", source) for n in (1, 2, 3)]


@pytest.mark.asyncio
async def test_websocket_communicator_sees_an_unrouted_path_rejected(project: ModuleType) -> None:
    communicator = WebsocketCommunicator(project.application, "/ws/nowhere/")
    with pytest.raises(ValueError, match="No route found for path 'ws/nowhere/'"):
        await communicator.connect(timeout=1)


# --- the validator around the project, driven by Channels' own communicators -------------


class _Violations(list[str]):
    """An ``on_violation`` callable that keeps the rule ids."""

    def __call__(self, error: ASGIValidationError) -> None:
        self.append(error.rule)


@pytest.mark.asyncio
@pytest.mark.parametrize("add_asgi_key", [False, True])
async def test_validated_project_under_channels_communicators(
    project: ModuleType, add_asgi_key: bool
) -> None:
    """HTTP and WebSocket consumers through the validator: the only finding is the
    communicators' missing ``scope["asgi"]`` (docs/validation-findings.rst,
    ``finding-channels-asgi-key``); with that key added there are none."""
    violations = _Violations()
    app = validate(project.application, on_violation=violations)

    http = HttpCommunicator(app, "POST", "/notes/", body=b"validated")
    websocket = WebsocketCommunicator(app, "/ws/notes/")
    if add_asgi_key:
        for communicator in (http, websocket):
            communicator.scope["asgi"] = {"version": "3.0"}
    response = await http.get_response(timeout=TIMEOUT)
    assert response["status"] == 201
    await http.wait(timeout=TIMEOUT)

    connected, _ = await websocket.connect(timeout=TIMEOUT)
    assert connected
    await websocket.send_json_to({"text": "over ws"})
    assert (await websocket.receive_json_from(timeout=TIMEOUT))["total"] == 2
    await websocket.disconnect(timeout=TIMEOUT)

    assert violations == ([] if add_asgi_key else ["SCOPE-003", "SCOPE-003"])
