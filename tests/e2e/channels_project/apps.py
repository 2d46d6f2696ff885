"""The Django app config of the Channels test project."""

from __future__ import annotations

from django.apps import AppConfig


class NotesConfig(AppConfig):
    """The ``notes`` app: one model, consumers in :mod:`e2e.channels_project.consumers`."""

    name = "e2e.channels_project"
    label = "notes"
    default_auto_field = "django.db.models.BigAutoField"
