"""The ASGI ``http`` scope of a WSGI request (``AsgiToWsgi``).

:func:`build_scope` reads a PEP 3333 environ and returns the scope the ASGI HTTP spec
describes; see ``asgi-to-wsgi-scope`` in docs/wsgi.rst for the table.  WSGI strings are
"bytes as latin-1 str": ``path`` and ``root_path`` are those bytes decoded as UTF-8,
``query_string``, ``raw_path`` and headers are the bytes themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["ASGI_INFO", "build_scope", "request_body_length"]

#: ``scope["asgi"]``: ASGI 3; spec 2.4 because ``send()`` after a disconnect raises an
#: ``OSError`` (:class:`~asgiref.wsgi.ClientDisconnected`).
ASGI_INFO: Final = {"version": "3.0", "spec_version": "2.4"}

_HTTP_VERSIONS: Final = {"HTTP/1.0": "1.0", "HTTP/1.1": "1.1", "HTTP/2": "2", "HTTP/2.0": "2"}
_SKIPPED_HTTP: Final = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})


def _wsgi_bytes(value: str) -> bytes:
    """Return the bytes a PEP 3333 native string stands for."""
    return value.encode("latin-1")


def _wsgi_text(value: str) -> str:
    """Return a PEP 3333 native string's bytes decoded as UTF-8 (invalid bytes: U+FFFD)."""
    return value.encode("latin-1").decode("utf-8", "replace")


def _headers(environ: Mapping[str, Any]) -> list[tuple[bytes, bytes]]:
    """Return the request headers: ``CONTENT_*`` and every ``HTTP_*`` key, lower-cased."""
    headers: list[tuple[bytes, bytes]] = []
    content_type = environ.get("CONTENT_TYPE")
    if content_type:
        headers.append((b"content-type", _wsgi_bytes(content_type)))
    content_length = environ.get("CONTENT_LENGTH")
    if content_length:
        headers.append((b"content-length", _wsgi_bytes(content_length)))
    for key, value in environ.items():
        if key.startswith("HTTP_") and key not in _SKIPPED_HTTP:
            name = key[5:].lower().replace("_", "-")
            headers.append((_wsgi_bytes(name), _wsgi_bytes(value)))
    return headers


def _port(value: object) -> int | None:
    """Return ``value`` as a port number, or ``None`` when it is not one."""
    try:
        return int(str(value))
    except ValueError:
        return None


def _raw_path(environ: Mapping[str, Any]) -> bytes | None:
    """Return the request target's path as received (gunicorn ``RAW_URI``, mod_wsgi,
    uWSGI and waitress ``REQUEST_URI``), or ``None`` when the server does not give it."""
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not isinstance(uri, str) or not uri.startswith("/"):
        return None
    return _wsgi_bytes(uri.partition("?")[0])


def build_scope(environ: Mapping[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """Return the ASGI ``http`` scope for ``environ``.

    Args:
        environ: The PEP 3333 environ of the request.
        state: The lifespan state; a shallow copy goes into ``scope["state"]``.
            ``None`` leaves ``state`` out (no lifespan ran).

    Raises:
        UnicodeEncodeError: An environ string is not latin-1 (a broken WSGI server).
    """
    root_path = _wsgi_text(environ.get("SCRIPT_NAME", ""))
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": ASGI_INFO,
        "http_version": _HTTP_VERSIONS.get(protocol, protocol.removeprefix("HTTP/")),
        "method": environ["REQUEST_METHOD"],
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": root_path + _wsgi_text(environ.get("PATH_INFO", "")),
        "query_string": _wsgi_bytes(environ.get("QUERY_STRING", "")),
        "root_path": root_path,
        "headers": _headers(environ),
    }
    raw_path = _raw_path(environ)
    if raw_path is not None:
        scope["raw_path"] = raw_path
    if "REMOTE_ADDR" in environ:
        scope["client"] = (environ["REMOTE_ADDR"], _port(environ.get("REMOTE_PORT")) or 0)
    if "SERVER_NAME" in environ:
        scope["server"] = (environ["SERVER_NAME"], _port(environ.get("SERVER_PORT")))
    if state is not None:
        scope["state"] = state.copy()
    return scope


def request_body_length(environ: Mapping[str, Any]) -> int | None:
    """Return how many body bytes ``wsgi.input`` may be read for.

    ``CONTENT_LENGTH`` when it is a valid number; otherwise, with
    ``wsgi.input_terminated`` true, ``None`` (read until the stream ends); otherwise 0
    (PEP 3333: without a length the body must not be read).
    """
    text = environ.get("CONTENT_LENGTH")
    if text:
        try:
            length = int(text)
        except ValueError:
            length = -1
        if length >= 0:
            return length
    return None if environ.get("wsgi.input_terminated") else 0
