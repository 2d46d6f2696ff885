"""Workload bodies: for each workload, one factory per implementation key."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks._registry import BASELINE
from benchmarks.workloads import asgi_wsgi, bridge, local, validation, wsgi
from benchmarks.workloads._base import Body

__all__ = ["Body", "factory"]

_ALL: dict[str, dict[str, Callable[[], Body]]] = {
    **bridge.BODIES,
    **local.BODIES,
    **wsgi.BODIES,
    **validation.BODIES,
    **asgi_wsgi.BODIES,
}


def factory(workload: str, impl: str) -> Callable[[], Body]:
    """Return the body factory of ``impl`` on ``workload``.

    The baseline ("before") runs ours' bodies: only its interpreter differs.

    Raises:
        KeyError: unknown workload or implementation key.
    """
    return _ALL[workload]["ours" if impl == BASELINE.key else impl]
