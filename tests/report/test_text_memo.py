"""The card and the report of one run share their text statistics and diversity metrics:
the metrics are computed once per run, and a report built on its own still computes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.report import textstats

RECIPE = """
synthdsl: 1
name: memo
sources:
  notes: {path: notes.jsonl, license: cc0-1.0}
steps:
  - id: keep
    from: notes
    filter: "len(text) > 0"
output: {from: keep, fields: [title, text], license: cc0-1.0}
"""

WORDS = "river stone cloud light music paper garden window ocean forest city bridge".split()


@pytest.fixture
def memo(monkeypatch: pytest.MonkeyPatch) -> textstats.TextMemo:
    """A fresh memo, so that no earlier test's results are found in it."""
    fresh = textstats.TextMemo()
    monkeypatch.setattr(textstats, "MEMO", fresh)
    return fresh


def write_project(project: Path, rows: int = 120) -> Path:
    with (project / "notes.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(rows):
            words = [WORDS[(i * 7 + k * k) % len(WORDS)] for k in range(12 + i % 9)]
            fh.write(json.dumps({"title": f"note {i}", "text": " ".join(words)}) + "\n")
    recipe = project / "recipe.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    return recipe


def test_a_run_computes_the_metrics_once_for_card_and_report(
    tmp_path: Path, memo: textstats.TextMemo
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(write_project(tmp_path)), "--quiet", "--out", str(out)]) == 0
    assert memo.computed == 1
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "`text` (120 texts)" in card and "not computed" not in card
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "distinct_2" in report and "Diversity metrics unavailable" not in report

    # the report of the same run, built on its own in a fresh process, is the same page
    fresh = textstats.TextMemo()
    textstats.MEMO = fresh  # restored by the fixture's monkeypatch
    again = tmp_path / "again.html"
    assert main(["report", str(out), "--out", str(again)]) == 0
    assert fresh.computed == 1
    assert again.read_text(encoding="utf-8") == report


def test_the_card_computes_the_metrics_without_the_report(
    tmp_path: Path, memo: textstats.TextMemo
) -> None:
    out = tmp_path / "out"
    recipe = write_project(tmp_path)
    assert main(["run", str(recipe), "--quiet", "--out", str(out), "--no-report"]) == 0
    assert not (out / "report.html").exists()
    assert memo.computed == 1
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "`text` (120 texts)" in card and "not computed" not in card


def test_different_texts_are_measured_again(tmp_path: Path, memo: textstats.TextMemo) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for project, rows in ((first, 120), (second, 130)):
        project.mkdir()
        recipe = write_project(project, rows)
        assert main(["run", str(recipe), "--quiet", "--out", str(project / "out")]) == 0
    assert memo.computed == 2


def test_a_changed_result_does_not_change_the_remembered_one(memo: textstats.TextMemo) -> None:
    ts = textstats.TextStats(fields=["text"], texts={"text": [f"a b c {i}" for i in range(60)]})
    first = textstats.diversity(ts)
    assert first.available and memo.computed == 1
    first.metrics["text"]["distinct_1"] = -1.0
    second = textstats.diversity(ts)
    assert memo.computed == 1
    assert second.metrics["text"]["distinct_1"] != -1.0
