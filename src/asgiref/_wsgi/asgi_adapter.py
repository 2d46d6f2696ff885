"""``AsgiToWsgi``: serve an ASGI application from a WSGI server.

One WSGI call (:meth:`AsgiToWsgi.__call__`, on the server's request thread):

1. take this process's loop (:mod:`.asgi_loop`, started lazily, fresh after a fork) and
   wait for this process's lifespan startup (:mod:`.asgi_lifespan`);
2. build the scope (:mod:`.asgi_scope`) and an :class:`~.asgi_exchange.Exchange`, and
   start the application's task on the loop;
3. wait for ``http.response.start`` (serving body reads meanwhile), call
   ``start_response`` and return a :class:`ResponseBody` iterable that yields body
   chunks as the application sends them; its ``close()`` is the disconnect signal.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Final, Literal
from wsgiref.types import StartResponse, WSGIEnvironment

from asgiref import _threads
from asgiref._wsgi.asgi_exchange import Ended, Exchange, Last, Start
from asgiref._wsgi.asgi_lifespan import Lifespan, LifespanFailed, LifespanMode
from asgiref._wsgi.asgi_loop import LoopThread, process_loop, start_lock
from asgiref._wsgi.asgi_scope import build_scope, request_body_length

__all__ = ["AsgiToWsgi", "ResponseBody"]

logger = logging.getLogger("asgiref.wsgi")

_MODES: Final = ("auto", "on", "off")


def _plain(status: str, text: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = text.encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    return status, headers, body


_ERROR_500: Final = _plain("500 Internal Server Error", "Internal Server Error")
_ERROR_504: Final = _plain("504 Gateway Timeout", "Gateway Timeout")


class AsgiToWsgi:
    """Wrap an ASGI 3 application as a PEP 3333 (WSGI) application.

    Args:
        application: The ASGI 3 application (``async def app(scope, receive, send)``).
        lifespan: ``"auto"`` (the default) runs the application's lifespan startup once
            per process before its first request and its shutdown at process exit,
            treating an application that raises on the lifespan scope before sending
            anything as one without lifespan; ``"on"`` counts that as a failed startup;
            ``"off"`` never sends a lifespan scope.
        startup_timeout: Seconds the lifespan startup may take; longer is a failure.
        shutdown_timeout: Seconds the lifespan shutdown may take at process exit.
        response_timeout: Seconds a request may wait for ``http.response.start``
            before it gets a ``504``; ``None`` waits forever.

    Raises:
        ValueError: ``lifespan`` is not one of ``"auto"``, ``"on"``, ``"off"``, or a
            timeout is negative.

    Runs in: the WSGI server's request threads; the application runs on one event loop
    per process, in a daemon thread started on the first request.
    """

    def __init__(
        self,
        application: Callable[[Any, Any, Any], Awaitable[None]],
        *,
        lifespan: Literal["auto", "on", "off"] = "auto",
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 10.0,
        response_timeout: float | None = None,
    ) -> None:
        if lifespan not in _MODES:
            raise ValueError(f"AsgiToWsgi lifespan must be 'auto', 'on' or 'off', not {lifespan!r}")
        for name, value in (
            ("startup_timeout", startup_timeout),
            ("shutdown_timeout", shutdown_timeout),
            ("response_timeout", response_timeout),
        ):
            if value is not None and value < 0:
                raise ValueError(f"AsgiToWsgi {name} must not be negative, not {value!r}")
        self.application = application
        self.lifespan: LifespanMode = lifespan
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self.response_timeout = response_timeout
        self._lifespan: Lifespan | None = None  # this process's session (checked by generation)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one WSGI request with the ASGI application.

        Runs in: the WSGI server's request thread (which owns ``wsgi.input``).
        """
        runner = process_loop()
        try:
            state = self._lifespan_state(runner) if self.lifespan != "off" else None
        except LifespanFailed:
            return _respond(start_response, _ERROR_500)
        try:
            scope = build_scope(environ, state)
            exchange = Exchange(runner.loop, environ["wsgi.input"], request_body_length(environ))
        except Exception:
            logger.exception("AsgiToWsgi could not build the ASGI scope of a request")
            return _respond(start_response, _ERROR_500)
        runner.loop.call_soon_threadsafe(exchange.start, self.application, scope)
        return self._wait_for_start(exchange, start_response)

    def _wait_for_start(self, exchange: Exchange, start_response: StartResponse) -> Iterable[bytes]:
        """Wait for ``http.response.start`` and start the WSGI response (or a 500/504)."""
        try:
            item = exchange.take(self.response_timeout)
        except queue.Empty:
            exchange.close(cancel_now=True)
            logger.error(
                "ASGI application did not start its response within %s s; sent a 504",
                self.response_timeout,
            )
            return _respond(start_response, _ERROR_504)
        if type(item) is not Start:
            exchange.close()
            assert type(item) is Ended  # only bytes/Last could follow a Start
            _log_no_start(item.error)
            return _respond(start_response, _ERROR_500)
        start_response(item.status, item.headers)
        body = exchange.peek_last()
        if body is not None:  # the whole body is already here: no iterator needed
            exchange.close()
            return (body,)
        return ResponseBody(exchange)

    def _lifespan_state(self, runner: LoopThread) -> dict[str, Any] | None:
        """Return this process's lifespan state, running the startup on first use.

        Raises:
            LifespanFailed: The startup of this process failed or timed out.
        """
        session = self._lifespan
        if session is None or session.generation != _threads.generation():
            session = self._new_lifespan(runner)
        return session.wait()

    def _new_lifespan(self, runner: LoopThread) -> Lifespan:
        with start_lock():
            session = self._lifespan
            if session is None or session.generation != _threads.generation():
                session = self._lifespan = Lifespan(
                    self.application,
                    self.lifespan,
                    self.startup_timeout,
                    self.shutdown_timeout,
                    runner,
                )
                runner.add_exit_callback(session.shutdown)
            return session


class ResponseBody:
    """The WSGI iterable of a streamed response: body chunks as the application sends them.

    ``close()`` before the last chunk means the client went away (see
    :meth:`~.asgi_exchange.Exchange.close`).

    Runs in: the WSGI server's request thread.
    """

    __slots__ = ("_exchange", "_finished")

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._finished:
            raise StopIteration
        item = self._exchange.take()
        if type(item) is bytes:
            return item
        self._finished = True
        if type(item) is Last:
            self._exchange.complete = True
            return item.body
        assert type(item) is Ended  # the application finished without the last chunk
        error = item.error
        if error is None:
            message = "ASGI application returned without finishing its response body"
            logger.error("%s; the response is cut short", message)
            raise RuntimeError(message)
        logger.error("ASGI application raised after starting its response", exc_info=error)
        raise RuntimeError("ASGI application raised after starting its response") from error

    def close(self) -> None:
        """Stop the response; before the last chunk this is a client disconnect."""
        self._exchange.close()


def _respond(
    start_response: StartResponse, response: tuple[str, list[tuple[str, str]], bytes]
) -> Iterable[bytes]:
    status, headers, body = response
    start_response(status, list(headers))
    return (body,)


def _log_no_start(error: BaseException | None) -> None:
    if error is None:
        logger.error("ASGI application returned without sending http.response.start; sent a 500")
    else:
        logger.error("ASGI application raised before starting its response", exc_info=error)
