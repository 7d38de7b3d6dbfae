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
    NodeKind,
    Outbox,
    Runtime,
    StreamRunner,
    count_references,
    read_all,
)
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
    def __init__(self, node: Node, rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg: LoopConfig = node.config

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        cfg = self.cfg
        buffers = await read_all(inputs)
        count_references(buffers, cfg.main, out)
        initial: list[Record] = [rec for nid in cfg.main for rec in buffers.get(nid, [])]
        out.count_in(len(initial))
        out.count_passed(len(initial))
        outer_roles = {f"outer:{oid}": buffers.get(oid, []) for oid in cfg.outer}
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


class LoopKind(NodeKind):
    name = "loop"

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

    def estimate(self, config: Any, n_in: int | None) -> Estimate:
        cfg: LoopConfig = config
        return Estimate(records=cfg.target, exact=False)

    def describe(self, config: Any) -> dict[str, Any]:
        cfg: LoopConfig = config
        out = {"rounds": cfg.rounds, "target": cfg.target, "mode": cfg.mode, "emit": cfg.emit}
        if cfg.carry:
            out["carry"] = True
        return out

    def stream_runner(self, node: Node, rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = LoopKind()
