"""The ``select`` node: keep or drop fields.

``select: {keep: [instruction, response]}`` keeps only those fields (a missing one is
left out); ``select: {drop: [demos, scratch]}`` removes those. Records otherwise pass
unchanged (same id: only their fields change). Fields named are checked upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.lang.expr.types import FieldType
from synthdsl.nodes.base import CheckContext, Emit, MapRunner, NodeKind, Outcome, Runtime
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "SelectConfig"]


@dataclass
class SelectConfig:
    keep: list[str] | None
    drop: list[str]
    spans: list[tuple[str, Span]]


class _Runner:
    concurrency = 1
    quick = True  # process() never waits: it may run in its producer's task

    def __init__(self, node: Node[SelectConfig], rt: Runtime) -> None:
        self.cfg = node.config

    async def process(self, record: Record) -> Outcome:
        if self.cfg.keep is not None:
            data = {k: record.data[k] for k in self.cfg.keep if k in record.data}
        else:
            data = {k: v for k, v in record.data.items() if k not in self.cfg.drop}
        return Emit([Record(record.id, data, record.parents, record.node, record.meta)])


class SelectKind(NodeKind[SelectConfig]):
    name = "select"

    def field_types(
        self, cfg: SelectConfig, upstream: dict[str, FieldType]
    ) -> dict[str, FieldType]:
        return dict(upstream)  # values pass unchanged

    def supports_when(self, config: SelectConfig) -> bool:
        return True

    def configure(self, raw: Any, ctx: CheckContext) -> SelectConfig:
        if ("keep" in raw) == ("drop" in raw):
            ctx.error(ctx.span(), "select needs exactly one of 'keep' or 'drop'")
        key = "keep" if "keep" in raw else "drop"
        names = [str(n) for n in raw.get(key, [])]
        spans = [(n, ctx.span(key, i)) for i, n in enumerate(names)]
        if key == "keep":
            return SelectConfig(keep=names, drop=[], spans=spans)
        return SelectConfig(keep=None, drop=names, spans=spans)

    def read_fields(self, cfg: SelectConfig) -> list[tuple[str, Span]]:
        return list(cfg.spans)

    def output_fields(self, cfg: SelectConfig, upstream: list[str]) -> list[str]:
        if cfg.keep is not None:
            return [f for f in cfg.keep if f in upstream or "*" in upstream]
        return [f for f in upstream if f not in cfg.drop]

    def describe(self, cfg: SelectConfig) -> dict[str, Any]:
        return {"keep": cfg.keep} if cfg.keep is not None else {"drop": cfg.drop}

    def map_runner(self, node: Node[SelectConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = SelectKind()
