"""Minimal reproduction: Starlette sends a close reason to a server that reports spec 2.0.

daphne 4.2 gives WebSocket scopes ``asgi: {"version": "3.0"}`` and no ``spec_version``,
which means ``"2.0"``: ``reason`` on ``websocket.close`` is a 2.3 feature (daphne drops
it).  Run with ``python starlette_close_reason.py``; it prints each violation.
"""

import asyncio

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from asgiref.testing import ApplicationCommunicator
from asgiref.validation import validate


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close(code=4001, reason="asked to")


async def main() -> None:
    starlette = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    app = validate(starlette, on_violation=lambda error: print(error))
    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "path": "/ws", "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }  # fmt: skip
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "websocket.connect"})
    await communicator.receive_output()
    print("close:", await communicator.receive_output())
    await communicator.send_input({"type": "websocket.disconnect", "code": 4001})
    await communicator.wait()


asyncio.run(main())
