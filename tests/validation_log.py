"""Record validator violations to a file, so a test can read what a server child process saw.

``recorder()`` returns an ``on_violation`` callable that appends one JSON line per
violation to the file named by the environment variable ``ASGIREF_VALIDATION_LOG``
(or drops it when the variable is unset); ``read_log(path)`` reads them back.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from asgiref.validation import ASGIValidationError

__all__ = ["ENV", "read_log", "recorder"]

ENV = "ASGIREF_VALIDATION_LOG"
_lock = threading.Lock()  # guards appends to the log file


def recorder() -> Any:
    """An ``on_violation`` callable that writes to ``$ASGIREF_VALIDATION_LOG``."""
    path = os.environ.get(ENV)

    def record(error: ASGIValidationError) -> None:
        if path is None:
            return
        line = json.dumps(
            {"rule": error.rule, "message": error.message, "detail": repr(error.detail)[:300]}
        )
        with _lock, open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    return record


def read_log(path: Path) -> list[dict[str, str]]:
    """The violations recorded in ``path`` (none if the file does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
