"""The ``select`` kind: keep or drop fields; records keep their identity."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.select import SelectConfig
from synthdsl.records import Record

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    configure,
    described,
    emitted,
    make_node,
    run_map,
)

KIND = node_kind("select")


def config(options: str) -> SelectConfig:
    done = configure(
        f"""
        steps:
          - id: pick
            select: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: SelectConfig = done.config
    return cfg


def test_configure_keep_and_drop_with_spans() -> None:
    keep = config("{keep: [instruction, response]}")
    assert (keep.keep, keep.drop) == (["instruction", "response"], [])
    assert KIND.read_fields(keep) == [
        ("instruction", Span(FILE, 3, 21)),
        ("response", Span(FILE, 3, 34)),
    ]
    drop = config("{drop: [demos]}")
    assert (drop.keep, drop.drop) == (None, ["demos"])


def test_both_or_neither_is_an_error_at_the_config() -> None:
    done = configure(
        """
        steps:
          - id: a
            select: {keep: [x], drop: [y]}
          - id: b
            select: {}
        """
    )
    assert done.messages == ["select needs exactly one of 'keep' or 'drop'"]
    assert done.diagnostics[0].span == Span(FILE, 3, 13)
    neither = configure(done.ctx.doc.text, step=1)
    assert neither.at("select needs exactly one") == Span(FILE, 5, 13)


def test_output_fields_estimate_and_describe() -> None:
    keep = config("{keep: [b, a, zz]}")
    assert KIND.supports_when(keep) is True
    # Kept in the order written; a field not upstream is left out unless fields are unknown.
    assert KIND.output_fields(keep, ["a", "b", "c"]) == ["b", "a"]
    assert KIND.output_fields(keep, ["*"]) == ["b", "a", "zz"]
    drop = config("{drop: [c]}")
    assert KIND.output_fields(drop, ["a", "b", "c"]) == ["a", "b"]
    assert KIND.estimate(make_node("select", keep), 3, FakeEstimator()).records == 3
    assert described(KIND, keep) == {"keep": ["b", "a", "zz"]}
    assert described(KIND, drop) == {"drop": ["c"]}


async def test_records_keep_their_id_lineage_and_meta() -> None:
    rec = Record("r1", {"a": 1, "b": 2, "c": 3}, ("p0",), "gen", {"model": "m"})
    (kept,) = emitted(
        (
            await run_map(
                KIND.map_runner(make_node("select", config("{keep: [c, a, zz]}")), FakeRuntime()),
                [rec],
            )
        )[0]
    )
    assert kept.data == {"c": 3, "a": 1}
    assert list(kept.data) == ["c", "a"]
    assert (kept.id, kept.parents, kept.node, kept.meta) == ("r1", ("p0",), "gen", {"model": "m"})
    (rest,) = emitted(
        (
            await run_map(
                KIND.map_runner(make_node("select", config("{drop: [b, zz]}")), FakeRuntime()),
                [rec],
            )
        )[0]
    )
    assert rest.data == {"a": 1, "c": 3}
    assert rec.data == {"a": 1, "b": 2, "c": 3}
