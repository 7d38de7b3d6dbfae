"""The code_verified strategy (synthdsl/builtin/recipes/code_verified.yaml) against the fake server.

Replies are pinned per problem: the test points the strategy's ``prompts`` parameter at a
folder of templates that render the real prompt (synthdsl/builtin/prompts/code_verified/*.j2) and then
append a ``[[reply: ...]]`` directive read from the problem record (``fake_tests``,
``fake_first``, ``fake_retry``). So every real prompt is rendered, the tests call and
the solution calls get different replies, and the sandbox really runs the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synthdsl.cli import main
from synthdsl.sandbox.host import Limits, run_sandboxed
from synthdsl.testing.fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
STRATEGY = REPO / "synthdsl" / "builtin" / "recipes" / "code_verified.yaml"
FENCE = "```"
K = 2
MAX_ATTEMPTS = 3


def _reply(reasoning: str, code: str) -> str:
    return f"{reasoning}\n{FENCE}python\n{code}{FENCE}\n"


def _tests(body: str) -> str:
    return f"{FENCE}python\n{body}{FENCE}"


DOUBLE = "def double(n):\n    return n * 2\n"
TRIPLE_WRONG = "def triple(n):\n    return n * 2\n"
TRIPLE = "def triple(n):\n    return n * 3\n"
NEGATE_WRONG = "def negate(n):\n    return n\n"

PROBLEMS: list[dict[str, Any]] = [
    {  # passes at the first attempt: never regenerated
        "problem_id": "double",
        "problem": "Write a function double(n) that returns twice n.",
        "fake_tests": _tests("assert double(2) == 4\nassert double(0) == 0\n"),
        "fake_first": _reply("Multiply by two.", DOUBLE),
        "fake_retry": _reply("Multiply by two.", DOUBLE),
    },
    {  # fails at the first attempt, passes at the first regeneration round
        "problem_id": "triple",
        "problem": "Write a function triple(n) that returns three times n.",
        "fake_tests": _tests(
            "assert triple(2) == 6\nassert triple(0) == 0\nassert triple(-1) == -3\n"
        ),
        "fake_first": _reply("Multiply.", TRIPLE_WRONG),
        "fake_retry": _reply("Multiply by three, not two.", TRIPLE),
    },
    {  # never passes: regenerated until the limit, then gone
        "problem_id": "negate",
        "problem": "Write a function negate(n) that returns minus n.",
        "fake_tests": _tests("assert negate(3) == -3\nassert negate(0) == 0\n"),
        "fake_first": _reply("Return it.", NEGATE_WRONG),
        "fake_retry": _reply("Return it again.", NEGATE_WRONG),
    },
    {  # tests that check nothing: the problem is dropped before any solution call
        "problem_id": "vacuous",
        "problem": "Write a function noop() that returns None.",
        "fake_tests": _tests("assert True\n"),
        "fake_first": _reply("Nothing.", "def noop():\n    return None\n"),
        "fake_retry": _reply("Nothing.", "def noop():\n    return None\n"),
    },
    {  # tests that do not compile
        "problem_id": "broken",
        "problem": "Write a function one() that returns 1.",
        "fake_tests": _tests("assert one( == 1\n"),
        "fake_first": _reply("One.", "def one():\n    return 1\n"),
        "fake_retry": _reply("One.", "def one():\n    return 1\n"),
    },
]


@pytest.fixture(scope="module", autouse=True)
def _sandbox_works() -> None:
    probe = run_sandboxed({}, ["/bin/true"], limits=Limits(timeout_s=10))
    if probe.error is not None:
        pytest.skip(f"no sandbox here: {probe.error}")


def _write_prompts(directory: Path) -> None:
    directory.mkdir()
    real = "prompts/code_verified"
    for name, field in (("tests", "fake_tests"), ("solve", "fake_first"), ("retry", "fake_retry")):
        (directory / f"{name}.j2").write_text(
            f'{{% include "{real}/{name}.j2" %}}\n[[reply: {{{{ {field} }}}}]]\n', encoding="utf-8"
        )


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


@pytest.fixture
def run(
    server: FakeOpenAIServer, project: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    _write_prompts(project / "test_prompts")
    rows = "\n".join(f"      - {json.dumps(p)}" for p in PROBLEMS)
    recipe = project / "user.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
name: cv-test
sources:
  problems:
    records:
{rows}
steps:
  - id: cv
    from: problems
    use: {STRATEGY}
    with:
      k: {K}
      max_attempts: {MAX_ATTEMPTS}
      timeout: 10
      prompts: {project / "test_prompts"}
""",
        encoding="utf-8",
    )
    out = project / "out"
    argv = [
        "run",
        str(recipe),
        "--quiet",
        "--out",
        str(out),
        "--model",
        "openai/fake-coder",
        "--model",
        "cv.tester=openai/fake-tester",
        "--api-base",
        server.base_url,
    ]
    assert main(argv) == 0
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed" and manifest["accounting_balanced"]
    return _jsonl(out / "dataset.jsonl"), _jsonl(out / "rejects.jsonl"), manifest


def test_code_verified_mechanics(
    run: tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]],
) -> None:
    rows, rejects, manifest = run
    nodes = manifest["nodes"]

    def rejected(node: str) -> list[dict[str, Any]]:
        return [r for r in rejects if r["node"] == f"cv.{node}"]

    # --- tests come from their own call, on the tests model, one per problem
    assert nodes["cv.write_tests"]["calls"] == len(PROBLEMS)
    assert nodes["cv.write_tests"]["models"] == {"openai/fake-tester": len(PROBLEMS)}
    assert set(nodes["cv.solve"]["models"]) == {"openai/fake-coder"}
    # tests that check nothing, or do not compile, are dropped before any solution call
    (vacuous,) = rejected("tests_informative")
    assert vacuous["record"]["problem_id"] == "vacuous"
    assert vacuous["reason"] == "tests: pass without any solution (they check nothing)"
    (broken,) = rejected("tests_compile")
    assert broken["record"]["problem_id"] == "broken"
    assert broken["reason"] == "tests: do not compile"
    assert broken["record"]["tests_check"]["error"].startswith("tests: SyntaxError")
    assert nodes["cv.solve"]["in"] == 3 and nodes["cv.solve"]["calls"] == 3 * K

    # --- the sandbox drops failing solutions with the per-test outcomes
    first_drops = rejected("check")
    assert sorted(r["record"]["problem_id"] for r in first_drops) == ["negate"] * K + ["triple"] * K
    triple = next(r for r in first_drops if r["record"]["problem_id"] == "triple")
    assert triple["reason"] == "verify: 2 of 3 tests failed"
    outcomes = {t["name"]: t["passed"] for t in triple["detail"]["tests"]}
    assert outcomes == {
        "line 1: assert triple(2) == 6": False,
        "line 2: assert triple(0) == 0": True,
        "line 3: assert triple(-1) == -3": False,
    }

    # --- pass@k of the first attempt, over the three problems with usable tests
    assert nodes["cv.check"]["pass_at_k"] == {
        "groups": 3,
        "samples": 3 * K,
        "pass@1": pytest.approx(1 / 3, abs=1e-6),
        "pass@k": pytest.approx(1 / 3, abs=1e-6),
        "k": K,
    }
    assert nodes["cv.check"]["verify"]["checked"] == 3 * K
    assert nodes["cv.check"]["verify"]["passed"] == K

    # --- regeneration: only unsolved problems go around, until solved or the limit
    (solved_first,) = rejected("unsolved")
    assert solved_first["record"]["problem_id"] == "double"
    assert nodes["cv.retry"]["loop"]["rounds_run"] == MAX_ATTEMPTS
    # round 1: triple and negate; rounds 2 and 3: negate only (triple was solved)
    assert nodes["cv.retry.solve"]["calls"] == K * (2 + (MAX_ATTEMPTS - 1))
    retry_drops = rejected("retry.check")
    assert {r["record"]["problem_id"] for r in retry_drops} == {"negate"}
    assert sorted(r["round"] for r in retry_drops) == sorted(
        [r for r in range(1, MAX_ATTEMPTS + 1) for _ in range(K)]
    )
    pending = rejected("retry.pending")
    assert [(r["record"]["problem_id"], r["round"]) for r in pending] == [
        ("triple", r) for r in range(2, MAX_ATTEMPTS + 1)
    ]

    # --- kept: passing code only, once per distinct code, with each test's outcome
    assert sorted(row["problem_id"] for row in rows) == ["double", "triple"]
    for row in rows:
        v = row["verification"]
        assert v["passed"] is True and v["tests"] and all(t["passed"] for t in v["tests"])
        # the tests are the tests call's code block, not anything from a solution reply
        fake_tests = next(p["fake_tests"] for p in PROBLEMS if p["problem_id"] == row["problem_id"])
        assert row["tests"].strip() == fake_tests.strip("`").removeprefix("python\n").strip()
    by_id = {row["problem_id"]: row for row in rows}
    assert (
        by_id["double"]["code"].strip() == DOUBLE.strip()
        and "round" not in by_id["double"]["_provenance"]
    )
    assert (
        by_id["triple"]["code"].strip() == TRIPLE.strip()
        and by_id["triple"]["_provenance"]["round"] == 1
    )
    # the k identical passing samples of a problem collapse to one
    assert nodes["cv.kept"]["in"] == 2 * K and nodes["cv.kept"]["out"] == 2
