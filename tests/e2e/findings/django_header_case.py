"""Minimal reproduction: Django's ASGI handler sends mixed-case response header names.

Run with ``python django_header_case.py``; it prints each violation the validator reports.
"""

import asyncio

import django
from django.conf import settings

settings.configure(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="repro")
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from asgiref.testing import ApplicationCommunicator  # noqa: E402
from asgiref.validation import validate  # noqa: E402

urlpatterns = [path("", lambda request: HttpResponse("hi"))]


async def main() -> None:
    app = validate(get_asgi_application(), on_violation=lambda error: print(error))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "path": "/", "query_string": b"", "headers": [(b"host", b"localhost")],
    }  # fmt: skip
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request"})
    start = await communicator.receive_output()
    print("header names:", [name for name, _ in start["headers"]])
    await communicator.wait()


asyncio.run(main())
