"""The reference venv (asgiref 3.13.0 and peers from PyPI) and interpreter probes.

The venv is created once per interpreter version under ``benchmarks/.venvs/`` (git-ignored)
and reused while its requirement list is unchanged. uvicorn, h11 and Django are pinned to
the versions the current interpreter has, so end-to-end figures differ only by the adapter.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BENCH_DIR",
    "REPO_ROOT",
    "Probe",
    "clean_env",
    "probe",
    "reference_python",
    "requirements",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENVS = BENCH_DIR / ".venvs"
REFERENCE_VERSION = "3.13.0"

_PROBE = """
import importlib, importlib.metadata as md, json, sys
info = {"python": sys.version.split()[0], "executable": sys.executable, "modules": {}}
try:
    import asgiref
    info["asgiref_file"] = asgiref.__file__
    info["asgiref_version"] = getattr(asgiref, "__version__", "?")
except ImportError as exc:
    info["asgiref_file"] = None
for name in ("asgiref.sync", "asgiref.local", "asgiref.wsgi"):
    try:
        importlib.import_module(name)
        info["modules"][name] = "ok"
    except Exception as exc:
        info["modules"][name] = f"{type(exc).__name__}: {exc}"
for dist in ("a2wsgi", "uvicorn", "Django", "h11"):
    try:
        info[dist] = md.version(dist)
    except md.PackageNotFoundError:
        info[dist] = None
print(json.dumps(info))
"""


@dataclass(frozen=True)
class Probe:
    """What an interpreter has.

    Attributes:
        python: the interpreter path.
        version: its Python version.
        asgiref_file: ``asgiref.__file__``, or ``None``.
        asgiref_version: ``asgiref.__version__``.
        modules: ``"ok"`` or the import error of each ``asgiref`` module measured.
        dists: installed versions of a2wsgi, uvicorn, Django and h11 (``None`` if missing).
    """

    python: str
    version: str
    asgiref_file: str | None
    asgiref_version: str
    modules: dict[str, str]
    dists: dict[str, str | None]


def clean_env() -> dict[str, str]:
    """The environment of every subprocess: no ``PYTHONPATH`` leaking another asgiref."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def probe(python: str | os.PathLike[str]) -> Probe:
    """Ask ``python`` which asgiref it imports and what else it has.

    Raises:
        RuntimeError: the probe failed.
    """
    done = subprocess.run(
        [os.fspath(python), "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        cwd=BENCH_DIR,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probing {python} failed:\n{done.stderr[-2000:]}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    dists = {name: info[name] for name in ("a2wsgi", "uvicorn", "Django", "h11")}
    return Probe(
        python=os.fspath(python),
        version=info["python"],
        asgiref_file=info["asgiref_file"],
        asgiref_version=str(info.get("asgiref_version", "")),
        modules=info["modules"],
        dists=dists,
    )


def _installed(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def requirements() -> list[str]:
    """The reference venv's requirements, pinned to this interpreter's servers."""
    reqs = [f"asgiref=={REFERENCE_VERSION}", "a2wsgi"]
    for dist in ("uvicorn", "h11"):
        version = _installed(dist)
        reqs.append(f"{dist}=={version}" if version else dist)
    django = _installed("Django")
    if django:
        reqs.append(f"Django=={django}")
    elif sys.version_info >= (3, 12):
        reqs.append("Django>=6.1,<6.2")
    else:
        reqs.append("Django>=5.2,<5.3")
    return reqs


def _venv_python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def reference_python(log: bool = True) -> Path:
    """Return the reference venv's interpreter, creating the venv on first use.

    Raises:
        RuntimeError: creating the venv or installing into it failed.
    """
    tag = f"{sys.implementation.name}{sys.version_info.major}{sys.version_info.minor}"
    root = VENVS / f"ref-{tag}"
    reqs = requirements()
    marker = root / "bench-requirements.txt"
    if marker.is_file() and marker.read_text() == "\n".join(reqs):
        return _venv_python(root)
    building = VENVS / f".building-{tag}-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    if log:
        print(f"creating the reference venv {root} ({' '.join(reqs)})", file=sys.stderr)
    try:
        _run([sys.executable, "-m", "venv", str(building)], 300)
        pip = [str(_venv_python(building)), "-m", "pip", "install", "-q"]
        _run([*pip, "--disable-pip-version-check", *reqs], 900)
        (building / "bench-requirements.txt").write_text("\n".join(reqs))
        shutil.rmtree(root, ignore_errors=True)
        building.rename(root)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return _venv_python(root)


def _run(command: list[str], timeout: float) -> None:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=clean_env(), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{done.stdout[-1000:]}{done.stderr[-2000:]}"
        )
