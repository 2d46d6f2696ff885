"""The reference venv (asgiref 3.13.0 and peers from PyPI) and interpreter probes.

The venv is created once per interpreter version under ``benchmarks/.venvs/`` (git-ignored)
and reused while its requirement list is unchanged. uvicorn, h11 and Django are pinned to
the versions the current interpreter has, so end-to-end figures differ only by the adapter.
``ensure_venv`` (build beside, verify, then rename) also builds the ``--baseline`` venvs of
``benchmarks._baseline``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BENCH_DIR",
    "REPO_ROOT",
    "VENVS",
    "Probe",
    "clean_env",
    "ensure_venv",
    "interpreter_tag",
    "pip_install",
    "probe",
    "reference_python",
    "requirements",
    "run_checked",
    "server_requirements",
    "venv_python",
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
for dist in ("a2wsgi", "uvicorn", "Django", "h11", "gunicorn"):
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
        dists: installed versions of a2wsgi, uvicorn, Django, h11 and gunicorn (``None`` if
            missing).
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
    dists = {name: info[name] for name in ("a2wsgi", "uvicorn", "Django", "h11", "gunicorn")}
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


def server_requirements() -> list[str]:
    """uvicorn, h11, gunicorn and Django pinned to this interpreter's versions (e2e runs)."""
    reqs = []
    for dist in ("uvicorn", "h11", "gunicorn"):
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


def requirements() -> list[str]:
    """The reference venv's requirements, pinned to this interpreter's servers."""
    return [f"asgiref=={REFERENCE_VERSION}", "a2wsgi", *server_requirements()]


def venv_python(root: Path) -> Path:
    """The interpreter of the venv at ``root``."""
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def interpreter_tag() -> str:
    """``cpython311`` and the like: venvs are cached per interpreter version."""
    return f"{sys.implementation.name}{sys.version_info.major}{sys.version_info.minor}"


def ensure_venv(
    root: Path, key: str, install: Callable[[Path], None], what: str, log: bool = True
) -> Path:
    """Return the interpreter of the venv at ``root``, building it unless ``key`` matches.

    The venv is built beside ``root`` under a private name, ``install(building)`` fills it,
    and only then is it renamed to ``root`` with ``key`` in its marker file: an interrupted
    or failed build never leaves a venv that looks complete.

    Args:
        root: where the venv lives.
        key: what the venv was built from; a different key rebuilds it.
        install: installs the packages into the venv at the path it is given.
        what: the venv's description for the log line.
        log: print a line on stderr when building.

    Raises:
        RuntimeError: creating the venv or ``install`` failed.
    """
    marker = root / "bench-requirements.txt"
    if marker.is_file() and marker.read_text() == key:
        return venv_python(root)
    building = root.parent / f".building-{root.name}-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    if log:
        print(f"creating {what}: {root}", file=sys.stderr, flush=True)
    try:
        run_checked([sys.executable, "-m", "venv", str(building)], 300)
        install(building)
        (building / "bench-requirements.txt").write_text(key)
        shutil.rmtree(root, ignore_errors=True)
        building.rename(root)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return venv_python(root)


def pip_install(venv: Path, args: Sequence[str]) -> None:
    """``pip install -q ARGS`` into the venv at ``venv``.

    Raises:
        RuntimeError: pip failed.
    """
    pip = [str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run_checked([*pip, *args], 900)


def reference_python(log: bool = True) -> Path:
    """Return the reference venv's interpreter, creating the venv on first use.

    Raises:
        RuntimeError: creating the venv or installing into it failed.
    """
    reqs = requirements()
    return ensure_venv(
        VENVS / f"ref-{interpreter_tag()}",
        "\n".join(reqs),
        lambda building: pip_install(building, reqs),
        f"the reference venv ({' '.join(reqs)})",
        log,
    )


def run_checked(command: list[str], timeout: float, cwd: Path | None = None) -> str:
    """Run ``command`` in the clean environment and return its stdout.

    Raises:
        RuntimeError: it exited with a non-zero code (its output is in the message).
    """
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
        cwd=cwd,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{done.stdout[-1000:]}{done.stderr[-2000:]}"
        )
    return done.stdout
