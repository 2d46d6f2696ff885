"""The project's one model."""

from __future__ import annotations

from django.db import models


class Note(models.Model):
    """A line of text written by a consumer; ``source`` says which one wrote it."""

    text: models.CharField[str, str] = models.CharField(max_length=200)
    source: models.CharField[str, str] = models.CharField(max_length=20)

    class Meta:
        app_label = "notes"
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.source}: {self.text}"
