"""The ``sort`` node: order the run's records by an expression (e.g. a curriculum).

``sort: {by: "difficulty", descending: false}``. The whole run is ordered without
holding it in memory: records wait in a temporary file, only their keys (and
positions) stay in memory. Ties keep arrival order (a stable sort). Keys must be
comparable with each other: all numbers, or all strings; a record whose key cannot be
computed, or is null, fails (kind ``sort_error``). With ``nulls: last`` records whose
key is null go, in arrival order, after the others instead.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import RecipeError, Span
from synthdsl.lang.expr import Expression, ExpressionRuntimeError, parse_expression
from synthdsl.lang.expr.types import FieldType
from synthdsl.lang.load import content_span
from synthdsl.nodes.base import CheckContext, NodeKind, Outbox, Runtime, StreamRunner
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "SortConfig"]


@dataclass
class SortConfig:
    text: str
    by: Expression | None
    descending: bool
    nulls_last: bool


def _kind_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


class _Runner:
    def __init__(self, node: Node[SortConfig], rt: Runtime) -> None:
        self.node = node
        self.cfg = node.config

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        cfg = self.cfg
        assert cfg.by is not None
        keys: list[Any] = []
        nulls: list[int] = []
        kind: str | None = None
        with tempfile.TemporaryFile("w+", encoding="utf-8") as spill:
            offsets: list[int] = []
            for it in inputs.values():
                async for rec in it:
                    out.count_in(1)
                    try:
                        value = cfg.by.evaluate(rec.data)
                    except ExpressionRuntimeError as exc:
                        out.fail(rec, "sort_error", str(exc))
                        continue
                    if value is None and cfg.nulls_last:
                        pass
                    else:
                        this = _kind_of(value)
                        if this is None or (kind is not None and this != kind):
                            out.fail(
                                rec,
                                "sort_error",
                                f"'{cfg.text}' gave {value!r}, which does not sort with "
                                f"the other keys ({kind or 'numbers or strings'})",
                            )
                            continue
                        kind = this
                    offsets.append(spill.tell())
                    spill.write(rec.to_line() + "\n")
                    if value is None:
                        nulls.append(len(offsets) - 1)
                        keys.append(None)
                    else:
                        keys.append(value)
            ranked = [i for i in range(len(keys)) if keys[i] is not None]
            ranked.sort(key=lambda i: keys[i], reverse=cfg.descending)  # stable both ways
            for i in [*ranked, *nulls]:
                spill.seek(offsets[i])
                rec = Record.from_line(spill.readline())
                out.count_passed(1)
                await out.emit(rec)


class SortKind(NodeKind[SortConfig]):
    name = "sort"

    def field_types(self, cfg: SortConfig, upstream: dict[str, FieldType]) -> dict[str, FieldType]:
        return dict(upstream)  # values pass unchanged

    def expressions(self, cfg: SortConfig) -> list[Expression]:
        return [cfg.by] if cfg.by is not None else []

    def configure(self, raw: Any, ctx: CheckContext) -> SortConfig:
        text = str(raw["by"])
        expr = None
        try:
            expr = parse_expression(text, content_span(ctx.doc, ctx.span("by")))
        except RecipeError as exc:
            ctx.diagnostics.extend(exc.diagnostics)
        return SortConfig(
            text=text,
            by=expr,
            descending=bool(raw.get("descending", False)),
            nulls_last=raw.get("nulls", "error") == "last",
        )

    def read_fields(self, cfg: SortConfig) -> list[tuple[str, Span]]:
        return list(cfg.by.field_spans()) if cfg.by is not None else []

    def describe(self, cfg: SortConfig) -> dict[str, Any]:
        out: dict[str, Any] = {"by": cfg.text, "descending": cfg.descending}
        if cfg.nulls_last:
            out["nulls"] = "last"
        return out

    def stream_runner(self, node: Node[SortConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = SortKind()
