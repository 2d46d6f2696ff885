"""Property test: random nesting trees of ``async_to_sync`` / ``sync_to_async``.

A tree alternates sync and async nodes.  A sync node calls each of its async children
through ``async_to_sync`` (optionally with ``force_new_loop``); an async node awaits
each of its sync children through ``sync_to_async`` (thread-sensitive or not), either
directly, inside a plain ``ThreadSensitiveContext()`` or inside a
``ThreadSensitiveContext(executor=e)`` with a one-thread executor of its own.  Every
node records the thread (and, when async, the loop) it ran on and sets its own context
variable.  For every generated tree, started from plain sync code and from
``asyncio.run``, the test checks that:

* the tree completes, visiting every node in order, with the right total value;
* every node ran where ``docs/where-code-runs.rst`` says, derived from the tree:

  - a thread-sensitive sync node whose parent awaits it inside an executor context runs
    on that executor's thread ([ts-scope]: the context hides any bridge);
  - otherwise it runs on the thread of its sync grandparent (the thread blocked in the
    bridge it descends from, [ts-bridge], which wins over a plain context); when its parent
    is the async root, on the root context's own thread if the root uses a plain
    context ([ts-scope]) or else on the process-wide sync thread ([ts-sync-thread]).  By induction a
    chain of thread-sensitive sync nodes all run on the outermost sync thread;
  - a non-thread-sensitive sync node runs on a default-executor thread: never on its
    loop's thread and never on a thread of a sync ancestor (those are blocked);
  - an async node called from a sync node that itself runs under ``sync_to_async`` runs
    on that sync node's parent loop, on the loop's thread ([loop-parent]); one called from the
    sync root, or with ``force_new_loop``, runs on a fresh loop of its own, not on the
    caller's thread, and that loop is closed afterwards ([loop-fresh]);

* every context variable set anywhere in the tree is visible to the outermost caller
  afterwards, with the very object that was set.

asgiref 3.13.0 passes this except for trees where a sync node calls ``async_to_sync``
after a ``force_new_loop`` call that sent thread-sensitive work back to it (D35: asgiref
then runs the coroutine on a fresh loop instead of the parent loop).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

MAX_DEPTH = 5
MAX_CHILDREN = 2
#: Enough variables for the largest tree: 2**MAX_DEPTH - 1 nodes.
VARS = [contextvars.ContextVar[object](f"tree_node_{i}") for i in range(2**MAX_DEPTH)]

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(eq=False)
class SyncNode:
    """A sync function; ``thread_sensitive`` is how its async parent calls it."""

    value: int
    thread_sensitive: bool
    children: list[AsyncNode]
    ident: int = -1


class Scope(Enum):
    """How an async node awaits its sync children."""

    NONE = "no context"
    PLAIN = "ThreadSensitiveContext()"
    EXECUTOR = "ThreadSensitiveContext(executor=e)"


@dataclass(eq=False)
class AsyncNode:
    """A coroutine function; ``force_new_loop`` is how its sync parent calls it."""

    value: int
    force_new_loop: bool
    scope: Scope
    children: list[SyncNode]
    ident: int = -1


Node = SyncNode | AsyncNode


@dataclass
class Record:
    """What every node saw while it ran, keyed by node ident."""

    markers: dict[int, object] = field(default_factory=dict)
    threads: dict[int, threading.Thread] = field(default_factory=dict)
    loops: dict[int, asyncio.AbstractEventLoop] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)


def sync_trees(depth: int, min_children: int = 0) -> st.SearchStrategy[SyncNode]:
    """Sync nodes with at most ``depth`` levels below and including them."""
    children = (
        st.lists(async_trees(depth - 1), min_size=min_children, max_size=MAX_CHILDREN)
        if depth > 1
        else st.just([])
    )
    return st.builds(
        SyncNode, value=st.integers(-1000, 1000), thread_sensitive=st.booleans(), children=children
    )


def async_trees(depth: int, min_children: int = 0) -> st.SearchStrategy[AsyncNode]:
    """Async nodes with at most ``depth`` levels below and including them."""
    children = (
        st.lists(sync_trees(depth - 1), min_size=min_children, max_size=MAX_CHILDREN)
        if depth > 1
        else st.just([])
    )
    return st.builds(
        AsyncNode,
        value=st.integers(-1000, 1000),
        force_new_loop=st.booleans(),
        scope=st.sampled_from([Scope.NONE, Scope.NONE, Scope.PLAIN, Scope.EXECUTOR]),
        children=children,
    )


def number(root: Node) -> list[Node]:
    """Give every node its preorder index as ``ident`` and return the nodes in preorder."""
    nodes: list[Node] = []

    def visit(node: Node) -> None:
        node.ident = len(nodes)
        nodes.append(node)
        for child in node.children:
            visit(child)

    visit(root)
    return nodes


def subtree_total(node: Node) -> int:
    """The value a node must return: the sum of its subtree's values."""
    return node.value + sum(subtree_total(child) for child in node.children)


def enter(node: Node, record: Record) -> None:
    """Record where ``node`` runs and set its context variable to a fresh marker."""
    record.order.append(node.ident)
    record.threads[node.ident] = threading.current_thread()
    marker = object()
    record.markers[node.ident] = marker
    VARS[node.ident].set(marker)


def run_sync(node: SyncNode, record: Record) -> int:
    """Run a sync node: call each async child through ``async_to_sync``."""
    enter(node, record)
    total = node.value
    for child in node.children:
        total += async_to_sync(run_async, force_new_loop=child.force_new_loop)(child, record)
    return total


def executor_prefix(node: AsyncNode) -> str:
    """Thread-name prefix of the executor of ``node``'s executor context."""
    return f"tree-executor-{node.ident}"


async def run_async(node: AsyncNode, record: Record) -> int:
    """Run an async node: await each sync child through ``sync_to_async`` in its scope."""
    enter(node, record)
    record.loops[node.ident] = asyncio.get_running_loop()
    if node.scope is Scope.EXECUTOR:
        with ThreadPoolExecutor(1, thread_name_prefix=executor_prefix(node)) as executor:
            async with ThreadSensitiveContext(executor=executor):
                return node.value + await run_children(node, record)
    if node.scope is Scope.PLAIN:
        async with ThreadSensitiveContext():
            return node.value + await run_children(node, record)
    return node.value + await run_children(node, record)


async def run_children(node: AsyncNode, record: Record) -> int:
    """Await every sync child of ``node`` in turn and return the sum of their results."""
    total = 0
    for child in node.children:
        call = sync_to_async(run_sync, thread_sensitive=child.thread_sensitive)
        total += await call(child, record)
    return total


def check_placement(
    root: Node, record: Record, wide: threading.Thread, caller: threading.Thread
) -> None:
    """Check every node's thread and loop against the rules (see the module docstring)."""
    fresh_loops: list[asyncio.AbstractEventLoop] = []
    root_context_threads: set[threading.Thread] = set()

    def check_sync(node: SyncNode, parent: AsyncNode | None, ancestors: list[SyncNode]) -> None:
        thread = record.threads[node.ident]
        where = f"thread-sensitive node {node.ident} ran on {thread.name}"
        if parent is None:
            assert thread is caller
        elif node.thread_sensitive and parent.scope is Scope.EXECUTOR:
            assert thread.name.startswith(executor_prefix(parent) + "_"), where
        elif node.thread_sensitive and ancestors:
            assert thread is record.threads[ancestors[-1].ident], where
        elif node.thread_sensitive and parent.scope is Scope.PLAIN:
            assert thread is not wide, where
            assert thread is not caller, where
            root_context_threads.add(thread)
        elif node.thread_sensitive:
            assert thread is wide, where
        else:
            assert thread is not record.threads[parent.ident]
            assert all(thread is not record.threads[a.ident] for a in ancestors)
        for child in node.children:
            check_async(child, node, parent)
        ancestors.append(node)
        for child in node.children:
            for grandchild in child.children:
                check_sync(grandchild, child, ancestors)
        ancestors.pop()

    def check_async(node: AsyncNode, parent: SyncNode, grandparent: AsyncNode | None) -> None:
        loop = record.loops[node.ident]
        thread = record.threads[node.ident]
        if grandparent is None or node.force_new_loop:
            assert thread is not record.threads[parent.ident]
            assert loop.is_closed()
            assert all(loop is not other for other in fresh_loops)
            fresh_loops.append(loop)
        else:
            assert loop is record.loops[grandparent.ident]
            assert thread is record.threads[grandparent.ident]

    if isinstance(root, SyncNode):
        check_sync(root, None, [])
    else:
        assert record.threads[root.ident] is caller
        fresh_loops.append(record.loops[root.ident])
        for child in root.children:
            check_sync(child, root, [])
    assert len(root_context_threads) <= 1  # one thread for the root's plain context


def visible_markers(nodes: list[Node], record: Record) -> list[bool]:
    """For every node, whether the current context holds the exact marker it set."""
    return [VARS[node.ident].get(None) is record.markers[node.ident] for node in nodes]


async def process_wide_thread() -> threading.Thread:
    """The thread thread-sensitive calls from an async root land on ([ts-sync-thread])."""
    return await sync_to_async(threading.current_thread)()


@PROPERTY_SETTINGS
@given(root=sync_trees(MAX_DEPTH, min_children=1))
def test_random_trees_from_plain_sync_code(root: SyncNode) -> None:
    nodes = number(root)
    record = Record()
    context = contextvars.Context()  # the outermost caller's context

    total = context.run(run_sync, root, record)

    assert total == subtree_total(root)
    assert record.order == [node.ident for node in nodes]
    wide = asyncio.run(process_wide_thread())
    check_placement(root, record, wide, threading.current_thread())
    assert all(context.run(visible_markers, nodes, record))


@PROPERTY_SETTINGS
@given(root=async_trees(MAX_DEPTH, min_children=1))
def test_random_trees_from_asyncio_run(root: AsyncNode) -> None:
    nodes = number(root)
    record = Record()

    async def main() -> tuple[int, list[bool], threading.Thread]:
        total = await run_async(root, record)
        return total, visible_markers(nodes, record), await process_wide_thread()

    total, visible, wide = asyncio.run(main())

    assert total == subtree_total(root)
    assert record.order == [node.ident for node in nodes]
    check_placement(root, record, wide, threading.current_thread())
    assert all(visible)
