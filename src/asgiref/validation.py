"""Checking that ASGI applications and servers follow the ASGI specifications.

:func:`validate` wraps an application; every scope, every event the server delivers and
every event the application sends is checked against :data:`RULES`.  A violation raises
:class:`ASGIValidationError` (or warns with :class:`ASGIValidationWarning`, or calls your
function), naming the rule by its stable id, such as ``HTTP-SEND-003``.
See :doc:`/validation` for the rule table and how to turn validation on.
"""

from __future__ import annotations

from asgiref._validation._errors import ASGIValidationError, ASGIValidationWarning
from asgiref._validation._rules import RULES, Rule, Side
from asgiref._validation._wrapper import validate

__all__ = ["ASGIValidationError", "ASGIValidationWarning", "RULES", "Rule", "Side", "validate"]
