"""The ``filter`` node: keep records for which an expression is true, or by rank.

Two forms, combinable:
- ``filter: "score >= 8"`` (or ``{expr: ..., reason: ...}``): a record for which the
  expression is false is dropped with the reason (``reason:`` or the expression text).
- ``filter: {by: "entropy(response)", drop_lowest: 0.3}`` (and/or ``drop_highest``):
  rank the run's records by a numeric expression and drop that share at the bottom
  (top). Ranking needs the whole run, but not in memory: records are spilled to a
  temporary file while only their scores (8 bytes each) are kept; the cut is exact
  (``floor(share × n)`` records, ties broken by arrival order) and survivors leave in
  arrival order.

Expressions are parsed at compile time (grammar in ``synthdsl/expr/filter.lark``) and
the fields they read are checked against upstream fields. A record on which an
expression cannot be evaluated (a missing field, a type error, a non-number ``by``) is
a recorded failure.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import RecipeError, Span
from synthdsl.lang.expr import Expression, ExpressionRuntimeError, parse_expression
from synthdsl.lang.expr.thresholds import field_thresholds
from synthdsl.lang.expr.types import FieldType
from synthdsl.lang.load import content_span
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Estimate,
    Estimator,
    Fail,
    MapRunner,
    NodeKind,
    Outbox,
    Outcome,
    Runtime,
    StreamRunner,
)
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "FilterConfig"]


@dataclass
class FilterConfig:
    text: str | None
    expr: Expression | None
    reason: str
    by_text: str | None = None
    by: Expression | None = None
    drop_lowest: float = 0.0
    drop_highest: float = 0.0


def _check(cfg: FilterConfig, record: Record) -> Outcome | None:
    """None when the record passes the expression; otherwise its Drop or Fail."""
    if cfg.expr is None:
        return None
    try:
        keep = bool(cfg.expr.evaluate(record.data))
    except ExpressionRuntimeError as exc:
        return Fail("filter_error", str(exc))
    return None if keep else Drop(cfg.reason)


def _note_thresholds(node: Node[FilterConfig], rt: Runtime) -> None:
    """Note the number thresholds the expression puts on fields (the report marks them)."""
    if node.config.expr is None:
        return
    found = field_thresholds(node.config.expr.root)
    if found:
        rt.note(node.id, "thresholds", {f: t.to_json() for f, t in found.items()})


class _Runner:
    concurrency = 1
    quick = True  # process() never waits: it may run in its producer's task

    def __init__(self, node: Node[FilterConfig], rt: Runtime) -> None:
        self.cfg = node.config
        self._drop = Drop(self.cfg.reason)  # every dropped record's outcome (never changed)
        self._test = None if self.cfg.expr is None else self.cfg.expr.evaluator
        _note_thresholds(node, rt)

    async def process(self, record: Record) -> Outcome:
        return self.decide(record) or Emit([record])

    def decide(self, record: Record) -> Outcome | None:
        """``process`` without a coroutine: None when the record passes (the
        executor's block path)."""
        test = self._test
        if test is None:
            return None
        try:
            keep = test(record.data)
        except ExpressionRuntimeError as exc:
            return Fail("filter_error", str(exc))
        return None if keep else self._drop


class _RankRunner:
    """Two passes: score and spill, then cut by rank and emit survivors in order."""

    def __init__(self, node: Node[FilterConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config
        _note_thresholds(node, rt)

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        cfg = self.cfg
        assert cfg.by is not None
        scores: list[float] = []
        with tempfile.TemporaryFile("w+", encoding="utf-8") as spill:
            for it in inputs.values():
                async for rec in it:
                    out.count_in(1)
                    verdict = _check(cfg, rec)
                    if isinstance(verdict, Drop):
                        out.drop(rec, verdict.reason, verdict.detail)
                        continue
                    if isinstance(verdict, Fail):
                        out.fail(rec, verdict.kind, verdict.message)
                        continue
                    try:
                        value = cfg.by.evaluate(rec.data)
                    except ExpressionRuntimeError as exc:
                        out.fail(rec, "filter_error", str(exc))
                        continue
                    if (
                        isinstance(value, bool)
                        or not isinstance(value, int | float)
                        or (isinstance(value, float) and math.isnan(value))
                    ):
                        out.fail(
                            rec, "filter_error", f"'{cfg.by_text}' gave {value!r}, not a number"
                        )
                        continue
                    scores.append(float(value))
                    spill.write(rec.to_line() + "\n")
            n = len(scores)
            order = sorted(range(n), key=lambda i: (scores[i], i))
            low = math.floor(cfg.drop_lowest * n + 1e-9)
            high = math.floor(cfg.drop_highest * n + 1e-9)
            cut = bytearray(n)  # 0 keep, 1 dropped low, 2 dropped high
            for i in order[:low]:
                cut[i] = 1
            for i in order[n - high :] if high else []:
                cut[i] = 2
            kept = order[low : n - high]
            self.rt.note(
                self.node.id,
                "rank",
                {
                    "by": cfg.by_text,
                    "ranked": n,
                    "dropped_lowest": low,
                    "dropped_highest": high,
                    "kept_min": scores[kept[0]] if kept else None,
                    "kept_max": scores[kept[-1]] if kept else None,
                },
            )
            spill.seek(0)
            for i, line in enumerate(spill):
                rec = Record.from_line(line)
                if cut[i] == 1:
                    out.drop(
                        rec,
                        f"filter: {cfg.by_text} in the lowest {cfg.drop_lowest:.0%}",
                        {"score": scores[i]},
                    )
                elif cut[i] == 2:
                    out.drop(
                        rec,
                        f"filter: {cfg.by_text} in the highest {cfg.drop_highest:.0%}",
                        {"score": scores[i]},
                    )
                else:
                    out.count_passed(1)
                    await out.emit(rec)


class FilterKind(NodeKind[FilterConfig]):
    name = "filter"

    def field_types(
        self, cfg: FilterConfig, upstream: dict[str, FieldType]
    ) -> dict[str, FieldType]:
        return dict(upstream)  # values pass unchanged

    def expressions(self, cfg: FilterConfig) -> list[Expression]:
        return [e for e in (cfg.expr, cfg.by) if e is not None]

    def supports_when(self, config: FilterConfig) -> bool:
        return config.by is None

    def configure(self, raw: Any, ctx: CheckContext) -> FilterConfig:
        def parse(text: str, span: Span) -> Expression | None:
            try:
                return parse_expression(text, span)
            except RecipeError as exc:
                ctx.diagnostics.extend(exc.diagnostics)
                return None

        if not isinstance(raw, dict):
            text = str(raw)
            return FilterConfig(
                text=text,
                expr=parse(text, content_span(ctx.doc, ctx.span())),
                reason=f"filter: not ({text})",
            )
        cfg = FilterConfig(text=None, expr=None, reason="")
        if "expr" in raw:
            cfg.text = str(raw["expr"])
            cfg.expr = parse(cfg.text, content_span(ctx.doc, ctx.span("expr")))
            cfg.reason = str(raw.get("reason") or f"filter: not ({cfg.text})")
        if "by" in raw:
            cfg.by_text = str(raw["by"])
            cfg.by = parse(cfg.by_text, content_span(ctx.doc, ctx.span("by")))
            cfg.drop_lowest = float(raw.get("drop_lowest", 0.0))
            cfg.drop_highest = float(raw.get("drop_highest", 0.0))
            if not cfg.drop_lowest and not cfg.drop_highest:
                ctx.error(
                    ctx.key_span("by"),
                    "'by' ranks records: say how many to drop",
                    "add drop_lowest: 0.3 (or drop_highest)",
                )
            elif cfg.drop_lowest + cfg.drop_highest >= 1:
                ctx.error(ctx.key_span("by"), "drop_lowest + drop_highest must be below 1")
        elif "drop_lowest" in raw or "drop_highest" in raw:
            key = "drop_lowest" if "drop_lowest" in raw else "drop_highest"
            ctx.error(
                ctx.key_span(key),
                f"'{key}' needs 'by': the expression to rank by",
                'e.g. by: "entropy(response)"',
            )
        if "expr" not in raw and "by" not in raw:
            ctx.error(ctx.span(), "filter needs 'expr' (a condition) or 'by' (a ranking)")
        if "reason" in raw and "expr" not in raw:
            ctx.error(ctx.key_span("reason"), "'reason' goes with 'expr'")
        return cfg

    def read_fields(self, cfg: FilterConfig) -> list[tuple[str, Span]]:
        out: list[tuple[str, Span]] = []
        for e in (cfg.expr, cfg.by):
            if e is not None:
                out += list(e.field_spans())
        return out

    def estimate(self, node: Node[FilterConfig], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(records=n_in, exact=False)

    def describe(self, cfg: FilterConfig) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if cfg.text is not None:
            out["expr"] = cfg.text
        if cfg.by_text is not None:
            out["by"] = cfg.by_text
            if cfg.drop_lowest:
                out["drop_lowest"] = cfg.drop_lowest
            if cfg.drop_highest:
                out["drop_highest"] = cfg.drop_highest
        return out

    def map_runner(self, node: Node[FilterConfig], rt: Runtime) -> MapRunner | None:
        cfg: FilterConfig = node.config
        return None if cfg.by is not None else _Runner(node, rt)

    def stream_runner(self, node: Node[FilterConfig], rt: Runtime) -> StreamRunner:
        return _RankRunner(node, rt)


KIND = FilterKind()
