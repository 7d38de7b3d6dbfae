"""The dataset card: written by ``synthdsl run`` beside the data, parsed back by
``huggingface_hub``'s card parser and by ``datasets`` (which finds the data files through
the card's ``configs``), never clobbering a README of the user's."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import datasets
import pytest
from helpers import read_jsonl
from huggingface_hub import DatasetCard

from synthdsl.api import RunOptions, build_plan, validate
from synthdsl.cli import main
from synthdsl.run.attempt import CARD_MARKER
from synthdsl.run.session import execute
from synthdsl.testing.fake_openai import FakeOpenAIServer

SECRET = "sk-card-test-secret-0123456789"

RECIPE = """
synthdsl: 1
name: card-e2e
description: Questions about Greek letters, answered and judged.
models:
  gen: {{model: openai/fake, api_base: "{base}", max_tokens: 40, temperature: 0.3,
        api_key_env: CARD_TEST_KEY}}
sources:
  topics:
    records:
      - {{topic: "alpha"}}
      - {{topic: "beta"}}
      - {{topic: "gamma"}}
      - {{topic: "delta [[fault:400]]"}}
      - {{topic: "epsilon"}}
    license: cc0-1.0
  human: {{path: human.jsonl, license: cc-by-4.0}}
steps:
  - id: ask
    from: topics
    generate: {{template: "Ask about {{{{ topic }}}}", model: gen, into: instruction}}
  - id: answer
    generate: {{template: "Answer {{{{ instruction }}}}", model: gen}}
  - id: score
    judge: {{template: "Rate {{{{ response }}}} [[score: 7]]", model: gen, scale: [1, 10]}}
  - id: keep
    filter: "score >= 5 and topic != 'beta'"
  - id: train
    mix:
      seed: 1
      stage: instruction_tuning
      parts:
        - {{from: keep, ratio: 0.5, synthetic: true}}
        - {{from: human, ratio: 0.5, synthetic: false}}
output: {{from: train, fields: [instruction, response], license: cc-by-4.0{output}}}
"""


def write_project(project: Path, server: FakeOpenAIServer, output: str = "") -> Path:
    (project / "human.jsonl").write_text(
        "".join(
            json.dumps({"instruction": f"human question {i}", "response": f"human answer {i}"})
            + "\n"
            for i in range(6)
        ),
        encoding="utf-8",
    )
    recipe = project / "recipe.yaml"
    recipe.write_text(RECIPE.format(base=server.base_url, output=output), encoding="utf-8")
    return recipe


def run_into(recipe: Path, out: Path, *args: str) -> int:
    return main(["run", str(recipe), "--quiet", "--out", str(out), "--no-report", *args])


def manifest_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text("utf-8"))
    return data


def table_row(card: str, first_cell: str) -> list[str]:
    """The cells of the Markdown table row that starts with ``first_cell``."""
    for line in card.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in the card")


def section(card: str, title: str) -> str:
    """The text of the card's ``## title`` section."""
    return card.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARD_TEST_KEY", SECRET)


@pytest.fixture
def keyed_server() -> Any:
    with FakeOpenAIServer(require_api_key=SECRET) as srv:
        yield srv


def test_card_states_the_runs_facts_and_parses_as_a_hugging_face_card(
    keyed_server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write_project(project, keyed_server)
    out = project / "out"
    assert run_into(recipe, out) == 0
    assert f"card: {out / 'README.md'}" in capsys.readouterr().out
    m = manifest_of(out)
    assert m["status"] == "completed" and m["card"] == "README.md"
    text = (out / "README.md").read_text("utf-8")

    card = DatasetCard.load(out / "README.md")
    meta = card.data.to_dict()
    assert meta["license"] == "cc-by-4.0"
    assert {"synthetic", "synthdsl"} <= set(meta["tags"])
    assert meta["size_categories"] == ["n<1K"]
    assert meta["task_categories"] == ["text-generation"]
    [config] = meta["configs"]
    assert config["data_files"] == [{"split": "train", "path": "dataset.jsonl"}]
    assert CARD_MARKER in card.text

    # datasets finds the data through the card's configs, as the Hub would
    loaded = datasets.load_dataset(str(out), split="train", cache_dir=str(project / "hf-cache"))
    assert loaded.num_rows == m["output"]["records"] == len(read_jsonl(out / "dataset.jsonl"))

    assert m["recipe"]["hash"] in text
    assert "Questions about Greek letters" in text
    assert table_row(text, "`gen`")[1:4] == [
        "`openai/fake`",
        "openai",
        "max_tokens=40, temperature=0.3",
    ]
    for nid in m["node_order"]:
        st = m["nodes"][nid]
        row = table_row(text, f"`{nid}`")
        counts = [int(c) for c in row[2:6]]
        assert counts == [
            st["in"],
            st["out"],
            sum(st["dropped"].values()) + st.get("discarded", 0),
            sum(st["failed"].values()),
        ], nid
    assert "score &gt;= 5 and topic != 'beta'" in table_row(text, "`keep`")[6]
    assert sum(m["nodes"]["keep"]["dropped"].values()) == 1  # beta
    assert sum(m["nodes"]["ask"]["failed"].values()) == 1  # delta's 400
    mix = m["nodes"]["train"]["mix"]
    assert f"for stage `instruction_tuning`, band 40.0%–60.0% ({mix['status']})" in text
    sources = section(text, "Sources")
    assert table_row(sources, "`human`")[1:] == ["human.jsonl", "cc-by-4.0"]
    assert table_row(sources, "`topics`")[1:] == ["inline records", "cc0-1.0"]
    # a handful of records is not enough to call collapse either way
    assert section(text, "Collapse flags").startswith("\nToo few records to judge `")
    assert "synthdsl run recipe.yaml\n" in text
    # no secret, no endpoint, no local folder
    assert SECRET not in text
    assert keyed_server.base_url not in text and "127.0.0.1" not in text
    assert str(project) not in text


def test_a_readme_of_the_users_is_never_clobbered(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write_project(project, server)
    out = project / "out"
    out.mkdir()
    mine = "# My dataset\n\nHand-written notes.\n"
    (out / "README.md").write_text(mine, encoding="utf-8")
    assert run_into(recipe, out) == 0
    said = capsys.readouterr().out
    assert f"card: {out / 'DATASET_CARD.md'} ({out / 'README.md'} is not synthdsl's" in said
    assert (out / "README.md").read_text("utf-8") == mine
    assert manifest_of(out)["card"] == "DATASET_CARD.md"
    assert DatasetCard.load(out / "DATASET_CARD.md").data.to_dict()["license"] == "cc-by-4.0"

    # the user removes their README: the card moves to README.md, no stale copy stays
    (out / "README.md").unlink()
    assert run_into(recipe, out) == 0
    assert (out / "README.md").read_text("utf-8").count(CARD_MARKER) == 1
    assert not (out / "DATASET_CARD.md").exists()


def test_card_false_writes_none_and_removes_the_previous_runs(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = write_project(project, server)
    out = project / "out"
    assert run_into(recipe, out) == 0
    assert (out / "README.md").exists()
    write_project(project, server, output=", card: false")
    assert run_into(recipe, out) == 0
    assert not (out / "README.md").exists()
    assert manifest_of(out)["card"] is None


def test_a_failed_run_leaves_no_card_describing_data_that_is_gone(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = write_project(project, server)
    out = project / "out"
    assert run_into(recipe, out) == 0
    text = recipe.read_text("utf-8").replace('"alpha"', '"alpha [[fault:400]]"')
    text = text.replace('"beta"', '"beta [[fault:400]]"').replace(
        '"gamma"', '"gamma [[fault:400]]"'
    )
    recipe.write_text(text, encoding="utf-8")
    assert run_into(recipe, out) == 1  # 4 of 5 records fail at 'ask': over the 0.5 rate
    m = manifest_of(out)
    assert m["status"] == "failed" and m["card"] is None
    assert not (out / "README.md").exists() and not (out / "dataset.jsonl").exists()


def test_parquet_data_files_and_the_size_bucket(server: FakeOpenAIServer, project: Path) -> None:
    recipe = write_project(project, server, output=", format: parquet")
    out = project / "out"
    assert run_into(recipe, out) == 0
    meta = DatasetCard.load(out / "README.md").data.to_dict()
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "dataset.parquet"}]
    loaded = datasets.load_dataset(str(out), split="train", cache_dir=str(project / "hf-cache"))
    assert loaded.num_rows == manifest_of(out)["output"]["records"]


def test_collapse_flags_of_the_report_reach_the_card(
    server: FakeOpenAIServer, project: Path
) -> None:
    topics = "".join(json.dumps({"topic": f"t{i}"}) + "\n" for i in range(60))
    (project / "topics.jsonl").write_text(topics, encoding="utf-8")
    recipe = project / "same.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: same
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  topics: {{path: topics.jsonl}}
steps:
  - id: say
    generate:
      template: "{{{{ topic }}}} [[reply: the very same answer about the very same thing]]"
      model: gen
""",
        encoding="utf-8",
    )
    out = project / "out"
    assert run_into(recipe, out) == 0
    text = (out / "README.md").read_text("utf-8")
    flags = section(text, "Collapse flags")
    assert "flag" in flags and "`response`" in flags
    assert table_row(flags, "`response`")[1] in {
        "distinct_2_at_10k",
        "self_bleu",
        "compression_ratio",
    }


def test_a_card_that_cannot_be_built_is_a_warning_and_the_data_is_published(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write_project(project, server)
    compiled = validate(recipe)
    out = project / "out"

    def broken(*_: Any) -> str:
        raise ValueError("no card today")

    result = asyncio.run(
        execute(compiled, build_plan(compiled), RunOptions(out_dir=str(out), card=broken))
    )
    assert result.status == "completed" and result.manifest["card"] is None
    assert "could not write the dataset card: no card today" in capsys.readouterr().err
    assert (out / "dataset.jsonl").exists() and not (out / "README.md").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("output: {card: yes please}", "card"),
        ("output: {license: 5}", "license"),
    ],
)
def test_bad_card_settings_are_recipe_errors(
    project: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: r\nsources:\n  s: {records: [{a: 1}]}\nsteps:\n"
        f"  - id: f\n    from: s\n    filter: 'a > 0'\n{line}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}:9:" in err and message in err


def test_hf_format_and_a_training_shape_point_the_card_at_the_jsonl(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = write_project(project, server, output=", format: hf, shape: openai")
    out = project / "out"
    assert run_into(recipe, out) == 0
    assert (out / "dataset").is_dir() and (out / "dataset.provenance.jsonl").is_file()
    card = DatasetCard.load(out / "README.md")
    meta = card.data.to_dict()
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "dataset.jsonl"}]
    assert "openai" in meta["tags"]
    assert "each row's provenance in `dataset.provenance.jsonl`" in card.text
    loaded = datasets.load_dataset(str(out), split="train", cache_dir=str(project / "hf-cache"))
    assert loaded.column_names == ["messages"]
    assert loaded.num_rows == manifest_of(out)["output"]["records"]
