"""Deprecated: a timeout context manager.  Use :func:`asyncio.timeout` instead.

:class:`timeout` is kept for code written against asgiref 3.13; constructing it emits a
:class:`DeprecationWarning`.
"""

from __future__ import annotations

from asgiref._timeout import timeout

__all__ = ["timeout"]
