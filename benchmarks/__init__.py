"""Benchmark runner: this package against asgiref 3.13.0, a2wsgi and bare-asyncio floors.

Run it with ``python benchmarks/run.py`` (see ``benchmarks/README.md``).
"""
