"""The ``draw`` kind: records drawn from reference inputs, per record or ``count`` times."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.draw import DrawConfig
from synthdsl.records import Record, derive_id

from .kit import (
    FILE,
    Collected,
    FakeEstimator,
    FakeRuntime,
    Resolver,
    configure,
    described,
    make_node,
    make_records,
    run_stream,
)

KIND = node_kind("draw")
NAMES = {"seeds": "seeds", "made": "made", "tasks": "tasks"}


def config(options: str, main: list[str] | None = None) -> DrawConfig:
    done = configure(
        f"""
        steps:
          - id: d
            draw: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: DrawConfig = done.config
    KIND.link(cfg, main if main is not None else ["tasks"], Resolver(NAMES))
    return cfg


def pool(name: str, n: int, **extra: object) -> list[Record]:
    return make_records(*({"name": f"{name}{i}", **extra} for i in range(n)), node=name)


async def draw(
    cfg: DrawConfig, inputs: dict[str, list[Record]], rt: FakeRuntime | None = None
) -> Collected:
    return await run_stream(
        KIND.stream_runner(make_node("draw", cfg, "d"), rt or FakeRuntime()), inputs
    )


def test_configure_link_and_fields() -> None:
    done = configure(
        """
        steps:
          - id: d
            draw:
              into: demos
              parts:
                - {from: seeds, k: 2}
                - {from: made, k: 1, weight: w}
              seed: 7
              shuffle: true
        """
    )
    cfg = done.config
    assert [(p.source, p.k, p.weight, p.span) for p in cfg.parts] == [
        ("seeds", 2, None, Span(FILE, 6, 18)),
        ("made", 1, "w", Span(FILE, 7, 18)),
    ]
    assert (cfg.into, cfg.count, cfg.fill, cfg.one, cfg.seed, cfg.shuffle, cfg.total_k) == (
        "demos",
        None,
        True,
        False,
        7,
        True,
        3,
    )
    assert KIND.link(cfg, ["tasks"], Resolver(NAMES)) == ["seeds", "made"]
    assert cfg.main == ["tasks"]
    assert KIND.upstream_fields(cfg, {"tasks": ["t"], "seeds": ["s"]}) == ["t"]
    assert KIND.output_fields(cfg, ["demos", "t"]) == ["t", "demos"]
    assert KIND.takes_from(done.raw) is True


def test_one_needs_a_total_k_of_one() -> None:
    done = configure(
        """
        steps:
          - id: d
            draw:
              parts: [{from: seeds, k: 2}]
              one: true
        """
    )
    assert done.at("'one: true' needs a total k of 1, not 2") == Span(FILE, 5, 7)


def test_count_mode_hooks_estimate_and_describe() -> None:
    cfg = config("{count: 4, parts: [{from: seeds, k: 1}]}", main=[])
    assert KIND.takes_from({"count": 4, "parts": []}) is False
    assert KIND.output_fields(cfg, ["x"]) == ["drawn"]
    est = KIND.estimate(make_node("draw", cfg), None, FakeEstimator())
    assert (est.records, est.exact) == (4, True)
    per_record = config("{parts: [{from: seeds, k: 1}]}")
    assert KIND.estimate(make_node("draw", per_record), 3, FakeEstimator()).records is None
    assert described(KIND, cfg) == {
        "into": "drawn",
        "parts": [{"from": "seeds", "k": 1}],
        "fill": True,
        "seed": 0,
        "count": 4,
    }


async def test_a_record_is_never_drawn_for_itself() -> None:
    cfg = config("{parts: [{from: tasks, k: 1}], one: true}")
    tasks = pool("tasks", 2)
    out = await draw(cfg, {"tasks": tasks})
    # Two records, one drawn each: each can only get the other.
    assert [(r.data["name"], r.data["drawn"]["name"]) for r in out.emitted] == [
        ("tasks0", "tasks1"),
        ("tasks1", "tasks0"),
    ]
    assert out.emitted[0].meta["drawn"] == [tasks[1].id]
    assert out.emitted[0].id == derive_id("d", (tasks[0].id,), 0)
    assert out.balanced and out.counted_in == 2
    # Three records drawing two each: each gets exactly the two others.
    three = pool("tasks", 3)
    out = await draw(config("{parts: [{from: tasks, k: 2}]}"), {"tasks": three})
    for rec in out.emitted:
        others = {r.data["name"] for r in three} - {rec.data["name"]}
        assert {d["name"] for d in rec.data["drawn"]} == others
    # A lone record has nobody to draw.
    alone = await draw(config("{parts: [{from: tasks, k: 1}]}"), {"tasks": pool("tasks", 1)})
    assert alone.emitted == [] and alone.reasons() == ["draw: nothing to draw from"]


async def test_fill_moves_a_short_part_to_the_next_one() -> None:
    inputs = {"tasks": pool("tasks", 1), "seeds": pool("seeds", 1), "made": pool("made", 5)}
    parts = "parts: [{from: seeds, k: 2}, {from: made, k: 1}]"
    filled = await draw(config("{" + parts + "}"), inputs)
    names = [d["name"] for d in filled.emitted[0].data["drawn"]]
    assert len(names) == 3 and names[0] == "seeds0"  # part order: seeds first
    assert sum(n.startswith("made") for n in names) == 2  # the seeds' shortfall
    assert len(set(names)) == 3  # without replacement
    unfilled = await draw(config("{" + parts + ", fill: false}"), inputs)
    assert [d["name"][:4] for d in unfilled.emitted[0].data["drawn"]] == ["seed", "made"]
    # References count as in and passed: 1 task + 1 seed + 5 made.
    assert (filled.counted_in, filled.passed) == (7, 7)


async def test_draws_are_seeded_and_weights_of_zero_are_never_drawn() -> None:
    seeds = [
        Record(f"s{i}", {"name": f"s{i}", "w": 1 if i == 3 else 0}, node="seeds") for i in range(6)
    ]
    tasks = pool("tasks", 4)
    cfg = config("{parts: [{from: seeds, k: 1, weight: w}]}")
    out = await draw(cfg, {"tasks": tasks, "seeds": seeds})
    assert [r.data["drawn"][0]["name"] for r in out.emitted] == ["s3"] * 4
    random = config("{parts: [{from: seeds, k: 3}], seed: 5}")
    first = await draw(random, {"tasks": tasks, "seeds": seeds})
    again = await draw(random, {"tasks": tasks, "seeds": seeds})
    assert [r.data for r in first.emitted] == [r.data for r in again.emitted]


async def test_nothing_to_draw_from_is_a_drop() -> None:
    cfg = config("{parts: [{from: seeds, k: 1}]}")
    out = await draw(cfg, {"tasks": pool("tasks", 2), "seeds": []})
    assert out.emitted == []
    assert out.reasons() == ["draw: nothing to draw from"] * 2
    assert out.balanced


async def test_count_mode_makes_new_records() -> None:
    cfg = config("{count: 3, parts: [{from: seeds, k: 2}], into: demos}", main=[])
    seeds = pool("seeds", 4)
    out = await draw(cfg, {"seeds": seeds}, FakeRuntime(round=2))
    assert [r.id for r in out.emitted] == [derive_id("d@r2", (), i) for i in range(3)]
    for rec in out.emitted:
        assert list(rec.data) == ["demos"] and len(rec.data["demos"]) == 2
        drawn_names = {d["name"] for d in rec.data["demos"]}
        by_id = {s.id: s.data["name"] for s in seeds}
        assert {by_id[p] for p in rec.parents} == drawn_names
    assert out.passed == 4 and out.counted_in == 4  # only the seeds, as references
