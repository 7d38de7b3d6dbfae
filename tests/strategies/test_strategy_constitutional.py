"""The constitutional strategy (synthdsl/builtin/recipes/constitutional.yaml) against the fake server.

The fake server's replies are steered from the prompts: the test points the strategy's
``prompts`` parameter at templates that render the real ones
(synthdsl/builtin/prompts/constitutional/*.j2) and then append a directive computed from the record:

- critique: ``[[reply: critique rN by PRINCIPLE]]`` (N = the round, from the history);
- revise: ``[[reply: CURRENT RESPONSE | rN]]``, so a response's text spells out which
  rounds' revisions it went through;
- compare (the judge): ``[[score: S]]`` with S = ``scores[N - 1]``, a list each input
  record carries, so every round of every record gets the judgement the test wants.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_completed

from synthdsl.errors import Span
from synthdsl.lang.templates import load_template
from synthdsl.testing.fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
STRATEGY = REPO / "synthdsl" / "builtin" / "recipes" / "constitutional.yaml"
PRINCIPLES = yaml.safe_load(
    (REPO / "synthdsl" / "builtin" / "recipes" / "data" / "principles.yaml").read_text()
)
CATEGORY = {p["name"]: p["category"] for p in PRINCIPLES}
HISTORY_KEYS = {
    "round",
    "principle",
    "category",
    "critique",
    "revision",
    "improvement_score",
    "judge_reason",
    "accepted",
}

Rows = list[dict[str, Any]]


def _write_prompts(directory: Path) -> None:
    directory.mkdir(exist_ok=True)
    real = "prompts/constitutional"
    n = "{{ history | length + 1 }}"
    (directory / "critique.j2").write_text(
        f'{{% include "{real}/critique.j2" %}}\n'
        f"[[reply: critique r{n} by {{{{ principle.name }}}}]]\n",
        encoding="utf-8",
    )
    (directory / "revise.j2").write_text(
        f'{{% include "{real}/revise.j2" %}}\n[[reply: {{{{ cai.response }}}} | r{n}]]\n',
        encoding="utf-8",
    )
    (directory / "compare.j2").write_text(
        f'{{% include "{real}/compare.j2" %}}\n[[score: {{{{ scores[history | length] }}}}]]\n',
        encoding="utf-8",
    )


def _run(
    project: Path,
    server: FakeOpenAIServer,
    records: Rows,
    with_: dict[str, Any],
    *,
    fresh: bool = False,
) -> tuple[Rows, Rows, dict[str, Any]]:
    _write_prompts(project / "test_prompts")
    (project / "pairs.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    params = {"prompts": str(project / "test_prompts"), **with_}
    recipe = project / "user.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "synthdsl": 1,
                "name": "cai-test",
                "sources": {"pairs": {"path": "pairs.jsonl"}},
                "steps": [{"id": "cai", "from": "pairs", "use": str(STRATEGY), "with": params}],
            }
        ),
        encoding="utf-8",
    )
    args = ["--model", "openai/fake", "--api-base", server.base_url]
    return run_completed(recipe, project / "out", *args, *(["--fresh"] if fresh else []))


def _pair(i: int, scores: list[int]) -> dict[str, Any]:
    return {"prompt": f"question {i}", "response": f"answer {i}", "scores": scores}


def _check_history(row: dict[str, Any], rounds: int) -> None:
    history = row["history"]
    assert [h["round"] for h in history] == list(range(1, rounds + 1))
    for h in history:
        assert set(h) == HISTORY_KEYS
        # the principle drawn for this round is the one the critique was asked about
        assert h["critique"] == f"critique r{h['round']} by {h['principle']}"
        assert h["category"] == CATEGORY[h["principle"]]
        assert h["accepted"] == (h["improvement_score"] >= 6)
        assert isinstance(h["judge_reason"], str)


def test_accepted_revisions_replace_the_response_and_rejected_ones_keep_it(
    server: FakeOpenAIServer, project: Path
) -> None:
    records = [
        _pair(0, [9, 2, 7]),  # accepted, rejected, accepted
        _pair(1, [3, 3, 3]),  # never better: the original goes on to the end
        _pair(2, [6, 5, 10]),  # the threshold itself is accepted
    ]
    rows, rejects, manifest = _run(project, server, records, {"rounds": 3})
    assert [r["prompt"] for r in rows] == ["question 0", "question 1", "question 2"]
    for row in rows:
        _check_history(row, 3)
        assert "cai_weight" not in row
    first, second, third = rows

    # round 1 accepted: its revision is what round 2 critiques and revises
    assert [h["accepted"] for h in first["history"]] == [True, False, True]
    assert [h["improvement_score"] for h in first["history"]] == [9, 2, 7]
    assert [h["revision"] for h in first["history"]] == [
        "answer 0 | r1",
        "answer 0 | r1 | r2",  # rejected: not carried into round 3
        "answer 0 | r1 | r3",
    ]
    assert first["response"] == "answer 0 | r1 | r3"
    assert first["original_response"] == "answer 0"

    assert [h["accepted"] for h in second["history"]] == [False, False, False]
    assert [h["revision"] for h in second["history"]] == [
        "answer 1 | r1",
        "answer 1 | r2",
        "answer 1 | r3",
    ]
    assert second["response"] == second["original_response"] == "answer 1"

    assert [h["accepted"] for h in third["history"]] == [True, False, True]
    assert third["response"] == "answer 2 | r1 | r3"

    nodes = manifest["nodes"]
    assert nodes["cai.rounds"]["loop"]["rounds_run"] == 3
    assert nodes["cai.rounds.critique"]["calls"] == 9  # 3 records x 3 rounds
    assert nodes["cai.rounds.reject"]["bypassed"] == 9  # keep: nothing is dropped
    assert rejects == []  # keep mode drops nothing; the constitution is read, not looped
    assert nodes["cai.rounds"]["in"] == 3 + len(PRINCIPLES)  # responses + the references


def test_drop_mode_drops_a_record_at_its_first_rejected_revision(
    server: FakeOpenAIServer, project: Path
) -> None:
    records = [_pair(0, [9, 2, 7]), _pair(1, [3, 9, 9]), _pair(2, [8, 8, 8])]
    rows, rejects, manifest = _run(
        project, server, records, {"rounds": 3, "on_no_improvement": "drop"}
    )
    (survivor,) = rows
    _check_history(survivor, 3)
    assert survivor["prompt"] == "question 2"
    assert survivor["response"] == "answer 2 | r1 | r2 | r3"

    dropped = {r["record"]["prompt"]: r for r in rejects if r["node"] == "cai.rounds.reject"}
    assert set(dropped) == {"question 0", "question 1"}
    for prompt, round_ in (("question 0", 2), ("question 1", 1)):
        reject = dropped[prompt]
        assert reject["round"] == round_
        assert reject["reason"] == (
            "revision judged no better (improvement < 6, on_no_improvement: drop)"
        )
        # the record is rejected with its history, the failed round included
        history = reject["record"]["history"]
        assert [h["round"] for h in history] == list(range(1, round_ + 1))
        assert history[-1]["accepted"] is False
    # a dropped record costs no further calls: 3 + 2 + 1 critiques
    assert manifest["nodes"]["cai.rounds.critique"]["calls"] == 6


def test_principles_are_drawn_per_record_and_round_reproducibly(
    server: FakeOpenAIServer, project: Path
) -> None:
    records = [_pair(i, [9, 9, 9, 9]) for i in range(8)]
    rows, _, _ = _run(project, server, records, {"rounds": 4})
    drawn = [[h["principle"] for h in row["history"]] for row in rows]
    assert all(len(names) == 4 for names in drawn)
    assert any(len(set(names)) > 1 for names in drawn)  # rounds draw anew
    assert len({names[0] for names in drawn}) > 1  # records draw apart
    # the draws are seeded: a run that makes every call again draws the same principles
    again, _, _ = _run(project, server, records, {"rounds": 4}, fresh=True)
    assert [[h["principle"] for h in row["history"]] for row in again] == drawn
    # another seed, other draws
    other, _, _ = _run(project, server, records, {"rounds": 4, "seed": 1})
    assert [[h["principle"] for h in row["history"]] for row in other] != drawn


def test_category_weights_steer_the_draw(server: FakeOpenAIServer, project: Path) -> None:
    records = [_pair(i, [9, 9]) for i in range(6)]
    off = {f"weight_{c}": 0 for c in ("harmlessness", "helpfulness", "reasoning", "humility")}
    rows, _, _ = _run(project, server, records, off)
    categories = {h["category"] for row in rows for h in row["history"]}
    assert categories == {"honesty"}


def test_field_names_are_parameters_and_texts_arrive_unchanged(
    server: FakeOpenAIServer, project: Path
) -> None:
    records = [
        {"question": "What is six times seven?", "answer": "42", "scores": [2]},
        {"question": "Say hello.", "answer": "'hi' <b>&</b>\n\"quoted\"", "scores": [2]},
    ]
    rows, _, _ = _run(
        project,
        server,
        records,
        {
            "rounds": 1,
            "prompt_field": "question",
            "response_field": "answer",
            "original_field": "first_answer",
        },
    )
    for row, record in zip(rows, records, strict=True):
        # rejected: the response is the original, a string even when it reads as a number
        assert row["answer"] == row["first_answer"] == record["answer"]
        assert row["history"][0]["revision"] == f"{record['answer']} | r1"


def test_out_of_range_parameters_are_compile_errors(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(AssertionError):  # the run exits 2 before any call
        _run(project, server, [_pair(0, [9])], {"rounds": 5})
    assert "must be an integer from 1 to 4, got 5" in capsys.readouterr().err
    assert server.stats()["requests"] == 0


def test_principles_file_and_real_prompts() -> None:
    assert len(PRINCIPLES) >= 16
    names = [p["name"] for p in PRINCIPLES]
    assert len(set(names)) == len(names)
    categories = {"harmlessness", "helpfulness", "honesty", "reasoning", "humility"}
    assert {p["category"] for p in PRINCIPLES} == categories
    for p in PRINCIPLES:
        assert set(p) == {"name", "category", "critique_request", "revision_request"}
    principle = PRINCIPLES[0]
    record = {
        "cai": {"prompt": "the user message", "response": "the current reply"},
        "principle": principle,
        "critique": "the critique",
        "revision": "the revision",
        "params": {},
    }

    def render(name: str) -> str:
        ref = f"prompts/constitutional/{name}"
        return load_template(
            ref, ref_span=Span(ref, 1, 1), search_dirs=[REPO / "synthdsl" / "builtin"]
        ).render(record)

    critique = render("critique.j2")
    assert principle["critique_request"] in critique and "the current reply" in critique
    revise = render("revise.j2")
    assert principle["revision_request"] in revise and "the critique" in revise
    compare = render("compare.j2")
    assert "the current reply" in compare and "the revision" in compare
