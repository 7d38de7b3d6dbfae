"""The ``filter`` kind: expression and ranking forms, their checks, and both runners."""

from __future__ import annotations

from typing import Any

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.filter import FilterConfig

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    configure,
    described,
    dropped,
    emitted,
    failed,
    make_node,
    make_records,
    run_map,
    run_stream,
)

KIND = node_kind("filter")


def config(value: str) -> FilterConfig:
    done = configure(
        f"""
        steps:
          - id: keep
            filter: {value}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: FilterConfig = done.config
    return cfg


def test_the_short_form_is_an_expression_with_a_default_reason() -> None:
    cfg = config('"score >= 8"')
    assert (cfg.text, cfg.reason, cfg.by) == ("score >= 8", "filter: not (score >= 8)", None)
    assert cfg.expr is not None
    # 'score' is read at its position inside the quoted expression.
    assert KIND.read_fields(cfg) == [("score", Span(FILE, 3, 14))]


def test_the_long_form_and_the_ranking_form() -> None:
    cfg = config('{expr: "len(text) > 3", reason: too short}')
    assert (cfg.text, cfg.reason) == ("len(text) > 3", "too short")
    ranked = config('{by: "entropy(text)", drop_lowest: 0.25, drop_highest: 0.1}')
    assert (ranked.by_text, ranked.drop_lowest, ranked.drop_highest) == (
        "entropy(text)",
        0.25,
        0.1,
    )
    assert ranked.expr is None and ranked.by is not None
    assert [name for name, _ in KIND.read_fields(ranked)] == ["text"]


def test_configuration_errors_point_at_their_keys() -> None:
    done = configure(
        """
        steps:
          - id: a
            filter:
              by: "score"
          - id: b
            filter:
              by: "score"
              drop_lowest: 0.5
              drop_highest: 0.5
          - id: c
            filter:
              drop_highest: 0.2
              reason: why
        """
    )
    assert done.at("'by' ranks records: say how many to drop") == Span(FILE, 4, 7)
    both = configure(done.ctx.doc.text, step=1)
    assert both.at("drop_lowest + drop_highest must be below 1") == Span(FILE, 7, 7)
    third = configure(done.ctx.doc.text, step=2)
    assert third.at("'drop_highest' needs 'by'") == Span(FILE, 12, 7)
    assert third.at("filter needs 'expr' (a condition) or 'by' (a ranking)") == Span(FILE, 12, 7)
    assert third.at("'reason' goes with 'expr'") == Span(FILE, 13, 7)


def test_a_syntax_error_points_inside_the_expression() -> None:
    done = configure(
        """
        steps:
          - id: keep
            filter: "score >= "
        """
    )
    assert len(done.diagnostics) == 1
    span = done.diagnostics[0].span
    assert span is not None and span.line == 3 and span.col > 14


def test_hooks_estimate_and_describe() -> None:
    plain = config('"score >= 8"')
    ranked = config('{expr: "ok", by: "score", drop_lowest: 0.5}')
    assert KIND.supports_when(plain) is True
    assert KIND.supports_when(ranked) is False  # ranking needs the whole run
    assert KIND.map_runner(make_node("filter", ranked), FakeRuntime()) is None
    assert KIND.map_runner(make_node("filter", plain), FakeRuntime()) is not None
    est = KIND.estimate(make_node("filter", plain), 9, FakeEstimator())
    assert (est.records, est.exact) == (9, False)
    assert described(KIND, plain) == {"expr": "score >= 8"}
    assert described(KIND, ranked) == {"expr": "ok", "by": "score", "drop_lowest": 0.5}


async def test_the_expression_keeps_drops_and_fails() -> None:
    cfg = config('{expr: "score >= 8", reason: low score}')
    recs = make_records({"score": 9}, {"score": 2}, {"other": 1})
    kept, low, broken = await run_map(
        KIND.map_runner(make_node("filter", cfg), FakeRuntime()), recs
    )
    assert emitted(kept) == [recs[0]]  # the record itself, unchanged
    assert dropped(low).reason == "low score"
    assert failed(broken).kind == "filter_error"
    assert "score" in failed(broken).message


def scored(*scores: Any) -> list[Any]:
    return make_records(*({"score": s, "i": i} for i, s in enumerate(scores)))


async def test_ranking_drops_the_lowest_share_and_keeps_arrival_order() -> None:
    cfg = config('{by: "score", drop_lowest: 0.4}')
    rt = FakeRuntime()
    recs = scored(5, 1, 3, 2, 4)
    out = await run_stream(KIND.stream_runner(make_node("filter", cfg, "keep"), rt), {"src": recs})
    assert [r.data["i"] for r in out.emitted] == [0, 2, 4]  # scores 5, 3, 4 in order
    assert [(r.data["score"], reason, detail) for r, reason, detail in out.dropped] == [
        (1, "filter: score in the lowest 40%", {"score": 1.0}),
        (2, "filter: score in the lowest 40%", {"score": 2.0}),
    ]
    assert out.balanced and out.counted_in == 5 and out.passed == 3
    assert rt.notes["keep"]["rank"] == {
        "by": "score",
        "ranked": 5,
        "dropped_lowest": 2,
        "dropped_highest": 0,
        "kept_min": 3.0,
        "kept_max": 5.0,
    }


async def test_ranking_ties_break_by_arrival_and_highest_share_drops_the_top() -> None:
    cfg = config('{by: "score", drop_lowest: 0.34, drop_highest: 0.34}')
    out = await run_stream(
        KIND.stream_runner(make_node("filter", cfg), FakeRuntime()), {"s": scored(1, 1, 1)}
    )
    # floor(0.34 x 3) = 1 each way: the first tie is the lowest, the last the highest.
    assert [(r.data["i"], reason) for r, reason, _ in out.dropped] == [
        (0, "filter: score in the lowest 34%"),
        (2, "filter: score in the highest 34%"),
    ]
    assert [r.data["i"] for r in out.emitted] == [1]


async def test_ranking_applies_the_expression_first_and_fails_non_numbers() -> None:
    cfg = config('{expr: "score != 0", by: "score", drop_lowest: 0.5}')
    recs = scored(0, "high", 4, 3, None)
    out = await run_stream(KIND.stream_runner(make_node("filter", cfg), FakeRuntime()), {"s": recs})
    assert out.reasons()[0] == "filter: not (score != 0)"
    assert [(r.data["i"], kind) for r, kind, _ in out.failed] == [
        (1, "filter_error"),
        (4, "filter_error"),
    ]
    assert "'score' gave 'high', not a number" in out.failed[0][2]
    # Two numbers ranked (4 and 3): the lower one goes.
    assert [r.data["i"] for r in out.emitted] == [2]
    assert out.balanced


async def test_ranking_nothing_notes_an_empty_rank() -> None:
    cfg = config('{by: "score", drop_lowest: 0.5}')
    rt = FakeRuntime()
    out = await run_stream(KIND.stream_runner(make_node("filter", cfg, "keep"), rt), {"s": []})
    assert out.emitted == [] and out.counted_in == 0
    assert rt.notes["keep"]["rank"]["kept_min"] is None
    assert rt.notes["keep"]["rank"]["ranked"] == 0
