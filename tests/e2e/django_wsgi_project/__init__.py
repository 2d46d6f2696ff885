"""A minimal Django project whose WSGI application is served through ``WsgiToAsgi``.

Serve it with ``DJANGO_SETTINGS_MODULE=e2e.django_wsgi_project.settings`` and the ASGI
application ``e2e.django_wsgi_project.asgi:application`` (or ``:application_pathsend``).
"""
