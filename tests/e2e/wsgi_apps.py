"""WSGI applications that the end-to-end tests serve through :class:`~asgiref.wsgi.WsgiToAsgi`.

The module-level ASGI application :data:`application` is what a real server
(uvicorn, hypercorn, daphne) imports as ``e2e.wsgi_apps:application``.  Every
endpoint is a small WSGI callable; the state they share (which client ports
were seen, which streaming iterables were closed) lives in the server process
and is read back over HTTP by the tests:

==================  ==============================================================
``/hello``          fixed body with ``Content-Length`` (like Django and Flask);
                    records ``REMOTE_PORT``
``/ports``          JSON: the distinct ``REMOTE_PORT`` values ``/hello`` saw
``/echo``           JSON: length and SHA-256 of ``wsgi.input``, read to EOF in blocks
``/stream?id=T``    endless ``application/octet-stream`` response; its iterable's
                    ``close()`` records ``T``
``/closed``         JSON: how often ``close()`` ran per stream id, and which ids started
``/upload?id=T``    reads ``wsgi.input`` to EOF and records under ``T`` whether it got
                    the whole body or an error (a client that leaves mid-upload)
``/uploads``        JSON: those records
``/threads``        JSON: :func:`threading.active_count` of the server process
``/barrier``        waits on a 10-party :class:`threading.Barrier`; 200 once all
                    10 requests are inside the application at the same time
==================  ==============================================================
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from asgiref.wsgi import WsgiToAsgi

__all__ = [
    "BARRIER_PARTIES",
    "HELLO_BODY",
    "STREAM_CHUNK",
    "EndlessStream",
    "application",
    "dispatch",
    "query",
    "respond",
    "respond_json",
    "wsgi_application",
]

HELLO_BODY = b"Hello, world!\n"
STREAM_CHUNK = b"0123456789abcdef" * 1024  # 16 KiB per item of the endless stream
BARRIER_PARTIES = 10
_READ_BLOCK = 65536
# Safety bound (about 1 GiB): an adapter that never notices the disconnect must not
# spin forever on this shared machine; the tests never read more than a few chunks.
_MAX_STREAM_CHUNKS = 65536
# Bounds the wait of /barrier, so that a serialising adapter fails instead of hanging.
_BARRIER_TIMEOUT = 30.0


class _SharedState:
    """What the endpoints record in the server process.

    Thread rules: WSGI requests run on several worker threads at once; every
    field below is guarded by ``lock``, except ``barrier``, which is itself
    thread-safe.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.remote_ports: set[str] = set()  # guarded by lock
        self.streams_started: list[str] = []  # guarded by lock
        self.close_calls: dict[str, int] = {}  # guarded by lock
        self.uploads: dict[str, dict[str, object]] = {}  # guarded by lock
        self.barrier = threading.Barrier(BARRIER_PARTIES, timeout=_BARRIER_TIMEOUT)


_state = _SharedState()


def respond(
    start_response: StartResponse,
    body: bytes,
    *,
    status: str = "200 OK",
    content_type: str = "text/plain; charset=utf-8",
) -> list[bytes]:
    """Start a response with an exact ``Content-Length`` and return ``body`` as the iterable."""
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def respond_json(start_response: StartResponse, data: object) -> list[bytes]:
    """Start a JSON response holding ``data``."""
    return respond(start_response, json.dumps(data).encode(), content_type="application/json")


def query(environ: WSGIEnvironment, name: str) -> str:
    """Return the first value of query parameter ``name``, or ``""``."""
    values = parse_qs(str(environ.get("QUERY_STRING", ""))).get(name, [""])
    return values[0]


def _hello(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer a fixed body with Content-Length and record the client's port.

    Runs in: a WSGI worker thread of the adapter.
    """
    with _state.lock:
        _state.remote_ports.add(str(environ.get("REMOTE_PORT", "")))
    return respond(start_response, HELLO_BODY)


def _ports(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Report the distinct ``REMOTE_PORT`` values that ``/hello`` has seen."""
    with _state.lock:
        ports = sorted(_state.remote_ports)
    return respond_json(start_response, {"ports": ports})


def _echo(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Read ``wsgi.input`` to EOF in blocks and report its length and SHA-256.

    No ``CONTENT_LENGTH`` is consulted: with ``wsgi.input_terminated`` the stream
    itself ends at the end of the body, chunked or not.
    """
    stream = environ["wsgi.input"]
    digest = hashlib.sha256()
    length = 0
    while block := stream.read(_READ_BLOCK):
        digest.update(block)
        length += len(block)
    return respond_json(start_response, {"length": length, "sha256": digest.hexdigest()})


def _upload(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Read ``wsgi.input`` to EOF, recording progress and the outcome under ``?id=``.

    The record says ``"started"`` once the first block arrived, then either
    ``"complete"`` with the length, or ``"error"`` with the exception's class and
    whether it is an :class:`OSError` (what Django turns into ``UnreadablePostError``).
    """
    record: dict[str, object] = {"state": "reading", "length": 0}
    with _state.lock:
        _state.uploads[query(environ, "id")] = record
    stream = environ["wsgi.input"]
    length = 0
    try:
        while block := stream.read(_READ_BLOCK):
            length += len(block)
            with _state.lock:
                record.update(state="started", length=length)
    except Exception as exc:
        with _state.lock:
            record.update(state="error", error=type(exc).__name__, oserror=isinstance(exc, OSError))
        return respond(start_response, b"body unreadable\n", status="400 Bad Request")
    with _state.lock:
        record.update(state="complete", length=length)
    return respond_json(start_response, {"length": length})


def _uploads(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Report the records of ``/upload``."""
    with _state.lock:
        data = {key: dict(record) for key, record in _state.uploads.items()}
    return respond_json(start_response, data)


class EndlessStream:
    """An iterable response that never ends by itself and records its ``close()``.

    Args:
        stream_id: the key under which ``close()`` is counted.
    """

    def __init__(self, stream_id: str) -> None:
        self._stream_id = stream_id
        self._sent = 0

    def __iter__(self) -> Iterator[bytes]:
        """Return the iterator itself (the object is its own iterator)."""
        return self

    def __next__(self) -> bytes:
        """Return the next chunk.

        Raises:
            StopIteration: only after the safety bound of about 1 GiB.
        """
        if self._sent >= _MAX_STREAM_CHUNKS:
            raise StopIteration
        self._sent += 1
        return STREAM_CHUNK

    def close(self) -> None:
        """Count this call for the stream id (PEP 3333: the server must call it)."""
        with _state.lock:
            count = _state.close_calls.get(self._stream_id, 0)
            _state.close_calls[self._stream_id] = count + 1


def _stream(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Start an endless streaming response, without Content-Length."""
    stream_id = query(environ, "id")
    with _state.lock:
        _state.streams_started.append(stream_id)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return EndlessStream(stream_id)


def _closed(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Report which streams started and how often each one's ``close()`` ran."""
    with _state.lock:
        data = {"started": list(_state.streams_started), "closed": dict(_state.close_calls)}
    return respond_json(start_response, data)


def _threads(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Report the number of live Python threads in the server process."""
    return respond_json(start_response, {"threads": threading.active_count()})


def _barrier(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Return 200 only once :data:`BARRIER_PARTIES` requests run here at the same time.

    A serialising adapter cannot get more than one request in here: the barrier
    then times out, breaks, and every request gets a 503.
    """
    try:
        _state.barrier.wait()
    except threading.BrokenBarrierError:
        return respond(start_response, b"barrier broken\n", status="503 Service Unavailable")
    return respond(start_response, b"all parties arrived\n")


_ROUTES: dict[str, WSGIApplication] = {
    "/hello": _hello,
    "/ports": _ports,
    "/echo": _echo,
    "/upload": _upload,
    "/uploads": _uploads,
    "/stream": _stream,
    "/closed": _closed,
    "/threads": _threads,
    "/barrier": _barrier,
}


def dispatch(routes: Mapping[str, WSGIApplication]) -> WSGIApplication:
    """Return a WSGI application dispatching on ``PATH_INFO`` to ``routes`` (404 otherwise)."""

    def wsgi_application(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        endpoint = routes.get(environ.get("PATH_INFO", ""))
        if endpoint is None:
            return respond(start_response, b"not found\n", status="404 Not Found")
        return endpoint(environ, start_response)

    return wsgi_application


wsgi_application = dispatch(_ROUTES)
"""The endpoints of this module as one WSGI application."""

application = WsgiToAsgi(wsgi_application)
"""The ASGI application that the servers import: :func:`wsgi_application` behind the adapter."""
