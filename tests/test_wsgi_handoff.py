"""Thread hand-offs behind ``asgiref.wsgi``: inbox, link and input pipe edge cases.

These drive the private classes directly, to pin down paths that real requests reach
only through races (a loop closed under a waiting worker, a callback arriving late).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

import pytest

from asgiref._wsgi import response_window
from asgiref._wsgi.request_body import InputPipe, _resume
from asgiref._wsgi.response_window import WINDOW_ITEMS, Inbox, Link, LinkState
from asgiref.wsgi import ClientDisconnected
from wsgi_support import WAIT


def _in_thread(target: Any) -> list[Any]:
    """Run ``target()`` in a thread and return ``[result]`` or ``[exception]``."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(target())
        except BaseException as exc:
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive()
    return out


def _nothing() -> None:
    pass


def test_inbox_post_to_a_closed_loop_raises_and_can_retry() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    inbox = Inbox(loop)
    for _ in range(2):  # _pending is reset, so the second post raises too
        with pytest.raises(RuntimeError):
            inbox.post(_nothing)


def test_waiting_worker_gives_up_when_the_loop_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(response_window, "POLL_INTERVAL", 0.01)
    loop = asyncio.new_event_loop()  # never runs: callbacks stay queued
    link = Link(loop, _nothing)
    pipe = InputPipe(loop, b"", True, _nothing)
    link._parked = True  # as if serve() waited: the first push wakes the loop, which
    # leaves a drain pending in the inbox, so the pipe's later post is queued behind it
    for _ in range(WINDOW_ITEMS):
        assert link.push([{"type": "x"}], 1, 1) is LinkState.RUNNING
    started = threading.Event()

    def wait() -> LinkState:
        started.set()
        return link.wait_for_room()  # the window is full: blocks

    thread_out: list[Any] = []
    thread = threading.Thread(target=lambda: thread_out.append(wait()))
    thread.start()
    assert started.wait(WAIT)
    loop.close()
    thread.join(WAIT)
    assert thread_out == [LinkState.CANCELLED]
    out = _in_thread(lambda: pipe.take(1))
    assert isinstance(out[0], ClientDisconnected)


def test_link_on_a_closed_loop_or_cancelled_link_does_not_wait() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    link = Link(loop, _nothing)
    link._parked = True  # as if the loop waited for this batch
    assert link.push([], 1, 0) is LinkState.CANCELLED
    link._parked = True
    link.finish([], None)  # dropped quietly
    link.state = LinkState.CANCELLED
    assert link.push([], 1, 0) is LinkState.CANCELLED
    assert link.wait_for_room() is LinkState.CANCELLED


def test_input_read_on_a_closed_loop_raises_client_disconnected() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    pipe = InputPipe(loop, b"", True, _nothing)
    with pytest.raises(ClientDisconnected):
        pipe.take(1)


@pytest.mark.asyncio
async def test_batches_queued_before_serve_starts_are_served_in_order() -> None:
    link = Link(asyncio.get_running_loop(), _nothing)
    sent: list[Any] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    link.push([{"type": "a"}, {"type": "b"}], 1, 1)
    link.push([{"type": "c"}], 1, 1)
    link.finish([{"type": "end"}], None)
    assert await link.serve(send) is None
    assert [m["type"] for m in sent] == ["a", "b", "c", "end"]


@pytest.mark.asyncio
async def test_a_cancelled_link_drops_batches_and_releases_the_worker() -> None:
    link = Link(asyncio.get_running_loop(), _nothing)
    for _ in range(WINDOW_ITEMS):
        link.push([{"type": "x"}], 1, 1)
    waiting = asyncio.create_task(asyncio.to_thread(link.wait_for_room))
    while not link._blocked:  # the worker thread blocks on the full window
        await asyncio.to_thread(lambda: None)
    link.cancel()
    assert await waiting is LinkState.CANCELLED
    link.disconnected()  # no effect once cancelled
    assert link.state is LinkState.CANCELLED
    assert link._batches == deque()
    assert await asyncio.to_thread(link.push, [{"type": "late"}], 1, 1) is LinkState.CANCELLED
    link._wake_loop()  # a wake-up arriving after the call ended: no waiter, no effect


def test_wait_released_polls_until_the_loop_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(response_window, "POLL_INTERVAL", 0.001)
    answers = iter([False, False, True])

    class FakeLoop:
        def is_closed(self) -> bool:
            return next(answers)

    lock = threading.Lock()
    lock.acquire()
    assert response_window.wait_released(lock, FakeLoop()) is False  # type: ignore[arg-type]  # duck-typed loop
    lock.release()
    assert response_window.wait_released(lock, FakeLoop()) is True  # type: ignore[arg-type]  # duck-typed loop


@pytest.mark.asyncio
async def test_resume_ignores_a_finished_future() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.cancel()
    _resume(future)
    assert future.cancelled()


def test_loops_without_weak_references_get_an_inbox_per_call() -> None:
    loop: Any = object()  # stands in for a loop type that cannot be weakly referenced
    first, second = response_window.inbox_for(loop), response_window.inbox_for(loop)
    assert first is not second


@pytest.mark.asyncio
async def test_one_inbox_per_running_loop() -> None:
    loop = asyncio.get_running_loop()
    assert response_window.inbox_for(loop) is response_window.inbox_for(loop)
