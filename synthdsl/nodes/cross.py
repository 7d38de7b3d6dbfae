"""The ``cross`` node: every input record combined with every record of another input.

``cross: {of: levels, into: audience}`` makes, for each input record, one record per
record of ``levels`` (a cross product: topics × audience levels). With ``into`` the
other record's fields go into that field as a mapping; without it they are merged in
(where both have a field, the input record's value wins). The ``of`` input is read in
full first (it is a reference list); its records count as passed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.nodes.base import (
    CheckContext,
    Estimate,
    Estimator,
    NodeKind,
    Outbox,
    Resolve,
    Runtime,
    StreamRunner,
    count_references,
    link_refs,
    main_fields,
    read_all,
)
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "CrossConfig"]


@dataclass
class _Ref:
    source: str
    span: Span
    node: str = ""


@dataclass
class CrossConfig:
    into: str | None
    parts: list[_Ref]
    main: list[str] = field(default_factory=list)


class _Runner:
    def __init__(self, node: Node[CrossConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        buffers = await read_all(inputs)
        other = buffers.get(self.cfg.parts[0].node, [])
        count_references(buffers, self.cfg.main, out)
        key = self.rt.node_key(self.node.id)
        for nid in self.cfg.main:
            for rec in buffers.get(nid, []):
                out.count_in(1)
                if not other:
                    out.drop(rec, "cross: the other input is empty", None)
                    continue
                out.count_passed(1)
                for j, o in enumerate(other):
                    if self.cfg.into is not None:
                        data = {**rec.data, self.cfg.into: dict(o.data)}
                    else:
                        data = {**o.data, **rec.data}
                    child = rec.child(key, data, index=j)
                    child.meta["crossed_with"] = o.id
                    await out.emit(child)


class CrossKind(NodeKind[CrossConfig]):
    name = "cross"

    def link(self, config: CrossConfig, main: list[str], resolve: Resolve) -> list[str]:
        config.main = list(main)
        return link_refs(config.parts, resolve)

    def upstream_fields(
        self, config: CrossConfig, inputs: dict[str, list[str]]
    ) -> list[str] | None:
        return main_fields(config.main, inputs)

    def configure(self, raw: Any, ctx: CheckContext) -> CrossConfig:
        return CrossConfig(into=raw.get("into"), parts=[_Ref(str(raw["of"]), ctx.span("of"))])

    def output_fields(self, cfg: CrossConfig, upstream: list[str]) -> list[str]:
        if cfg.into is not None:
            return [*[f for f in upstream if f != cfg.into], cfg.into]
        return list(upstream)

    def estimate(self, node: Node[CrossConfig], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(records=None, exact=False)

    def describe(self, cfg: CrossConfig) -> dict[str, Any]:
        out: dict[str, Any] = {"of": cfg.parts[0].node or cfg.parts[0].source}
        if cfg.into:
            out["into"] = cfg.into
        return out

    def stream_runner(self, node: Node[CrossConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = CrossKind()
