"""``synthdsl init``: a starter project that validates and runs as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_completed

from synthdsl.cli import main
from synthdsl.lang.schema.check import recipe_schema
from synthdsl.testing.fake_openai import FakeOpenAIServer

FILES = {
    "recipe.yaml",
    "prompts/question.j2",
    "prompts/answer.j2",
    "prompts/judge_answer.j2",
    "data/topics.jsonl",
    ".gitignore",
    ".synthdsl/recipe.schema.json",
}


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_init_writes_the_scaffold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert _files(root) == FILES
    recipe = (root / "recipe.yaml").read_text("utf-8")
    assert recipe.splitlines()[0] == "# yaml-language-server: $schema=.synthdsl/recipe.schema.json"
    assert "synthdsl schema --out .synthdsl/recipe.schema.json" in recipe
    assert json.loads((root / ".synthdsl/recipe.schema.json").read_text("utf-8")) == recipe_schema()
    ignored = (root / ".gitignore").read_text("utf-8").splitlines()
    assert "out/" in ignored and ".synthdsl/" in ignored
    assert len((root / "data/topics.jsonl").read_text("utf-8").splitlines()) >= 3
    out = capsys.readouterr().out
    for command in ("synthdsl validate recipe.yaml", "synthdsl plan", "synthdsl run"):
        assert command in out


def test_init_defaults_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert _files(tmp_path) == FILES
    assert "cd " not in capsys.readouterr().out
    assert main(["validate", "recipe.yaml"]) == 0


def test_the_scaffold_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert main(["validate", str(tmp_path / "recipe.yaml")]) == 0
    assert "ok (6 nodes, 3 LLM steps)" in capsys.readouterr().out


def test_the_scaffold_runs_end_to_end(server: FakeOpenAIServer, project: Path) -> None:
    assert main(["init"]) == 0
    rows, _rejects, manifest = run_completed(
        project / "recipe.yaml",
        project / "out",
        "--model",
        "openai/fake",
        "--api-base",
        server.base_url,
    )
    topics = len((project / "data/topics.jsonl").read_text("utf-8").splitlines())
    assert manifest["totals"]["calls"] == 3 * topics  # ask, answer, judge per topic
    assert set(manifest["models"]) == {"openai/fake"}
    for row in rows:
        assert {"topic", "instruction", "response", "score"} <= set(row)


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "recipe.yaml").write_text("mine\n", encoding="utf-8")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "answer.j2").write_text("mine too\n", encoding="utf-8")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "recipe.yaml" in err and "prompts/answer.j2" in err and "--force" in err
    assert _files(tmp_path) == {"recipe.yaml", "prompts/answer.j2"}  # nothing written
    assert (tmp_path / "recipe.yaml").read_text("utf-8") == "mine\n"


def test_init_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "recipe.yaml").write_text("mine\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("kept\n", encoding="utf-8")
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert _files(tmp_path) == FILES | {"notes.txt"}
    assert (tmp_path / "recipe.yaml").read_text("utf-8").startswith("# yaml-language-server:")
    assert (tmp_path / "notes.txt").read_text("utf-8") == "kept\n"
