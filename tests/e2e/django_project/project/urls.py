"""The root URLconf."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("sync/", views.sync_view, name="sync"),
    path("async/", views.async_view, name="async"),
    path("lang/sync/", views.lang_sync, name="lang-sync"),
    path("lang/async/", views.lang_async, name="lang-async"),
    path("conn/sync/", views.conn_sync, name="conn-sync"),
    path("conn/async/", views.conn_async, name="conn-async"),
    path("hello", views.hello_async, name="hello"),
    path("echo", views.echo_view, name="echo"),
    path("stream", views.stream_sync, name="stream-sync"),
    path("stream-async", views.stream_async, name="stream-async"),
    path("file", views.file_view, name="file"),
]
