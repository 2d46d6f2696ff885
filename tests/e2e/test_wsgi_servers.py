"""WsgiToAsgi end to end: plain WSGI apps under uvicorn, hypercorn and daphne, real HTTP client.

Each test starts its own server process on 127.0.0.1 (``e2e.wsgi_apps:application``)
and talks to it with httpx.  They show, under every server:

* 500 keep-alive requests on one connection to an app that sets Content-Length
  all succeed (asgiref 3.13 answers 20-50 % of them with a 500,
  "CurrentThreadExecutor already quit or is broken");
* a chunked upload reaches ``wsgi.input`` byte for byte (D8, D9);
* client disconnects in the middle of an endless response close the iterable,
  free the worker thread and leave the server serving (D1, D13);
* the lifespan scope is answered, so startup and shutdown log no error (D28);
* 10 requests run in the application at the same time (D7).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import random
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from e2e.wsgi_apps import BARRIER_PARTIES, HELLO_BODY
from e2e.wsgi_serving import SERVERS, Served, poll_until, serve
from servers import LOOPBACK

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("server", SERVERS)]

WSGI_APP = "e2e.wsgi_apps:application"
KEEPALIVE_REQUESTS = 500
DISCONNECTS = 20
UPLOAD_SIZE = 10 * 1024 * 1024
UPLOAD_BLOCK = 65536
HTTP_TIMEOUT = 60.0


def _client_port(response: httpx.Response) -> int:
    """Return the local port of the connection that carried ``response``."""
    stream = response.extensions["network_stream"]
    port: int = stream.get_extra_info("client_addr")[1]
    return port


@pytest.mark.timeout(120)
def test_500_keepalive_requests_on_one_connection_all_succeed(server: str, tmp_path: Path) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with (
        serve(server, WSGI_APP, tmp_path) as served,
        httpx.Client(base_url=served.url, limits=limits, timeout=HTTP_TIMEOUT) as client,
    ):
        failures: list[tuple[int, int, str]] = []
        client_ports: set[int] = set()
        for index in range(KEEPALIVE_REQUESTS):
            with client.stream("GET", "/hello") as response:
                client_ports.add(_client_port(response))  # while the socket is open
                response.read()
            if response.status_code != 200 or response.content != HELLO_BODY:
                failures.append((index, response.status_code, response.text[:200]))
        server_ports = client.get("/ports").json()["ports"]

    assert failures == [], f"{len(failures)} of {KEEPALIVE_REQUESTS} failed: {failures[:5]}"
    assert len(client_ports) == 1, f"the client used {len(client_ports)} connections"
    assert server_ports == [str(port) for port in client_ports]


def _upload_payload() -> bytes:
    """Return 10 MiB of reproducible pseudo-random bytes."""
    return random.Random(20261123).randbytes(UPLOAD_SIZE)


def _chunked(payload: bytes) -> Iterator[bytes]:
    """Yield ``payload`` in blocks; httpx sends a generator body chunked, without length."""
    for start in range(0, len(payload), UPLOAD_BLOCK):
        yield payload[start : start + UPLOAD_BLOCK]


@pytest.mark.timeout(120)
def test_chunked_upload_reaches_wsgi_input_byte_for_byte(server: str, tmp_path: Path) -> None:
    payload = _upload_payload()
    with (
        serve(server, WSGI_APP, tmp_path) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        response = client.post("/echo", content=_chunked(payload))

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 200, response.text
    expected = {"length": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    assert response.json() == expected


def _disconnect_mid_stream(served: Served, stream_id: str) -> None:
    """Open ``/stream``, read a few chunks, then drop the connection.

    A fresh client per stream: leaving a response unread and closing the client
    closes the socket, which the server reports to the adapter as a disconnect.
    """
    with (
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
        client.stream("GET", "/stream", params={"id": stream_id}) as response,
    ):
        assert response.status_code == 200
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received >= 3 * 16384:
                break


def _close_calls(client: httpx.Client) -> dict[str, int]:
    """Return how often each stream's ``close()`` ran, as the server recorded it."""
    calls: dict[str, int] = client.get("/closed").json()["closed"]
    return calls


def _closed_once(stream_id: str) -> Callable[[dict[str, int]], bool]:
    """Return a check that ``close()`` of stream ``stream_id`` has been recorded."""
    return lambda calls: stream_id in calls


def _thread_count(client: httpx.Client) -> int:
    """Return ``threading.active_count()`` of the server process."""
    count: int = client.get("/threads").json()["threads"]
    return count


@pytest.mark.timeout(120)
def test_client_disconnects_mid_stream_call_close_and_free_threads(
    server: str, tmp_path: Path
) -> None:
    with (
        serve(server, WSGI_APP, tmp_path) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        # Warm up with the same pattern, so the baseline includes idle pool threads.
        _disconnect_mid_stream(served, "warm-up")
        poll_until(lambda: _close_calls(client), lambda calls: "warm-up" in calls)
        baseline = _thread_count(client)

        stream_ids = [f"disconnect-{index}" for index in range(DISCONNECTS)]
        for stream_id in stream_ids:
            _disconnect_mid_stream(served, stream_id)
            calls = poll_until(lambda: _close_calls(client), _closed_once(stream_id))
            assert calls.get(stream_id) == 1, f"close() not called for {stream_id}: {calls}"

        threads = poll_until(lambda: _thread_count(client), lambda count: count <= baseline)
        calls = _close_calls(client)
        response = client.get("/hello")

    assert {stream_id: calls.get(stream_id) for stream_id in stream_ids} == dict.fromkeys(
        stream_ids, 1
    )
    assert threads <= baseline, f"{threads} threads after the disconnects, baseline {baseline}"
    assert response.status_code == 200
    assert response.content == HELLO_BODY


def _uploads(client: httpx.Client) -> dict[str, dict[str, object]]:
    """Return what ``/upload`` recorded, per upload id."""
    records: dict[str, dict[str, object]] = client.get("/uploads").json()
    return records


def _upload_state(upload_id: str, *states: str) -> Callable[[dict[str, dict[str, object]]], bool]:
    """Return a check that upload ``upload_id`` has reached one of ``states``."""
    return lambda records: records.get(upload_id, {}).get("state") in states


# Daphne (Twisted) calls the application only once the whole request body has arrived.
_DISPATCHES_BEFORE_BODY_ENDS = {"uvicorn": True, "hypercorn": True, "daphne": False}


def _leave_mid_upload(served: Served, client: httpx.Client, server: str) -> None:
    """Declare a 10 MiB body, send 128 KiB of it, then close the connection.

    Where the server calls the application before the body has ended, the
    connection is closed only once the application has read the first block.
    """
    head = (
        "POST /upload?id=partial HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {UPLOAD_SIZE}\r\n\r\n"
    )
    port = httpx.URL(served.url).port
    assert port is not None
    with socket.create_connection((LOOPBACK, port)) as sock:
        sock.sendall(head.encode() + bytes(2 * UPLOAD_BLOCK))
        if _DISPATCHES_BEFORE_BODY_ENDS[server]:
            poll_until(lambda: _uploads(client), _upload_state("partial", "started"))


@pytest.mark.timeout(120)
def test_client_leaving_mid_upload_makes_the_read_raise_oserror(
    server: str, tmp_path: Path
) -> None:
    with (
        serve(server, WSGI_APP, tmp_path) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        _leave_mid_upload(served, client, server)
        if _DISPATCHES_BEFORE_BODY_ENDS[server]:
            done = _upload_state("partial", "error", "complete")
            records = poll_until(lambda: _uploads(client), done)
        else:  # the application is never called for a body that did not arrive
            records = _uploads(client)
        response = client.get("/hello")

    assert response.status_code == 200
    if _DISPATCHES_BEFORE_BODY_ENDS[server]:
        record = records["partial"]
        assert record["state"] == "error", record  # never a short body taken as complete
        assert record["oserror"] is True, record
    else:
        assert "partial" not in records, records


def _startup_options(server: str) -> list[str]:
    """Return options that make ``server`` log its lifespan progress."""
    return {"uvicorn": ["--log-level", "info"], "hypercorn": ["--log-level", "info"]}.get(
        server, ["-v", "1"]
    )


@pytest.mark.timeout(120)
def test_lifespan_startup_and_shutdown_log_no_error(server: str, tmp_path: Path) -> None:
    with (
        serve(server, WSGI_APP, tmp_path, extra_args=_startup_options(server)) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        response = client.get("/hello")
    log = served.log_text()  # complete: the server has stopped

    assert response.status_code == 200
    for bad in ("Traceback", "Lifespan error", "lifespan' protocol appears unsupported", "ERROR"):
        assert bad not in log, f"server log contains {bad!r}:\n{log}"
    if server == "uvicorn":  # lifespan=auto (the default) reports both phases
        assert "Application startup complete." in log, log
        assert "Application shutdown complete." in log, log


@pytest.mark.timeout(120)
def test_ten_requests_run_in_the_application_concurrently(server: str, tmp_path: Path) -> None:
    limits = httpx.Limits(max_connections=BARRIER_PARTIES)
    with (
        serve(server, WSGI_APP, tmp_path) as served,
        httpx.Client(base_url=served.url, limits=limits, timeout=HTTP_TIMEOUT) as client,
        concurrent.futures.ThreadPoolExecutor(BARRIER_PARTIES) as pool,
    ):
        futures = [pool.submit(client.get, "/barrier") for _ in range(BARRIER_PARTIES)]
        responses = [future.result() for future in futures]

    statuses = [response.status_code for response in responses]
    assert statuses == [200] * BARRIER_PARTIES, json.dumps([r.text for r in responses])
