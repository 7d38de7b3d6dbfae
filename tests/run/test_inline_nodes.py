"""Quick map nodes run inline, in the task of the node feeding them.

The executor hands a source's records straight to a filter, a ``set`` or an exact
dedup fed by it alone (no queue between them); these tests pin down when it does, and
that the inline path keeps what the queued path guarantees: order, accounting, rejects,
recorded failures, and other tasks getting to run while a long chain works.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_completed

from synthdsl.compile import compile_recipe
from synthdsl.ir import CompiledRecipe
from synthdsl.nodes import node_kind
from synthdsl.nodes.base import Outcome
from synthdsl.records import Record
from synthdsl.run.executor import (
    ExecContext,
    _Channel,
    _Inline,
    _inline_nodes,
    _Reporter,
    run_graph,
)
from synthdsl.testing.fake_client import FakeClient

CHAIN = """
synthdsl: 1
name: chain
sources:
  s: {{records: [{rows}]}}
steps:
  - id: keep
    filter: "i % 3 != 0"
  - id: tag
    set: {{half: "{{{{ i // 2 }}}}"}}
    when: "i % 2 == 0"
  - id: unique
    dedup: {{field: k}}
{extra}
"""


def _compile(tmp_path: Path, n: int, extra: str = "") -> CompiledRecipe:
    rows = ", ".join(f"{{i: {i}, k: 'k{i % 50}'}}" for i in range(n))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(CHAIN.format(rows=rows, extra=extra), encoding="utf-8")
    return compile_recipe(recipe)


def _inline_of(compiled: CompiledRecipe) -> set[str]:
    rt = ExecContext(compiled=compiled, client=FakeClient(), cache=None, rejects=None)
    graph = compiled.graph
    mappers = {nid: node_kind(n.kind).map_runner(n, rt) for nid, n in graph.nodes.items()}
    streamers = {
        nid: node_kind(n.kind).stream_runner(n, rt)
        for nid, n in graph.nodes.items()
        if mappers[nid] is None
    }
    return _inline_nodes(graph, mappers, streamers)


def test_a_chain_fed_by_a_source_runs_inline_and_a_fan_out_does_not(tmp_path: Path) -> None:
    assert _inline_of(_compile(tmp_path, 5)) == {"keep", "tag", "unique"}
    # A second reader of `tag` puts a queue back in front of `unique` and `other`.
    fan_out = (
        "  - id: other\n    filter: 'i > 1'\n    from: tag\n  - id: both\n"
        "    dedup: {field: k}\n    from: [unique, other]\n"
    )
    assert _inline_of(_compile(tmp_path, 5, fan_out)) == {"keep", "tag"}


def test_inline_chain_keeps_order_accounting_and_rejects(tmp_path: Path) -> None:
    n = 600
    _compile(tmp_path, n)
    data, rejects, manifest = run_completed(tmp_path / "r.yaml", tmp_path / "out")
    kept = [i for i in range(n) if i % 3]
    first: dict[int, int] = {}
    for i in kept:
        first.setdefault(i % 50, i)
    assert [r["i"] for r in data] == sorted(first.values())
    assert [r["half"] for r in data if r["i"] % 2 == 0] == [
        i // 2 for i in sorted(first.values()) if i % 2 == 0
    ]
    nodes = manifest["nodes"]
    assert nodes["keep"]["in"] == n and nodes["keep"]["out"] == len(kept)
    assert nodes["tag"]["bypassed"] == len([i for i in kept if i % 2])
    assert nodes["unique"]["in"] == len(kept) and nodes["unique"]["out"] == len(first)
    dup = [r for r in rejects if r["node"] == "unique"]
    assert len(dup) == len(kept) - len(first)
    for r in dup:  # each names the first record with its key, in input order
        assert r["detail"]["duplicate_of"] == next(
            d["_provenance"]["id"] for d in data if d["k"] == r["record"]["k"]
        )
    assert [r["record"]["i"] for r in dup] == sorted(r["record"]["i"] for r in dup)


async def test_other_tasks_run_while_a_long_inline_chain_works(tmp_path: Path) -> None:
    compiled = _compile(tmp_path, 3000)
    rt = ExecContext(compiled=compiled, client=FakeClient(), cache=None, rejects=None)
    turns: list[int] = []
    got: list[Record] = []

    async def consume(it: AsyncIterator[Record]) -> None:
        async for rec in it:
            got.append(rec)

    async def ticker() -> None:
        while True:
            turns.append(rt.stats["keep"].records_in if "keep" in rt.stats else 0)
            await asyncio.sleep(0)

    tick = asyncio.create_task(ticker())
    await run_graph(rt, compiled.graph, consume)
    tick.cancel()
    assert len(got) == 50
    # The ticker saw the chain part-way many times: the source let it run as it went.
    assert len({t for t in turns if 0 < t < 3000}) >= 5


async def test_an_unexpected_error_in_an_inline_node_is_a_recorded_failure(
    tmp_path: Path,
) -> None:
    compiled = _compile(tmp_path, 3)
    rt = ExecContext(compiled=compiled, client=FakeClient(), cache=None, rejects=None)
    node = compiled.graph.nodes["keep"]

    class _Broken:
        concurrency = 1
        quick = True

        async def process(self, record: Record) -> Outcome:
            raise ValueError(f"bad {record.data['i']}")

    out = _Channel()
    queue = out.subscribe()
    rep = _Reporter(rt, node, out)
    inline = _Inline(_Broken(), rep)
    for i in range(3):
        await inline.push(Record(id=f"r{i}", data={"i": i}))
    assert queue.empty()
    assert rep.stats.records_in == 3 and rep.stats.failed["internal"] == 3
    failures: Any = rt.failure_examples
    assert "ValueError: bad 0" in str(failures)


async def test_a_block_chain_fails_a_broken_records_alone_and_keeps_the_queue_bound(
    tmp_path: Path,
) -> None:
    """Records go on in blocks along an inline chain: a ``decide`` that raises for one
    record fails that record only, and with the sink stuck the chain stops after the
    queue's 256 records (in blocks), as a record-at-a-time chain would."""
    compiled = _compile(tmp_path, 3000)
    rt = ExecContext(compiled=compiled, client=FakeClient(), cache=None, rejects=None)
    node = compiled.graph.nodes["keep"]

    class _Picky:
        concurrency = 1
        quick = True

        def decide(self, record: Record) -> Outcome | None:
            if record.data["i"] == 5:
                raise ValueError("bad 5")
            return None

        async def process(self, record: Record) -> Outcome:
            raise AssertionError("the block path calls decide")

    out = _Channel()
    out.blocks = True
    queue = out.subscribe()
    rep = _Reporter(rt, node, out)
    inline = _Inline(_Picky(), rep)
    await inline.push_block([Record(id=f"r{i}", data={"i": i}) for i in range(10)])
    block = queue.get_nowait()
    assert [r.data["i"] for r in block] == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    assert rep.stats.records_in == 10 and rep.stats.passed == 9 and rep.stats.out == 9
    assert rep.stats.failed["internal"] == 1 and "ValueError: bad 5" in str(rt.failure_examples)

    rows = ", ".join(f"{{i: {i}}}" for i in range(3000))
    recipe = tmp_path / "q.yaml"
    recipe.write_text(
        f"synthdsl: 1\nname: q\nsources:\n  s: {{records: [{rows}]}}\n"
        "steps:\n  - id: keep\n    filter: 'i % 3 != 0'\n",
        encoding="utf-8",
    )
    queued = compile_recipe(recipe)
    rt = ExecContext(compiled=queued, client=FakeClient(), cache=None, rejects=None)
    stuck = asyncio.Event()

    async def consume(it: AsyncIterator[Record]) -> None:
        await stuck.wait()  # the sink never reads

    run = asyncio.create_task(run_graph(rt, queued.graph, consume))
    seen = -1
    while True:
        await asyncio.sleep(0.05)
        now = rt.stats["keep"].records_in if "keep" in rt.stats else 0
        if now == seen:
            break
        seen = now
    # 4 blocks of survivors queued and a fifth waiting to go in: at most 5 × 64 read
    assert 0 < rt.stats["keep"].out <= 256 + 64
    assert rt.stats["keep"].records_in <= 5 * 64
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
