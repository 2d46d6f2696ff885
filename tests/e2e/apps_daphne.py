"""Applications that daphne serves in ``test_daphne.py`` (imported by the daphne child).

``asgi3_app`` is a single-callable ASGI 3 application; ``Asgi2App`` is an ASGI 2
double callable (a class: ``Asgi2App(scope)`` then ``await instance(receive, send)``).
daphne's CLI passes either through :func:`asgiref.compatibility.guarantee_single_callable`.
Both answer ``<style> <method> <path>?<query> body=<request body> asgiref=<module file>``.
"""

from __future__ import annotations

import asgiref
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, HTTPScope, Scope

__all__ = ["Asgi2App", "asgi3_app"]


async def _read_body(receive: ASGIReceiveCallable) -> bytes:
    body = b""
    while True:
        event = await receive()
        if event["type"] != "http.request":
            return body
        body += event["body"]
        if not event.get("more_body", False):
            return body


async def _respond(
    style: str, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    body = await _read_body(receive)
    query = scope["query_string"].decode("latin-1")
    text = (
        f"{style} {scope['method']} {scope['path']}?{query} "
        f"body={body.decode()} asgiref={asgiref.__file__}"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"x-style", style.encode()),
            ],
            "trailers": False,
        }
    )
    await send({"type": "http.response.body", "body": text.encode(), "more_body": False})


async def asgi3_app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """ASGI 3: one coroutine per connection; answers HTTP requests only."""
    if scope["type"] != "http":
        raise ValueError(f"only HTTP is served here, got {scope['type']!r}")
    await _respond("asgi3", scope, receive, send)


class Asgi2App:
    """ASGI 2: built with the scope, then awaited with ``receive`` and ``send``."""

    def __init__(self, scope: Scope) -> None:
        """Keep the scope; nothing is read yet."""
        if scope["type"] != "http":
            raise ValueError(f"only HTTP is served here, got {scope['type']!r}")
        self.scope: HTTPScope = scope

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        """Answer the request."""
        await _respond("asgi2", self.scope, receive, send)
