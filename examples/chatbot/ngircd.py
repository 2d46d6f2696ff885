"""Run a throw-away ngIRCd on 127.0.0.1 for the demo and the end-to-end tests.

:func:`running_ngircd` writes a configuration into a temporary directory (loopback
only, no PAM, no IDENT, no DNS, no system include directory), starts
``ngircd -n -p -f <conf>`` as a child in its own process group, waits until the port
accepts connections, and on exit stops it by PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOOPBACK", "NgircdServer", "find_ngircd", "free_port", "running_ngircd", "write_config"]

LOOPBACK = "127.0.0.1"
_CANDIDATES = ("/usr/sbin/ngircd", "/usr/local/sbin/ngircd")


@dataclasses.dataclass(frozen=True)
class NgircdServer:
    """A running ngIRCd.

    Attributes:
        host: always ``127.0.0.1``.
        port: the port it listens on.
        pid: the process id.
        directory: the temporary directory with its configuration.
    """

    host: str
    port: int
    pid: int
    directory: Path


def find_ngircd() -> str | None:
    """Return the path of the ``ngircd`` binary, or ``None`` when it is not installed."""
    found = shutil.which("ngircd")
    if found:
        return found
    return next((path for path in _CANDIDATES if os.access(path, os.X_OK)), None)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(directory: Path, port: int) -> Path:
    """Write ``ngircd.conf`` (and its MOTD) for a loopback-only server into ``directory``.

    When run as root, ngIRCd refuses to keep uid 0 and switches to ``nobody``; the
    configuration says so explicitly and the PID file directory is handed to that user.

    Returns:
        The path of the configuration file.
    """
    (directory / "conf.d").mkdir()
    run_dir = directory / "run"
    run_dir.mkdir()
    motd = directory / "ngircd.motd"
    motd.write_text("asgiref chat bot test server\n")
    identity = ""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(run_dir, nobody.pw_uid, nobody.pw_gid)
        identity = f"ServerUID = {nobody.pw_uid}\nServerGID = {nobody.pw_gid}\n"
    conf = directory / "ngircd.conf"
    conf.write_text(
        "[Global]\n"
        "Name = irc.asgiref.test\n"
        "Info = asgiref chat bot test server\n"
        "AdminInfo1 = asgiref test suite\n"
        "AdminInfo2 = loopback only\n"
        "AdminEMail = nobody@localhost\n"
        f"Listen = {LOOPBACK}\n"
        f"Ports = {port}\n"
        f"MotdFile = {motd}\n"
        f"PidFile = {run_dir / 'ngircd.pid'}\n"
        f"{identity}"
        "[Limits]\n"
        "MaxConnectionsIP = 0\n"
        "MaxNickLength = 30\n"
        "[Options]\n"
        f"IncludeDir = {directory / 'conf.d'}\n"
        "PAM = no\n"
        "Ident = no\n"
        "DNS = no\n"
    )
    return conf


@contextlib.contextmanager
def running_ngircd(port: int | None = None, timeout: float = 20.0) -> Iterator[NgircdServer]:
    """Run ngIRCd on ``127.0.0.1:port`` (a free port by default) for the ``with`` block.

    Args:
        port: the port; ``None`` picks a free one.
        timeout: seconds to wait until the server accepts connections.

    Yields:
        The running server.

    Raises:
        FileNotFoundError: ngIRCd is not installed.
        RuntimeError: it exited early or did not listen within ``timeout``.
    """
    binary = find_ngircd()
    if binary is None:
        raise FileNotFoundError("ngircd is not installed (Debian/Ubuntu: apt-get install ngircd)")
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="ngircd-") as name:
        directory = Path(name)
        directory.chmod(0o755)  # ngIRCd drops privileges before it reads the MOTD
        conf = write_config(directory, port)
        with (directory / "ngircd.log").open("wb") as log:
            process = subprocess.Popen(
                [binary, "-n", "-p", "-f", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                _wait_for_port(port, process, timeout, directory / "ngircd.log")
                yield NgircdServer(LOOPBACK, port, process.pid, directory)
            finally:
                _stop(process)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Block until ``127.0.0.1:port`` accepts a connection (polling every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"ngircd exited with code {process.returncode}:\n{output}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"ngircd did not listen on {LOOPBACK}:{port} within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` by PID: SIGTERM, then SIGKILL if it is still alive after 10 s."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover - ngIRCd exits on SIGTERM at once
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
