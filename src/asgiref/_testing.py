"""Implementation of :class:`asgiref.testing.ApplicationCommunicator`.

Runs in: the event loop thread of the test.  The queues and the application task are
created lazily, on first use, in whatever loop is running then; a communicator must not
be used from two loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import Any

from asgiref._compatibility import guarantee_single_callable

__all__ = ["ApplicationCommunicator"]


class ApplicationCommunicator:
    """Runs one ASGI application instance under test and talks to it through queues.

    The test plays the server: :meth:`send_input` puts messages where the application's
    ``receive`` finds them, and :meth:`receive_output` reads what it passed to ``send``.
    Messages pass through verbatim.  With ``validate=True`` the application is wrapped
    in :func:`asgiref.validation.validate`, so the scope, what the test sends and what
    the application sends are checked against the ASGI specs, and a violation raises
    :class:`~asgiref.validation.ASGIValidationError` out of :meth:`receive_output`,
    :meth:`send_input` or :meth:`wait`, naming the broken rule.

    Construction needs no running event loop.  The application starts on the first use
    of :attr:`future` (any of the methods), as a task running
    ``application(scope, input_queue.get, output_queue.put)`` in a fresh, empty
    :class:`contextvars.Context`, so context variables set by the test are not visible
    to it.

    Channels subclasses this class (``HttpCommunicator``, ``WebsocketCommunicator``)
    and overrides :meth:`send_input` and :meth:`receive_output`.

    Args:
        application: The ASGI application, ASGI 3 or ASGI 2 (double callable).
        scope: The connection scope given to the application.
        validate: Check both sides of the conversation (see :doc:`/validation`).  Off by
            default, and then the application is not wrapped at all.

    Attributes:
        application: The application, as an ASGI 3 single callable.
        scope: The scope passed to the constructor.
    """

    def __init__(self, application: Any, scope: Any, *, validate: bool = False) -> None:
        if validate:
            from asgiref._validation._wrapper import validate as wrap

            application = wrap(application)
        self.application = guarantee_single_callable(application)
        self.scope = scope
        self._input_queue: asyncio.Queue[Any] | None = None
        self._output_queue: asyncio.Queue[Any] | None = None
        self._future: asyncio.Task[None] | None = None

    @property
    def input_queue(self) -> asyncio.Queue[Any]:
        """The queue the application's ``receive`` reads from, created on first use."""
        if self._input_queue is None:
            self._input_queue = asyncio.Queue()
        return self._input_queue

    @property
    def output_queue(self) -> asyncio.Queue[Any]:
        """The queue the application's ``send`` writes to, created on first use."""
        if self._output_queue is None:
            self._output_queue = asyncio.Queue()
        return self._output_queue

    @property
    def future(self) -> asyncio.Task[None]:
        """The task running the application, started on first access.

        Raises:
            RuntimeError: First access with no running event loop.
        """
        if self._future is None:
            loop = asyncio.get_running_loop()
            # The task must not reference ``self``, so that ``__del__`` can stop it.
            run = _run(self.application, self.scope, self.input_queue.get, self.output_queue.put)
            self._future = loop.create_task(run, context=contextvars.Context())
        return self._future

    async def send_input(self, message: Any) -> None:
        """Give ``message`` to the application's ``receive``.

        Args:
            message: The event to deliver, e.g. ``{"type": "http.request"}``.

        Raises:
            BaseException: The application's exception (or :class:`asyncio.CancelledError`
                if it was cancelled), if it has already finished that way.
        """
        if self.future.done():
            self.future.result()
        await self.input_queue.put(message)

    async def receive_output(self, timeout: float | None = 1) -> Any:
        """Return the next message the application sent, waiting up to ``timeout`` seconds.

        Messages sent before the application finished normally can still be read.

        Args:
            timeout: Seconds to wait; ``None`` waits forever.

        Returns:
            The next message from the output queue.

        Raises:
            TimeoutError: Nothing arrived in time.  A still-running application is
                cancelled and awaited first.  The caller's ``Task.cancelling()`` count is
                left unchanged.
            BaseException: The application's exception, if it finished with one.
        """
        if self.future.done():
            self.future.result()
        try:
            async with asyncio.timeout(timeout):
                return await self.output_queue.get()
        except TimeoutError:
            if self.future.done():
                self.future.result()
            else:
                await self._cancel_application()
            raise

    async def receive_nothing(self, timeout: float = 0.1, interval: float = 0.01) -> bool:
        """Check that the application sends nothing within ``timeout`` seconds.

        Args:
            timeout: How long to watch, in seconds.
            interval: How often to look at the output queue, in seconds.

        Returns:
            ``False`` as soon as a message is waiting in the output queue; otherwise
            whether the queue is still empty when ``timeout`` has passed.

        Raises:
            BaseException: The application's exception, if it had already finished with
                one when this was called.
        """
        if self.future.done():
            self.future.result()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.output_queue.empty():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.sleep(min(interval, remaining))
        return self.output_queue.empty()

    async def wait(self, timeout: float | None = 1) -> None:
        """Wait up to ``timeout`` seconds for the application to finish.

        On timeout the application is cancelled and awaited, and ``wait`` returns
        ``None`` without raising (as in asgiref: Django's tests rely on it).

        Args:
            timeout: Seconds to wait; ``None`` waits forever.

        Raises:
            BaseException: The application's exception, if it finished with one (a
                cancelled application is not an error here).
        """
        future = self.future
        try:
            async with asyncio.timeout(timeout):
                await asyncio.wait({future})
        except TimeoutError:
            await self._cancel_application()
            return
        if not future.cancelled():
            future.result()

    async def _cancel_application(self) -> None:
        """Cancel the application task and wait for it to finish.

        Its :class:`asyncio.CancelledError` is swallowed; any other exception it ends
        with propagates.

        Cancellation: cancelling the caller while it waits leaves the application
        cancelling on its own and propagates to the caller.
        """
        future = self.future
        future.cancel()
        await asyncio.wait({future})
        if not future.cancelled():
            future.result()

    def stop(self, exceptions: bool = True) -> None:
        """Stop the application without waiting for it.

        Does nothing if it never started; cancels it if it is still running.

        Args:
            exceptions: If the application has already finished, re-raise its exception
                (or :class:`asyncio.CancelledError` if it was cancelled).
        """
        future = getattr(self, "_future", None)
        if future is None:
            return
        if not future.done():
            future.cancel()
        elif exceptions:
            future.result()

    def __del__(self) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is already closed
            self.stop(exceptions=False)


async def _run(application: Any, scope: Any, receive: Any, send: Any) -> None:
    """Call the application inside the task, so that even its synchronous part runs in
    the task's fresh context.

    Runs in: the application task.
    """
    await application(scope, receive, send)
