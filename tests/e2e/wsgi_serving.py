"""Helpers of the WSGI end-to-end tests: run a real server with its output in a file, poll.

The server runs through :func:`servers.running_server` (loopback only, stopped by
process group).  Its stdout and stderr go to a log file of the test, so a test can
read what the server logged, also after the server has stopped.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from servers import free_port, running_server, server_command

__all__ = [
    "E2E_DIR",
    "SERVERS",
    "Served",
    "poll_until",
    "serve",
]

SERVERS = ("uvicorn", "hypercorn", "daphne")
"""The ASGI servers every WSGI end-to-end test runs under."""

E2E_DIR = Path(__file__).resolve().parent

_STARTUP_TIMEOUT = 60.0
_T = TypeVar("_T")


@dataclass(frozen=True)
class Served:
    """A running server: its base URL and the file that receives its output."""

    url: str
    log: Path

    def log_text(self) -> str:
        """Return what the server has written so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def serve(
    server: str,
    app: str,
    log_dir: Path,
    *,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[Served]:
    """Serve ``app`` (``module:attribute``) with ``server`` on 127.0.0.1 for the block.

    Args:
        server: ``uvicorn``, ``hypercorn`` or ``daphne``.
        app: the import path of the ASGI application, importable from ``tests/``.
        log_dir: where the server's output file goes.
        env: extra environment variables for the server process.
        extra_args: options appended to the server's command line (a repeated
            option overrides the default one, e.g. ``--log-level info``).

    Yields:
        The URL and the output file of the server.  The file is complete once
        the block has left (the server is stopped then).

    Raises:
        RuntimeError: the server did not start; the message holds its output.
    """
    port = free_port()
    log = log_dir / f"{server}-{port}.log"
    command = [*server_command(server, app, port), *extra_args]
    # ``exec`` keeps the server the leader of the process group that running_server stops.
    wrapped = ["sh", "-c", 'exec "$@" >>"$E2E_SERVER_LOG" 2>&1', "sh", *command]
    child_env = {"E2E_SERVER_LOG": str(log), "PYTHONUNBUFFERED": "1", **(env or {})}
    served = Served(url="", log=log)
    try:
        with running_server(
            wrapped, port, cwd=E2E_DIR.parent, env=child_env, timeout=_STARTUP_TIMEOUT
        ) as url:
            served = Served(url=url, log=log)
            yield served
    except RuntimeError as exc:
        if served.url:
            raise
        raise RuntimeError(f"{exc}\nserver log:\n{served.log_text()}") from None


def poll_until(
    probe: Callable[[], _T], done: Callable[[_T], bool], *, deadline: float = 60.0
) -> _T:
    """Call ``probe`` until ``done(result)`` or until ``deadline`` seconds have passed.

    This bounds a wait for something the server does after the client has its
    answer (a ``close()`` call, a thread ending); nothing is asserted about the time.

    Returns:
        The last result of ``probe``, whether ``done`` accepted it or not.
    """
    end = time.monotonic() + deadline
    result = probe()
    while not done(result) and time.monotonic() < end:
        time.sleep(0.05)
        result = probe()
    return result
