"""``synthdsl schema``: the recipe JSON Schema on stdout or in a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.lang.schema.check import recipe_schema


def test_schema_prints_the_recipe_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == recipe_schema()


def test_schema_out_writes_the_file_creating_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "a" / "b" / "recipe.schema.json"
    assert main(["schema", "--out", str(target)]) == 0
    assert json.loads(target.read_text("utf-8")) == recipe_schema()
    assert capsys.readouterr().out.strip() == str(target)


def test_schema_out_unwritable_is_a_run_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert main(["schema", "--out", str(blocker / "recipe.schema.json")]) == 1
    assert "cannot write the schema" in capsys.readouterr().err
