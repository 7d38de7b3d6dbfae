"""Map nodes finish records out of order and still hand them on in input order.

Before: a map node kept at most twice its concurrency in flight and waited for the
oldest record, so one hung call stalled every other record of the step (head-of-line
blocking). Now a record that is slow holds back only itself; the reorder buffer puts
results back in order, spilling to disk past its memory bound.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from helpers import read_jsonl, run_completed

from synthdsl.compile import compile_recipe
from synthdsl.errors import RunError
from synthdsl.nodes.base import Emit, Outcome
from synthdsl.records import Record
from synthdsl.run import executor
from synthdsl.run.executor import ExecContext, _Channel, _iterate, _Reporter, _run_map
from synthdsl.run.reorder import ReorderBuffer
from synthdsl.testing.fake_client import FakeClient
from synthdsl.testing.fake_openai import FakeOpenAIServer


def test_reorder_buffer_hands_items_back_in_sequence_and_spills() -> None:
    buf = ReorderBuffer(memory_items=3)
    order = [5, 3, 9, 1, 2, 8, 7, 6, 4]
    got: list[Any] = []
    for seq in order:
        buf.put(seq, {"seq": seq, "payload": "x" * seq})
        got += buf.pop_ready()
    assert got == []  # 0 has not come yet
    assert buf.spilled_total > 0 and len(buf) == 9
    buf.put(0, {"seq": 0, "payload": ""})
    got = buf.pop_ready()
    assert [g["seq"] for g in got] == list(range(10))
    assert got[7]["payload"] == "x" * 7  # a spilled item comes back whole
    assert len(buf) == 0 and buf.next_seq == 10
    with pytest.raises(ValueError):
        buf.put(4, {})
    buf.close()


class _HeldBack:
    """A runner whose first record finishes only after every other record has."""

    concurrency = 4

    def __init__(self, n: int) -> None:
        self.n = n
        self.done = 0
        self.others_done = asyncio.Event()

    async def process(self, record: Record) -> Outcome:
        if record.data["i"] == 0:
            await self.others_done.wait()
        else:
            await asyncio.sleep(0.001 * (record.data["i"] % 5))  # finish out of order
            self.done += 1
            if self.done == self.n - 1:
                self.others_done.set()
        return Emit([record.child("slow", {**record.data, "seen": True})])


def _context(tmp_path: Path) -> ExecContext:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: r\nsources:\n  s: {records: [{i: 1}]}\n"
        "steps:\n  - id: keep\n    filter: 'i == 1'\n",
        encoding="utf-8",
    )
    return ExecContext(
        compiled=compile_recipe(recipe), client=FakeClient(), cache=None, rejects=None
    )


async def _feed(records: list[Record]) -> Any:
    for rec in records:
        yield rec


@pytest.mark.parametrize("memory", [1024, 2], ids=["in-memory", "spilling"])
async def test_a_held_back_record_does_not_stall_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory: int
) -> None:
    monkeypatch.setattr(executor, "REORDER_MEMORY", memory)
    n = 60  # far more than twice the concurrency: the old window deadlocked here
    rt = _context(tmp_path)
    node = rt.compiled.graph.nodes["keep"]
    channel = _Channel()
    out = channel.subscribe()
    rep = _Reporter(rt, node, channel)
    runner = _HeldBack(n)
    records = [Record(id=f"r{i}", data={"i": i}) for i in range(n)]

    async def drain() -> list[Record]:
        return [r async for r in _iterate(out)]

    reader = asyncio.create_task(drain())
    await asyncio.wait_for(_run_map(runner, _feed(records), rep), timeout=60)
    await channel.close()
    emitted = await reader
    assert [r.data["i"] for r in emitted] == list(range(n))  # input order restored
    assert rep.stats.records_in == n and rep.stats.passed == n and rep.stats.out == n
    if memory == 2:
        assert rt.notes["keep"]["reorder_spilled"] > 0


async def test_a_run_error_in_one_record_stops_the_node(tmp_path: Path) -> None:
    rt = _context(tmp_path)
    node = rt.compiled.graph.nodes["keep"]
    channel = _Channel()
    channel.subscribe()

    class _Fatal:
        concurrency = 3

        async def process(self, record: Record) -> Outcome:
            if record.data["i"] == 7:
                raise RunError("provider gone")
            await asyncio.sleep(0)
            return Emit([record])

    records = [Record(id=f"r{i}", data={"i": i}) for i in range(20)]
    with pytest.raises(RunError, match="provider gone"):
        await asyncio.wait_for(_run_map(_Fatal(), _feed(records), _Reporter(rt, node, channel)), 30)


def test_a_hung_call_costs_its_record_only_and_order_holds(
    server: FakeOpenAIServer, project: Path
) -> None:
    """One call hangs past its timeout and is retried; every record still arrives, in
    order, with the same ids as a run without the hang."""
    n = 40
    rows = ", ".join(
        f'{{q: "item {i}{" [[fault:hang seconds=30 times=1]]" if i == 3 else ""}"}}'
        for i in range(n)
    )
    text = f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", concurrency: 4, timeout: 2,
         max_retries: 2}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""
    recipe = project / "r.yaml"
    recipe.write_text(text, encoding="utf-8")
    data, rejects, m = run_completed(recipe, project / "out")
    assert [r["q"].split(" [[")[0] for r in data] == [f"item {i}" for i in range(n)]
    assert rejects == [] and m["nodes"]["g"]["retries"] == 1
    again, _, _ = run_completed(recipe, project / "again", "--fresh")
    assert [r["_provenance"] for r in again] == [r["_provenance"] for r in data]
    assert read_jsonl(project / "again" / "dataset.jsonl") == data


async def test_a_slow_next_node_keeps_the_node_from_working_far_ahead(tmp_path: Path) -> None:
    """Out-of-order completion must not turn into running ahead of a slow consumer: a
    loop or mix that stops early would pay for calls it never reads."""
    rt = _context(tmp_path)
    node = rt.compiled.graph.nodes["keep"]
    channel = _Channel()
    out = channel.subscribe()  # nobody reads it: the next node is stuck
    rep = _Reporter(rt, node, channel)

    class _Fast:
        concurrency = 4

        async def process(self, record: Record) -> Outcome:
            await asyncio.sleep(0)
            return Emit([record])

    records = [Record(id=f"r{i}", data={"i": i}) for i in range(3000)]
    task = asyncio.create_task(_run_map(_Fast(), _feed(records), rep))
    seen = -1
    while rep.stats.records_in != seen:  # until the node has stopped taking records
        seen = rep.stats.records_in
        await asyncio.sleep(0.05)
    assert out.full() and rep.stats.out == out.maxsize + 1  # one more waits to go in
    assert rep.stats.records_in <= rep.stats.out + 2 * _Fast.concurrency + 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
