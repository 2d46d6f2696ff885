"""Settings of the end-to-end Django project.

The sqlite database lives wherever the environment variable ``E2E_DJANGO_DB`` says (the
test puts it in a temporary directory).  WAL mode, ``IMMEDIATE`` transactions and a long
busy timeout let many request threads write concurrently.
"""

from __future__ import annotations

import os

SECRET_KEY = "e2e-test-project-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["project.pingapp"]
MIDDLEWARE = [
    "project.middleware.async_marker_middleware",
    "project.middleware.SyncThreadMiddleware",
]
ROOT_URLCONF = "project.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["E2E_DJANGO_DB"],
        "OPTIONS": {
            "timeout": 60,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
LANGUAGES = [
    ("en-us", "English"),
    ("fr", "French"),
    ("de", "German"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("nl", "Dutch"),
]
USE_I18N = True
USE_TZ = True
