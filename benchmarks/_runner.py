"""The benchmark runner: plan, measure round by round, report.

See ``benchmarks/README.md`` for what is measured and how to read the output.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import _report
from benchmarks._baseline import Baseline
from benchmarks._baseline import baseline as make_baseline
from benchmarks._e2e import measure_server, pinner, write_apps
from benchmarks._registry import WORKLOADS, Impl, Interp, Kind, Role, Workload, with_baseline
from benchmarks._stats import Series, fmt_rate, fmt_time
from benchmarks._venv import REFERENCE_VERSION, REPO_ROOT, Probe, clean_env, probe
from benchmarks._venv import reference_python as make_reference_python

__all__ = ["Options", "Session", "main", "parse_args", "select", "worker_command"]

_WORKER_TIMEOUT = 120.0


@dataclass(frozen=True)
class Options:
    """Everything the command line decides.

    Attributes:
        rounds: rounds of the micro workloads (median over them).
        e2e_rounds: rounds of the server workloads.
        target_ms: length of one timed pass of a micro workload.
        e2e_seconds: measured window of one server run.
        patterns: ``--only`` glob patterns (empty: everything).
        pin: ``None`` (no pinning) or the CPU for micro workloads and servers.
        loadgen_cpu: the CPU of the load generator (another one when there are two).
        json_path: where to write the JSON results.
        ref_python: use this interpreter as the reference instead of the cached venv.
        quick: ``--quick`` was given.
        baseline: ``--baseline REV``: also measure this package at git revision ``REV``.
    """

    rounds: int
    e2e_rounds: int
    target_ms: float
    e2e_seconds: float
    patterns: tuple[str, ...]
    pin: int | None
    loadgen_cpu: int | None
    json_path: Path | None
    ref_python: str | None
    quick: bool
    baseline: str | None = None


def _cpus(choice: str) -> tuple[int | None, int | None]:
    """Pinning for ``--pin-cpu``: ``auto`` (lowest allowed CPU), ``none`` or a number."""
    if choice == "none" or not hasattr(os, "sched_getaffinity"):
        return None, None
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[0] if choice == "auto" else int(choice)
    if cpu not in allowed:
        raise SystemExit(f"--pin-cpu {cpu}: not in this process's CPUs {allowed}")
    others = [other for other in allowed if other != cpu]
    return cpu, (others[0] if others else cpu)


def parse_args(argv: Sequence[str]) -> Options:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="Benchmark this asgiref against asgiref 3.13.0, a2wsgi and asyncio floors.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter passes")
    parser.add_argument("--only", default="", help="comma-separated globs on names or groups")
    parser.add_argument("--rounds", type=int, help="rounds of micro workloads (7; quick 3)")
    parser.add_argument("--e2e-rounds", type=int, help="rounds of server workloads (5; quick 1)")
    parser.add_argument("--target-ms", type=float, help="timed pass length (250; quick 60)")
    parser.add_argument("--e2e-seconds", type=float, help="server load window (3; quick 1.5)")
    parser.add_argument("--pin-cpu", default="auto", help="CPU number, 'auto' or 'none'")
    parser.add_argument("--json", type=Path, help="write all samples and verdicts here")
    parser.add_argument("--ref-python", help="an interpreter with asgiref 3.13.0 (no venv)")
    parser.add_argument(
        "--baseline", metavar="REV", help="also measure this package at git revision REV"
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    if args.list:
        for spec in WORKLOADS:
            print(f"{spec.name:24} {spec.group:6} {spec.title}")
        raise SystemExit(0)
    quick = bool(args.quick)
    pin, loadgen_cpu = _cpus(args.pin_cpu)
    return Options(
        rounds=args.rounds or (3 if quick else 7),
        e2e_rounds=args.e2e_rounds or (1 if quick else 5),
        target_ms=args.target_ms or (60.0 if quick else 250.0),
        e2e_seconds=args.e2e_seconds or (1.5 if quick else 3.0),
        patterns=tuple(p.strip() for p in args.only.split(",") if p.strip()),
        pin=pin,
        loadgen_cpu=loadgen_cpu,
        json_path=args.json,
        ref_python=args.ref_python,
        quick=quick,
        baseline=args.baseline,
    )


def select(patterns: Sequence[str]) -> list[Workload]:
    """The workloads whose name or group matches one of ``patterns`` (all if none)."""
    if not patterns:
        return list(WORKLOADS)
    return [
        spec
        for spec in WORKLOADS
        if any(fnmatch.fnmatch(spec.name, p) or fnmatch.fnmatch(spec.group, p) for p in patterns)
    ]


@dataclass
class Session:
    """The state of one run: interpreters, results, implementations to skip."""

    options: Options
    ours: Probe
    reference: Probe | None
    app_dir: Path
    results: dict[str, dict[str, Series]] = field(default_factory=dict)
    skip: set[tuple[str, str]] = field(default_factory=set)  # (workload, impl label)
    baseline: Baseline | None = None

    def series(self, spec: Workload, impl: Impl) -> Series:
        """The series of ``impl`` on ``spec`` (created empty)."""
        return self.results.setdefault(spec.name, {}).setdefault(impl.label, Series())

    def python(self, impl: Impl) -> str | None:
        """The interpreter of ``impl`` (``None``: no such interpreter in this run)."""
        if impl.interp is Interp.OURS:
            return self.ours.python
        if impl.interp is Interp.BASE:
            return self.baseline.probe.python if self.baseline else None
        return self.reference.python if self.reference else None

    def probe_of(self, impl: Impl) -> Probe | None:
        """What the interpreter of ours or of the baseline has (``None`` for the others)."""
        if impl.role is Role.OURS:
            return self.ours
        if impl.role is Role.BASELINE and self.baseline is not None:
            return self.baseline.probe
        return None

    def asgiref_home(self, impl: Impl) -> Path | None:
        """Where ``impl``'s worker must import ``asgiref`` from (ours and the baseline)."""
        if impl.role is Role.OURS:
            return REPO_ROOT / "src"
        if impl.role is Role.BASELINE and self.baseline is not None:
            return self.baseline.root
        return None


def _check_ours(info: Probe) -> None:
    src = (REPO_ROOT / "src").resolve()
    where = Path(info.asgiref_file).resolve() if info.asgiref_file else None
    if where is None or src not in where.parents:
        raise SystemExit(
            f"{info.python} imports asgiref from {where}, not from {src}.\n"
            "Run the benchmark with the interpreter of a venv where this repository is "
            'installed (pip install -e ".[tests]").'
        )


def _reference(options: Options) -> Probe:
    python = options.ref_python or str(make_reference_python())
    info = probe(python)
    if info.asgiref_version != REFERENCE_VERSION:
        raise SystemExit(f"{python} has asgiref {info.asgiref_version}, not {REFERENCE_VERSION}")
    return info


def _baseline(options: Options) -> Baseline | None:
    if options.baseline is None:
        return None
    try:
        return make_baseline(options.baseline)
    except (ValueError, RuntimeError) as exc:
        raise SystemExit(f"--baseline {options.baseline}: {exc}") from exc


def worker_command(session: Session, spec: Workload, impl: Impl) -> list[str] | None:
    """The worker's command line for ``impl`` on ``spec`` (``None``: no interpreter)."""
    python = session.python(impl)
    if python is None:
        return None
    command = [python, "-m", "benchmarks._worker", spec.name, impl.key,
               "--target-ms", str(session.options.target_ms)]  # fmt: skip
    home = session.asgiref_home(impl)
    return command if home is None else [*command, "--asgiref-under", str(home)]


def _run_worker(session: Session, spec: Workload, impl: Impl) -> dict[str, Any]:
    command = worker_command(session, spec, impl)
    if command is None:
        return {"status": "error", "detail": f"no interpreter for {impl.label}"}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_WORKER_TIMEOUT,
            cwd=REPO_ROOT,
            env=clean_env(),
            preexec_fn=pinner(session.options.pin),  # safe: the runner is single-threaded
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "detail": f"no result within {_WORKER_TIMEOUT:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"status": "error", "detail": f"exit {done.returncode}: {done.stderr[-300:]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _record_micro(session: Session, spec: Workload, impl: Impl, result: dict[str, Any]) -> str:
    series = session.series(spec, impl)
    if result["status"] == "ok":
        series.add(float(result["value"]), result.get("peak"))
        return fmt_time(float(result["value"]))
    series.fail(result["status"], result.get("detail", ""))
    if result["status"] in ("n.i.", "timeout"):
        session.skip.add((spec.name, impl.label))
    return str(result["status"])


def _missing_module(info: Probe, spec: Workload) -> str | None:
    server = "gunicorn" if spec.name.startswith("e2e_a2w") else "uvicorn"
    needs = [server] + (["Django"] if "django" in spec.name else [])
    for dist in needs:
        if info.dists.get(dist) is None:
            return f"{dist} is not installed in {info.python} (pip install -e '.[tests]')"
    for module in spec.modules:
        status = info.modules.get(module, "not probed")
        if status != "ok":
            return f"{module}: {status}"
    return None


def _record_server(session: Session, spec: Workload, impl: Impl) -> str:
    series = session.series(spec, impl)
    info = session.probe_of(impl)
    if info is not None and (missing := _missing_module(info, spec)):
        status = "n.i." if missing.startswith("asgiref") else "error"
        series.fail(status, missing)
        session.skip.add((spec.name, impl.label))
        return status
    python = session.python(impl)
    if python is None:
        series.fail("error", f"no interpreter for {impl.label}")
        return "error"
    cpus = (session.options.pin, session.options.loadgen_cpu)
    run = measure_server(spec, impl, python, session.app_dir, session.options.e2e_seconds, cpus)
    if run.status != "ok":
        series.fail(run.status, run.detail)
        return run.status
    series.add(run.rps, run.peak_rss)
    series.count("ok", run.ok)
    series.count("non2xx", run.non2xx)
    series.count("errors", run.errors)
    bad = f" ({run.non2xx + run.errors} bad)" if run.non2xx + run.errors else ""
    return fmt_rate(run.rps) + bad


def _rotated(impls: Sequence[Impl], shift: int) -> list[Impl]:
    shift %= len(impls)
    return [*impls[shift:], *impls[:shift]]


def _round(session: Session, specs: Sequence[Workload], number: int, total: int) -> None:
    for spec in specs:
        parts = []
        for impl in _rotated(spec.impls, number):
            if (spec.name, impl.label) in session.skip:
                continue
            if spec.kind is Kind.MICRO:
                shown = _record_micro(session, spec, impl, _run_worker(session, spec, impl))
            else:
                shown = _record_server(session, spec, impl)
            parts.append(f"{impl.label}={shown}")
        line = f"[{number + 1}/{total}] {spec.name}: {', '.join(parts)}"
        print(line, file=sys.stderr, flush=True)


def _measure(session: Session, specs: Sequence[Workload]) -> None:
    micro = [spec for spec in specs if spec.kind is Kind.MICRO]
    server = [spec for spec in specs if spec.kind is Kind.SERVER]
    if micro:
        for number in range(session.options.rounds):
            _round(session, micro, number, session.options.rounds)
    if server:
        for number in range(session.options.e2e_rounds):
            _round(session, server, number, session.options.e2e_rounds)


def main(argv: Sequence[str]) -> int:
    """Run the benchmark; returns the process exit code."""
    options = parse_args(argv)
    specs = select(options.patterns)
    if not specs:
        print(f"no workload matches {', '.join(options.patterns)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    ours = probe(sys.executable)
    _check_ours(ours)
    reference = _reference(options)
    baseline = _baseline(options)
    if baseline is not None:
        specs = [with_baseline(spec) for spec in specs]
    with tempfile.TemporaryDirectory(prefix="asgiref-bench-") as tmp:
        write_apps(Path(tmp))
        session = Session(options, ours, reference, Path(tmp), baseline=baseline)
        _measure(session, specs)
    meta = _report.meta(options, ours, reference, time.monotonic() - started, baseline)
    print(_report.render(specs, session.results, meta), flush=True)
    if options.json_path is not None:
        _report.write_json(options.json_path, specs, session.results, meta)
    return 0
