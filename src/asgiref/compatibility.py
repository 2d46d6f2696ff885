"""ASGI 2 ("double callable") and ASGI 3 (single callable) application styles.

Servers pass what they are given through :func:`guarantee_single_callable` so that they
only ever call ``await application(scope, receive, send)``.
"""

from __future__ import annotations

from asgiref._compatibility import (
    double_to_single_callable,
    guarantee_single_callable,
    is_double_callable,
)

__all__ = ["is_double_callable", "double_to_single_callable", "guarantee_single_callable"]
