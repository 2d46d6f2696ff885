"""The project's ASGI application (``ASGI_APPLICATION``): HTTP, WebSocket and worker channels."""

from __future__ import annotations

from channels.routing import (  # type: ignore[import-untyped]
    ChannelNameRouter,
    ProtocolTypeRouter,
    URLRouter,
)
from django.urls import path

from .consumers import (
    NotesAsyncWebsocketConsumer,
    NotesHttpConsumer,
    NotesSyncWebsocketConsumer,
    NoteWorkerConsumer,
    ShoutWorkerConsumer,
)

__all__ = ["WORKER_CHANNELS", "application"]

#: The channels a ``runworker``-style Worker listens on.
WORKER_CHANNELS = ("notes-worker", "shout-worker")

application = ProtocolTypeRouter(
    {
        "http": URLRouter([path("notes/", NotesHttpConsumer.as_asgi())]),
        "websocket": URLRouter(
            [
                path("ws/notes/", NotesAsyncWebsocketConsumer.as_asgi()),
                path("ws/sync-notes/", NotesSyncWebsocketConsumer.as_asgi()),
            ]
        ),
        "channel": ChannelNameRouter(
            {
                "notes-worker": NoteWorkerConsumer.as_asgi(),
                "shout-worker": ShoutWorkerConsumer.as_asgi(),
            }
        ),
    }
)
