"""``wsgi.file_wrapper`` and ``http.response.pathsend`` (``docs/wsgi.rst``; D31)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from asgiref._wsgi.filewrapper import FileWrapper, pathsend_path
from wsgi_support import END, Environ, StartResponse, body, http_scope, run_app, start

PATHSEND: dict[str, dict[str, object]] = {"http.response.pathsend": {}}


def file_app(opener: Any, headers: list[tuple[str, str]] | None = None, block_size: int = 4) -> Any:
    opened: list[Any] = []

    def app(environ: Environ, start_response: StartResponse) -> Any:
        filelike = opener()
        opened.append(filelike)
        start_response("200 OK", headers or [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](filelike, block_size)

    app.opened = opened  # type: ignore[attr-defined]  # test bookkeeping
    return app


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_bytes(b"0123456789")
    return path


def test_file_wrapper_iterates_blocks_and_close_closes_the_file(data_file: Path) -> None:
    with data_file.open("rb") as handle:
        wrapper = FileWrapper(handle, 4)
        assert list(wrapper) == [b"0123", b"4567", b"89"]
        wrapper.close()
        assert handle.closed
    FileWrapper(object()).close()  # no close(): nothing to do
    assert FileWrapper(io.BytesIO()).block_size == 8192


@pytest.mark.asyncio
async def test_D31_file_is_streamed_in_blocks_without_pathsend(data_file: Path) -> None:
    app = file_app(lambda: data_file.open("rb"))
    peer = await run_app(app)
    assert peer.bodies() == [b"0123", b"4567", b"89", b""]
    assert app.opened[0].closed


@pytest.mark.asyncio
async def test_D31_pathsend_is_used_when_offered_for_a_regular_file(data_file: Path) -> None:
    app = file_app(lambda: data_file.open("rb"))
    expected_path = str(data_file.resolve())  # noqa: ASYNC240  # test setup, tmp_path
    peer = await run_app(app, scope=http_scope(extensions=PATHSEND))
    assert peer.sent == [
        start(headers=[(b"content-type", b"text/plain"), (b"content-length", b"10")]),
        {"type": "http.response.pathsend", "path": expected_path},
    ]
    assert app.opened[0].closed


@pytest.mark.asyncio
async def test_pathsend_keeps_a_matching_content_length(data_file: Path) -> None:
    app = file_app(lambda: data_file.open("rb"), [("Content-Length", "10")])
    peer = await run_app(app, scope=http_scope(extensions=PATHSEND))
    assert peer.sent[0] == start(headers=[(b"content-length", b"10")])
    assert peer.sent[1]["type"] == "http.response.pathsend"


@pytest.mark.asyncio
async def test_pathsend_falls_back_to_streaming_when_unsuitable(data_file: Path) -> None:
    def seeked() -> Any:
        handle = data_file.open("rb")
        handle.seek(8)
        return handle

    cases: list[tuple[Any, list[tuple[str, str]] | None, list[bytes]]] = [
        (lambda: io.BytesIO(b"memory"), None, [b"memo", b"ry", b""]),
        (seeked, None, [b"89", b""]),
        (lambda: data_file.open("rb"), [("Content-Length", "5")], [b"0123", b"4", b""]),
    ]
    for opener, headers, expected in cases:
        peer = await run_app(file_app(opener, headers), scope=http_scope(extensions=PATHSEND))
        assert peer.bodies() == expected


@pytest.mark.asyncio
async def test_pathsend_is_not_used_after_write(data_file: Path) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Any:
        start_response("200 OK", [])(b"pre")
        return environ["wsgi.file_wrapper"](data_file.open("rb"), 100)

    peer = await run_app(app, scope=http_scope(extensions=PATHSEND))
    assert peer.sent == [start(), body(b"pre"), body(b"0123456789"), END]


def test_pathsend_path_rejects_files_that_moved_or_are_not_regular(
    data_file: Path, tmp_path: Path
) -> None:
    with data_file.open("rb") as handle:
        data_file.rename(tmp_path / "moved.txt")
        (tmp_path / "data.txt").write_bytes(b"other")
        assert pathsend_path(FileWrapper(handle)) is None
    with (tmp_path / "moved.txt").open("rb") as handle:
        handle.close()
        assert pathsend_path(FileWrapper(handle)) is None  # closed: ValueError from fileno()
    with open("/dev/null", "rb") as handle:
        assert pathsend_path(FileWrapper(handle)) is None
