"""The ``mix`` kind: ratio checks, synthetic labels and stage bands on a tiny graph,
quotas, and the runner (with a refill through a fake subgraph)."""

from __future__ import annotations

from typing import Any

import pytest

from synthdsl.errors import Span
from synthdsl.ir import Graph, Node
from synthdsl.nodes import node_kind
from synthdsl.nodes.mix import MixConfig, quotas
from synthdsl.records import Record

from .kit import (
    FILE,
    Collected,
    FakeEstimator,
    FakeReport,
    FakeRuntime,
    Resolver,
    configure,
    described,
    make_node,
    make_records,
    run_stream,
)

KIND = node_kind("mix")
IDS = {"real": "real", "synth": "synth", "more": "more"}


def config(options: str) -> MixConfig:
    done = configure(
        f"""
        steps:
          - id: m
            mix: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: MixConfig = done.config
    KIND.link(cfg, [], Resolver(IDS))
    return cfg


def graph_with(cfg: MixConfig) -> tuple[Node[Any], Graph]:
    """real (a source) -> synth (a generate step) ; both -> the mix."""
    nodes: dict[str, Node[Any]] = {
        "real": make_node("source", None, "real"),
        "synth": make_node("generate", None, "synth", ["real"]),
        "more": make_node("select", None, "more", ["real"]),
    }
    mix = make_node("mix", cfg, "m", [p.node for p in cfg.parts])
    nodes["m"] = mix
    return mix, Graph(nodes, "m")


def test_configure_and_link() -> None:
    done = configure(
        """
        steps:
          - id: m
            mix:
              parts:
                - {from: real, ratio: 0.4}
                - {from: synth, ratio: 0.6, synthetic: true}
              total: 10
              seed: 3
              stage: instruction_tuning
              stage_policy: strict
              min_real: 0.3
              refill: {max_rounds: 2, max_calls: 50}
        """
    )
    assert done.diagnostics == []
    cfg = done.config
    assert [(p.source, p.ratio, p.synthetic, p.span) for p in cfg.parts] == [
        ("real", 0.4, None, Span(FILE, 5, 18)),
        ("synth", 0.6, True, Span(FILE, 6, 18)),
    ]
    assert (cfg.total, cfg.seed, cfg.stage, cfg.stage_policy, cfg.min_real) == (
        10,
        3,
        "instruction_tuning",
        "strict",
        0.3,
    )
    assert cfg.span == Span(FILE, 9, 7)  # band problems point at 'stage'
    assert cfg.refill is not None
    assert (cfg.refill.max_rounds, cfg.refill.max_calls, cfg.refill.max_cost_usd) == (2, 50, None)
    assert KIND.takes_from(done.raw) is False
    assert KIND.link(cfg, [], Resolver(IDS)) == ["real", "synth"]


def test_ratio_duplicate_and_refill_errors() -> None:
    done = configure(
        """
        steps:
          - id: m
            mix:
              parts:
                - {from: real, ratio: 0.5}
                - {from: real, ratio: 0.3}
              refill: {}
        """
    )
    assert done.at("mix ratios sum to 0.8, not 1") == Span(FILE, 4, 7)
    assert done.at("part 'real' appears twice in the mix") == Span(FILE, 6, 18)
    assert done.at("refill needs a 'total' to aim for") == Span(FILE, 7, 7)


def test_upstream_fields_are_those_every_part_has() -> None:
    cfg = config("{parts: [{from: real, ratio: 0.5}, {from: synth, ratio: 0.5}]}")
    fields = KIND.upstream_fields(cfg, {"real": ["a", "b", "c"], "synth": ["c", "a"]})
    assert fields == ["a", "c"]
    assert KIND.upstream_fields(cfg, {}) is None


def test_check_graph_labels_parts_and_warns_outside_the_band() -> None:
    cfg = config(
        "{parts: [{from: real, ratio: 0.3}, {from: synth, ratio: 0.7}], stage: instruction_tuning}"
    )
    node, graph = graph_with(cfg)
    report = FakeReport()
    KIND.check_graph(node, graph, report)
    assert [p.synthetic for p in cfg.parts] == [False, True]  # generate writes content
    assert report.errors == []
    (warning,) = report.warnings
    assert (
        warning.message == "mix 'm' is 70% synthetic, outside the instruction_tuning band 40%-60%"
    )
    assert warning.severity == "warning" and warning.span == Span(FILE, 3, 73)


def test_check_graph_strict_band_and_min_real_are_errors() -> None:
    cfg = config(
        "{parts: [{from: real, ratio: 0.3}, {from: synth, ratio: 0.7}], stage: pretraining, "
        "stage_policy: strict, min_real: 0.5}"
    )
    node, graph = graph_with(cfg)
    report = FakeReport()
    KIND.check_graph(node, graph, report)
    assert [d.message for d in report.errors] == [
        "mix 'm' has 30% real data, below min_real 50%",
        "mix 'm' is 70% synthetic, outside the pretraining band 20%-35%",
    ]
    assert report.warnings == []


def test_check_graph_follows_inputs_and_respects_explicit_labels() -> None:
    cfg = config(
        "{parts: [{from: more, ratio: 0.5}, {from: synth, ratio: 0.5, synthetic: false}], "
        "stage: instruction_tuning, refill: {}, total: 4}"
    )
    node, graph = graph_with(cfg)
    report = FakeReport()
    KIND.check_graph(node, graph, report)
    # 'more' selects from a source: real. 'synth' is declared real.
    assert [p.synthetic for p in cfg.parts] == [False, False]
    assert [p.refill_graph for p in cfg.parts] == [None, None]  # only synthetic parts refill
    assert [d.message for d in report.warnings] == [
        "mix 'm' is 0% synthetic, outside the instruction_tuning band 40%-60%"
    ]


def test_refill_keeps_a_synthetic_part_upstream_graph() -> None:
    cfg = config(
        "{parts: [{from: real, ratio: 0.5}, {from: synth, ratio: 0.5}], total: 4, refill: {}}"
    )
    node, graph = graph_with(cfg)
    KIND.check_graph(node, graph, FakeReport())
    upstream = cfg.parts[1].refill_graph
    assert upstream is not None
    assert (list(upstream.nodes), upstream.output) == (["real", "synth"], "synth")


def test_quotas() -> None:
    # 'b' limits: 3 / 0.5 = 6 rows at most.
    assert quotas([10, 3], [0.5, 0.5], None) == ([3, 3], 6, 1)
    assert quotas([10, 3], [0.5, 0.5], 4) == ([2, 2], 4, None)
    assert quotas([10, 3], [0.5, 0.5], 10) == ([3, 3], 6, 1)
    # Largest remainder: 10 x 1/3 each, the extra row to the first part.
    third = 1 / 3
    assert quotas([10, 10, 10], [third, third, third], 10) == ([4, 3, 3], 10, None)
    assert quotas([5, 0], [1.0, 0.0], None) == ([5, 0], 5, 0)


def test_estimate_and_describe() -> None:
    cfg = config(
        "{parts: [{from: real, ratio: 0.25}, {from: synth, ratio: 0.75, synthetic: true}], total: 8, stage: reasoning, min_real: 0.2}"
    )
    est = KIND.estimate(make_node("mix", cfg), 100, FakeEstimator())
    assert (est.records, est.exact) == (8, False)
    assert described(KIND, cfg) == {
        "total": 8,
        "seed": 0,
        "parts": [
            {"from": "real", "ratio": 0.25, "synthetic": None},
            {"from": "synth", "ratio": 0.75, "synthetic": True},
        ],
        "synthetic_share": 0.75,
        "stage": "reasoning",
        "band": [0.7, 0.9],
        "stage_policy": "warn",
        "min_real": 0.2,
    }


async def mix(cfg: MixConfig, buckets: dict[str, list[Record]], rt: FakeRuntime) -> Collected:
    return await run_stream(KIND.stream_runner(make_node("mix", cfg, "m"), rt), buckets)


async def test_runner_takes_quotas_drops_the_rest_and_notes_why() -> None:
    cfg = config("{parts: [{from: real, ratio: 0.5}, {from: synth, ratio: 0.5}], seed: 1}")
    cfg.parts[1].synthetic = True
    real = make_records(*({"r": i} for i in range(5)), node="real")
    synth = make_records(*({"s": i} for i in range(2)), node="synth")
    rt = FakeRuntime()
    out = await mix(cfg, {"real": real, "synth": synth}, rt)
    assert len(out.emitted) == 4
    assert (
        sum("r" in r.data for r in out.emitted) == 2
        and sum("s" in r.data for r in out.emitted) == 2
    )
    assert out.reasons() == ["mix: over quota for part 'real'"] * 3
    assert (out.counted_in, out.passed) == (7, 4) and out.balanced
    note = rt.notes["m"]["mix"]
    assert (note["achieved_total"], note["requested_total"], note["limited_by"]) == (
        4,
        None,
        "synth",
    )
    assert note["synthetic_share"] == 0.5
    assert [(p["available"], p["taken"]) for p in note["parts"]] == [(5, 2), (2, 2)]
    again = await mix(cfg, {"real": real, "synth": synth}, FakeRuntime())
    assert [r.id for r in again.emitted] == [r.id for r in out.emitted]  # seeded


async def test_runner_with_nothing_in() -> None:
    cfg = config("{parts: [{from: real, ratio: 1.0}], total: 3}")
    rt = FakeRuntime()
    out = await mix(cfg, {"real": []}, rt)
    assert out.emitted == [] and out.counted_in == 0
    assert rt.notes["m"]["mix"]["achieved_total"] == 0


async def test_refill_reruns_a_short_synthetic_part_until_the_total_is_met() -> None:
    cfg = config(
        "{parts: [{from: real, ratio: 0.5}, {from: synth, ratio: 0.5}], total: 4, refill: {max_rounds: 5}}"
    )
    node, graph = graph_with(cfg)
    KIND.check_graph(node, graph, FakeReport())
    made = iter(range(100))

    def one_more(
        g: Graph, feed: dict[str, list[Record]], round_: int | None, scope: str | None
    ) -> list[Record]:
        return [Record(f"new{next(made)}", {"s": "new"}, node="synth")]

    rt = FakeRuntime(subgraph=one_more)
    real = make_records(*({"r": i} for i in range(4)), node="real")
    out = await mix(cfg, {"real": real, "synth": []}, rt)
    assert [scope for _, _, _, scope in rt.subgraph_calls] == ["refill1", "refill2"]
    assert rt.subgraph_calls[0][0] is cfg.parts[1].refill_graph
    assert len(out.emitted) == 4 and out.balanced
    assert rt.notes["m"]["mix"]["refill"] == {
        "rounds": 2,
        "outcome": "target met",
        "calls": 0,
        "cost_usd": 0.0,
    }


@pytest.mark.parametrize(
    ("refill", "per_round", "outcome", "rounds"),
    [
        ("{max_rounds: 1}", 1, "max_rounds reached", 1),
        ("{}", 0, "no progress (a refill round produced nothing)", 1),
    ],
)
async def test_refill_stops_at_its_limits(
    refill: str, per_round: int, outcome: str, rounds: int
) -> None:
    cfg = config(
        f"{{parts: [{{from: real, ratio: 0.5}}, {{from: synth, ratio: 0.5}}], total: 4, refill: {refill}}}"
    )
    node, graph = graph_with(cfg)
    KIND.check_graph(node, graph, FakeReport())
    made = iter(range(100))

    def body(
        g: Graph, feed: dict[str, list[Record]], round_: int | None, scope: str | None
    ) -> list[Record]:
        return [Record(f"new{next(made)}", {}, node="synth") for _ in range(per_round)]

    rt = FakeRuntime(subgraph=body)
    real = make_records(*({"r": i} for i in range(4)), node="real")
    await mix(cfg, {"real": real, "synth": []}, rt)
    note = rt.notes["m"]["mix"]["refill"]
    assert (note["outcome"], note["rounds"]) == (outcome, rounds)


async def test_a_real_short_part_cannot_be_refilled() -> None:
    cfg = config(
        "{parts: [{from: real, ratio: 0.5}, {from: synth, ratio: 0.5}], total: 4, refill: {}}"
    )
    node, graph = graph_with(cfg)
    KIND.check_graph(node, graph, FakeReport())
    rt = FakeRuntime()  # no subgraph: a refill attempt would raise
    synth = make_records(*({"s": i} for i in range(4)), node="synth")
    await mix(cfg, {"real": [], "synth": synth}, rt)
    assert rt.notes["m"]["mix"]["refill"]["outcome"] == "a short part cannot be refilled: real"


async def test_runner_rounds_into_the_band_and_reports_what_it_cannot_hold() -> None:
    strict = (
        "{parts: [{from: real, ratio: 0.65}, {from: synth, ratio: 0.35}], "
        "stage: pretraining, stage_policy: strict, min_real: 0.65"
    )
    cfg = config(strict + ", total: 5}")
    cfg.parts[1].synthetic = True
    real = make_records(*({"r": i} for i in range(6)), node="real")
    synth = make_records(*({"s": i} for i in range(6)), node="synth")
    rt = FakeRuntime()
    out = await mix(cfg, {"real": real, "synth": synth}, rt)
    note = rt.notes["m"]["mix"]
    assert [p["taken"] for p in note["parts"]] == [4, 1] and out.balanced
    assert (note["synthetic_share"], note["status"], note["real_status"]) == (0.2, "ok", "ok")
    assert rt.violations == []
    # One real row: no total holds the band; strict makes the breach fatal.
    cfg = config(strict + "}")
    cfg.parts[1].synthetic = True
    rt = FakeRuntime()
    out = await mix(cfg, {"real": real[:1], "synth": synth}, rt)
    assert len(out.emitted) == 1 and out.balanced
    assert rt.violations == [
        (
            "m",
            "mix 'm' wrote 0 synthetic of 1 record (0.0%), outside the pretraining band "
            "20%-35%; taken: real 1 of 1 (real), synth 0 of 6 (synthetic)",
            True,
        )
    ]


def test_check_graph_refuses_a_total_no_split_can_hold() -> None:
    cfg = config(
        "{parts: [{from: real, ratio: 0.65}, {from: synth, ratio: 0.35}], total: 2, "
        "stage: pretraining}"
    )
    node, graph = graph_with(cfg)
    report = FakeReport()
    KIND.check_graph(node, graph, report)
    (warning,) = report.warnings  # stage_policy: warn
    assert warning.message == (
        "mix 'm': no split of total 2 into whole records holds the pretraining band "
        "20%-35% synthetic"
    )
    assert warning.span == cfg.total_span and warning.hint == (
        "totals that can: 3, 4, 5; set stage_policy: strict to make this an error"
    )
