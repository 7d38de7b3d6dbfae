"""The ``filter`` node: keep records for which an expression is true.

The expression is parsed at compile time (grammar in ``synthdsl/expr/filter.lark``);
the fields it reads are checked against upstream fields. A record for which it is false
is dropped with the reason (``reason:`` or the expression text); one on which it cannot
be evaluated (a missing field, a type error) is a recorded failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import RecipeError, Span
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Estimate,
    Fail,
    MapRunner,
    NodeKind,
    Outcome,
)
from synthdsl.recipe import content_span
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.compile import Node
    from synthdsl.expr import Expression
    from synthdsl.run.context import RunContext

__all__ = ["KIND", "FilterConfig"]


@dataclass
class FilterConfig:
    text: str
    expr: Expression | None
    reason: str


class _Runner:
    concurrency = 1

    def __init__(self, node: Node, rt: RunContext) -> None:
        self.node = node
        self.cfg: FilterConfig = node.config

    async def process(self, record: Record) -> Outcome:
        from synthdsl.expr import ExpressionRuntimeError

        expr = self.cfg.expr
        assert expr is not None
        try:
            keep = bool(expr.evaluate(record.data))
        except ExpressionRuntimeError as exc:
            return Fail("filter_error", str(exc))
        if keep:
            return Emit([record])
        return Drop(self.cfg.reason)


class FilterKind(NodeKind):
    name = "filter"

    def configure(self, raw: Any, ctx: CheckContext) -> FilterConfig:
        from synthdsl.expr import parse_expression

        if isinstance(raw, dict):
            text = str(raw["expr"])
            span = content_span(ctx.doc, ctx.span("expr"))
            reason = str(raw.get("reason") or f"filter: not ({text})")
        else:
            text = str(raw)
            span = content_span(ctx.doc, ctx.span())
            reason = f"filter: not ({text})"
        expr = None
        try:
            expr = parse_expression(text, span)
        except RecipeError as exc:
            ctx.diagnostics.extend(exc.diagnostics)
        return FilterConfig(text=text, expr=expr, reason=reason)

    def read_fields(self, config: Any) -> list[tuple[str, Span]]:
        cfg: FilterConfig = config
        if cfg.expr is None:
            return []
        return list(cfg.expr.field_spans())

    def estimate(self, config: Any, n_in: int | None) -> Estimate:
        return Estimate(records=n_in, exact=False)

    def describe(self, config: Any) -> dict[str, Any]:
        cfg: FilterConfig = config
        return {"expr": cfg.text}

    def map_runner(self, node: Node, rt: RunContext) -> MapRunner:
        return _Runner(node, rt)


KIND = FilterKind()
