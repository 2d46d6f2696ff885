"""A small real Channels 4.3 project (a Django app, consumers, routing) for the e2e tests.

It is configured in-process by :func:`e2e.channels_project.settings.configure`; the
database is a SQLite file in a temporary directory and the channel layer is Channels'
in-memory layer.
"""
