"""End to end: the validator around real applications under real servers, on 127.0.0.1.

Every (server, application) pair serves the same traffic (HTTP/1.1 keep-alive, a
chunked upload, a large upload, a HEAD, a file, a streaming response, a client that
leaves mid-stream, WebSocket echo / server close / rejection, and the lifespan the
server runs at start and stop), with the application wrapped in
``validate(app, on_violation=recorder())``.  The violations recorded must be exactly
the ones documented in docs/validation-findings.rst for that pair; anything else is a
false positive of the validator (or a new finding to document).
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from servers import LOOPBACK, free_port, running_server, server_command
from validation_log import ENV, read_log

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

HERE = Path(__file__).resolve().parent
DJANGO_DIR = HERE / "django_project"
SERVERS = ["uvicorn", "hypercorn", "daphne"]
APPS = {
    "probe": "validated_apps:probe",
    "starlette": "validated_apps:starlette_app",
    "wsgi": "validated_apps:wsgi_app",
    "django": "project.asgi_validated:application",
}
WEBSOCKET_APPS = {"probe", "starlette"}
STREAM_LENGTH = 50 * 1024

#: What the validator finds, per (server, app): each is a documented finding in
#: docs/validation-findings.rst (the label next to each entry).
EXPECTED: dict[tuple[str, str], set[str]] = {
    # finding-django-header-case: Django sends header names as the response has them.
    ("uvicorn", "django"): {"HTTP-SEND-009"},
    ("hypercorn", "django"): {"HTTP-SEND-009"},
    ("daphne", "django"): {"HTTP-SEND-009"},
    # finding-close-reason-spec-version: daphne reports spec 2.0, the apps close with a
    # reason (a 2.3 feature).
    ("daphne", "probe"): {"WS-SEND-018"},
    ("daphne", "starlette"): {"WS-SEND-018"},
}

#: The ``websocket.disconnect`` code each server delivers when the client closes cleanly
#: with 1000 (finding-hypercorn-1006).
CLEAN_CLOSE_CODE = {"uvicorn": 1000, "hypercorn": 1006, "daphne": 1000}


def _expected(server: str, app: str) -> set[str]:
    return EXPECTED.get((server, app), set())


def _http_traffic(url: str, app: str) -> None:
    file_path = (
        DJANGO_DIR / "project" / "views.py" if app == "django" else HERE / "validated_apps.py"
    )
    with httpx.Client(base_url=url, timeout=30) as client:  # one keep-alive connection
        for _ in range(3):
            response = client.get("/hello")
            assert (response.status_code, response.content) == (200, b"hello")
        assert client.head("/hello").status_code == 200
        payload = b"y" * 70_000
        assert client.post("/echo", content=payload).content == payload
        chunked = client.post("/echo", content=iter([b"abc"] * 5))  # Transfer-Encoding: chunked
        assert chunked.content == b"abc" * 5
        assert client.get("/file").content == file_path.read_bytes()
        assert len(client.get("/stream").content) == STREAM_LENGTH
        if app == "django":
            assert len(client.get("/stream-async").content) == STREAM_LENGTH


def _leave_mid_stream(port: int) -> None:
    """Ask for ``/stream``, read the first bytes, then close the socket."""
    with socket.create_connection((LOOPBACK, port), timeout=30) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(100)
    # Give the app the stream's 1 s to notice the disconnect and finish, so that what
    # it does then is seen too (stopping the server earlier would cancel it).
    time.sleep(1.5)


def _websocket_traffic(port: int, app: str) -> None:
    base = f"ws://{LOOPBACK}:{port}"
    with connect(f"{base}/ws", subprotocols=["chat"], open_timeout=20) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat"
        ws.send("hi")
        assert ws.recv(timeout=20) == "hi"
        if app == "probe":
            ws.send(b"\x00\x01")
            assert ws.recv(timeout=20) == b"\x00\x01"
    with connect(f"{base}/ws", open_timeout=20) as ws:
        ws.send("close")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4001
    with pytest.raises(InvalidStatus) as denied:
        connect(f"{base}/ws-deny", open_timeout=20)
    assert denied.value.response.status_code == 403


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.mark.parametrize("app", sorted(APPS))
def test_validator_finds_only_documented_violations(server: str, app: str, tmp_path: Path) -> None:
    log = tmp_path / "violations.jsonl"
    trace = tmp_path / "trace.log"
    env = {ENV: str(log), "ASGIREF_TRACE_LOG": str(trace)}
    cwd = HERE
    if app == "django":
        env |= {
            "E2E_DJANGO_DB": str(tmp_path / "db.sqlite3"),
            "DJANGO_SETTINGS_MODULE": "project.settings",
        }
        cwd = DJANGO_DIR
    port = free_port()
    with running_server(server_command(server, APPS[app], port), port, cwd=cwd, env=env) as url:
        _http_traffic(url, app)
        _leave_mid_stream(port)
        if app in WEBSOCKET_APPS:
            _websocket_traffic(port, app)
    found = read_log(log)
    assert {violation["rule"] for violation in found} == _expected(server, app), found
    if app == "probe":
        _check_trace(server, trace.read_text(encoding="utf-8"))


def _check_trace(server: str, trace: str) -> None:
    """What the probe saw the server do, as docs/validation-findings.rst reports it."""
    lifespan = "receive {'type': 'lifespan.startup'}" in trace
    assert lifespan == (server != "daphne")  # finding-daphne-lifespan
    disconnects = re.findall(r"'type': 'websocket.disconnect', 'code': (\d+)", trace)
    assert disconnects == [str(CLEAN_CLOSE_CODE[server])]
    # finding-send-after-disconnect: no server raises OSError from send() once the client
    # of /stream has gone; both streams (read in full, and left) are sent to the end.
    assert "send-raised" not in trace
    assert trace.count("stream-sent 50") == 2
