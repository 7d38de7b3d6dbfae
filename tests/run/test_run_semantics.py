"""Semantics that are easy to get subtly wrong: strategy params, seeds per sample,
loop emission, and compile-time checks of mix and output fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import read_jsonl as _rows
from helpers import run as _run

from synthdsl.cli import main
from synthdsl.compile import compile_recipe
from synthdsl.testing.fake_openai import FakeOpenAIServer


def test_strategy_templates_read_their_own_params(server: FakeOpenAIServer, project: Path) -> None:
    (project / "recipes").mkdir()
    (project / "recipes" / "tone.yaml").write_text(
        """
synthdsl: 1
params: {style: plain}
sources:
  items: {input: true}
steps:
  - id: say
    generate: {template: "[[reply: {{ params.style }}-{{ q }}]]", model: gen}
""",
        encoding="utf-8",
    )
    recipe = project / "r.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
params: {{style: outer}}
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{q: a}}, {{q: b}}]}}
steps:
  - id: t
    use: tone
    with: {{style: formal}}
""",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    assert [r["response"] for r in _rows(project / "out" / "dataset.jsonl")] == [
        "formal-a",
        "formal-b",
    ]


def test_seeded_samples_are_not_copies(server: FakeOpenAIServer, project: Path) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", seed: 5}}
sources:
  s: {{records: [{{q: "tell me something"}}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen, n: 3}}
""",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    rows = _rows(project / "out" / "dataset.jsonl")
    assert len(rows) == 3
    assert len({r["response"] for r in rows}) == 3
    assert [r["_provenance"]["sample"] for r in rows] == [0, 1, 2]


def test_loop_emit_last_is_the_final_round(server: FakeOpenAIServer, project: Path) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{text: "start"}}]}}
steps:
  - id: evolve
    loop:
      rounds: 3
      mode: chain
      steps:
        - id: step
          generate: {{template: "[[reply: {{{{ text }}}}+]]", model: gen, into: text}}
""",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    rows = _rows(project / "out" / "dataset.jsonl")
    assert [r["text"] for r in rows] == ["start+++"]
    assert rows[0]["_provenance"]["round"] == 3


def _validate_error(project: Path, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    recipe = project / "bad.yaml"
    recipe.write_text(text, encoding="utf-8")
    assert main(["validate", str(recipe)]) == 2
    return capsys.readouterr().err


def test_mix_rejects_from(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _validate_error(
        project,
        """synthdsl: 1
sources:
  a: {records: [{x: 1}]}
  b: {records: [{x: 2}]}
steps:
  - id: m
    from: a
    mix: {parts: [{from: a, ratio: 0.5}, {from: b, ratio: 0.5}]}
""",
        capsys,
    )
    assert "bad.yaml:7:5: error: mix step 'm' takes its inputs from 'parts'" in err


def test_output_fields_are_checked(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _validate_error(
        project,
        """synthdsl: 1
sources:
  a: {records: [{instruction: hi, response: there}]}
steps:
  - id: keep
    filter: "len(instruction) > 0"
output: {fields: [instruction, respnse]}
""",
        capsys,
    )
    assert "output field 'respnse' is not provided by step 'keep'" in err
    assert "did you mean 'response'?" in err


def test_strategy_default_model_does_not_become_the_runs(project: Path) -> None:
    (project / "recipes").mkdir()
    (project / "recipes" / "inner.yaml").write_text(
        """
synthdsl: 1
models:
  default: {model: openai/inner-default}
sources:
  items: {input: true}
steps:
  - id: say
    generate: {template: "{{ q }}"}
""",
        encoding="utf-8",
    )
    recipe = project / "r.yaml"
    recipe.write_text(
        """
synthdsl: 1
sources:
  s: {records: [{q: a}]}
steps:
  - id: t
    use: inner
  - id: outer
    generate: {template: "{{ response }}", into: again}
""",
        encoding="utf-8",
    )
    compiled = compile_recipe(recipe)
    assert compiled.models["default"].entries[0].model == "local/smollm2"


def test_set_computes_native_values_and_chains(project: Path) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        """
synthdsl: 1
sources:
  s: {records: [{critique: c1, revision: r1, n: 2}]}
steps:
  - id: first
    set:
      chain: "{{ (chain | default([])) + [{'critique': critique, 'revision': revision}] }}"
      double: "{{ n * 2 }}"
      label: "item-{{ n }}"
  - id: again
    set:
      chain: "{{ chain + [{'critique': 'c2', 'revision': 'r2'}] }}"
  - id: typed
    filter: "double == 4 and len(chain) == 2"
""",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    (row,) = _rows(project / "out" / "dataset.jsonl")
    assert row["chain"] == [
        {"critique": "c1", "revision": "r1"},
        {"critique": "c2", "revision": "r2"},
    ]
    assert row["double"] == 4 and row["label"] == "item-2"


def test_set_variables_are_checked(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nsources:\n  s: {records: [{a: 1}]}\nsteps:\n"
        '  - id: x\n    set: {b: "{{ aa + 1 }}"}\n',
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "template variable 'aa' is not provided" in err and "did you mean 'a'?" in err


def test_sort_orders_a_curriculum_stably(project: Path) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        """
synthdsl: 1
sources:
  s:
    records:
      - {t: a, d: 3}
      - {t: b, d: 1}
      - {t: c, d: 2}
      - {t: d, d: 1}
      - {t: e, d: null}
steps:
  - id: level
    sort: {by: "d", nulls: last}
""",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    assert [r["t"] for r in _rows(project / "out" / "dataset.jsonl")] == ["b", "d", "c", "a", "e"]
    text = recipe.read_text().replace(
        'sort: {by: "d", nulls: last}', 'sort: {by: "d", descending: true, nulls: last}'
    )
    recipe.write_text(text, encoding="utf-8")
    assert _run(recipe) == 0
    assert [r["t"] for r in _rows(project / "out" / "dataset.jsonl")] == ["a", "c", "b", "d", "e"]


def test_sort_rejects_mixed_keys(project: Path) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nsources:\n  s: {records: [{d: 1}, {d: x}, {d: 2}]}\nsteps:\n"
        "  - id: level\n    sort: {by: d}\n",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    m = json.loads((project / "out" / "manifest.json").read_text())
    assert m["nodes"]["level"]["failed"] == {"sort_error": 1} and m["nodes"]["level"]["out"] == 2


def test_cross_product_of_topics_and_levels(project: Path) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        """
synthdsl: 1
sources:
  topics: {records: [{topic: fractions}, {topic: gravity}]}
  levels: {records: [{level: beginner}, {level: advanced}, {level: expert}]}
steps:
  - id: pairs
    from: topics
    cross: {of: levels, into: audience}
  - id: flat
    from: topics
    cross: {of: levels}
  - id: both
    from: [pairs]
    filter: "len(audience.level) > 0"
output: {from: both}
""",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    rows = _rows(project / "out" / "dataset.jsonl")
    assert [(r["topic"], r["audience"]["level"]) for r in rows] == [
        ("fractions", "beginner"),
        ("fractions", "advanced"),
        ("fractions", "expert"),
        ("gravity", "beginner"),
        ("gravity", "advanced"),
        ("gravity", "expert"),
    ]
    m = json.loads((project / "out" / "manifest.json").read_text())
    assert m["nodes"]["pairs"]["out"] == 6 and m["accounting_balanced"]


def test_extract_json_explode_and_spread_select_and_lines(project: Path) -> None:
    (project / "tasks.txt").write_text("first task\n\n  second task  \n", encoding="utf-8")
    recipe = project / "r.yaml"
    recipe.write_text(
        """
synthdsl: 1
sources:
  tasks: {path: tasks.txt, format: lines, text_field: instruction}
steps:
  - id: with-json
    set:
      reply: "{{ [{'input': 'a', 'output': '1'}, {'oops': 1}, {'input': 'b', 'output': '2'}] | tojson }}"
  - id: instances
    extract: {field: reply, as: json, explode: true, spread: [input, output], max_items: 5}
  - id: slim
    select: {drop: [reply, path]}
""",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    rows = _rows(project / "out" / "dataset.jsonl")
    assert [(r["instruction"], r["line"], r["input"], r["output"]) for r in rows] == [
        ("first task", 1, "a", "1"),
        ("first task", 1, "b", "2"),
        ("second task", 3, "a", "1"),
        ("second task", 3, "b", "2"),
    ]
    assert all("reply" not in r and "path" not in r for r in rows)
    m = json.loads((project / "out" / "manifest.json").read_text())
    assert m["nodes"]["instances"]["sample_failures"] == {"invalid item": 2}


def test_set_keeps_strings_as_strings_and_sees_earlier_fields(project: Path) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        """
synthdsl: 1
sources:
  s: {records: [{text: "42", other: "None"}]}
steps:
  - id: copy
    set:
      a: "{{ text }}"
      b: "{{ other }}"
      c: "{{ a ~ '!' }}"
      d: "{{ [a, b] }}"
""",
        encoding="utf-8",
    )
    assert _run(recipe) == 0
    (row,) = _rows(project / "out" / "dataset.jsonl")
    assert row["a"] == "42" and row["b"] == "None" and row["c"] == "42!"
    assert row["d"] == ["42", "None"]
