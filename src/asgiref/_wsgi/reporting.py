"""What ``WsgiToAsgi`` logs, and what it leaves to the ASGI server: one error, one traceback.

An exception of the WSGI application that the ASGI call raises reaches the server,
and every server logs it with a traceback (uvicorn "Exception in ASGI application",
hypercorn, daphne "Exception inside application") and answers ``500`` or ends the
connection.  The adapter therefore does **not** log those: the same traceback twice
makes a log harder to read and alerts count double.  It logs, on the
``asgiref.wsgi`` logger, only what no server ever sees (docs/wsgi.rst, "Errors and
logging"):

* an exception from the iterable's ``close()`` (ERROR): ``close()`` runs after the
  response is complete (D1), so it must not turn a delivered response into a failed
  call;
* an exception of the application after its ASGI call was cancelled (ERROR): nobody
  is left to raise it to;
* :class:`~asgiref.wsgi.ClientDisconnected` escaping the application after the client
  left (DEBUG): the call returns normally.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from asgiref._wsgi.errors import ClientDisconnected
from asgiref._wsgi.response_window import Link, LinkState

__all__ = ["close_failed", "logger", "lost", "outcome"]

#: The adapter's logger (``asgiref.wsgi``).
logger = logging.getLogger("asgiref.wsgi")


def _request(scope: Mapping[str, Any]) -> str:
    return f"{scope.get('method')} {scope.get('path')!r}"


def close_failed(
    error: BaseException, scope: Mapping[str, Any], app_error: BaseException | None
) -> None:
    """Log an exception raised by the response iterable's ``close()``.

    Runs in: the request's WSGI worker thread.
    """
    logger.error(
        "Exception in close() of the WSGI response iterable for %s (%s)",
        _request(scope),
        "after the application's own exception, which is raised to the server"
        if app_error is not None
        else "the response was already complete",
        exc_info=error,
    )


def lost(error: BaseException | None, scope: Mapping[str, Any]) -> None:
    """Log the application's exception if its ASGI call was cancelled meanwhile.

    Runs in: the request's WSGI worker thread, after the final hand-off.
    """
    if error is None or isinstance(error, ClientDisconnected):
        return  # ClientDisconnected: raised by the adapter because of the cancellation
    logger.error(
        "Exception inside WSGI application for %s after its ASGI call was cancelled",
        _request(scope),
        exc_info=error,
    )


def outcome(error: BaseException | None, link: Link) -> None:
    """End the ASGI call: return, or raise ``error`` to the server (unlogged).

    Runs in: the ASGI task.
    """
    __traceback_hide__ = True
    if error is None:
        return
    if isinstance(error, ClientDisconnected) and link.state is LinkState.DISCONNECTED:
        logger.debug("WSGI application stopped: the client disconnected", exc_info=error)
        return
    raise error  # the server logs it once, and answers 500 or ends the connection
