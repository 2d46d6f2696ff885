"""A second URLconf, chosen per request by the async middleware for paths under ``/alt/``.

It uses the same URL names at other paths, so ``reverse()`` inside a view gives a path
that depends on which URLconf Django's ``Local``-based resolver state holds for the
request.
"""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("alt/lang/sync/", views.lang_sync, name="lang-sync"),
    path("alt/lang/async/", views.lang_async, name="lang-async"),
]
