"""Implementation of :class:`asgiref.testing.LifespanManager`: run an application's
lifespan around a block of test code.

Runs in: the event loop of the test.  The application's lifespan runs as one task of
that loop, from ``__aenter__`` to the end of ``__aexit__``; nothing outlives the block.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Literal

from asgiref._compatibility import guarantee_single_callable

__all__ = [
    "LifespanError",
    "LifespanManager",
    "LifespanNotSupported",
    "LifespanShutdownFailed",
    "LifespanStartupFailed",
    "LifespanTimeout",
]

Phase = Literal["startup", "shutdown"]


class LifespanError(Exception):
    """The application's lifespan did not go as the Lifespan spec describes.

    The base class of every error :class:`LifespanManager` raises.
    """


class LifespanNotSupported(LifespanError):
    """The application does not support the lifespan protocol.

    It raised (the exception is chained as ``__cause__``) or returned before answering
    ``lifespan.startup``, which is how the Lifespan spec lets an app say "unsupported".
    """


class LifespanStartupFailed(LifespanError):
    """The application answered ``lifespan.startup`` with ``lifespan.startup.failed``.

    Attributes:
        message: The ``message`` of the failed event (``""`` if it had none).
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"the application's lifespan startup failed: {message!r}")
        self.message = message


class LifespanShutdownFailed(LifespanError):
    """The application answered ``lifespan.shutdown`` with ``lifespan.shutdown.failed``.

    Attributes:
        message: The ``message`` of the failed event (``""`` if it had none).
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"the application's lifespan shutdown failed: {message!r}")
        self.message = message


class LifespanTimeout(LifespanError, TimeoutError):
    """The application did not answer in time; it has been cancelled.

    Also a :class:`TimeoutError`, as ``asgi_lifespan`` raises.

    Attributes:
        phase: ``"startup"`` or ``"shutdown"``.
        timeout: The timeout that expired, in seconds.
    """

    def __init__(self, phase: Literal["startup", "shutdown"], timeout: float) -> None:
        super().__init__(
            f"the application did not answer lifespan.{phase} within {timeout} s; "
            f"pass a larger {phase}_timeout if it needs more time"
        )
        self.phase = phase
        self.timeout = timeout


class _Exit:
    """Put on the answer queue when the application returns or raises."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error


class LifespanManager:
    """Runs an application's lifespan startup on enter and its shutdown on exit.

    Compatible with ``asgi_lifespan.LifespanManager`` for the common case::

        async with LifespanManager(app) as manager:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(manager.app)) as client:
                ...

    Args:
        app: The ASGI application (ASGI 3, or an ASGI 2 double callable).
        startup_timeout: Seconds to wait for ``lifespan.startup.complete``; ``None``
            waits forever.
        shutdown_timeout: Seconds to wait for ``lifespan.shutdown.complete``; ``None``
            waits forever.  An application still running after it is cancelled.

    Attributes:
        app: The application, wrapped so that each http and websocket scope gets a
            shallow copy of :attr:`state` as ``scope["state"]`` (the Lifespan spec's
            state).

    Raises:
        LifespanNotSupported: On enter, the application raised or returned without
            answering ``lifespan.startup``.
        LifespanStartupFailed: On enter, it sent ``lifespan.startup.failed``.
        LifespanShutdownFailed: On exit, it sent ``lifespan.shutdown.failed``.
        LifespanTimeout: It did not answer within the timeout (it is cancelled).
        LifespanError: Any other break of the Lifespan spec, such as raising after a
            complete startup (chained as ``__cause__``).

    Runs in: the event loop of the test.

    Cancellation: cancelling the task inside ``async with`` (or waiting in enter or
    exit) cancels the application's lifespan task too and waits for it to end.
    """

    def __init__(
        self, app: Any, startup_timeout: float | None = 5, shutdown_timeout: float | None = 5
    ) -> None:
        self._application: Any = guarantee_single_callable(app)
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self._state: dict[str, Any] = {}
        self.app = _WithState(self._application, self._state)
        self._receive: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._answers: asyncio.Queue[dict[str, Any] | _Exit] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> dict[str, Any]:
        """The lifespan ``state`` dict the application filled during startup."""
        return self._state

    async def __aenter__(self) -> LifespanManager:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self._state
        self._task = asyncio.get_running_loop().create_task(self._run(scope))
        try:
            answer = await self._ask("startup", self.startup_timeout)
        except BaseException:
            await self._stop()
            raise
        if isinstance(answer, _Exit):
            reason = "raised" if answer.error else "returned without answering"
            raise LifespanNotSupported(
                f"the application {reason} on lifespan.startup, so it does not support "
                "the lifespan protocol; drop LifespanManager or handle scope['type'] == "
                "'lifespan'"
            ) from answer.error
        if answer["type"] == "lifespan.startup.failed":
            await self._stop()
            raise LifespanStartupFailed(str(answer.get("message", "")))
        if answer["type"] != "lifespan.startup.complete":
            await self._stop()
            raise LifespanError(f"expected lifespan.startup.complete, got {answer!r}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            answer = await self._ask("shutdown", self.shutdown_timeout)
            if isinstance(answer, _Exit):
                raise LifespanError(
                    "the application's lifespan ended before lifespan.shutdown.complete"
                ) from answer.error
            if answer["type"] == "lifespan.shutdown.failed":
                raise LifespanShutdownFailed(str(answer.get("message", "")))
            if answer["type"] != "lifespan.shutdown.complete":
                raise LifespanError(f"expected lifespan.shutdown.complete, got {answer!r}")
            await asyncio.sleep(0)  # let it return, as the spec asks, before _stop cancels it
        finally:
            await self._stop()

    async def _ask(self, phase: Phase, timeout: float | None) -> dict[str, Any] | _Exit:
        """Send ``lifespan.<phase>`` and return the application's answer.

        Raises:
            LifespanTimeout: No answer within ``timeout`` seconds.
        """
        self._receive.put_nowait({"type": f"lifespan.{phase}"})
        try:
            async with asyncio.timeout(timeout):
                return await self._answers.get()
        except TimeoutError:
            assert timeout is not None
            raise LifespanTimeout(phase, timeout) from None

    async def _stop(self) -> None:
        """Cancel the lifespan task if it still runs, and wait for it to end."""
        task = self._task
        assert task is not None
        task.cancel()
        await asyncio.wait({task})
        if not task.cancelled():
            task.result()  # re-raises a BaseException such as KeyboardInterrupt

    async def _run(self, scope: dict[str, Any]) -> None:
        """Run the application's lifespan; report its end on the answer queue.

        Runs in: the lifespan task.
        """
        error: Exception | None = None
        try:
            await self._application(scope, self._receive.get, self._send)
        except Exception as exc:
            error = exc
        self._answers.put_nowait(_Exit(error))

    async def _send(self, message: dict[str, Any]) -> None:
        """The application's ``send``: every event is an answer.

        Runs in: the lifespan task.
        """
        self._answers.put_nowait(message)


class _WithState:
    """The application with the lifespan state copied into each connection scope."""

    def __init__(self, application: Any, state: dict[str, Any]) -> None:
        self._application = application
        self._state = state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(self._state)}
        await self._application(scope, receive, send)
