"""AsgiToWsgi end to end: ASGI apps (raw, Starlette, Django) under real WSGI servers.

Every test starts its own server on 127.0.0.1 (gunicorn sync and gthread workers, with
and without ``--preload``; waitress; ``wsgiref.simple_server``), talks to it with
httpx and stops it by PID (SIGTERM to its process group: a graceful stop).  They show:

* every app answers under every server; Starlette's lifespan state reaches requests;
  Django's sync and async views work;
* the lifespan startup ran exactly once in each worker process that served, and the
  shutdown ran in each after the graceful stop (recorded to files);
* a 64 MiB chunked upload and a 64 MiB streamed response grow the worker's peak RSS by
  less than 16 MiB;
* 20 clients that disconnect mid-download leave no thread, task or file descriptor
  behind, and the next request works;
* a gthread worker's concurrent requests are in the application at the same time (one
  loop, not serialised); ``HEAD`` gets ``GET``'s headers and no body.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import LOOPBACK, free_port, running_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and fork"),
]

HTTP_TIMEOUT = 60.0
MIB = 1024 * 1024
E2E = Path(__file__).resolve().parent

GUNICORN = {
    "gunicorn-sync": ["--workers", "2", "--worker-class", "sync"],
    "gunicorn-sync-preload": ["--workers", "2", "--worker-class", "sync", "--preload"],
    "gunicorn-gthread": ["--workers", "2", "--worker-class", "gthread", "--threads", "4"],
    "gunicorn-gthread-preload": [
        "--workers",
        "2",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--preload",
    ],
}
SERVERS = [*GUNICORN, "waitress", "wsgiref"]


def command(server: str, app: str, port: int, workers: int | None = None) -> list[str]:
    """Return the command line serving ``e2e.asgi_wsgi_apps:<app>`` with ``server``."""
    target = f"e2e.asgi_wsgi_apps:{app}"
    if server in GUNICORN:
        args = list(GUNICORN[server])
        if workers is not None:
            args[1] = str(workers)
        return [
            sys.executable,
            "-m",
            "gunicorn",
            target,
            "--bind",
            f"{LOOPBACK}:{port}",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "10",
            *args,
        ]
    return [sys.executable, "-m", "e2e.asgi_wsgi_serve", server, target, str(port)]


@contextlib.contextmanager
def serve(
    server: str, app: str, record: Path, workers: int | None = None
) -> Iterator[httpx.Client]:
    port = free_port()
    env = {"ASGI_WSGI_RECORD": str(record), "PYTHONUNBUFFERED": "1"}
    with (
        running_server(command(server, app, port, workers), port, env=env, timeout=60),
        httpx.Client(base_url=f"http://{LOOPBACK}:{port}", timeout=HTTP_TIMEOUT) as client,
    ):
        yield client


def events(record: Path, app: str) -> dict[str, set[int]]:
    """Return the pids that recorded each lifespan event of ``app``."""
    found: dict[str, set[int]] = {"startup": set(), "shutdown": set()}
    for entry in record.iterdir():
        event, name, pid = entry.name.split("-")
        if name == app:
            found[event].add(int(pid))
    return found


def fresh_get(client: httpx.Client, path: str) -> httpx.Response:
    """GET on a new connection (so requests spread over the workers)."""
    response = client.get(path, headers={"connection": "close"})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", SERVERS)
def test_raw_app_runs_lifespan_once_per_worker_and_shuts_down(server: str, tmp_path: Path) -> None:
    with serve(server, "raw", tmp_path) as client:
        pids = set()
        for _ in range(20):
            answer = fresh_get(client, "/pid").json()
            assert answer["state"] == {"pid": answer["pid"]}
            pids.add(answer["pid"])
        started = events(tmp_path, "raw")["startup"]
        assert pids <= started
    found = events(tmp_path, "raw")
    assert found["startup"] == found["shutdown"]  # each worker that started also shut down
    assert pids <= found["startup"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", SERVERS)
def test_starlette_lifespan_state_reaches_requests(server: str, tmp_path: Path) -> None:
    with serve(server, "starlette", tmp_path) as client:
        pids = set()
        for _ in range(10):
            answer = fresh_get(client, "/state").json()
            assert answer["started_in"] == answer["pid"]
            pids.add(answer["pid"])
    found = events(tmp_path, "starlette")
    assert pids <= found["startup"] == found["shutdown"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", SERVERS)
def test_django_sync_and_async_views(server: str, tmp_path: Path) -> None:
    with serve(server, "django", tmp_path) as client:
        for _ in range(5):
            assert fresh_get(client, "/sync").json()["kind"] == "sync"
            response = client.post("/async", content=b"posted body")
            assert response.status_code == 200
            assert response.json()["body"] == "posted body"
        assert client.get("/missing").status_code == 404


BLOCK = os.urandom(MIB)


def upload_blocks(total: int) -> Iterator[bytes]:
    for _ in range(total // MIB):
        yield BLOCK


@pytest.mark.timeout(180)
@pytest.mark.parametrize("server", ["gunicorn-sync", "gunicorn-gthread"])
def test_64_mib_chunked_upload_and_download_keep_peak_rss_growth_under_16_mib(
    server: str, tmp_path: Path
) -> None:
    size = 64 * MIB
    expected = hashlib.sha256()
    for block in upload_blocks(size):
        expected.update(block)
    with serve(server, "raw", tmp_path, workers=1) as client:
        fresh_get(client, "/pid")  # lifespan and loop started
        baseline = client.get("/rss/reset").json()["rss_kib"]
        answer = client.post("/upload", content=upload_blocks(size)).json()  # chunked
        assert answer == {"size": size, "sha256": expected.hexdigest()}
        upload_growth = client.get("/rss").json()["peak_kib"] - baseline
        baseline = client.get("/rss/reset").json()["rss_kib"]
        received = 0
        with client.stream("GET", f"/download?size={size}") as response:
            for chunk in response.iter_raw():
                received += len(chunk)
        download_growth = client.get("/rss").json()["peak_kib"] - baseline
    print(f"{server}: upload peak RSS growth {upload_growth} KiB, download {download_growth} KiB")
    assert received == size
    assert upload_growth < 16 * 1024
    assert download_growth < 16 * 1024


LINGER_RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # close() sends RST: a hard disconnect


def stats(client: httpx.Client) -> dict[str, Any]:
    """The app's view of its process; the server's own lazily grown pool threads (gunicorn
    gthread's ``ThreadPoolExecutor``) are left out of the thread list."""
    result: dict[str, Any] = client.get("/stats").json()
    result["threads"] = [t for t in result["threads"] if not t.startswith("ThreadPoolExecutor")]
    return result


@pytest.mark.timeout(180)
@pytest.mark.parametrize("server", ["gunicorn-sync", "gunicorn-gthread", "waitress", "wsgiref"])
def test_20_mid_download_disconnects_leave_nothing_behind(server: str, tmp_path: Path) -> None:
    with serve(server, "raw", tmp_path, workers=1) as client:
        port = int(str(client.base_url).rsplit(":", 1)[1].rstrip("/"))
        fresh_get(client, "/pid")
        before = stats(client)
        for _ in range(20):
            with socket.create_connection((LOOPBACK, port), timeout=HTTP_TIMEOUT) as sock:
                sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
                received = 0
                while received < 256 * 1024:
                    received += len(sock.recv(65536))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        deadline = time.monotonic() + 30
        while True:
            after = stats(client)
            settled = after["disconnects"] == 20 and after["tasks"] == 0
            settled = settled and after["threads"] == before["threads"]
            settled = settled and after["fds"] <= before["fds"]
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert after["disconnects"] == 20
        assert after["tasks"] == 0
        assert after["threads"] == before["threads"]
        assert after["fds"] <= before["fds"]
        assert fresh_get(client, "/pid").json()["state"]


@pytest.mark.timeout(120)
def test_gthread_requests_share_the_loop_without_serialising(tmp_path: Path) -> None:
    count = 4  # = gunicorn-gthread's --threads: all four requests are in the app at once
    with serve("gunicorn-gthread", "raw", tmp_path, workers=1) as client:
        fresh_get(client, "/pid")
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            futures = [pool.submit(fresh_get, client, f"/together?n={count}") for _ in range(count)]
            answers = [future.result().json() for future in futures]
    assert [answer["together"] for answer in answers] == [True] * count
    assert len({answer["thread"] for answer in answers}) == 1  # one loop thread served all


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", SERVERS)
def test_head_gets_the_headers_of_get_and_no_body(server: str, tmp_path: Path) -> None:
    with serve(server, "raw", tmp_path, workers=1) as client:
        length = len(fresh_get(client, "/pid").content)
        response = client.head("/pid", headers={"connection": "close"})
    assert response.status_code == 200
    assert response.headers["content-length"] == str(length)
    assert response.content == b""
