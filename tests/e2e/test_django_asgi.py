"""End to end: a real Django project served by uvicorn on 127.0.0.1 through this package.

The project (``tests/e2e/django_project``) has a sync and an async view using the ORM,
one sync and one async middleware, views that prove Django's ``Local``-based
per-request state (active language, URLconf) stays with its request under
concurrency, and views that show DB connections are per thread.  See its
``views.py`` for what each view answers.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import free_port, running_server, server_command

pytestmark = pytest.mark.e2e

PROJECT_DIR = Path(__file__).resolve().parent / "django_project"
LANGUAGES = ["fr", "de", "es", "it", "nl", "en-us"]
CLIENT_TIMEOUT = 60.0


def _project_env(database: Path) -> dict[str, str]:
    """Environment that points Django at the project's settings and a temporary database."""
    return {"E2E_DJANGO_DB": str(database), "DJANGO_SETTINGS_MODULE": "project.settings"}


def _migrate(env: dict[str, str]) -> None:
    """Run ``python -m django migrate`` for the project in a subprocess."""
    child_env = {**os.environ, **env}
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    result = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
        cwd=PROJECT_DIR,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"migrate failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def django_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate a fresh sqlite database, serve the project with uvicorn, yield its base URL."""
    env = _project_env(tmp_path_factory.mktemp("django-db") / "db.sqlite3")
    _migrate(env)
    port = free_port()
    command = server_command("uvicorn", "project.asgi:application", port)
    with running_server(command, port, cwd=PROJECT_DIR, env=env) as url:
        yield url


def _json(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 200 response (fails with the body otherwise)."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _check_orm_answer(response: httpx.Response, view: str, token: str) -> None:
    """A ``/sync/`` or ``/async/`` answer: the row read back, and one thread per request."""
    body = _json(response)
    assert body == {"view": view, "name": token, "count": 1, "thread": body["thread"]}
    assert response.headers["X-Async-Middleware"] == "ran"
    # The view's sync work ran on the thread of the sync middleware of the same request.
    assert int(response.headers["X-Sync-Middleware-Thread"]) == body["thread"]


@pytest.mark.timeout(120)
def test_each_view_answers_correctly(django_url: str) -> None:
    with httpx.Client(base_url=django_url, timeout=CLIENT_TIMEOUT) as client:
        for view in ("sync", "async"):
            token = f"single-{view}-{uuid.uuid4().hex}"
            _check_orm_answer(client.get(f"/{view}/", params={"token": token}), view, token)

        for mode, prefix in itertools.product(("sync", "async"), ("", "/alt")):
            path = f"{prefix}/lang/{mode}/"
            body = _json(client.get(path, params={"lang": "fr"}))
            assert body["lang"] == "fr"
            assert body["url_name"] == f"lang-{mode}"
            assert body["reversed"] == path
            if mode == "async":
                assert body["bridged"] == "fr"
            # Nothing leaks into the next request, even if it reuses a thread.
            assert _json(client.get(path))["lang"] == "en-us"

        body = _json(client.get("/conn/sync/"))
        assert body["first"] == body["again"]
        body = _json(client.get("/conn/async/"))
        assert body["first"] == body["second"]
        assert body["other"]["thread"] != body["first"]["thread"]
        assert body["other"]["connection"] != body["first"]["connection"]


async def _many_orm_requests(base_url: str, count: int) -> None:
    """Send ``count`` concurrent ORM requests, half sync, half async, and check each."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=CLIENT_TIMEOUT, limits=limits
    ) as client:
        calls = [
            (view, f"many-{view}-{i}-{uuid.uuid4().hex}")
            for i, view in zip(range(count), itertools.cycle(("sync", "async")), strict=False)
        ]
        responses = await asyncio.gather(
            *(client.get(f"/{view}/", params={"token": token}) for view, token in calls)
        )
    for (view, token), response in zip(calls, responses, strict=True):
        _check_orm_answer(response, view, token)


@pytest.mark.timeout(120)
def test_200_concurrent_requests_all_answer_correctly(django_url: str) -> None:
    asyncio.run(_many_orm_requests(django_url, 200))


def _zone_name(hours: int) -> str | None:
    """The name Django reports for the fixed-offset time zone of ``hours``."""
    return datetime.timezone(datetime.timedelta(hours=hours)).tzname(None)


async def _language_round(client: httpx.AsyncClient, round_number: int, parties: int) -> None:
    """One round: ``parties`` sync and ``parties`` async requests, all overlapping.

    Every request activates its own language and time zone, and waits (in the view)
    until every other request of its kind has activated its own, before it reads them
    back.
    """
    requests: list[tuple[str, str, str, int]] = []
    for i in range(2 * parties):
        mode = "sync" if i % 2 == 0 else "async"
        path = f"{'/alt' if (i // 2) % 2 else ''}/lang/{mode}/"
        lang = LANGUAGES[(i + round_number) % len(LANGUAGES)]
        requests.append((mode, path, lang, i - parties))
    group = uuid.uuid4().hex
    responses = await asyncio.gather(
        *(
            client.get(
                path,
                params={
                    "lang": lang,
                    "tz": str(hours),
                    "group": f"{group}-{mode}",
                    "parties": str(parties),
                },
            )
            for mode, path, lang, hours in requests
        )
    )
    threads = set()
    for (mode, path, lang, hours), response in zip(requests, responses, strict=True):
        body = _json(response)
        assert body["lang"] == lang, f"{path} asked for {lang!r}, saw {body['lang']!r}"
        assert body["tz"] == _zone_name(hours)
        assert body["url_name"] == f"lang-{mode}"
        assert body["reversed"] == path
        if mode == "async":
            assert body["bridged"] == lang
        else:
            threads.add(body["thread"])
    # The sync views met at a barrier, so each ran on its own thread at the same time.
    assert len(threads) == parties


@pytest.mark.timeout(120)
def test_concurrent_requests_switching_languages_never_see_another_requests_language(
    django_url: str,
) -> None:
    async def rounds() -> None:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with httpx.AsyncClient(
            base_url=django_url, timeout=CLIENT_TIMEOUT, limits=limits
        ) as client:
            for round_number in range(5):
                await _language_round(client, round_number, parties=8)
            plain = await asyncio.gather(*(client.get("/lang/sync/") for _ in range(8)))
        assert [_json(response)["lang"] for response in plain] == ["en-us"] * 8

    asyncio.run(rounds())


@pytest.mark.timeout(120)
def test_db_connections_are_per_thread_and_stay_with_their_request(django_url: str) -> None:
    parties = 6

    async def concurrent() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=django_url, timeout=CLIENT_TIMEOUT) as client:
            group = uuid.uuid4().hex
            return list(
                await asyncio.gather(
                    *(
                        client.get("/conn/sync/", params={"group": group, "parties": parties})
                        for _ in range(parties)
                    )
                )
            )

    bodies = [_json(response) for response in asyncio.run(concurrent())]
    for body in bodies:
        assert body["first"] == body["again"]
    # All requests were inside the view at once: distinct threads, distinct connections.
    assert len({body["first"]["thread"] for body in bodies}) == parties
    assert len({body["first"]["connection"] for body in bodies}) == parties
