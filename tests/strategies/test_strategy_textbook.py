"""The textbook strategy (synthdsl/builtin/recipes/textbook.yaml) against the fake server.

The strategy's ``prompts`` parameter points at a folder of test templates that render
the real prompt (synthdsl/builtin/prompts/textbook/*.j2) and then append a directive chosen from the
record: ``[[reply: ...]]`` for outlines, sections, exercises and checks, ``[[score: N]]``
for the two judges. Sections get a pinned short reply, so their surprisal (from the
fake server's logprobs) differs per prompt but the text does not matter.

Two runs share one call cache: the first with the surprisal band wide open checks the
topic tree, audience levels, judges, exercise checks and the curriculum order; the
second, with ``max_surprisal`` set to the median surprisal seen in the first, checks
that exactly the sections above it are dropped (every call is a cache hit).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from helpers import run_completed

from synthdsl.sandbox.host import Limits, run_sandboxed
from synthdsl.testing.fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
STRATEGY = REPO / "synthdsl" / "builtin" / "recipes" / "textbook.yaml"
FENCE = "```"

TOPICS = [
    {
        "subject": "Python",
        "topic": "lists",
        "kind": "code",
        "fake_outline": "1. Indexing\n2. Slicing",
    },
    {
        "subject": "Arithmetic",
        "topic": "fractions",
        "kind": "math",
        "fake_outline": "1. Adding fractions\n2. Halving\n3. Ratios\n4. Dull fractions",
    },
    {
        "subject": "History",
        "topic": "the printing press",
        "kind": "prose",
        "fake_outline": "1. Gutenberg",
    },
]
LEVELS = [
    {"level": "beginner", "rank": 1, "reader": "a 12-year-old who knows arithmetic"},
    {"level": "advanced", "rank": 2},
]
# judged difficulty per subtopic (Slicing is judged easier than Indexing: the curriculum
# puts it first although the outline lists it second)
DIFFICULTY = {
    "Indexing": 3,
    "Slicing": 1,
    "Adding fractions": 2,
    "Halving": 1,
    "Ratios": 4,
    "Dull fractions": 1,
    "Gutenberg": 2,
}


def _code_reply(task: str, code: str) -> str:
    return f"Exercise: {task}\n\nSolution: Think it through.\n\n{FENCE}python\n{code}{FENCE}"


EXERCISES = {
    "Indexing": _code_reply(
        "Write first(xs) that returns the first item of a list.",
        "def first(xs):\n    return xs[0]\n\nassert first([3, 4]) == 3\nassert first(['a']) == 'a'\n",
    ),
    "Slicing": _code_reply(  # its second assert is wrong: xs[2:] is not the tail
        "Write tail(xs) that returns all items but the first.",
        "def tail(xs):\n    return xs[2:]\n\nassert tail([1]) == []\nassert tail([1, 2, 3]) == [2, 3]\n",
    ),
    "Adding fractions": "Exercise: What is 1/2 + 1/4?\n\nSolution: 1/2 = 2/4 and 2/4 + 1/4 = 3/4.\n\nAnswer: 3/4",
    "Halving": "Exercise: What is half of 9?\n\nSolution: 9 / 2 = 4.\n\nAnswer: 4",
    "Ratios": "Exercise: Simplify the ratio 4:6.\n\nSolution: Divide both by 2, giving 2 to 3.",
}
CHECKS = {
    "Adding fractions": f"{FENCE}python\nfrom fractions import Fraction\n"
    f"assert Fraction(1, 2) + Fraction(1, 4) == Fraction(3, 4)\n{FENCE}",
    "Halving": f"{FENCE}python\nassert 9 / 2 == 4\n{FENCE}",
}


def _j(value: Any) -> str:
    """A Python/Jinja literal for a dict of strings."""
    return json.dumps(value)


def _write_prompts(directory: Path) -> None:
    directory.mkdir()
    real = "prompts/textbook"
    directives = {
        "outline": "[[reply: {{ fake_outline }}]]",
        "section": "[[reply: Section on {{ subtopic }} for {{ audience.level }} readers.]]",
        "judge_value": "{% if subtopic.startswith('Dull') %}[[score: 2]]{% else %}[[score: 8]]{% endif %}",
        "judge_difficulty": f"[[score: {{{{ {_j(DIFFICULTY)}[subtopic] }}}}]]",
        "exercise_code": f"[[reply: {{{{ {_j(EXERCISES)}[subtopic] }}}}]]",
        "exercise_math": f"[[reply: {{{{ {_j(EXERCISES)}[subtopic] }}}}]]",
        "check_math": f"[[reply: {{{{ {_j(CHECKS)}[subtopic] }}}}]]",
    }
    for name, directive in directives.items():
        (directory / f"{name}.j2").write_text(
            f'{{% include "{real}/{name}.j2" %}}\n{directive}\n', encoding="utf-8"
        )


def _run(
    project: Path, server: FakeOpenAIServer, name: str, max_surprisal: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    topics = "\n".join(f"      - {json.dumps(t)}" for t in TOPICS)
    levels = "\n".join(f"      - {json.dumps(lv)}" for lv in LEVELS)
    recipe = project / f"{name}.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: {name}
sources:
  topics:
    records:
{topics}
  levels:
    records:
{levels}
steps:
  - id: tb
    from: topics
    use: {STRATEGY}
    with:
      levels: levels
      exercises_per_section: 1
      max_surprisal: {max_surprisal}
      prompts: {project / "test_prompts"}
""",
        encoding="utf-8",
    )
    args = ["--model", "openai/fake", "--api-base", server.base_url]
    return run_completed(recipe, project / name, *args)


@pytest.fixture(scope="module", autouse=True)
def _sandbox_works() -> None:
    probe = run_sandboxed({}, ["/bin/true"], limits=Limits(timeout_s=10))
    if probe.error is not None:
        pytest.skip(f"no sandbox here: {probe.error}")


def test_textbook_mechanics(server: FakeOpenAIServer, project: Path) -> None:
    _write_prompts(project / "test_prompts")
    rows, rejects, manifest = _run(project, server, "open", 1000.0)
    nodes = manifest["nodes"]

    def rejected(node: str) -> list[tuple[str, str, str]]:
        return sorted(
            (r["record"]["subtopic"], r["record"]["audience"]["level"], r["reason"])
            for r in rejects
            if r["node"] == f"tb.{node}"
        )

    # --- the topic tree: 3 topics -> 7 subtopics; x 2 levels -> 14 sections
    assert nodes["tb.subtopics"]["in"] == 3 and nodes["tb.subtopics"]["out"] == 7
    assert nodes["tb.audience"]["out"] == 14 and nodes["tb.section"]["calls"] == 14
    sections = [row for row in rows if row["unit"] == "section"]
    pairs = {(row["subtopic"], row["audience"]["level"]) for row in sections}
    subtopics = set(DIFFICULTY) - {"Dull fractions"}
    assert pairs == {(s, lv["level"]) for s in subtopics for lv in LEVELS}
    for row in rows:  # the level's whole record is attached
        assert row["audience"] == next(
            lv for lv in LEVELS if lv["level"] == row["audience"]["level"]
        )
        assert isinstance(row["section_surprisal"], float) and row["section_surprisal"] > 0
    for row in sections:
        assert row["text"] == f"## {row['subtopic']}\n\n{row['section']}"

    # --- prose quality: a low educational value is filtered, with its reason
    assert rejected("valuable") == [
        ("Dull fractions", level, "section: educational value below 7")
        for level in ("advanced", "beginner")
    ]
    assert all(row["educational_value"] == 8 for row in rows)

    # --- exercises: only math and code sections; each check run in the sandbox
    assert [r[:2] for r in rejected("exercisable")] == [
        ("Gutenberg", "advanced"),
        ("Gutenberg", "beginner"),
    ]
    assert [r[:2] for r in rejected("has_answer")] == [
        ("Ratios", "advanced"),
        ("Ratios", "beginner"),
    ]
    # Adding fractions and Halving, 2 levels: 4 checks. The test server writes the same
    # exercise at both levels, so each subtopic's two checks send one prompt: one call and
    # one cache hit (an identical call in flight is waited for, whatever the timing).
    math_check = nodes["tb.math_check"]
    assert (math_check["calls"], math_check["cache_hits"]) == (2, 2)
    assert nodes["tb.math_check"]["bypassed"] == 4  # the code exercises pass by
    failed_checks = [r for r in rejects if r["node"] == "tb.checked"]
    assert sorted((r["record"]["subtopic"], r["reason"]) for r in failed_checks) == [
        ("Halving", "verify: 1 of 1 tests failed"),
        ("Halving", "verify: 1 of 1 tests failed"),
        ("Slicing", "verify: 1 of 2 tests failed"),
        ("Slicing", "verify: 1 of 2 tests failed"),
    ]
    slicing = next(r for r in failed_checks if r["record"]["subtopic"] == "Slicing")
    assert [t["passed"] for t in slicing["detail"]["tests"]] == [True, False]
    exercises = [row for row in rows if row["unit"] == "exercise"]
    assert sorted((row["subtopic"], row["audience"]["level"]) for row in exercises) == [
        ("Adding fractions", "advanced"),
        ("Adding fractions", "beginner"),
        ("Indexing", "advanced"),
        ("Indexing", "beginner"),
    ]
    for row in exercises:
        assert row["verification"]["passed"] is True and row["text"] == row["exercise"]
    adding = next(row for row in exercises if row["subtopic"] == "Adding fractions")
    assert "Fraction(3, 4)" in adding["check"]  # the separate call's program, not the exercise

    # --- the curriculum: subject, level rank, difficulty; a section before its exercises
    keys = [
        (row["subject"], row["audience"]["rank"], row["difficulty"], row["topic"], row["subtopic"])
        for row in rows
    ]
    assert keys == sorted(keys)
    assert [row["difficulty"] for row in rows] == [DIFFICULTY[row["subtopic"]] for row in rows]
    python_beginner = [
        (row["subtopic"], row["unit"])
        for row in rows
        if row["subject"] == "Python" and row["audience"]["level"] == "beginner"
    ]
    assert python_beginner == [
        ("Slicing", "section"),
        ("Indexing", "section"),
        ("Indexing", "exercise"),
    ]
    assert len(rows) == len(sections) + len(exercises) == 12 + 4

    # --- the surprisal band, with the fake server's logprobs: a second run, cut at the median
    fluent_in = [r for r in rows if r["unit"] == "section"]
    values = sorted(r["section_surprisal"] for r in fluent_in)
    cut = statistics.median(values)
    assert values[0] < cut < values[-1]
    rows2, rejects2, manifest2 = _run(project, server, "cut", cut)
    assert manifest2["totals"]["calls"] == 0  # the same calls: all from the cache
    dropped = [r for r in rejects2 if r["node"] == "tb.fluent"]
    assert dropped and all(r["record"]["section_surprisal"] > cut for r in dropped)
    assert {r["reason"] for r in dropped} == {
        f"section: mean surprisal outside [0.0, {cut}] nats/token"
    }
    kept = [r for r in rows2 if r["unit"] == "section"]
    assert kept and all(r["section_surprisal"] <= cut for r in kept)
    assert len(kept) + len(dropped) == len(fluent_in)
