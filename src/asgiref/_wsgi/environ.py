"""Building the WSGI environ (PEP 3333) from an ASGI HTTP scope.

Pure functions: no I/O, no threads.  The mapping is the table in ``docs/wsgi.rst``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final

from asgiref._wsgi.errors import DuplicateHeadersError
from asgiref._wsgi.filewrapper import FileWrapper

__all__ = ["build_environ", "split_path", "wsgi_str"]

#: Environ keys every request gets; copied into each new environ.
_CONSTANT_KEYS: Final[Mapping[str, Any]] = {
    "wsgi.version": (1, 0),
    "wsgi.input_terminated": True,
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.file_wrapper": FileWrapper,
}


def wsgi_str(text: str) -> str:
    """Re-encode a decoded ASGI string WSGI-style: its UTF-8 bytes as latin-1 code points."""
    if text.isascii():
        return text
    return text.encode("utf-8").decode("latin-1")


def split_path(root_path: str, path: str) -> tuple[str, str]:
    """Split ``path`` into ``(SCRIPT_NAME, PATH_INFO)`` at a path-segment boundary.

    ``root_path`` loses its trailing ``/``.  It is removed from the front of ``path``
    only when ``path`` equals it or continues with ``/``; otherwise ``PATH_INFO`` is
    the whole ``path``.

    Returns:
        The two strings, still in ASGI (decoded) form.
    """
    script_name = root_path.rstrip("/")
    if not script_name:
        return "", path
    if path == script_name:
        return script_name, ""
    if path.startswith(script_name + "/"):
        return script_name, path[len(script_name) :]
    return script_name, path


def build_environ(
    scope: Mapping[str, Any], body: object, duplicate_header_limit: int | None
) -> dict[str, Any]:
    """Return the WSGI environ for an ASGI ``http`` scope.

    Args:
        scope: The ASGI HTTP connection scope.
        body: The object to use verbatim as ``wsgi.input`` (may be ``None``).
        duplicate_header_limit: Most values one environ key may collect from repeated
            headers; ``None`` or ``0`` disables the check.

    Returns:
        A new environ dict.

    Raises:
        DuplicateHeadersError: A header key would collect more than the limit.

    Runs in: any thread (pure).
    """
    script_name, path_info = split_path(scope.get("root_path") or "", scope["path"])
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": wsgi_str(script_name),
        "PATH_INFO": wsgi_str(path_info),
        "QUERY_STRING": (scope.get("query_string") or b"").decode("latin-1"),
        "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
    }
    environ.update(_CONSTANT_KEYS)
    _add_server_and_client(environ, scope)
    _add_headers(environ, scope.get("headers") or (), duplicate_header_limit)
    return environ


def _add_server_and_client(environ: dict[str, Any], scope: Mapping[str, Any]) -> None:
    server = scope.get("server")
    if server is None:
        environ["SERVER_NAME"], environ["SERVER_PORT"] = "localhost", "80"
    else:
        port = server[1]
        environ["SERVER_NAME"] = server[0]
        environ["SERVER_PORT"] = "0" if port is None else str(port)
    client = scope.get("client")
    if client is not None:
        environ["REMOTE_ADDR"] = client[0]
        if len(client) > 1 and client[1] is not None:
            environ["REMOTE_PORT"] = str(client[1])


def _header_key(name: bytes) -> str | None:
    """Map a header name to its environ key; ``None`` for names containing ``_``."""
    if b"_" in name:
        return None
    upper = name.decode("latin-1").upper()
    if upper == "CONTENT-LENGTH":
        return "CONTENT_LENGTH"
    if upper == "CONTENT-TYPE":
        return "CONTENT_TYPE"
    return "HTTP_" + upper.replace("-", "_")


def _add_headers(environ: dict[str, Any], headers: Iterable[Any], limit: int | None) -> None:
    counts: dict[str, int] = {}
    for name, raw_value in headers:
        key = _header_key(name)
        if key is None:
            continue
        value = raw_value.decode("latin-1")
        count = counts.get(key, 0) + 1
        counts[key] = count
        if count == 1:
            environ[key] = value
            continue
        if limit and count > limit:
            raise DuplicateHeadersError(
                f"Too many duplicate headers: {key} exceeds limit of {limit}"
            )
        separator = "; " if key == "HTTP_COOKIE" else ","
        environ[key] = environ[key] + separator + value
