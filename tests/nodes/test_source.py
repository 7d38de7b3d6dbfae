"""The ``source`` kind: declared sources (inline records or files) as the graph's roots.

Sources are declarations (``sources:``), parsed and checked by ``synthdsl.lang.decls``,
not by a ``configure`` hook; these tests start from a ``SourceDecl``.
"""

from __future__ import annotations

from pathlib import Path

from synthdsl.errors import Span
from synthdsl.ir import SourceDecl
from synthdsl.nodes import node_kind, source_node
from synthdsl.nodes.source import resolved_path
from synthdsl.records import derive_id

from .kit import FILE, FakeEstimator, FakeRuntime, described, run_stream

KIND = node_kind("source")
AT = Span(FILE, 2, 3)


def inline(limit: int | None = None) -> SourceDecl:
    rows = ({"a": 1}, {"b": 2, "a": 3}, {"c": 4})
    return SourceDecl("seeds", AT, records=rows, limit=limit)


def test_source_nodes_and_fields() -> None:
    node = source_node("seeds", inline(), "r.yaml")
    assert (node.id, node.kind, node.inputs, node.span, node.origin) == (
        "seeds",
        "source",
        [],
        AT,
        "r.yaml",
    )
    assert KIND.upstream_fields(node.config, {"x": ["y"]}) == []
    assert KIND.output_fields(inline(), []) == ["a", "b", "c"]  # first-seen order
    declared = SourceDecl("s", AT, records=({"a": 1},), fields=("z", "a"))
    assert KIND.output_fields(declared, []) == ["z", "a"]


def test_file_fields_are_peeked_or_unknown(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"q": 1, "r": 2}\n{"s": 3}\n', encoding="utf-8")
    decl = SourceDecl("rows", AT, path="rows.jsonl", base_dir=str(tmp_path))
    assert resolved_path(decl) == tmp_path / "rows.jsonl"
    assert KIND.output_fields(decl, []) == ["q", "r", "s"]
    gone = SourceDecl("gone", AT, path="missing.jsonl", base_dir=str(tmp_path))
    assert KIND.output_fields(gone, []) == ["*"]


def test_estimate(tmp_path: Path) -> None:
    assert KIND.estimate(source_node("s", inline(), None), None, FakeEstimator()).records == 3
    assert KIND.estimate(source_node("s", inline(2), None), None, FakeEstimator()).records == 2
    (tmp_path / "rows.jsonl").write_text('{"q": 1}\n\n{"q": 2}\n{"q": 3}\n', encoding="utf-8")
    jsonl = SourceDecl("rows", AT, path="rows.jsonl", base_dir=str(tmp_path))
    est = KIND.estimate(source_node("rows", jsonl, None), None, FakeEstimator())
    assert (est.records, est.exact) == (3, True)  # blank lines are not rows
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    csv = SourceDecl("t", AT, path="t.csv", base_dir=str(tmp_path))
    est = KIND.estimate(source_node("t", csv, None), None, FakeEstimator())
    assert (est.records, est.exact) == (2, False)  # quoted newlines could change it
    folder = SourceDecl("docs", AT, path=".", base_dir=str(tmp_path), limit=5)
    est = KIND.estimate(source_node("docs", folder, None), None, FakeEstimator())
    assert (est.records, est.exact) == (5, False)


def test_describe() -> None:
    assert described(KIND, inline(2)) == {"format": "auto", "records": 3, "limit": 2}
    decl = SourceDecl("rows", AT, path="rows.jsonl", format="jsonl")
    assert described(KIND, decl) == {"format": "jsonl", "path": "rows.jsonl"}


async def test_inline_rows_become_records_with_positional_ids() -> None:
    out = await run_stream(
        KIND.stream_runner(source_node("seeds", inline(), None), FakeRuntime()), {}
    )
    assert [r.data for r in out.emitted] == [{"a": 1}, {"b": 2, "a": 3}, {"c": 4}]
    assert [r.id for r in out.emitted] == [derive_id("seeds", (), i) for i in range(3)]
    assert [r.meta for r in out.emitted] == [{"source": "seeds", "row": i} for i in range(3)]
    assert all(r.node == "seeds" and r.parents == () for r in out.emitted)
    assert (out.counted_in, out.passed) == (3, 3)


async def test_the_declared_limit_and_the_run_limit_both_cap() -> None:
    capped = await run_stream(
        KIND.stream_runner(source_node("s", inline(2), None), FakeRuntime()), {}
    )
    assert len(capped.emitted) == 2
    run_cap = await run_stream(
        KIND.stream_runner(source_node("s", inline(), None), FakeRuntime(limit=1)), {}
    )
    assert [r.data for r in run_cap.emitted] == [{"a": 1}]


async def test_file_rows_are_read(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"q": 1}\n{"q": 2}\n{"q": 3}\n', encoding="utf-8")
    decl = SourceDecl("rows", AT, path="rows.jsonl", base_dir=str(tmp_path))
    out = await run_stream(
        KIND.stream_runner(source_node("rows", decl, None), FakeRuntime(limit=2)), {}
    )
    assert [r.data for r in out.emitted] == [{"q": 1}, {"q": 2}]
