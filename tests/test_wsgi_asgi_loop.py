"""``AsgiToWsgi``'s process loop: one lazily started daemon thread per process, a fresh
one in a forked child (with a fresh lifespan), clean stop at interpreter exit."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import warnings
from typing import Any

import pytest

from asgi_wsgi_support import Receive, Scope, Send, call, hello
from asgiref import _threads
from asgiref._wsgi import asgi_loop
from asgiref._wsgi.asgi_loop import LoopThread, current_loop_thread, process_loop
from asgiref.wsgi import AsgiToWsgi

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")


def test_importing_starts_no_loop_thread() -> None:
    code = (
        "import threading, asgiref.wsgi as w; "
        "w.AsgiToWsgi(lambda s, r, t: None); "
        "print(sorted(t.name for t in threading.enumerate()))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert output.strip() == "['MainThread']"


def test_one_daemon_loop_thread_serves_every_adapter() -> None:
    call(AsgiToWsgi(hello(), lifespan="off"))
    runner = process_loop()
    assert current_loop_thread() is runner
    assert process_loop() is runner
    assert runner.thread.daemon
    assert runner.thread.name == "asgiref-asgi-loop"
    loops: list[asyncio.AbstractEventLoop] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        loops.append(asyncio.get_running_loop())
        await hello()(scope, receive, send)

    call(AsgiToWsgi(app, lifespan="off"))
    assert loops == [runner.loop]


def test_stop_runs_exit_callbacks_then_stops_the_loop_once() -> None:
    runner = LoopThread()
    ran: list[str] = []
    leftover = threading.Event()

    async def callback() -> None:
        ran.append("callback")

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            leftover.set()
            raise

    asyncio.run_coroutine_threadsafe(asyncio.sleep(0), runner.loop).result(10)
    runner.loop.call_soon_threadsafe(lambda: runner.loop.create_task(forever()) and None)
    runner.add_exit_callback(callback)
    runner.stop()
    runner.stop()  # once only
    assert ran == ["callback"]
    assert leftover.is_set()
    assert not runner.thread.is_alive()
    assert runner.loop.is_closed()


def test_a_stop_without_callbacks_just_stops() -> None:
    runner = LoopThread()
    runner.stop()
    assert not runner.thread.is_alive()


def test_a_loop_thread_of_an_older_generation_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    first = process_loop()
    monkeypatch.setattr(_threads._process, "generation", first.generation + 1)
    assert current_loop_thread() is None
    second = process_loop()
    try:
        assert second is not first
        assert second.generation == first.generation + 1
        assert call(AsgiToWsgi(hello(), lifespan="off")).body == b"Hello, world!"
    finally:
        second.stop()
        monkeypatch.undo()
        monkeypatch.setattr(asgi_loop, "_current", first)


CHILD_APP_EVENTS: list[int] = []


async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await receive()
        CHILD_APP_EVENTS.append(os.getpid())
        scope["state"]["pid"] = os.getpid()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = json.dumps(
        {
            "state": scope["state"],
            "loop": id(asyncio.get_running_loop()),
            "thread": threading.get_ident(),
            "startups": CHILD_APP_EVENTS,
        }
    )
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": body.encode()})


@needs_fork
def test_a_forked_child_starts_its_own_loop_thread_and_lifespan() -> None:
    adapter = AsgiToWsgi(lifespan_app)
    parent = json.loads(call(adapter).body)
    assert parent["state"] == {"pid": os.getpid()}
    parent_runner = process_loop()
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            report = json.loads(call(adapter).body)
            runner = process_loop()
            report["fresh"] = runner is not parent_runner and runner.thread.is_alive()
            report["parent_thread_alive"] = parent_runner.thread.is_alive()
            os.write(write_end, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert child["state"] == {"pid": pid}
    assert child["fresh"] is True
    assert child["parent_thread_alive"] is False
    assert child["startups"] == [os.getpid(), pid]
    assert [os.getpid()] == CHILD_APP_EVENTS


class CountingLock:
    """Stands in for the start lock: counts the threads that reached it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reached = 0
        self._count = threading.Lock()

    def __enter__(self) -> CountingLock:
        with self._count:
            self.reached += 1
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def race_through(lock: CountingLock, target: Any, threads: int = 2) -> None:
    """Run ``target`` in ``threads`` threads that all pass the unlocked check first."""
    lock.lock.acquire()
    workers = [threading.Thread(target=target) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for _ in range(1000):
        if lock.reached == threads:
            break
        threading.Event().wait(0.01)
    lock.lock.release()
    for worker in workers:
        worker.join(10)
    assert lock.reached == threads


def test_concurrent_first_calls_start_one_loop_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    first = process_loop()
    monkeypatch.setattr(_threads._process, "generation", first.generation + 1)
    lock = CountingLock()
    monkeypatch.setattr(asgi_loop, "_lock", lock)
    seen: list[LoopThread] = []
    try:
        race_through(lock, lambda: seen.append(process_loop()))
        assert len(seen) == 2
        assert seen[0] is seen[1]
    finally:
        for runner in set(seen):
            runner.stop()
        monkeypatch.undo()
        monkeypatch.setattr(asgi_loop, "_current", first)


def test_concurrent_first_requests_start_one_lifespan_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    startups: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            startups.append(1)
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await hello()(scope, receive, send)

    adapter = AsgiToWsgi(app, lifespan="on")
    process_loop()
    lock = CountingLock()
    monkeypatch.setattr(asgi_loop, "_lock", lock)
    bodies: list[bytes] = []
    race_through(lock, lambda: bodies.append(call(adapter).body))
    assert bodies == [b"Hello, world!"] * 2
    assert startups == [1]
