"""Minimal reproduction: hypercorn reports close code 1006 for a clean client close (1000).

Run with ``python hypercorn_close_code.py [port]``; it serves one WebSocket app on
127.0.0.1, closes a connection from the client with code 1000 and prints the code the app
got in ``websocket.disconnect``.
"""

import asyncio
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config
from websockets.asyncio.client import connect

codes: asyncio.Queue[int] = asyncio.Queue()


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] != "websocket.disconnect":
        pass
    codes.put_nowait(message["code"])


async def main(port: int) -> None:
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    for _ in range(100):
        try:
            async with connect(f"ws://127.0.0.1:{port}/") as websocket:
                await websocket.close(code=1000, reason="done")
            break
        except OSError:
            await asyncio.sleep(0.05)
    print("client closed with 1000; the app got", await asyncio.wait_for(codes.get(), 10))
    stop.set()
    await server


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8765))
