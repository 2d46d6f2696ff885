"""WsgiToAsgi end to end with real frameworks: Flask (Werkzeug) and Django's WSGI handler.

Under uvicorn, hypercorn and daphne, with httpx as the client:

* a 10 MiB chunked upload (no Content-Length) reaches a Flask view byte for byte,
  through ``request.get_data()`` and through ``request.stream`` (D8, D9);
* Django's ``get_wsgi_application()`` serves a urlencoded form POST guarded by
  ``CsrfViewMiddleware``, and a ``FileResponse`` download through
  ``wsgi.file_wrapper`` with the exact bytes and Content-Length (D31): streamed in
  blocks where the server offers no ``http.response.pathsend``, sent as
  ``pathsend`` where the extension is offered.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.django_wsgi_project.transport import PATHSEND
from e2e.wsgi_serving import SERVERS, poll_until, serve

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("server", SERVERS)]

FLASK_APP = "e2e.flask_app:application"
DJANGO_APP = "e2e.django_wsgi_project.asgi:{}"
DJANGO_ENV = {"DJANGO_SETTINGS_MODULE": "e2e.django_wsgi_project.settings"}
UPLOAD_SIZE = 10 * 1024 * 1024
UPLOAD_BLOCK = 65536
DOWNLOAD_SIZE = 1024 * 1024 + 4321  # not a multiple of any block size
HTTP_TIMEOUT = 60.0


def _chunked(payload: bytes) -> Iterator[bytes]:
    """Yield ``payload`` in blocks; httpx sends a generator body chunked, without length."""
    for start in range(0, len(payload), UPLOAD_BLOCK):
        yield payload[start : start + UPLOAD_BLOCK]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("endpoint", ["/data", "/stream"])
def test_chunked_upload_reaches_flask_byte_for_byte(
    server: str, endpoint: str, tmp_path: Path
) -> None:
    payload = random.Random(UPLOAD_SIZE).randbytes(UPLOAD_SIZE)
    with (
        serve(server, FLASK_APP, tmp_path) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        response = client.post(endpoint, content=_chunked(payload))

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 200, response.text
    expected = {"length": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    assert response.json() == expected


@pytest.mark.timeout(120)
def test_django_form_post_echoes_the_fields(server: str, tmp_path: Path) -> None:
    fields = {"name": "Zoë Ångström", "colour": ["red", "blue"], "note": "a&b=c d"}
    with (
        serve(server, DJANGO_APP.format("application"), tmp_path, env=DJANGO_ENV) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        response = client.post("/form/", data=fields)
        forbidden = client.post("/csrf-form/", data=fields)

    assert response.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert response.status_code == 200, response.text
    expected = {"name": ["Zoë Ångström"], "colour": ["red", "blue"], "note": ["a&b=c d"]}
    assert response.json() == expected
    assert forbidden.status_code == 403  # no token: Django's CSRF protection is in force


@pytest.mark.timeout(120)
def test_D32_django_csrf_cookie_round_trip_works_under_every_server(
    server: str, tmp_path: Path
) -> None:
    """Django's ``Set-Cookie`` values start with a space; h11 (uvicorn) rejects such a
    response unless the adapter strips whitespace around header values (D32)."""
    fields = {"name": "Zoë Ångström", "colour": ["red", "blue"]}
    with (
        serve(server, DJANGO_APP.format("application"), tmp_path, env=DJANGO_ENV) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        first = client.get("/csrf-form/")  # sets the csrftoken cookie
        token = first.json()["csrf_token"]
        response = client.post("/csrf-form/", data={**fields, "csrfmiddlewaretoken": token})

    assert first.status_code == 200
    assert "csrftoken" in first.cookies
    assert response.status_code == 200, response.text
    assert response.json() == {"name": ["Zoë Ångström"], "colour": ["red", "blue"]}


def _transport(client: httpx.Client) -> dict[str, Any]:
    """Return the Django project's ``/transport/`` report."""
    report: dict[str, Any] = client.get("/transport/").json()
    return report


def _download_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the transport records of the ``/download/`` requests."""
    return [record for record in records if record["path"] == "/download/"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("entry_point", ["application", "application_pathsend"])
def test_django_file_download_sends_exact_bytes(
    server: str, entry_point: str, tmp_path: Path, record_property: Any
) -> None:
    payload = random.Random(DOWNLOAD_SIZE).randbytes(DOWNLOAD_SIZE)
    download = tmp_path / "payload.bin"
    download.write_bytes(payload)
    env = {**DJANGO_ENV, "E2E_DOWNLOAD_FILE": str(download)}
    with (
        serve(server, DJANGO_APP.format(entry_point), tmp_path, env=env) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        response = client.get("/download/")
        # The file is closed on the WSGI thread after the last message went out.
        report = poll_until(lambda: _transport(client), lambda r: all(r["downloads_closed"]))
    records = _download_records(report["records"])

    assert response.status_code == 200
    assert response.headers["content-length"] == str(DOWNLOAD_SIZE)
    assert response.headers["content-disposition"] == 'attachment; filename="payload.bin"'
    assert response.content == payload
    assert report["downloads_closed"] == [True]  # close() reached Django's FileResponse
    [record] = records
    offered = PATHSEND in record["extensions"]  # what the adapter was offered
    if entry_point == "application_pathsend":
        assert offered
    messages = record["messages"]
    assert messages[0] == "http.response.start"
    if offered:
        assert messages == ["http.response.start", PATHSEND]
    else:
        assert PATHSEND not in messages
        assert messages[-1] == "http.response.body"
    record_property("download_path", PATHSEND if offered else "http.response.body blocks")
