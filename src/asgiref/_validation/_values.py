"""Checks of single values that several events and scopes share: header lists, close codes.

Every function takes the ``report`` callable of :class:`~asgiref._validation._errors.Reporter`
and reports through it; none of them raises on its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HeaderRules",
    "Report",
    "check_headers",
    "clean_headers",
    "is_asgi_value",
    "is_close_code",
    "parse_content_length",
]

Report = Callable[[str, str, object], None]

# RFC 9110 "token": the characters a field name may contain.
_LOWER_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+").fullmatch
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
_DIGITS = re.compile(rb"[0-9]+").fullmatch


@dataclass(frozen=True, slots=True)
class HeaderRules:
    """The rule ids a header list reports, since each event has its own.

    ``name``, ``lower`` and ``value`` set to ``None`` skip that check (scopes: the
    server's parser already checked what the client sent).
    """

    shape: str
    pseudo: str
    name: str | None = None
    lower: str | None = None
    value: str | None = None


# Lower-case token names already checked, so that the common names cost one set lookup.
# Bounded, because names come from applications; a set is safe to share between threads.
_KNOWN_NAMES: set[bytes] = {b"content-type", b"content-length"}
_KNOWN_NAMES_LIMIT = 1024


def check_headers(
    headers: list[object] | tuple[object, ...], report: Report, rules: HeaderRules
) -> list[bytes]:
    """Check every ``[name, value]`` pair of ``headers``.

    Returns:
        The values of the ``content-length`` headers (any case), in order.
    """
    content_lengths = clean_headers(headers, rules.name is not None, rules.value is not None)
    if content_lengths is not None:
        return content_lengths
    return _check_each_header(headers, report, rules)


def clean_headers(
    headers: list[Any] | tuple[Any, ...], check_names: bool, check_values: bool
) -> list[bytes] | None:
    """The fast path of :func:`check_headers`: the ``content-length`` values when every
    pair is clean, ``None`` at the first doubt (the slow path then finds and reports it).

    Names are checked only when already known good; values are scanned with ``int in
    bytes`` (a memchr, several times faster than a regex or ``b"\\r" in``).
    """
    content_lengths: list[bytes] = []
    known = _KNOWN_NAMES
    try:
        # Unpacking takes any two-item iterable as a pair, as the spec words it; the slow
        # path is stricter (lists and tuples), which only matters for odd pairs such as a
        # set of two byte strings.
        for name, value in headers:
            if type(name) is not bytes or type(value) is not bytes:
                return None
            if check_names:
                if name not in known:
                    return None
                if name == b"content-length":  # known names are lower-case
                    content_lengths.append(value)
            else:
                if 58 in name:  # b":" anywhere: the slow path tells a pseudo-header apart
                    return None
                if len(name) == 14 and name.lower() == b"content-length":
                    content_lengths.append(value)
            if check_values and (13 in value or 10 in value or 0 in value):
                return None
    except (TypeError, ValueError):  # a pair that is not a two-item iterable
        return None
    return content_lengths


def _check_each_header(
    headers: list[object] | tuple[object, ...], report: Report, rules: HeaderRules
) -> list[bytes]:
    """The slow path of :func:`check_headers`: check and report every pair."""
    content_lengths: list[bytes] = []
    check_names = rules.name is not None
    check_values = rules.value is not None
    for pair in headers:
        # ``type(...) is`` first: the common exact types skip the slower isinstance.
        if (
            type(pair) is not tuple
            and type(pair) is not list
            and not isinstance(pair, (list, tuple))
        ) or len(pair) != 2:
            report(rules.shape, "each header must be a [name, value] pair of bytes", pair)
            continue
        name, value = pair
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            report(rules.shape, "header names and values must be bytes, not str", pair)
            continue
        if check_names:
            if name not in _KNOWN_NAMES:
                _check_name(name, report, rules)
        elif name and name[0] == 58:  # b":"; indexing beats slicing on this hot path
            report(rules.pseudo, "remove HTTP/2 pseudo-headers such as :authority", name)
        # ``int in bytes`` is a memchr: several times faster than a regex or ``b"\r" in``.
        if check_values and (13 in value or 10 in value or 0 in value):
            assert rules.value is not None
            report(rules.value, "remove CR, LF and NUL from header values", pair)
        if len(name) == 14 and name.lower() == b"content-length":
            content_lengths.append(value)
    return content_lengths


def _check_name(name: bytes, report: Report, rules: HeaderRules) -> None:
    """Check a response header name not seen before; remember it when it is fine."""
    if _LOWER_TOKEN(name):
        if len(_KNOWN_NAMES) < _KNOWN_NAMES_LIMIT:
            _KNOWN_NAMES.add(name)
    else:
        _report_name(name, report, rules)


def _report_name(name: bytes, report: Report, rules: HeaderRules) -> None:
    """Report a header name that is not a lower-case token."""
    assert rules.name is not None
    assert rules.lower is not None
    if name[:1] == b":":
        report(rules.pseudo, "remove HTTP/2 pseudo-headers such as :authority", name)
    elif _TOKEN(name):
        report(rules.lower, "lower-case header names, e.g. b'content-type'", name)
    else:
        report(rules.name, "header names must be tokens (no spaces, colons or controls)", name)


def parse_content_length(values: list[bytes]) -> int | None:
    """Return the announced length, or ``None`` if ``values`` do not agree on one.

    Repeated identical values count as one (RFC 9110 allows a recipient to accept them).
    """
    if len(values) == 1 and values[0].isdigit():  # the common case, without a regex
        return int(values[0])
    first = values[0].strip()
    if not _DIGITS(first) or any(value.strip() != first for value in values[1:]):
        return None
    return int(first)


def is_close_code(code: object) -> bool:
    """Tell whether ``code`` is a WebSocket close code an endpoint may send (RFC 6455)."""
    if not isinstance(code, int) or isinstance(code, bool):
        return False
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


_INT64 = range(-(2**63), 2**63)
_MAX_DEPTH = 32


def is_asgi_value(value: object, depth: int = 0) -> bool:
    """Tell whether ``value`` is made only of the types the ASGI spec allows in scopes
    and events: bytes, str, int in the signed 64-bit range, finite float, bool, None,
    lists (tuples too: the spec only says they *should* be lists) and dicts with str keys.

    Deeper than 32 levels counts as not a value (it is almost surely a cycle).
    """
    if value is None or isinstance(value, (str, bytes, bool)):
        return True
    if isinstance(value, int):
        return value in _INT64
    if isinstance(value, float):
        return math.isfinite(value)
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, (list, tuple)):
        return all(is_asgi_value(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and is_asgi_value(item, depth + 1) for key, item in value.items()
        )
    return False
