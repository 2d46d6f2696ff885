"""What a violation becomes: an exception, a warning, or a call to the user's function."""

from __future__ import annotations

import reprlib
import warnings
from collections.abc import Callable
from typing import Literal, TypeAlias

from asgiref._validation._rules import RULES

__all__ = ["ASGIValidationError", "ASGIValidationWarning", "OnViolation", "Reporter"]

_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80


class ASGIValidationError(Exception):
    """A scope or event broke a rule of the ASGI specifications.

    Args:
        rule: The id of the broken rule, a key of :data:`asgiref.validation.RULES`
            such as ``"HTTP-SEND-003"``.
        message: What is wrong and what to do instead.
        detail: The culprit: the offending event, scope, or value.

    Attributes:
        rule: As given.
        message: As given.
        detail: As given.
    """

    def __init__(self, rule: str, message: str, detail: object) -> None:
        super().__init__(rule, message, detail)
        self.rule = rule
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.rule}: {self.message} (got {_REPR.repr(self.detail)})"


class ASGIValidationWarning(UserWarning):
    """The warning issued for a violation by ``validate(app, on_violation="warn")``.

    Args:
        error: The violation; the warning's text is ``str(error)``.

    Attributes:
        error: The :class:`ASGIValidationError` describing the violation.
        rule: Its rule id.
    """

    def __init__(self, error: ASGIValidationError) -> None:
        super().__init__(str(error))
        self.error = error
        self.rule = error.rule


OnViolation: TypeAlias = Literal["raise", "warn"] | Callable[[ASGIValidationError], object]


class Reporter:
    """Turns a violation into what ``on_violation`` asked for.

    Args:
        on_violation: ``"raise"``, ``"warn"``, or a callable taking the
            :class:`ASGIValidationError`.

    Raises:
        ValueError: ``on_violation`` is a str other than ``"raise"`` or ``"warn"``.
        TypeError: ``on_violation`` is neither such a str nor callable.
    """

    __slots__ = ("_callback", "_mode")

    def __init__(self, on_violation: OnViolation) -> None:
        self._callback: Callable[[ASGIValidationError], object] | None = None
        self._mode: str
        if isinstance(on_violation, str):
            if on_violation not in ("raise", "warn"):
                raise ValueError(
                    f"validate() got on_violation={on_violation!r}; "
                    "pass 'raise', 'warn' or a callable taking an ASGIValidationError"
                )
            self._mode = on_violation
        elif callable(on_violation):
            self._mode = "call"
            self._callback = on_violation
        else:
            raise TypeError(
                f"validate() got on_violation={on_violation!r}; "
                "pass 'raise', 'warn' or a callable taking an ASGIValidationError"
            )

    def __call__(self, rule: str, message: str, detail: object) -> None:
        """Report a violation of ``rule``.

        Raises:
            ASGIValidationError: In ``"raise"`` mode.
            KeyError: ``rule`` is not in the rule table (a bug of the validator).
        """
        error = ASGIValidationError(RULES[rule].id, message, detail)
        if self._mode == "raise":
            raise error
        if self._mode == "warn":
            warnings.warn(ASGIValidationWarning(error), stacklevel=4)
            return
        assert self._callback is not None
        self._callback(error)
