"""The ``dedup`` node: drop exact and near duplicates, keeping the first seen.

``method: exact`` compares normalised text (Unicode NFKC, case-folded, whitespace
collapsed) by hash, so memory holds one digest per distinct record. ``method: rouge_l``
drops a record whose ROUGE-L F against any kept record is ≥ ``threshold`` (default 0.7),
using an exact pruned index; the drop records the nearest neighbour and its score.
Records are processed in arrival order, which the executor keeps deterministic.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.nodes.base import CheckContext, Drop, Emit, Estimate, MapRunner, NodeKind, Outcome
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.compile import Node
    from synthdsl.run.context import RunContext

__all__ = ["KIND", "DedupConfig"]


@dataclass
class DedupConfig:
    fields: list[str]
    spans: list[Span]
    method: str
    threshold: float


def _key_text(record: Record, fields: list[str]) -> str:
    parts = []
    for f in fields:
        v = record.data.get(f)
        parts.append(v if isinstance(v, str) else ("" if v is None else str(v)))
    return "\n".join(parts)


class _Runner:
    concurrency = 1

    def __init__(self, node: Node, rt: RunContext) -> None:
        self.node = node
        self.cfg: DedupConfig = node.config
        self.seen: dict[bytes, str] = {}
        self.index: Any = None
        if self.cfg.method == "rouge_l":
            from synthdsl.similarity import RougeIndex

            self.index = RougeIndex(min_threshold=self.cfg.threshold)

    async def process(self, record: Record) -> Outcome:
        from synthdsl.text import normalize_for_exact

        text = _key_text(record, self.cfg.fields)
        digest = hashlib.blake2b(normalize_for_exact(text).encode("utf-8"), digest_size=16).digest()
        first = self.seen.get(digest)
        if first is not None:
            return Drop("duplicate (exact)", {"duplicate_of": first})
        if self.index is not None:
            match = self.index.nearest(text, self.cfg.threshold)
            if match is not None:
                other, score = match
                return Drop(
                    f"near duplicate (rouge_l >= {self.cfg.threshold})",
                    {"duplicate_of": other, "score": round(score, 4)},
                )
            self.index.add(record.id, text)
        self.seen[digest] = record.id
        return Emit([record])


class DedupKind(NodeKind):
    name = "dedup"

    def configure(self, raw: Any, ctx: CheckContext) -> DedupConfig:
        if "field" in raw and "fields" in raw:
            ctx.error(ctx.key_span("fields"), "give either 'field' or 'fields', not both")
        if "field" in raw:
            fields, spans = [str(raw["field"])], [ctx.span("field")]
        elif "fields" in raw:
            fields = [str(f) for f in raw["fields"]]
            spans = [ctx.span("fields", i) for i in range(len(fields))]
        else:
            ctx.error(ctx.span(), "dedup needs 'field' (or 'fields') to compare")
            fields, spans = [], []
        method = str(raw.get("method", "exact"))
        if "threshold" in raw and method == "exact":
            ctx.error(ctx.key_span("threshold"), "'threshold' applies to method: rouge_l only")
        return DedupConfig(fields, spans, method, float(raw.get("threshold", 0.7)))

    def read_fields(self, config: Any) -> list[tuple[str, Span]]:
        cfg: DedupConfig = config
        return list(zip(cfg.fields, cfg.spans, strict=True))

    def estimate(self, config: Any, n_in: int | None) -> Estimate:
        return Estimate(records=n_in, exact=False)

    def describe(self, config: Any) -> dict[str, Any]:
        cfg: DedupConfig = config
        out: dict[str, Any] = {"fields": cfg.fields, "method": cfg.method}
        if cfg.method != "exact":
            out["threshold"] = cfg.threshold
        return out

    def map_runner(self, node: Node, rt: RunContext) -> MapRunner:
        return _Runner(node, rt)


KIND = DedupKind()
