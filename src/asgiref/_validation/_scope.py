"""Checks of the scope a server passes to an application (rules ``SCOPE-*``,
``CONN-SCOPE-*``, ``HTTP-SCOPE-*``, ``WS-SCOPE-*``, ``LIFE-SCOPE-*``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from asgiref._validation._values import (
    HeaderRules,
    Report,
    check_headers,
    clean_headers,
    is_asgi_value,
)

__all__ = ["check_scope", "check_state_copy"]

_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Z]+").fullmatch
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
_HTTP_VERSIONS = frozenset({"1.0", "1.1", "2", "3"})
_WS_VERSIONS = frozenset({"1.1", "2"})
_SCOPE_HEADERS = HeaderRules(shape="CONN-SCOPE-005", pseudo="CONN-SCOPE-006")
_TLS_SCHEMES = frozenset({"https", "wss"})


def check_scope(scope: Any, report: Report) -> tuple[Any, list[bytes]]:
    """Check ``scope`` and return it, with a non-list ``headers`` iterable made a list.

    Returns:
        The scope to give the application (``scope`` itself, or a shallow copy whose
        ``headers`` is a list when the server passed a one-shot iterable), and the
        values of its ``content-length`` headers.
    """
    if not isinstance(scope, dict):
        report("SCOPE-001", "the scope must be a dict", scope)
        return scope, []
    kind = scope.get("type")
    if not isinstance(kind, str):
        report("SCOPE-002", "scope['type'] must be a str naming the protocol", scope)
        return scope, []
    _check_common(scope, report)
    if kind == "lifespan":
        state = scope.get("state")
        if isinstance(state, dict) and state:
            report("LIFE-SCOPE-001", "give the lifespan scope an empty state dict", state)
        return scope, []
    if kind not in ("http", "websocket"):
        return scope, []
    if kind == "http":
        _check_http(scope, report)
    else:
        _check_websocket(scope, report)
    return _check_connection(scope, report)


def _check_common(scope: dict[str, Any], report: Report) -> None:
    """The keys every scope has: ``asgi``, ``extensions``, ``state``."""
    asgi = scope.get("asgi")
    if not isinstance(asgi, dict):
        report("SCOPE-003", "add scope['asgi'] = {'version': '3.0'}", scope)
    else:
        if asgi.get("version") not in ("2.0", "3.0"):
            report("SCOPE-004", "scope['asgi']['version'] must be '3.0' (or '2.0')", asgi)
        if not isinstance(asgi.get("spec_version", ""), str):
            report("SCOPE-005", "scope['asgi']['spec_version'] must be a str", asgi)
    extensions = scope.get("extensions")
    if extensions is not None:
        if not isinstance(extensions, dict) or not all(
            isinstance(key, str) and isinstance(value, dict) for key, value in extensions.items()
        ):
            report("SCOPE-006", "scope['extensions'] must map names to dicts", extensions)
        else:
            if extensions and not is_asgi_value(extensions):
                report(
                    "SCOPE-010",
                    "extension data may hold only bytes, str, int, float, bool, None, "
                    "lists and dicts with str keys",
                    extensions,
                )
            if "tls" in extensions:
                _check_tls(scope, extensions["tls"], report)
    if "state" in scope and not isinstance(scope["state"], dict):
        report("SCOPE-007", "scope['state'] must be a dict", scope["state"])


def _check_tls(scope: dict[str, Any], tls: dict[str, Any], report: Report) -> None:
    """The ``tls`` extension: only on TLS connections, with its mandatory keys."""
    if scope.get("scheme") not in _TLS_SCHEMES:
        report("SCOPE-008", "offer the tls extension only on https/wss connections", scope)
    if not (
        (tls.get("server_cert", 0) is None or isinstance(tls.get("server_cert"), str))
        and _int_or_none(tls, "tls_version")
        and _int_or_none(tls, "cipher_suite")
    ):
        report("SCOPE-009", "tls needs server_cert, tls_version and cipher_suite", tls)


def _int_or_none(mapping: Mapping[str, Any], key: str) -> bool:
    """Tell whether ``mapping[key]`` exists and is an int or ``None``."""
    if key not in mapping:
        return False
    value = mapping[key]
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _check_http(scope: dict[str, Any], report: Report) -> None:
    """The keys only an http scope has, or has with other rules."""
    if scope.get("http_version") not in _HTTP_VERSIONS:
        report("HTTP-SCOPE-001", "http_version must be '1.0', '1.1' or '2'", scope)
    method = scope.get("method")
    if method not in _METHODS and (not isinstance(method, str) or not _METHOD(method)):
        report("HTTP-SCOPE-002", "method must be an upper-case str such as 'GET'", method)
    if "query_string" not in scope:
        report("HTTP-SCOPE-003", "add scope['query_string'] (b'' when there is none)", scope)


def _check_websocket(scope: dict[str, Any], report: Report) -> None:
    """The keys only a websocket scope has, or has with other rules."""
    if scope.get("http_version", "1.1") not in _WS_VERSIONS:
        report("WS-SCOPE-001", "a websocket http_version must be '1.1' or '2'", scope)
    scheme = scope.get("scheme", "ws")
    if isinstance(scheme, str) and scheme and scheme not in ("ws", "wss"):
        report("WS-SCOPE-002", "a websocket scheme must be 'ws' or 'wss'", scheme)
    subprotocols = scope.get("subprotocols", ())
    if not _is_str_list(subprotocols):
        report("WS-SCOPE-003", "subprotocols must be a list of str", subprotocols)


def _is_str_list(value: object) -> bool:
    """Tell whether ``value`` is a non-str iterable of str."""
    return (
        isinstance(value, Iterable)
        and not isinstance(value, (str, bytes))
        and all(isinstance(item, str) for item in value)
    )


def _check_connection(scope: dict[str, Any], report: Report) -> tuple[Any, list[bytes]]:
    """The keys http and websocket scopes share."""
    path = scope.get("path")
    if not isinstance(path, str):
        report("CONN-SCOPE-001", "scope['path'] must be the decoded path, a str", path)
    raw_path = scope.get("raw_path")
    if raw_path is not None and not isinstance(raw_path, bytes):
        report("CONN-SCOPE-002", "raw_path must be bytes or None", raw_path)
    query_string = scope.get("query_string")
    if not isinstance(query_string, bytes) and not (
        query_string is None and scope["type"] == "websocket"
    ):
        report("CONN-SCOPE-003", "query_string must be bytes (still percent-encoded)", query_string)
    root_path = scope.get("root_path", "")
    if not isinstance(root_path, str):
        report("CONN-SCOPE-004", "root_path must be a str", root_path)
    elif isinstance(path, str) and root_path and not path.startswith(root_path):
        report("CONN-SCOPE-010", "path must include root_path at its start", scope)
    client = scope.get("client")
    if client is not None and not _is_address(client, False):
        report("CONN-SCOPE-007", "scope['client'] must be [host, port] or None", client)
    server = scope.get("server")
    if server is not None and not _is_address(server, True):
        report("CONN-SCOPE-008", "scope['server'] must be [host, port|None] or None", server)
    scheme = scope.get("scheme", "http")
    if not isinstance(scheme, str) or not scheme:
        report("CONN-SCOPE-009", "scheme must be a non-empty str", scheme)
    headers = scope.get("headers")
    if type(headers) is list or type(headers) is tuple:
        content_lengths = clean_headers(headers, False, False)
        if content_lengths is not None:
            return scope, content_lengths
    return _check_scope_headers(scope, report)


def _is_address(value: object, port_may_be_none: bool) -> bool:
    """Tell whether ``value`` is a ``[host: str, port: int]`` pair (port ``None`` allowed
    when ``port_may_be_none``)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return False
    host, port = value
    if type(host) is str and type(port) is int:  # the common shape: no further calls
        return True
    if port is None:
        return port_may_be_none and isinstance(host, str)
    return isinstance(host, str) and isinstance(port, int) and not isinstance(port, bool)


def _check_scope_headers(scope: dict[str, Any], report: Report) -> tuple[Any, list[bytes]]:
    """Check ``scope['headers']``, making a one-shot iterable a list in a scope copy."""
    headers = scope.get("headers")
    if type(headers) is not list and not isinstance(headers, (list, tuple)):
        if not isinstance(headers, Iterable) or isinstance(headers, (str, bytes, dict)):
            report("CONN-SCOPE-005", "scope['headers'] must be a list of [name, value]", headers)
            return scope, []
        scope = {**scope, "headers": list(headers)}
        headers = scope["headers"]
    return scope, check_headers(headers, report, _SCOPE_HEADERS)


def check_state_copy(
    scope: dict[str, Any], lifespan_states: list[dict[str, Any]], report: Report
) -> None:
    """Check that a connection scope's ``state`` is a shallow copy of a lifespan's state.

    Args:
        scope: An http or websocket scope (already checked).
        lifespan_states: The ``state`` dicts of the lifespans running through the same
            validated application (non-empty).
        report: Where violations go.
    """
    state = scope.get("state")
    if state is None:
        if any(lifespan_states):
            report(
                "CONN-SCOPE-012",
                "the lifespan stored state; pass a shallow copy of it as scope['state'] "
                "(with LifespanManager, serve manager.app)",
                scope,
            )
        return
    if not isinstance(state, dict):
        return  # SCOPE-007, already reported
    for lifespan_state in lifespan_states:
        if state is lifespan_state:
            report(
                "CONN-SCOPE-011",
                "pass a shallow copy of the lifespan state (dict(state)), not the dict itself",
                state,
            )
            return
    for lifespan_state in lifespan_states:
        if state.keys() == lifespan_state.keys() and all(
            state[key] is value for key, value in lifespan_state.items()
        ):
            return
    report("CONN-SCOPE-012", "scope['state'] must be a shallow copy of the lifespan state", state)
