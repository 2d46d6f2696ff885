"""Turn one run's series into the printed tables, the targets section and the JSON file."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._registry import GROUPS, OURS, Kind, Role, Workload
from benchmarks._stats import (
    OK,
    Series,
    fmt_bytes,
    fmt_rate,
    fmt_ratio,
    fmt_spread,
    fmt_time,
    ratio,
    render_table,
)
from benchmarks._targets import (
    BEFORE_LIMIT,
    NOT_SLOWER,
    NOT_SLOWER_THAN_BEFORE,
    TARGETS,
    Results,
    Target,
    evaluate,
    summary,
)
from benchmarks._venv import Probe

if TYPE_CHECKING:
    from benchmarks._baseline import Baseline
    from benchmarks._runner import Options

__all__ = ["group_table", "meta", "render", "sections", "targets_table", "write_json"]


def meta(
    options: Options,
    ours: Probe,
    reference: Probe | None,
    seconds: float,
    baseline: Baseline | None = None,
) -> dict[str, Any]:
    """Facts about the run, printed above the tables and stored in the JSON."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{platform.machine()} {platform.system()}, {_cpu_count()} CPUs",
        "python": ours.version,
        "ours": f"asgiref {ours.asgiref_version} from {ours.asgiref_file}",
        "reference": (
            f"asgiref {reference.asgiref_version} ({reference.python})" if reference else "none"
        ),
        "a2wsgi": reference.dists.get("a2wsgi") if reference else None,
        "baseline": _before(baseline),
        "baseline_commit": baseline.commit if baseline else None,
        "uvicorn": ours.dists.get("uvicorn"),
        "Django": ours.dists.get("Django"),
        "rounds": options.rounds,
        "e2e_rounds": options.e2e_rounds,
        "target_ms": options.target_ms,
        "e2e_seconds": options.e2e_seconds,
        "pinned_cpu": options.pin,
        "loadgen_cpu": options.loadgen_cpu,
        "quick": options.quick,
        "seconds": round(seconds, 1),
    }


def _before(baseline: Baseline | None) -> str | None:
    if baseline is None:
        return None
    info = baseline.probe
    return (
        f"asgiref {info.asgiref_version} at {baseline.rev} = {baseline.commit[:12]} ({info.python})"
    )


def _cpu_count() -> int:
    return os.cpu_count() or 1


def _series(results: Results, spec: Workload, label: str) -> Series:
    return results.get(spec.name, {}).get(label) or Series()


def _figure(spec: Workload, series: Series) -> str:
    if series.median is None:
        return series.status if series.failures else "—"
    shown = fmt_rate(series.median) if spec.higher_is_better else fmt_time(series.median)
    return shown if series.status == OK else f"{shown} *"


def _ours_ratio(results: Results, spec: Workload, role: Role) -> str:
    other = next((impl for impl in spec.impls if impl.role is role), None)
    if other is None:
        return ""
    ours = _series(results, spec, OURS.label).median
    return fmt_ratio(ratio(ours, _series(results, spec, other.label).median))


def _has_baseline(specs: Sequence[Workload]) -> bool:
    return any(impl.role is Role.BASELINE for spec in specs for impl in spec.impls)


def _micro_rows(results: Results, spec: Workload, peer: bool, before: bool) -> list[list[str]]:
    rows = []
    for index, impl in enumerate(spec.impls):
        series = _series(results, spec, impl.label)
        mine = impl.role is Role.OURS
        row = [
            spec.title if index == 0 else "",
            impl.label,
            _figure(spec, series),
            fmt_spread(series.spread),
            _ours_ratio(results, spec, Role.REFERENCE) if mine else "",
        ]
        if before:
            row.append(_ours_ratio(results, spec, Role.BASELINE) if mine else "")
        row.append(_ours_ratio(results, spec, Role.FLOOR) if mine else "")
        if peer:
            row.append(_ours_ratio(results, spec, Role.PEER) if mine else "")
        row.append(fmt_bytes(series.peak))
        rows.append(row)
    return rows


def _server_rows(results: Results, spec: Workload, before: bool) -> list[list[str]]:
    rows = []
    for index, impl in enumerate(spec.impls):
        series = _series(results, spec, impl.label)
        mine = impl.role is Role.OURS
        counted = bool(series.values)
        row = [
            spec.title if index == 0 else "",
            impl.label,
            _figure(spec, series),
            fmt_spread(series.spread),
            _ours_ratio(results, spec, Role.REFERENCE) if mine else "",
        ]
        if before:
            row.append(_ours_ratio(results, spec, Role.BASELINE) if mine else "")
        rows.append([
            *row,
            _ours_ratio(results, spec, Role.PEER) if mine else "",
            str(series.counters.get("non2xx", 0)) if counted else "—",
            str(series.counters.get("errors", 0)) if counted else "—",
            fmt_bytes(series.peak),
        ])  # fmt: skip
    return rows


def _footnotes(results: Results, specs: Sequence[Workload]) -> list[str]:
    """One line per distinct (implementation, status, detail), naming the workloads."""
    seen: dict[tuple[str, str, str], list[str]] = {}
    for spec in specs:
        for impl in spec.impls:
            series = _series(results, spec, impl.label)
            for status, detail in series.failures[:1]:
                seen.setdefault((impl.label, status, detail.strip()[:160]), []).append(spec.name)
    return [
        f"  * {label}: {status} on {', '.join(names)}: {detail}"
        for (label, status, detail), names in seen.items()
    ]


def group_table(group: str, specs: Sequence[Workload], results: Results) -> str:
    """The table of one workload group, with its footnotes."""
    members = [spec for spec in specs if spec.group == group]
    server = members[0].kind is Kind.SERVER
    peer = any(spec.peer is not None for spec in members)
    before = _has_baseline(members)
    ratios = ["ours/ref", *(["ours/before"] if before else [])]
    if server:
        headers = ["workload", "implementation", "2xx req/s", "spread", *ratios,
                   "ours/a2wsgi", "non-2xx", "failed", "peak RSS"]  # fmt: skip
        rows = [row for spec in members for row in _server_rows(results, spec, before)]
    else:
        headers = ["workload", "implementation", "median", "spread", *ratios, "ours/floor"]
        headers += ["ours/a2wsgi"] if peer else []
        headers.append("peak mem")
        rows = [row for spec in members for row in _micro_rows(results, spec, peer, before)]
    unit = "2xx responses per second" if server else "median time per operation"
    lines = [f"== {GROUPS[group]} ({unit}) ==", render_table(headers, rows)]
    lines += _footnotes(results, members)
    return "\n".join(lines)


def targets_table(title: str, targets: Sequence[Target], results: Results) -> str:
    """The verdicts of ``targets`` as a table."""
    rows = []
    for target in targets:
        verdict, measured = evaluate(target, results)
        rows.append([verdict, target.text, measured, target.source])
    return "\n".join([f"== {title} ==", render_table(["", "target", "measured", "from"], rows)])


def _selected(targets: Sequence[Target], specs: Sequence[Workload]) -> list[Target]:
    names = {spec.name for spec in specs}
    return [target for target in targets if target.workload in names]


def _targets_title(chosen: Sequence[Target]) -> str:
    """``targets (issues 3, 5, 12)``: the issues the selected targets come from."""
    numbers = sorted({t.source.removeprefix("issue ") for t in chosen}, key=lambda n: (len(n), n))
    return f"targets (issue{'s' if len(numbers) > 1 else ''} {', '.join(numbers)})"


def sections(specs: Sequence[Workload]) -> list[tuple[str, list[Target]]]:
    """The verdict lists of a run over ``specs``, each with its title (empty ones dropped)."""
    found = [
        (_targets_title(_selected(TARGETS, specs)), _selected(TARGETS, specs)),
        ("never slower than asgiref 3.13.0", _selected(NOT_SLOWER, specs)),
    ]
    if _has_baseline(specs):
        found.append((
            f"not slower than before (--baseline: ours/before <= {BEFORE_LIMIT}x)",
            _selected(NOT_SLOWER_THAN_BEFORE, specs),
        ))  # fmt: skip
    return [(title, chosen) for title, chosen in found if chosen]


def render(specs: Sequence[Workload], results: Results, info: Mapping[str, Any]) -> str:
    """The whole printed report."""
    head = [
        f"asgiref benchmark, {info['date']}, {info['machine']}, Python {info['python']}",
        f"ours: {info['ours']}",
        *([f"before: {info['baseline']}"] if info.get("baseline") else []),
        f"reference: {info['reference']}; a2wsgi {info['a2wsgi']}; uvicorn {info['uvicorn']}"
        f" (asyncio, h11); Django {info['Django']}",
        f"rounds: {info['rounds']} micro x {info['target_ms']:.0f} ms, {info['e2e_rounds']} e2e x"
        f" {info['e2e_seconds']} s; pinned to CPU {info['pinned_cpu']} (load generator:"
        f" {info['loadgen_cpu']}); {info['seconds']} s in all",
        "peak mem = tracemalloc peak growth during a pass (micro); peak RSS = server VmHWM (e2e)",
    ]
    parts = ["\n".join(head)]
    for group in GROUPS:
        if any(spec.group == group for spec in specs):
            parts.append(group_table(group, specs, results))
    chosen_sections = sections(specs)
    parts += [targets_table(title, chosen, results) for title, chosen in chosen_sections]
    tallies = []
    for title, chosen in chosen_sections:
        counts = summary(chosen, results)
        tally = ", ".join(f"{count} {verdict}" for verdict, count in sorted(counts.items()))
        tallies.append(f"{title.split(' (')[0]}: {tally}")
    parts.append("\n".join(tallies))
    return "\n\n".join(parts)


def write_json(
    path: Path, specs: Sequence[Workload], results: Results, info: Mapping[str, Any]
) -> None:
    """Write every sample, median and verdict to ``path``."""
    data: dict[str, Any] = {"meta": dict(info), "workloads": {}, "targets": []}
    for spec in specs:
        impls = {}
        for impl in spec.impls:
            series = _series(results, spec, impl.label)
            impls[impl.label] = {
                "role": impl.role.value,
                "values": series.values,
                "median": series.median,
                "peaks": series.peaks,
                "peak": series.peak,
                "failures": series.failures,
                "counters": series.counters,
            }
        data["workloads"][spec.name] = {
            "title": spec.title,
            "group": spec.group,
            "metric": "req/s" if spec.higher_is_better else "ns/op",
            "implementations": impls,
        }
    for title, chosen in sections(specs):
        for target in chosen:
            verdict, measured = evaluate(target, results)
            data["targets"].append(
                {
                    "target": target.text,
                    "verdict": verdict,
                    "measured": measured,
                    "source": target.source,
                    "list": title.split(" (")[0],
                }
            )
    path.write_text(json.dumps(data, indent=2) + "\n")
