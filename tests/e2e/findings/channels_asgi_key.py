"""Minimal reproduction: Channels' communicators build scopes without ``scope["asgi"]``.

Run with ``python channels_asgi_key.py``; it prints each violation the validator reports.
"""

import asyncio

import django
from django.conf import settings

settings.configure(CHANNEL_LAYERS={})
django.setup()

from channels.generic.http import AsyncHttpConsumer  # type: ignore[import-untyped]  # noqa: E402
from channels.testing import HttpCommunicator  # type: ignore[import-untyped]  # noqa: E402

from asgiref.validation import validate  # noqa: E402


class Hello(AsyncHttpConsumer):  # type: ignore[misc]
    async def handle(self, body: bytes) -> None:
        await self.send_response(200, b"hi", headers=[(b"content-type", b"text/plain")])


async def main() -> None:
    app = validate(Hello.as_asgi(), on_violation=lambda error: print(error))
    communicator = HttpCommunicator(app, "GET", "/")
    print("status:", (await communicator.get_response())["status"])


asyncio.run(main())
