"""``AsgiToWsgi`` lifespan: startup once per process before the first request, state,
failures, the three modes, and shutdown at interpreter exit (in a subprocess)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
from typing import Any

import pytest

from asgi_wsgi_support import Receive, Scope, Send, call
from asgiref.wsgi import AsgiToWsgi

WAIT = 10.0


class LifespanApp:
    """An ASGI app with a lifespan that fills state; records what happened."""

    def __init__(self, startup: str = "complete", on_lifespan: str = "") -> None:
        self.startup = startup
        self.on_lifespan = on_lifespan
        self.events: list[str] = []
        self.states: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        self.states.append(scope.get("state", {"absent": True}))
        scope.get("state", {})["mutated"] = True  # must not leak into the next request
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.on_lifespan == "raise":
            raise ValueError("no lifespan here")
        if self.on_lifespan == "return":
            return
        message = await receive()
        assert message["type"] == "lifespan.startup"
        self.events.append("startup")
        if self.startup == "hang":
            await asyncio.Event().wait()
        if self.startup == "raise":
            await send({"type": "lifespan.bogus"})
        if self.startup == "return":
            return
        scope["state"]["db"] = "connected"
        await send({"type": f"lifespan.startup.{self.startup}", "message": "no database"})
        message = await receive()
        self.events.append(message["type"])
        await send({"type": "lifespan.shutdown.complete"})


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "asgiref.wsgi" and r.levelno >= logging.ERROR
    ]


def test_startup_runs_once_before_the_first_request_and_state_is_copied() -> None:
    app = LifespanApp()
    adapter = AsgiToWsgi(app)
    results: list[bytes] = []

    def client() -> None:
        results.append(call(adapter).body)

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert results == [b"ok"] * 6
    assert app.events == ["startup"]
    assert all(state == {"db": "connected", "mutated": True} for state in app.states)
    assert len({id(state) for state in app.states}) == 6


@pytest.mark.parametrize(
    ("mode", "startup", "message"),
    [
        ("auto", "failed", "ASGI lifespan startup failed: no database"),
        ("on", "failed", "ASGI lifespan startup failed: no database"),
        ("auto", "raise", "ASGI lifespan startup raised ValueError"),
        ("on", "raise", "ASGI lifespan startup raised ValueError"),
        ("on", "return", "ASGI lifespan returned before lifespan.startup.complete"),
    ],
)
def test_failed_startup_makes_every_request_a_500_logged_once_and_not_retried(
    caplog: pytest.LogCaptureFixture, mode: Any, startup: str, message: str
) -> None:
    app = LifespanApp(startup)
    adapter = AsgiToWsgi(app, lifespan=mode)
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        statuses = [call(adapter).status for _ in range(3)]
    assert statuses == ["500 Internal Server Error"] * 3
    assert app.events == ["startup"]
    assert app.states == []
    [logged] = errors(caplog)
    assert logged.startswith(message)
    assert "every request of process" in logged


def test_startup_timeout_is_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    app = LifespanApp("hang")
    adapter = AsgiToWsgi(app, startup_timeout=0.05)
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        assert call(adapter).status.startswith("500")
        assert call(adapter).status.startswith("500")
    [logged] = errors(caplog)
    assert "did not complete within 0.05 s" in logged


@pytest.mark.parametrize(
    ("on_lifespan", "startup"), [("raise", "complete"), ("return", "complete"), ("", "return")]
)
def test_auto_treats_an_app_that_sends_nothing_on_the_lifespan_scope_as_without_lifespan(
    on_lifespan: str, startup: str
) -> None:
    app = LifespanApp(startup, on_lifespan=on_lifespan)
    assert call(AsgiToWsgi(app)).body == b"ok"
    assert app.states == [{"absent": True}]


def test_on_counts_an_app_raising_on_the_lifespan_scope_as_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = LifespanApp(on_lifespan="raise")
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        assert call(AsgiToWsgi(app, lifespan="on")).status.startswith("500")
    assert "startup raised ValueError('no lifespan here')" in errors(caplog)[0]


def test_off_never_sends_a_lifespan_scope() -> None:
    app = LifespanApp()
    assert call(AsgiToWsgi(app, lifespan="off")).body == b"ok"
    assert app.events == []
    assert app.states == [{"absent": True}]


def test_a_non_asgi_callable_fails_the_startup_in_on_mode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def not_async(scope: Scope, receive: Receive, send: Send) -> None:
        raise TypeError("not an ASGI app")

    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        assert call(AsgiToWsgi(not_async, lifespan="on")).status.startswith("500")  # type: ignore[arg-type]
    assert "TypeError('not an ASGI app')" in errors(caplog)[0]


SHUTDOWN_SCRIPT = """
import asyncio, io, logging, sys
logging.basicConfig(level=logging.ERROR, format="%(name)s %(message)s", stream=sys.stdout)
from asgiref.wsgi import AsgiToWsgi

MODE = sys.argv[1]

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        scope["state"]["started"] = True
        await send({"type": "lifespan.startup.complete"})
        await receive()
        if MODE == "hang":
            await asyncio.Event().wait()
        if MODE == "raise":
            raise RuntimeError("shutdown broke")
        kind = "failed" if MODE == "failed" else "complete"
        print("shutdown", MODE, flush=True)
        await send({"type": f"lifespan.shutdown.{kind}", "message": "disk full"})
        return
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": repr(scope["state"]).encode()})

adapter = AsgiToWsgi(app, shutdown_timeout=0.2)
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO()}
print(b"".join(adapter(environ, lambda *a: None)).decode(), flush=True)
"""


STATE = "{'started': True}"
LOG = "asgiref.wsgi ASGI lifespan"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("complete", ["{'started': True}", "shutdown complete"]),
        ("failed", [STATE, "shutdown failed", f"{LOG} shutdown failed: disk full"]),
        ("hang", [STATE, f"{LOG} shutdown did not complete within 0.2 s"]),
        ("raise", [STATE, f"{LOG} raised"]),
    ],
)
def test_shutdown_runs_once_at_interpreter_exit(mode: str, expected: list[str]) -> None:
    process = subprocess.run(
        [sys.executable, "-c", SHUTDOWN_SCRIPT, mode],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    traceback = ("Traceback", " ", "RuntimeError")
    lines = [line for line in process.stdout.splitlines() if not line.startswith(traceback)]
    assert lines == expected
    assert process.stderr == ""


@pytest.mark.parametrize("startup", ["complete", "failed"])
def test_shutdown_in_process_on_a_loop_thread_of_its_own(startup: str) -> None:
    from asgiref._wsgi.asgi_lifespan import Lifespan, LifespanFailed
    from asgiref._wsgi.asgi_loop import LoopThread

    app = LifespanApp(startup)
    runner = LoopThread()
    session = Lifespan(app, "on", 5.0, 5.0, runner)
    runner.add_exit_callback(session.shutdown)
    if startup == "complete":
        assert session.wait() == {"db": "connected"}
    else:
        with pytest.raises(LifespanFailed, match="no database"):
            session.wait()
    runner.stop()
    expected = ["startup", "lifespan.shutdown"] if startup == "complete" else ["startup"]
    assert app.events == expected
    assert not runner.thread.is_alive()


class ScriptedLifespan:
    """A lifespan-only app that sends ``after_startup`` and then follows ``on_shutdown``."""

    def __init__(self, after_startup: list[str], on_shutdown: str) -> None:
        self.after_startup = after_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        for kind in self.after_startup:
            await send({"type": kind, "message": "ignored"})
        await receive()
        if self.on_shutdown == "hang":
            await asyncio.Event().wait()
        if self.on_shutdown == "raise":
            raise RuntimeError("broken shutdown")
        if self.on_shutdown == "failed":
            await send({"type": "lifespan.shutdown.failed", "message": "disk full"})
            return
        await send({"type": "lifespan.shutdown.complete"})
        await send({"type": "lifespan.shutdown.complete"})  # a repeat changes nothing


def run_session(app: Any, caplog: pytest.LogCaptureFixture, **timeouts: float) -> Any:
    """Start and stop one lifespan session on a loop thread of its own; return its state."""
    from asgiref._wsgi.asgi_lifespan import Lifespan
    from asgiref._wsgi.asgi_loop import LoopThread

    runner = LoopThread()
    session = Lifespan(
        app, "on", timeouts.get("startup", 5.0), timeouts.get("shutdown", 5.0), runner
    )
    runner.add_exit_callback(session.shutdown)
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        try:
            return session.wait()
        finally:
            runner.stop()
            assert not runner.thread.is_alive()


@pytest.mark.parametrize(
    ("on_shutdown", "logged"),
    [
        ("complete", []),
        ("failed", ["ASGI lifespan shutdown failed: disk full"]),
        ("hang", ["ASGI lifespan shutdown did not complete within 0.05 s"]),
        ("raise", ["ASGI lifespan raised"]),
    ],
)
def test_every_shutdown_outcome_is_logged_once_and_never_blocks_the_exit(
    on_shutdown: str, logged: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = ScriptedLifespan(["lifespan.startup.complete"], on_shutdown)
    shutdown = 0.05 if on_shutdown == "hang" else 10.0  # only "hang" may reach its timeout
    assert run_session(app, caplog, shutdown=shutdown) == {}
    assert errors(caplog) == logged


def test_the_first_startup_outcome_wins(caplog: pytest.LogCaptureFixture) -> None:
    app = ScriptedLifespan(["lifespan.startup.complete", "lifespan.startup.failed"], "complete")
    assert run_session(app, caplog) == {}  # the later "failed" is ignored: still ready
    assert errors(caplog) == []


def test_a_startup_that_ends_in_time_cancels_its_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from asgiref._wsgi.asgi_lifespan import Lifespan
    from asgiref._wsgi.asgi_loop import LoopThread

    runner = LoopThread()
    session = Lifespan(LifespanApp(), "on", 60.0, 5.0, runner)
    runner.add_exit_callback(session.shutdown)
    with caplog.at_level(logging.ERROR, logger="asgiref.wsgi"):
        assert session.wait() == {"db": "connected"}
        deadline = session._deadline
        assert deadline is not None
        assert deadline.cancelled()  # it can never fail the ready process later
        runner.stop()
    assert errors(caplog) == []
