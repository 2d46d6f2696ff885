"""The lifespan state machine, both directions (rules ``LIFE-SEND-*`` and ``LIFE-RECV-*``)."""

from __future__ import annotations

import enum
from typing import Any

from asgiref._validation import _messages
from asgiref._validation._values import Report

__all__ = ["LifespanConnection"]


class Phase(enum.Enum):
    """Where one phase (startup or shutdown) of the lifespan is."""

    WAITING = "not asked yet"
    ASKED = "asked, not answered"
    COMPLETE = "complete"
    FAILED = "failed"


# Module-level aliases: on Python 3.11 ``Enum.MEMBER`` costs a slow class lookup, and
# the checks run on every event.
_WAITING = Phase.WAITING
_ASKED = Phase.ASKED
_COMPLETE = Phase.COMPLETE
_FAILED = Phase.FAILED
_NO_STATE = object()
"""Stands for a lifespan scope without ``state`` (a server that does not support it)."""


class LifespanConnection:
    """The checks of one lifespan scope.

    Args:
        scope: The (already checked) scope.
        content_lengths: Unused.
        report: Where violations go.

    Attributes:
        closed: Always ``False``; a lifespan has no client to lose.

    Runs in: the event loop of the lifespan.
    """

    __slots__ = ("_report", "_scope", "_shutdown", "_startup", "_state", "closed")

    def __init__(self, scope: Any, content_lengths: list[bytes], report: Report) -> None:
        del content_lengths
        self._report = report
        self._scope = scope
        self._state = scope.get("state", _NO_STATE)
        self._startup = _WAITING
        self._shutdown = _WAITING
        self.closed = False

    def on_receive(self, message: Any) -> None:
        """Check one event returned by the server's ``receive()``."""
        kind = message["type"]
        if kind == "lifespan.startup":
            if self._startup is not _WAITING:
                self._report("LIFE-RECV-002", "send lifespan.startup only once", message)
            else:
                self._startup = _ASKED
        elif kind == "lifespan.shutdown":
            if self._startup is _WAITING:
                self._report("LIFE-RECV-002", "send lifespan.startup first", message)
            elif self._startup is _FAILED:
                self._report("LIFE-RECV-003", "exit after startup.failed; no shutdown", message)
            elif self._shutdown is not _WAITING:
                self._report("LIFE-RECV-004", "send lifespan.shutdown only once", message)
            if self._shutdown is _WAITING:
                self._shutdown = _ASKED
        else:
            self._report("LIFE-RECV-001", "the server sends lifespan.startup/shutdown", kind)

    def on_send(self, message: Any) -> Any:
        """Check one event passed to ``send()``; return it."""
        kind = message["type"]
        if kind in ("lifespan.startup.complete", "lifespan.startup.failed"):
            if self._scope.get("state", _NO_STATE) is not self._state:
                self._report(
                    "LIFE-SEND-007",
                    "store lifespan state in the server's scope['state'] dict "
                    "(scope['state'][key] = value); a replaced or added dict is never seen "
                    "by the server",
                    self._scope.get("state"),
                )
            self._startup = self._answer(self._startup, message, "LIFE-SEND-002", "LIFE-SEND-003")
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            self._shutdown = self._answer(self._shutdown, message, "LIFE-SEND-004", "LIFE-SEND-005")
        else:
            self._report("LIFE-SEND-001", "send startup/shutdown .complete or .failed", kind)
        return message

    def _answer(self, phase: Phase, message: Any, early: str, twice: str) -> Phase:
        """Check an answer to a phase; return the phase's new state."""
        if phase is _WAITING:
            self._report(early, "answer only after the server asked", message)
        elif phase is not _ASKED:
            self._report(twice, "answer only once", message)
        if message["type"].endswith(".failed"):
            _messages.check_failed(message, self._report)
            return _FAILED if phase is _ASKED else phase
        return _COMPLETE if phase is _ASKED else phase

    def on_return(self) -> None:
        """The application returned normally; nothing is left to check."""
