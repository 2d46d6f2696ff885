"""Checking a WSGI application's status line and response headers (deviation D41).

``start_response`` passes what the application gave it through :func:`parse_status`
and :func:`encode_headers` before it stores anything, so a malformed status or header
never reaches the ASGI server: the application's ``start_response`` call raises, nothing
has been sent yet, and the server answers ``500``.  The adapter does not rely on the
server to catch header injection; servers differ (see ``docs/wsgi.rst``, "Response").

What is rejected, with the reason in the message:

* a status that is not ``"<three digits> <reason>"``, a 1xx code (it cannot end a
  response), or control characters in the status line;
* a header name that is not an HTTP token (RFC 9110, 5.6.2): empty, or containing a
  space, a colon, a non-ASCII character, ...;
* a header value containing CR, LF, NUL or another control character (a tab is allowed);
* a header name or value that is not latin-1 (``UnicodeEncodeError``, as before D41);
* a ``Content-Length`` that is not a plain non-negative decimal number, or two
  ``Content-Length`` headers with different values (identical repeats are sent once).

Pure functions: no I/O, no shared state but a bounded cache of checked header names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

__all__ = ["encode_headers", "parse_status"]

#: RFC 9110 ``token``: the characters allowed in a header name.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Control characters that no field value or status line may contain (all but HTAB).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: Checked header names and their lower-cased latin-1 bytes.  Names repeat across
#: requests (``Content-Type``, ``Content-Length``), so most lookups skip the check.
_NAMES: dict[str, bytes] = {}
_NAMES_MAX: Final = 512
_CONTENT_LENGTH: Final = b"content-length"


def parse_status(status: str) -> int:
    """Return the status code of a WSGI status line such as ``"200 OK"``.

    Raises:
        TypeError: ``status`` is not a ``str``.
        ValueError: It is not ``"<code> <reason>"`` with a three-digit code from 200
            to 999, or it contains a control character.
    """
    if type(status) is not str:
        raise TypeError(f"WSGI status must be a str, not {type(status).__name__} ({status!r})")
    code, space, _ = status.partition(" ")
    if not space:
        raise ValueError(f"WSGI status must be '<code> <reason>', not {status!r}")
    if len(code) != 3 or not code.isdigit() or not code.isascii():
        raise ValueError(f"WSGI status {status!r} must start with a three-digit status code")
    if not status.isprintable() and _CONTROL.search(status):
        raise ValueError(f"WSGI status {status!r} contains a control character")
    number = int(code)
    if number < 200:
        raise ValueError(f"WSGI status {status!r} is informational (1xx) and cannot end a response")
    return number


def _name_bytes(name: Any) -> bytes:
    """Check a header name and return it lower-cased as bytes."""
    if type(name) is not str:
        raise TypeError(f"header name must be a str, not {type(name).__name__} ({name!r})")
    if not _TOKEN.fullmatch(name):
        bad = next((c for c in name if not _TOKEN.fullmatch(c)), "")
        reason = "is empty" if not name else f"contains {bad!r}"
        raise ValueError(
            f"header name {name!r} is not an HTTP token (RFC 9110): it {reason}; "
            "use letters, digits and !#$%&'*+-.^_`|~ only"
        )
    raw = name.lower().encode("ascii")
    if len(_NAMES) < _NAMES_MAX:
        _NAMES[name] = raw
    return raw


def _value_bytes(name: str, value: Any) -> bytes:
    """Check a header value that is not plain printable ASCII; return its bytes."""
    if type(value) is not str:
        raise TypeError(
            f"header value for {name!r} must be a str, not {type(value).__name__} ({value!r:.40})"
        )
    found = _CONTROL.search(value)
    if found is not None:
        char = found.group()
        if char in "\r\n":
            reason = "contains CR or LF"
        elif char == "\0":
            reason = "contains NUL"
        else:
            reason = f"contains the control character {char!r}"
        raise ValueError(f"header value for {name!r} {reason}: {value!r:.60}")
    try:
        data = value.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise UnicodeEncodeError(
            exc.encoding,
            exc.object,
            exc.start,
            exc.end,
            f"header value for {name!r} is not latin-1 (PEP 3333 headers are latin-1 str)",
        ) from None
    return data.strip(b" \t")


def encode_headers(
    response_headers: Iterable[tuple[str, str]],
) -> tuple[list[tuple[bytes, bytes]], int | None]:
    """Check a WSGI header list and return it as ASGI headers, with the Content-Length.

    Names are lower-cased; values are encoded as latin-1 and lose surrounding spaces
    and tabs (D32).

    Returns:
        The ``(name, value)`` byte pairs, and the ``Content-Length`` as an ``int``
        (``None`` without one).

    Raises:
        ValueError: A header is malformed (see the module docstring); the message
            names the header and the reason.
        UnicodeEncodeError: A name or value is not latin-1 (a ``ValueError``).
        TypeError: A name or value is not a ``str``.
    """
    headers: list[tuple[bytes, bytes]] = []
    length: bytes | None = None
    names = _NAMES
    for name, value in response_headers:
        raw = names.get(name)
        if raw is None:
            raw = _name_bytes(name)
        if type(value) is str and value.isascii() and value.isprintable():
            data = value.encode("ascii").strip(b" ")
        else:
            data = _value_bytes(name, value)
        if raw == _CONTENT_LENGTH:
            if not data.isdigit():
                raise ValueError(
                    f"invalid Content-Length header value {value!r}: "
                    "it must be a non-negative decimal number of bytes"
                )
            if length is not None:
                if int(data) != int(length):
                    raise ValueError(
                        f"conflicting Content-Length header values {length.decode()!r} and "
                        f"{data.decode()!r}; send one"
                    )
                continue  # an identical repeat: sent once
            length = data
        headers.append((raw, data))
    return headers, None if length is None else int(length)
