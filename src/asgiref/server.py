"""A base class for servers that run ASGI applications without per-connection sockets.

:class:`StatelessServer` runs one application instance per ``scope_id`` (for example
per channel or per chat user), caps how many are alive, evicts the least recently used
one first, and reports crashed instances.  The module attribute ``logger`` is the
``logging.getLogger("asgiref.server")`` logger it writes to.
"""

from __future__ import annotations

from asgiref._server import StatelessServer
from asgiref._server import logger as logger  # a module attribute, not in __all__

__all__ = ["StatelessServer"]
