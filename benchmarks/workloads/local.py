"""Bodies of the ``asgiref.local.Local`` workloads and their floors.

One call of a body performs ten unrolled operations (``ops_per_call = 10`` in the registry),
so the loop overhead weighs little against a ~20 ns ``ContextVar.get``. Floors:
``ContextVar.get``/``set`` and ``threading.local`` attribute access.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from benchmarks.workloads._base import Body, load

__all__ = ["BODIES"]

_VAR: ContextVar[int] = ContextVar("bench_var")


def _get_body(box: Any) -> Callable[[int], None]:
    def run(n: int) -> None:
        for _ in range(n):
            _ = box.value
            _ = box.value
            _ = box.value
            _ = box.value
            _ = box.value
            _ = box.value
            _ = box.value
            _ = box.value
            _ = box.value
            _ = box.value

    return run


def _setget_body(box: Any) -> Callable[[int], None]:
    def run(n: int) -> None:
        for i in range(n):
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value
            box.value = i
            _ = box.value

    return run


def _var_get(n: int) -> None:
    get = _VAR.get
    for _ in range(n):
        _ = get()
        _ = get()
        _ = get()
        _ = get()
        _ = get()
        _ = get()
        _ = get()
        _ = get()
        _ = get()
        _ = get()


def _var_setget(n: int) -> None:
    var = _VAR
    for i in range(n):
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()
        var.set(i)
        _ = var.get()


def _as_body(run: Callable[[int], None], in_async: bool) -> Body:
    """Wrap ``run`` so it executes in sync code, or inside a task of ``asyncio.run``."""
    if not in_async:
        return Body(run_sync=run)

    async def run_async(n: int) -> None:
        run(n)

    return Body(run_async=run_async)


def _make(kind: str, op: str, in_async: bool) -> Callable[[], Body]:
    """Return the factory of one body.

    Args:
        kind: ``default`` / ``critical`` (a ``Local``), ``var`` or ``tl`` (floors).
        op: ``get`` or ``setget``.
        in_async: run in a coroutine rather than in plain sync code.
    """

    def build() -> Body:
        if kind == "var":
            _VAR.set(1)
            return _as_body(_var_get if op == "get" else _var_setget, in_async)
        box: Any
        if kind == "tl":
            box = threading.local()
        else:
            box = load("asgiref.local", "Local")(kind == "critical")
        if in_async:
            return _prepared_async(box, op)
        box.value = 1
        return _as_body(_get_body(box) if op == "get" else _setget_body(box), in_async)

    return build


def _prepared_async(box: Any, op: str) -> Body:
    """An async body that sets the value inside the running task before timing reads."""
    run = _get_body(box) if op == "get" else _setget_body(box)
    prepared = False

    async def run_async(n: int) -> None:
        nonlocal prepared
        if not prepared:
            box.value = 1
            prepared = True
        run(n)

    return Body(run_async=run_async)


def _family(op: str, in_async: bool, critical: bool) -> dict[str, Callable[[], Body]]:
    local = _make("critical" if critical else "default", op, in_async)
    bodies = {"ours": local, "ref": local, "floor_tl": _make("tl", op, in_async)}
    if not critical:
        bodies["floor"] = _make("var", op, in_async)
    return bodies


BODIES: dict[str, dict[str, Callable[[], Body]]] = {
    "local_get_sync": _family("get", False, False),
    "local_get_async": _family("get", True, False),
    "local_setget_sync": _family("setget", False, False),
    "local_setget_async": _family("setget", True, False),
    "local_tc_get_sync": _family("get", False, True),
    "local_tc_get_async": _family("get", True, True),
    "local_tc_setget_sync": _family("setget", False, True),
    "local_tc_setget_async": _family("setget", True, True),
}
"""Workload name -> implementation key -> body factory."""
