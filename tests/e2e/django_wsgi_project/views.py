"""Views of the end-to-end Django project."""

from __future__ import annotations

import os
import threading
from typing import BinaryIO

from django.http import FileResponse, HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import transport as transport_records

DOWNLOAD_FILE_VARIABLE = "E2E_DOWNLOAD_FILE"
"""Environment variable naming the file that ``/download/`` serves."""

_lock = threading.Lock()  # guards _served_files (views run on several WSGI threads)
_served_files: list[BinaryIO] = []  # guarded by _lock: every file /download/ opened


@csrf_exempt
@require_POST
def form(request: HttpRequest) -> JsonResponse:
    """Echo the urlencoded fields of a POST (CSRF-exempt).

    Returns:
        JSON: every field as the list of its values, in the order they were posted.
    """
    return JsonResponse(_fields(request))


@require_http_methods(["GET", "POST"])
def csrf_form(request: HttpRequest) -> JsonResponse:
    """GET: hand out a CSRF token (and its cookie). POST: echo the fields, CSRF-checked.

    Returns:
        JSON ``{"csrf_token": ...}`` for GET; for POST, the fields as :func:`form`
        echoes them, without the token.
    """
    if request.method == "GET":
        return JsonResponse({"csrf_token": get_token(request)})
    fields = _fields(request)
    fields.pop("csrfmiddlewaretoken", None)
    return JsonResponse(fields)


def _fields(request: HttpRequest) -> dict[str, list[str]]:
    """Return the POSTed fields, each with the list of its values."""
    return {key: request.POST.getlist(key) for key in request.POST}


@require_GET
def download(request: HttpRequest) -> FileResponse:
    """Serve the file named by ``$E2E_DOWNLOAD_FILE`` as an attachment.

    Django's WSGI handler hands the open file to ``environ["wsgi.file_wrapper"]``.
    """
    # FileResponse owns the file: the response's close() (PEP 3333) closes it.
    download_file = open(os.environ[DOWNLOAD_FILE_VARIABLE], "rb")  # noqa: SIM115
    with _lock:
        _served_files.append(download_file)
    return FileResponse(download_file, as_attachment=True, filename="payload.bin")


@require_GET
def transport(request: HttpRequest) -> JsonResponse:
    """Report what the ASGI layer saw of earlier requests, and which downloads were closed.

    Returns:
        JSON: ``records`` (see :mod:`.transport`) and ``downloads_closed``, one flag per
        file that ``/download/`` opened, in order.
    """
    with _lock:
        closed = [served.closed for served in _served_files]
    return JsonResponse({"records": transport_records.snapshot(), "downloads_closed": closed})
