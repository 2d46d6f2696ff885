"""Migrations of the ``pingapp`` app."""
