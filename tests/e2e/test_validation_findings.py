"""The minimal reproductions of docs/validation-findings.rst still show what it says.

Each script in ``tests/e2e/findings/`` runs in its own interpreter (one configures Django
globally, one starts hypercorn on 127.0.0.1); when a finding is fixed upstream, its test
fails here and the page must be updated.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

FINDINGS = Path(__file__).resolve().parent / "findings"


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(FINDINGS / script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_finding_django_sends_mixed_case_header_names() -> None:
    output = _run("django_header_case.py")
    assert "HTTP-SEND-009: lower-case header names" in output
    assert "header names: [b'Content-Type']" in output


def test_finding_hypercorn_reports_1006_for_a_clean_close() -> None:
    output = _run("hypercorn_close_code.py", str(free_port()))
    assert "client closed with 1000; the app got 1006" in output


def test_finding_starlette_sends_a_close_reason_to_a_spec_2_0_server() -> None:
    output = _run("starlette_close_reason.py")
    assert "WS-SEND-018: close reasons need a server with spec_version 2.3" in output
    assert "'reason': 'asked to'" in output


def test_finding_channels_communicators_give_no_asgi_key() -> None:
    output = _run("channels_asgi_key.py")
    assert "SCOPE-003: add scope['asgi'] = {'version': '3.0'}" in output
    assert "status: 200" in output
