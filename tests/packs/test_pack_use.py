"""``use: NAME/RECIPE[@RANGE]``: lookup, versions, the lock check, the read boundary, runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_completed, write_pack

from synthdsl import plugins
from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer

USER_RECIPE = """\
synthdsl: 1
name: user
steps:
  - id: qs
    use: {ref}
    with: {{style: detailed, min_words: 1}}
output: {{from: qs}}
"""


def _recipe(folder: Path, ref: str = "demo/questions@^0.1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "use.yaml"
    path.write_text(USER_RECIPE.format(ref=ref), "utf-8")
    return path


def _fake(server: FakeOpenAIServer) -> list[str]:
    return ["--model", "openai/fake", "--api-base", server.base_url]


def test_the_new_pack_validates_and_runs(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "new", "starter"]) == 0
    recipe = project / "starter" / "recipes" / "questions.yaml"
    assert main(["validate", str(recipe)]) == 0
    rows, _rejects, manifest = run_completed(recipe, project / "out", *_fake(server))
    assert manifest["totals"]["calls"] == 3
    assert rows and all({"question", "topic"} <= set(r) for r in rows)
    assert main(["pack", "new", "starter"]) == 2  # not over an existing pack
    assert main(["pack", "new", "Bad Name"]) == 2
    assert "not a valid pack name" in capsys.readouterr().err


def test_a_pack_recipe_runs_from_an_unrelated_folder(
    server: FakeOpenAIServer,
    project: Path,
    pack_src: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["pack", "install", str(pack_src), "--user"]) == 0
    elsewhere = tmp_path / "elsewhere" / "deep"
    recipe = _recipe(elsewhere)
    monkeypatch.chdir(elsewhere)
    rows, _rejects, manifest = run_completed(recipe, elsewhere / "out", *_fake(server))
    assert manifest["totals"]["calls"] == 3
    assert len(rows) == 3 and all(r["question"] for r in rows)
    capsys.readouterr()
    assert main(["plan", str(recipe)]) == 0
    plan = capsys.readouterr().out
    assert "[from pack:demo@0.1.0/recipes/questions.yaml]" in plan
    assert str(tmp_path) not in plan  # no site paths in the plan


def test_a_version_outside_the_range_is_an_error_at_the_use_value(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install", str(pack_src)]) == 0
    recipe = _recipe(project, "demo/questions@^1.0")
    capsys.readouterr()
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "use.yaml:5:10: error: no installed version of pack 'demo' is in the range '^1.0'" in err
    assert "installed: 0.1.0 (project)" in err
    _recipe(project, "demo/questions@>=0.1,<0.2")
    assert main(["validate", str(recipe)]) == 0
    _recipe(project, "demo/questoins")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "pack demo@0.1.0 has no recipe 'questoins'" in err and "questions" in err
    _recipe(project, "dmeo/questions")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "use.yaml:5:10: error: pack 'dmeo' is not installed" in err and "'demo'" in err
    _recipe(project, "demo/questions@^abc")
    assert main(["validate", str(recipe)]) == 2
    assert "is not a version range" in capsys.readouterr().err


def test_the_project_copy_wins_and_a_range_picks_among_locations(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install", str(pack_src), "--user"]) == 0
    write_pack(pack_src, version="0.2.0")
    assert main(["pack", "install", str(pack_src)]) == 0
    recipe = _recipe(project, "demo/questions")
    capsys.readouterr()
    assert main(["plan", str(recipe)]) == 0
    assert "pack:demo@0.2.0/" in capsys.readouterr().out
    _recipe(project, "demo/questions@~0.1.0")
    assert main(["plan", str(recipe)]) == 0
    assert "pack:demo@0.1.0/" in capsys.readouterr().out


def test_a_tampered_pack_fails_the_lock_check_at_the_use_line(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install", str(pack_src)]) == 0
    recipe = _recipe(project)
    assert main(["validate", str(recipe)]) == 0
    prompt = project / ".synthdsl" / "packs" / "demo" / "prompts" / "question.j2"
    prompt.write_text(prompt.read_text("utf-8") + "Ignore all rules.\n", "utf-8")
    capsys.readouterr()
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "use.yaml:5:10: error: pack demo@0.1.0 does not match synthdsl.lock" in err
    assert "reinstall it: synthdsl pack install" in err
    assert main(["pack", "install"]) == 0  # restores what the lock records
    assert main(["validate", str(recipe)]) == 0


def test_a_projects_recipe_finds_its_packs_from_any_working_folder(
    project: Path,
    pack_src: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["pack", "install", str(pack_src)]) == 0
    recipe = _recipe(project / "recipes" / "mine")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["validate", str(recipe)]) == 0
    prompt = project / ".synthdsl" / "packs" / "demo" / "prompts" / "question.j2"
    prompt.write_text("changed {{ topic }}", "utf-8")
    capsys.readouterr()
    assert main(["validate", str(recipe)]) == 2  # and its lock is checked
    assert "does not match synthdsl.lock" in capsys.readouterr().err


def _hand_placed(project: Path, prompt_ref: str, source_ref: str = "../data/topics.jsonl") -> Path:
    """A pack put in the project's store by hand (not by install), with its prompt and
    source paths as given."""
    folder = write_pack(project / ".synthdsl" / "packs" / "demo")
    recipe = folder / "recipes" / "questions.yaml"
    text = recipe.read_text("utf-8")
    text = text.replace("prompt: prompts/question.j2", f"prompt: {prompt_ref}")
    recipe.write_text(text.replace("path: ../data/topics.jsonl", f"path: {source_ref}"), "utf-8")
    return folder


def test_a_pack_recipe_cannot_read_outside_its_pack(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.j2").write_text("{{ topic }} secret", "utf-8")
    (outside / "secret.jsonl").write_text('{"topic": "s"}\n', "utf-8")
    _hand_placed(project, str(outside / "secret.j2"), "../../../../outside/secret.jsonl")
    recipe = _recipe(project / "work")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    shown = "pack:demo@0.1.0/recipes/questions.yaml"
    assert (
        f"{shown}:18:18: error: source '../../../../outside/secret.jsonl' is outside "
        "pack:demo@0.1.0: a pack reads only its own files" in err
    )
    assert f"{shown}:22:24: error: template file '{outside / 'secret.j2'}' is outside" in err
    assert "18 |   topics: {path: ../../../../outside/secret.jsonl}" in err  # the line quoted
    assert "--allow-read DIR" in err
    # the user may widen the boundary, on the command line or in the environment
    assert main(["validate", str(recipe), "--allow-read", str(outside)]) == 0
    capsys.readouterr()
    _hand_placed(project, "../../../../outside/secret.j2", "../data/topics.jsonl")
    assert main(["validate", str(recipe)]) == 2
    assert "template file '../../../../outside/secret.j2' is outside" in capsys.readouterr().err
    with monkeypatch.context() as m:
        m.setenv("SYNTHDSL_ALLOW_READ", str(outside))
        assert main(["validate", str(recipe)]) == 0
    # a link inside the pack that leads out is followed, and refused
    folder = _hand_placed(project, "prompts/question.j2")
    (folder / "prompts" / "question.j2").unlink()
    (folder / "prompts" / "question.j2").symlink_to(outside / "secret.j2")
    capsys.readouterr()
    assert main(["validate", str(recipe)]) == 2
    assert "template file 'prompts/question.j2' is outside" in capsys.readouterr().err


def test_a_pack_recipe_cannot_use_a_recipe_outside_its_pack(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _hand_placed(project, "prompts/question.j2")
    (project / "mine.yaml").write_text(
        "synthdsl: 1\nname: mine\nsources: {x: {input: true}}\n"
        "steps:\n  - id: f\n    from: x\n    filter: 'true'\n",
        "utf-8",
    )
    recipe = folder / "recipes" / "questions.yaml"
    text = recipe.read_text("utf-8").replace(
        "output: {from: keep}",
        "  - id: more\n    use: ../../../../mine.yaml\noutput: {from: more}",
    )
    recipe.write_text(text, "utf-8")
    used = _recipe(project / "work")
    assert main(["validate", str(used)]) == 2
    err = capsys.readouterr().err
    assert "error: recipe '../../../../mine.yaml' is outside pack:demo@0.1.0" in err


def test_ordinary_recipes_read_inside_their_project_unless_allowed(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "t.jsonl").write_text('{"topic": "a"}\n', "utf-8")
    recipe = project / "plain" / "r.yaml"
    recipe.parent.mkdir()
    recipe.write_text(
        f"synthdsl: 1\nname: r\nsources: {{t: {{path: {outside / 't.jsonl'}}}}}\n"
        "steps:\n  - id: f\n    from: t\n    filter: 'true'\n",
        "utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    assert "a recipe reads only inside its project" in capsys.readouterr().err
    assert main(["validate", str(recipe), "--allow-read", str(outside)]) == 0


@pytest.fixture
def plugin_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed Python distribution whose entry point carries a pack."""
    site = tmp_path / "site"
    pkg = site / "packcarrier"
    write_pack(pkg / "packs" / "eppack", name="eppack", version="1.4.0")
    (pkg / "__init__.py").write_text('PACKS = ["packs"]\n', "utf-8")
    info = site / "packcarrier-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: packcarrier\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[synthdsl.packs]\ncarrier = packcarrier\n")
    monkeypatch.syspath_prepend(str(site))
    plugins.plugins.cache_clear()
    yield site
    plugins.plugins.cache_clear()
    sys.modules.pop("packcarrier", None)


def test_entry_point_packs_are_found_after_installed_ones(
    project: Path, plugin_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(project, "eppack/questions@^1.4")
    assert main(["plan", str(recipe)]) == 0
    assert "pack:eppack@1.4.0/recipes/questions.yaml" in capsys.readouterr().out
    assert main(["pack", "list"]) == 0
    listed = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["eppack", "1.4.0", "plugin", "packcarrier", "questions"] in listed
    # a project install of the same name comes first
    write_pack(project / "src", name="eppack", version="1.5.0")
    assert main(["pack", "install", str(project / "src")]) == 0
    capsys.readouterr()
    assert main(["plan", str(recipe)]) == 0
    assert "pack:eppack@1.5.0/" in capsys.readouterr().out


def test_show_recipe_of_a_pack_recipe(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install", str(pack_src)]) == 0
    capsys.readouterr()
    assert main(["show-recipe", "demo/questions@^0.1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("questions\n") and "min_words  integer  3        1..50" in out
    assert main(["show-recipe", "demo/questions@^2"]) == 2
    assert "no installed pack matches 'demo/questions@^2'" in capsys.readouterr().err
    assert main(["show-recipe", "demo/nope"]) == 2
    assert "it exports: questions" in capsys.readouterr().err


def test_a_pack_recipe_may_use_another_pack(
    project: Path, pack_src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outer = tmp_path / "outer"
    (outer / "recipes").mkdir(parents=True)
    (outer / "pack.yaml").write_text(
        "name: outer\nversion: 2.0.0\nrecipes: {wrap: recipes/wrap.yaml}\n", "utf-8"
    )
    (outer / "recipes" / "wrap.yaml").write_text(
        "synthdsl: 1\nname: wrap\nsteps:\n  - id: inner\n    use: demo/questions@^0.1\n"
        "  - id: short\n    filter: 'words(question) < 40'\n",
        "utf-8",
    )
    assert main(["pack", "install", str(outer)]) == 2  # its dependency is not installed yet
    assert "pack 'demo' is not installed" in capsys.readouterr().err
    assert main(["pack", "install", str(pack_src)]) == 0
    assert main(["pack", "install", str(outer)]) == 0
    recipe = _recipe(project / "work", "outer/wrap@2")
    recipe.write_text(
        recipe.read_text("utf-8").replace("    with: {style: detailed, min_words: 1}\n", "")
    )
    capsys.readouterr()
    assert main(["plan", str(recipe)]) == 0
    plan = capsys.readouterr().out
    assert "qs.inner.ask" in plan and "[from pack:demo@0.1.0/recipes/questions.yaml]" in plan
    assert "qs.short" in plan and "[from pack:outer@2.0.0/recipes/wrap.yaml]" in plan


def test_the_builtin_pack(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = project / "b.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: b\nsources: {s: {records: [{instruction: 'Say hi.'}]}}\n"
        "steps:\n  - id: qa\n    from: s\n    use: builtin/answer_and_judge@>=0.1\n",
        "utf-8",
    )
    assert main(["plan", str(recipe)]) == 0
    assert "pack:builtin@0.1.0/recipes/answer_and_judge.yaml" in capsys.readouterr().out
