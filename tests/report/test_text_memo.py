"""The card and the report of one run share their text statistics and diversity metrics:
the metrics are computed once per run; a later process (a re-run of an unchanged dataset,
a report built on its own) reads them back from disk, and computes them again when the
texts, the measuring code or the file itself differ."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
def memo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> textstats.TextMemo:
    """A fresh memo and disk folder, so that no earlier test's results are found."""
    fresh = textstats.TextMemo()
    monkeypatch.setattr(textstats, "MEMO", fresh)
    monkeypatch.setattr(textstats, "DISK", textstats.DiskMemo(tmp_path / "textstats"))
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

    # the report of the same run, built on its own in a fresh process, is the same page:
    # read back from disk, not computed again
    fresh = textstats.TextMemo()
    textstats.MEMO = fresh  # restored by the fixture's monkeypatch
    reads = textstats.DISK.reads
    again = tmp_path / "again.html"
    assert main(["report", str(out), "--out", str(again)]) == 0
    assert fresh.computed == 0 and textstats.DISK.reads == reads + 2  # stats, diversity
    assert again.read_text(encoding="utf-8") == report

    # without the files on disk, it computes them again, to the same page
    for f in (tmp_path / "textstats").iterdir():
        f.unlink()
    textstats.MEMO = fresh = textstats.TextMemo()
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


def test_damaged_or_foreign_files_are_measured_again(memo: textstats.TextMemo) -> None:
    ts = textstats.TextStats(fields=["text"], texts={"text": [f"a b c {i}" for i in range(60)]})
    first = textstats.diversity(ts)
    files = sorted(textstats.DISK.where().glob("diversity-*.json"))
    assert len(files) == 1 and memo.computed == 1
    for damage in ("{not json", json.dumps({"format": "someone-else", "metrics": {}}), "[]"):
        files[0].write_text(damage, encoding="utf-8")
        textstats.MEMO = textstats.TextMemo()
        again = textstats.diversity(ts)
        assert textstats.MEMO.computed == 1, damage
        assert again.metrics == first.metrics and again.flags == first.flags
    # the rewritten file is read back whole: metrics, thresholds, flags
    textstats.MEMO = textstats.TextMemo()
    back = textstats.diversity(ts)
    assert textstats.MEMO.computed == 0
    assert (back.metrics, back.thresholds, back.flags, back.too_few) == (
        first.metrics,
        first.thresholds,
        first.flags,
        first.too_few,
    )


def test_other_measuring_code_is_another_key(memo: textstats.TextMemo, tmp_path: Path) -> None:
    fake = tmp_path / "pkg" / "__init__.py"
    fake.parent.mkdir()
    fake.write_text("x = 1\n", encoding="utf-8")
    before = textstats.DISK.code_digest(str(fake))
    assert textstats.DiskMemo(tmp_path).code_digest(str(fake)) == before
    fake.write_text("x = 22\n", encoding="utf-8")  # another size: another digest
    assert textstats.DiskMemo(tmp_path).code_digest(str(fake)) != before


def test_the_disk_keeps_a_bounded_number_of_files(memo: textstats.TextMemo) -> None:
    textstats.DISK.KEEP = 3  # an instance attribute: the fixture's object only
    for n in range(5):
        ts = textstats.TextStats(["text"], texts={"text": [f"word {n} {i}" for i in range(5)]})
        textstats.diversity(ts)
    assert len(list(textstats.DISK.where().glob("*.json"))) == 3


RERUN = """
synthdsl: 1
name: rerun
models:
  gen: {{model: openai/fake, api_base: "{url}", max_tokens: 16}}
sources:
  s: {{path: rows.jsonl}}
steps:
  - id: g
    generate: {{template: "say something about {{{{ topic }}}}", model: gen}}
"""

PROBE = """
import sys
from synthdsl.cli import main
code = main(sys.argv[1:])
print(code, "numpy" in sys.modules, "aiohttp" in sys.modules)
"""


def test_a_cached_rerun_loads_neither_numpy_nor_aiohttp(tmp_path: Path, server: Any) -> None:
    """A re-run answered from the cache, of an unchanged dataset, reads the card's metrics
    back from disk: it never imports numpy (the metrics) nor aiohttp (the client)."""
    rows = "".join(json.dumps({"topic": f"topic {i}"}) + "\n" for i in range(80))
    (tmp_path / "rows.jsonl").write_text(rows, encoding="utf-8")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RERUN.format(url=server.base_url), encoding="utf-8")
    env = {**os.environ, "SYNTHDSL_CACHE": str(tmp_path / "c" / "cache.sqlite")}
    out = tmp_path / "out"
    argv = [sys.executable, "-c", PROBE, "run", str(recipe), "--quiet", "--no-report"]
    argv += ["--out", str(out)]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[-3:] == ["0", "True", "True"], first.stdout
    computed = (out / "README.md").read_text(encoding="utf-8")
    again = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    assert again.stdout.split()[-3:] == ["0", "False", "False"], again.stdout
    assert "calls 0, cache hits 80" in again.stdout + again.stderr
    card = (out / "README.md").read_text(encoding="utf-8")
    section = computed[computed.index("## Collapse flags") :].split("\n## ")[0]
    assert "diversity metric" in section and "(80 texts)" in section
    assert section in card  # the same judgement, read back
