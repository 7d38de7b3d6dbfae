"""The progress frame as text: widths, order, rates, ETA and cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthdsl import api
from synthdsl.run.progress import Frame, render_frame, table_rows
from synthdsl.textproc.plural import plural

RECIPE = """
synthdsl: 1
name: a-recipe-with-a-rather-long-name-to-see-how-the-header-is-cut
sources:
  the_seed_tasks_with_a_very_long_source_name: {records: [{q: "a"}]}
steps:
  - id: grow
    from: the_seed_tasks_with_a_very_long_source_name
    loop:
      rounds: 2
      mode: chain
      steps:
        - id: rewrite_the_instruction_to_be_harder
          generate: {template: "{{ q }}", into: q}
  - id: keep
    filter: "words(q) > 0"
"""


def _rows(tmp_path: Path) -> list[Any]:
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE, encoding="utf-8")
    return table_rows(api.validate(path, api.CompileOptions(model="openai/x")).graph)


def _llm(calls: int, hits: int, cost: float | None, *, done: int, wall: float) -> dict[str, Any]:
    return {
        "kind": "generate",
        "in": done,
        "passed": done,
        "out": done,
        "dropped": {},
        "failed": {},
        "wall_time_s": wall,
        "calls": calls,
        "cache_hits": hits,
        "retries": 1,
        "prompt_tokens": 12_000,
        "completion_tokens": 500,
        "cost_usd": cost,
    }


def _source(n: int) -> dict[str, Any]:
    return {"kind": "source", "in": n, "passed": n, "out": n, "dropped": {}, "failed": {}}


def test_rows_follow_the_dag_with_loop_bodies_indented(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    assert [(r.id, r.depth, r.label) for r in rows] == [
        (
            "the_seed_tasks_with_a_very_long_source_name",
            0,
            "the_seed_tasks_with_a_very_long_source_name",
        ),
        ("grow", 0, "grow"),
        ("grow.pool", 1, "pool"),
        ("grow.rewrite_the_instruction_to_be_harder", 1, "rewrite_the_instruction_to_be_harder"),
        ("keep", 0, "keep"),
        ("output", 0, "output"),
    ]
    assert [r.llm for r in rows] == [False, False, False, True, False, False]


def test_frame_fits_80_columns_and_rates_only_llm_steps(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    nodes = {
        rows[0].id: {**_source(142_643), "wall_time_s": 1.0},
        "grow.rewrite_the_instruction_to_be_harder": _llm(6, 2, 0.5, done=8, wall=2.0),
    }
    lines = render_frame(Frame("r", nodes, 4.0, 16), rows, width=80)
    assert max(len(line) for line in lines) <= 80
    source_line = lines[3]
    assert source_line.startswith("…") and "source" in source_line
    assert source_line.split()[-4:] == ["142643", "142643", "0", "0"]  # no rate
    body = lines[6]
    assert body.startswith("  …")  # indented under the loop, cut at the start
    assert body.split()[-3:] == ["6", "2", "4.0/s"]
    assert lines[0].split(" · ")[2:] == ["calls 8/≤16", "ETA ≤0:04"]
    assert lines[1] == "  6 made, 2 cached, 1 retry · tokens 12.5k · cost $0.5000"


def test_unknown_price_is_a_dash_and_a_finished_frame_has_no_eta(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    nodes = {"grow.rewrite_the_instruction_to_be_harder": _llm(2, 0, None, done=2, wall=1.0)}
    lines = render_frame(Frame("r", nodes, 75.0, None, status="completed"), rows, width=120)
    assert lines[0] == "synthdsl run r · completed in 1:15 · calls 2"
    assert lines[1].endswith("cost —")
    assert "$0" not in "\n".join(lines)
    # the node column widens with the terminal: nothing is cut at 120 columns
    assert any(line.startswith("  rewrite_the_instruction_to_be_harder ") for line in lines)


def test_no_call_done_yet_has_no_eta_figure(tmp_path: Path) -> None:
    lines = render_frame(Frame("r", {}, 3.0, 10), _rows(tmp_path))
    assert lines[0] == "synthdsl run r · 0:03 · calls 0/≤10 · ETA —"
    assert lines[1] == "  0 made, 0 cached, 0 retries · tokens 0 · cost $0.0000"
    # before the first call, a model the plan has no price for makes the cost unknown
    unpriced = render_frame(Frame("r", {}, 3.0, 10, plan_priced=False), _rows(tmp_path))
    assert unpriced[1].endswith("cost —")


def test_plural() -> None:
    assert plural(1, "record") == "1 record"
    assert plural(0, "record") == "0 records"
    assert plural(2, "LLM step") == "2 LLM steps"
    assert plural(1, "retry", "retries") == "1 retry"
    assert plural(3, "retry", "retries") == "3 retries"
