"""Shared pytest configuration: every test is bounded by pytest-timeout (pyproject)."""

from __future__ import annotations
