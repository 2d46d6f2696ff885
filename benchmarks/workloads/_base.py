"""What a workload body is, and how a body reaches the module under test."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

__all__ = ["Body", "load"]


@dataclass(frozen=True)
class Body:
    """The code one implementation runs for one workload.

    Exactly one of the two fields is set. ``run_sync(n)`` / ``await run_async(n)`` performs
    ``n`` calls of the workload (each call is ``ops_per_call`` unit operations); the worker
    times it. Async bodies run inside one ``asyncio.run`` together with their warm-up.
    """

    run_sync: Callable[[int], None] | None = None
    run_async: Callable[[int], Coroutine[Any, Any, None]] | None = None


def load(module: str, name: str) -> Any:
    """Return ``module.name``, importing the module by name.

    The same code measures ours and asgiref 3.13.0: which package answers depends only on
    the interpreter running the worker. The lookup is dynamic so that the benchmark does not
    depend on our package's type stubs (it must also run while a module has not landed).

    Raises:
        ImportError: the module, or the name in it, does not exist (reported as "n.i." for
            ours).
    """
    mod = importlib.import_module(module)
    try:
        return getattr(mod, name)
    except AttributeError as exc:
        raise ImportError(f"cannot import name {name!r} from {module!r}") from exc
