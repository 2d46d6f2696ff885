"""The README quickstart demo (``examples/demo.py``) runs and shows what it claims."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


@pytest.mark.e2e
def test_quickstart_demo_runs_and_shows_each_claim() -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=50, check=False
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "inner sync code on MainThread" in out
    assert "came back out: set in sync code by the inner call" in out
    assert "visible through async_to_sync -> sync_to_async: alice" in out
    assert "visible in a plain threading.Thread: False" in out
    request_threads = re.findall(r"request \d: all its sync code ran on \['([^']+)'\]", out)
    assert len(request_threads) == 3
    assert len(set(request_threads)) == 3, "each request gets its own sync thread"
    assert out.count("hello from") == 5
    assert "received 2097152 bytes" in out
