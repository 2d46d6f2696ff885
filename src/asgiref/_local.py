"""Implementation of :class:`asgiref.local.Local`.

Two storages, chosen when the ``Local`` is created:

* **Default** (``Local()``): one :class:`contextvars.ContextVar` per instance, whose value
  is an immutable *store* ``(epoch, data)``.  ``data`` is a ``dict`` that is never
  mutated after it has been published with ``ContextVar.set``: every write or delete
  copies it (copy-on-write), so tasks and copied contexts that share a store never see
  each other's later changes.  The store is *thread-bound* through
  :mod:`asgiref._context`: it is visible only while the current context's home is
  ``(epoch, this thread)``.  A foreign thread running a copy of the context therefore
  sees nothing, and the bridges hand values over by re-homing their copy
  (:func:`asgiref._context.adopt`) and copying changes back
  (:func:`asgiref._context.write_back`).
* **Thread-critical** (``Local(thread_critical=True)``): with no running event loop in
  the thread, a :class:`threading.local` (its per-thread ``__dict__`` is the data);
  with a running loop, a context variable whose store is ``(thread_ident, data)``,
  visible only on the thread that wrote it.  The two storages are separate.

Guarantees: no state of a ``Local`` is shared mutable state.  A published ``data``
dict is read-only, the context and the ``threading.local`` dict belong to the
current thread, so concurrent threads (also on free-threaded builds) cannot race.
Nothing here creates a reference cycle: set, get and delete free replaced values by
reference counting.

This code assumes: thread identifiers are not reused while a context copied from a
dead thread still runs somewhere else (the same corner as :mod:`asgiref._context`).
"""

from __future__ import annotations

import contextvars
import threading
from asyncio import _get_running_loop
from threading import get_ident
from typing import Any, Final, NoReturn, final

from asgiref._context import _HOME, claim_home

__all__ = ["Local"]

#: The only name a user cannot set or delete: the slot holding a Local's storage.
#: (asgiref 3.13 rejects the same name.)
_RESERVED: Final = "_data"

#: Default-mode store: ``(epoch, data)``; thread-critical async store: ``(ident, data)``.
_Store = tuple[object, dict[str, Any]]

_home_get: Final = _HOME.get
_object_getattribute: Final = object.__getattribute__


def _missing(local: Local, name: str) -> AttributeError:
    """Build the contract's ``AttributeError`` for a name ``local`` does not hold."""
    return AttributeError(f"'Local' object has no attribute '{name}'", name=name, obj=local)


def _reserved(name: str) -> NoReturn:
    """Reject a write or delete of the reserved internal name."""
    raise AttributeError(f"Cannot set attribute '{name}' on Local")


def _fallback(local: Local, name: str) -> Any:
    """Look ``name`` up on the class (methods, dunders) once the data has missed.

    Raises:
        AttributeError: the contract's message, with ``.name`` and ``.obj`` set.
    """
    if name != _RESERVED:
        try:
            return _object_getattribute(local, name)
        except AttributeError:
            pass
    raise _missing(local, name)


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
    :func:`setattr`, :func:`getattr`, :func:`delattr` and :func:`hasattr` with any
    name except the reserved ``_data``.

    Args:
        thread_critical: Choose thread-critical mode (may be passed positionally).

    Raises:
        TypeError: When a subclass is instantiated; ``Local`` cannot be subclassed.

    Runs in: any thread; one instance may be shared by many threads.
    """

    __module__ = "asgiref.local"
    __slots__ = ("_data",)

    #: Default mode: the ContextVar of stores; thread-critical: a ``_ThreadCriticalData``.
    _data: Any

    def __new__(cls, thread_critical: bool = False) -> Local:
        if cls is not Local:
            raise TypeError("asgiref.local.Local cannot be subclassed")
        if thread_critical:
            self: Local = _object_new(_ThreadCriticalLocal)
            _set_slot(self, _ThreadCriticalData())
        else:
            self = _object_new(Local)
            _set_slot(self, contextvars.ContextVar("asgiref.local.Local"))
        return self

    def __init__(self, thread_critical: bool = False) -> None:
        """All state is set up by ``__new__``; this only fixes the signature."""

    def __repr__(self) -> str:
        mode = type(self) is not Local
        return f"<asgiref.local.Local thread_critical={mode} at {id(self):#x}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("cannot pickle or copy 'Local' object")

    def __getattribute__(self, name: str) -> Any:
        store = _get_slot(self).get(None)
        if store is not None:
            home = _home_get(None)
            if home is not None and home[0] is store[0] and home[1] == get_ident():
                try:
                    return store[1][name]
                except KeyError:
                    pass
        return _fallback(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == _RESERVED:
            _reserved(name)
        var = _get_slot(self)
        home = _home_get(None)
        epoch = home[0] if home is not None and home[1] == get_ident() else claim_home()
        store = var.get(None)
        if store is not None and store[0] is epoch:
            data = store[1].copy()
            data[name] = value
        else:
            data = {name: value}
        var.set((epoch, data))

    def __delattr__(self, name: str) -> None:
        if name == _RESERVED:
            _reserved(name)
        var = _get_slot(self)
        store = var.get(None)
        if store is not None and name in store[1]:
            home = _home_get(None)
            if home is not None and home[0] is store[0] and home[1] == get_ident():
                data = store[1].copy()
                del data[name]
                var.set((store[0], data))
                return
        raise _missing(self, name)


_slot: Final = Local.__dict__["_data"]
_get_slot: Final = _slot.__get__
_set_slot: Final = _slot.__set__
_object_new: Final = object.__new__


class _ThreadCriticalData:
    """The two separate storages of a thread-critical ``Local``.

    Guarantees: ``sync`` hands each thread its own ``__dict__``; ``var`` stores are
    tagged with the writing thread and copied on write, like the default mode.
    """

    __slots__ = ("sync", "var")

    def __init__(self) -> None:
        self.sync: Final = threading.local()
        self.var: Final[contextvars.ContextVar[_Store]] = contextvars.ContextVar(
            "asgiref.local.Local(thread_critical=True)"
        )


class _ThreadCriticalLocal(Local):  # type: ignore[misc]  # private mode of the final class
    """``Local(thread_critical=True)``: per-thread state (see the module docstring).

    Runs in: any thread; each thread (and, while a loop runs, each task) has its own
    values.
    """

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        state = _get_slot(self)
        if _get_running_loop() is None:
            try:
                return state.sync.__dict__[name]
            except KeyError:
                pass
        else:
            store = state.var.get(None)
            if store is not None and store[0] == get_ident():
                try:
                    return store[1][name]
                except KeyError:
                    pass
        return _fallback(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == _RESERVED:
            _reserved(name)
        state = _get_slot(self)
        if _get_running_loop() is None:
            state.sync.__dict__[name] = value
            return
        var = state.var
        ident = get_ident()
        store = var.get(None)
        if store is not None and store[0] == ident:
            data = store[1].copy()
            data[name] = value
        else:
            data = {name: value}
        var.set((ident, data))

    def __delattr__(self, name: str) -> None:
        if name == _RESERVED:
            _reserved(name)
        state = _get_slot(self)
        if _get_running_loop() is None:
            data = state.sync.__dict__
            if name in data:
                del data[name]
                return
        else:
            var = state.var
            ident = get_ident()
            store = var.get(None)
            if store is not None and store[0] == ident and name in store[1]:
                new = store[1].copy()
                del new[name]
                var.set((ident, new))
                return
        raise _missing(self, name)
