"""``asgiref.testing.LifespanManager``: startup on enter, shutdown on exit, state, and a
clear error for every way a lifespan can go wrong (never a hang, never a leaked task)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from asgiref.testing import (
    LifespanError,
    LifespanManager,
    LifespanNotSupported,
    LifespanShutdownFailed,
    LifespanStartupFailed,
    LifespanTimeout,
)
from asgiref.validation import validate


class LifespanApp:
    """A lifespan app whose answers the test chooses; records what happened."""

    def __init__(self, startup: str = "complete", shutdown: str = "complete") -> None:
        self.startup = startup
        self.shutdown = shutdown
        self.events: list[str] = []
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            self.scopes.append(scope)
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": scope["state"]["greeting"]})
            return
        try:
            await self._lifespan(scope, receive, send)
        except asyncio.CancelledError:
            self.events.append("cancelled")
            raise

    async def _lifespan(self, scope: Any, receive: Any, send: Any) -> None:
        for phase, answer in (("startup", self.startup), ("shutdown", self.shutdown)):
            message = await receive()
            self.events.append(message["type"])
            if phase == "startup":
                scope["state"]["greeting"] = b"hello"
            if answer == "hang":
                await asyncio.Event().wait()
            if answer == "raise":
                raise RuntimeError(f"{phase} broke")
            if answer == "wrong":
                await send({"type": "lifespan.nonsense"})
                continue
            await send({"type": f"lifespan.{phase}.{answer}", "message": f"{phase} {answer}"})
            if answer == "failed":
                return


def _no_other_tasks() -> bool:
    return asyncio.all_tasks() == {asyncio.current_task()}


@pytest.mark.asyncio
async def test_startup_on_enter_shutdown_on_exit_and_state_reaches_requests() -> None:
    app = LifespanApp()
    async with LifespanManager(app) as manager:
        assert app.events == ["lifespan.startup"]
        assert manager.state == {"greeting": b"hello"}
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/")
        assert response.content == b"hello"
        assert app.scopes[0]["state"] == manager.state
        assert app.scopes[0]["state"] is not manager.state  # a shallow copy per request
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]
    assert _no_other_tasks()


@pytest.mark.asyncio
async def test_manager_app_passes_other_scopes_unchanged() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await LifespanApp()(scope, receive, send)
        else:
            seen.append(scope)

    async with LifespanManager(app) as manager:
        scope = {"type": "mychat"}
        await manager.app(scope, None, None)
    assert seen == [scope]
    assert seen[0] is scope


@pytest.mark.asyncio
async def test_the_lifespan_traffic_passes_the_validator() -> None:
    errors: list[Any] = []
    async with LifespanManager(validate(LifespanApp(), on_violation=errors.append)):
        pass
    assert errors == []


@pytest.mark.asyncio
async def test_the_docs_fixture_serves_state_copies_the_validator_accepts() -> None:
    """docs/validation.rst's pytest fixture: ``LifespanManager(validate(app))`` and requests
    through ``manager.app`` pass the lifespan-state rules; the bare validated app, which
    gives requests no state, is caught (CONN-SCOPE-012) with a hint at ``manager.app``."""
    errors: list[Any] = []
    validated = validate(LifespanApp(), on_violation=errors.append)
    async with LifespanManager(validated) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/")).content == b"hello"
        assert errors == []
        bare = httpx.ASGITransport(app=validated)
        async with httpx.AsyncClient(transport=bare, base_url="http://test") as client:
            with pytest.raises(KeyError):  # the app itself misses its state
                await client.get("/")
    assert [error.rule for error in errors] == ["CONN-SCOPE-012"]
    assert "manager.app" in errors[0].message
    # After the lifespan ended, a request without state is no longer anyone's business.
    errors.clear()
    async with httpx.AsyncClient(transport=bare, base_url="http://test") as client:
        with pytest.raises(KeyError):
            await client.get("/")
    assert errors == []


@pytest.mark.asyncio
async def test_startup_failed_raises_with_the_apps_message() -> None:
    with pytest.raises(LifespanStartupFailed, match="startup failed") as info:
        async with LifespanManager(LifespanApp(startup="failed")):
            pytest.fail("the block must not run")
    assert info.value.message == "startup failed"
    assert _no_other_tasks()


@pytest.mark.asyncio
async def test_app_that_raises_on_lifespan_is_not_supported_and_the_error_is_chained() -> None:
    with pytest.raises(LifespanNotSupported, match=r"raised on lifespan\.startup") as info:
        async with LifespanManager(LifespanApp(startup="raise")):
            pass
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.asyncio
async def test_app_that_returns_on_lifespan_is_not_supported() -> None:
    async def http_only(scope: Any, receive: Any, send: Any) -> None:
        return

    with pytest.raises(LifespanNotSupported, match="returned without answering"):
        async with LifespanManager(http_only):
            pass


@pytest.mark.asyncio
async def test_startup_timeout_cancels_the_app() -> None:
    app = LifespanApp(startup="hang")
    with pytest.raises(LifespanTimeout, match=r"lifespan.startup within 0.05 s") as info:
        async with LifespanManager(app, startup_timeout=0.05):
            pass
    assert isinstance(info.value, TimeoutError)
    assert (info.value.phase, info.value.timeout) == ("startup", 0.05)
    assert app.events[-1] == "cancelled"
    assert _no_other_tasks()


@pytest.mark.asyncio
async def test_shutdown_timeout_cancels_the_app() -> None:
    app = LifespanApp(shutdown="hang")
    with pytest.raises(LifespanTimeout, match="shutdown_timeout"):
        async with LifespanManager(app, shutdown_timeout=0.05):
            pass
    assert app.events[-1] == "cancelled"
    assert _no_other_tasks()


@pytest.mark.asyncio
async def test_shutdown_failed_raises_with_the_apps_message() -> None:
    with pytest.raises(LifespanShutdownFailed) as info:
        async with LifespanManager(LifespanApp(shutdown="failed")):
            pass
    assert info.value.message == "shutdown failed"


@pytest.mark.asyncio
async def test_app_raising_after_startup_is_reported_on_exit() -> None:
    with pytest.raises(LifespanError, match=r"ended before lifespan\.shutdown\.complete") as info:
        async with LifespanManager(LifespanApp(shutdown="raise")):
            pass
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize(("startup", "shutdown"), [("wrong", "complete"), ("complete", "wrong")])
@pytest.mark.asyncio
async def test_a_wrong_answer_is_a_lifespan_error(startup: str, shutdown: str) -> None:
    with pytest.raises(LifespanError, match=r"expected lifespan\..*, got"):
        async with LifespanManager(LifespanApp(startup=startup, shutdown=shutdown)):
            pass
    assert _no_other_tasks()


@pytest.mark.asyncio
async def test_shutdown_runs_when_the_block_raises() -> None:
    app = LifespanApp()
    with pytest.raises(KeyError):
        async with LifespanManager(app):
            raise KeyError("test failed")
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]


@pytest.mark.asyncio
async def test_cancelling_during_startup_cancels_the_app() -> None:
    app = LifespanApp(startup="hang")

    async def enter() -> None:
        async with LifespanManager(app, startup_timeout=None):
            pass

    task = asyncio.create_task(enter())
    while not app.events:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert app.events[-1] == "cancelled"
    assert _no_other_tasks()


@pytest.mark.asyncio
async def test_app_still_running_after_shutdown_complete_is_cancelled() -> None:
    events: list[str] = []

    async def lingering(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        try:
            await receive()
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async with LifespanManager(lingering):
        pass
    assert events == ["cancelled"]


@pytest.mark.asyncio
async def test_a_starlette_lifespan_with_state() -> None:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        yield {"db": "connected"}

    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.db)

    app = Starlette(routes=[Route("/", home)], lifespan=lifespan)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/")).text == "connected"
