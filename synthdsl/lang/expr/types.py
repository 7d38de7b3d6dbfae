"""Type mismatches an expression makes with fields whose types are known.

Input: a parsed ``Expression`` and the known types of some fields (``FieldType``: a
JSON type name and where it was learnt, e.g. the first rows of a source). Output: a
``Diagnostic`` for each comparison or arithmetic that cannot work with those types:
``instruction > 5`` with a string ``instruction`` fails on every record at run time,
so ``validate`` says so at the operator's column. Fields of unknown type are never
reported: the check has no false alarms from what it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from synthdsl.errors import Diagnostic
from synthdsl.lang.expr.ast import BinOp, Call, Compare, Field, Literal, Node, Unary, walk
from synthdsl.lang.expr.expression import Expression
from synthdsl.lang.expr.functions import type_name
from synthdsl.lang.expr.parser import position_span

__all__ = ["FieldType", "json_type", "type_problems"]

_ORDERING = frozenset({"<", "<=", ">", ">="})
_NUMERIC_OPS = frozenset({"-", "*", "/", "%"})
_NUMBER_FUNCTIONS = frozenset({"len", "words", "int", "float", "round", "abs", "entropy"})


@dataclass(frozen=True)
class FieldType:
    """A field's JSON type (``string``, ``number``, ``bool``, ``list``, ``object``,
    ``null``) and where it was learnt, for messages (``source 'seeds'``)."""

    type: str
    origin: str


def json_type(value: Any) -> str:
    """The JSON type name of a value (ints and floats are both ``number``)."""
    name = type_name(value)
    return "number" if name in ("int", "float") else name


def _type_of(node: Node, fields: Mapping[str, FieldType]) -> str | None:
    if isinstance(node, Literal):
        return json_type(node.value)
    if isinstance(node, Field):
        known = fields.get(node.name)
        return known.type if known else None
    if isinstance(node, Call) and node.name in _NUMBER_FUNCTIONS:
        return "number"
    if isinstance(node, Unary):
        return "number"
    if isinstance(node, BinOp) and node.op in _NUMERIC_OPS:
        return "number"
    return None


def _what(node: Node, kind: str, fields: Mapping[str, FieldType]) -> str:
    article = "an" if kind[0] in "aeiou" else "a"
    if isinstance(node, Field):
        return f"{kind} field '{node.name}'"
    return f"{article} {kind}"


def _hint(nodes: tuple[Node, ...], fields: Mapping[str, FieldType]) -> str | None:
    for node in nodes:
        if isinstance(node, Field) and node.name in fields:
            known = fields[node.name]
            advice = (
                f"; compare len({node.name}) or words({node.name}), or convert with "
                f"float({node.name})"
                if known.type == "string"
                else ""
            )
            return f"'{node.name}' is a {known.type} in {known.origin}{advice}"
    return None


def type_problems(expr: Expression, fields: Mapping[str, FieldType]) -> list[Diagnostic]:
    """Each comparison or arithmetic in ``expr`` whose operand types cannot work."""
    problems: list[Diagnostic] = []
    if not fields:
        return problems
    for node in walk(expr.root):
        pairs: list[tuple[str, Node, Node]] = []
        if isinstance(node, Compare):
            pairs = [
                (op, node.operands[i], node.operands[i + 1])
                for i, op in enumerate(node.ops)
                if op in _ORDERING
            ]
        elif isinstance(node, BinOp) and node.op in (*_NUMERIC_OPS, "+"):
            pairs = [(node.op, node.left, node.right)]
        for op, left, right in pairs:
            lt, rt = _type_of(left, fields), _type_of(right, fields)
            if lt is None or rt is None or {lt, rt} != {"string", "number"}:
                continue
            verb = "compares" if op in _ORDERING else "combines"
            problems.append(
                Diagnostic(
                    position_span(expr.span, node.pos.line, node.pos.col),
                    f"'{op}' {verb} {_what(left, lt, fields)} with {_what(right, rt, fields)}",
                    _hint((left, right), fields),
                )
            )
    return problems
