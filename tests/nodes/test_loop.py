"""The ``loop`` kind: its nested body, its plan estimate, and rounds run through a fake
subgraph (the body is a function of the round's feeds, standing in for the executor)."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.ir import Graph
from synthdsl.nodes import ROUND_FEEDS, feed_node, node_kind
from synthdsl.nodes.base import Nested
from synthdsl.nodes.loop import LoopConfig
from synthdsl.records import Record

from .kit import (
    FILE,
    Collected,
    FakeEstimator,
    FakeRuntime,
    Resolver,
    SubgraphFn,
    configure,
    described,
    make_node,
    make_records,
    run_stream,
    schema_problems,
)

KIND = node_kind("loop")
BODY = Graph({"lp.pool": feed_node("lp.pool", "pool", Span(FILE, 1, 1), None)}, "lp.pool")


def config(options: str) -> LoopConfig:
    done = configure(
        f"""
        steps:
          - id: lp
            loop: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: LoopConfig = done.config
    KIND.link(cfg, ["src"], Resolver({}))
    return cfg


def making(per_round: int) -> SubgraphFn:
    """A body that makes ``per_round`` new records a round, from nothing but the round."""

    def body(
        graph: Graph, feed: dict[str, list[Record]], round_: int | None, scope: str | None
    ) -> list[Record]:
        return [Record(f"r{round_}-{j}", {"round": round_, "j": j}) for j in range(per_round)]

    return body


async def loop(
    cfg: LoopConfig,
    initial: list[Record],
    rt: FakeRuntime,
    extra: dict[str, list[Record]] | None = None,
) -> Collected:
    node = make_node("loop", cfg, "lp", ["src"], body=BODY)
    return await run_stream(KIND.stream_runner(node, rt), {"src": initial, **(extra or {})})


def test_configure_defaults_follow_the_mode() -> None:
    acc = config("{rounds: 3, target: 10, steps: [{id: g, set: {x: '1'}}]}")
    assert (acc.rounds, acc.target, acc.mode, acc.emit, acc.output, acc.carry) == (
        3,
        10,
        "accumulate",
        "new",
        None,
        False,
    )
    chain = config(
        "{rounds: 2, mode: chain, carry: true, output: g, steps: [{id: g, set: {x: '1'}}]}"
    )
    assert (chain.mode, chain.emit, chain.carry, chain.output) == ("chain", "last", True, "g")


def test_a_loop_without_rounds_is_caught_by_the_schema() -> None:
    problems = schema_problems(
        """
        steps:
          - id: lp
            loop:
              steps: []
        """
    )
    assert [(d.message, d.span) for d in problems] == [
        ("missing required key 'rounds' in loop in step 'lp'", Span(FILE, 3, 5)),
        ("loop.steps in step 'lp' must have at least 1 item", Span(FILE, 4, 14)),
    ]


def test_nested_link_and_fields() -> None:
    cfg = config("{rounds: 2, output: last, steps: [{id: g, set: {x: '1'}}]}")
    assert KIND.nested(cfg) == Nested(
        steps=("steps",), feeds=ROUND_FEEDS, output="last", output_key=("output",)
    )
    assert KIND.link(cfg, ["a", "b"], Resolver({})) == []  # the body's reads come later
    assert cfg.main == ["a", "b"]
    KIND.bind_nested(cfg, {"ctx": "lp.outer"})
    assert cfg.outer == {"ctx": "lp.outer"}
    assert KIND.upstream_fields(cfg, {"a": ["x"], "b": ["y", "x"], "ctx": ["z"]}) == ["x", "y"]
    assert KIND.writes_content is True


def test_estimate_accumulates_up_to_the_target() -> None:
    cfg = config("{rounds: 3, target: 5, steps: [{id: g, set: {x: '1'}}]}")
    node = make_node("loop", cfg, "lp", body=BODY)
    est = FakeEstimator(body_fn=lambda n: (n, n))  # the body doubles the pool, 1 call each
    result = KIND.estimate(node, 2, est)
    # Pools: 2, then 2+2=4, then min(4+4, 2+5)=7; calls 2+4+7.
    assert est.passes == [2, 4, 7]
    assert (result.records, result.calls, result.exact) == (5, 13, False)
    assert result.note == "3 rounds, body calls summed over rounds"
    unknown = KIND.estimate(node, 2, FakeEstimator(body_fn=lambda n: (n, None)))
    assert unknown.calls is None
    assert KIND.estimate(make_node("loop", cfg), 2, FakeEstimator()).records == 5  # no body


def test_estimate_chains_each_round_output() -> None:
    cfg = config("{rounds: 3, mode: chain, steps: [{id: g, set: {x: '1'}}]}")
    est = FakeEstimator(body_fn=lambda n: (None if n is None else 2 * n, n))
    result = KIND.estimate(make_node("loop", cfg, "lp", body=BODY), 1, est)
    assert est.passes == [1, 2, 4]
    assert (result.records, result.calls) == (8, 7)
    assert described(KIND, cfg) == {"rounds": 3, "target": None, "mode": "chain", "emit": "last"}


async def test_accumulate_stops_at_the_target_and_discards_the_rest() -> None:
    cfg = config("{rounds: 5, target: 3, steps: [{id: g, set: {x: '1'}}]}")
    rt = FakeRuntime(subgraph=making(2))
    initial = make_records({"seed": 1})
    out = await loop(cfg, initial, rt)
    assert [r.id for r in out.emitted] == ["r1-0", "r1-1", "r2-0"]
    assert [(nid, rec.id, why) for nid, rec, why in rt.discards] == [
        ("lp", "r2-1", "loop target reached")
    ]
    assert rt.notes["lp"]["loop"] == {"rounds_run": 2, "made": 3, "target": 3}
    # Round 2 read the input plus round 1's records; pool_new held only the new ones.
    _, feed, round_, _ = rt.subgraph_calls[1]
    assert round_ == 2
    assert [r.id for r in feed["pool"]] == [initial[0].id, "r1-0", "r1-1"]
    assert [r.id for r in feed["pool_input"]] == [initial[0].id]
    assert [r.id for r in feed["pool_new"]] == ["r1-0", "r1-1"]
    assert (out.counted_in, out.passed) == (1, 1) and out.balanced


async def test_emit_all_and_an_empty_input() -> None:
    cfg = config("{rounds: 1, emit: all, steps: [{id: g, set: {x: '1'}}]}")
    initial = make_records({"seed": 1})
    out = await loop(cfg, initial, FakeRuntime(subgraph=making(1)))
    assert [r.id for r in out.emitted] == [initial[0].id, "r1-0"]
    rt = FakeRuntime(subgraph=making(1))
    out = await loop(cfg, [], rt)
    assert out.emitted == [] and rt.subgraph_calls == []
    assert rt.notes["lp"]["loop"]["rounds_run"] == 0


async def test_chain_feeds_each_round_the_previous_output_and_emits_the_last() -> None:
    def evolve(
        graph: Graph, feed: dict[str, list[Record]], round_: int | None, scope: str | None
    ) -> list[Record]:
        return [r.child("g", {"v": r.data["v"] + 1}) for r in feed["pool"]]

    cfg = config("{rounds: 3, mode: chain, steps: [{id: g, set: {x: '1'}}]}")
    rt = FakeRuntime(subgraph=evolve)
    out = await loop(cfg, make_records({"v": 0}, {"v": 10}), rt)
    assert [r.data["v"] for r in out.emitted] == [3, 13]
    assert [len(feed["pool_new"]) for _, feed, _, _ in rt.subgraph_calls] == [0, 2, 4]
    assert rt.notes["lp"]["loop"]["made"] == 6


async def test_carry_passes_on_a_round_input_whose_evolution_was_eliminated() -> None:
    def evolve_odd(
        graph: Graph, feed: dict[str, list[Record]], round_: int | None, scope: str | None
    ) -> list[Record]:
        # Records that inherit 'loop_parents' from the tagged round input.
        return [r.child("g", {"v": r.data["v"] + 1}) for r in feed["pool"] if r.data["v"] % 2]

    cfg = config("{rounds: 2, mode: chain, carry: true, steps: [{id: g, set: {x: '1'}}]}")
    rt = FakeRuntime(subgraph=evolve_odd)
    initial = make_records({"v": 1}, {"v": 2})
    out = await loop(cfg, initial, rt)
    first_pool = rt.subgraph_calls[0][1]["pool"]
    assert [r.meta["loop_parents"] for r in first_pool] == [{"lp": r.id} for r in initial]
    # Round 1: v=1 evolves to 2, v=2 is carried. Round 2: nothing odd; both carried.
    assert sorted(r.data["v"] for r in out.emitted) == [2, 2]
    assert rt.notes["lp"]["loop"] == {"rounds_run": 2, "made": 1, "target": None, "carried": 3}


async def test_enclosing_records_reach_the_body_as_outer_feeds() -> None:
    cfg = config("{rounds: 1, steps: [{id: g, set: {x: '1'}}]}")
    KIND.bind_nested(cfg, {"ctx": "lp.ctx"})
    rt = FakeRuntime(subgraph=making(0))
    ctx = make_records({"c": 1}, {"c": 2}, node="ctx")
    out = await loop(cfg, make_records({"seed": 1}), rt, {"ctx": ctx})
    assert rt.subgraph_calls[0][1]["outer:ctx"] == ctx
    assert (out.counted_in, out.passed) == (3, 3)  # the outer records as references
