"""The targeted strategy (synthdsl/builtin/recipes/targeted.yaml) against the fake server.

The strategy takes a `prompts` folder parameter; these tests pass their own templates,
whose rendered text holds fake-server directives, so the writer answers as the test
needs: with a verbatim copy of the failed evaluation item (planted leaks, one long and
one short), with a math item whose number the solver confirms or contradicts, with a
code item and its tests, or (no directive) with the server's own random JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import run_completed

from synthdsl.testing.fake_openai import FakeOpenAIServer

ALLOC = "t.groups"

LONG_LEAK = (
    "LEAK In which year did the first crewed landing on the moon take place, and which "
    "two astronauts walked on its surface?"
)
SHORT_LEAK = "SHORT Name a prime number."  # under 8 words: no 8-gram to share


def _row(i: str, group: str, correct: bool, **extra: Any) -> dict[str, Any]:
    prompt = extra.pop("prompt", f"Evaluation question {i} of the {group} group, asked plainly.")
    return {
        "id": i,
        "category": group,
        "prompt": prompt,
        "reference": f"answer {i}",
        "answer": "wrong" if not correct else f"answer {i}",
        "correct": correct,
        **extra,
    }


# alpha 3 of 4 failed (a1 is the long leak), beta 1 of 5 (the short leak), gamma 2 of 2
# (math), code 1 of 2, delta 0 of 3
EVAL = [
    _row("a1", "alpha", False, prompt=LONG_LEAK),
    _row("b1", "beta", False, prompt=SHORT_LEAK),
    _row("a2", "alpha", False),
    _row("g1", "gamma", False, checker="math"),
    _row("d1", "delta", True),
    _row("k1", "code", False, checker="code"),
    _row("a3", "alpha", False),
    _row("b2", "beta", True),
    _row("a4", "alpha", True),
    _row("g2", "gamma", False, checker="math"),
    _row("b3", "beta", True),
    _row("d2", "delta", True),
    _row("k2", "code", True, checker="code"),
    _row("b4", "beta", True),
    _row("d3", "delta", True),
    _row("b5", "beta", True),
]
# weights (failures): alpha 3, beta 1, gamma 2, code 1, delta 0 (total 7); budget 10:
# quotas 4.29, 1.43, 2.86, 1.43, 0 -> floors 4, 1, 2, 1 (8) and the 2 left to gamma
# (.86) and beta (.43, tied with code at equal weight, listed first)
EXPECTED = {"alpha": 4, "beta": 2, "gamma": 3, "code": 1, "delta": 0}

MATH_ITEMS = [
    "How many pears are left when seven of twelve pears are eaten by hungry goats",
    "A cyclist rides forty kilometres in two hours WRONG so what is her speed",
    "What is the area of a square garden whose sides measure five metres each",
]
WRITE = """\
{%- set own = target.examples[0] -%}
{%- if 'LEAK' in own.prompt or 'SHORT' in own.prompt -%}
[[reply: {{ {"prompt": own.prompt, "reference": own.reference} | tojson }}]]
{%- elif checker == 'math' -%}
[[reply: {{ {"prompt": MATH[target.slot - 1], "reference": "7"} | tojson }}]]
{%- elif checker == 'code' -%}
[[reply: {{ {"prompt": "Write add(a, b) returning the sum of two numbers.",
  "reference": "def add(a, b):\\n    return a + b\\n",
  "tests": "assert add(1, 2) == 3\\nassert add(-1, 1) == 0\\nassert add(0, 0) == 0\\n"} | tojson }}]]
{%- else -%}
Write a new item like {{ own.prompt }} (variant {{ target.variant }}, slot {{ target.slot }}).
{%- endif %}
""".replace("MATH", json.dumps(MATH_ITEMS))
SOLVE = """\
{%- if 'WRONG' in prompt -%}[[reply: {"answer": 8}]]{%- else -%}[[reply: {"answer": 7.0}]]{%- endif %}
"""


def _run(
    project: Path, server: FakeOpenAIServer, **with_: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    tpl = project / "targeted_tpl"
    tpl.mkdir(exist_ok=True)
    (tpl / "write.j2").write_text(WRITE, encoding="utf-8")
    (tpl / "solve.j2").write_text(SOLVE, encoding="utf-8")
    (project / "evals.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in EVAL), encoding="utf-8"
    )
    settings = {"budget": 10, "prompts": str(tpl), "timeout": 5} | with_
    recipe = project / "r.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: targeted-test
models:
  default: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  evals: {{path: evals.jsonl}}
steps:
  - id: t
    from: evals
    use: targeted
    with: {json.dumps(settings)}
""",
        encoding="utf-8",
    )
    return run_completed(recipe, project / "out")


def _words(text: str) -> str:
    return " ".join(text.lower().split())


def test_budget_split_leaks_dropped_checks_applied_and_counted_per_group(
    server: FakeOpenAIServer, project: Path
) -> None:
    rows, rejects, manifest = _run(project, server)
    node = manifest["nodes"][ALLOC]
    allocation = node["allocation"]
    assert {g: v["allocated"] for g, v in allocation["groups"].items()} == EXPECTED
    assert allocation["groups"]["alpha"]["quota"] == pytest.approx(10 * 3 / 7, abs=1e-6)
    write = manifest["nodes"]["t.write"]
    # one answer per slot (the two leak slots of a1 render the same prompt: one call)
    assert write["in"] == 10 and write["calls"] + write["cache_hits"] == 10

    # --- no evaluation item reaches the output
    eval_prompts = {_words(r["prompt"]) for r in EVAL}
    assert rows
    for row in rows:
        assert _words(row["prompt"]) not in eval_prompts
        assert not any(p in _words(row["prompt"]) for p in eval_prompts)
    # the long copy (both of a1's slots) is dropped by decontamination, naming the item
    leaks = [r for r in rejects if r["reason"] == "contaminated (evaluation)"]
    assert len(leaks) == 2
    for leak in leaks:
        assert leak["node"] == "t.decontaminated"
        assert leak["record"]["prompt"] == LONG_LEAK
        assert leak["detail"]["benchmark"] == "evaluation" and leak["detail"]["item"] == "a1"
        assert leak["detail"]["coverage"] == 1.0
    # the short copy has no 8-gram: the check against the prompts (ROUGE-L, exact
    # copies first) drops it
    short = [r for r in rejects if r["record"].get("prompt") == SHORT_LEAK]
    assert [(r["node"], r["reason"]) for r in short] == [
        ("t.not_near_copy", "duplicate (exact)")
    ] * 2

    # --- checks where a checker exists: math solved again, code run against its tests
    math_rows = [r for r in rows if r["checker"] == "math"]
    assert sorted(r["prompt"] for r in math_rows) == sorted(
        p for p in MATH_ITEMS if "WRONG" not in p
    )
    wrong = [r for r in rejects if r["node"] == "t.math_agrees"]
    assert [r["reason"] for r in wrong] == [
        "math: solved again, the answer differs from the reference"
    ]
    (code_row,) = [r for r in rows if r["checker"] == "code"]
    assert code_row["tests"].startswith("assert add(1, 2) == 3")
    assert manifest["nodes"]["t.code_check"]["bypassed"] == 5  # checks only code items
    assert set(rows[0]) == {
        "prompt",
        "reference",
        "tests",
        "checker",
        "group",
        "failed_prompt",
        "failed_reference",
        "_provenance",
    }

    # --- per group: what was made, kept and dropped, adding up to the allocation
    by_group = node["by_group"]
    assert set(by_group) == {"alpha", "beta", "gamma", "code"}  # delta got nothing
    kept = {g: sum(1 for r in rows if r["group"] == g) for g in EXPECTED}
    for name, counts in by_group.items():
        assert counts["generated"] == EXPECTED[name] and counts["generated_by"] == "t.write"
        assert counts["kept"] == kept[name]
        made = counts["kept"] + sum(counts["dropped"].values()) + sum(counts["failed"].values())
        assert made == EXPECTED[name], name
    assert by_group["alpha"]["dropped"] == {"contaminated (evaluation)": 2}
    assert by_group["alpha"]["kept"] == 2
    assert by_group["beta"] == by_group["beta"] | {
        "kept": 0,
        "dropped": {"duplicate (exact)": 2},
    }
    assert by_group["gamma"]["dropped"] == {
        "math: solved again, the answer differs from the reference": 1
    }
    assert by_group["code"]["kept"] == 1
    # the evaluation items themselves: every one accounted for at the allocate step
    assert node["dropped"] == {"answered correctly": 9} and node["in"] == len(EVAL)


def test_the_report_shows_the_groups(server: FakeOpenAIServer, project: Path) -> None:
    _run(project, server, budget=4)
    html = (project / "out" / "report.html").read_text("utf-8")
    assert 'id="targeted"' in html
    for cell in ("alpha", "gamma", "contaminated (evaluation)", "answered correctly"):
        assert cell in html


@pytest.mark.slow
def test_the_example_runs_on_the_embedded_model(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/targeted.yaml on SmolLM2 (real llama.cpp), with a budget of 2 to stay
    quick: whatever the tiny model writes, every slot ends kept, dropped or failed, and
    nothing it keeps is an evaluation item."""
    examples = Path(__file__).resolve().parents[2] / "examples"
    monkeypatch.chdir(examples.parent)
    out = project / "out"
    rows, rejects, manifest = run_completed(
        examples / "targeted.yaml",
        out,
        "--set",
        "steps.0.with.budget=2",
        "--set",
        "steps.0.with.examples=1",
        "--set",
        "models.default.max_tokens=120",
    )
    assert set(manifest["models"]) == {"local/smollm2"}
    node = manifest["nodes"]["targeted.groups"]
    # 14 results in 3 categories: arithmetic 4 of 6 failed, python 2 of 4, units 1 of 4;
    # weights 4, 2, 1 and a budget of 2: quotas 1.14, .57, .29 -> arithmetic 1, python 1
    allocated = {g: v["allocated"] for g, v in node["allocation"]["groups"].items()}
    assert allocated == {"arithmetic": 1, "python": 1, "units": 0}
    for name, counts in node.get("by_group", {}).items():
        made = counts["kept"] + sum(counts["dropped"].values()) + sum(counts["failed"].values())
        assert made == allocated[name]
    evals = [json.loads(x) for x in (examples / "data" / "eval_results.jsonl").open()]
    prompts = {_words(r["prompt"]) for r in evals}
    assert all(_words(r["prompt"]) not in prompts for r in rows)
    unused = Counter(r["reason"] for r in rejects if r["node"] == "targeted.groups")
    assert unused == {"answered correctly": 7, "no budget left for this failure": 5}
