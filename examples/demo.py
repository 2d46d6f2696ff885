"""A tour of asgiref's main job, printed as it runs.

1. ``sync_to_async`` / ``async_to_sync``: where code runs, and context variables
   flowing both ways.
2. ``Local``: values that follow the bridges but not foreign threads.
3. ``ThreadSensitiveContext``: one sync thread per request, as Django uses it.
4. ``WsgiToAsgi``: a WSGI application served by uvicorn on 127.0.0.1 (a random free
   port), with concurrent requests and a streamed upload.

Run it with ``scripts/demo`` (fresh virtual environment) or ``python examples/demo.py``.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import http.client
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from asgiref.local import Local
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from asgiref.wsgi import WsgiToAsgi

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
state = Local()


def where() -> str:
    return f"{threading.current_thread().name} (tid {threading.get_native_id()})"


def section(title: str) -> None:
    print(f"\n== {title}")


# -- 1. the bridges -----------------------------------------------------------------------


def sync_part(label: str) -> str:
    REQUEST_ID.set(f"set in sync code by {label}")
    return where()


async def async_part() -> str:
    sync_thread = await sync_to_async(sync_part)("the inner call")
    return f"coroutine on {where()}, inner sync code on {sync_thread}"


def demo_bridges() -> None:
    section("1. sync_to_async / async_to_sync")
    print(f"the program's sync code runs on {where()}")
    print("async_to_sync(...) ran a", async_to_sync(async_part)())
    print("a context variable set inside came back out:", REQUEST_ID.get())


# -- 2. Local -------------------------------------------------------------------------------


def demo_local() -> None:
    section("2. Local follows the bridges, not foreign threads")
    state.user = "alice"

    async def read_in_async() -> str:
        return str(await sync_to_async(lambda: state.user)())

    print("visible through async_to_sync -> sync_to_async:", async_to_sync(read_in_async)())
    seen: list[bool] = []
    thread = threading.Thread(target=lambda: seen.append(hasattr(state, "user")))
    thread.start()
    thread.join()
    print("visible in a plain threading.Thread:", seen[0])


# -- 3. ThreadSensitiveContext --------------------------------------------------------------


async def handle_request(number: int) -> tuple[int, set[str]]:
    async with ThreadSensitiveContext():
        threads = {await sync_to_async(where)() for _ in range(3)}
    return number, threads


async def serve_requests() -> None:
    results = await asyncio.gather(*(handle_request(n) for n in range(3)))
    for number, threads in results:
        print(f"request {number}: all its sync code ran on {sorted(threads)}")


def demo_thread_sensitive_context() -> None:
    section("3. ThreadSensitiveContext: one sync thread per request")
    asyncio.run(serve_requests())


# -- 4. WsgiToAsgi under uvicorn ------------------------------------------------------------


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/upload":
        digest = hashlib.sha256()
        received = 0
        for chunk in iter(lambda: environ["wsgi.input"].read(65536), b""):
            digest.update(chunk)
            received += len(chunk)
        body = f"received {received} bytes, sha256 {digest.hexdigest()[:16]}".encode()
    else:
        time.sleep(0.2)  # a slow WSGI view: concurrent requests overlap
        body = f"hello from {where()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request(port: int, method: str, path: str, body: Iterator[bytes] | None = None) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, encode_chunked=body is not None)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def demo_wsgi() -> None:
    section("4. WsgiToAsgi: a WSGI app served by uvicorn on 127.0.0.1")
    try:
        import uvicorn
    except ImportError:
        print("uvicorn is not installed (pip install uvicorn): skipping this part")
        return
    port = free_port()
    config = uvicorn.Config(WsgiToAsgi(wsgi_app), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn")
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        started = time.perf_counter()
        answers: list[str] = []
        clients = [
            threading.Thread(target=lambda: answers.append(request(port, "GET", "/")))
            for _ in range(5)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        elapsed = time.perf_counter() - started
        print(f"5 requests to a 0.2 s WSGI view took {elapsed:.2f} s (they run concurrently):")
        for answer in sorted(answers):
            print("  ", answer)
        chunks = (bytes([n % 256]) * 65536 for n in range(32))
        print("chunked 2 MiB upload:", request(port, "POST", "/upload", chunks))
    finally:
        server.should_exit = True
        thread.join()


def main() -> None:
    demo_bridges()
    demo_local()
    demo_thread_sensitive_context()
    demo_wsgi()


if __name__ == "__main__":
    main()
