"""The thresholds a filter expression puts on fields: ``score >= 7`` → score ``>=`` 7.

Input: an expression's AST root. Output: ``field_thresholds(root) -> dict[str,
Threshold]``, one per field compared with a number in a comparison that must hold
for a record to pass: the expression itself or a term of its top-level ``and``s
(``score >= 7 and words(response) > 5`` gives score ``>= 7``). A number on the left
is turned around (``7 <= score`` is ``score >= 7``); comparisons under ``or`` or
``not``, chains and functions of fields give nothing. The report marks these on the
judge score charts. Raises nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from synthdsl.lang.expr.ast import BoolOp, Compare, Field, Literal, Node

__all__ = ["Threshold", "field_thresholds"]

_ORDER = {">=", ">", "<=", "<"}
_FLIPPED = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class Threshold:
    op: str  # the comparison a passing record's value satisfies: >= > <= < ==
    value: float

    def to_json(self) -> dict[str, object]:
        return {"op": self.op, "value": self.value}


def _terms(root: Node) -> Iterator[Node]:
    if isinstance(root, BoolOp) and root.op == "and":
        yield from _terms(root.left)
        yield from _terms(root.right)
    else:
        yield root


def _number(node: Node) -> float | None:
    if isinstance(node, Literal) and isinstance(node.value, (int, float)):
        return None if isinstance(node.value, bool) else float(node.value)
    return None


def field_thresholds(root: Node) -> dict[str, Threshold]:
    out: dict[str, Threshold] = {}
    for term in _terms(root):
        if not isinstance(term, Compare) or len(term.ops) != 1:
            continue
        (left, right), op = term.operands, term.ops[0]
        if op not in _ORDER and op != "==":
            continue
        if isinstance(left, Field) and (value := _number(right)) is not None:
            out.setdefault(left.name, Threshold(op, value))
        elif isinstance(right, Field) and (value := _number(left)) is not None:
            out.setdefault(right.name, Threshold(_FLIPPED[op], value))
    return out
