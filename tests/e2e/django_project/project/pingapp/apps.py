"""App configuration of ``pingapp``."""

from __future__ import annotations

from django.apps import AppConfig


class PingappConfig(AppConfig):
    """The ``pingapp`` app, installed as ``project.pingapp`` with label ``pingapp``."""

    name = "project.pingapp"
    label = "pingapp"
    default_auto_field = "django.db.models.BigAutoField"
