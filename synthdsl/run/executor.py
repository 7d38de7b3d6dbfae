"""Run a graph: one asyncio task per node, records streaming through bounded queues.

Input: a ``Graph`` and a ``RunContext``. Output: the output node's records, handed to a
consumer as they come (the sink) or collected (a loop round). Memory stays bounded:
every edge is a queue of at most ``QUEUE_SIZE`` records and map nodes keep at most a
window of records in flight. Nodes that read several inputs (a list ``from:``, a mix)
drain them concurrently, so a fan-out can never deadlock.

Map nodes keep input order in their output: calls run concurrently and finish in any
order (a hung call holds back only its own record, for as long as its timeout and
retries allow), and a reorder buffer (``run/reorder.py``, spilling to disk past a
bound) hands results on in arrival order, which makes dedup decisions and datasets
deterministic.
Every input ends as passed, dropped (with reason) or failed (with error); an exception
a node did not expect becomes a recorded failure of that record, never a lost row.

A ``quick`` map node (its runner never waits: a filter, an exact dedup, a ``set``) whose
one input is read by it alone, from a node that hands records on one at a time (a
source, or any map node), runs inline: its producer's channel hands each record
straight to it, in the producer's task, with no queue between them and no task switch
(``_Inline``). Order, accounting and rejects are those of the queued path; the
producer lets other tasks run every ``QUEUE_SIZE`` records, as a full queue would make
it. For a source → filter → dedup → sink run this removes two of the three queue hops
per record.

Blocks: a source hands its records on ``BLOCK`` at a time (``Outbox.emit_block``), and
along an inline chain they stay together: each inline node takes a whole block in one
pass (``_Inline.push_block``; a runner with a synchronous ``decide(record)`` is called
without a coroutine per record, and a record it lets through unchanged costs no
``Emit``), writes the block's rejects and flushes them once, then hands the block's
survivors on. A queue behind a block channel holds blocks (at most ``QUEUE_SIZE //
BLOCK`` of them, so the same number of records), and the sink takes them a block at a
time (``RecordStream.blocks``). Order within and across blocks is the records' order;
what changes is only how the filter's and the dedup's rejects lines interleave.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, Protocol

from synthdsl.errors import RunError
from synthdsl.ir import Case, Graph, Node
from synthdsl.lang.expr import ExpressionRuntimeError
from synthdsl.nodes import node_kind
from synthdsl.nodes.accounting import NodeStats
from synthdsl.nodes.base import (
    BLOCK,
    Drop,
    Emit,
    Fail,
    MapRunner,
    Outbox,
    Outcome,
    StreamRunner,
    concat_streams,
)
from synthdsl.records import Record
from synthdsl.run.context import RunContext
from synthdsl.run.reorder import ReorderBuffer
from synthdsl.run.trace import RecordEvent

__all__ = [
    "QUEUE_SIZE",
    "REORDER_MEMORY",
    "REORDER_WINDOW",
    "ExecContext",
    "MapDispatch",
    "RecordStream",
    "collect_subgraph",
    "run_graph",
]

QUEUE_SIZE = 256
# A map node takes in at most this many records it has not handed on yet (in flight or
# finished and waiting for an earlier one); of the finished ones, at most
# ``REORDER_MEMORY`` stay in memory, the others wait in a temporary file.
REORDER_WINDOW = 16384
REORDER_MEMORY = 1024
_END: Any = object()


class _Channel:
    """A node's output, fanned out to one bounded queue per consumer, or handed to the
    one node that runs inline behind it (``_Inline``)."""

    def __init__(self) -> None:
        self.queues: list[asyncio.Queue[Any]] = []
        self.inline: _Inline | None = None
        self.blocks = False  # records come in blocks: a queue item is a list of them
        self._handed = 0

    def subscribe(self) -> asyncio.Queue[Any]:
        size = max(1, QUEUE_SIZE // BLOCK) if self.blocks else QUEUE_SIZE
        q: asyncio.Queue[Any] = asyncio.Queue(maxsize=size)
        self.queues.append(q)
        return q

    async def put_block(self, recs: list[Record]) -> None:
        """``put`` for each of ``recs``, in one step."""
        if not recs:
            return
        inline = self.inline
        if inline is not None:
            self._handed += len(recs)
            if self._handed >= QUEUE_SIZE:
                self._handed = 0
                await asyncio.sleep(0)  # where a full queue would let other tasks run
            await inline.push_block(recs)
            return
        for q in self.queues:
            await q.put(recs)

    async def put(self, rec: Record) -> None:
        inline = self.inline
        if inline is not None:
            self._handed += 1
            if self._handed % QUEUE_SIZE == 0:
                await asyncio.sleep(0)  # where a full queue would let other tasks run
            await inline.push(rec)
            return
        for q in self.queues:
            await q.put(rec)

    async def close(self) -> None:
        if self.inline is not None:
            self.inline.ended.set()
        for q in self.queues:
            await q.put(_END)


async def _iterate(q: asyncio.Queue[Any]) -> AsyncIterator[Record]:
    while True:
        item = await q.get()
        if item is _END:
            return
        if type(item) is list:
            for rec in item:
                yield rec
        else:
            yield item


async def _iterate_blocks(q: asyncio.Queue[Any]) -> AsyncIterator[list[Record]]:
    while True:
        item = await q.get()
        if item is _END:
            return
        yield item if type(item) is list else [item]


class RecordStream:
    """A queue's records, one at a time (``async for``), or a block at a time
    (``blocks()``: lists of records in the same order) for a consumer that can take
    them so."""

    def __init__(self, q: asyncio.Queue[Any]) -> None:
        self._q = q
        self._records: AsyncIterator[Record] | None = None

    def __aiter__(self) -> RecordStream:
        return self

    async def __anext__(self) -> Record:
        if self._records is None:
            self._records = _iterate(self._q)
        return await self._records.__anext__()

    def blocks(self) -> AsyncIterator[list[Record]]:
        return _iterate_blocks(self._q)


def _fail_reason(exc: BaseException) -> Fail:
    return Fail("internal", f"{type(exc).__name__}: {exc}")


class _Reporter:
    """Accounting and rejects for one node."""

    def __init__(self, rt: ExecContext, node: Node[Any], channel: _Channel) -> None:
        self.rt = rt
        self.node = node
        self.channel = channel
        self.stats: NodeStats = rt.node_stats(node.id, node.kind)
        self.stats.kind = node.kind
        # Records handed in by the enclosing runner keep the round and scope they have.
        self.fed = node_kind(node.kind).feed(node.config) is not None

    async def emit(self, rec: Record) -> None:
        if not self.fed:
            if self.rt.round is not None:
                rec.meta.setdefault("round", self.rt.round)
            if self.rt.scope:
                rec.meta.setdefault("scope", self.rt.scope)
        self.stats.out += 1
        self.rt.tally.emitted(self.node.id, rec)
        if self.rt.on_record is not None:
            self.rt.on_record(RecordEvent(self.node.id, "passed", rec))
        await self.channel.put(rec)

    async def emit_block(self, recs: list[Record]) -> None:
        """``emit`` for each of ``recs``, handed on as one block."""
        if not recs:
            return
        rt = self.rt
        if not self.fed and (rt.round is not None or rt.scope):
            for rec in recs:
                if rt.round is not None:
                    rec.meta.setdefault("round", rt.round)
                if rt.scope:
                    rec.meta.setdefault("scope", rt.scope)
        self.stats.out += len(recs)
        tally, nid, on_record = rt.tally, self.node.id, rt.on_record
        for rec in recs:
            if "target" in rec.meta:  # what ``GroupTally`` counts
                tally.emitted(nid, rec)
            if on_record is not None:
                on_record(RecordEvent(nid, "passed", rec))
        await self.channel.put_block(recs)

    def drop(
        self, rec: Record, reason: str, detail: dict[str, Any] | None, *, flush: bool = True
    ) -> None:
        self.stats.dropped[reason] += 1
        if "target" in rec.meta:  # what ``GroupTally`` counts
            self.rt.tally.dropped(rec, reason)
        if self.rt.on_record is not None:
            self.rt.on_record(RecordEvent(self.node.id, "dropped", rec, reason))
        if self.rt.rejects is not None:
            self.rt.rejects.write(
                self.node.id,
                "dropped",
                reason,
                rec,
                detail=detail,
                round_=self.rt.round,
                flush=flush,
            )

    def fail(
        self,
        rec: Record,
        kind: str,
        message: str,
        detail: dict[str, Any] | None = None,
        *,
        flush: bool = True,
    ) -> None:
        self.stats.failed[kind] += 1
        self.rt.tally.failed(rec, kind)
        self.rt.failed(self.node.id, kind, message)
        if self.rt.on_record is not None:
            self.rt.on_record(RecordEvent(self.node.id, "failed", rec, kind, message))
        if self.rt.rejects is not None:
            self.rt.rejects.write(
                self.node.id,
                "failed",
                kind,
                rec,
                error=message,
                detail=detail,
                round_=self.rt.round,
                flush=flush,
            )

    def count_in(self, n: int) -> None:
        self.stats.records_in += n

    def count_passed(self, n: int) -> None:
        self.stats.passed += n

    def note_reorder(self, buffer: ReorderBuffer) -> None:
        """Note, for the manifest, how far records got ahead of a slow one."""
        if buffer.spilled_total:
            self.rt.note(self.node.id, "reorder_spilled", buffer.spilled_total)

    def outbox(self) -> Outbox:
        return Outbox(
            self.emit, self.drop, self.fail, self.count_in, self.count_passed, self.emit_block
        )

    def settle_into(self, rec: Record, outcome: Outcome, out: list[Record]) -> None:
        """``settle`` for a block: the records to hand on go to ``out``; rejects are
        written but not flushed (the block's caller flushes them once)."""
        if isinstance(outcome, Emit):
            if outcome.records:
                self.stats.passed += 1
                out.extend(outcome.records)
            else:
                self.drop(rec, "no output", None, flush=False)
        elif isinstance(outcome, Drop):
            self.drop(rec, outcome.reason, outcome.detail, flush=False)
        else:
            self.fail(rec, outcome.kind, outcome.message, outcome.detail, flush=False)

    def flush_rejects(self) -> None:
        if self.rt.rejects is not None:
            self.rt.rejects.flush()

    async def settle(self, rec: Record, outcome: Outcome) -> None:
        if isinstance(outcome, Emit):
            if outcome.records:
                self.stats.passed += 1
                for child in outcome.records:
                    await self.emit(child)
            else:
                self.drop(rec, "no output", None)
        elif isinstance(outcome, Drop):
            self.drop(rec, outcome.reason, outcome.detail)
        else:
            self.fail(rec, outcome.kind, outcome.message, outcome.detail)


class _Gate:
    """Which records a node processes: those its ``when:`` accepts and, for a case of a
    ``switch:``, those the switch chose it for (``ir.Case``); the others pass by."""

    def __init__(self, node: Node[Any], rep: _Reporter) -> None:
        self.when = node.when
        self.case = node.case
        self.rep = rep
        self.open = self.when is None and self.case is None  # every record is processed

    def admit(self, rec: Record) -> Record | Outcome:
        """The record to process (with the switch's choice in its metadata), or the
        outcome of a record that passes by or whose condition failed."""
        if self.when is not None:
            try:
                if not self.when.evaluate(rec.data):
                    return self._bypass(rec)
            except ExpressionRuntimeError as exc:
                return Fail("when_error", str(exc))
        case = self.case
        if case is None:
            return rec
        chosen = rec.meta.get("switch", {})
        if case.switch not in chosen:
            try:
                index = _choose(case, rec)
            except ExpressionRuntimeError as exc:
                return Fail("when_error", str(exc))
            rec = replace(rec, meta={**rec.meta, "switch": {**chosen, case.switch: index}})
        if rec.meta["switch"][case.switch] != case.index:
            return self._bypass(rec)
        return rec

    def _bypass(self, rec: Record) -> Outcome:
        self.rep.stats.bypassed += 1
        return Emit([self._leave(rec)])

    def _leave(self, rec: Record) -> Record:
        """The record as it goes on: the last case removes the switch's choice."""
        if self.case is None or not self.case.last or "switch" not in rec.meta:
            return rec
        rest = {k: v for k, v in rec.meta["switch"].items() if k != self.case.switch}
        meta = {k: v for k, v in rec.meta.items() if k != "switch"}
        return replace(rec, meta={**meta, "switch": rest} if rest else meta)

    def settled(self, outcome: Outcome) -> Outcome:
        if self.case is not None and self.case.last and isinstance(outcome, Emit):
            return Emit([self._leave(r) for r in outcome.records])
        return outcome


class _Inline:
    """A quick map node run inside its producer's task: ``push`` is one pass of
    ``_run_map``'s loop at concurrency 1 for one record; ``ended`` is set when the
    producer closes its channel."""

    def __init__(self, runner: MapRunner, rep: _Reporter) -> None:
        self.runner = runner
        self.rep = rep
        self.gate = _Gate(rep.node, rep)
        self.ended = asyncio.Event()
        # A synchronous ``process``: the outcome, or None for "passes unchanged".
        self.decide: Callable[[Record], Outcome | None] | None = getattr(runner, "decide", None)

    async def push(self, rec: Record) -> None:
        rep = self.rep
        rep.stats.records_in += 1
        admitted = self.gate.admit(rec)
        if isinstance(admitted, Record):
            outcome = self.gate.settled(await _processed(self.runner, admitted))
        else:
            outcome = admitted
        await rep.settle(rec, outcome)

    async def push_block(self, recs: list[Record]) -> None:
        """``push`` for each of ``recs``: the survivors go on as one block, the rejects
        are flushed once, before they do."""
        rep, gate, decide = self.rep, self.gate, self.decide
        rep.stats.records_in += len(recs)
        out: list[Record] = []
        outcome: Outcome | None
        if gate.open and decide is not None:  # a filter, an exact dedup: the tightest loop
            passed = 0
            for rec in recs:
                try:
                    outcome = decide(rec)
                except (asyncio.CancelledError, RunError):
                    raise
                except Exception as exc:  # a bug in a node must not lose the record
                    outcome = _fail_reason(exc)
                if outcome is None:
                    passed += 1
                    out.append(rec)
                else:
                    rep.settle_into(rec, outcome, out)
            rep.stats.passed += passed
            rep.flush_rejects()
            await rep.emit_block(out)
            return
        for rec in recs:
            admitted = rec if gate.open else gate.admit(rec)
            if isinstance(admitted, Record):
                try:
                    if decide is not None:
                        outcome = decide(admitted)
                        if outcome is None:
                            if gate.open:  # the common case: no Emit to make and read
                                rep.stats.passed += 1
                                out.append(admitted)
                                continue
                            outcome = Emit([admitted])
                    else:
                        outcome = await self.runner.process(admitted)
                    outcome = gate.settled(outcome)
                except (asyncio.CancelledError, RunError):
                    raise
                except Exception as exc:  # a bug in a node must not lose the record
                    outcome = _fail_reason(exc)
            else:
                outcome = admitted
            rep.settle_into(rec, outcome, out)
        rep.flush_rejects()
        await rep.emit_block(out)


def _choose(case: Case, rec: Record) -> int:
    """The index of the first case whose condition holds (-1: none, the record passes)."""
    for index, cond in enumerate(case.conditions):
        if cond is None or cond.evaluate(rec.data):
            return index
    return -1


async def _processed(runner: MapRunner, admitted: Record) -> Outcome:
    """``runner``'s outcome for an admitted record, told to a ``Tallying`` runner's
    ``observe``; an exception a node did not expect becomes the record's failure."""
    try:
        outcome = await runner.process(admitted)
        observe = getattr(runner, "observe", None)
        if observe is not None:
            observe(admitted, outcome)
    except (asyncio.CancelledError, RunError):
        raise  # cancelled, or the run cannot go on (configuration, provider)
    except Exception as exc:  # a bug in a node must not lose the record
        return _fail_reason(exc)
    return outcome


async def _run_map(runner: MapRunner, inputs: AsyncIterator[Record], rep: _Reporter) -> None:
    gate = _Gate(rep.node, rep)

    async def process(admitted: Record) -> Outcome:
        return gate.settled(await _processed(runner, admitted))

    concurrency = max(1, int(getattr(runner, "concurrency", 1)))
    if concurrency == 1:
        async for rec in inputs:
            rep.count_in(1)
            admitted = gate.admit(rec)
            outcome = await process(admitted) if isinstance(admitted, Record) else admitted
            await rep.settle(rec, outcome)
        return

    # How far ahead of the oldest record not yet handed on the node may take records:
    # twice its concurrency, as far as REORDER_WINDOW while that oldest record is still
    # being worked on (a slow call), but not while the consumer is busy handing records
    # on (the next node is slow: working further ahead would only pile records up, and
    # waste calls a loop or a mix that stops early never needs).
    near = concurrency * 2
    far = max(near, REORDER_WINDOW)
    buffer = ReorderBuffer(REORDER_MEMORY)
    sem = asyncio.Semaphore(concurrency)
    wake = asyncio.Event()  # a record finished, the input ended, or something failed
    room = asyncio.Event()  # the producer may look again whether it can take a record
    running: set[asyncio.Task[None]] = set()
    stopped: list[BaseException] = []  # a RunError: the run cannot go on
    taken = settled = 0
    ended = False
    waiting_for_oldest = False

    def may_take() -> bool:
        ahead = taken - settled
        return ahead < near or (waiting_for_oldest and ahead < far)

    async def work(seq: int, rec: Record, admitted: Record) -> None:
        try:
            outcome = await process(admitted)
        except RunError as exc:
            stopped.append(exc)
            wake.set()
            return
        finally:
            sem.release()
        buffer.put(seq, (rec, outcome))
        wake.set()

    async def produce() -> None:
        nonlocal taken, ended
        try:
            async for rec in inputs:
                rep.count_in(1)
                while not may_take():
                    room.clear()
                    await room.wait()
                seq, taken = taken, taken + 1
                admitted = gate.admit(rec)
                if not isinstance(admitted, Record):
                    buffer.put(seq, (rec, admitted))
                    wake.set()
                    continue
                await sem.acquire()
                task = asyncio.create_task(work(seq, rec, admitted))
                running.add(task)
                task.add_done_callback(running.discard)
            ended = True
        finally:
            wake.set()

    producer = asyncio.create_task(produce())
    try:
        while True:
            ready = buffer.pop_ready()
            for rec, outcome in ready:
                await rep.settle(rec, outcome)
                settled += 1
                room.set()
            if stopped:
                raise stopped[0]
            if producer.done() and not ended:
                await producer  # it raised (or was cancelled): so does this node
            if ended and buffer.next_seq == taken:
                break
            if not ready:
                wake.clear()
                waiting_for_oldest = True
                room.set()
                await wake.wait()
                waiting_for_oldest = False
        await producer
    finally:
        if not producer.done():
            producer.cancel()
        for t in list(running):
            t.cancel()
        buffer.close()
        rep.note_reorder(buffer)


def _map_runner(node: Node[Any], rt: ExecContext) -> MapRunner | None:
    """The node's map runner; under a cluster (``--executor ray``), the dispatching one
    for the kinds it ships to workers."""
    mapper = node_kind(node.kind).map_runner(node, rt)
    if mapper is not None and rt.dispatch is not None:
        mapper = rt.dispatch.runner(node, mapper, rt) or mapper
    return mapper


async def run_graph(
    rt: ExecContext,
    graph: Graph,
    consume: Callable[[AsyncIterator[Record]], Coroutine[Any, Any, None]],
) -> None:
    """Run every node of ``graph``; ``consume`` receives the output node's records."""
    channels = {nid: _Channel() for nid in graph.nodes}
    mappers = {nid: _map_runner(n, rt) for nid, n in graph.nodes.items()}
    streamers = {
        nid: node_kind(n.kind).stream_runner(n, rt)
        for nid, n in graph.nodes.items()
        if mappers[nid] is None
    }
    reporters = {nid: _Reporter(rt, n, channels[nid]) for nid, n in graph.nodes.items()}
    inline: dict[str, _Inline] = {}
    for nid in _inline_nodes(graph, mappers, streamers):
        runner = mappers[nid]
        assert runner is not None
        inline[nid] = channels[graph.nodes[nid].inputs[0]].inline = _Inline(runner, reporters[nid])
    for nid in _block_channels(graph, streamers, inline):
        channels[nid].blocks = True
    inbound: dict[str, list[asyncio.Queue[Any]]] = {nid: [] for nid in graph.nodes}
    for node in graph.nodes.values():
        if node.id in inline:
            continue
        for src in dict.fromkeys(node.inputs):  # one subscription per distinct input
            inbound[node.id].append(channels[src].subscribe())
    out_queue = channels[graph.output].subscribe()

    async def run_node(node: Node[Any]) -> None:
        rep = reporters[node.id]
        rep.stats.start()
        try:
            mapper = mappers[node.id]
            if mapper is not None:
                if node.id in inline:
                    await inline[node.id].ended.wait()  # the producer ran every record in
                else:
                    merged = concat_streams([_iterate(q) for q in inbound[node.id]])
                    await _run_map(mapper, merged, rep)
                finish = getattr(mapper, "finish", None)  # a ``Finishing`` runner
                if finish is not None:
                    finish()
                return
            streamer = streamers[node.id]
            assert streamer is not None, f"node kind {node.kind} has no runner"
            streams = {
                src: _iterate(q)
                for src, q in zip(dict.fromkeys(node.inputs), inbound[node.id], strict=True)
            }
            await streamer.run(streams, rep.outbox())
        finally:
            rep.stats.finish()
            await channels[node.id].close()

    tasks = [asyncio.create_task(run_node(n), name=f"node:{n.id}") for n in graph.nodes.values()]
    consumer: asyncio.Task[None] = asyncio.create_task(consume(RecordStream(out_queue)))
    try:
        await asyncio.gather(*tasks, consumer)
    finally:
        for t in [*tasks, consumer]:
            if not t.done():
                t.cancel()
        await asyncio.gather(*tasks, consumer, return_exceptions=True)


def _inline_nodes(
    graph: Graph,
    mappers: dict[str, MapRunner | None],
    streamers: dict[str, StreamRunner | None],
) -> set[str]:
    """The nodes that run inline (see the module docstring): a quick map runner at
    concurrency 1, its one input read by nothing else (nor by the sink), and that input
    handing records on one at a time (a map node's settling loop, or a stream runner
    saying ``serial = True``), so records reach it in order and never two at once."""
    readers: dict[str, int] = {nid: 0 for nid in graph.nodes}
    readers[graph.output] += 1
    for node in graph.nodes.values():
        for src in dict.fromkeys(node.inputs):
            readers[src] += 1
    out: set[str] = set()
    for nid, node in graph.nodes.items():
        runner = mappers[nid]
        if runner is None or not getattr(runner, "quick", False):
            continue
        if int(getattr(runner, "concurrency", 1)) != 1 or len(set(node.inputs)) != 1:
            continue
        src = node.inputs[0]
        if readers[src] != 1:
            continue
        if mappers[src] is not None or getattr(streamers.get(src), "serial", False):
            out.add(nid)
    return out


def _block_channels(
    graph: Graph, streamers: dict[str, StreamRunner | None], inline: dict[str, _Inline]
) -> set[str]:
    """The nodes whose records go on in blocks: a stream runner that says ``blocks =
    True`` (a source: it emits through ``Outbox.emit_block``), and an inline node fed
    by one of these (``_Inline.push_block`` hands its survivors on as a block)."""
    out = {nid for nid, s in streamers.items() if getattr(s, "blocks", False)}
    grew = True
    while grew:
        grew = False
        for nid in inline:
            if nid not in out and graph.nodes[nid].inputs[0] in out:
                out.add(nid)
                grew = True
    return out


async def collect_subgraph(rt: ExecContext, graph: Graph) -> list[Record]:
    """Run a sub-graph once and collect its output (a loop round, a mix refill)."""
    out: list[Record] = []

    async def consume(it: AsyncIterator[Record]) -> None:
        async for rec in it:
            out.append(rec)

    await run_graph(rt, graph, consume)
    return out


class MapDispatch(Protocol):
    """Runs a map node's records somewhere else (the Ray executor's workers)."""

    def runner(self, node: Node[Any], local: MapRunner, rt: ExecContext) -> MapRunner | None:
        """A runner that sends ``node``'s records away and hands back their outcomes
        (``local`` is the node's own runner, here; None: run them here)."""
        ...


@dataclass
class ExecContext(RunContext):
    """The run context nodes get from this executor: it can run sub-graphs, and hand a
    map node's records to a ``MapDispatch`` (None: every node runs in this process)."""

    dispatch: MapDispatch | None = None

    async def run_subgraph(
        self,
        graph: Graph,
        feed: dict[str, list[Record]],
        round_: int | None,
        scope: str | None = None,
    ) -> list[Record]:
        """Run ``graph`` once over ``feed`` (a loop round, or a mix refill)."""
        scope = self.scope if scope is None else scope
        return await collect_subgraph(replace(self, round=round_, scope=scope, feeds=feed), graph)
