"""``WsgiToAsgi`` and ``WsgiToAsgiInstance``: the ASGI side of the WSGI adapter.

Per HTTP request, the ASGI task (the coroutine a server awaits):

1. receives the first ``http.request`` message and builds the environ;
2. submits **one job** to the worker pool: that job runs the application, the
   iteration and ``close()`` in a copy of the caller's context;
3. sends the messages the job hands back (:meth:`Link.serve`) until the job's
   final hand-off, then copies context changes back and returns or raises.

Request body reads and ``http.disconnect`` detection go through
:mod:`asgiref._wsgi_input`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import Context
from functools import partial
from typing import Any, Final
from wsgiref.types import StartResponse, WSGIApplication

from asgiref._context import adopt, capture, write_back
from asgiref._wsgi_environ import build_environ
from asgiref._wsgi_errors import ClientDisconnected, DuplicateHeadersError
from asgiref._wsgi_input import InputPipe, WsgiInput, pump
from asgiref._wsgi_link import Link, LinkState, Message
from asgiref._wsgi_parent import ParentLoop, enter, leave
from asgiref._wsgi_pool import WorkerPool, default_pool
from asgiref._wsgi_response import ExcInfo, Response

__all__ = ["WsgiToAsgi", "WsgiToAsgiInstance", "logger"]

#: Logger for application errors (``asgiref.wsgi``).
logger = logging.getLogger("asgiref.wsgi")

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
        self._pool = None if max_workers is None else WorkerPool(max_workers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (``http`` or ``lifespan``).

        Runs in: the event loop; the application runs on a worker thread.
        """
        __traceback_hide__ = True
        instance = WsgiToAsgiInstance(self.wsgi_application, self.duplicate_header_limit)
        instance._pool = self._pool
        await instance(scope, receive, send)


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
        self._pool: WorkerPool | None = None  # None: the process-wide pool
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
        await _Exchange(self, scope, receive, send).run(first)

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


class _Exchange:
    """The loop side of one HTTP request.  Runs in: the ASGI task (event loop)."""

    def __init__(
        self, instance: WsgiToAsgiInstance, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self._instance = instance
        self._scope = scope
        self._receive = receive
        self._send = send
        self._loop = asyncio.get_running_loop()
        self._link = Link(self._loop, self._start_pump)
        self._pipe: InputPipe | None = None
        self._pump: asyncio.Task[None] | None = None
        self._over = False

    async def run(self, first: Mapping[str, Any]) -> None:
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
            environ = instance.build_environ(self._scope, WsgiInput(pipe))
        except DuplicateHeadersError:
            for message in _BAD_REQUEST:
                await self._send(message)
            return
        extensions = self._scope.get("extensions") or {}
        response = instance._response = Response(link, "http.response.pathsend" in extensions)
        ctx, parent = self._submit(environ, response)
        try:
            error = await link.serve(self._send)
        except BaseException:
            link.cancel()
            pipe.fail(ClientDisconnected("the ASGI call was cancelled"))
            parent.cancel_inner()
            raise
        finally:
            self._over = True
            if self._pump is not None:
                self._pump.cancel()
        write_back(ctx)
        if error is not None:
            _report(error, link, response.start_sent)

    def _submit(self, environ: dict[str, Any], response: Response) -> tuple[Context, ParentLoop]:
        """Queue the request's job on the pool; return its context and parent marker."""
        instance = self._instance
        ctx = capture()
        parent = ParentLoop(self._loop)
        job = partial(
            _work,
            ctx,
            instance.wsgi_application,
            environ,
            instance.start_response,
            response,
            self._link,
            parent,
        )
        (instance._pool or default_pool()).submit(job)
        return ctx, parent

    def _start_pump(self) -> None:
        """Start reading the body / watching for disconnect.  Runs in: the loop."""
        if self._pump is None and not self._over:
            assert self._pipe is not None
            self._pump = self._loop.create_task(pump(self._receive, self._pipe, self._link))


def _work(
    ctx: Context,
    app: WSGIApplication,
    environ: dict[str, Any],
    start_response: StartResponse,
    response: Response,
    link: Link,
    parent: ParentLoop,
) -> None:
    """One request's whole life on the worker.  Runs in: a pool thread."""
    __traceback_hide__ = True
    try:
        messages, error = ctx.run(_run_app, app, environ, start_response, response, link, parent)
    except BaseException as exc:  # pragma: no cover - _run_app catches everything itself
        messages, error = [], exc  # (kept so that the ASGI task can never wait forever)
    link.finish(messages, error)


def _run_app(
    app: WSGIApplication,
    environ: dict[str, Any],
    start_response: StartResponse,
    response: Response,
    link: Link,
    parent: ParentLoop,
) -> tuple[list[Message], BaseException | None]:
    """Call the application and consume its iterable.  Runs in: a pool thread, in ctx."""
    __traceback_hide__ = True
    adopt()  # a copy: its home never travels back, nothing to restore
    if link.state is LinkState.CANCELLED:
        return [], None
    previous = enter(parent)
    try:
        try:
            result: Iterable[bytes] = app(environ, start_response)
        except BaseException as exc:
            return [], exc
        return response.consume(result)
    finally:
        leave(previous)


def _report(error: BaseException, link: Link, started: bool) -> None:
    """Raise ``error`` out of the ASGI call, logging it if it is the application's."""
    __traceback_hide__ = True
    if error is link.send_error:
        raise error  # the server's own exception (e.g. closed connection): not logged
    if isinstance(error, ClientDisconnected) and link.state is LinkState.DISCONNECTED:
        logger.debug("WSGI application stopped: the client disconnected", exc_info=error)
        return
    logger.error(
        "Exception inside WSGI application (%s)",
        "response already started; the connection is ended"
        if started
        else "before the response started; the server answers 500",
        exc_info=error,
    )
    raise error
