"""Start real servers on 127.0.0.1 for end-to-end tests, and stop them by PID.

Every server is a child process in its own process group, started on a random free
loopback port; :func:`running_server` waits until the port accepts connections,
yields the base URL, then terminates the whole group (SIGTERM, then SIGKILL).
Nothing here ever targets an address other than loopback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

__all__ = [
    "LOOPBACK",
    "free_port",
    "require_program",
    "running_server",
    "server_command",
    "wait_for_port",
]

LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent


def require_program(name: str, *extra_dirs: str) -> str:
    """Return the path of the external program ``name`` (looked up on ``PATH`` and in
    ``extra_dirs``), or skip the test when it is missing.

    Under CI (``ASGIREF_E2E_REQUIRED=1``) a missing program fails the test instead, so a
    green run never hides an untested feature.
    """
    import pytest

    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(extra_dirs))
    if path:
        return path
    message = f"{name} is not installed (Debian: apt-get install {name})"
    if os.environ.get("ASGIREF_E2E_REQUIRED"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Block until ``127.0.0.1:port`` accepts a connection.

    Raises:
        RuntimeError: the process exited first, or ``timeout`` seconds passed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {LOOPBACK}:{port} within {timeout} s")


def server_command(server: str, app: str, port: int) -> list[str]:
    """Return the command line that serves ``app`` (``module:attr``) with ``server``.

    Args:
        server: one of ``uvicorn``, ``hypercorn``, ``daphne``, ``gunicorn`` (WSGI).
        app: the import path of the application.
        port: the loopback port to bind.
    """
    bind = f"{LOOPBACK}:{port}"
    commands = {
        "uvicorn": [
            "-m",
            "uvicorn",
            app,
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        "hypercorn": ["-m", "hypercorn", app, "--bind", bind, "--log-level", "warning"],
        "daphne": ["-m", "daphne", "-b", LOOPBACK, "-p", str(port), "-v", "0", app],
        "gunicorn": ["-m", "gunicorn", app, "--bind", bind, "--log-level", "warning"],
    }
    return [sys.executable, *commands[server]]


@contextlib.contextmanager
def running_server(
    command: Sequence[str],
    port: int,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 20.0,
) -> Iterator[str]:
    """Run ``command`` (which must listen on ``127.0.0.1:port``) for the ``with`` block.

    The child gets ``PYTHONPATH`` with the tests directory and ``cwd`` prepended, so
    test applications import.  Its output goes to a temporary file that is printed
    if the server fails to start.

    Yields:
        The base URL, ``http://127.0.0.1:<port>``.
    """
    child_env = dict(os.environ)
    child_env.update(env or {})
    paths = [str(REPO_ROOT / "tests"), str(cwd or REPO_ROOT)]
    if child_env.get("PYTHONPATH"):
        paths.append(child_env["PYTHONPATH"])
    child_env["PYTHONPATH"] = os.pathsep.join(paths)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            try:
                wait_for_port(port, process, timeout)
            except RuntimeError as exc:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError(f"{exc}; command {list(command)!r}; output:\n{output}") from None
            yield f"http://{LOOPBACK}:{port}"
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process group of ``process``: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
