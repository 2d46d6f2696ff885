"""A small real Django project served over ASGI by ``tests/e2e/test_django_asgi.py``."""
