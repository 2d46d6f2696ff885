"""The catalogue of workloads and implementations (pure data, imports nothing measured).

Both the runner (which never imports ``asgiref``) and the measuring worker (which runs
under either interpreter) read this module, so it must stay importable everywhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

__all__ = [
    "A2WSGI",
    "BASELINE",
    "FLOOR_ASYNCIO_RUN",
    "FLOOR_CONTEXTVAR",
    "FLOOR_EXECUTOR",
    "FLOOR_ONE_HOP",
    "FLOOR_PER_CHUNK",
    "FLOOR_RCTS",
    "FLOOR_THREADING_LOCAL",
    "FLOOR_UNVALIDATED",
    "CEILING_PLAIN_WSGI",
    "GROUPS",
    "OURS",
    "REFERENCE",
    "WORKLOADS",
    "Impl",
    "Interp",
    "Kind",
    "Role",
    "Workload",
    "with_baseline",
    "workload",
]


class Role(enum.Enum):
    """What an implementation is in the comparison."""

    OURS = "ours"
    REFERENCE = "reference"
    FLOOR = "floor"
    PEER = "peer"
    BASELINE = "baseline"
    """This package at another git revision (``--baseline REV``): "before"."""


class Interp(enum.Enum):
    """Which interpreter runs an implementation."""

    OURS = "ours"
    """The interpreter running the runner, with this repository's package installed."""
    REF = "ref"
    """The cached venv with asgiref 3.13.0, a2wsgi, uvicorn and Django from PyPI."""
    BASE = "base"
    """The cached venv with this package at the ``--baseline`` revision (non-editable)."""


class Kind(enum.Enum):
    """How a workload is measured."""

    MICRO = "micro"
    """In-process: a worker subprocess times ``body(n)`` with ``perf_counter_ns``."""
    SERVER = "server"
    """End to end: uvicorn serves an app on 127.0.0.1; a load generator counts 2xx replies."""


@dataclass(frozen=True)
class Impl:
    """One implementation of a workload.

    Attributes:
        key: short id used on the worker command line.
        label: the name printed in tables.
        role: ours, reference, floor, peer or baseline.
        interp: the interpreter that runs it.
    """

    key: str
    label: str
    role: Role
    interp: Interp


OURS = Impl("ours", "ours", Role.OURS, Interp.OURS)
REFERENCE = Impl("ref", "asgiref 3.13.0", Role.REFERENCE, Interp.REF)
BASELINE = Impl("base", "before", Role.BASELINE, Interp.BASE)
"""Runs ours' bodies under the baseline venv; added to every workload by ``--baseline``."""
A2WSGI = Impl("a2wsgi", "a2wsgi", Role.PEER, Interp.REF)
FLOOR_EXECUTOR = Impl("floor", "floor: run_in_executor", Role.FLOOR, Interp.OURS)
FLOOR_ASYNCIO_RUN = Impl("floor", "floor: asyncio.run", Role.FLOOR, Interp.OURS)
FLOOR_RCTS = Impl("floor", "floor: run_coroutine_threadsafe", Role.FLOOR, Interp.OURS)
FLOOR_CONTEXTVAR = Impl("floor", "floor: ContextVar", Role.FLOOR, Interp.OURS)
FLOOR_THREADING_LOCAL = Impl("floor_tl", "floor: threading.local", Role.FLOOR, Interp.OURS)
FLOOR_ONE_HOP = Impl("floor", "floor: one run_in_executor hop", Role.FLOOR, Interp.OURS)
FLOOR_PER_CHUNK = Impl("floor_chunk", "floor: one hop per chunk", Role.FLOOR, Interp.OURS)
FLOOR_UNVALIDATED = Impl("floor", "floor: the app unwrapped", Role.FLOOR, Interp.OURS)
CEILING_PLAIN_WSGI = Impl("ceiling", "ceiling: plain WSGI hello", Role.FLOOR, Interp.OURS)
"""The same gunicorn serving a WSGI hello with no adapter: the most any adapter can reach."""


@dataclass(frozen=True)
class Workload:
    """One measured scenario.

    Attributes:
        name: id used by ``--only`` and in the JSON output.
        group: the table it is printed in.
        title: human description.
        unit: what one operation is (``call``, ``get``, ``request``).
        impls: the implementations compared, ours first.
        kind: micro (in-process) or server (end to end).
        modules: the modules of ours it needs; if one fails to import, ours is "n.i.".
        min_ops: operations of the warm-up pass, and the least of the timed pass.
        max_ops: the most operations of one timed pass.
        ops_per_call: unit operations performed by one ``body(1)`` (unrolled loops, batches).
        path: the URL path requested (server workloads).
    """

    name: str
    group: str
    title: str
    unit: str
    impls: tuple[Impl, ...]
    kind: Kind = Kind.MICRO
    modules: tuple[str, ...] = ("asgiref.sync",)
    min_ops: int = 50
    max_ops: int = 2_000_000
    ops_per_call: int = 1
    path: str = "/"

    @property
    def floor(self) -> Impl | None:
        """The first floor, the one the ours/floor ratio is taken against."""
        return next((impl for impl in self.impls if impl.role is Role.FLOOR), None)

    @property
    def peer(self) -> Impl | None:
        """The peer implementation (a2wsgi), if any."""
        return next((impl for impl in self.impls if impl.role is Role.PEER), None)

    @property
    def higher_is_better(self) -> bool:
        """Server workloads report requests per second; micro ones time per operation."""
        return self.kind is Kind.SERVER


GROUPS: dict[str, str] = {
    "sync": "asgiref.sync bridges",
    "local": "asgiref.local.Local",
    "wsgi": "asgiref.wsgi.WsgiToAsgi, in-process (scripted receive/send)",
    "validation": "asgiref.validation.validate, in-process (scripted receive/send)",
    "a2w": "asgiref.wsgi.AsgiToWsgi, in-process (direct WSGI call, no server)",
    "e2e": "End to end behind uvicorn (gunicorn for e2e_a2w_*) on 127.0.0.1 (keep-alive, 2xx only)",
}

_BRIDGE = (OURS, REFERENCE)
_LOCAL_DEFAULT = (OURS, REFERENCE, FLOOR_CONTEXTVAR, FLOOR_THREADING_LOCAL)
_LOCAL_CRITICAL = (OURS, REFERENCE, FLOOR_THREADING_LOCAL)
_DJANGO = ("asgiref.sync", "asgiref.local")
_WSGI = (OURS, REFERENCE, A2WSGI, FLOOR_ONE_HOP)


def _local(name: str, title: str, impls: tuple[Impl, ...]) -> Workload:
    return Workload(
        name, "local", title, "op", impls, modules=("asgiref.local",), min_ops=200, ops_per_call=10
    )


def _wsgi(
    name: str, title: str, min_ops: int, max_ops: int = 100_000, per_call: int = 1,
    impls: tuple[Impl, ...] = _WSGI,
) -> Workload:  # fmt: skip
    return Workload(
        name, "wsgi", title, "request", impls, modules=("asgiref.wsgi",),
        min_ops=min_ops, max_ops=max_ops, ops_per_call=per_call,
    )  # fmt: skip


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "s2a_hop_ts",
        "sync",
        "sync_to_async hop, thread-sensitive",
        "call",
        (*_BRIDGE, FLOOR_EXECUTOR),
    ),
    Workload(
        "s2a_hop", "sync", "sync_to_async hop, thread_sensitive=False", "call",
        (*_BRIDGE, FLOOR_EXECUTOR),
    ),
    Workload(
        "a2s_noloop", "sync", "async_to_sync from sync code (no loop)", "call",
        (*_BRIDGE, FLOOR_ASYNCIO_RUN), min_ops=20,
    ),
    Workload(
        "a2s_in_s2a", "sync", "async_to_sync inside sync_to_async", "call",
        (*_BRIDGE, FLOOR_RCTS),
    ),
    Workload(
        "nest3", "sync", "3-deep: sync_to_async > async_to_sync > sync_to_async", "call",
        (*_BRIDGE, FLOOR_EXECUTOR), min_ops=20,
    ),
    Workload(
        "tsc_request", "sync", "ThreadSensitiveContext: enter + one call + exit", "request",
        (*_BRIDGE, FLOOR_EXECUTOR), min_ops=20,
    ),
    Workload(
        "s2a_construct", "sync", "sync_to_async(f) construction, no call", "wrapper",
        _BRIDGE, min_ops=200,
    ),
    Workload(
        "s2a_construct_method", "sync", "sync_to_async(obj.method) construction, no call",
        "wrapper", _BRIDGE, min_ops=200,
    ),
    Workload(
        "a2s_construct", "sync", "async_to_sync(af) construction, no call", "wrapper",
        _BRIDGE, min_ops=200,
    ),
    _local("local_get_sync", "Local get, sync code", _LOCAL_DEFAULT),
    _local("local_get_async", "Local get, async code", _LOCAL_DEFAULT),
    _local("local_setget_sync", "Local set+get, sync code", _LOCAL_DEFAULT),
    _local("local_setget_async", "Local set+get, async code", _LOCAL_DEFAULT),
    _local("local_tc_get_sync", "Local(thread_critical) get, sync", _LOCAL_CRITICAL),
    _local("local_tc_get_async", "Local(thread_critical) get, async", _LOCAL_CRITICAL),
    _local("local_tc_setget_sync", "Local(thread_critical) set+get, sync", _LOCAL_CRITICAL),
    _local("local_tc_setget_async", "Local(thread_critical) set+get, async", _LOCAL_CRITICAL),
    _wsgi("wsgi_hello", "hello, sequential", min_ops=20),
    _wsgi("wsgi_hello_100", "hello, 100 concurrent", min_ops=1, per_call=100),
    _wsgi("wsgi_stream_1mib", "1 MiB response in 64 KiB chunks", min_ops=5,
          impls=(*_WSGI, FLOOR_PER_CHUNK)),
    _wsgi("wsgi_body_10mib", "10 MiB request body in 64 KiB messages", min_ops=2, max_ops=200),
    _wsgi("wsgi_upload_64mib", "64 MiB upload (peak memory)", min_ops=1, max_ops=3),
    Workload(
        "validation_http", "validation", "simple HTTP request, validate(app) vs the app",
        "request", (OURS, FLOOR_UNVALIDATED), modules=("asgiref.validation",), min_ops=200,
    ),
    Workload(
        "a2w_hello", "a2w", "ASGI hello through AsgiToWsgi, direct call", "request",
        (OURS, A2WSGI, FLOOR_RCTS), modules=("asgiref.wsgi",), min_ops=50, max_ops=200_000,
    ),
    Workload(
        "e2e_wsgi_hello", "e2e", "WSGI hello (Content-Length)", "request",
        (OURS, REFERENCE, A2WSGI), kind=Kind.SERVER, modules=("asgiref.wsgi",),
    ),
    Workload(
        "e2e_django_hello", "e2e", "Django ASGI hello (sync view)", "request",
        (OURS, REFERENCE), kind=Kind.SERVER, modules=_DJANGO,
    ),
    Workload(
        "e2e_django_async", "e2e", "Django ASGI hello (async view)", "request",
        (OURS, REFERENCE), kind=Kind.SERVER, modules=_DJANGO, path="/async",
    ),
    Workload(
        "e2e_a2w_hello", "e2e", "ASGI hello via AsgiToWsgi, gunicorn 1 sync worker", "request",
        (OURS, A2WSGI, FLOOR_RCTS, CEILING_PLAIN_WSGI), kind=Kind.SERVER,
        modules=("asgiref.wsgi",),
    ),
)  # fmt: skip


def workload(name: str) -> Workload:
    """Return the workload called ``name``.

    Raises:
        KeyError: no such workload.
    """
    for candidate in WORKLOADS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def with_baseline(spec: Workload) -> Workload:
    """``spec`` with the baseline ("before") measured right after ours.

    Every workload lists ours first (the registry's tests check it); the runner's rotation
    then interleaves the baseline with the others like any implementation.
    """
    if BASELINE in spec.impls:
        return spec
    return replace(spec, impls=(spec.impls[0], BASELINE, *spec.impls[1:]))
