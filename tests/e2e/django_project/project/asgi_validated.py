"""``project.asgi_validated:application``: Django's ASGI handler under the validator.

Violations go to ``$ASGIREF_VALIDATION_LOG`` (see ``tests/validation_log.py``).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from asgiref.validation import validate
from validation_log import recorder

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = validate(get_asgi_application(), on_violation=recorder())
