"""Measure one implementation of one micro workload; runs as a subprocess.

Usage: ``python -m benchmarks._worker WORKLOAD IMPL [--target-ms T] [--no-mem]
[--asgiref-under DIR]`` with the repository root as the working directory. Prints one JSON
object on the last line of stdout: ``{"status": "ok", "value": ns_per_op, "ops": n, "peak":
bytes}`` or ``{"status": "n.i." | "error", "detail": "..."}``. With ``--asgiref-under``, a
body that imported ``asgiref`` from anywhere else is an ``error`` (the runner passes ours'
``src/`` and the baseline venv, so a stray install never passes for either).

Procedure: build the body (imports happen here: an ``ImportError`` of ours means "not
implemented"); a warm-up pass of ``min_ops`` calls that also estimates the cost; three timed
passes of equal size lasting about ``T`` ms together, the fastest of which is the figure
(machine interference only ever adds time); then a separate pass under ``tracemalloc``
(a third of one timed pass, at most ``min_ops`` calls) whose peak minus its starting
level is the reported peak memory.
Async bodies run all passes inside one ``asyncio.run`` (the loop and per-loop state are
warm), and the timing is taken inside the loop, so loop creation is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks._registry import BASELINE, OURS, Workload, workload
from benchmarks.workloads import Body, factory

__all__ = ["imported_from", "main", "measure"]


PASSES = 3
"""Timed passes per measurement; the fastest counts (interference only ever adds time)."""


def _result(spec: Workload, n: int, best: int | None, peak: int | None) -> dict[str, Any]:
    assert best is not None
    ops = n * spec.ops_per_call
    return {"value": best / ops, "ops": ops * PASSES, "peak": peak}


def _plan(spec: Workload, warmup_ns: int, target_ns: int) -> int:
    """Number of calls of one timed pass: about ``target_ns`` worth, within the bounds."""
    per_call = max(warmup_ns / spec.min_ops, 1.0)
    return max(spec.min_ops, min(spec.max_ops, int(target_ns / per_call)))


def _peak_of(run: Callable[[], None]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        run()
        return max(0, tracemalloc.get_traced_memory()[1] - start)
    finally:
        tracemalloc.stop()


async def _apeak_of(run: Callable[[], Awaitable[None]]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        await run()
        return max(0, tracemalloc.get_traced_memory()[1] - start)
    finally:
        tracemalloc.stop()


def _measure_sync(
    run: Callable[[int], None], spec: Workload, target_ns: int, mem: bool
) -> dict[str, Any]:
    start = time.perf_counter_ns()
    run(spec.min_ops)
    n = _plan(spec, time.perf_counter_ns() - start, target_ns // PASSES)
    best = None
    for _ in range(PASSES):
        start = time.perf_counter_ns()
        run(n)
        elapsed = time.perf_counter_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    mem_ops = max(1, min(spec.min_ops, n // 3))
    peak = _peak_of(lambda: run(mem_ops)) if mem else None
    return _result(spec, n, best, peak)


async def _measure_async(
    run: Callable[[int], Awaitable[None]], spec: Workload, target_ns: int, mem: bool
) -> dict[str, Any]:
    start = time.perf_counter_ns()
    await run(spec.min_ops)
    n = _plan(spec, time.perf_counter_ns() - start, target_ns // PASSES)
    best = None
    for _ in range(PASSES):
        start = time.perf_counter_ns()
        await run(n)
        elapsed = time.perf_counter_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    mem_ops = max(1, min(spec.min_ops, n // 3))
    peak = await _apeak_of(lambda: run(mem_ops)) if mem else None
    return _result(spec, n, best, peak)


def measure(body: Body, spec: Workload, target_ns: int, mem: bool = True) -> dict[str, Any]:
    """Time ``body`` for ``spec`` and return ``{"value": ns_per_op, "ops": n, "peak": bytes}``.

    Args:
        body: the code to run.
        spec: the workload (bounds and unit operations per call).
        target_ns: how long the timed pass should last.
        mem: also run the ``tracemalloc`` pass (``peak`` is ``None`` otherwise).
    """
    if body.run_sync is not None:
        return _measure_sync(body.run_sync, spec, target_ns, mem)
    assert body.run_async is not None
    return asyncio.run(_measure_async(body.run_async, spec, target_ns, mem))


def imported_from(under: Path) -> str | None:
    """Check that the imported ``asgiref`` (if any) lives inside ``under``.

    Returns:
        ``None`` when it does (or when no ``asgiref`` was imported), else the problem.
    """
    module = sys.modules.get("asgiref")
    if module is None:
        return None
    where = Path(module.__file__ or "").resolve()
    if under.resolve() in where.parents:
        return None
    return f"asgiref imported from {where}, not from {under}"


def _run(
    name: str, impl: str, target_ns: int, mem: bool, under: Path | None = None
) -> dict[str, Any]:
    spec = workload(name)
    try:
        body = factory(name, impl)()
    except ImportError as exc:
        status = "n.i." if impl in (OURS.key, BASELINE.key) else "error"
        return {"status": status, "detail": f"{type(exc).__name__}: {exc}"}
    wrong = imported_from(under) if under is not None else None
    if wrong is not None:
        return {"status": "error", "detail": wrong}
    try:
        result = measure(body, spec, target_ns, mem)
    except Exception as exc:
        return {"status": "error", "detail": f"{type(exc).__name__}: {exc}"}
    return {"status": "ok", **result}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints the JSON result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("workload")
    parser.add_argument("impl")
    parser.add_argument("--target-ms", type=float, default=300.0)
    parser.add_argument("--no-mem", action="store_true")
    parser.add_argument("--asgiref-under", type=Path, help="fail unless asgiref is from here")
    args = parser.parse_args(argv)
    target_ns = int(args.target_ms * 1e6)
    result = _run(args.workload, args.impl, target_ns, not args.no_mem, args.asgiref_under)
    sys.stdout.flush()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
