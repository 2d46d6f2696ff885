"""Platforms without ``fork``: every public module imports and works (simulated).

We have no Windows machine, so a subprocess deletes the POSIX-only functions of
:mod:`os` before anything imports ``asgiref`` and then runs ``tests/platform_smoke.py``,
which uses every public module (see ``docs/install.rst``, "Supported platforms").

The standard library modules the package uses are imported first: some of them
(``asyncio``, ``logging``, ``random``) register their own fork hooks where ``os.fork``
exists, so deleting only ``os.register_at_fork`` would break them, not us.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SMOKE = Path(__file__).with_name("platform_smoke.py")
_STDLIB = "import asyncio, concurrent.futures, logging, random, wsgiref.types"


def _run_without(*names: str) -> str:
    deletions = "".join(f"del os.{name}; " for name in names)
    run = f"import runpy; runpy.run_path({str(SMOKE)!r}, run_name='__main__')"
    code = f"{_STDLIB}; import os; {deletions}{run}"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("name", ["register_at_fork", "fork"])
def test_every_public_module_works_without_a_posix_only_os_function(name: str) -> None:
    output = _run_without(name)
    assert output.split() == ["ok", name]


def test_every_public_module_works_without_fork_at_all() -> None:
    output = _run_without("fork", "register_at_fork")
    assert output.split() == ["ok", "fork,register_at_fork"]


def test_the_smoke_runs_on_this_platform_too() -> None:
    assert _run_without().split() == ["ok"]
