"""Testing ASGI applications without a server.

:class:`ApplicationCommunicator` runs one application instance and lets a test send it
events and read what it sends back; ``ApplicationCommunicator(app, scope, validate=True)``
also checks both sides against the ASGI specs.  :class:`LifespanManager` runs an
application's lifespan startup and shutdown around a block of test code.
"""

from __future__ import annotations

from asgiref._lifespan_manager import (
    LifespanError,
    LifespanManager,
    LifespanNotSupported,
    LifespanShutdownFailed,
    LifespanStartupFailed,
    LifespanTimeout,
)
from asgiref._testing import ApplicationCommunicator

__all__ = [
    "ApplicationCommunicator",
    "LifespanError",
    "LifespanManager",
    "LifespanNotSupported",
    "LifespanShutdownFailed",
    "LifespanStartupFailed",
    "LifespanTimeout",
]
