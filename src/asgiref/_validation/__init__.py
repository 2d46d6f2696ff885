"""The machinery behind :mod:`asgiref.validation`, one concept per module.

* ``_rules``: the rule table (:class:`Rule`, ``RULES``); every check cites an id from it.
* ``_errors``: :class:`ASGIValidationError`, :class:`ASGIValidationWarning` and the
  reporter that turns a violation into a raise, a warning or a callback.
* ``_values``: checks of single values (header lists, tokens, close codes).
* ``_scope``: checks of a connection scope.
* ``_messages``: the shape of each event, one function per event type.
* ``_http``, ``_websocket``, ``_lifespan``: the state machine of each protocol, both
  directions.
* ``_wrapper``: :func:`validate`, which puts the checks between a server and an app.
"""
