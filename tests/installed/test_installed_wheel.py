"""What a user gets from ``pip install synthdsl``: every example and every strategy page's
recipe runs from the installed wheel, in a folder unrelated to the checkout.

Each recipe runs through the wheel's own ``synthdsl`` command against the loopback test
server (``--model openai/fake --api-base``): the built-in strategies, their prompts and
seed data must come from the installed package, found from any working folder.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from install_support import ROOT, Installed

from synthdsl.testing.fake_openai import FakeOpenAIServer

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
STRATEGY_PAGES = sorted((ROOT / "docs" / "strategies").glob("*.md"))
BUILTIN = sorted(p.stem for p in (ROOT / "synthdsl" / "builtin" / "recipes").glob("*.yaml"))


def _run_on_server(
    installed: Installed, recipe: Path, cwd: Path, server: FakeOpenAIServer, out: Path
) -> dict[str, Any]:
    proc = installed.run(
        "run",
        str(recipe),
        "--quiet",
        "--out",
        str(out),
        "--model",
        "openai/fake",
        "--api-base",
        server.base_url,
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed" and manifest["accounting_balanced"]
    assert (out / "dataset.jsonl").is_file()
    return manifest


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The examples folder as a user downloads it, and an unrelated working folder."""
    base = tmp_path_factory.mktemp("user")
    shutil.copytree(ROOT / "examples", base / "examples")
    (base / "cwd").mkdir()
    return base / "examples", base / "cwd"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_runs_from_the_installed_wheel(
    installed: Installed,
    elsewhere: tuple[Path, Path],
    fake_server: FakeOpenAIServer,
    example: Path,
) -> None:
    examples, cwd = elsewhere
    recipe = examples / example.name
    checked = installed.run("validate", str(recipe), cwd=cwd)
    assert checked.returncode == 0, checked.stderr[-3000:]
    manifest = _run_on_server(installed, recipe, cwd, fake_server, cwd / "out" / example.stem)
    # The run read the installed package's strategies, never the checkout's.
    assert str(ROOT / "synthdsl") not in json.dumps(manifest)


def test_show_recipe_and_create_find_the_builtin_strategies(
    installed: Installed, tmp_path: Path
) -> None:
    for name in BUILTIN:
        proc = installed.run("show-recipe", name, cwd=tmp_path)
        assert proc.returncode == 0, (name, proc.stderr[-2000:])
        assert name in proc.stdout


# --- the recipes on the strategy pages -------------------------------------------------

_FENCE = re.compile(r"^```yaml\n(synthdsl: 1\n.*?)^```", re.S | re.M)

# Fields a user's data would carry for any of the strategies on the pages.
_ROW = {
    "instruction": "Explain why the sea has tides.",
    "input": "",
    "output": "The moon's pull raises the water.",
    "topic": "tides",
    "subject": "physics",
    "kind": "prose",
    "problem_id": "square",
    "problem": "Write a Python function square(n) that returns n multiplied by itself.",
    "text": "Tides rise and fall twice a day because the moon pulls on the oceans.",
}
_DOC = "# Tides\n\nTides rise and fall twice a day because the moon pulls on the oceans.\n"


def _page_recipes() -> list[tuple[str, str]]:
    found = []
    for page in STRATEGY_PAGES:
        for i, match in enumerate(_FENCE.finditer(page.read_text("utf-8"))):
            found.append((f"{page.stem}-{i}", match.group(1)))
    return found


PAGE_RECIPES = _page_recipes()


def _write_user_data(folder: Path, recipe: dict[str, Any]) -> None:
    """The files a recipe's ``path:`` sources name, as a user's project would hold."""
    for decl in (recipe.get("sources") or {}).values():
        path = decl.get("path") if isinstance(decl, dict) else None
        if not isinstance(path, str):
            continue
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".jsonl":
            rows = [dict(_ROW, problem_id=f"p{i}") for i in range(2)]
            target.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        elif target.suffix in (".yaml", ".yml"):
            target.write_text(yaml.safe_dump([_ROW]), encoding="utf-8")
        else:  # a folder of documents
            target.mkdir(exist_ok=True)
            (target / "tides.md").write_text(_DOC, encoding="utf-8")


def test_the_strategy_pages_hold_complete_recipes() -> None:
    # one per strategy page that shows a whole recipe; a change of fences must not
    # quietly leave the test below with nothing to run
    assert len(PAGE_RECIPES) >= 4
    assert {name.rsplit("-", 1)[0] for name, _ in PAGE_RECIPES} >= {
        "constitutional",
        "doc_qa",
        "evol_instruct",
        "self_instruct",
    }


@pytest.mark.parametrize(("name", "text"), PAGE_RECIPES, ids=[n for n, _ in PAGE_RECIPES])
def test_every_strategy_page_recipe_runs_from_the_installed_wheel(
    installed: Installed, fake_server: FakeOpenAIServer, tmp_path: Path, name: str, text: str
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    recipe = folder / f"{name}.yaml"
    recipe.write_text(text, encoding="utf-8")
    _write_user_data(folder, yaml.safe_load(text))
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    checked = installed.run("validate", str(recipe), cwd=cwd)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "warning" not in checked.stderr, checked.stderr[-3000:]
    _run_on_server(installed, recipe, cwd, fake_server, cwd / "out")
