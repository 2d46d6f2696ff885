"""WsgiToAsgi hardening under real servers (issue 12, items 2, 3, 5 and 9).

Each test starts its own server on 127.0.0.1 (``e2e.wsgi_hardening_apps:application``)
and shows, with a real client:

* a streamed response whose iterable's ``close()`` raises arrives complete (status,
  every byte, the terminating chunk); ``close()`` ran once, on the WSGI thread, and
  its error is logged on ``asgiref.wsgi`` (D1);
* malformed response headers give a clean ``500`` and never reach the wire, under
  uvicorn (h11 and httptools), hypercorn and daphne -- checked on the raw bytes (D41);
* a pipelined request after a body the application never read is answered (D42), and
  beyond the drain limit the response still arrives;
* an application exception is logged with exactly one traceback (docs/wsgi.rst,
  "Errors and logging").
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import httpx
import pytest

from asgiref._wsgi.request_body import DRAIN_LIMIT
from e2e.wsgi_hardening_apps import (
    BAD_HEADERS,
    CLOSE_ITEMS,
    HELLO_BODY,
    INJECTED,
    LATIN1_VALUE,
    NOREAD_BODY,
    close_item,
)
from e2e.wsgi_serving import SERVERS, Served, poll_until, serve
from servers import LOOPBACK

pytestmark = pytest.mark.e2e

APP = "e2e.wsgi_hardening_apps:application"
HTTP_TIMEOUT = 60.0
SOCKET_TIMEOUT = 30.0
NOREAD_SIZE = 2 * 1024 * 1024
PIPELINE_TRIES = 3

#: Server variants of the header tests: uvicorn with both of its HTTP/1.1 parsers.
HEADER_SERVERS: dict[str, tuple[str, list[str]]] = {
    "uvicorn-h11": ("uvicorn", ["--http", "h11"]),
    "uvicorn-httptools": ("uvicorn", ["--http", "httptools"]),
    "hypercorn": ("hypercorn", []),
    "daphne": ("daphne", []),
}


def _port(served: Served) -> int:
    port = httpx.URL(served.url).port
    assert port is not None
    return port


def _exchange(served: Served, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection and return every byte until the server closes.

    The request is sent from a helper thread, so a server that stops reading cannot
    block the test; reading is bounded by :data:`SOCKET_TIMEOUT` per ``recv``.
    """
    with socket.create_connection((LOOPBACK, _port(served)), SOCKET_TIMEOUT) as sock:
        sender = threading.Thread(target=_send_quietly, args=(sock, request), daemon=True)
        sender.start()
        received = bytearray()
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        sender.join(SOCKET_TIMEOUT)
    return bytes(received)


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    # OSError: the server closed the connection; what it answered is asserted
    with contextlib.suppress(OSError):
        sock.sendall(data)


def _responses(raw: bytes) -> list[tuple[bytes, list[bytes], bytes]]:
    """Split raw HTTP/1.1 responses (``Content-Length`` or chunked bodies).

    Returns:
        ``(status line, header lines, body)`` per complete response; an incomplete
        trailing response is left out.
    """
    found: list[tuple[bytes, list[bytes], bytes]] = []
    rest = raw
    while b"\r\n\r\n" in rest:
        head, rest = rest.split(b"\r\n\r\n", 1)
        status, *lines = head.split(b"\r\n")
        fields = {line.split(b":", 1)[0].strip().lower(): line for line in lines if b":" in line}
        if b"content-length" in fields:
            length = int(fields[b"content-length"].split(b":", 1)[1])
            if len(rest) < length:
                break
            body, rest = rest[:length], rest[length:]
        elif b"transfer-encoding" in fields:
            body, rest, complete = _dechunk(rest)
            if not complete:
                break
        else:
            body, rest = rest, b""
        found.append((status, lines, body))
    return found


def _dechunk(data: bytes) -> tuple[bytes, bytes, bool]:
    """Decode a chunked body; returns ``(body, rest, whether the last chunk arrived)``."""
    body = bytearray()
    while b"\r\n" in data:
        size_line, data = data.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            _, _, data = data.partition(b"\r\n")
            return bytes(body), data, True
        body += data[:size]
        data = data[size + 2 :]
    return bytes(body), data, False


# -- item 2: close() raising after a streamed response -------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", SERVERS)
def test_D1_close_raising_after_a_streamed_response_loses_nothing(
    server: str, tmp_path: Path
) -> None:
    expected = b"".join(close_item(index) for index in range(CLOSE_ITEMS))
    stream_ids = [f"stream-{index}" for index in range(3)]
    with (
        serve(server, APP, tmp_path) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        responses = [client.get("/closeraise", params={"id": sid}) for sid in stream_ids]
        infos = [
            poll_until(
                lambda sid=sid: client.get("/closeinfo", params={"id": sid}).json(),  # type: ignore[misc]
                lambda info: info["calls"] >= 1,
            )
            for sid in stream_ids
        ]
        after = client.get("/hello")
    log = served.log_text()  # complete: the server has stopped

    for response in responses:  # httpx raised on an incomplete chunked body
        assert response.status_code == 200
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        assert response.content == expected
    for info in infos:
        assert info == {"calls": 1, "same_thread": True, "off_main_thread": True}
    assert after.status_code == 200
    assert after.content == HELLO_BODY
    for sid in stream_ids:
        assert log.count(f"RuntimeError: close failed for {sid}") == 1, log
    message = "Exception in close() of the WSGI response iterable for GET '/closeraise'"
    assert log.count(message) == len(stream_ids), log
    assert log.count("Traceback (most recent call last)") == len(stream_ids), log


# -- item 3: malformed headers never reach the wire -----------------------------------


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("variant", HEADER_SERVERS)
def test_D41_malformed_headers_give_500_and_never_reach_the_wire(
    variant: str, tmp_path: Path
) -> None:
    server, extra_args = HEADER_SERVERS[variant]
    with serve(server, APP, tmp_path, extra_args=extra_args) as served:
        raw = {case: _exchange(served, _get(f"/bad?case={case}")) for case in BAD_HEADERS}
        latin1 = _exchange(served, _get("/latin1"))
    log = served.log_text()

    for case, data in raw.items():
        responses = _responses(data)
        assert len(responses) == 1, f"{case}: {data!r}"
        status, lines, body = responses[0]
        assert status.startswith(b"HTTP/1.1 500"), f"{case}: {data!r}"
        assert INJECTED.lower().encode() not in data.lower(), f"{case}: {data!r}"
        assert b"injected" not in data.lower(), f"{case}: {data!r}"
        assert b"never sent" not in body, f"{case}: {data!r}"
        assert not any(line.lower().startswith((b"x-a", b"x-\xc3", b"x-\xc4")) for line in lines)
    responses = _responses(latin1)
    assert len(responses) == 1, latin1
    status, lines, body = responses[0]
    assert status.startswith(b"HTTP/1.1 200"), latin1
    assert b"x-latin: " + LATIN1_VALUE.encode("latin-1") in [line.lower() for line in lines]
    assert body == b"ok\n"
    # the reasons reach the server's log (the server logs the ValueError, once each)
    assert "invalid Content-Length header value 'abc'" in log, log
    assert "conflicting Content-Length header values '5' and '6'" in log, log
    assert "header value for 'X-A' contains CR or LF" in log, log
    assert "header value for 'X-A' contains NUL" in log, log
    assert "header name 'X-A b' is not an HTTP token" in log, log


# -- item 5: a pipelined request after an unread body ---------------------------------


@pytest.mark.timeout(180)
@pytest.mark.parametrize("server", SERVERS)
def test_D42_pipelined_request_after_an_unread_body_is_answered(
    server: str, tmp_path: Path
) -> None:
    post = (
        "POST /noread HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {NOREAD_SIZE}\r\n\r\n"
    ).encode() + bytes(NOREAD_SIZE)
    request = post + _get("/hello")
    with serve(server, APP, tmp_path) as served:
        answers = [_responses(_exchange(served, request)) for _ in range(PIPELINE_TRIES)]

    for responses in answers:
        assert [(status[:12], body) for status, _, body in responses] == [
            (b"HTTP/1.1 200", NOREAD_BODY),
            (b"HTTP/1.1 200", HELLO_BODY),
        ]


#: What a server does with the rest of a body beyond the drain limit: uvicorn and daphne
#: read it themselves and serve the next request; hypercorn closes the connection.
_READS_BEYOND_THE_DRAIN = {"uvicorn": True, "hypercorn": False, "daphne": True}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("server", SERVERS)
def test_D42_beyond_the_drain_limit_the_response_still_arrives(server: str, tmp_path: Path) -> None:
    size = 2 * DRAIN_LIMIT
    post = (
        "POST /noread HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n"
    ).encode() + bytes(size)
    with serve(server, APP, tmp_path) as served:
        responses = _responses(_exchange(served, post + _get("/hello")))

    answered = [(status[:12], body) for status, _, body in responses]
    expected = [(b"HTTP/1.1 200", NOREAD_BODY)]
    if _READS_BEYOND_THE_DRAIN[server]:
        expected.append((b"HTTP/1.1 200", HELLO_BODY))
    assert answered == expected


# -- item 9: one error, one traceback -------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", SERVERS)
def test_application_exception_is_logged_with_one_traceback(server: str, tmp_path: Path) -> None:
    with (
        serve(server, APP, tmp_path) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as client,
    ):
        response = client.get("/boom", params={"id": "once-1"})
        after = client.get("/hello")
    log = served.log_text()

    assert response.status_code == 500
    assert after.status_code == 200
    assert log.count("Traceback (most recent call last)") == 1, log
    assert log.count("ValueError: boom once-1") == 1, log
    # the server's own report, not the adapter's (its messages name "WSGI")
    assert "WSGI" not in log, log
