"""The baseline venv for ``--baseline REV``: this package as it was at a git revision.

"No workload slower than before" can only be judged side by side: absolute figures drift
on shared machines, so "before" is measured in the same run as ours, interleaved. The
revision is resolved to its commit id; ``git archive`` exports that commit, and the
exported tree is installed non-editable (``pip install DIR``) into a venv of the current
interpreter together with the servers of the end-to-end workloads at the versions this
interpreter has (like the reference venv). The venv is cached under ``benchmarks/.venvs/``
as ``base-<interpreter>-<commit>``, keyed by the full commit id and those requirements.
After installing, every file of the exported ``src/asgiref/`` is compared with the
installed package, so a resolver that swapped in asgiref from PyPI (Django depends on it)
is caught rather than measured.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks._venv import (
    REPO_ROOT,
    VENVS,
    Probe,
    clean_env,
    ensure_venv,
    interpreter_tag,
    pip_install,
    probe,
    run_checked,
    server_requirements,
    venv_python,
)

__all__ = ["Baseline", "baseline", "export", "outside", "resolve", "same_files"]


@dataclass(frozen=True)
class Baseline:
    """The "before" implementation of a run.

    Attributes:
        rev: the revision as given on the command line.
        commit: the full commit id it resolved to.
        root: the venv's directory; its ``asgiref`` must be imported from inside it.
        probe: what the venv's interpreter has.
    """

    rev: str
    commit: str
    root: Path
    probe: Probe


def resolve(rev: str) -> str:
    """Return the full commit id of ``rev`` in this repository.

    Raises:
        ValueError: ``rev`` is not a commit of this repository.
    """
    hint = f"--baseline {rev!r}: not a commit of {REPO_ROOT}; give a branch (main) or a commit id"
    if not rev or rev.startswith("-"):
        raise ValueError(hint)
    done = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )
    commit = done.stdout.strip()
    if done.returncode != 0 or not commit:
        raise ValueError(hint)
    return commit


def export(commit: str, directory: Path) -> Path:
    """Extract ``git archive`` of ``commit`` into ``directory/source`` and return that path.

    Raises:
        RuntimeError: git failed.
    """
    archive = directory / "source.tar"
    command = ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", "-o", str(archive), commit]
    run_checked(command, 120)
    source = directory / "source"
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data")
    return source


def same_files(source: Path, installed: Path) -> None:
    """Check that every file under ``source`` is in ``installed`` with the same bytes.

    Raises:
        RuntimeError: a file is missing or differs (named in the message).
    """
    if not source.is_dir():
        raise RuntimeError(f"the baseline revision has no package directory {source.name}/")
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(source)
        copy = installed / relative
        if not copy.is_file() or copy.read_bytes() != path.read_bytes():
            raise RuntimeError(
                f"the baseline venv's asgiref is not the revision's: {relative} differs in "
                f"{installed} (did pip install asgiref from PyPI over it?)"
            )


def outside(info: Probe, root: Path) -> str | None:
    """``None`` if ``info``'s interpreter imports ``asgiref`` from inside ``root``, else why."""
    where = Path(info.asgiref_file).resolve() if info.asgiref_file else None
    if where is not None and root.resolve() in where.parents:
        return None
    return f"{info.python} imports asgiref from {where}, not from the baseline venv {root}"


def _install(commit: str, building: Path, reqs: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="asgiref-baseline-") as tmp:
        source = export(commit, Path(tmp))
        pip_install(building, [str(source), *reqs])
        info = probe(venv_python(building))
        if info.asgiref_file is None:
            raise RuntimeError(f"the baseline venv {building} cannot import asgiref")
        same_files(source / "src" / "asgiref", Path(info.asgiref_file).parent)


def baseline(rev: str, log: bool = True) -> Baseline:
    """Resolve ``rev``, build (or reuse) its venv and return the baseline.

    Raises:
        ValueError: ``rev`` is not a commit of this repository.
        RuntimeError: building the venv failed, or it imports another asgiref.
    """
    commit = resolve(rev)
    root = VENVS / f"base-{interpreter_tag()}-{commit[:12]}"
    reqs = server_requirements()
    python = ensure_venv(
        root,
        "\n".join([f"commit {commit}", *reqs]),
        lambda building: _install(commit, building, reqs),
        f"the baseline venv ({rev} = {commit[:12]}, {' '.join(reqs)})",
        log,
    )
    info = probe(python)
    problem = outside(info, root)
    if problem is not None:
        raise RuntimeError(problem)
    return Baseline(rev, commit, root, info)
