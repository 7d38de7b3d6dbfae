"""The draw node: demonstrations for prompts, principles per record, inside loops."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from helpers import manifest, run
from helpers import rows as _rows

from synthdsl.cli import main
from synthdsl.nodes.draw import draw_from
from synthdsl.records import Record
from synthdsl.testing.fake_openai import FakeOpenAIServer


def _run(project: Path, text: str) -> dict[str, Any]:
    recipe = project / "r.yaml"
    recipe.write_text(text, encoding="utf-8")
    assert run(recipe) == 0
    return manifest(project)


def _recs(prefix: str, n: int) -> list[Record]:
    return [Record(id=f"{prefix}{i}", data={"x": i}) for i in range(n)]


def test_draw_fills_a_short_part_from_the_others() -> None:
    human, machine = _recs("h", 10), _recs("m", 1)
    drawn = draw_from([human, machine], [6, 2], random.Random(1), fill=True, exclude="")
    assert len(drawn) == 8
    assert sum(r.id.startswith("m") for r in drawn) == 1
    assert len({r.id for r in drawn}) == 8  # without replacement
    strict = draw_from([human, machine], [6, 2], random.Random(1), fill=False, exclude="")
    assert len(strict) == 7


def test_draw_never_returns_the_record_itself() -> None:
    pool = _recs("p", 3)
    for seed in range(20):
        drawn = draw_from([pool], [2], random.Random(seed), fill=True, exclude="p1")
        assert "p1" not in {r.id for r in drawn} and len(drawn) == 2


def test_count_mode_makes_prompts_with_demonstrations(
    server: FakeOpenAIServer, project: Path
) -> None:
    seeds = ", ".join(f'{{instruction: "seed task {i}"}}' for i in range(10))
    manifest = _run(
        project,
        f"""
synthdsl: 1
sources:
  seeds: {{records: [{seeds}]}}
steps:
  - id: prompts
    draw:
      count: 5
      into: demos
      seed: 3
      parts: [{{from: seeds, k: 4}}]
""",
    )
    rows = _rows(project)
    assert len(rows) == 5
    for row in rows:
        assert len(row["demos"]) == 4
        assert len({d["instruction"] for d in row["demos"]}) == 4
    assert len({json.dumps(r["demos"]) for r in rows}) > 1  # different draws per prompt
    node = manifest["nodes"]["prompts"]
    assert node["in"] == 10 and node["passed"] == 10 and node["out"] == 5


def test_per_record_draw_attaches_one_principle(project: Path) -> None:
    manifest = _run(
        project,
        """
synthdsl: 1
sources:
  responses: {records: [{response: a}, {response: b}, {response: c}]}
  principles: {records: [{name: honest}, {name: harmless}, {name: helpful}]}
steps:
  - id: pick
    from: responses
    draw: {into: principle, one: true, parts: [{from: principles, k: 1}]}
  - id: named
    filter: "len(principle.name) > 0"
""",
    )
    rows = _rows(project)
    assert [r["response"] for r in rows] == ["a", "b", "c"]
    assert all(r["principle"]["name"] in {"honest", "harmless", "helpful"} for r in rows)
    assert manifest["accounting_balanced"]
    # reproducible: the same draws on a re-run
    first = [r["principle"] for r in rows]
    recipe = project / "r.yaml"
    assert main(["run", str(recipe), "--quiet", "--out", str(project / "out")]) == 0
    assert [r["principle"] for r in _rows(project)] == first


def test_bootstrap_loop_draws_from_seeds_and_new_tasks(
    server: FakeOpenAIServer, project: Path
) -> None:
    seeds = ", ".join(f'{{instruction: "seed task {i}"}}' for i in range(8))
    manifest = _run(
        project,
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", seed: 1}}
sources:
  seeds: {{records: [{seeds}]}}
steps:
  - id: grow
    from: seeds
    loop:
      rounds: 3
      steps:
        - id: prompts
          draw:
            count: 2
            into: demos
            parts: [{{from: pool_input, k: 3}}, {{from: pool_new, k: 1}}]
        - id: ask
          generate:
            model: gen
            into: text
            template: |
              {{% for d in demos %}}Task: {{{{ d.instruction }}}}
              {{% endfor %}}Task: [[list: 2]]
        - id: split
          extract: {{field: text, as: list, into: instruction}}
""",
    )
    rows = _rows(project)
    assert len(rows) == 3 * 2 * 2
    assert sorted({r["_provenance"]["round"] for r in rows}) == [1, 2, 3]
    assert manifest["nodes"]["grow.ask"]["calls"] == 6
    # round 1 has no machine-made tasks yet: its 4 demos are all seeds (fill);
    # later rounds draw 3 seeds + 1 machine-made task
    for row in rows:
        demos = [d["instruction"] for d in row["demos"]]
        assert len(demos) == 4
        seeds_drawn = sum(d.startswith("seed task") for d in demos)
        assert seeds_drawn == (4 if row["_provenance"]["round"] == 1 else 3)
    assert manifest["accounting_balanced"]


def test_weighted_draw_follows_the_weights() -> None:
    ops = [
        Record(id="heavy", data={"w": 9}),
        Record(id="light", data={"w": 1}),
        Record(id="never", data={"w": 0}),
    ]
    counts = {"heavy": 0, "light": 0, "never": 0}
    for seed in range(2000):
        (rec,) = draw_from([ops], [1], random.Random(seed), fill=False, exclude="", weights=["w"])
        counts[rec.id] += 1
    assert counts["never"] == 0
    assert 0.85 <= counts["heavy"] / 2000 <= 0.95


def test_when_gates_a_step(server: FakeOpenAIServer, project: Path) -> None:
    manifest = _run(
        project,
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{q: a, kind: hard}}, {{q: b, kind: easy}}, {{q: c, kind: hard}}]}}
steps:
  - id: g
    when: "kind == 'hard'"
    generate: {{template: "[[reply: solved {{{{ q }}}}]]", model: gen, into: answer}}
""",
    )
    rows = _rows(project)
    assert [r.get("answer") for r in rows] == ["solved a", None, "solved c"]
    node = manifest["nodes"]["g"]
    assert node["bypassed"] == 1 and node["calls"] == 2 and node["passed"] == 3


def test_when_field_is_checked(project: Path, capsys: Any) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nsources:\n  s: {records: [{q: a}]}\nsteps:\n"
        "  - id: g\n    when: \"knd == 'x'\"\n    generate: {template: '{{ q }}'}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "r.yaml:6:12: error: field 'knd' is not provided" in err


def test_chain_loop_carries_parents_of_eliminated_evolutions(
    server: FakeOpenAIServer, project: Path
) -> None:
    manifest = _run(
        project,
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{text: "keep"}}, {{text: "stop"}}]}}
steps:
  - id: evolve
    loop:
      rounds: 3
      mode: chain
      carry: true
      steps:
        - id: step
          generate: {{template: "[[reply: {{{{ text }}}}+]]", model: gen, into: text}}
        - id: alive
          filter: "not startswith(text, 'stop')"
""",
    )
    rows = _rows(project)
    # "keep" evolves every round; "stop" evolutions are eliminated and the parent goes on
    assert sorted(r["text"] for r in rows) == ["keep+++", "stop"]
    assert manifest["nodes"]["evolve"]["loop"]["carried"] == 3
    assert sum(manifest["nodes"]["evolve.alive"]["dropped"].values()) == 3
    keep = next(r for r in rows if r["text"] == "keep+++")
    assert keep["_provenance"]["round"] == 3 and "evolve" in keep["_provenance"]["loop_parents"]


def test_dedup_against_the_pool(project: Path) -> None:
    manifest = _run(
        project,
        """
synthdsl: 1
sources:
  pool: {records: [{instruction: "write a poem about the sea"}]}
  new:
    records:
      - {instruction: "write a poem about the sea today"}
      - {instruction: "explain how compilers work"}
      - {instruction: "explain how compilers work"}
steps:
  - id: novel
    from: new
    dedup: {field: instruction, method: rouge_l, threshold: 0.7, against: [pool]}
""",
    )
    assert [r["instruction"] for r in _rows(project)] == ["explain how compilers work"]
    node = manifest["nodes"]["novel"]
    assert node["in"] == 4 and node["passed"] == 2 and node["balanced"]
    rejects = [json.loads(x) for x in (project / "out" / "rejects.jsonl").read_text().splitlines()]
    near = next(r for r in rejects if r["reason"].startswith("near"))
    assert near["detail"]["score"] >= 0.7


def test_loop_body_reads_an_outer_source(server: FakeOpenAIServer, project: Path) -> None:
    manifest = _run(
        project,
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  seeds: {{records: [{{text: "a"}}, {{text: "b"}}]}}
  operations: {{records: [{{op: "+x", w: 1}}, {{op: "+y", w: 0}}]}}
steps:
  - id: evolve
    from: seeds
    loop:
      rounds: 2
      mode: chain
      steps:
        - id: pick
          draw: {{into: operation, one: true, parts: [{{from: operations, k: 1, weight: w}}]}}
        - id: apply
          generate: {{template: "[[reply: {{{{ text }}}}{{{{ operation.op }}}}]]", model: gen,
                      into: text}}
""",
    )
    rows = _rows(project)
    assert sorted(r["text"] for r in rows) == ["a+x+x", "b+x+x"]
    # the outer source is read once per round as a reference, not as loop input
    assert manifest["nodes"]["evolve"]["in"] == 2 + 2
    assert manifest["accounting_balanced"]


def test_unknown_name_in_a_loop_body_suggests_outer_names(project: Path, capsys: Any) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nsources:\n  seeds: {records: [{t: a}]}\n  operations: {records: [{o: 1}]}\n"
        "steps:\n  - id: l\n    from: seeds\n    loop:\n      rounds: 1\n      steps:\n"
        "        - id: d\n          draw: {into: x, parts: [{from: operatons}]}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    assert "did you mean 'operations'?" in capsys.readouterr().err
