"""The ``chunk`` kind: option checks with positions, fields, and chunks of real text."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.chunk import CHUNK_FIELDS, ChunkConfig
from synthdsl.records import derive_id

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    configure,
    described,
    dropped,
    emitted,
    make_node,
    make_records,
    run_map,
)

KIND = node_kind("chunk")


def config(options: str) -> ChunkConfig:
    done = configure(
        f"""
        steps:
          - id: cut
            chunk: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: ChunkConfig = done.config
    return cfg


def test_configure_reads_options_and_defaults() -> None:
    cfg = config("{field: body, size: 3, overlap: 1, unit: chars, into: piece, keep_text: true}")
    assert (cfg.field, cfg.size, cfg.overlap, cfg.unit, cfg.into, cfg.keep_text) == (
        "body",
        3,
        1,
        "chars",
        "piece",
        True,
    )
    assert cfg.field_span == Span(FILE, 3, 20)
    default = config("{}")
    assert (default.field, default.size, default.overlap, default.unit, default.into) == (
        "text",
        512,
        64,
        "tokens",
        "chunk",
    )
    # No 'field' written: a missing field is reported at the step's 'chunk' key.
    assert default.field_span == Span(FILE, 3, 5)


def test_an_overlap_not_below_the_size_is_reported_where_it_is_written() -> None:
    done = configure(
        """
        steps:
          - id: cut
            chunk:
              size: 10
              overlap: 10
        """
    )
    assert done.at("chunk overlap (10) must be smaller than size (10)") == Span(FILE, 5, 16)
    assert done.diagnostics[0].hint == "set overlap below 10, e.g. overlap: 1"


def test_a_size_below_the_default_overlap_is_reported_at_the_size() -> None:
    done = configure(
        """
        steps:
          - id: cut
            chunk:
              size: 32
        """
    )
    assert done.at("chunk overlap (64) must be smaller than size (32)") == Span(FILE, 4, 13)
    hint = done.diagnostics[0].hint
    assert hint is not None and "(the default is 64)" in hint


def test_other_option_errors() -> None:
    done = configure(
        """
        steps:
          - id: cut
            chunk:
              size: big
              unit: lines
              keep_text: true
              into: text
        """
    )
    assert done.at("'size' must be a whole number, got 'big'") == Span(FILE, 4, 13)
    assert done.at("unknown unit 'lines'") == Span(FILE, 5, 13)
    assert done.at("'into' is 'text', the field being chunked") == Span(FILE, 7, 13)
    negative = configure(
        """
        steps:
          - id: cut
            chunk: {size: 0, overlap: -1}
        """
    )
    assert negative.messages == [
        "'size' must be at least 1, got 0",
        "'overlap' must be 0 or more, got -1",
    ]


def test_compile_hooks_estimate_and_describe() -> None:
    cfg = config("{field: body, size: 3, overlap: 1}")
    assert KIND.supports_when(cfg) is False
    assert KIND.read_fields(cfg) == [("body", Span(FILE, 3, 20))]
    assert KIND.output_fields(cfg, ["body", "title", "chunk_index"]) == [
        "title",
        "chunk",
        *CHUNK_FIELDS,
    ]
    cfg.keep_text = True
    assert KIND.output_fields(cfg, ["body", "title"]) == ["body", "title", "chunk", *CHUNK_FIELDS]
    node = make_node("chunk", cfg)
    assert KIND.estimate(node, 0, FakeEstimator()).records == 0
    est = KIND.estimate(node, 5, FakeEstimator())
    assert (est.records, est.exact) == (None, False)
    assert described(KIND, cfg) == {
        "field": "body",
        "size": 3,
        "overlap": 1,
        "unit": "tokens",
        "into": "chunk",
        "keep_text": True,
    }


async def test_chunks_overlap_and_keep_the_other_fields() -> None:
    cfg = config("{size: 3, overlap: 1}")
    (rec,) = make_records({"text": "a b c d e f", "title": "T", "chunk_index": 99})
    (outcome,) = await run_map(
        KIND.map_runner(make_node("chunk", cfg, "cut"), FakeRuntime()), [rec]
    )
    out = emitted(outcome)
    # Three tokens a chunk, one shared with the next: "a b c", "c d e", "e f".
    assert [r.data["chunk"] for r in out] == ["a b c", "c d e", "e f"]
    assert [(r.data["chunk_start"], r.data["chunk_end"]) for r in out] == [(0, 5), (4, 9), (8, 11)]
    for r in out:
        assert rec.data["text"][r.data["chunk_start"] : r.data["chunk_end"]] == r.data["chunk"]
    assert [r.data["chunk_index"] for r in out] == [0, 1, 2]
    assert {r.data["chunk_count"] for r in out} == {3}
    assert all(r.data["title"] == "T" and "text" not in r.data for r in out)
    assert [r.id for r in out] == [derive_id("cut", (rec.id,), i) for i in range(3)]


async def test_keep_text_keeps_the_source_field() -> None:
    cfg = config("{size: 3, overlap: 0, keep_text: true}")
    (outcome,) = await run_map(
        KIND.map_runner(make_node("chunk", cfg, "cut"), FakeRuntime()),
        make_records({"text": "one two"}),
    )
    (only,) = emitted(outcome)
    assert only.data["text"] == "one two" and only.data["chunk"] == "one two"


async def test_missing_wrong_or_empty_text_is_dropped() -> None:
    cfg = config("{}")
    runner = KIND.map_runner(make_node("chunk", cfg, "cut"), FakeRuntime())
    missing, number, blank = await run_map(
        runner, make_records({"body": "x"}, {"text": 3}, {"text": " \n\t"})
    )
    assert dropped(missing).reason == "chunk: no field 'text'"
    assert (dropped(number).reason, dropped(number).detail) == (
        "chunk: field 'text' is not text",
        {"type": "int"},
    )
    assert dropped(blank).reason == "chunk: empty text"
