"""``plan.run_plan``: a run with no LLM step does not read its sources to count them."""

from __future__ import annotations

from pathlib import Path

from synthdsl.compile import compile_recipe
from synthdsl.plan import build_plan, run_plan

NO_LLM = """
synthdsl: 1
name: no-llm
sources:
  rows: {path: rows.jsonl}
steps:
  - id: keep
    filter: "score >= 2"
  - id: unique
    dedup: {field: text}
"""

WITH_LLM = """
synthdsl: 1
name: with-llm
models:
  gen: {model: openai/x, api_base: "http://127.0.0.1:9/v1"}
sources:
  rows: {path: rows.jsonl}
steps:
  - id: g
    from: rows
    generate: {template: "{{ text }}", model: gen, into: out}
"""


def _estimates(plan_nodes: object) -> dict[str, int | None]:
    return {n.id: n.estimate.records for n in plan_nodes}  # type: ignore[attr-defined]


def test_no_llm_step_leaves_the_source_count_unknown_and_the_hash_alone(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"text": "a b", "score": 3}\n' * 5, "utf-8")
    (tmp_path / "r.yaml").write_text(NO_LLM, "utf-8")
    compiled = compile_recipe(tmp_path / "r.yaml")
    full, lean = build_plan(compiled), run_plan(compiled)
    assert _estimates(full.nodes)["rows"] == 5
    assert _estimates(lean.nodes)["rows"] is None
    assert lean.recipe_hash == full.recipe_hash
    assert lean.llm_calls_max == full.llm_calls_max == 0


def test_an_llm_step_still_gets_its_bound(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"text": "a b"}\n' * 7, "utf-8")
    (tmp_path / "r.yaml").write_text(WITH_LLM, "utf-8")
    plan = run_plan(compile_recipe(tmp_path / "r.yaml"))
    assert _estimates(plan.nodes)["rows"] == 7
    assert plan.llm_calls_max == 7
