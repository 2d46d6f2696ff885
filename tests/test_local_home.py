"""How default-``Local`` values are bound to a thread (``asgiref._local_home``)."""

from __future__ import annotations

import contextvars
import gc
import threading
import weakref

from asgiref import _local_home
from asgiref.local import Local

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("test_context_var")


def _in_thread(target: object) -> None:
    assert callable(target)
    thread = threading.Thread(target=target)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def test_a_fresh_context_has_no_home() -> None:
    assert contextvars.Context().run(_local_home.owns_values) is False


def test_claim_home_makes_this_thread_the_home_and_is_idempotent() -> None:
    def claim_twice() -> tuple[bool, bool]:
        _local_home.claim_home()
        first = _local_home.owns_values()
        _local_home.claim_home()
        return first, _local_home.owns_values()

    assert contextvars.Context().run(claim_twice) == (True, True)


def test_a_foreign_thread_running_a_copy_forgets_the_inherited_values_when_it_claims() -> None:
    local = Local()

    def owner() -> contextvars.Context:
        local.x = "owner's"
        return contextvars.copy_context()

    original = contextvars.Context()
    copied = original.run(owner)
    seen: list[object] = []

    def foreign() -> None:
        seen.append(copied.run(_local_home.owns_values))
        seen.append(copied.run(hasattr, local, "x"))
        copied.run(_local_home.claim_home)
        seen.append(copied.run(_local_home.owns_values))
        seen.append(copied.run(hasattr, local, "x"))

    _in_thread(foreign)
    assert seen == [False, False, True, False]
    assert original.run(getattr, local, "x") == "owner's"
    assert copied.run(_local_home.owns_values) is False  # its home is the foreign thread now


def test_adopt_makes_the_worker_the_home_and_restore_gives_it_back() -> None:
    local = Local()

    def caller() -> contextvars.Context:
        local.x = "caller's"
        return _local_home.capture()

    copied = contextvars.Context().run(caller)
    seen: list[object] = []

    def worker() -> None:
        token = copied.run(_local_home.adopt)
        seen.append(copied.run(getattr, local, "x"))
        copied.run(_local_home.restore, token)
        seen.append(copied.run(_local_home.owns_values))

    _in_thread(worker)
    assert seen == ["caller's", False]
    assert copied.run(_local_home.owns_values) is True  # the home is the caller's thread again


def test_a_dead_local_is_no_longer_tracked() -> None:
    gc.collect()
    before = len(_local_home._TRACKED)
    local = Local()
    local.x = 1
    assert len(_local_home._TRACKED) == before + 1
    ref = weakref.ref(local)
    del local
    gc.collect()
    assert ref() is None
    assert len(_local_home._TRACKED) == before


def test_write_back_copies_changed_values_by_identity_but_never_the_home() -> None:
    class Loud:
        def __eq__(self, other: object) -> bool:
            raise AssertionError("write_back must compare by identity")

        __hash__ = object.__hash__

    caller_ctx = contextvars.Context()

    def caller() -> None:
        VAR.set("before")
        copied = _local_home.capture()

        def worker() -> None:
            copied.run(_local_home.adopt)
            copied.run(VAR.set, "after")

        _in_thread(worker)
        _local_home.write_back(copied)
        assert VAR.get() == "after"
        assert _local_home.owns_values()  # the home itself was not copied back
        loud_var: contextvars.ContextVar[Loud] = contextvars.ContextVar("loud")
        loud_var.set(Loud())
        _local_home.write_back(contextvars.copy_context())

    caller_ctx.run(caller)


def test_write_back_keeps_the_callers_value_when_the_worker_reset_it() -> None:
    def caller() -> None:
        VAR.set("mine")
        copied = _local_home.capture()

        def worker() -> None:
            token = VAR.set("temporary")
            VAR.reset(token)

        copied.run(worker)
        _local_home.write_back(copied)
        assert VAR.get() == "mine"

    contextvars.Context().run(caller)
