"""Reply schemas from pydantic models, registered by an installed plugin (entry point
group ``synthdsl.schemas``) and named by a step's ``json: {schema: NAME}``.

The package is built and installed with pip; the CLI runs in a subprocess that sees it
and calls the loopback server through the real provider layer. A recipe may name a
schema by its entry point (``flashcard``) or its ``module:attr``, and nothing else: a
module the recipe names that no entry point registers is an error at its line, and is
never imported (the module below leaves a file behind when it is).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthdsl.testing.fake_openai import FakeOpenAIServer

from .support import Cli, cli_with, install_package, write_package

MODELS = """\
from pydantic import BaseModel, Field


class Flashcard(BaseModel):
    front: str = Field(min_length=1)
    back: str
"""

# Imported only if something imports it by name: it says so on disk.
TATTLE = """\
import os
from pathlib import Path

Path(os.environ["TATTLE_FILE"]).write_text("imported", encoding="utf-8")


class Model:
    @staticmethod
    def model_json_schema():
        return {"type": "object"}
"""


@pytest.fixture(scope="module")
def cards_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    root = tmp_path_factory.mktemp("cards")
    package = write_package(
        root / "pkg",
        "synthdsl-cards-plugin",
        {
            "cards_plugin/__init__.py": "",
            "cards_plugin/models.py": MODELS,
            "cards_plugin/tattle.py": TATTLE,
        },
        '[project.entry-points."synthdsl.schemas"]\nflashcard = "cards_plugin.models:Flashcard"\n',
    )
    return cli_with(install_package(package, root / "site"))


def _recipe(root: Path, server: FakeOpenAIServer, ref: str, replies: str) -> Path:
    (root / "r.yaml").write_text(
        f"""synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{topic: geography}}]}}
steps:
  - id: card
    generate:
      model: gen
      template: "A card on {{{{ topic }}}} [[replies: {replies}]]"
      into: card
      json: {{schema: "{ref}"}}
""",
        encoding="utf-8",
    )
    return root


def test_a_pydantic_schema_is_enforced_and_named_in_the_manifest(
    cards_cli: Cli, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # '' breaks the model's min_length; the corrected reply fits
    root = _recipe(
        tmp_path,
        server,
        "flashcard",
        '{\\"front\\": \\"\\", \\"back\\": \\"x\\"} ||| {\\"front\\": \\"Oslo?\\", \\"back\\": \\"Norway\\"}',
    )
    done = cards_cli("run", "r.yaml", "--quiet", "--out", "out", cwd=root)
    assert done.code == 0, done.err
    rows = [json.loads(x) for x in (root / "out" / "dataset.jsonl").read_text().splitlines()]
    assert [r["card"] for r in rows] == [{"front": "Oslo?", "back": "Norway"}]
    followups = [m for m in server.conversations() if len(m) == 3]
    assert len(followups) == 1
    assert 'at "front"' in followups[0][2]["content"]
    assert "should be non-empty" in followups[0][2]["content"]
    manifest = json.loads((root / "out" / "manifest.json").read_text())
    assert manifest["nodes"]["card"]["schema_retries"] == 1
    assert {
        "group": "synthdsl.schemas",
        "name": "flashcard",
        "package": "synthdsl-cards-plugin",
        "version": "1.0.0",
    } in manifest["plugins"]
    plan = json.loads(cards_cli("plan", "r.yaml", "--format", "json", cwd=root).out)
    card = next(n for n in plan["nodes"] if n["id"] == "card")
    assert card["config"]["json"]["required"] == ["front", "back"]


def test_the_registered_module_attr_names_the_same_schema(
    cards_cli: Cli, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    root = _recipe(tmp_path, server, "cards_plugin.models:Flashcard", "{}")
    done = cards_cli("validate", "r.yaml", cwd=root)
    assert (done.code, done.out.strip()) == (0, "r.yaml: ok (2 nodes, 1 LLM step)")


def test_an_unregistered_name_is_an_error_and_never_imported(
    cards_cli: Cli, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    root = _recipe(tmp_path, server, "cards_plugin.tattle:Model", "{}")
    tattle = tmp_path / "tattle.txt"
    done = cards_cli("validate", "r.yaml", cwd=root, env={"TATTLE_FILE": str(tattle)})
    assert done.code == 2
    assert "r.yaml:12:" in done.err
    assert "no installed plugin registers the schema 'cards_plugin.tattle:Model'" in done.err
    assert "schemas installed plugins register: flashcard" in done.err
    assert "Traceback" not in done.err
    assert not tattle.exists()


def test_plugins_lists_the_schema(cards_cli: Cli, tmp_path: Path) -> None:
    done = cards_cli("plugins", cwd=tmp_path)
    assert done.code == 0
    assert (
        "synthdsl.schemas:\n"
        "  flashcard  synthdsl-cards-plugin 1.0.0  cards_plugin.models:Flashcard\n"
        "    reply schema flashcard (front, back)\n"
    ) in done.out
