"""Implementation of the deprecated :class:`asgiref.timeout.timeout` shim.

New code should use :func:`asyncio.timeout`.  This class is kept for code written for
asgiref 3.13 (asgiref schedules its removal for 3.14).

Runs in: the event loop thread; entered and exited inside one task.
"""

from __future__ import annotations

import asyncio
import enum
import warnings
from types import TracebackType

__all__ = ["timeout"]


class _State(enum.Enum):
    """The lifecycle of one :class:`timeout`."""

    CREATED = "created"  # not entered yet
    ENTERED = "entered"  # inside the block, deadline scheduled (or no deadline)
    EXPIRING = "expiring"  # the deadline passed and the task was cancelled
    EXPIRED = "expired"  # exited after the deadline passed
    EXITED = "exited"  # exited before the deadline


class timeout:
    """Deprecated: cancel the enclosing task if a block takes longer than ``timeout``.

    Works as ``with timeout(t):`` and ``async with timeout(t):`` inside a task.  When the
    deadline passes, the task is cancelled; on leaving the block, the
    :class:`asyncio.CancelledError` this caused becomes :class:`TimeoutError`, and the
    cancellation is withdrawn with :meth:`asyncio.Task.uncancel`, as
    :func:`asyncio.timeout` does (a cancellation requested by someone else still
    propagates as :class:`asyncio.CancelledError`).

    Args:
        timeout: Seconds allowed, ``None`` for no limit.  ``0`` or less cancels at the
            next event loop iteration.
        loop: Deprecated; the event loop to use.  Defaults to the running loop.

    Raises:
        RuntimeError: ``loop`` not given and no event loop is running.

    Warns:
        DeprecationWarning: Always, attributed to the caller; once more if ``loop`` is
            given.
    """

    def __init__(
        self, timeout: float | None, *, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        warnings.warn(
            "asgiref.timeout.timeout is deprecated. Use asyncio.timeout() instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        if loop is None:
            loop = asyncio.get_running_loop()
        else:
            warnings.warn(
                "The loop argument to timeout() is deprecated.", DeprecationWarning, stacklevel=2
            )
        self._timeout = timeout
        self._loop = loop
        self._state = _State.CREATED
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0  # the task's cancelling() count on entry
        self._deadline: float | None = None
        self._handle: asyncio.Handle | None = None

    def __enter__(self) -> timeout:
        self._enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._exit(exc_type, exc_val)

    async def __aenter__(self) -> timeout:
        self._enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._exit(exc_type, exc_val)

    @property
    def expired(self) -> bool:
        """Whether the deadline passed and the task was cancelled because of it."""
        return self._state in (_State.EXPIRING, _State.EXPIRED)

    @property
    def remaining(self) -> float | None:
        """Seconds left before the deadline, never negative.

        ``None`` before the block is entered, with ``timeout=None`` and with a timeout
        of zero or less (as in asgiref).  Otherwise it keeps counting down after the
        block is left, and stays ``0.0`` once the deadline has passed.
        """
        if self._deadline is None:
            return None
        return max(self._deadline - self._loop.time(), 0.0)

    def _enter(self) -> None:
        self._state = _State.ENTERED
        if self._timeout is None:
            return
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("Timeout context manager should be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        if self._timeout <= 0:
            self._handle = self._loop.call_soon(self._expire)
        else:
            self._deadline = self._loop.time() + self._timeout
            self._handle = self._loop.call_at(self._deadline, self._expire)

    def _expire(self) -> None:
        """Runs in: the event loop thread, as a timer callback."""
        assert self._task is not None
        self._task.cancel()
        self._state = _State.EXPIRING
        self._handle = None

    def _exit(self, exc_type: type[BaseException] | None, exc_val: BaseException | None) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._state is not _State.EXPIRING:
            self._state = _State.EXITED
            return
        self._state = _State.EXPIRED
        assert self._task is not None
        # [D22] withdraw our cancellation, as asyncio.timeout does.
        if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc_val
