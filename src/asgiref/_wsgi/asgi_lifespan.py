"""The ASGI lifespan of an ``AsgiToWsgi`` application, once per process.

One :class:`Lifespan` is one adapter's lifespan session in one process (rules:
``asgi-to-wsgi-lifespan`` in docs/wsgi.rst).  The first request of the process starts
it on the process loop and every request waits until the startup finished; the session
then lives on the loop until interpreter exit, when :meth:`Lifespan.shutdown` (an exit
callback of :class:`~asgiref._wsgi.asgi_loop.LoopThread`) sends ``lifespan.shutdown``.

A forked child never reuses its parent's session: the adapter compares
:attr:`Lifespan.generation` with :func:`asgiref._threads.generation`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

from asgiref import _threads
from asgiref._wsgi.asgi_loop import LoopThread

__all__ = ["LifespanFailed", "LifespanMode", "Lifespan", "Outcome"]

logger = logging.getLogger("asgiref.wsgi")

LifespanMode = Literal["auto", "on", "off"]
Message = dict[str, Any]
_SCOPE_ASGI: Final = {"version": "3.0", "spec_version": "2.0"}


class Outcome(enum.Enum):
    """How the startup ended."""

    READY = "startup complete"
    UNSUPPORTED = "no lifespan support"
    FAILED = "startup failed"


class LifespanFailed(Exception):
    """The lifespan startup failed or timed out: the process serves only 500s."""


class Lifespan:
    """One adapter's lifespan session in this process.

    Args:
        application: The ASGI application.
        mode: ``"auto"`` or ``"on"`` (``"off"`` never builds one).
        startup_timeout: Seconds the startup may take.
        shutdown_timeout: Seconds the shutdown may take at exit.
        runner: The process loop.

    Thread rules: :attr:`outcome` is written once, on the loop, after :attr:`message`
    and the failure's log record and before ``_done`` is set; request threads read it
    and wait on ``_done`` only while it is still ``None``.
    """

    def __init__(
        self,
        application: Callable[..., Awaitable[None]],
        mode: LifespanMode,
        startup_timeout: float,
        shutdown_timeout: float,
        runner: LoopThread,
    ) -> None:
        self.generation = _threads.generation()
        self.state: dict[str, Any] = {}
        self.outcome: Outcome | None = None
        self.message = ""
        self._application = application
        self._mode = mode
        self._startup_timeout = startup_timeout
        self._shutdown_timeout = shutdown_timeout
        self._runner = runner
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._sent_anything = False
        self._events: asyncio.Queue[Message] | None = None  # loop thread only
        self._shutdown_done: asyncio.Future[None] | None = None  # loop thread only
        self._task: asyncio.Task[None] | None = None
        self._deadline: asyncio.TimerHandle | None = None  # loop thread only
        runner.loop.call_soon_threadsafe(self._begin)

    def wait(self) -> dict[str, Any] | None:
        """Wait for the startup; return the state to copy into scopes (``None``: no lifespan).

        Raises:
            LifespanFailed: The startup failed or timed out (now or earlier).

        Runs in: a request thread.
        """
        if self.outcome is None:
            self._done.result()  # the loop ends the startup within startup_timeout
        if self.outcome is Outcome.READY:
            return self.state
        if self.outcome is Outcome.UNSUPPORTED:
            return None
        raise LifespanFailed(self.message)

    # -- the loop thread ---------------------------------------------------------------

    def _begin(self) -> None:
        """Start the lifespan task and its startup deadline.  Runs in: the loop thread."""
        loop = self._runner.loop
        self._events = asyncio.Queue()
        self._events.put_nowait({"type": "lifespan.startup"})
        self._shutdown_done = loop.create_future()
        scope = {"type": "lifespan", "asgi": _SCOPE_ASGI, "state": self.state}
        try:
            coroutine = self._application(scope, self._receive, self._send)
            self._task = loop.create_task(coroutine)  # type: ignore[arg-type]
        except Exception as exc:
            self._ended(exc)
            return
        self._task.add_done_callback(self._task_done)
        self._deadline = loop.call_later(self._startup_timeout, self._timed_out)

    async def _receive(self) -> Message:
        assert self._events is not None
        return await self._events.get()

    async def _send(self, message: Message) -> None:
        self._sent_anything = True
        kind = message.get("type")
        if kind == "lifespan.startup.complete":
            self._settle(Outcome.READY, "")
        elif kind == "lifespan.startup.failed":
            reason = message.get("message", "")
            self._settle(Outcome.FAILED, f"ASGI lifespan startup failed: {reason}")
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if kind == "lifespan.shutdown.failed":
                logger.error("ASGI lifespan shutdown failed: %s", message.get("message", ""))
            assert self._shutdown_done is not None
            if not self._shutdown_done.done():
                self._shutdown_done.set_result(None)
        else:
            raise ValueError(
                f"AsgiToWsgi got an unknown lifespan message type {kind!r} in {message!r}"
            )

    def _settle(self, outcome: Outcome, message: str) -> None:
        """Record how the startup ended (first call wins); log a failure once."""
        if self.outcome is not None:
            return
        self.message = message
        if self._deadline is not None:  # the startup ended: its deadline no longer applies
            self._deadline.cancel()
        if outcome is Outcome.FAILED:
            logger.error("%s; every request of process %d gets a 500", message, os.getpid())
        # Last: a request thread that reads ``outcome`` without waiting on ``_done`` must
        # find the message and the log record already there.
        self.outcome = outcome
        self._done.set_result(None)

    def _timed_out(self) -> None:
        """The startup deadline passed (it is cancelled when the startup ends first)."""
        self._settle(
            Outcome.FAILED,
            f"ASGI lifespan startup did not complete within {self._startup_timeout} s",
        )
        assert self._task is not None  # the deadline is only set once the task exists
        self._task.cancel()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._ended(None if task.cancelled() else task.exception())

    def _ended(self, error: BaseException | None) -> None:
        """The lifespan task ended: settle a pending startup and the shutdown."""
        if self.outcome is None:
            if self._mode == "auto" and not self._sent_anything:
                logger.debug("ASGI application has no lifespan support: %r", error)
                self._settle(Outcome.UNSUPPORTED, "")
            elif error is not None:
                self._settle(Outcome.FAILED, f"ASGI lifespan startup raised {error!r}")
            else:
                self._settle(
                    Outcome.FAILED, "ASGI lifespan returned before lifespan.startup.complete"
                )
        elif error is not None and self.outcome is Outcome.READY:
            logger.error("ASGI lifespan raised", exc_info=error)
        if self._shutdown_done is not None and not self._shutdown_done.done():
            self._shutdown_done.set_result(None)

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait up to ``shutdown_timeout`` (never raises).

        Runs in: the loop thread, at interpreter exit.
        """
        if self.outcome is not Outcome.READY or self._events is None:
            return
        assert self._shutdown_done is not None
        self._events.put_nowait({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(asyncio.shield(self._shutdown_done), self._shutdown_timeout)
        except TimeoutError:
            logger.error(
                "ASGI lifespan shutdown did not complete within %s s", self._shutdown_timeout
            )
