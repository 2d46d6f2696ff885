"""Samples, medians, ratios and text tables (pure functions: no I/O, no subprocesses)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "OK",
    "Series",
    "fmt_bytes",
    "fmt_rate",
    "fmt_ratio",
    "fmt_spread",
    "fmt_time",
    "ratio",
    "render_table",
]

OK = "ok"


@dataclass
class Series:
    """Every round of one implementation on one workload.

    Attributes:
        values: one figure per successful round: ns per operation, or requests per second.
        peaks: peak memory in bytes per successful round (when measured).
        failures: ``(status, detail)`` of each failed round; status is ``n.i.``, ``error``
            or ``timeout``.
        counters: summed counters of server runs (``non2xx``, ``errors``, ``ok``).
    """

    values: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def add(self, value: float, peak: int | None = None) -> None:
        """Record one successful round."""
        self.values.append(value)
        if peak is not None:
            self.peaks.append(peak)

    def fail(self, status: str, detail: str) -> None:
        """Record one failed round."""
        self.failures.append((status, detail))

    def count(self, name: str, amount: int) -> None:
        """Add ``amount`` to the counter ``name``."""
        self.counters[name] = self.counters.get(name, 0) + amount

    @property
    def median(self) -> float | None:
        """Median over successful rounds, ``None`` when there is none."""
        return statistics.median(self.values) if self.values else None

    @property
    def peak(self) -> int | None:
        """Median peak memory over the rounds that measured it."""
        return int(statistics.median(self.peaks)) if self.peaks else None

    @property
    def spread(self) -> float | None:
        """Interquartile range over median, across rounds: how noisy the figure is."""
        med = self.median
        if med is None or med == 0 or len(self.values) < 2:
            return None
        low, _, high = statistics.quantiles(self.values, n=4, method="inclusive")
        return (high - low) / med

    @property
    def status(self) -> str:
        """``ok`` when every round succeeded, else the first failure's status."""
        return self.failures[0][0] if self.failures else OK

    @property
    def detail(self) -> str:
        """The first failure's detail, or an empty string."""
        return self.failures[0][1] if self.failures else ""


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or ``None`` if either is missing or the divisor is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def fmt_time(ns: float | None) -> str:
    """Format nanoseconds with a unit that keeps three significant digits."""
    if ns is None:
        return "—"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{_sig3(ns / scale)} {unit}"
    return f"{_sig3(ns)} ns"


def _sig3(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_rate(per_second: float | None) -> str:
    """Format a rate as requests per second."""
    return "—" if per_second is None else f"{per_second:,.0f} req/s"


def fmt_ratio(value: float | None, digits: int = 2) -> str:
    """Format a ratio as ``1.23x`` (``digits`` decimals); missing ratios are a dash."""
    return "—" if value is None else f"{value:.{digits}f}x"


def fmt_bytes(size: int | None) -> str:
    """Format a byte count in B, KiB or MiB."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def fmt_spread(value: float | None) -> str:
    """Format a spread as ``±12%`` (half the interquartile range, relative to the median)."""
    return "—" if value is None else f"±{value * 50:.0f}%"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render a plain-text table; the first two columns are left-aligned, the rest right.

    Args:
        headers: column titles.
        rows: cells, each row as long as ``headers``.

    Returns:
        The table, lines joined by ``\\n``, without a trailing newline.
    """
    widths = [len(title) for title in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        out = [
            cell.ljust(width) if index < 2 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])
