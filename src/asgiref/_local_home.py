"""Which thread may read a context's default-``Local`` values, and the context hand-off.

A default ``Local`` keeps its values in the current :mod:`contextvars` context (one
context variable per attribute name, holding the raw value), but asgiref's
``Local`` values are *thread-bound* (``docs/local.rst``): a plain ``threading.Thread``,
``asyncio.to_thread`` or ``run_in_executor`` that runs a *copy* of the writer's
context must not see them.  Only this package's bridges carry them across threads.

The mechanism is one context variable, ``_HOME``: the identifier of the thread that
owns the current context's ``Local`` values (:data:`NOBODY` before anyone wrote).

* ``Local`` values are visible only while the current context's home is the current
  thread.  A foreign thread running a copy of the context sees a home that names
  another thread, so it sees nothing.
* Before a ``Local`` write, :func:`claim_home` makes the current thread the home.
  When the context came from another thread, it first *forgets* the values it
  inherited (writes :data:`DELETED` into every default-``Local`` variable that has a
  value here, see :func:`track`), so they stay invisible after the claim.  This copy
  is the only place that ever happens: its writes never reach the original context.
* A bridge hands the context to its worker: :func:`capture` (caller side) claims the
  home and copies the context; :func:`adopt` (worker side, inside that copy) makes
  the worker thread the copy's home, so the worker sees the caller's values.
  :func:`write_back` (caller side) copies the worker's changes back, except the home
  itself.  A user-supplied context that the worker runs in place gets its home back
  with :func:`restore` afterwards.  :class:`Handoff` names the three cases.

Guarantees: every function here is cheap (a few context-variable operations) except
the forgetting in :func:`claim_home`, which is linear in the number of live ``Local``
names and happens only in a context that reached a foreign thread outside the
bridges.  Each function touches only the calling thread's current context, plus
:data:`_TRACKED` under :data:`_TRACKED_LOCK`, so they are thread-safe.

This code assumes: thread identifiers are not reused while a context copied from a
dead thread is still being run somewhere else (a documented, practically
unreachable corner).
"""

from __future__ import annotations

import contextvars
import enum
import threading
import weakref
from threading import get_ident
from typing import Any, Final

__all__ = [
    "CRITICAL_PREFIX",
    "DELETED",
    "LoopMark",
    "NOBODY",
    "Handoff",
    "adopt",
    "capture",
    "claim_home",
    "owns_values",
    "restore",
    "track",
    "write_back",
]

#: The home of a context where no ``Local`` value was ever written (no thread has it).
NOBODY: Final = -1

#: The value of a default-``Local`` variable that holds no value (deleted or forgotten).
DELETED: Final = object()


#: The name prefix of a thread-critical ``Local``'s variables; :func:`write_back`
#: treats their *cells* by the rule of :ref:`local-thread-critical-write-back`.
CRITICAL_PREFIX: Final = "asgiref.local.Local[thread_critical]."


class LoopMark:
    """The tag of a thread-critical cell that is never visible: a deletion, or "unset".

    A cell is ``(tag, value)``; its tag is the event loop that wrote it, or a mark
    that remembers that loop (``None`` for the "never set" default).  It has the
    attribute Python 3.11's fast path reads (a loop's ``_thread_id``), with a value
    that never matches a thread.

    Args:
        loop: The loop whose deletion this is, or ``None``.
    """

    __slots__ = ("loop",)
    _thread_id: Final = None

    def __init__(self, loop: object) -> None:
        self.loop = loop


def _loop_of(cell: tuple[Any, Any]) -> object:
    """The loop a thread-critical cell belongs to (``None``: no loop)."""
    tag = cell[0]
    return tag.loop if type(tag) is LoopMark else tag


class Handoff(enum.Enum):
    """How a bridge's worker takes over the ``Local`` values of the context it runs in."""

    #: A bridge's copy of the caller's context: adopt it; the copy is thrown away.
    COPY = "copy"
    #: The user's ``context=``, whose home is the caller: adopt it, then give it back.
    IN_PLACE = "in place"
    #: The user's ``context=``, whose values the caller cannot see either: leave it.
    NONE = "none"


_HOME: Final[contextvars.ContextVar[int]] = contextvars.ContextVar("asgiref.home", default=NOBODY)

_Registry = dict[str, contextvars.ContextVar[Any]]

#: Every live default ``Local`` -> its registry (name -> variable).  Weak keys: a
#: registry goes away with its ``Local``.  Guarded by ``_TRACKED_LOCK`` (the
#: mapping, not the registries, which only ever gain entries).
_TRACKED: Final[weakref.WeakKeyDictionary[object, tuple[_Registry, ...]]] = (
    weakref.WeakKeyDictionary()
)
_TRACKED_LOCK: Final = threading.Lock()


def track(owner: object, *registries: _Registry) -> None:
    """Remember ``registries`` so that :func:`claim_home` can forget their values.

    Args:
        owner: The ``Local`` that owns ``registries``; the entry lives as long as it does.
        registries: Its name -> context variable mappings.

    Runs in: any thread.
    """
    with _TRACKED_LOCK:
        _TRACKED[owner] = registries


def _forget_inherited() -> None:
    """Write :data:`DELETED` into every tracked variable that has a value here.

    Runs in: any thread; changes only the current context.
    """
    with _TRACKED_LOCK:
        registries = [registry for group in _TRACKED.values() for registry in group]
    deleted = DELETED
    for registry in registries:
        for var in list(registry.values()):
            if var.get() is not deleted:
                var.set(deleted)


def owns_values() -> bool:
    """Tell whether this thread may read the current context's ``Local`` values.

    Runs in: any thread.
    """
    return _HOME.get() == get_ident()


def claim_home() -> None:
    """Make this thread the home of the current context, forgetting foreign values.

    Called before writing a default-``Local`` value and by :func:`capture`.  A
    context whose home names another thread forgets the values it inherited first.

    Runs in: any thread; changes only the current context.
    """
    ident = get_ident()
    home = _HOME.get()
    if home == ident:
        return
    if home != NOBODY:
        _forget_inherited()
    _HOME.set(ident)


def capture() -> contextvars.Context:
    """Copy the caller's context for a bridge hop; the worker must :func:`adopt` it.

    Runs in: the calling thread, in the caller's context.

    Returns:
        The copied context.
    """
    claim_home()
    return contextvars.copy_context()


def adopt() -> contextvars.Token[int]:
    """Make this thread the home of the current context (a bridge's copy), keeping its values.

    Runs in: the worker thread, inside the handed-over context (``ctx.run(adopt)``
    or at the start of the function run in it).

    Returns:
        The token that :func:`restore` takes to give the home back.
    """
    return _HOME.set(get_ident())


def restore(token: contextvars.Token[int]) -> None:
    """Undo :func:`adopt` in a context that outlives the hop (the user's own context).

    Runs in: the worker thread, inside the same context as the :func:`adopt` call.
    """
    _HOME.reset(token)


def write_back(source: contextvars.Context) -> None:
    """Copy into the current context every variable whose value in ``source`` differs.

    Values are compared by identity (``__eq__`` is never called); nothing is unset;
    the home is never copied, so the caller keeps its own thread binding.  A
    thread-critical cell written by another loop than the one of the caller's cell
    is not copied either: a value belongs to its thread and never replaces or hides
    the caller's [R4, :ref:`local-thread-critical-write-back`].

    Runs in: the caller's thread, in the caller's context, after the hop finished
    (``source`` must not be entered anywhere at that moment).
    """
    current = contextvars.copy_context()
    missing = _MISSING
    for var, value in source.items():
        if var is _HOME:
            continue
        mine = current.get(var, missing)
        if mine is value:
            continue
        if mine is not missing and var.name.startswith(CRITICAL_PREFIX):
            owner = _loop_of(mine)
            if owner is not None and owner is not _loop_of(value):
                continue  # another loop's cell: the caller keeps its own [R4]
        var.set(value)


_MISSING: Final = object()
