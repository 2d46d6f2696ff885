"""Implementation of :class:`asgiref.server.StatelessServer`.

A stateless server has no sockets of its own.  Its :meth:`~StatelessServer.handle`
receives messages from somewhere (a channel layer, a chat network, ...), picks a
``scope_id`` for each, and feeds the message to the application instance that belongs
to that ``scope_id``; instances are created on demand, capped in number and evicted
least-recently-used first.

Runs in: every method runs on the thread of the event loop that runs
:meth:`~StatelessServer.arun`; the class is not meant to be shared between loops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from asgiref._compatibility import guarantee_single_callable

__all__ = ["StatelessServer", "logger"]

#: The logger of :mod:`asgiref.server` (re-exported there as ``asgiref.server.logger``).
logger = logging.getLogger("asgiref.server")


class StatelessServer:
    """Base class for servers that run ASGI applications without per-connection sockets.

    Subclasses implement :meth:`handle` (the main loop, which calls
    :meth:`get_or_create_application_instance` and feeds the returned queue) and
    :meth:`application_send` (what to do with messages the applications send).  Channels'
    ``Worker`` is such a subclass.

    Args:
        application: The ASGI application, ASGI 3 or ASGI 2 (double callable).
        max_applications: The most application instances alive at once.  Creating one
            more first evicts the least recently used instance.

    Attributes:
        application: The application passed to the constructor.
        max_applications: The cap passed to the constructor.
        application_instances: ``scope_id`` -> details ``dict`` with the keys
            ``"input_queue"``, ``"future"``, ``"scope"`` and ``"last_used"``
            (a ``time.time()`` timestamp).

    Runs in: the event loop thread that runs :meth:`arun`.
    """

    #: Seconds between two passes of :meth:`application_checker`.
    application_checker_interval: float = 0.1

    def __init__(self, application: Any, max_applications: int = 1000) -> None:
        self.application = application
        self.max_applications = max_applications
        self.application_instances: dict[Hashable, dict[str, Any]] = {}
        # The scope_ids in order of last use, least recent first: eviction pops from the
        # front without scanning.  May hold ids already gone from application_instances
        # (removed behind our back); those are skipped lazily.
        self._recency: OrderedDict[Hashable, None] = OrderedDict()

    # Running the server

    def run(self) -> None:
        """Run :meth:`arun` to completion in a fresh event loop (:func:`asyncio.run`).

        Works in any thread that has no running event loop.  A
        :class:`KeyboardInterrupt` (Ctrl-C) is logged at INFO on the ``asgiref.server``
        logger as ``"Exiting due to Ctrl-C/interrupt"`` and ``run`` returns normally.
        No signal handler is installed: a process that started with SIGINT ignored (a
        background job of a shell without job control) keeps ignoring it.

        Runs in: the calling thread, which becomes the event loop thread.
        """
        try:
            asyncio.run(self.arun())
        except KeyboardInterrupt:
            logger.info("Exiting due to Ctrl-C/interrupt")

    async def arun(self) -> None:
        """Run :meth:`handle` and :meth:`application_checker` concurrently.

        When :meth:`handle` returns, the checker is stopped and ``arun`` returns.  If
        :meth:`handle` or the checker raises, the other is stopped and the exception
        propagates.  Application instances still running are left running.

        Raises:
            BaseException: Whatever :meth:`handle` or :meth:`application_checker` raised.

        Cancellation: cancelling ``arun`` cancels and awaits both, then re-raises.
        """
        handler = asyncio.ensure_future(self.handle())
        checker = asyncio.ensure_future(self.application_checker())
        try:
            done, _ = await asyncio.wait({handler, checker}, return_when=asyncio.FIRST_COMPLETED)
            if handler not in done:
                checker.result()  # the checker failed: raise its error
                await asyncio.wait({handler})  # it returned (an override): keep serving
        finally:
            await _stop(checker)
            await _stop(handler)
        handler.result()

    async def handle(self) -> None:
        """The server's main loop; subclasses must implement it.

        Raises:
            NotImplementedError: Always, in this base class.
        """
        raise NotImplementedError("You must implement handle()")

    async def application_send(self, scope: Any, message: Any) -> None:
        """Receive a message an application instance sent; subclasses must implement it.

        Args:
            scope: The scope of the instance that sent the message.
            message: The message, as the application passed it to ``send``.

        Raises:
            NotImplementedError: Always, in this base class.
        """
        raise NotImplementedError("You must implement application_send()")

    # Application instances

    def get_or_create_application_instance(
        self, scope_id: Hashable, scope: Any
    ) -> asyncio.Queue[Any]:
        """Return the input queue of the instance for ``scope_id``, creating it if needed.

        For a known ``scope_id`` this refreshes ``last_used``.  For a new one it first
        evicts least recently used instances until fewer than ``max_applications`` are
        left, then calls the application (wrapped with
        :func:`~asgiref.compatibility.guarantee_single_callable`) synchronously as
        ``application(scope=scope, receive=queue.get, send=send)`` and schedules the
        result as a task.  ``send(message)`` awaits :meth:`application_send`.

        Args:
            scope_id: Identifies the instance, e.g. a channel name or a user.
            scope: The scope for a new instance (ignored for an existing one).

        Returns:
            The instance's input queue; feed it with ``await queue.put(message)`` or
            ``queue.put_nowait(message)``.

        Raises:
            TypeError: The application does not accept the keyword arguments ``scope``,
                ``receive`` and ``send``, or did not return an awaitable.

        Runs in: the event loop thread (a loop must be running).
        """
        details = self.application_instances.get(scope_id)
        if details is not None:
            details["last_used"] = time.time()
            self._recency[scope_id] = None
            self._recency.move_to_end(scope_id)
            queue: asyncio.Queue[Any] = details["input_queue"]
            return queue
        self._make_room()
        return self._create_application_instance(scope_id, scope)

    def _make_room(self) -> None:
        """Evict until fewer than ``max_applications`` instances are alive [D6].

        Stops early if an override of :meth:`delete_oldest_application_instance`
        removes nothing, and keeps at least one slot (``max_applications < 1``).
        """
        while len(self.application_instances) >= max(self.max_applications, 1):
            before = len(self.application_instances)
            self.delete_oldest_application_instance()
            if len(self.application_instances) >= before:
                return

    def _create_application_instance(self, scope_id: Hashable, scope: Any) -> asyncio.Queue[Any]:
        input_queue: asyncio.Queue[Any] = asyncio.Queue()
        application = guarantee_single_callable(self.application)

        async def send(message: Any) -> None:
            await self.application_send(scope, message)

        # Keyword arguments on purpose (Channels relies on them); the ASGI3Application
        # alias only describes positional parameters.
        awaitable = application(scope=scope, receive=input_queue.get, send=send)  # type: ignore[call-arg]
        future = asyncio.ensure_future(awaitable)
        self.application_instances[scope_id] = {
            "input_queue": input_queue,
            "future": future,
            "scope": scope,
            "last_used": time.time(),
        }
        self._recency[scope_id] = None
        self._recency.move_to_end(scope_id)
        return input_queue

    def delete_oldest_application_instance(self) -> None:
        """Delete the least recently used application instance, if there is one.

        "Least recently used" is the instance whose ``scope_id`` was passed to
        :meth:`get_or_create_application_instance` longest ago; the server keeps them in
        that order, so this takes constant time.  Instances added to
        ``application_instances`` directly are found by the smallest ``last_used``.
        """
        while self._recency:
            scope_id = next(iter(self._recency))
            if scope_id in self.application_instances:
                self.delete_application_instance(scope_id)
                return
            del self._recency[scope_id]
        if self.application_instances:
            oldest = min(
                self.application_instances,
                key=lambda key: self.application_instances[key]["last_used"],
            )
            self.delete_application_instance(oldest)

    def delete_application_instance(self, scope_id: Hashable) -> None:
        """Remove the instance for ``scope_id`` and cancel its task if it is still running.

        Args:
            scope_id: The instance to remove.

        Raises:
            KeyError: There is no instance for ``scope_id``.
        """
        details = self.application_instances.pop(scope_id)
        self._recency.pop(scope_id, None)
        future = details["future"]
        if not future.done():
            future.cancel()

    async def application_checker(self) -> None:
        """Every ``application_checker_interval`` seconds, clear out finished instances.

        An instance whose task raised is reported to :meth:`application_exception`; one
        that was cancelled is removed silently; every finished instance is removed.

        Raises:
            BaseException: Whatever :meth:`application_exception` raised.
        """
        while True:
            await asyncio.sleep(self.application_checker_interval)
            await self._remove_finished_instances()

    async def _remove_finished_instances(self) -> None:
        for scope_id, details in list(self.application_instances.items()):
            future = details["future"]
            if not future.done():
                continue
            if self.application_instances.get(scope_id) is details:
                self.application_instances.pop(scope_id)
                self._recency.pop(scope_id, None)
            exception = None if future.cancelled() else future.exception()
            if exception is not None:
                await self.application_exception(exception, details)

    async def application_exception(
        self, exception: BaseException, application_details: dict[str, Any]
    ) -> None:
        """Report an exception that ended an application instance.

        The default logs it at ERROR on the ``asgiref.server`` logger, as
        ``"Exception inside application: <exception>"`` with its traceback.  Override
        it to do more; the instance has already been removed when this runs.

        Args:
            exception: The exception the instance's task raised.
            application_details: The instance's details dict (see
                ``application_instances``).
        """
        logger.error("Exception inside application: %s", exception, exc_info=exception)


async def _stop(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` if it is still running, and wait until it has finished.

    Its outcome is marked as retrieved: the caller reports the primary one.
    """
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
    if not task.cancelled():
        task.exception()
