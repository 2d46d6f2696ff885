"""Testing ASGI applications without a server.

:class:`ApplicationCommunicator` runs one application instance and lets a test send it
events and read what it sends back.
"""

from __future__ import annotations

from asgiref._testing import ApplicationCommunicator

__all__ = ["ApplicationCommunicator"]
