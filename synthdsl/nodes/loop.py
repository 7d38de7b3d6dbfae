"""The ``loop`` node: bounded rounds over a pool of records.

The body is a nested graph whose steps read ``pool``. ``mode: accumulate`` (default)
feeds each round the loop's input plus everything produced so far, and grows the pool
with the round's output, until ``rounds`` are done or ``target`` new records exist
(Self-Instruct's bootstrap). ``mode: chain`` feeds each round the previous round's
output (Evol-Instruct's rounds). ``emit`` says what leaves the loop: ``new`` (records
made by the body; default in accumulate mode), ``all`` (input plus new) or ``last``
(the final round's output; default in chain mode). Records made past ``target`` are
recorded as drops ("loop target reached"). Every body record carries its round.
``carry: true`` (chain mode) lets a round input whose evolution was eliminated go on
to the next round unchanged (Evol-Instruct: "the parent goes on"); outputs know their
round input through the inherited ``loop_parents`` lineage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthdsl.nodes.base import (
    CheckContext,
    Estimate,
    Estimator,
    Nested,
    NodeKind,
    Outbox,
    Resolve,
    Runtime,
    StreamRunner,
    count_references,
    main_fields,
    read_all,
)
from synthdsl.nodes.pool import ROUND_FEEDS, outer_feed
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "LoopConfig"]


@dataclass
class LoopConfig:
    rounds: int
    target: int | None
    mode: str
    emit: str
    output: str | None
    carry: bool = False
    main: list[str] = field(default_factory=list)  # the loop's input (resolved ids)
    outer: dict[str, str] = field(default_factory=dict)  # enclosing node id -> body pool


class _Runner:
    def __init__(self, node: Node[LoopConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        cfg = self.cfg
        buffers = await read_all(inputs)
        count_references(buffers, cfg.main, out)
        initial: list[Record] = [rec for nid in cfg.main for rec in buffers.get(nid, [])]
        out.count_in(len(initial))
        out.count_passed(len(initial))
        outer_roles = {outer_feed(oid): buffers.get(oid, []) for oid in cfg.outer}
        if cfg.emit == "all":
            for rec in initial:
                await out.emit(rec)
        assert self.node.body is not None
        pool = list(initial)
        current = list(initial)
        last_round: list[Record] = []
        made_so_far: list[Record] = []
        made = 0
        rounds_run = 0
        carried_total = 0
        for r in range(1, cfg.rounds + 1):
            feed = pool if cfg.mode == "accumulate" else current
            if not feed:
                break
            rounds_run = r
            roles = {
                "pool": feed,
                "pool_input": initial,
                "pool_new": pool[len(initial) :],
                **outer_roles,
            }
            if cfg.mode == "chain":
                roles["pool_new"] = made_so_far
                if cfg.carry:
                    feed = [self._tagged(rec) for rec in feed]
                    roles["pool"] = feed
            produced = await self.rt.run_subgraph(self.node.body, roles, round_=r)
            last_round = []
            if cfg.mode == "accumulate":
                for rec in produced:
                    if cfg.target is not None and made >= cfg.target:
                        self.rt.discard(self.node.id, rec, "loop target reached")
                        continue
                    made += 1
                    pool.append(rec)
                    last_round.append(rec)
                    if cfg.emit in ("new", "all"):
                        await out.emit(rec)
            else:
                carried: list[Record] = []
                if cfg.carry:
                    roots = {rec.meta.get("loop_parents", {}).get(self.node.id) for rec in produced}
                    carried = [rec for rec in feed if rec.id not in roots]
                    carried_total += len(carried)
                current = produced + carried
                last_round = current
                made_so_far = made_so_far + produced
                made += len(produced)
                if cfg.emit in ("new", "all"):
                    for rec in produced:
                        await out.emit(rec)
            if cfg.target is not None and made >= cfg.target:
                break
        if cfg.emit == "last":
            for rec in last_round:
                await out.emit(rec)
        note: dict[str, Any] = {"rounds_run": rounds_run, "made": made, "target": cfg.target}
        if cfg.carry:
            note["carried"] = carried_total
        self.rt.note(self.node.id, "loop", note)

    def _tagged(self, rec: Record) -> Record:
        """A copy of a round input that its descendants will name as their root."""
        lineage = dict(rec.meta.get("loop_parents", {}))
        lineage[self.node.id] = rec.id
        return Record(
            rec.id, rec.data, rec.parents, rec.node, {**rec.meta, "loop_parents": lineage}
        )


class LoopKind(NodeKind[LoopConfig]):
    name = "loop"
    writes_content = True

    def nested(self, config: LoopConfig) -> Nested:
        return Nested(
            steps=("steps",), feeds=ROUND_FEEDS, output=config.output, output_key=("output",)
        )

    def bind_nested(self, config: LoopConfig, outer: dict[str, str]) -> None:
        config.outer = dict(outer)

    def link(self, config: LoopConfig, main: list[str], resolve: Resolve) -> list[str]:
        config.main = list(main)
        return []

    def upstream_fields(self, config: LoopConfig, inputs: dict[str, list[str]]) -> list[str] | None:
        return main_fields(config.main, inputs)

    def configure(self, raw: Any, ctx: CheckContext) -> LoopConfig:
        mode = str(raw.get("mode", "accumulate"))
        emit = str(raw.get("emit", "new" if mode == "accumulate" else "last"))
        return LoopConfig(
            rounds=int(raw["rounds"]),
            target=raw.get("target"),
            mode=mode,
            emit=emit,
            output=raw.get("output"),
            carry=bool(raw.get("carry", False)),
        )

    def estimate(self, node: Node[LoopConfig], n_in: int | None, est: Estimator) -> Estimate:
        """Body calls summed over the rounds; the pool grows (accumulate) or is replaced
        by each round's output (chain)."""
        cfg = node.config
        if node.body is None:
            return Estimate(records=cfg.target, exact=False)
        body_calls: int | None = 0
        pool_size = n_in
        for _ in range(cfg.rounds):
            made, calls = est.body(node.body, pool_size)
            body_calls = None if body_calls is None or calls is None else body_calls + calls
            if cfg.mode == "accumulate":
                if pool_size is not None and made is not None:
                    grown = pool_size + made
                    cap = (n_in or 0) + cfg.target if cfg.target else grown
                    pool_size = min(grown, cap)
                elif cfg.target is not None and n_in is not None:
                    pool_size = n_in + cfg.target
                else:
                    pool_size = None
            else:
                pool_size = made
        return Estimate(
            records=cfg.target if cfg.mode == "accumulate" else pool_size,
            calls=body_calls,
            exact=False,
            note=f"{cfg.rounds} rounds, body calls summed over rounds",
        )

    def describe(self, cfg: LoopConfig) -> dict[str, Any]:
        out = {"rounds": cfg.rounds, "target": cfg.target, "mode": cfg.mode, "emit": cfg.emit}
        if cfg.carry:
            out["carry"] = True
        return out

    def stream_runner(self, node: Node[LoopConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = LoopKind()
