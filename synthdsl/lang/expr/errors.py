"""Runtime errors of filter expressions.

Input: raised by ``evaluate.py`` (and the functions it calls) while an expression runs
on one record. Output: ``ExpressionRuntimeError``, a ``RunError`` that the executor
records as that record's failure. Parse-time problems are ``RecipeError`` instead.
"""

from __future__ import annotations

from synthdsl.errors import RunError

__all__ = ["ExpressionRuntimeError"]


class ExpressionRuntimeError(RunError):
    """Evaluating an expression on one record failed (missing field, type error, ...).

    ``expression`` is the source text of the whole expression.
    """

    def __init__(self, message: str, *, expression: str = "") -> None:
        full = f"{message} (in filter `{expression}`)" if expression else message
        super().__init__(full)
        self.detail = message
        self.expression = expression
