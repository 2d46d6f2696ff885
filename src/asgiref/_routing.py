"""Which thread runs a thread-sensitive ``sync_to_async`` call (contract Table A).

Runs in: the awaiting loop's thread, when the call is submitted.
"""

from __future__ import annotations

from typing import Final

from asgiref import _workers
from asgiref._calls import Call, CallState
from asgiref._state import BRIDGE, SCOPE, SYNC_THREAD_CALL, loop_state

__all__ = ["DEADLOCK_MESSAGE", "deadlock_error", "submit_thread_sensitive"]

DEADLOCK_MESSAGE: Final = "Single thread executor already being used, would deadlock"


def deadlock_error(where: str) -> RuntimeError:
    """Build the "would deadlock" error, naming the thread involved and the fix."""
    return RuntimeError(
        f"{DEADLOCK_MESSAGE}: this code already runs on (or waits for) {where}; "
        "call the sync function directly, or use sync_to_async(thread_sensitive=False)"
    )


def submit_thread_sensitive(call: Call) -> None:
    """Queue ``call`` on the thread Table A chooses (first matching row wins).

    Raises:
        RuntimeError: "would deadlock" (detections 1 and 2) or "has exited" (row A2).
    """
    bridge = BRIDGE.get()
    # A1: the bridge this code descends from; [D18] falls through once it returned.
    if bridge is not None and not bridge.owned_by_current_thread() and bridge.enqueue(call.run):
        return
    scope = SCOPE.get()
    if scope is not None:  # A2
        scope.submit(call)
        return
    state = loop_state(call.loop)
    # A3: the running loop was created by a bridge that is still blocked.
    owner = state.owner if state is not None else None
    if owner is not None and not owner.owned_by_current_thread() and owner.enqueue(call.run):
        return
    _submit_to_sync_thread(call)


def _submit_to_sync_thread(call: Call) -> None:
    """Row A4: the process-wide sync thread, guarded by deadlock detections 1 and 2."""
    running = SYNC_THREAD_CALL.get()
    if running is not None and running.state is CallState.RUNNING:
        raise deadlock_error("the process-wide sync thread (called from its own call)")
    worker = _workers.sync_worker()
    if worker.is_current():  # [D20]
        raise deadlock_error("the process-wide sync thread")
    call.on_sync_thread = True
    worker.submit(call.run)
