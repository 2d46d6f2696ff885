"""The project's consumers: two for the worker, one HTTP, two WebSocket.

Channels ships no type information, so its base classes are ``Any`` to mypy; each
subclass line says so with a targeted ignore.
"""

from __future__ import annotations

import json
from typing import Any

from channels.consumer import AsyncConsumer, SyncConsumer  # type: ignore[import-untyped]
from channels.db import database_sync_to_async  # type: ignore[import-untyped]
from channels.generic.http import AsyncHttpConsumer  # type: ignore[import-untyped]
from channels.generic.websocket import (  # type: ignore[import-untyped]
    AsyncJsonWebsocketConsumer,
    JsonWebsocketConsumer,
)

from asgiref.sync import async_to_sync

from .models import Note

__all__ = [
    "NoteWorkerConsumer",
    "NotesAsyncWebsocketConsumer",
    "NotesHttpConsumer",
    "NotesSyncWebsocketConsumer",
    "ShoutWorkerConsumer",
]


class NoteWorkerConsumer(SyncConsumer):  # type: ignore[misc]  # channels is untyped
    """Worker consumer (sync, runs under ``database_sync_to_async``).

    ``notes.create``: store a note, answer ``notes.created`` on ``reply_channel``.
    ``notes.explode``: raise, so the instance dies and the worker logs it.
    """

    def notes_create(self, message: dict[str, Any]) -> None:
        note = Note.objects.create(text=message["text"], source="worker")
        reply = {"type": "notes.created", "id": note.pk, "text": note.text}
        async_to_sync(self.channel_layer.send)(message["reply_channel"], reply)

    def notes_explode(self, message: dict[str, Any]) -> None:
        raise RuntimeError(f"notes.explode asked for it: {message['text']}")


class ShoutWorkerConsumer(AsyncConsumer):  # type: ignore[misc]  # channels is untyped
    """Worker consumer (async): ``text.shout`` answers the upper-cased text and the note count."""

    async def text_shout(self, message: dict[str, Any]) -> None:
        count = await self.count_notes()
        reply = {"type": "text.shouted", "text": message["text"].upper(), "notes": count}
        await self.channel_layer.send(message["reply_channel"], reply)

    @database_sync_to_async  # type: ignore[untyped-decorator]  # channels is untyped
    def count_notes(self) -> int:
        return Note.objects.count()


class NotesHttpConsumer(AsyncHttpConsumer):  # type: ignore[misc]  # channels is untyped
    """``POST /notes/`` stores the body as a note; ``GET /notes/`` lists all notes as JSON."""

    async def handle(self, body: bytes) -> None:
        if self.scope["method"] == "POST":
            note_id = await self.create_note(body.decode())
            payload: object = {"id": note_id}
            status = 201
        else:
            payload = await self.list_notes()
            status = 200
        headers = [(b"content-type", b"application/json")]
        await self.send_response(status, json.dumps(payload).encode(), headers=headers)

    @database_sync_to_async  # type: ignore[untyped-decorator]  # channels is untyped
    def create_note(self, text: str) -> int:
        note = Note.objects.create(text=text, source="http")
        note_id: int = note.pk
        return note_id

    @database_sync_to_async  # type: ignore[untyped-decorator]  # channels is untyped
    def list_notes(self) -> list[dict[str, str]]:
        return [{"text": note.text, "source": note.source} for note in Note.objects.all()]


class NotesAsyncWebsocketConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # untyped
    """Each JSON frame ``{"text": ...}`` is stored; the answer is ``{"saved": id, "total": n}``."""

    async def connect(self) -> None:
        await self.accept()

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        note_id, total = await self.save(content["text"])
        await self.send_json({"saved": note_id, "total": total})

    @database_sync_to_async  # type: ignore[untyped-decorator]  # channels is untyped
    def save(self, text: str) -> tuple[int, int]:
        note = Note.objects.create(text=text, source="ws-async")
        return note.pk, Note.objects.count()


class NotesSyncWebsocketConsumer(JsonWebsocketConsumer):  # type: ignore[misc]  # untyped
    """The sync twin: handlers run in a thread; ``send_json`` goes out via ``async_to_sync``."""

    def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        note = Note.objects.create(text=content["text"], source="ws-sync")
        self.send_json({"saved": note.pk, "total": Note.objects.count()})
