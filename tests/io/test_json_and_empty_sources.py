"""``.json`` sources are read by ``run`` as ``validate`` accepts them, and a source
that yields no rows stops the run unless the recipe says it may be empty.

Before: a ``.json`` array passed ``validate`` and failed ``run`` ("cannot tell the
format"), and an empty source made a run that exited 0 with nothing in it. ``validate``
now finds an empty source (exit 2); the run's own check (exit 1) is tested in
``test_hf_sources.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import read_jsonl

from synthdsl.cli import main
from synthdsl.io.readers import read_source


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ('[{"x": 1}, {"x": 2}]', [{"x": 1}, {"x": 2}]),
        ('{"data": [{"x": 1}, {"x": 2}]}', [{"x": 1}, {"x": 2}]),
        ('{"x": 1}', [{"x": 1}]),
        ('{"x": 1}\n{"x": 2}\n', [{"x": 1}, {"x": 2}]),  # JSON Lines in a .json file
    ],
    ids=["array", "wrapped array", "one object", "json lines"],
)
def test_the_shapes_a_json_file_takes(tmp_path: Path, text: str, rows: list[object]) -> None:
    (tmp_path / "d.json").write_text(text, encoding="utf-8")
    assert list(read_source(tmp_path / "d.json")) == rows


def test_a_json_file_that_is_not_rows_is_an_error_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text('[{"x": 1},\n 5]', encoding="utf-8")
    with pytest.raises(Exception, match="item 2 is not a JSON object"):
        list(read_source(tmp_path / "d.json"))
    (tmp_path / "d.json").write_text('[{"x": 1},\n {"x": ]', encoding="utf-8")
    with pytest.raises(Exception, match=r"d.json:2: invalid JSON"):
        list(read_source(tmp_path / "d.json"))


def _recipe(tmp_path: Path, source: str) -> Path:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"synthdsl: 1\nsources:\n  s: {source}\nsteps:\n  - id: f\n    filter: 'x > 0'\n",
        encoding="utf-8",
    )
    return recipe


def test_what_validate_accepts_run_reads(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text(json.dumps([{"x": 1}, {"x": -1}]), encoding="utf-8")
    recipe = _recipe(tmp_path, "{path: d.json}")
    assert main(["validate", str(recipe)]) == 0
    assert main(["run", str(recipe), "--quiet", "--out", str(tmp_path / "out")]) == 0
    assert [r["x"] for r in read_jsonl(tmp_path / "out" / "dataset.jsonl")] == [1]


def test_an_empty_source_is_a_recipe_error_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "none.jsonl").write_text("", encoding="utf-8")
    recipe = _recipe(tmp_path, "{path: none.jsonl}")
    assert main(["run", str(recipe), "--quiet", "--out", str(tmp_path / "a")]) == 2
    assert f"{recipe}:3:13: error: source 's' (none.jsonl) has no rows" in capsys.readouterr().err
    assert not (tmp_path / "a" / "manifest.json").exists()
    recipe = _recipe(tmp_path, "{path: none.jsonl, allow_empty: true}")
    assert main(["run", str(recipe), "--quiet", "--out", str(tmp_path / "b")]) == 0
