"""The ``draw`` node: attach records drawn at random from reference inputs.

Two modes:
- per record (``from:`` given): each input record gets a field ``into`` holding records
  drawn from the ``parts`` (e.g. a constitutional principle per response);
- ``count: N``: the node makes N new records, each holding a draw (e.g. the in-context
  demonstrations of N Self-Instruct prompts: 6 human seeds + 2 machine-made tasks).

Each part draws ``k`` records without replacement; with ``fill: true`` (default) a part
that has fewer than ``k`` leaves its shortfall to the other parts (Self-Instruct's "8
human demonstrations until machine-made ones exist"). A record is never drawn for
itself. Draws are seeded by the node's ``seed``, the loop round or refill scope, and the
record id (or index), so they are reproducible. ``one: true`` with a total ``k`` of 1
stores the drawn record's fields rather than a one-item list. ``shuffle: true`` mixes
the drawn records of all parts (by default each part's records come in part order).
A part's ``weight`` names a numeric field of its records: draws are then
proportional to it (weighted sampling without replacement), e.g. Evol-Instruct's
operation weights. The drawn records' fields are exposed as plain mappings
(templates read ``{{ demos[0].instruction }}``).

Reference inputs are read in full before drawing (they are pools, not streams); the
records of a part count as passed (they were used as references).
"""

from __future__ import annotations

import hashlib
import random
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
from synthdsl.records import Record, derive_id

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "DrawConfig", "DrawPart", "draw_from"]


@dataclass
class DrawPart:
    source: str
    span: Span
    k: int
    weight: str | None = None  # a field of the part's records: draw probability weight
    node: str = ""


@dataclass
class DrawConfig:
    into: str
    parts: list[DrawPart]
    count: int | None
    fill: bool
    one: bool
    seed: int
    shuffle: bool = False
    main: list[str] = field(default_factory=list)  # resolved ids of the per-record input

    @property
    def total_k(self) -> int:
        return sum(p.k for p in self.parts)


def _weight(rec: Record, name: str) -> float:
    value = rec.data.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return 0.0
    return max(float(value), 0.0)


def _sample(rng: random.Random, pool: list[Record], n: int, weight: str | None) -> list[Record]:
    """``n`` records without replacement; by weight (Efraimidis-Spirakis keys) if named.

    Records of weight 0 are never drawn by weight.
    """
    if weight is None:
        return rng.sample(pool, n)
    keyed = []
    for rec in pool:
        w = _weight(rec, weight)
        u = rng.random()
        if w > 0:
            keyed.append((u ** (1.0 / w), rec.id, rec))
    keyed.sort(key=lambda t: (-t[0], t[1]))
    return [rec for _, _, rec in keyed[:n]]


def draw_from(
    pools: list[list[Record]],
    ks: list[int],
    rng: random.Random,
    fill: bool,
    exclude: str,
    weights: list[str | None] | None = None,
) -> list[Record]:
    """Draw ``ks[i]`` records from ``pools[i]`` (never the record ``exclude``)."""
    candidates = [[r for r in pool if r.id != exclude] for pool in pools]
    want = list(ks)
    ws = weights or [None] * len(pools)
    taken: list[list[Record]] = [[] for _ in pools]
    for i, pool in enumerate(candidates):
        n = min(want[i], len(pool))
        taken[i] = _sample(rng, pool, n, ws[i])
    if fill:
        deficit = sum(w - len(t) for w, t in zip(want, taken, strict=True))
        for i, pool in enumerate(candidates):
            if deficit <= 0:
                break
            used = {r.id for r in taken[i]}
            rest = [r for r in pool if r.id not in used]
            extra = _sample(rng, rest, min(deficit, len(rest)), ws[i])
            taken[i].extend(extra)
            deficit -= len(extra)
    return [r for group in taken for r in group]


class _Runner:
    def __init__(self, node: Node[DrawConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config

    def _rng(self, key: str) -> random.Random:
        text = f"{self.cfg.seed}|{self.rt.salt}|{self.node.id}|{key}"
        return random.Random(int(hashlib.sha256(text.encode()).hexdigest()[:16], 16))

    def _value(self, drawn: list[Record], rng: random.Random) -> Any:
        if self.cfg.shuffle:
            drawn = list(drawn)
            rng.shuffle(drawn)
        items = [dict(r.data) for r in drawn]
        if self.cfg.one:
            return items[0] if items else None
        return items

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        cfg = self.cfg
        buffers = await read_all(inputs)
        pools = [buffers.get(p.node, []) for p in cfg.parts]
        ks = [p.k for p in cfg.parts]
        weights = [p.weight for p in cfg.parts]
        count_references(buffers, cfg.main, out)
        key = self.rt.node_key(self.node.id)
        if cfg.count is not None:
            for i in range(cfg.count):
                rng = self._rng(str(i))
                drawn = draw_from(pools, ks, rng, cfg.fill, "", weights)
                rec = Record(
                    id=derive_id(key, (), i),
                    data={cfg.into: self._value(drawn, rng)},
                    parents=tuple(r.id for r in drawn),
                    node=key,
                )
                await out.emit(rec)
            return
        for nid in cfg.main:
            for rec in buffers.get(nid, []):
                out.count_in(1)
                rng = self._rng(rec.id)
                drawn = draw_from(pools, ks, rng, cfg.fill, rec.id, weights)
                if not drawn and cfg.total_k:
                    out.drop(rec, "draw: nothing to draw from", None)
                    continue
                child = rec.child(key, {**rec.data, cfg.into: self._value(drawn, rng)})
                child.meta["drawn"] = [r.id for r in drawn]
                out.count_passed(1)
                await out.emit(child)


class DrawKind(NodeKind[DrawConfig]):
    name = "draw"

    def link(self, config: DrawConfig, main: list[str], resolve: Resolve) -> list[str]:
        config.main = list(main)
        return link_refs(config.parts, resolve)

    def upstream_fields(self, config: DrawConfig, inputs: dict[str, list[str]]) -> list[str] | None:
        return main_fields(config.main, inputs)

    def takes_from(self, raw: Any) -> bool:
        return "count" not in raw

    def configure(self, raw: Any, ctx: CheckContext) -> DrawConfig:
        parts = [
            DrawPart(
                str(p["from"]), ctx.span("parts", i, "from"), int(p.get("k", 1)), p.get("weight")
            )
            for i, p in enumerate(raw["parts"])
        ]
        cfg = DrawConfig(
            into=str(raw.get("into", "drawn")),
            parts=parts,
            count=raw.get("count"),
            fill=bool(raw.get("fill", True)),
            one=bool(raw.get("one", False)),
            seed=int(raw.get("seed", 0)),
            shuffle=bool(raw.get("shuffle", False)),
        )
        if cfg.one and cfg.total_k != 1:
            ctx.error(ctx.key_span("one"), f"'one: true' needs a total k of 1, not {cfg.total_k}")
        return cfg

    def output_fields(self, cfg: DrawConfig, upstream: list[str]) -> list[str]:
        if cfg.count is not None:
            return [cfg.into]
        return [*[f for f in upstream if f != cfg.into], cfg.into]

    def estimate(self, node: Node[DrawConfig], n_in: int | None, est: Estimator) -> Estimate:
        cfg = node.config
        if cfg.count is not None:
            return Estimate(records=cfg.count)
        return Estimate(records=None, exact=False)

    def describe(self, cfg: DrawConfig) -> dict[str, Any]:
        out: dict[str, Any] = {
            "into": cfg.into,
            "parts": [
                {"from": p.node or p.source, "k": p.k, **({"weight": p.weight} if p.weight else {})}
                for p in cfg.parts
            ],
            "fill": cfg.fill,
            "seed": cfg.seed,
        }
        if cfg.count is not None:
            out["count"] = cfg.count
        if cfg.one:
            out["one"] = True
        if cfg.shuffle:
            out["shuffle"] = True
        return out

    def stream_runner(self, node: Node[DrawConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = DrawKind()
