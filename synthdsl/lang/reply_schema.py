"""The JSON Schema a step asks replies to follow (``generate: {json: {...}}``), checked
twice: the schema itself when the recipe is compiled, and every reply against it.

Providers that take a schema (``response_format: json_schema``) mostly honour it, but
not all do, and local servers or older models ignore it: ``{"front": 5}`` must not pass
for required string fields ``front`` and ``back``. Input: a schema (a mapping from the
recipe) and parsed reply values. Output: ``schema_problem`` (what is wrong with the
schema, or None) and ``ReplySchema.first_problem`` (a ``ReplyProblem``: where and why
a value does not match, or None; ``problem`` as one line).
``pattern`` keywords run on RE2 like every recipe regex (linear time: a reply cannot hang
a run); ``format`` is not asserted (as JSON Schema 2020-12 specifies by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError

from synthdsl.lang.expr.functions import compile_regex

__all__ = ["ReplyProblem", "ReplySchema", "schema_problem"]

_MAX_PROBLEM = 300


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if not isinstance(instance, str):
        return
    try:
        compiled = compile_regex(pattern)
    except re.error as exc:
        yield ValidationError(f"pattern {pattern!r} cannot be used: {exc}")
        return
    if compiled.search(instance) is None:
        yield ValidationError(f"{instance[:60]!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


def schema_problem(schema: Any) -> str | None:
    """What makes ``schema`` unusable as a JSON Schema (2020-12), or None."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return f"not a valid JSON Schema{f' at {where}' if where else ''}: {exc.message}"
    for pattern in _patterns(schema):
        try:
            compile_regex(pattern)
        except re.error as exc:
            return f"pattern {pattern!r}: {exc}"
    return None


def _patterns(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _patterns(item)


@dataclass(frozen=True)
class ReplyProblem:
    """Why a reply does not match: where (the path of keys and indexes into the reply,
    "" for the whole reply) and the validator's message (at most 300 characters)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ReplySchema:
    """A checked schema, ready to validate replies (compiled once, used for each)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._validator = _Validator(schema)

    def first_problem(self, value: Any) -> ReplyProblem | None:
        """The first error (the shallowest, by its path), or None when ``value`` fits."""
        error = next(iter(sorted(self._validator.iter_errors(value), key=_order)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return ReplyProblem(where, error.message[:_MAX_PROBLEM])

    def problem(self, value: Any) -> str | None:
        """Why ``value`` does not match (the first error, by its path), or None."""
        found = self.first_problem(value)
        return None if found is None else str(found)[:_MAX_PROBLEM]


def _order(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), str(list(error.absolute_path)))
