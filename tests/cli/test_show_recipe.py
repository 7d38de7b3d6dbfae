"""``synthdsl show-recipe NAME``: the parameter table, and exit 2 for an unknown name."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.cli import main


def test_a_builtin_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show-recipe", "doc_qa_generate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("doc_qa_generate\n")
    assert "parameter" in out and "range/choices" in out
    (mode,) = [line for line in out.splitlines() if line.startswith("mode ")]
    assert mode.split()[:5] == ["mode", "enum", "'qa'", "qa,", "cot,"]


def test_a_project_recipe_with_a_required_parameter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "mine.yaml").write_text(
        "synthdsl: 1\nname: mine\nparams:\n  k: {type: integer, min: 1, description: how many}\n"
        "steps: [{id: s, set: {a: '1'}}]\n",
        encoding="utf-8",
    )
    assert main(["show-recipe", "mine"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].split() == ["k", "integer", "(required)", ">=", "1", "how", "many"]


def test_an_unknown_name_exits_2_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show-recipe", "doc_qa_generat"]) == 2
    err = capsys.readouterr().err
    assert "recipe 'doc_qa_generat' not found" in err
    assert "did you mean 'doc_qa_generate'?" in err
