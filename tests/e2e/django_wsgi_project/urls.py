"""URL configuration of the end-to-end Django project."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("form/", views.form, name="form"),
    path("csrf-form/", views.csrf_form, name="csrf-form"),
    path("download/", views.download, name="download"),
    path("transport/", views.transport, name="transport"),
]
