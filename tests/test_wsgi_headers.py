"""The status and header checks of ``WsgiToAsgi`` (D41, ``asgiref._wsgi.headers``)."""

from __future__ import annotations

from typing import Any

import pytest

from asgiref._wsgi import headers
from asgiref._wsgi.headers import encode_headers, parse_status


@pytest.mark.parametrize(
    ("status", "error", "reason"),
    [
        (b"200 OK", TypeError, "WSGI status must be a str, not bytes"),
        ("200", ValueError, "WSGI status must be '<code> <reason>'"),
        ("20 OK", ValueError, "must start with a three-digit status code"),
        ("2x0 OK", ValueError, "must start with a three-digit status code"),
        ("\uff12\uff10\uff10 OK", ValueError, "must start with a three-digit status code"),
        ("200 OK\r\nX-Injected: yes", ValueError, "contains a control character"),
        ("200 O\0K", ValueError, "contains a control character"),
        ("103 Early Hints", ValueError, "is informational (1xx) and cannot end a response"),
    ],
)
def test_D41_a_malformed_status_raises_naming_it(status: Any, error: type, reason: str) -> None:
    with pytest.raises(error, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_status(status)


def test_D41_valid_statuses_give_their_code() -> None:
    assert parse_status("200 OK") == 200
    assert parse_status("404 Not\tFound") == 404  # a tab is not a control character here
    assert parse_status("599 Ünïcode reason") == 599


@pytest.mark.parametrize(
    ("header", "error", "reason"),
    [
        ((b"X-A", "v"), TypeError, "header name must be a str, not bytes"),
        (("X-A", b"v"), TypeError, "header value for 'X-A' must be a str, not bytes"),
        (("X-A", 1), TypeError, "header value for 'X-A' must be a str, not int"),
        (("", "v"), ValueError, "header name '' is not an HTTP token .* it is empty"),
        (("X A", "v"), ValueError, "header name 'X A' is not an HTTP token .* contains ' '"),
        (("X:A", "v"), ValueError, "contains ':'"),
        (("X-Ä", "v"), ValueError, "contains 'Ä'"),
        (("X-A", "a\r\nX-B: c"), ValueError, "header value for 'X-A' contains CR or LF"),
        (("X-A", "a\rb"), ValueError, "header value for 'X-A' contains CR or LF"),
        (("X-A", "a\nb"), ValueError, "header value for 'X-A' contains CR or LF"),
        (("X-A", "a\0b"), ValueError, "header value for 'X-A' contains NUL"),
        (("X-A", "a\x7fb"), ValueError, r"contains the control character '\\x7f'"),
        (("X-A", "a\x1bb"), ValueError, r"contains the control character '\\x1b'"),
        (("X-A", "€"), UnicodeEncodeError, "header value for 'X-A' is not latin-1"),
        (("Content-Length", "abc"), ValueError, "invalid Content-Length header value 'abc'"),
        (("Content-Length", "-1"), ValueError, "invalid Content-Length header value '-1'"),
        (("Content-Length", "1.5"), ValueError, "invalid Content-Length header value '1.5'"),
        (("Content-Length", ""), ValueError, "invalid Content-Length header value ''"),
    ],
)
def test_D41_a_malformed_header_raises_naming_it_and_the_reason(
    header: tuple[Any, Any], error: type, reason: str
) -> None:
    with pytest.raises(error, match=reason):
        encode_headers([("Content-Type", "text/plain"), header])


def test_D41_two_different_content_lengths_raise_identical_ones_are_sent_once() -> None:
    with pytest.raises(ValueError, match="conflicting Content-Length header values '5' and '6'"):
        encode_headers([("Content-Length", "5"), ("content-length", "6")])
    assert encode_headers([("Content-Length", "5"), ("content-length", " 5 ")]) == (
        [(b"content-length", b"5")],
        5,
    )
    assert encode_headers([("Content-Length", "5"), ("content-length", "05")]) == (
        [(b"content-length", b"5")],
        5,
    )


def test_D14_D32_valid_values_pass_latin1_encoded_and_stripped() -> None:
    result = encode_headers(
        [("X-Latin", " café\t"), ("Set-Cookie", " a=b"), ("X-Tab", "a\tb"), ("X-Empty", "")]
    )
    assert result == (
        [
            (b"x-latin", "café".encode("latin-1")),
            (b"set-cookie", b"a=b"),
            (b"x-tab", b"a\tb"),
            (b"x-empty", b""),
        ],
        None,
    )


def test_names_are_checked_once_and_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    full = {f"x-cached-{index}": b"" for index in range(headers._NAMES_MAX)}
    monkeypatch.setattr(headers, "_NAMES", full)
    assert encode_headers([("X-New-Name", "v")]) == ([(b"x-new-name", b"v")], None)
    assert "X-New-Name" not in full  # the cache is full: the name is checked every time
    assert len(full) == headers._NAMES_MAX
    monkeypatch.setattr(headers, "_NAMES", {})
    encode_headers([("X-Once", "v")])
    assert headers._NAMES == {"X-Once": b"x-once"}
