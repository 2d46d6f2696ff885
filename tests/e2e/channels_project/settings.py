"""Settings of the Channels test project, applied in-process with :func:`configure`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings

__all__ = ["configure", "project_settings"]


def project_settings(database: Path) -> dict[str, Any]:
    """Return the project's settings with the SQLite file at ``database``."""
    return {
        "SECRET_KEY": "e2e-tests-only-this-is-not-a-secret",
        "DEBUG": False,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "testserver"],
        "INSTALLED_APPS": ["channels", "e2e.channels_project.apps.NotesConfig"],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        "CHANNEL_LAYERS": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        "ASGI_APPLICATION": "e2e.channels_project.routing.application",
        "USE_TZ": True,
        "USE_I18N": False,
    }


def configure(database: Path) -> None:
    """Configure Django for this project (once per process) and create the schema.

    Raises:
        RuntimeError: Django was already configured for something else in this process.
    """
    if not settings.configured:
        settings.configure(**project_settings(database))
        django.setup()
    elif not apps.is_installed("e2e.channels_project"):
        raise RuntimeError("Django is already configured in this process without the test app")
    from django.db import connection

    from .models import Note

    with connection.schema_editor() as editor:
        if Note._meta.db_table not in connection.introspection.table_names():
            editor.create_model(Note)
    connection.close()
