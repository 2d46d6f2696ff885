"""``WsgiToAsgi`` and ``WsgiToAsgiInstance``: serve a WSGI application over ASGI.

One HTTP request is one :class:`_Request`; both halves of its hand-off live there:

1. the ASGI task (the coroutine a server awaits, on the event loop) receives the first
   ``http.request`` message, builds the environ and submits the request's **one job**
   (:meth:`_Request.work`) to a bounded worker pool (:mod:`asgiref._threads`);
2. the job (a pool thread) runs the application, the iteration and ``close()`` in a
   copy of the caller's context, with the server's loop as the thread's *parent loop*
   (:class:`ParentLoop`), handing messages over through the request's
   :class:`~asgiref._wsgi.response_window.Link`;
3. the ASGI task sends those messages (:meth:`Link.serve`) until the job's final
   hand-off, then copies context changes back and returns or raises.

Request body reads and ``http.disconnect`` detection go through
:mod:`asgiref._wsgi.request_body`; the response side through
:mod:`asgiref._wsgi.response`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import Context
from typing import Any, Final
from wsgiref.types import WSGIApplication

from asgiref import _threads
from asgiref._local_home import adopt, capture, write_back
from asgiref._state import THREAD
from asgiref._wsgi import reporting
from asgiref._wsgi.environ import build_environ
from asgiref._wsgi.errors import ClientDisconnected, DuplicateHeadersError
from asgiref._wsgi.reporting import logger
from asgiref._wsgi.request_body import DRAIN_LIMIT, InputPipe, WsgiInput, pump
from asgiref._wsgi.response import ExcInfo, Response
from asgiref._wsgi.response_window import Link, LinkState, Message

__all__ = ["ParentLoop", "WsgiToAsgi", "WsgiToAsgiInstance", "logger"]

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[Any]]

_NON_HTTP_SCOPE: Final = "WSGI wrapper received a non-HTTP scope"
_NON_REQUEST: Final = "WSGI wrapper received a non-HTTP-request message"
_BAD_REQUEST: Final[tuple[Message, Message]] = (
    {"type": "http.response.start", "status": 400, "headers": [(b"content-type", b"text/plain")]},
    {"type": "http.response.body", "body": b"Bad Request: Too many duplicate headers"},
)


class WsgiToAsgi:
    """Wrap a WSGI application as an ASGI 3 application.

    Args:
        wsgi_application: The PEP 3333 application.
        duplicate_header_limit: Most values one environ key may collect from repeated
            request headers; more gives a ``400``.  ``None`` or ``0`` disables it.
        max_workers: Size of a worker-thread pool owned by this adapter.  ``None``
            (the default) shares one process-wide pool of 40 threads.  Threads start
            on demand and exit after 10 idle seconds.

    Raises:
        ValueError: ``max_workers`` is smaller than 1.
    """

    def __init__(
        self,
        wsgi_application: WSGIApplication,
        duplicate_header_limit: int | None = 100,
        *,
        max_workers: int | None = None,
    ) -> None:
        self.wsgi_application = wsgi_application
        self.duplicate_header_limit = duplicate_header_limit
        self._pool = (
            None
            if max_workers is None
            else _threads.WorkerPool("asgiref-wsgi", max_workers=max_workers)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (``http`` or ``lifespan``).

        Runs in: the event loop; the application runs on a worker thread.
        """
        __traceback_hide__ = True
        instance = WsgiToAsgiInstance(self.wsgi_application, self.duplicate_header_limit)
        await instance._serve(scope, receive, send, self._pool or _threads.wsgi_pool())


class WsgiToAsgiInstance:
    """One request (or lifespan session) of a :class:`WsgiToAsgi` adapter.

    Args:
        wsgi_application: The PEP 3333 application.
        duplicate_header_limit: As for :class:`WsgiToAsgi`.
    """

    def __init__(
        self, wsgi_application: WSGIApplication, duplicate_header_limit: int | None = 100
    ) -> None:
        self.wsgi_application = wsgi_application
        self.duplicate_header_limit = duplicate_header_limit
        self._response: Response | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the connection described by ``scope``.

        Raises:
            ValueError: ``scope`` is neither ``http`` nor ``lifespan``, or the first
                message is neither ``http.request`` nor ``http.disconnect``.
            BaseException: Whatever the application raised (after ``close()``), or
                what ``send()`` raised.

        Runs in: the event loop.

        Cancellation: returns at once; the worker thread stops at its next
        ``send``/``write``/input read (which raises :class:`ClientDisconnected`)
        and then calls ``close()``.
        """
        __traceback_hide__ = True
        await self._serve(scope, receive, send, _threads.wsgi_pool())

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, pool: _threads.WorkerPool
    ) -> None:
        """:meth:`__call__`, running the request on ``pool``.  Runs in: the event loop."""
        __traceback_hide__ = True
        self.scope = scope
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await _answer_lifespan(receive, send)
                return
            raise ValueError(f"{_NON_HTTP_SCOPE}; got {kind!r}")
        first = await receive()
        kind = first.get("type")
        if kind == "http.disconnect":
            return
        if kind != "http.request":
            raise ValueError(f"{_NON_REQUEST}; got {kind!r}")
        await _Request(self, scope, receive, send).serve(first, pool)

    def build_environ(self, scope: Scope, body: Any) -> dict[str, Any]:
        """Return the WSGI environ for ``scope``, with ``body`` as ``wsgi.input``.

        Pure: it can be called without running an application, and subclasses may
        override it to add keys.

        Raises:
            DuplicateHeadersError: A header repeats more than the limit allows (a
                :class:`ValueError`).
        """
        return build_environ(scope, body, self.duplicate_header_limit)

    def start_response(
        self,
        status: str,
        response_headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        """PEP 3333 ``start_response`` for the running request; returns ``write``.

        Raises:
            ValueError: A second call without ``exc_info``.
            RuntimeError: No request is running on this instance.

        Runs in: the request's WSGI worker thread.
        """
        response = self._response
        if response is None:
            raise RuntimeError("start_response() called while no request is running")
        return response.start_response(status, response_headers, exc_info)


async def _answer_lifespan(receive: Receive, send: Send) -> None:
    """Complete startup and shutdown: a WSGI application has nothing to run."""
    while True:
        kind = (await receive()).get("type")
        if kind == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif kind == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
        else:
            return


class ParentLoop:
    """The server loop as the *parent loop* of one request's worker thread.

    asgiref 3.13 ran WSGI applications inside ``sync_to_async``, so ``async_to_sync``
    called by the application ran its coroutine as a task on the server's loop
    ([loop-parent]), next to the loop-bound resources it may use (a Channels
    layer, a connection pool).  Our worker threads are not ``sync_to_async`` workers,
    so while a request runs its thread carries this marker in the bridges'
    per-thread state (``THREAD.call``, typed by ``asgiref._state.ParentCall``).

    Guarantees: the marker is set only while the worker runs the request (application
    call, iteration, ``close()``) and the previous value is restored afterwards; a
    loop that stopped, or a process forked since, is never used.

    Args:
        loop: The event loop running the request's ASGI task.
    """

    __slots__ = ("generation", "inner_task", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.inner_task: asyncio.Task[Any] | None = None  # written by the async_to_sync bridge
        self.generation = _threads.generation()

    def cancel_inner(self) -> None:
        """Cancel the ``async_to_sync`` task the worker is blocked on, if any.

        The worker's ``async_to_sync`` call then raises ``CancelledError`` at once,
        instead of keeping the thread until the coroutine ends.

        Runs in: the loop thread, when the request's ASGI call is cancelled.
        """
        if self.inner_task is not None:
            self.inner_task.cancel()

    def running_on_parent(self) -> bool:
        """Whether ``async_to_sync`` may run its coroutine on :attr:`loop` now.

        Runs in: the request's worker thread.
        """
        return self.generation == _threads.generation() and self.loop.is_running()


class _Request:
    """One HTTP request: the loop side and the worker side of its hand-off."""

    def __init__(
        self, instance: WsgiToAsgiInstance, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self._instance = instance
        self._scope = scope
        self._receive = receive
        self._send = send
        self._loop = asyncio.get_running_loop()
        self._link = Link(self._loop, self._start_pump, self._drain)
        self._parent = ParentLoop(self._loop)
        self._ctx = Context()  # replaced by the caller's context just before submitting
        self._pipe: InputPipe | None = None
        self._pump: asyncio.Task[None] | None = None
        self._over = False
        # Set by serve() before the job is submitted; read by the worker.
        self._environ: dict[str, Any] = {}
        self._response: Response | None = None

    # -- loop side ----------------------------------------------------------------------

    async def serve(self, first: Mapping[str, Any], pool: _threads.WorkerPool) -> None:
        """Run the request on ``pool`` and send its response.  Runs in: the ASGI task."""
        __traceback_hide__ = True
        instance, link = self._instance, self._link
        body = first.get("body", b"")
        self._pipe = pipe = InputPipe(
            self._loop,
            body if type(body) is bytes else bytes(body),
            bool(first.get("more_body", False)),
            self._start_pump,
        )
        try:
            self._environ = instance.build_environ(self._scope, WsgiInput(pipe))
        except DuplicateHeadersError:
            for message in _BAD_REQUEST:
                await self._send(message)
            return
        extensions = self._scope.get("extensions") or {}
        self._response = Response(link, "http.response.pathsend" in extensions, self._scope)
        instance._response = self._response
        self._ctx = capture()
        pool.run(self.work)
        try:
            error = await link.serve(self._send)
        except BaseException:
            link.cancel()
            pipe.fail(ClientDisconnected("the ASGI call was cancelled"))
            self._parent.cancel_inner()
            raise
        finally:
            self._over = True
            if self._pump is not None:
                self._pump.cancel()
        write_back(self._ctx)
        reporting.outcome(error, link)

    def _start_pump(self) -> None:
        """Start reading the body / watching for disconnect.  Runs in: the loop."""
        if self._pump is None and not self._over:
            assert self._pipe is not None
            self._pump = self._loop.create_task(pump(self._receive, self._pipe, self._link))

    def _drain(self) -> asyncio.Future[None] | None:
        """Start discarding an unread request body before the response ends (D42).

        HTTP/1.1 servers such as hypercorn can read the next request on a keep-alive
        connection only after this one's body; an application that answered without
        reading it would otherwise lose a pipelined request.  At most
        ``DRAIN_LIMIT`` bytes are discarded; beyond that the response ends anyway and
        the server closes the connection.

        Returns:
            A future done when the body ended, the client left or the limit was
            reached; ``None`` if the body is complete.

        Runs in: the loop, before the response's last message is sent.
        """
        pipe = self._pipe
        assert pipe is not None
        if pipe.eof:
            return None
        done = pipe.discard(DRAIN_LIMIT)
        if done is not None:
            self._start_pump()
        return done

    # -- worker side --------------------------------------------------------------------

    def work(self) -> None:
        """The request's whole life on the worker.  Runs in: a pool thread.  Never raises."""
        __traceback_hide__ = True
        try:
            self._ctx.run(self._run_app)
        except BaseException as exc:  # pragma: no cover - _run_app catches everything itself
            self._link.finish([], exc)  # (kept so that the ASGI task can never wait forever)

    def _run_app(self) -> None:
        """Call the application, consume and close its iterable, hand everything over.

        Runs in: a pool thread, in the request's context.
        """
        __traceback_hide__ = True
        adopt()  # a copy: its home never travels back, nothing to restore
        link = self._link
        if link.state is LinkState.CANCELLED:
            link.finish([], None)
            return
        response = self._response
        assert response is not None
        thread = THREAD
        previous, thread.call = thread.call, self._parent
        try:
            try:
                app = self._instance.wsgi_application
                result: Iterable[bytes] = app(self._environ, self._instance.start_response)
            except BaseException as exc:
                response.ended = True
                link.finish([], exc)
                if self._link.state is LinkState.CANCELLED:  # re-read: the loop may cancel
                    reporting.lost(exc, self._scope)
                return
            response.end(result)
        finally:
            thread.call = previous
