"""Checks of single values that several events and scopes share: header lists, close codes.

Every function takes the ``report`` callable of :class:`~asgiref._validation._errors.Reporter`
and reports through it; none of them raises on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "HeaderRules",
    "Report",
    "check_headers",
    "is_close_code",
    "parse_content_length",
]

Report = Callable[[str, str, object], None]

# RFC 9110 "token": the characters a field name may contain.
_LOWER_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+").fullmatch
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
_BAD_VALUE = re.compile(rb"[\r\n\x00]").search
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


def check_headers(
    headers: list[object] | tuple[object, ...], report: Report, rules: HeaderRules
) -> list[bytes]:
    """Check every ``[name, value]`` pair of ``headers``.

    Returns:
        The values of the ``content-length`` headers (any case), in order.
    """
    content_lengths: list[bytes] = []
    for pair in headers:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            report(rules.shape, "each header must be a [name, value] pair of bytes", pair)
            continue
        name, value = pair
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            report(rules.shape, "header names and values must be bytes, not str", pair)
            continue
        if rules.name is not None and not _LOWER_TOKEN(name):
            _report_name(name, report, rules)
        elif name[:1] == b":":
            report(rules.pseudo, "remove HTTP/2 pseudo-headers such as :authority", name)
        if rules.value is not None and _BAD_VALUE(value):
            report(rules.value, "remove CR, LF and NUL from header values", pair)
        if len(name) == 14 and name.lower() == b"content-length":
            content_lengths.append(value)
    return content_lengths


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
    first = values[0].strip()
    if not _DIGITS(first) or any(value.strip() != first for value in values[1:]):
        return None
    return int(first)


def is_close_code(code: object) -> bool:
    """Tell whether ``code`` is a WebSocket close code an endpoint may send (RFC 6455)."""
    if not isinstance(code, int) or isinstance(code, bool):
        return False
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
