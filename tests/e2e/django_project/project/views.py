"""Views of the end-to-end project; every view answers JSON.

* ``sync_view`` / ``async_view``: create a ``Thing`` named by ``?token=`` and read it back,
  with the sync ORM or its async API (``acreate``, ``aget``, ``acount``) plus
  ``sync_to_async``; report the thread of the sync work.
* ``lang_sync`` / ``lang_async``: activate ``?lang=`` (and the fixed-offset time zone
  ``?tz=`` hours), wait until every request of the ``?group=`` (of ``?parties=``
  requests) has done the same, then report the active language, time zone, the
  resolved URL name and ``reverse()`` of it: each must be the request's own.
* ``conn_sync`` / ``conn_async``: report which DB connection object each thread uses.
* ``stream_sync`` / ``stream_async``: a streaming response from a sync / async iterator.
* ``file_view``: a ``FileResponse`` of this file; ``echo_view``: the request body back.

The meeting points (barriers) make concurrent requests overlap without any sleep; their
timeout only turns a hang into an error response.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from django.db import connections
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt

from asgiref.sync import sync_to_async

from .pingapp.models import Thing

MEETING_TIMEOUT = 30.0

_lock = threading.Lock()
_thread_barriers: dict[str, threading.Barrier] = {}  # guarded by _lock
_task_barriers: dict[str, asyncio.Barrier] = {}  # guarded by _lock


def _thread_barrier(request: HttpRequest) -> threading.Barrier | None:
    """The shared ``threading.Barrier`` of the request's group, or ``None`` without a group."""
    group = request.GET.get("group")
    if group is None:
        return None
    with _lock:
        return _thread_barriers.setdefault(
            group, threading.Barrier(int(request.GET["parties"]), timeout=MEETING_TIMEOUT)
        )


def _task_barrier(request: HttpRequest) -> asyncio.Barrier | None:
    """The shared ``asyncio.Barrier`` of the request's group, or ``None`` without a group.

    Runs in: the event-loop thread.
    """
    group = request.GET.get("group")
    if group is None:
        return None
    with _lock:
        return _task_barriers.setdefault(group, asyncio.Barrier(int(request.GET["parties"])))


def _activate_requested_language(request: HttpRequest) -> None:
    """Activate ``?lang=`` and ``?tz=`` when given (Django keeps both in ``Local`` objects)."""
    lang = request.GET.get("lang")
    if lang is not None:
        translation.activate(lang)
    offset = request.GET.get("tz")
    if offset is not None:
        timezone.activate(datetime.timezone(datetime.timedelta(hours=int(offset))))


def _language_answer(request: HttpRequest, **extra: Any) -> JsonResponse:
    """What this request sees of Django's ``Local``-based per-request state."""
    match = request.resolver_match
    assert match is not None
    return JsonResponse(
        {
            "lang": translation.get_language(),
            "tz": timezone.get_current_timezone_name() if "tz" in request.GET else None,
            "url_name": match.url_name,
            "reversed": reverse(match.view_name),
            "path": request.path,
            **extra,
        }
    )


def sync_view(request: HttpRequest) -> JsonResponse:
    """Create and read back a ``Thing`` with the sync ORM."""
    token = request.GET["token"]
    thing = Thing.objects.create(name=token)
    return JsonResponse(
        {
            "view": "sync",
            "name": Thing.objects.get(pk=thing.pk).name,
            "count": Thing.objects.filter(name=token).count(),
            "thread": threading.get_ident(),
        }
    )


async def async_view(request: HttpRequest) -> JsonResponse:
    """Create and read back a ``Thing`` with the async ORM API, plus one ``sync_to_async``."""
    token = request.GET["token"]
    thing = await Thing.objects.acreate(name=token)
    fetched = await Thing.objects.aget(pk=thing.pk)
    count = await Thing.objects.filter(name=token).acount()
    thread = await sync_to_async(threading.get_ident)()
    return JsonResponse({"view": "async", "name": fetched.name, "count": count, "thread": thread})


def lang_sync(request: HttpRequest) -> JsonResponse:
    """Activate the language, meet the group's other requests, report (sync view)."""
    _activate_requested_language(request)
    barrier = _thread_barrier(request)
    if barrier is not None:
        barrier.wait()
    return _language_answer(request, thread=threading.get_ident())


async def lang_async(request: HttpRequest) -> JsonResponse:
    """Activate the language, meet the group's other requests, report (async view).

    The language is also read back through ``sync_to_async``: it must cross the bridge.
    """
    _activate_requested_language(request)
    barrier = _task_barrier(request)
    if barrier is not None:
        async with asyncio.timeout(MEETING_TIMEOUT):
            await barrier.wait()
    bridged = await sync_to_async(translation.get_language)()
    return _language_answer(request, bridged=bridged)


def _connection_info() -> dict[str, int]:
    """The current thread and the identity of its default DB connection (after a query)."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"thread": threading.get_ident(), "connection": id(connection)}


def conn_sync(request: HttpRequest) -> JsonResponse:
    """Report the connection twice, with the group's meeting in between (sync view)."""
    first = _connection_info()
    barrier = _thread_barrier(request)
    if barrier is not None:
        barrier.wait()
    return JsonResponse({"first": first, "again": _connection_info()})


async def conn_async(request: HttpRequest) -> JsonResponse:
    """Report the connection of two thread-sensitive calls and one non-sensitive call."""
    first = await sync_to_async(_connection_info)()
    second = await sync_to_async(_connection_info)()
    other = await sync_to_async(_connection_info, thread_sensitive=False)()
    return JsonResponse({"first": first, "second": second, "other": other})


STREAM_CHUNK = b"x" * 1024
STREAM_CHUNKS = 50


def _sync_chunks() -> Iterator[bytes]:
    for _ in range(STREAM_CHUNKS):
        yield STREAM_CHUNK
        time.sleep(0.02)


async def _async_chunks() -> AsyncIterator[bytes]:
    for _ in range(STREAM_CHUNKS):
        yield STREAM_CHUNK
        await asyncio.sleep(0.02)


def stream_sync(request: HttpRequest) -> StreamingHttpResponse:
    """A streaming response fed by a sync iterator (Django consumes it in a thread)."""
    return StreamingHttpResponse(_sync_chunks(), content_type="application/octet-stream")


async def stream_async(request: HttpRequest) -> StreamingHttpResponse:
    """A streaming response fed by an async iterator."""
    return StreamingHttpResponse(_async_chunks(), content_type="application/octet-stream")


def file_view(request: HttpRequest) -> FileResponse:
    """This file, as a ``FileResponse`` (Django sets Content-Length from its size)."""
    return FileResponse(open(__file__, "rb"), content_type="text/plain")


@csrf_exempt
def echo_view(request: HttpRequest) -> HttpResponse:
    """The request body back (sync view)."""
    return HttpResponse(request.body, content_type="text/plain")


async def hello_async(request: HttpRequest) -> HttpResponse:
    """A short text body (async view)."""
    return HttpResponse(b"hello", content_type="text/plain")
