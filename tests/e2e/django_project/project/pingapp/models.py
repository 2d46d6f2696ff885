"""The one model of the end-to-end project."""

from __future__ import annotations

from django.db import models


class Thing(models.Model):
    """A named row; every request creates one with a unique name and reads it back."""

    name: models.CharField[str, str] = models.CharField(max_length=100, db_index=True)

    def __str__(self) -> str:
        """Return the name."""
        return str(self.name)
