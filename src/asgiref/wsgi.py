"""Run a WSGI (PEP 3333) application as an ASGI 3 application.

:class:`WsgiToAsgi` runs each request on a worker thread of a bounded pool, streams
the request body on demand and the response with backpressure, and calls the
iterable's ``close()`` on every path.  :class:`ClientDisconnected` (importable from
here, not in ``__all__``) is the :class:`OSError` the WSGI side sees when the client
goes away.  :class:`AsgiToWsgi` is the other direction: it serves an ASGI
application from a WSGI server (one event loop per process, lifespan once per process,
fork-safe, streaming both ways).  See ``docs/wsgi.rst``.
"""

# ClientDisconnected and DuplicateHeadersError are importable and documented, but not
# in ``__all__``, which lists exactly asgiref's public names.
from asgiref._wsgi.adapter import WsgiToAsgi, WsgiToAsgiInstance
from asgiref._wsgi.asgi_adapter import AsgiToWsgi
from asgiref._wsgi.errors import ClientDisconnected as ClientDisconnected
from asgiref._wsgi.errors import DuplicateHeadersError as DuplicateHeadersError

__all__ = ["AsgiToWsgi", "WsgiToAsgi", "WsgiToAsgiInstance"]
