"""The ``select`` node: keep or drop fields.

``select: {keep: [instruction, response]}`` keeps only those fields (a missing one is
left out); ``select: {drop: [demos, scratch]}`` removes those. Records otherwise pass
unchanged (same id: only their fields change). Fields named are checked upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.nodes.base import CheckContext, Emit, Estimate, MapRunner, NodeKind, Outcome, Runtime
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

    def __init__(self, node: Node, rt: Runtime) -> None:
        self.cfg: SelectConfig = node.config

    async def process(self, record: Record) -> Outcome:
        if self.cfg.keep is not None:
            data = {k: record.data[k] for k in self.cfg.keep if k in record.data}
        else:
            data = {k: v for k, v in record.data.items() if k not in self.cfg.drop}
        return Emit([Record(record.id, data, record.parents, record.node, record.meta)])


class SelectKind(NodeKind):
    name = "select"

    def supports_when(self, config: Any) -> bool:
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

    def read_fields(self, config: Any) -> list[tuple[str, Span]]:
        cfg: SelectConfig = config
        return list(cfg.spans)

    def output_fields(self, config: Any, upstream: list[str]) -> list[str]:
        cfg: SelectConfig = config
        if cfg.keep is not None:
            return [f for f in cfg.keep if f in upstream or "*" in upstream]
        return [f for f in upstream if f not in cfg.drop]

    def estimate(self, config: Any, n_in: int | None) -> Estimate:
        return Estimate(records=n_in)

    def describe(self, config: Any) -> dict[str, Any]:
        cfg: SelectConfig = config
        return {"keep": cfg.keep} if cfg.keep is not None else {"drop": cfg.drop}

    def map_runner(self, node: Node, rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = SelectKind()
