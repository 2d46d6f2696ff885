"""The context hand-off that binds default-``Local`` values to a thread (``asgiref._context``)."""

from __future__ import annotations

import contextvars
import threading

from asgiref import _context

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("test_context_var")


def _in_thread(target: object) -> None:
    assert callable(target)
    thread = threading.Thread(target=target)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def test_a_fresh_context_has_no_epoch() -> None:
    assert contextvars.Context().run(_context.current_epoch) is None


def test_claim_home_is_stable_within_one_thread_and_context() -> None:
    def claim_twice() -> tuple[object, object, object | None]:
        return _context.claim_home(), _context.claim_home(), _context.current_epoch()

    first, second, current = contextvars.Context().run(claim_twice)
    assert first is second is current


def test_a_copied_context_in_a_foreign_thread_sees_no_epoch_and_claims_a_new_one() -> None:
    def owner() -> tuple[object, contextvars.Context]:
        return _context.claim_home(), contextvars.copy_context()

    epoch, copied = contextvars.Context().run(owner)
    seen: list[object | None] = []

    def foreign() -> None:
        seen.append(copied.run(_context.current_epoch))
        seen.append(copied.run(_context.claim_home))

    _in_thread(foreign)
    assert seen[0] is None
    assert seen[1] is not None
    assert seen[1] is not epoch


def test_adopt_keeps_the_epoch_on_the_worker_thread() -> None:
    def caller() -> tuple[contextvars.Context, object]:
        return _context.capture()

    copied, epoch = contextvars.Context().run(caller)
    seen: list[object | None] = []

    def worker() -> None:
        copied.run(_context.adopt, epoch)
        seen.append(copied.run(_context.current_epoch))

    _in_thread(worker)
    assert seen == [epoch]


def test_write_back_copies_changed_values_by_identity_but_never_the_home() -> None:
    class Loud:
        def __eq__(self, other: object) -> bool:
            raise AssertionError("write_back must compare by identity")

        __hash__ = object.__hash__

    caller_ctx = contextvars.Context()

    def caller() -> None:
        VAR.set("before")
        copied, epoch = _context.capture()
        home_before = _context.current_epoch()

        def worker() -> None:
            copied.run(_context.adopt, epoch)
            copied.run(VAR.set, "after")

        _in_thread(worker)
        _context.write_back(copied)
        assert VAR.get() == "after"
        assert _context.current_epoch() is home_before
        loud_var: contextvars.ContextVar[Loud] = contextvars.ContextVar("loud")
        loud_var.set(Loud())
        _context.write_back(contextvars.copy_context())

    caller_ctx.run(caller)


def test_write_back_keeps_the_callers_value_when_the_worker_reset_it() -> None:
    def caller() -> None:
        VAR.set("mine")
        copied, _ = _context.capture()

        def worker() -> None:
            token = VAR.set("temporary")
            VAR.reset(token)

        copied.run(worker)
        _context.write_back(copied)
        assert VAR.get() == "mine"

    contextvars.Context().run(caller)
