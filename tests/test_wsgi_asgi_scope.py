"""``AsgiToWsgi``'s ASGI ``http`` scope, built from a PEP 3333 environ."""

from __future__ import annotations

from typing import Any

import pytest

from asgi_wsgi_support import environ
from asgiref._wsgi.asgi_scope import build_scope, request_body_length


def test_scope_maps_every_environ_key() -> None:
    env = environ(
        "POST",
        path="/caf\xc3\xa9",  # PEP 3333: the UTF-8 bytes of "/café" as latin-1
        SCRIPT_NAME="/app",
        QUERY_STRING="a=1&b=%C3%A9",
        SERVER_PROTOCOL="HTTP/1.0",
        CONTENT_TYPE="text/plain",
        CONTENT_LENGTH="3",
        HTTP_X_FORWARDED_FOR="10.0.0.1",
        HTTP_ACCEPT="*/*",
        HTTP_CONTENT_TYPE="ignored",
        RAW_URI="/app/caf%C3%A9?a=1&b=%C3%A9",
    )
    env["wsgi.url_scheme"] = "https"
    scope = build_scope(env, None)
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.0"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "https"
    assert scope["root_path"] == "/app"
    assert scope["path"] == "/app/café"
    assert scope["raw_path"] == b"/app/caf%C3%A9"
    assert scope["query_string"] == b"a=1&b=%C3%A9"
    assert scope["client"] == ("127.0.0.1", 50000)
    assert scope["server"] == ("127.0.0.1", 8000)
    assert sorted(scope["headers"]) == [
        (b"accept", b"*/*"),
        (b"content-length", b"3"),
        (b"content-type", b"text/plain"),
        (b"x-forwarded-for", b"10.0.0.1"),
    ]
    assert "state" not in scope


@pytest.mark.parametrize(
    ("protocol", "version"),
    [("HTTP/1.1", "1.1"), ("HTTP/2", "2"), ("HTTP/2.0", "2"), ("HTTP/3", "3")],
)
def test_http_version_comes_from_server_protocol(protocol: str, version: str) -> None:
    assert build_scope(environ(SERVER_PROTOCOL=protocol), None)["http_version"] == version


def test_raw_path_from_request_uri_and_absent_when_unknown() -> None:
    assert build_scope(environ(REQUEST_URI="/x%20y?q"), None)["raw_path"] == b"/x%20y"
    assert "raw_path" not in build_scope(environ(), None)
    assert "raw_path" not in build_scope(environ(REQUEST_URI="http://h/x"), None)


def test_client_and_server_without_ports_or_addresses() -> None:
    env = environ(SERVER_PORT="")
    del env["REMOTE_PORT"]
    scope = build_scope(env, None)
    assert scope["client"] == ("127.0.0.1", 0)
    assert scope["server"] == ("127.0.0.1", None)
    del env["REMOTE_ADDR"], env["SERVER_NAME"]
    scope = build_scope(env, None)
    assert "client" not in scope
    assert "server" not in scope


def test_invalid_utf8_in_the_path_is_replaced() -> None:
    assert build_scope(environ(path="/\xff"), None)["path"] == "/\ufffd"


def test_state_is_a_shallow_copy_per_scope() -> None:
    shared: list[int] = []
    state: dict[str, Any] = {"items": shared}
    first = build_scope(environ(), state)
    first["state"]["new"] = 1
    assert state == {"items": shared}
    assert first["state"]["items"] is shared


@pytest.mark.parametrize(
    ("extra", "length"),
    [
        ({"CONTENT_LENGTH": "12"}, 12),
        ({"CONTENT_LENGTH": "12", "wsgi.input_terminated": True}, 12),
        ({"wsgi.input_terminated": True}, None),
        ({"CONTENT_LENGTH": "-1", "wsgi.input_terminated": True}, None),
        ({"CONTENT_LENGTH": "x"}, 0),
        ({}, 0),
    ],
)
def test_request_body_length(extra: dict[str, Any], length: int | None) -> None:
    assert request_body_length(environ(**extra)) == length
