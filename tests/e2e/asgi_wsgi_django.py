"""Django settings and URLs for the ``AsgiToWsgi`` end-to-end tests (a sync and an async view)."""

from __future__ import annotations

import asyncio
import os
import threading

from django.http import HttpRequest, JsonResponse
from django.urls import path

SECRET_KEY = "asgi-to-wsgi-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "e2e.asgi_wsgi_django"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, object] = {}
USE_TZ = True


def sync_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"kind": "sync", "pid": os.getpid(), "thread": threading.current_thread().name}
    )


async def async_view(request: HttpRequest) -> JsonResponse:
    await asyncio.sleep(0)
    return JsonResponse({"kind": "async", "pid": os.getpid(), "body": request.body.decode()})


urlpatterns = [path("sync", sync_view), path("async", async_view)]
