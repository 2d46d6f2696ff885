"""The project's one app: a model used through the sync and the async ORM API."""
