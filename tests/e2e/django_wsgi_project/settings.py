"""Django settings of the end-to-end project: no database, no installed apps.

``CsrfViewMiddleware`` is on, so the form POST must carry the token that a GET
handed out (as a browser would).
"""

from __future__ import annotations

SECRET_KEY = "e2e-tests-only-this-is-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "e2e.django_wsgi_project.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
USE_I18N = False
