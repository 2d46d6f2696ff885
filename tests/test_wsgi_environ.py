"""Environ mapping of ``asgiref.wsgi`` (``docs/wsgi.rst``; D3, D4, D5, D9, D15, D30, D31)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from asgiref.wsgi import DuplicateHeadersError, WsgiToAsgiInstance
from wsgi_support import END, Environ, StartResponse, http_scope, request, run_app


def environ_for(**scope: Any) -> Environ:
    return WsgiToAsgiInstance(None).build_environ(http_scope(**scope), None)  # type: ignore[arg-type]  # an instance with no app, as asgiref allows


def test_build_environ_maps_the_basic_keys() -> None:
    environ = WsgiToAsgiInstance(None).build_environ(  # type: ignore[arg-type]  # no app needed
        http_scope(method="POST", path="/a/b", query_string=b"x=1&y=2", http_version="2"),
        body := object(),
    )
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/a/b"
    assert environ["QUERY_STRING"] == "x=1&y=2"
    assert environ["SERVER_PROTOCOL"] == "HTTP/2"
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["SERVER_PORT"] == "8000"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["REMOTE_PORT"] == "40000"
    assert environ["wsgi.version"] == (1, 0)
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.input"] is body
    assert environ["wsgi.errors"] is sys.stderr
    assert environ["wsgi.multithread"] is True
    assert environ["wsgi.multiprocess"] is True
    assert environ["wsgi.run_once"] is False
    for absent in ("HTTPS", "REMOTE_HOST", "CONTENT_TYPE", "CONTENT_LENGTH"):
        assert absent not in environ


def test_D9_wsgi_input_terminated_is_true() -> None:
    assert environ_for()["wsgi.input_terminated"] is True


def test_D31_wsgi_file_wrapper_is_provided() -> None:
    assert callable(environ_for()["wsgi.file_wrapper"])


def test_build_environ_uses_its_scope_argument_and_body_none() -> None:
    instance = WsgiToAsgiInstance(None)  # type: ignore[arg-type]  # no app needed
    instance.scope = http_scope(headers=[(b"x-a", b"from self.scope")])
    environ = instance.build_environ(http_scope(headers=[(b"x-a", b"from argument")]), None)
    assert environ["HTTP_X_A"] == "from argument"
    assert environ["wsgi.input"] is None


def test_scheme_defaults_to_http_and_http_version_to_1_1() -> None:
    scope = http_scope()
    del scope["scheme"], scope["http_version"]
    environ = WsgiToAsgiInstance(None).build_environ(scope, None)  # type: ignore[arg-type]  # no app
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ_for(scheme="https")["wsgi.url_scheme"] == "https"


@pytest.mark.parametrize(
    ("root_path", "path", "script_name", "path_info"),
    [
        ("", "/", "", "/"),
        ("/base", "/base/foo/", "/base", "/foo/"),
        ("/base", "/base", "/base", ""),
        ("/base", "/base/", "/base", "/"),
        ("/base/", "/base/foo", "/base", "/foo"),
        ("/", "/foo", "", "/foo"),
        ("/app", "/apple", "/app", "/apple"),
        ("/app", "/other", "/app", "/other"),
        ("/中国", "/中文", "/中国".encode().decode("latin-1"), "/中文".encode().decode("latin-1")),
        ("/中国", "/中国/x", "/中国".encode().decode("latin-1"), "/x"),
    ],
)
def test_D5_root_path_is_stripped_only_at_a_segment_boundary(
    root_path: str, path: str, script_name: str, path_info: str
) -> None:
    environ = environ_for(root_path=root_path, path=path)
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == (script_name, path_info)


def test_missing_or_none_root_path_gives_an_empty_script_name() -> None:
    scope = http_scope(path="/x")
    del scope["root_path"]
    environ = WsgiToAsgiInstance(None).build_environ(scope, None)  # type: ignore[arg-type]  # no app
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("", "/x")
    assert environ_for(root_path=None, path="/y")["SCRIPT_NAME"] == ""


def test_D3_query_string_is_decoded_as_latin1() -> None:
    assert environ_for(query_string=b"q=\xe9\xff")["QUERY_STRING"] == "q=\xe9\xff"


def test_D3_missing_or_none_query_string_is_empty() -> None:
    scope = http_scope()
    del scope["query_string"]
    assert WsgiToAsgiInstance(None).build_environ(scope, None)["QUERY_STRING"] == ""  # type: ignore[arg-type]  # no app
    assert environ_for(query_string=None)["QUERY_STRING"] == ""


def test_server_missing_or_none_is_localhost_80() -> None:
    scope = http_scope()
    del scope["server"]
    environ = WsgiToAsgiInstance(None).build_environ(scope, None)  # type: ignore[arg-type]  # no app
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("localhost", "80")
    environ = environ_for(server=None)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("localhost", "80")


def test_unix_socket_server_gives_the_path_and_port_0() -> None:
    environ = environ_for(server=["/run/app.sock", None])
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("/run/app.sock", "0")


def test_client_absent_or_none_sets_no_remote_keys() -> None:
    for environ in (environ_for(client=None), environ_for(client=["10.0.0.1", None])):
        assert "REMOTE_PORT" not in environ
    assert "REMOTE_ADDR" not in environ_for(client=None)
    assert environ_for(client=["10.0.0.1", None])["REMOTE_ADDR"] == "10.0.0.1"


def test_content_type_and_length_come_from_headers() -> None:
    environ = environ_for(headers=[(b"content-type", b"text/plain"), (b"content-length", b"5")])
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "5"
    assert "HTTP_CONTENT_TYPE" not in environ


def test_headers_become_http_keys_latin1_decoded() -> None:
    environ = environ_for(headers=[(b"X-Custom-Thing", b"caf\xe9"), (b"host", b"example.com")])
    assert environ["HTTP_X_CUSTOM_THING"] == "caf\xe9"
    assert environ["HTTP_HOST"] == "example.com"


def test_duplicate_headers_are_joined_with_a_comma() -> None:
    environ = environ_for(
        headers=[(b"test-header", b"test value 1"), (b"test-header", b"test value 2")]
    )
    assert environ["HTTP_TEST_HEADER"] == "test value 1,test value 2"


def test_D15_duplicate_cookie_headers_are_joined_with_semicolon_space() -> None:
    environ = environ_for(headers=[(b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"cookie", b"c=3")])
    assert environ["HTTP_COOKIE"] == "a=1; b=2; c=3"


def test_D30_header_names_with_underscores_are_dropped() -> None:
    environ = environ_for(
        headers=[(b"x-forwarded-for", b"1.2.3.4"), (b"x_forwarded_for", b"6.6.6.6"), (b"a_b", b"x")]
    )
    assert environ["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"
    assert "HTTP_A_B" not in environ


def test_D4_duplicate_header_limit_allows_100_and_rejects_101() -> None:
    environ = environ_for(headers=[(b"x-dup", b"v")] * 100)
    assert environ["HTTP_X_DUP"] == ",".join(["v"] * 100)
    with pytest.raises(DuplicateHeadersError) as info:
        environ_for(headers=[(b"x-dup", b"v")] * 101)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == "Too many duplicate headers: HTTP_X_DUP exceeds limit of 100"


def test_duplicate_header_limit_counts_content_type_too() -> None:
    instance = WsgiToAsgiInstance(None, duplicate_header_limit=2)  # type: ignore[arg-type]  # no app
    with pytest.raises(DuplicateHeadersError, match="CONTENT_TYPE exceeds limit of 2"):
        instance.build_environ(http_scope(headers=[(b"content-type", b"a")] * 3), None)


@pytest.mark.parametrize("limit", [None, 0])
def test_duplicate_header_limit_none_or_zero_disables_the_check(limit: int | None) -> None:
    instance = WsgiToAsgiInstance(None, duplicate_header_limit=limit)  # type: ignore[arg-type]  # no app
    environ = instance.build_environ(http_scope(headers=[(b"x-dup", b"v")] * 500), None)
    assert environ["HTTP_X_DUP"].count("v") == 500


def _never_called(environ: Environ, start_response: StartResponse) -> list[bytes]:
    raise AssertionError("the application must not be called")


@pytest.mark.asyncio
async def test_too_many_duplicate_headers_sends_exactly_the_400_and_skips_the_app() -> None:
    scope = http_scope(headers=[(b"x-dup", b"v")] * 101)
    peer = await run_app(_never_called, scope=scope)
    assert peer.sent == [
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "http.response.body", "body": b"Bad Request: Too many duplicate headers"},
    ]


@pytest.mark.asyncio
async def test_D3_other_build_environ_errors_propagate_instead_of_a_400() -> None:
    from asgiref import wsgi

    class Broken(WsgiToAsgiInstance):
        def build_environ(self, scope: Any, body: Any) -> dict[str, Any]:
            raise ValueError("something else")

    peer_sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return request()

    async def send(message: dict[str, Any]) -> None:
        peer_sent.append(message)

    with pytest.raises(ValueError, match="something else"):
        await Broken(_never_called)(http_scope(), receive, send)
    assert peer_sent == []
    assert wsgi.WsgiToAsgiInstance is WsgiToAsgiInstance


@pytest.mark.asyncio
async def test_subclass_build_environ_can_add_keys() -> None:
    seen: list[Environ] = []

    class Extra(WsgiToAsgiInstance):
        def build_environ(self, scope: Any, body: Any) -> dict[str, Any]:
            environ = super().build_environ(scope, body)
            environ["asgi.scope"] = scope
            return environ

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        seen.append(environ)
        start_response("204 No Content", [])
        return []

    async def receive() -> dict[str, Any]:
        return request()

    sent: list[Any] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = http_scope()
    await Extra(app)(scope, receive, send)
    assert seen[0]["asgi.scope"] is scope
    assert sent[-1] == END


@pytest.mark.asyncio
async def test_environ_passes_wsgiref_validate() -> None:
    from wsgiref.validate import validator

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        assert environ["wsgi.input"].read(3) == b"abc"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    scope = http_scope(
        method="POST",
        path="/x",
        query_string=b"a=b",
        headers=[(b"content-type", b"text/plain"), (b"content-length", b"3")],
    )
    peer = await run_app(validator(app), request(b"abc"), scope=scope)
    assert peer.bodies() == [b"ok", b""]
