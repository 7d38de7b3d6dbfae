"""``Expression``: a parsed filter expression, ready to inspect and evaluate.

Input: expression text and the ``Span`` where it starts in the recipe (or None).
Output: ``parse_expression`` returns an immutable ``Expression`` holding the AST root,
the source text and the compiled evaluator. Errors: ``parse_expression`` raises
``RecipeError`` (see ``parser.py``); ``Expression.evaluate`` raises
``ExpressionRuntimeError`` (see ``evaluate.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthdsl.errors import Span
from synthdsl.lang.expr.ast import Node
from synthdsl.lang.expr.evaluate import Evaluator, compile_expression
from synthdsl.lang.expr.parser import iter_fields, parse_ast, position_span

__all__ = ["Expression", "parse_expression"]


@dataclass(frozen=True)
class Expression:
    """A checked expression: ``root`` AST, ``source`` text, ``span`` of its start."""

    root: Node
    source: str
    span: Span | None = None
    _evaluator: Evaluator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_evaluator", compile_expression(self.root, self.source))

    def fields(self) -> frozenset[str]:
        """Top-level field names the expression reads (``meta`` for ``meta.source``)."""
        return frozenset(node.name for node in iter_fields(self.root))

    def field_spans(self) -> list[tuple[str, Span]]:
        """Each field reference, in source order, with its position in the recipe file."""
        return [
            (node.name, position_span(self.span, node.pos.line, node.pos.col))
            for node in iter_fields(self.root)
        ]

    def evaluate(self, record: Mapping[str, Any]) -> Any:
        """The value of the expression on ``record``; callers use ``bool()`` to filter."""
        return self._evaluator(record)

    @property
    def evaluator(self) -> Evaluator:
        """``evaluate`` itself, the compiled function (one call less per record)."""
        return self._evaluator

    def __str__(self) -> str:
        return self.source


def parse_expression(text: str, span: Span | None = None) -> Expression:
    """Parse and check ``text``; raise ``RecipeError`` with every problem found."""
    return Expression(parse_ast(text, span), text, span)
