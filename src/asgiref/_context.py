"""Which thread may read a context's default-``Local`` values, and the context hand-off.

A default ``Local`` keeps its values in the current :mod:`contextvars` context, but
asgiref's contract says those values are *thread-bound*: a plain ``threading.Thread``,
``asyncio.to_thread`` or ``run_in_executor`` that runs a *copy* of the writer's context
must not see them.  Only this package's bridges carry them across threads.

The mechanism is one context variable, ``_HOME``, holding a *home*: the tuple
``(epoch, thread_ident)``.

* ``Local`` values are tagged with the epoch of the home that was current when they
  were written, and are visible only when the current context's home has the same
  epoch **and** names the current thread.
* A foreign thread running a copy of the context sees a home that names another
  thread, so it sees nothing.  If it writes, it claims a fresh epoch, so the values
  it inherited stay invisible to it.
* A bridge hands the context to its worker: :func:`capture` (caller side) makes sure
  the caller has a home and copies the context; :func:`adopt` (worker side, inside
  that copy) re-homes the copy onto the worker thread, *keeping the epoch*, so the
  worker sees the caller's values.  :func:`write_back` (caller side) copies the
  worker's changes back, except the home itself.

Guarantees: every function here is cheap (a few context-variable operations) and
thread-safe, because each touches only the calling thread's current context.

This code assumes: thread identifiers are not reused while a context copied from a
dead thread is still being run somewhere else (a documented, practically
unreachable corner).
"""

from __future__ import annotations

import contextvars
from threading import get_ident
from typing import Final

__all__ = ["Epoch", "Home", "adopt", "capture", "claim_home", "current_epoch", "write_back"]

#: ``(epoch, thread_ident)``; the epoch is an identity token (an :class:`Epoch`).
Home = tuple[object, int]


class Epoch:
    """An epoch: an identity token that also remembers the thread that claimed it.

    Only identity matters for the home rule.  ``origin`` lets a reader on the claiming
    thread (by far the common case) recognise its own values without reading the home:
    ``asgiref._local`` tags values with their epoch and treats ``epoch.origin ==
    get_ident()`` as visible.  That agrees with the home rule except when a context
    holding values written on thread *T* reaches *T* again outside the bridges (for
    example a copy that a foreign thread wrote to, run on *T* once more): there *T*
    still sees the values it wrote itself.
    """

    __slots__ = ("origin",)

    def __init__(self, origin: int) -> None:
        self.origin: Final = origin


_HOME: Final[contextvars.ContextVar[Home]] = contextvars.ContextVar("asgiref.home")


def current_epoch() -> object | None:
    """Return the epoch whose ``Local`` values this thread may read, or ``None``.

    Runs in: any thread.
    """
    home = _HOME.get(None)
    if home is None or home[1] != get_ident():
        return None
    return home[0]


def claim_home() -> object:
    """Return the current epoch, claiming a fresh home first if the context has none here.

    Called before writing a default-``Local`` value.  Claiming a fresh epoch hides
    every value the context inherited from another thread.

    Runs in: any thread; changes only the current context.
    """
    ident = get_ident()
    home = _HOME.get(None)
    if home is not None and home[1] == ident:
        return home[0]
    epoch = Epoch(ident)
    _HOME.set((epoch, ident))
    return epoch


def capture() -> tuple[contextvars.Context, object]:
    """Copy the caller's context for a bridge hop, with the epoch the worker must adopt.

    Runs in: the calling thread, in the caller's context.

    Returns:
        The copied context and the epoch to pass to :func:`adopt` inside it.
    """
    epoch = claim_home()
    return contextvars.copy_context(), epoch


def adopt(epoch: object) -> None:
    """Re-home the current context (a bridge's copy) onto this thread, keeping ``epoch``.

    Runs in: the worker thread, inside the copied context (``ctx.run(adopt, epoch)``
    or at the start of the function run in it).
    """
    _HOME.set((epoch, get_ident()))


def write_back(source: contextvars.Context) -> None:
    """Copy into the current context every variable whose value in ``source`` differs.

    Values are compared by identity (``__eq__`` is never called); nothing is unset;
    the home is never copied, so the caller keeps its own thread binding.

    Runs in: the caller's thread, in the caller's context, after the hop finished
    (``source`` must not be entered anywhere at that moment).
    """
    current = contextvars.copy_context()
    missing = _MISSING
    for var, value in source.items():
        if var is _HOME:
            continue
        if current.get(var, missing) is not value:
            var.set(value)


_MISSING: Final = object()
