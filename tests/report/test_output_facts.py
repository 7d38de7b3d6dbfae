"""The report of a run built from what the run gathered as it wrote (``io/output_facts``)
is the report built by reading the files back."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from synthdsl.api import run_recipe
from synthdsl.io.output_facts import MAX_GROUPS, FirstRows, RejectGroups
from synthdsl.report import build_report
from synthdsl.report.data import load_run
from synthdsl.run.options import RunOptions

RECIPE = """
synthdsl: 1
name: facts
sources:
  rows: {path: rows.jsonl}
steps:
  - id: keep
    filter: "words(text) >= 3 and score >= 2"
  - id: unique
    dedup: {field: text}
"""


def _rows(n: int) -> list[dict[str, object]]:
    words = ["alpha", "beta", "gamma", "délta", "ε", "zeta", "eta", "θ"]
    out = []
    for i in range(n):
        k = 1 + (i * 7) % 9
        text = " ".join(words[(i + j * 3) % len(words)] for j in range(k))
        row: dict[str, object] = {"text": text if i % 5 else text.upper(), "score": i % 4}
        if i % 3 == 0:
            row["tags"] = ["a", i, {"deep": [1.5, None, True]}]
        if i % 11 == 0:
            row["note"] = "x" * 400  # trimmed in examples
        out.append(row)
    return out


def _run(tmp_path: Path, n: int) -> tuple[Path, object]:
    (tmp_path / "rows.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows(n)), "utf-8"
    )
    (tmp_path / "r.yaml").write_text(RECIPE, "utf-8")
    out = tmp_path / "out"
    result = run_recipe(tmp_path / "r.yaml", options=RunOptions(out_dir=str(out), report=False))
    assert result.status == "completed" and result.facts is not None
    return out, result.facts


def test_the_page_is_the_same_either_way(tmp_path: Path) -> None:
    out, facts = _run(tmp_path, 600)
    read_back = load_run(out)
    assert read_back.records_read > 3 and read_back.rejects_total > 0
    assert len(read_back.reject_groups) >= 2  # the filter's drops and the dedup's
    assert build_report(out, facts=facts) == build_report(out)  # type: ignore[arg-type]


def test_the_facts_stand_in_for_the_files(tmp_path: Path) -> None:
    out, facts = _run(tmp_path, 50)
    before = load_run(out)
    (out / "dataset.jsonl").write_text("not json\n", "utf-8")
    (out / "rejects.jsonl").write_text("", "utf-8")
    now = load_run(out, facts=facts)  # type: ignore[arg-type]
    assert (now.records_read, now.bad_dataset_lines) == (before.records_read, 0)
    assert now.rejects_total == before.rejects_total
    assert now.kept_examples == before.kept_examples
    assert now.sample == before.sample
    # read back, the damaged files say otherwise
    assert load_run(out).bad_dataset_lines == 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=0, max_size=9),
        max_size=6,
    )
)
def test_first_rows_by_block_are_first_rows_one_by_one(blocks: list[list[str]]) -> None:
    one, many = FirstRows(), FirstRows()
    n = 0
    for block in blocks:
        rows = [{"_provenance": {"id": rid}, "n": n + i} for i, rid in enumerate(block)]
        n += len(rows)
        for row in rows:
            one.add(row)
        many.add_block(rows, list(block))
    assert many.rows() == one.rows() and many.seen == one.seen == n


def test_groups_past_the_cap_count_as_other() -> None:
    groups = RejectGroups()
    for i in range(MAX_GROUPS + 7):
        groups.add({"node": "n", "status": "dropped", "reason": f"r{i:04d}"})
    ordered = groups.ordered()
    assert len(ordered) == MAX_GROUPS + 1
    assert (ordered[-1].node, ordered[-1].count, ordered[-1].examples) == ("(other)", 7, [])
    assert groups.total == MAX_GROUPS + 7
