"""Property test: random nested programs of every way to cross between sync and async.

A program is a tree that alternates sync and async nodes.  A sync node runs each async
child with ``async_to_sync`` (plain or ``force_new_loop=True``) or with
``asyncio.run`` on its own thread; an async node runs each sync child with
``sync_to_async`` (thread-sensitive or not) or ``asyncio.to_thread``, optionally inside
a plain ``ThreadSensitiveContext()``.  Every node writes a default ``Local`` (a name of
its own) and a ``Local(thread_critical=True)`` (one name shared by all nodes).

The oracle runs inside the program: before each call the caller derives from the path
of nodes above it (their threads, loops and the calls in progress) where the call must
run, following ``docs/where-code-runs.rst``, and checks it afterwards:

* thread-sensitive ``sync_to_async``: under a bridge, on the thread blocked in the
  nearest ``async_to_sync`` above ([ts-bridge]; also through ``to_thread`` and
  ``asyncio.run``, D39), and ``RuntimeError("You cannot submit onto
  CurrentThreadExecutor from its own thread; ...")`` when the loop runs on that very
  thread ([ts-bridge-own-thread]); without a bridge, on the outermost plain
  ``ThreadSensitiveContext``'s one thread ([ts-scope]) or on the process-wide sync thread
  ([ts-sync-thread]), and "would deadlock" when that thread is the caller's own or is
  blocked below it ([deadlock-detection]).  A call that must wait for a thread that is
  blocked without serving (documented as a deadlock the user must avoid) is not made;
* ``thread_sensitive=False`` and ``to_thread``: a thread that is not blocked above;
* ``async_to_sync``: the parent loop and its thread when the caller runs under
  ``sync_to_async`` and ``force_new_loop`` is not set ([loop-parent]), otherwise a fresh
  loop on another thread, closed afterwards ([loop-fresh]); ``asyncio.run``: a fresh
  loop on the caller's thread.

and the ``Local`` rules of ``docs/local.rst``:

* default ``Local``: a node sees the value of an ancestor exactly when no
  ``to_thread`` lies between them (the bridges carry values, ``asyncio.run`` copies the
  context on the same thread, a thread the bridges did not start sees nothing), and
  after a call returns the caller sees the values written below it exactly when every
  step down was a bridge (values flow back through the bridges only);
* thread-critical ``Local``: sync code sees what was last written on its thread while no
  loop ran (``threading.local``); async code sees the values written on its thread while
  its loop runs, context-locally: ``SHADOW``, a context variable holding one value per
  loop, follows the same contexts.  A write on another thread never hides or replaces
  a loop's value (issue 15, R4).

Before the fixes of issue 15 this test found R1 (a thread-sensitive call from
``asyncio.run`` on the thread serving a bridge ran on the process-wide sync thread) and
R4 (the loop's thread-critical value was lost after a ``force_new_loop`` bridge on
another thread); ``PROGRAM_SETTINGS`` runs enough examples to find each of them.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from dataclasses import dataclass, field
from enum import Enum

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from asgiref.local import Local
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

#: Sync and async levels together (the root counts).
MAX_DEPTH = 6
MAX_CHILDREN = 2

#: Measured on the code before the R1 fix (20 seeds each, examples until the first
#: failure): median 45, at most 171 from sync code; median 77, at most 206 from
#: ``asyncio.run``.  With 250 examples each, both tests miss R1 in fewer than 1 in 1000 runs.
PROGRAM_SETTINGS = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Before the R4 fix it failed after a median of 12 examples, at most 49 (20 seeds).
#: No shrinking while it is an expected failure (add ``Phase.shrink`` when debugging).
R4_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.generate],
)

OWN_THREAD = r"^You cannot submit onto CurrentThreadExecutor from its own thread; "
DEADLOCK = r"^Single thread executor already being used, would deadlock; "

MISSING = object()


class Edge(Enum):
    """How a node is called by its parent."""

    ROOT = "the test"
    S2A_TS = "sync_to_async"
    S2A_FREE = "sync_to_async(thread_sensitive=False)"
    TO_THREAD = "asyncio.to_thread"
    A2S = "async_to_sync"
    A2S_NEW = "async_to_sync(force_new_loop=True)"
    RUN = "asyncio.run"


BRIDGES = frozenset({Edge.S2A_TS, Edge.S2A_FREE, Edge.A2S, Edge.A2S_NEW})
SYNC_EDGES = [Edge.S2A_TS, Edge.S2A_TS, Edge.S2A_FREE, Edge.TO_THREAD]
ASYNC_EDGES = [Edge.A2S, Edge.A2S_NEW, Edge.RUN]


@dataclass(eq=False)
class Node:
    """One sync function or coroutine function of the program."""

    is_async: bool
    edge: Edge
    children: list[Node]
    scope: bool = False  # async only: run the children inside ThreadSensitiveContext()
    ident: int = -1


@dataclass
class ScopeThread:
    """The one thread of a plain ``ThreadSensitiveContext``, once a call picked it."""

    thread: threading.Thread | None = None


@dataclass(eq=False)
class Entry:
    """A node that is running: where, and which child call it is making now."""

    node: Node
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop | None
    marker: object
    scope: ScopeThread | None = None
    calling: Edge | None = None


@dataclass
class Run:
    """The state of one program run, shared by all its nodes (they run one at a time)."""

    wide: threading.Thread
    local: Local = field(default_factory=Local)
    critical: Local = field(default_factory=lambda: Local(thread_critical=True))
    path: list[Entry] = field(default_factory=list)
    #: The last thread-critical value written on each thread while no loop ran.
    per_thread: dict[threading.Thread, object] = field(default_factory=dict)
    entries: dict[int, Entry] = field(default_factory=dict)
    #: Loops and threads kept alive so that identity checks cannot be fooled by reuse.
    loops: list[asyncio.AbstractEventLoop] = field(default_factory=list)
    #: A plain context whose thread the call being made picks (set when it starts).
    picking: ScopeThread | None = None
    skipped: int = 0
    raised: list[str] = field(default_factory=list)
    #: Where async code found its loop's thread-critical value hidden or replaced (R4).
    lost_critical: list[str] = field(default_factory=list)


#: Thread-critical values of async code, one per loop, following the contexts.
SHADOW: contextvars.ContextVar[dict[asyncio.AbstractEventLoop, object]] = contextvars.ContextVar(
    "shadow"
)


# -- programs -------------------------------------------------------------------------


def programs(depth: int, is_async: bool, edge: Edge) -> st.SearchStrategy[Node]:
    """Nodes with at most ``depth`` levels, including their own."""
    if depth <= 1:
        children: st.SearchStrategy[list[Node]] = st.just([])
    else:
        edges = SYNC_EDGES if is_async else ASYNC_EDGES
        child = st.sampled_from(edges).flatmap(lambda e: programs(depth - 1, not is_async, e))
        children = st.lists(child, min_size=1 if edge is Edge.ROOT else 0, max_size=MAX_CHILDREN)
    return st.builds(
        Node,
        is_async=st.just(is_async),
        edge=st.just(edge),
        children=children,
        scope=st.booleans() if is_async else st.just(False),
    )


def number(root: Node) -> None:
    """Give every node its preorder index as ``ident``."""
    count = 0

    def visit(node: Node) -> None:
        nonlocal count
        node.ident = count
        count += 1
        for child in node.children:
            visit(child)

    visit(root)


# -- the oracle -----------------------------------------------------------------------


def sees_ancestor(path: list[Entry], index: int, node: Node) -> bool:
    """Whether ``node`` (about to run below ``path``) sees ``path[index]``'s ``Local`` value."""
    edges = [entry.node.edge for entry in path[index + 1 :]] + [node.edge]
    return Edge.TO_THREAD not in edges


def flowed_back(node: Node) -> list[Node]:
    """The nodes of ``node``'s subtree whose default ``Local`` values flow back from it."""
    if node.edge not in BRIDGES:
        return []
    found = [node]
    for child in node.children:
        found.extend(flowed_back(child))
    return found


def thread_sensitive_target(run: Run) -> tuple[str, threading.Thread | None, str]:
    """Where a thread-sensitive call from the running async node must go.

    Returns ``(outcome, thread, rule)``: outcome ``"run"`` (on ``thread``; ``None`` for
    a scope thread not picked yet), ``"own"`` or ``"deadlock"`` (an error is raised) or
    ``"hang"`` (the target thread is blocked and does not serve: not made).
    """
    path = run.path
    current = path[-1].thread
    target: threading.Thread | None
    for index in range(len(path) - 1, 0, -1):
        if path[index].node.edge in (Edge.A2S, Edge.A2S_NEW):
            rule, target = "ts-bridge", path[index - 1].thread
            break
    else:
        scope = next((entry.scope for entry in path if entry.scope is not None), None)
        if scope is not None:
            rule, target = "ts-scope", scope.thread
        else:
            rule, target = "ts-sync-thread", run.wide
    if target is None:
        return "run", None, rule
    last = next((entry for entry in reversed(path) if entry.thread is target), None)
    if last is None or (not last.node.is_async and last.calling in (Edge.A2S, Edge.A2S_NEW)):
        return "run", target, rule  # free, or blocked in async_to_sync and serving it
    if rule == "ts-bridge":
        return ("own" if target is current else "hang"), target, rule
    if rule == "ts-sync-thread":  # the deadlock marker travels with the context
        return "deadlock", target, rule
    return ("deadlock" if target is current else "hang"), target, rule


def check_locals_on_entry(run: Run, node: Node, loop: asyncio.AbstractEventLoop | None) -> None:
    """Check what ``node`` sees of its ancestors' values, then write its own."""
    for index, entry in enumerate(run.path):
        seen = getattr(run.local, f"n{entry.node.ident}", MISSING) is entry.marker
        assert seen is sees_ancestor(run.path, index, node), (
            f"node {node.ident} sees node {entry.node.ident}'s Local value: {seen}"
        )
    check_critical(run, loop, f"node {node.ident} on entry")


def check_critical(run: Run, loop: asyncio.AbstractEventLoop | None, where: str) -> None:
    """Check the thread-critical value the running code sees."""
    value = getattr(run.critical, "shared", MISSING)
    if loop is None:
        expected = run.per_thread.get(threading.current_thread(), MISSING)
        assert value is expected, f"{where}: thread-critical value {value!r}, not {expected!r}"
        return
    expected = SHADOW.get({}).get(loop, MISSING)
    if value is not expected:
        # R4: collected, and the value put back so that later checks are not affected;
        # test_R4_... asserts that nothing was collected.
        run.lost_critical.append(f"{where}: thread-critical value {value!r}, not {expected!r}")
        if expected is MISSING:
            del run.critical.shared
        else:
            run.critical.shared = expected


def write_locals(
    run: Run, node: Node, marker: object, loop: asyncio.AbstractEventLoop | None
) -> None:
    setattr(run.local, f"n{node.ident}", marker)
    run.critical.shared = marker
    if loop is None:
        run.per_thread[threading.current_thread()] = marker
    else:
        SHADOW.set({**SHADOW.get({}), loop: marker})


def check_after_call(run: Run, child: Node, loop: asyncio.AbstractEventLoop | None) -> None:
    """After ``child`` returned: flow-back of default values, thread-critical value."""
    back = {id(node) for node in flowed_back(child)}
    stack = [child]
    while stack:
        node = stack.pop()
        entry = run.entries.get(node.ident)
        if entry is None:  # not run (an expected error, or a call not made)
            continue
        stack.extend(node.children)
        seen = getattr(run.local, f"n{node.ident}", MISSING) is entry.marker
        assert seen is (id(node) in back), f"node {node.ident}'s value flowed back: {seen}"
    check_critical(run, loop, f"after node {child.ident} returned")


def blocked_threads(run: Run) -> set[threading.Thread]:
    return {entry.thread for entry in run.path}


# -- running a program ----------------------------------------------------------------


def enter(run: Run, node: Node, loop: asyncio.AbstractEventLoop | None) -> Entry:
    if run.picking is not None:
        run.picking.thread = threading.current_thread()
        run.picking = None
    check_locals_on_entry(run, node, loop)
    marker = object()
    write_locals(run, node, marker, loop)
    entry = Entry(node, threading.current_thread(), loop, marker)
    run.entries[node.ident] = entry
    run.path.append(entry)
    return entry


def run_sync(node: Node, run: Run) -> None:
    """A sync node: run every async child the way its edge says, check where it ran."""
    entry = enter(run, node, None)
    try:
        for child in node.children:
            before = blocked_threads(run)
            loops = {id(e.loop) for e in run.path if e.loop is not None}
            entry.calling = child.edge
            if child.edge is Edge.RUN:
                asyncio.run(run_async(child, run))
            else:
                force = child.edge is Edge.A2S_NEW
                async_to_sync(run_async, force_new_loop=force)(child, run)
            entry.calling = None
            placed = run.entries[child.ident]
            assert placed.loop is not None
            if child.edge is Edge.RUN:  # a fresh loop on this very thread
                assert placed.thread is entry.thread
                assert id(placed.loop) not in loops
                assert placed.loop.is_closed()
            elif child.edge is Edge.A2S and node.edge in (Edge.S2A_TS, Edge.S2A_FREE):
                parent = run.path[-2]  # [loop-parent]
                assert placed.loop is parent.loop
                assert placed.thread is parent.thread
            else:  # [loop-fresh]
                assert placed.thread not in before
                assert id(placed.loop) not in loops
                assert placed.loop.is_closed()
            check_after_call(run, child, None)
    finally:
        run.path.pop()


async def run_async(node: Node, run: Run) -> None:
    """An async node: run every sync child, in a ``ThreadSensitiveContext`` if asked."""
    loop = asyncio.get_running_loop()
    run.loops.append(loop)
    entry = enter(run, node, loop)
    try:
        if node.scope:
            entry.scope = ScopeThread()
            async with ThreadSensitiveContext():
                await run_sync_children(node, run, entry, loop)
        else:
            await run_sync_children(node, run, entry, loop)
    finally:
        run.path.pop()


async def run_sync_children(
    node: Node, run: Run, entry: Entry, loop: asyncio.AbstractEventLoop
) -> None:
    for child in node.children:
        before = blocked_threads(run)
        entry.calling = child.edge
        if child.edge is Edge.TO_THREAD:
            await asyncio.to_thread(run_sync, child, run)
            assert run.entries[child.ident].thread not in before
        elif child.edge is Edge.S2A_FREE:
            await sync_to_async(run_sync, thread_sensitive=False)(child, run)
            assert run.entries[child.ident].thread not in before
        else:
            outcome, target, rule = thread_sensitive_target(run)
            call = sync_to_async(run_sync)
            scope = next((e.scope for e in run.path if e.scope is not None), None)
            if target is None:
                run.picking = scope
            if outcome == "hang":
                run.skipped += 1
                entry.calling = None
                continue
            if outcome in ("own", "deadlock"):
                with pytest.raises(
                    RuntimeError, match=OWN_THREAD if outcome == "own" else DEADLOCK
                ):
                    await call(child, run)
                run.raised.append(rule)
                entry.calling = None
                continue
            await call(child, run)
            placed = run.entries[child.ident].thread
            if target is not None:
                assert placed is target, f"{rule}: node {child.ident} ran on {placed.name}"
            else:  # the scope's thread, picked by this call
                assert scope is not None
                assert placed is scope.thread, rule
                assert placed is not run.wide, rule
                assert placed not in before, rule
        entry.calling = None
        check_after_call(run, child, loop)


async def _current_thread() -> threading.Thread:
    return await sync_to_async(threading.current_thread)()


def process_wide_thread() -> threading.Thread:
    return asyncio.run(_current_thread())


def run_program(root: Node) -> Run:
    """Run a program from plain sync code (a sync root) or ``asyncio.run`` (an async one)."""
    number(root)
    run = Run(wide=process_wide_thread())
    if root.is_async:
        contextvars.Context().run(asyncio.run, run_async(root, run))
    else:
        contextvars.Context().run(run_sync, root, run)
    return run


@PROGRAM_SETTINGS
@given(root=programs(MAX_DEPTH, is_async=False, edge=Edge.ROOT))
def test_nested_programs_from_sync_code(root: Node) -> None:
    run_program(root)


@PROGRAM_SETTINGS
@given(root=programs(MAX_DEPTH, is_async=True, edge=Edge.ROOT))
def test_nested_programs_from_asyncio_run(root: Node) -> None:
    run_program(root)


@R4_SETTINGS
@given(root=st.booleans().flatmap(lambda is_async: programs(MAX_DEPTH, is_async, Edge.ROOT)))
def test_R4_thread_critical_value_of_a_loop_survives_bridges_on_other_threads(
    root: Node,
) -> None:
    """Issue 15 R4: a write on another thread never hides or replaces a loop's value."""
    assert run_program(root).lost_critical == []
