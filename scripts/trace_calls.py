#!/usr/bin/env python3
"""Measure how the package is laid out, as a reader following a call sees it.

Prints, for the installed ``asgiref`` (run it with a venv where this checkout is
installed):

* the number of Python files under ``src/asgiref``;
* the import cycles among its modules (module-level imports; ``TYPE_CHECKING``-only
  imports listed separately, since a reader still walks them);
* for one ``await sync_to_async(f)()`` and one ``async_to_sync(coro)()`` (each measured
  after a warm-up call, so thread start-up is not counted): every ``asgiref`` module the
  call passes through, the number of Python-level calls into package code, and how
  often consecutive calls change module (traced with ``sys.setprofile`` in every
  thread);
* the ``asgiref`` modules that ``import asgiref.server`` loads.

Usage: ``python scripts/trace_calls.py [--verbose]`` (``--verbose`` prints each traced
call).
"""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src" / "asgiref"


def module_name(path: Path) -> str:
    """``src/asgiref/_wsgi/response.py`` -> ``asgiref._wsgi.response``."""
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, bool]]:
    """Yield ``(imported module, type_checking_only)`` for the module-level imports."""

    def walk(nodes: list[ast.stmt], typing_only: bool) -> Iterator[tuple[str, bool]]:
        for node in nodes:
            if isinstance(node, ast.If):
                yield from walk(node.body, typing_only or _is_type_checking(node))
                yield from walk(node.orelse, typing_only)
            elif isinstance(node, ast.Try):
                yield from walk(node.body, typing_only)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, typing_only
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module if is_package else module.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                yield base, typing_only
                for alias in node.names:  # "from asgiref import _threads"
                    yield f"{base}.{alias.name}", typing_only

    assert isinstance(tree, ast.Module)
    yield from walk(tree.body, False)


def import_graph() -> dict[str, dict[str, bool]]:
    """Module -> {imported package module: type_checking_only}."""
    files = sorted(SRC.rglob("*.py"))
    modules = {module_name(path): path for path in files}
    graph: dict[str, dict[str, bool]] = {}
    for name, path in modules.items():
        edges: dict[str, bool] = {}
        tree = ast.parse(path.read_text(), str(path))
        for target, typing_only in _imports(tree, name, path.name == "__init__.py"):
            if target in modules and target != name:
                edges[target] = edges.get(target, True) and typing_only
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, bool]], runtime_only: bool) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target, typing_only in graph[node].items():
            if runtime_only and typing_only:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            # A package importing its own submodule is not a cycle a reader walks.
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


class _Tracer:
    """Records calls into package code, from every thread.

    Installed before the warm-up call, so the threads that call starts are traced
    too (``threading.setprofile`` reaches threads started later); :meth:`reset`
    forgets the warm-up, :meth:`stop` stops recording (thread profilers stay, idle).
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.active = True
        self._lock = threading.Lock()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or not self.active:
            return
        module = frame.f_globals.get("__name__", "")
        if module == "asgiref" or module.startswith("asgiref."):
            with self._lock:
                self.calls.append((module, frame.f_code.co_qualname))

    def start(self) -> None:
        threading.setprofile(self)
        sys.setprofile(self)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    def stop(self) -> list[tuple[str, str]]:
        self.active = False
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        return self.calls


def _report(title: str, calls: list[tuple[str, str]], verbose: bool) -> None:
    modules: list[str] = []
    changes = 0
    for i, (module, _) in enumerate(calls):
        if module not in modules:
            modules.append(module)
        if i and calls[i - 1][0] != module:
            changes += 1
    print(f"\n{title}")
    print(f"  modules passed through: {len(modules)}  ({', '.join(modules)})")
    print(f"  calls into package code: {len(calls)}; module changes between calls: {changes}")
    if verbose:
        for module, name in calls:
            print(f"    {module}.{name}")


def trace_sync_to_async() -> list[tuple[str, str]]:
    from asgiref.sync import sync_to_async

    def noop() -> None:
        pass

    wrapped = sync_to_async(noop)
    tracer = _Tracer()
    tracer.start()

    async def main() -> None:
        await wrapped()  # warm-up: starts the sync thread
        tracer.reset()
        await wrapped()
        tracer.active = False

    try:
        asyncio.run(main())
    finally:
        calls = tracer.stop()
    return calls


def trace_async_to_sync() -> list[tuple[str, str]]:
    from asgiref.sync import async_to_sync

    async def anoop() -> None:
        pass

    wrapped = async_to_sync(anoop)
    tracer = _Tracer()
    tracer.start()
    try:
        wrapped()  # warm-up: starts a pooled loop thread
        tracer.reset()
        wrapped()
    finally:
        calls = tracer.stop()
    return calls


def server_imports() -> list[str]:
    code = (
        "import sys; import asgiref.server; "
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('asgiref'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return out.split()


def main() -> None:
    verbose = "--verbose" in sys.argv
    files = sorted(SRC.rglob("*.py"))
    print(f"Python files under src/asgiref: {len(files)}")
    graph = import_graph()
    runtime = cycles(graph, runtime_only=True)
    every = cycles(graph, runtime_only=False)
    print(f"import cycles at run time: {len(runtime)}")
    for component in runtime:
        print("  " + " <-> ".join(component))
    print(f"import cycles counting TYPE_CHECKING imports: {len(every)}")
    for component in every:
        print("  " + " <-> ".join(component))
    _report("one `await sync_to_async(f)()`", trace_sync_to_async(), verbose)
    _report("one `async_to_sync(coro)()`", trace_async_to_sync(), verbose)
    loaded = server_imports()
    print(f"\n`import asgiref.server` loads {len(loaded)} asgiref modules: {', '.join(loaded)}")


if __name__ == "__main__":
    main()
