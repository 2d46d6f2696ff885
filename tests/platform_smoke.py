"""Exercise every public module; run in a subprocess by ``tests/test_platforms.py``.

The parent deletes POSIX-only functions of :mod:`os` (``register_at_fork``, ``fork``)
before this runs, to simulate a platform without them (Windows).  Prints ``ok`` at the
end; any failure raises.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
from typing import Any

PUBLIC = (
    "asgiref",
    "asgiref.compatibility",
    "asgiref.current_thread_executor",
    "asgiref.local",
    "asgiref.server",
    "asgiref.sync",
    "asgiref.testing",
    "asgiref.timeout",
    "asgiref.typing",
    "asgiref.wsgi",
)


def import_everything() -> None:
    for name in PUBLIC:
        module = importlib.import_module(name)
        for attribute in getattr(module, "__all__", ()):
            getattr(module, attribute)


def bridges_and_locals() -> None:
    from asgiref.local import Local
    from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

    default, critical = Local(), Local(thread_critical=True)

    def sync_side() -> int:
        assert default.value == "set in async code"
        critical.value = "sync thread"
        return threading.get_ident()

    async def async_side() -> tuple[int, int]:
        default.value = "set in async code"
        critical.value = "loop"
        async with ThreadSensitiveContext():
            in_context = await sync_to_async(sync_side)()
        plain = await sync_to_async(sync_side)()
        assert critical.value == "loop"
        return in_context, plain

    in_context, plain = async_to_sync(async_side)()
    assert plain == threading.get_ident()  # came back to the blocked caller
    assert in_context == plain  # under a bridge, the bridge's thread wins
    assert asyncio.run(sync_to_async(threading.get_ident)()) != threading.get_ident()


def wsgi_adapter() -> None:
    from asgiref.wsgi import WsgiToAsgi

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read()]

    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": b"hello"}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": []}
    asyncio.run(WsgiToAsgi(app)(scope, receive, send))
    assert sent[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"hello"


def server_and_communicator() -> None:
    from asgiref.server import StatelessServer
    from asgiref.testing import ApplicationCommunicator

    async def echo(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        await send({"type": "echo", "text": message["text"]})

    class OneShot(StatelessServer):
        def __init__(self, application: Any) -> None:
            super().__init__(application)
            self.received: list[Any] = []

        async def handle(self) -> None:
            queue = self.get_or_create_application_instance("user", {"type": "echo"})
            await queue.put({"type": "echo", "text": "hi"})
            while not self.received:
                await asyncio.sleep(0.001)

        async def application_send(self, scope: Any, message: Any) -> None:
            self.received.append(message)

    server = OneShot(echo)
    asyncio.run(server.arun())
    assert server.received == [{"type": "echo", "text": "hi"}]

    async def communicate() -> Any:
        communicator = ApplicationCommunicator(echo, {"type": "echo"})
        await communicator.send_input({"type": "echo", "text": "there"})
        return await communicator.receive_output(5)

    assert asyncio.run(communicate()) == {"type": "echo", "text": "there"}


def main() -> None:
    missing = [name for name in ("fork", "register_at_fork") if not hasattr(__import__("os"), name)]
    import_everything()
    from asgiref import _threads

    assert _threads.generation() == 0
    bridges_and_locals()
    wsgi_adapter()
    server_and_communicator()
    print("ok", ",".join(missing), file=sys.stdout, flush=True)


if __name__ == "__main__":
    main()
