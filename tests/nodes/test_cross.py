"""The ``cross`` kind: each input record with every record of another input."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.cross import CrossConfig
from synthdsl.records import derive_id

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    Resolver,
    configure,
    described,
    make_node,
    make_records,
    run_stream,
    schema_problems,
)

KIND = node_kind("cross")


def config(options: str, main: str = "topics") -> CrossConfig:
    done = configure(
        f"""
        steps:
          - id: x
            cross: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: CrossConfig = done.config
    KIND.link(cfg, [main], Resolver({"levels": "levels_node"}))
    return cfg


def test_configure_and_link() -> None:
    done = configure(
        """
        steps:
          - id: x
            cross: {of: levels, into: audience}
        """
    )
    cfg = done.config
    assert (cfg.into, cfg.parts[0].source, cfg.parts[0].span) == (
        "audience",
        "levels",
        Span(FILE, 3, 17),
    )
    resolver = Resolver({"levels": "levels_node"})
    assert KIND.link(cfg, ["topics"], resolver) == ["levels_node"]
    assert (cfg.main, cfg.parts[0].node) == (["topics"], "levels_node")
    assert resolver.asked == [("levels", Span(FILE, 3, 17))]


def test_a_cross_without_of_is_caught_by_the_schema() -> None:
    problems = schema_problems(
        """
        steps:
          - id: x
            cross: {into: 3}
        """
    )
    assert [(d.message, d.span) for d in problems] == [
        ("missing required key 'of' in cross in step 'x'", Span(FILE, 3, 5)),
        ("cross.into in step 'x' must be a string, found the number 3", Span(FILE, 3, 19)),
    ]


def test_fields_estimate_and_describe() -> None:
    into = config("{of: levels, into: audience}")
    inputs = {"topics": ["topic", "audience"], "levels_node": ["level"]}
    assert KIND.upstream_fields(into, inputs) == ["topic", "audience"]
    assert KIND.output_fields(into, ["audience", "topic"]) == ["topic", "audience"]
    merged = config("{of: levels}")
    # Merged fields are not added: only the main input's fields are known to arrive.
    assert KIND.output_fields(merged, ["topic"]) == ["topic"]
    est = KIND.estimate(make_node("cross", into), 3, FakeEstimator())
    assert (est.records, est.exact) == (None, False)
    assert described(KIND, into) == {"of": "levels_node", "into": "audience"}
    assert described(KIND, merged) == {"of": "levels_node"}


async def test_every_record_meets_every_other_record() -> None:
    cfg = config("{of: levels, into: audience}")
    topics = make_records({"topic": "tides"}, {"topic": "stars"}, node="topics")
    levels = make_records({"level": "child"}, {"level": "expert"}, node="levels_node")
    out = await run_stream(
        KIND.stream_runner(make_node("cross", cfg, "x", ["topics", "levels_node"]), FakeRuntime()),
        {"topics": topics, "levels_node": levels},
    )
    assert [(r.data["topic"], r.data["audience"]["level"]) for r in out.emitted] == [
        ("tides", "child"),
        ("tides", "expert"),
        ("stars", "child"),
        ("stars", "expert"),
    ]
    assert out.emitted[1].id == derive_id("x", (topics[0].id,), 1)
    assert out.emitted[1].meta["crossed_with"] == levels[1].id
    # 2 topics and 2 levels in; all passed (the levels as references).
    assert (out.counted_in, out.passed) == (4, 4) and out.balanced


async def test_merging_lets_the_input_record_win() -> None:
    cfg = config("{of: levels}")
    topics = make_records({"topic": "tides", "level": "mine"}, node="topics")
    levels = make_records({"level": "child", "extra": 1}, node="levels_node")
    out = await run_stream(
        KIND.stream_runner(make_node("cross", cfg), FakeRuntime()),
        {"topics": topics, "levels_node": levels},
    )
    assert [r.data for r in out.emitted] == [{"level": "mine", "extra": 1, "topic": "tides"}]


async def test_an_empty_other_input_drops_every_record() -> None:
    cfg = config("{of: levels}")
    topics = make_records({"topic": "tides"}, {"topic": "stars"}, node="topics")
    out = await run_stream(
        KIND.stream_runner(make_node("cross", cfg), FakeRuntime()),
        {"topics": topics, "levels_node": []},
    )
    assert out.emitted == []
    assert out.reasons() == ["cross: the other input is empty"] * 2
    assert out.balanced
