"""The speed targets of the issues, checked against one run's medians.

A target compares ours with one other figure of the same run: the reference, the first
floor, the peer (a2wsgi), the baseline ("before", with ``--baseline``), another workload of
ours, or an absolute memory bound. Verdicts:
``PASS``, ``FAIL``, ``n.i.`` (ours not implemented), ``error`` (ours failed), ``n.m.`` (a
figure was not measured, e.g. filtered out by ``--only``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks._registry import BASELINE, OURS, WORKLOADS, Impl, Role, Workload, workload
from benchmarks._stats import OK, Series, fmt_bytes, fmt_ratio, fmt_time, ratio

__all__ = [
    "ALL_TARGETS",
    "BEFORE_LIMIT",
    "NOT_SLOWER",
    "NOT_SLOWER_THAN_BEFORE",
    "TARGETS",
    "Results",
    "Target",
    "Versus",
    "evaluate",
    "summary",
]

Results = Mapping[str, Mapping[str, Series]]
"""Workload name -> implementation label -> its series."""

MIB = 1024 * 1024


class Versus(enum.Enum):
    """What ours is compared with."""

    REFERENCE = "reference"
    FLOOR = "floor"
    PEER = "peer"
    BASELINE = "baseline"
    """This package at the ``--baseline`` revision, measured in the same run."""
    WORKLOAD = "workload"
    """Ours on another workload (``other``)."""
    PEAK_MEMORY = "peak memory"
    """An absolute bound in bytes on ours' peak memory."""
    NON_2XX = "non-2xx"
    """An absolute bound on ours' non-2xx (and failed) responses, summed over rounds."""
    OVERHEAD = "overhead"
    """An absolute bound in ns on ours' time per operation minus the floor's."""


@dataclass(frozen=True)
class Target:
    """One checked target.

    Attributes:
        text: what is promised, as printed.
        workload: the workload of ours.
        versus: what it is compared with.
        limit: the bound on the ratio (or bytes, or count).
        at_least: the ratio must be ``>= limit`` (rates) instead of ``<= limit``.
        other: the other workload, for ``Versus.WORKLOAD``.
        source: where the target comes from.
        strict: the ratio must be strictly below (or above) ``limit``.
    """

    text: str
    workload: str
    versus: Versus
    limit: float
    at_least: bool = False
    other: str = ""
    source: str = ""
    strict: bool = False


TARGETS: tuple[Target, ...] = (
    Target("sync_to_async hop (thread-sensitive) <= 1.1x run_in_executor floor", "s2a_hop_ts",
           Versus.FLOOR, 1.1, source="issue 5"),
    Target("async_to_sync from sync code <= 0.4x asgiref", "a2s_noloop", Versus.REFERENCE, 0.4,
           source="issue 5"),
    Target("async_to_sync inside sync_to_async <= 1.0x run_coroutine_threadsafe floor",
           "a2s_in_s2a", Versus.FLOOR, 1.0, source="issue 5"),
    Target("ThreadSensitiveContext request <= 2x one hop (ours, thread-sensitive)",
           "tsc_request", Versus.WORKLOAD, 2.0, other="s2a_hop_ts", source="issue 5"),
    Target("Local get, sync >= 5x faster than asgiref", "local_get_sync", Versus.REFERENCE, 0.2,
           source="issue 3"),
    Target("Local get, async >= 5x faster than asgiref", "local_get_async", Versus.REFERENCE,
           0.2, source="issue 3"),
    Target("Local set+get, sync >= 5x faster than asgiref", "local_setget_sync",
           Versus.REFERENCE, 0.2, source="issue 3"),
    Target("Local set+get, async >= 5x faster than asgiref", "local_setget_async",
           Versus.REFERENCE, 0.2, source="issue 3"),
    Target("thread-critical get, sync >= 5x faster than asgiref", "local_tc_get_sync",
           Versus.REFERENCE, 0.2, source="issue 3"),
    Target("thread-critical get, async >= 5x faster than asgiref", "local_tc_get_async",
           Versus.REFERENCE, 0.2, source="issue 3"),
    Target("thread-critical set+get, sync >= 5x faster than asgiref", "local_tc_setget_sync",
           Versus.REFERENCE, 0.2, source="issue 3"),
    Target("thread-critical set+get, async >= 5x faster than asgiref", "local_tc_setget_async",
           Versus.REFERENCE, 0.2, source="issue 3"),
    Target("WSGI hello, sequential <= 1.5x one-hop floor", "wsgi_hello", Versus.FLOOR, 1.5,
           source="issue 6"),
    Target("WSGI hello, 100 concurrent <= 2x one-hop floor", "wsgi_hello_100", Versus.FLOOR,
           2.0, source="issue 6"),
    Target("WSGI 1 MiB response <= 3x one-hop floor", "wsgi_stream_1mib", Versus.FLOOR, 3.0,
           source="issue 6"),
    Target("WSGI 10 MiB request body <= 3x one-hop floor", "wsgi_body_10mib", Versus.FLOOR, 3.0,
           source="issue 6"),
    Target("WSGI 64 MiB upload: peak memory growth < 8 MiB", "wsgi_upload_64mib",
           Versus.PEAK_MEMORY, 8 * MIB, source="issue 6"),
    Target("e2e WSGI hello >= 1.3x a2wsgi requests/s", "e2e_wsgi_hello", Versus.PEER, 1.3,
           at_least=True, source="issue 6"),
    Target("e2e WSGI hello: zero non-2xx", "e2e_wsgi_hello", Versus.NON_2XX, 0,
           source="issue 6"),
    Target("AsgiToWsgi hello, direct call <= 1.5x run_coroutine_threadsafe floor", "a2w_hello",
           Versus.FLOOR, 1.5, source="issue 14"),
    Target("e2e AsgiToWsgi hello (gunicorn sync) >= 1.3x a2wsgi requests/s", "e2e_a2w_hello",
           Versus.PEER, 1.3, at_least=True, source="issue 14"),
    Target("e2e AsgiToWsgi hello: zero non-2xx", "e2e_a2w_hello", Versus.NON_2XX, 0,
           source="issue 14"),
    Target("sync_to_async(f) construction <= 0.8x asgiref", "s2a_construct", Versus.REFERENCE,
           0.8, source="issue 12"),
    Target("async_to_sync(af) construction < 1.0x asgiref", "a2s_construct", Versus.REFERENCE,
           1.0, source="issue 12", strict=True),
    Target("validation on: <= 10 us per simple HTTP request over the app", "validation_http",
           Versus.OVERHEAD, 10_000, source="issue 13"),
)  # fmt: skip
"""The issues' targets."""


def _not_slower(spec: Workload) -> Target:
    if spec.higher_is_better:
        return Target(f"{spec.title}: >= 1.0x asgiref req/s", spec.name, Versus.REFERENCE, 1.0,
                      at_least=True, source="speed rule")  # fmt: skip
    return Target(f"{spec.title}: <= 1.0x asgiref time", spec.name, Versus.REFERENCE, 1.0,
                  source="speed rule")  # fmt: skip


NOT_SLOWER: tuple[Target, ...] = tuple(
    _not_slower(spec)
    for spec in WORKLOADS
    if any(impl.role is Role.REFERENCE for impl in spec.impls)
)
"""The project's speed rule: never slower than asgiref 3.13.0 on any workload of the runner."""

BEFORE_LIMIT = 1.05
"""Issues 11 and 12: no workload slower than before by more than 5 %."""


def _not_slower_than_before(spec: Workload) -> Target:
    if spec.higher_is_better:
        return Target(f"{spec.title}: req/s >= before / 1.05", spec.name, Versus.BASELINE,
                      1 / BEFORE_LIMIT, at_least=True, source="issues 11, 12")  # fmt: skip
    return Target(f"{spec.title}: <= 1.05x before time", spec.name, Versus.BASELINE,
                  BEFORE_LIMIT, source="issues 11, 12")  # fmt: skip


NOT_SLOWER_THAN_BEFORE: tuple[Target, ...] = tuple(
    _not_slower_than_before(spec) for spec in WORKLOADS
)
"""With ``--baseline REV``: ours at most 5 % slower than this package at ``REV``."""

ALL_TARGETS: tuple[Target, ...] = TARGETS + NOT_SLOWER + NOT_SLOWER_THAN_BEFORE


def _other(target: Target, spec: Workload) -> tuple[Impl | None, str]:
    """The implementation (and workload) ours is compared with."""
    if target.versus is Versus.REFERENCE:
        return next((i for i in spec.impls if i.role is Role.REFERENCE), None), spec.name
    if target.versus is Versus.FLOOR:
        return spec.floor, spec.name
    if target.versus is Versus.PEER:
        return spec.peer, spec.name
    if target.versus is Versus.BASELINE:
        return BASELINE, spec.name
    return OURS, target.other


_NAMES = {
    Versus.REFERENCE: "asgiref",
    Versus.FLOOR: "floor",
    Versus.PEER: "a2wsgi",
    Versus.BASELINE: "before",
}


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _within(value: float, target: Target) -> bool:
    if target.at_least:
        return value > target.limit if target.strict else value >= target.limit
    return value < target.limit if target.strict else value <= target.limit


def evaluate(target: Target, results: Results) -> tuple[str, str]:
    """Check ``target`` against ``results``.

    Returns:
        ``(verdict, measured)``: the verdict and the measured figure as text.
    """
    spec = workload(target.workload)
    ours = results.get(spec.name, {}).get(OURS.label)
    if ours is None:
        return "n.m.", "not measured"
    if ours.median is None:
        return ("n.i." if ours.status == "n.i." else ours.status), ours.detail[:60]
    if target.versus is Versus.PEAK_MEMORY:
        peak = ours.peak
        if peak is None:
            return "n.m.", "no memory figure"
        return _verdict(peak < target.limit), f"peak {fmt_bytes(peak)}"
    if target.versus is Versus.NON_2XX:
        bad = ours.counters.get("non2xx", 0) + ours.counters.get("errors", 0)
        return _verdict(bad <= target.limit), f"{bad} non-2xx/failed"
    if target.versus is Versus.OVERHEAD:
        return _overhead(target, spec, ours.median, results)
    impl, other_name = _other(target, spec)
    other = results.get(other_name, {}).get(impl.label) if impl is not None else None
    value = ratio(ours.median, other.median if other is not None else None)
    if value is None:
        return "n.m.", f"{impl.label if impl else target.versus.value} not measured"
    ok = _within(value, target)
    suffix = "" if ours.status == OK else f" ({ours.status} in some rounds)"
    versus = f"ours {target.other}" if target.versus is Versus.WORKLOAD else _NAMES[target.versus]
    return _verdict(ok), f"ours/{versus} = {fmt_ratio(value, 3)}{suffix}"


def _overhead(target: Target, spec: Workload, ours: float, results: Results) -> tuple[str, str]:
    """Ours' time per operation minus the floor's, against an absolute bound in ns."""
    floor = spec.floor
    other = results.get(spec.name, {}).get(floor.label) if floor is not None else None
    if other is None or other.median is None:
        return "n.m.", "floor not measured"
    extra = ours - other.median
    return _verdict(extra <= target.limit), f"ours - floor = {fmt_time(extra)}"


def summary(targets: Sequence[Target], results: Results) -> dict[str, int]:
    """Count verdicts over ``targets``."""
    counts: dict[str, int] = {}
    for target in targets:
        verdict, _ = evaluate(target, results)
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts
