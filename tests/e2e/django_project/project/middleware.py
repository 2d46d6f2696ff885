"""One async-only and one sync-only middleware, so Django adapts across both bridges.

Order in ``MIDDLEWARE``: the async middleware runs first, then the sync middleware,
then the view.  The sync middleware therefore runs under ``sync_to_async`` and calls
the rest of the chain through ``async_to_sync``; thread-sensitive work of the view
must come back to the sync middleware's thread (one thread per request).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import async_only_middleware

AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]

ALT_PREFIX = "/alt/"


@async_only_middleware
def async_marker_middleware(get_response: AsyncGetResponse) -> AsyncGetResponse:
    """Choose the alternative URLconf for ``/alt/`` paths and mark the response.

    Runs in: the event-loop thread.
    """

    async def middleware(request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith(ALT_PREFIX):
            request.urlconf = "project.urls_alt"
        response = await get_response(request)
        response["X-Async-Middleware"] = "ran"
        return response

    return middleware


class SyncThreadMiddleware:
    """Report the thread that ran this sync middleware in ``X-Sync-Middleware-Thread``.

    Runs in: the request's thread-sensitive sync thread.
    """

    def __init__(self, get_response: SyncGetResponse) -> None:
        """Keep the next handler of the chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        """Call the rest of the chain, then add the header (both on this thread)."""
        before = threading.get_ident()
        response = self.get_response(request)
        if threading.get_ident() != before:  # pragma: no cover - would be a bridge bug
            raise RuntimeError("sync middleware resumed on another thread")
        response["X-Sync-Middleware-Thread"] = str(before)
        return response
