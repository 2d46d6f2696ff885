"""Implementation of :class:`asgiref.local.Local`.

Storage model
-------------
A ``Local`` keeps a *registry*: one :class:`contextvars.ContextVar` per attribute name
(created on the first write of that name).

* **Default** (``Local()``): the variable holds the raw value, or
  :data:`asgiref._local_home.DELETED` (its default, and what ``del`` writes: a deletion
  must be a write, so that it propagates like any change).  Writing uses
  ``ContextVar.set``, so tasks and copied contexts never see each other's later writes,
  and a bridge propagates a change like any other context variable.  A value is
  visible only while the context's *home* is the calling thread (see
  :mod:`asgiref._local_home`): a foreign thread running a copy of the context sees
  nothing, and forgets the inherited values when it writes; the bridges hand values
  over by re-homing their copy (:func:`asgiref._local_home.adopt`) and copying changes
  back (:func:`asgiref._local_home.write_back`).
* **Thread-critical** (``Local(thread_critical=True)``): with no running event loop in
  the thread, a :class:`threading.local` (its per-thread ``__dict__`` holds the values);
  with a running loop, the registry's variables hold *cells* ``(loop, value)``,
  visible only while that loop runs in the calling thread; a deletion writes
  ``(LoopMark(loop), DELETED)``, so that the write-back of a bridge knows which loop
  deleted (it copies back only cells of the caller's own loop [R4]).  The two storages
  are separate.

Memory [D40]
------------
A context keeps every variable ever set in it as a key until the context dies; only
``ContextVar.reset`` takes a key out again.  So a default ``Local`` is
``[live, parked, tokens]``: ``tokens`` holds, per name, the token of the write that
gave the name's variable its key in a sync context.  A delete in that context resets
the token (the key and the value leave the context) and *parks* the variable
(``live`` -> ``parked``, so that other contexts still find their values through the
miss path); the next write of the name brings it back and may keep a new token.  When
the ``Local`` is collected, ``__del__`` resets every token it still holds, which
succeeds in the context it runs in; any other context drops the values when it dies
(a thread's context: with the thread; a task's: with the task).  A token keeps its
context alive: at most one per name, until that name is deleted there or the
``Local`` dies.  The moves between the three dicts happen under ``_SLOW_LOCK``, in an
order that never hides a variable from the lock-free fast paths (``live`` gains an
entry before ``parked`` loses it, and the other way round).

Guarantees: a thread-critical registry only ever gains entries (``dict.setdefault``,
atomic also on free-threaded builds); cells are immutable; contexts and ``threading.local`` dicts
belong to the calling thread.  So concurrent threads cannot race on shared state.
Set, get and delete create no reference cycle: a replaced value is freed by reference
counting as soon as no context holds it.

This code assumes: thread identifiers are not reused while a context copied from a
dead thread still runs somewhere else (the same corner as :mod:`asgiref._local_home`).
"""

from __future__ import annotations

import contextvars
import sys
import threading
from asyncio import _get_running_loop
from threading import get_ident
from typing import TYPE_CHECKING, Any, Final, NoReturn, final

from asgiref import _threads
from asgiref._local_home import _HOME, CRITICAL_PREFIX, DELETED, LoopMark, claim_home, track

__all__ = ["Local"]

#: The only name a user cannot set or delete.  Nothing uses it internally; asgiref
#: 3.13 rejects it (its internal storage name), and so do we, for compatibility.
_RESERVED: Final = "_data"

#: A thread-critical cell ``(loop, value)``: the loop that ran when it was written.
_Cell = tuple[Any, Any]

#: A registry: attribute name -> the variable holding that name's values or cells.
_Registry = dict[str, contextvars.ContextVar[Any]]

#: "No value": a default variable's default, the value of :data:`_UNSET`, and
#: ``_tc_cell``'s answer for a missing name.
_DELETED: Final = DELETED


#: What a thread-critical variable reads as where it was never set, and what ``del``
#: writes: never visible.
_UNSET: Final = (LoopMark(None), _DELETED)

#: Stands in for a name's thread-critical variable before its first loop-mode write.
_NO_VAR: Final[contextvars.ContextVar[_Cell]] = contextvars.ContextVar(
    "asgiref.local.Local.<unset>", default=_UNSET
)

#: ``_tc_cell``'s "no loop runs here" marker.
_SYNC: Final = object()

_home_get: Final = _HOME.get
_object_getattribute: Final = object.__getattribute__
_object_setattr: Final = object.__setattr__

#: On Python 3.11, ``asyncio._get_running_loop()`` makes a ``getpid()`` system call
#: whenever a loop is running (~150 ns, more than the rest of a ``Local`` read).  There
#: a thread-critical ``Local`` that holds loop-mode values switches to
#: :class:`_LoopAwareLocal311`, whose fast path reads the loop's own record of the
#: thread running it instead: ``asyncio.BaseEventLoop`` sets ``_thread_id`` for
#: exactly as long as ``run_forever`` runs.  Loops without that attribute take the
#: exact slow path, and so does every loop in a child process forked while a loop ran
#: (see :func:`_after_fork_in_child`).
_OLD_RUNNING_LOOP = sys.version_info < (3, 12)


def _after_fork_in_child() -> None:  # pragma: no cover - runs in forked children only
    """Use the exact check in a forked child.

    A loop that was running in the forking thread still has that thread's identifier
    in ``_thread_id``, and the child's only thread has the same identifier, so the fast
    check would see the dead loop as running.  ``_get_running_loop()`` knows better (its
    ``getpid()`` call is exactly for this); the child pays its price.

    Runs in: the child process, right after ``os.fork()``.
    """
    global _OLD_RUNNING_LOOP  # a one-way switch, set before any other code runs
    _OLD_RUNNING_LOOP = False


if _OLD_RUNNING_LOOP:  # pragma: no branch - only one side runs per interpreter
    _threads.on_fork_in_child(_after_fork_in_child)


def _missing(local: Local, name: str) -> AttributeError:
    """Build asgiref's ``AttributeError`` for a name ``local`` does not hold [D12]."""
    return AttributeError(f"'Local' object has no attribute '{name}'", name=name, obj=local)


def _fallback(local: Local, name: str) -> Any:
    """Look ``name`` up on the class (dunder methods) once the data has missed.

    Raises:
        AttributeError: asgiref's message, with ``.name`` and ``.obj`` set.
    """
    if name.startswith("__"):
        try:
            return _object_getattribute(local, name)
        except AttributeError:
            pass
    raise _missing(local, name)


def _reserved(name: str) -> NoReturn:
    """Reject a write or delete of the reserved internal name."""
    raise AttributeError(f"Cannot set attribute '{name}' on Local")


def _register(registry: _Registry, name: str) -> contextvars.ContextVar[Any]:
    """Return the thread-critical variable for ``name``, creating it on first use.

    Raises:
        AttributeError: ``name`` is the reserved ``_data``.
    """
    if name == _RESERVED:
        _reserved(name)
    var: contextvars.ContextVar[Any] = contextvars.ContextVar(
        CRITICAL_PREFIX + name, default=_UNSET
    )
    return registry.setdefault(name, var)


@final
class Local:
    """An object whose attributes are local to a context and bound to a thread.

    ``Local()`` (the default) behaves like a context variable in async code (a task
    sees what its creator had; its own changes stay with it) and like a thread-local
    in sync code; values follow :func:`~asgiref.sync.sync_to_async` and
    :func:`~asgiref.sync.async_to_sync` in both directions but are invisible in any
    thread the bridges did not start (plain threads, :func:`asyncio.to_thread`,
    ``run_in_executor``), even when that thread runs a copy of the context.

    ``Local(thread_critical=True)`` is true per-thread state: exactly a
    :class:`threading.local` while no event loop runs in the thread, and a
    context-local confined to the thread while one does.

    Attributes are set, read, deleted and tested with ordinary attribute syntax or
    ``setattr``, ``getattr``, ``delattr`` and ``hasattr`` with any
    name except the reserved ``_data``.  Instances compare and hash by identity, are
    always true, and cannot be copied or pickled.

    Args:
        thread_critical: Choose thread-critical mode (may be passed positionally).

    Raises:
        TypeError: When a subclass is instantiated; ``Local`` cannot be subclassed.

    Runs in: any thread; one instance may be shared by many threads.
    """

    __module__ = "asgiref.local"
    __slots__ = ()

    def __new__(cls, thread_critical: bool = False) -> Local:
        if cls is not Local:
            raise TypeError("asgiref.local.Local cannot be subclassed")
        if thread_critical:
            critical: _ThreadCriticalLocal = _list_new(_ThreadCriticalLocal)
            _list_extend(critical, (threading.local(), {}))
            return critical
        default: _DefaultLocal = _list_new(_DefaultLocal)
        live: _Registry = {}
        parked: _Registry = {}
        _list_extend(default, (live, parked, {}))
        track(default, live, parked)
        return default

    def __init__(self, thread_critical: bool = False) -> None:
        """All state is set up by ``__new__``; this only fixes the signature."""

    def __repr__(self) -> str:
        mode = isinstance(self, _ThreadCriticalLocal)
        return f"<asgiref.local.Local thread_critical={mode} at {id(self):#x}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("cannot pickle or copy 'Local' object")

    # The private classes below are ``list`` subclasses (see their docstring); none of
    # the list behaviour is part of ``Local``: identity semantics, always true, and no
    # sequence protocol.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return True

    def __len__(self, *args: object) -> NoReturn:
        raise TypeError("'Local' object is not a sequence")

    __iter__ = __contains__ = __setitem__ = __delitem__ = __len__

    if TYPE_CHECKING:  # implemented by the private mode classes

        def __getattribute__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

        def __delattr__(self, name: str) -> None: ...


_list_new: Final = list.__new__
_list_extend: Final = list.extend


class _DefaultLocal(Local, list[Any]):  # type: ignore[misc]  # private mode of the final class
    """``Local()``: context-local values bound to the home's thread.

    Instances are ``[live, parked, tokens]`` (see "Memory" in the module docstring).
    They are ``list`` subclasses only because ``self[0]`` is the cheapest way from
    ``self`` to its state inside ``__getattribute__`` (a C-level subscript; a slot
    descriptor costs three times as much, which matters at ~100 ns per read).

    Runs in: any thread.
    """

    __slots__ = ("__weakref__",)

    def __getattribute__(self, name: str) -> Any:
        try:
            value = self[0][name].get()
        except KeyError:
            return _parked_get(self, name)
        if value is not _DELETED and _home_get() == get_ident():
            return value
        return _fallback(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            var = self[0][name]
        except KeyError:
            _first_set(self, name, value)
            return
        if _home_get() != get_ident():
            claim_home()  # first write here; forgets what came from another thread
        var.set(value)

    def __delattr__(self, name: str) -> None:
        with _SLOW_LOCK:
            var = self[0].get(name) or self[1].get(name)
            if var is None or var.get() is _DELETED or _home_get() != get_ident():
                if name == _RESERVED:
                    _reserved(name)
                raise _missing(self, name)
            token = self[2].get(name)
            if token is not None:
                try:
                    var.reset(token)  # the name's key leaves this context [D40]
                except ValueError:  # another context: it writes "deleted" instead
                    pass
                else:
                    del self[2][name]
                    self[1][name] = var  # parked before it leaves the fast path
                    self[0].pop(name, None)
                    return
            var.set(_DELETED)

    def __del__(self) -> None:
        """Release this ``Local``'s values where that is possible now [D40].

        Each token of ``self[2]`` belongs to the context that first gave its name a
        key; resetting it removes the key (and the value) from that context when this
        runs there.  Elsewhere the reset fails and the value goes with its context.

        Runs in: whichever thread drops the last reference.
        """
        # Plain try/except (no module globals): this may run at interpreter shutdown.
        for token in list(self[2].values()):
            try:  # noqa: SIM105
                token.var.reset(token)
            except ValueError:  # another context's key: it goes with that context
                pass


#: Guards the moves between a default ``Local``'s ``live``, ``parked`` and ``tokens``.
_SLOW_LOCK: Final = threading.Lock()

_MISSING_OLD: Final = contextvars.Token.MISSING


def _first_set(local: _DefaultLocal, name: str, value: Any) -> None:
    """Set ``name`` when it is not on the fast path: register or unpark its variable.

    When the write gives the variable its first key in a sync context (a thread's
    own context, which may live as long as the thread), its token is kept so that a
    later delete or the ``Local``'s death can take the key out again.  A task's
    context goes with its task, so loop code keeps no token.

    Raises:
        AttributeError: ``name`` is the reserved ``_data``.
    """
    if name == _RESERVED:
        _reserved(name)
    if _home_get() != get_ident():
        claim_home()  # first write here; forgets what came from another thread
    live, parked, tokens = local[0], local[1], local[2]
    with _SLOW_LOCK:
        var = live.get(name) or parked.get(name)
        if var is None:
            var = contextvars.ContextVar(f"asgiref.local.Local.{name}", default=_DELETED)
        token = var.set(value)
        if token.old_value is _MISSING_OLD and _get_running_loop() is None:
            tokens[name] = token
        live[name] = var  # on the fast path before it leaves the parked ones
        parked.pop(name, None)


def _parked_get(local: _DefaultLocal, name: str) -> Any:
    """Read ``name`` when it is not on the fast path (parked, or never set)."""
    var = local[1].get(name)
    if var is not None:
        value = var.get()
        if value is not _DELETED and _home_get() == get_ident():
            return value
    return _fallback(local, name)


def _tc_cell(local: _ThreadCriticalLocal, name: str) -> _Cell:
    """The exact thread-critical lookup: ``(where, value)``.

    ``where`` is ``_SYNC`` when no loop runs here (``value`` from the
    ``threading.local``, or ``_DELETED``), else the running loop (``value`` from its
    cell, or ``_DELETED``).
    """
    loop = _get_running_loop()
    if loop is None:
        return _SYNC, local[0].__dict__.get(name, _DELETED)
    var = local[1].get(name)
    cell = _UNSET if var is None else var.get()
    return loop, cell[1] if cell[0] is loop else _DELETED


def _tc_loop_set(local: _ThreadCriticalLocal, loop: object, name: str, value: Any) -> None:
    """Write a loop-mode cell for ``name`` (the exact path).

    On Python 3.11 this also switches ``local`` to :class:`_LoopAwareLocal311` for
    good (see :data:`_OLD_RUNNING_LOOP`); the switch is idempotent, so racing
    threads agree.
    """
    var = local[1].get(name)
    if var is None:
        var = _register(local[1], name)
    var.set((loop, value))
    if _OLD_RUNNING_LOOP and type(local) is _ThreadCriticalLocal:
        _object_setattr(local, "__class__", _LoopAwareLocal311)


class _ThreadCriticalLocal(Local, list[Any]):  # type: ignore[misc]  # private mode of the final class
    """``Local(thread_critical=True)``: per-thread state (see the module docstring).

    Instances are ``[threading.local(), registry]`` (``list`` for the reason given on
    :class:`_DefaultLocal`).  The registry's cells are tagged with the event loop that
    was running when they were written.  Every access first asks whether a loop runs
    in this thread, which is the cheap question in sync code (and, from Python 3.12,
    everywhere).

    Runs in: any thread; each thread (and, while a loop runs, each task) has its own
    values.
    """

    __slots__ = ("__weakref__",)

    def __getattribute__(self, name: str) -> Any:
        loop = _get_running_loop()
        if loop is None:
            try:
                return self[0].__dict__[name]
            except KeyError:
                return _fallback(self, name)
        var = self[1].get(name)
        if var is not None:
            cell = var.get()
            if cell[0] is loop:
                return cell[1]
        return _fallback(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        loop = _get_running_loop()
        if loop is None and name != _RESERVED:
            self[0].__dict__[name] = value
        else:
            _tc_loop_set(self, loop, name, value)

    def __delattr__(self, name: str) -> None:
        where, value = _tc_cell(self, name)
        if value is _DELETED:
            if name == _RESERVED:
                _reserved(name)
            raise _missing(self, name)
        if where is _SYNC:
            del self[0].__dict__[name]
        else:  # a deletion is a write of this loop's (see write_back) [R4]
            self[1][name].set((LoopMark(where), _DELETED))


class _LoopAwareLocal311(_ThreadCriticalLocal):  # type: ignore[misc]
    """A thread-critical ``Local`` that has held loop-mode values, on Python 3.11 only.

    Its accesses first look for a cell whose loop runs in this thread, with the cheap
    ``loop._thread_id`` check (see :data:`_OLD_RUNNING_LOOP`), and ask
    ``_get_running_loop()`` only when that misses.

    Runs in: any thread.
    """

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        try:
            cell = self[1][name].get()
        except KeyError:
            cell = _UNSET
        try:  # the fast "does cell[0] run here" (see _OLD_RUNNING_LOOP)
            if (
                cell[0]._thread_id == get_ident()
                if _OLD_RUNNING_LOOP
                else cell[0] is _get_running_loop()
            ):
                return cell[1]
        except AttributeError:
            pass
        value = _tc_cell(self, name)[1]
        return _fallback(self, name) if value is _DELETED else value

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            var = self[1][name]
        except KeyError:
            var = _NO_VAR
        tag = var.get()[0]
        try:  # the fast "does tag run here" (see _OLD_RUNNING_LOOP)
            if tag._thread_id == get_ident() if _OLD_RUNNING_LOOP else tag is _get_running_loop():
                var.set((tag, value))
                return
        except AttributeError:
            pass
        loop = _get_running_loop()
        if loop is None and name != _RESERVED:
            self[0].__dict__[name] = value
        else:
            _tc_loop_set(self, loop, name, value)
