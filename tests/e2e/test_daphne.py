"""End to end: daphne 4.2 serves ASGI 3 and ASGI 2 applications on 127.0.0.1.

daphne's CLI loads the application and passes it through
``asgiref.compatibility.guarantee_single_callable``; the double-callable class only
works if that wraps it.  The apps report which ``asgiref`` the daphne process imported,
which must be the one under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import asgiref
from servers import free_port, running_server, server_command

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

HERE = Path(__file__).resolve().parent


@pytest.fixture(params=["asgi3_app", "Asgi2App"])
def daphne_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """daphne serving ``apps_daphne:<param>``; yields ``(base_url, style)``."""
    name: str = request.param
    port = free_port()
    with running_server(
        server_command("daphne", f"apps_daphne:{name}", port), port, cwd=HERE
    ) as url:
        yield url, "asgi3" if name == "asgi3_app" else "asgi2"


def test_daphne_serves_get_through_guarantee_single_callable(
    daphne_url: tuple[str, str],
) -> None:
    url, style = daphne_url
    with httpx.Client(base_url=url, timeout=20) as client:
        response = client.get("/hello/world", params={"q": "1"})
    assert response.status_code == 200
    assert response.headers["x-style"] == style
    assert response.text == f"{style} GET /hello/world?q=1 body= asgiref={asgiref.__file__}"


def test_daphne_serves_post_bodies_and_repeated_requests(daphne_url: tuple[str, str]) -> None:
    url, style = daphne_url
    with httpx.Client(base_url=url, timeout=20) as client:
        for n in range(3):
            payload = f"payload {n} " + "x" * 70_000  # larger than one read: several chunks
            response = client.post("/submit", content=payload.encode())
            assert response.status_code == 200
            assert response.text.startswith(f"{style} POST /submit? body={payload} asgiref=")
