"""Exceptions of the WSGI adapter (:mod:`asgiref.wsgi`)."""

from __future__ import annotations

__all__ = ["ClientDisconnected", "DuplicateHeadersError"]


class ClientDisconnected(OSError):
    """The HTTP client went away, or the ASGI call serving it was cancelled.

    Raised on the WSGI worker thread:

    * by ``environ["wsgi.input"]`` reads when the client disconnects before the
      request body is complete (Django turns any :class:`OSError` into
      ``UnreadablePostError``);
    * by the ``write()`` callable returned from ``start_response`` when the client
      disconnected during the response;
    * by the next ``write()``, ``wsgi.input`` read or response send after the ASGI call
      was cancelled.

    It is an :class:`OSError` subclass, as ASGI 2.4 servers use for a closed
    connection, so code that already handles broken connections handles it too.
    Import it from :mod:`asgiref.wsgi`.
    """


class DuplicateHeadersError(ValueError):
    """A request header name occurs more often than the duplicate-header limit allows.

    Raised by ``WsgiToAsgiInstance.build_environ``; the adapter answers it with a
    ``400 Bad Request`` response and does not call the WSGI application.
    """
