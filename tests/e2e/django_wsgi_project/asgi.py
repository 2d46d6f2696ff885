"""ASGI entry points: Django's ``get_wsgi_application()`` behind :class:`~asgiref.wsgi.WsgiToAsgi`.

* :data:`application`: the adapter with the server's own scope extensions;
* :data:`application_pathsend`: the same, behind a layer that offers
  ``http.response.pathsend`` (as granian does), so the adapter's pathsend path runs
  under every server.

Both record what went out (see :mod:`.transport`).
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from asgiref.wsgi import WsgiToAsgi

from .transport import TransportRecorder

__all__ = ["application", "application_pathsend", "wsgi_application"]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "e2e.django_wsgi_project.settings")

wsgi_application = get_wsgi_application()
"""Django's WSGI application."""

application = TransportRecorder(WsgiToAsgi(wsgi_application))
"""The adapter, with the scope extensions the server offers."""

application_pathsend = TransportRecorder(WsgiToAsgi(wsgi_application), offer_pathsend=True)
"""The adapter behind a layer that offers ``http.response.pathsend``."""
