"""Benchmark this asgiref against asgiref 3.13.0 (PyPI), a2wsgi and bare-asyncio floors.

Usage::

    python benchmarks/run.py [--quick] [--only PATTERN] [--rounds N] [--pin-cpu N|auto|none]
                             [--json FILE]

Run it with the interpreter of a venv where this repository is installed
(``pip install -e ".[tests]"``). The reference venv is created on first use under
``benchmarks/.venvs/``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    """Put the repository root on ``sys.path`` and run the benchmark."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    # Imported here: the package becomes importable only once the root is on the path.
    from benchmarks._runner import main as run

    return run(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
