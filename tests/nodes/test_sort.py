"""The ``sort`` kind: a stable, spilled sort of the whole run by an expression."""

from __future__ import annotations

from typing import Any

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.sort import SortConfig
from synthdsl.records import Record

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    configure,
    described,
    make_node,
    make_records,
    run_stream,
)

KIND = node_kind("sort")


def config(options: str) -> SortConfig:
    done = configure(
        f"""
        steps:
          - id: order
            sort: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: SortConfig = done.config
    return cfg


def keyed(*keys: Any) -> list[Record]:
    return make_records(*({"k": k, "i": i} for i, k in enumerate(keys)))


async def order_of(cfg: SortConfig, recs: list[Record]) -> tuple[list[int], Any]:
    out = await run_stream(KIND.stream_runner(make_node("sort", cfg), FakeRuntime()), {"s": recs})
    assert out.balanced and out.dropped == []
    return [r.data["i"] for r in out.emitted], out


def test_configure_and_read_fields() -> None:
    cfg = config('{by: "len(text)", descending: true, nulls: last}')
    assert (cfg.text, cfg.descending, cfg.nulls_last) == ("len(text)", True, True)
    assert KIND.read_fields(cfg) == [("text", Span(FILE, 3, 21))]
    plain = config("{by: k}")
    assert (plain.descending, plain.nulls_last) == (False, False)


def test_a_bad_expression_is_reported_inside_it() -> None:
    done = configure(
        """
        steps:
          - id: order
            sort: {by: "len(text"}
        """
    )
    assert len(done.diagnostics) == 1
    span = done.diagnostics[0].span
    assert span is not None and span.line == 3 and span.col >= 17
    assert done.config.by is None
    assert KIND.read_fields(done.config) == []


def test_hooks_estimate_and_describe() -> None:
    cfg = config('{by: "k", nulls: last}')
    assert KIND.supports_when(cfg) is False
    assert KIND.map_runner(make_node("sort", cfg), FakeRuntime()) is None
    assert KIND.estimate(make_node("sort", cfg), 6, FakeEstimator()).records == 6
    assert described(KIND, cfg) == {"by": "k", "descending": False, "nulls": "last"}
    assert described(KIND, config("{by: k}")) == {"by": "k", "descending": False}


async def test_ascending_and_descending_are_stable() -> None:
    order, out = await order_of(config("{by: k}"), keyed(3, 1, 2, 1))
    assert order == [1, 3, 2, 0]
    assert out.passed == 4 and out.counted_in == 4
    order, _ = await order_of(config("{by: k, descending: true}"), keyed(3, 1, 2, 1))
    assert order == [0, 2, 1, 3]  # equal keys keep arrival order in both directions
    order, _ = await order_of(config("{by: k}"), keyed("pear", "apple", "fig"))
    assert order == [1, 2, 0]


async def test_keys_that_do_not_sort_with_the_others_fail() -> None:
    recs = keyed(2, "two", None, 1, True) + make_records({"i": 5}, node="other")
    order, out = await order_of(config("{by: k}"), recs)
    assert order == [3, 0]
    assert [(r.data["i"], kind) for r, kind, _ in out.failed] == [
        (1, "sort_error"),
        (2, "sort_error"),
        (4, "sort_error"),
        (5, "sort_error"),
    ]
    assert "'k' gave 'two', which does not sort with the other keys (number)" in out.failed[0][2]


async def test_nulls_last_go_after_the_others_in_arrival_order() -> None:
    order, out = await order_of(
        config("{by: k, nulls: last, descending: true}"), keyed(None, 1, None, 5)
    )
    assert order == [3, 1, 0, 2]
    assert out.failed == []


async def test_nothing_in_nothing_out() -> None:
    order, out = await order_of(config("{by: k}"), [])
    assert order == [] and out.counted_in == 0
