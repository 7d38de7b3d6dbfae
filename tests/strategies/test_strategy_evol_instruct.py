"""The Evol-Instruct strategy (synthdsl/builtin/recipes/evol_instruct.yaml) against the fake server.

The strategy takes a `prompts` folder parameter; these tests pass their own templates,
whose rendered text holds fake-server directives, so each LLM step answers as the test
needs: the evolver replies with the task plus ` >OP/KIND` (or copies prompt wording), the
checker says "equal" for one operation, the answerer says sorry, answers in stop words, or
answers properly, depending on markers in the task.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from helpers import run_completed

from synthdsl.errors import Span
from synthdsl.lang.templates import load_template
from synthdsl.testing.fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
STRATEGY = REPO / "synthdsl" / "builtin" / "recipes" / "evol_instruct.yaml"
LOOP = "ev.evolve"
OPS = (
    "add_constraints",
    "deepening",
    "concretizing",
    "increased_reasoning",
    "complicate_input",
    "in_breadth",
)
# the fields of an output record (besides any field of the seeds)
FIELDS = {"instruction", "parent_instruction", "operation", "gain", "response"}

EVOLVE = """\
{% if 'COPYCAT' in instruction %}[[reply: #Rewritten Prompt#: {{ instruction }}]]{% else %}\
[[reply: {{ instruction }} >{{ operation.op }}/{{ operation.kind }}]]{% endif %}
"""
COMPARE = """\
{% if operation.op in params.equal_ops %}[[reply: {"verdict": "equal"}]]\
{% else %}[[reply: {"verdict": "not_equal"}]]{% endif %}
"""
ANSWER = """\
{% if 'SORRY_SHORT' in instruction %}[[reply: Sorry, I cannot help with that.]]\
{% elif 'SORRY_LONG' in instruction %}[[reply: Sorry for the wait. {{ 'Here is a careful answer. ' * 20 }}]]\
{% elif 'HOLLOW' in instruction %}[[reply: ... and the, of it; is! Would you?]]\
{% else %}[[reply: Photosynthesis turns light, water and carbon dioxide into sugar.]]{% endif %}
"""


def _run(
    project: Path,
    server: FakeOpenAIServer,
    seeds: list[str],
    *,
    rounds: int,
    weights: dict[str, int],
    equal_ops: tuple[str, ...] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    tpl = project / "evol_tpl"
    tpl.mkdir(exist_ok=True)
    (tpl / "evolve.j2").write_text(EVOLVE, encoding="utf-8")
    # the checker's template reads which operations it should call "equal" from a param
    (tpl / "compare.j2").write_text(
        COMPARE.replace("params.equal_ops", json.dumps(list(equal_ops))), encoding="utf-8"
    )
    (tpl / "answer.j2").write_text(ANSWER, encoding="utf-8")
    with_ = {"rounds": rounds, "prompts": str(tpl), "seed": 7}
    # this recipe's aliases go in through the strategy's model parameters
    with_ |= {"evolve_model": "evolver", "compare_model": "evol_checker", "answer_model": "evolver"}
    with_.update({f"weight_{op}": weights.get(op, 0) for op in OPS})
    records = ", ".join(json.dumps({"instruction": s}) for s in seeds)
    recipe = project / "r.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
models:
  evolver: {{model: openai/fake, api_base: "{server.base_url}"}}
  evol_checker: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  seeds: {{records: [{records}]}}
steps:
  - id: ev
    from: seeds
    use: {STRATEGY}
    with: {json.dumps(with_)}
""",
        encoding="utf-8",
    )
    return run_completed(recipe, project / "out")


def _round(row: dict[str, Any]) -> int:
    value: int = row["_provenance"]["round"]
    return value


def _loop_parent(row: dict[str, Any]) -> str:
    value: str = row["_provenance"]["loop_parents"][LOOP]
    return value


def _eliminated(rejects: list[dict[str, Any]], step: str) -> list[dict[str, Any]]:
    return [r for r in rejects if r["node"] == f"{LOOP}.{step}"]


def test_each_round_applies_one_operation_drawn_by_weight(
    server: FakeOpenAIServer, project: Path
) -> None:
    # every weight 0 but one
    rows, rejects, manifest = _run(
        project, server, ["alpha", "beta"], rounds=3, weights={"concretizing": 3}
    )
    assert len(rows) == 2 * 3
    assert {r["operation"]["op"] for r in rows} == {"concretizing"}
    assert manifest["nodes"][f"{LOOP}.rewrite"]["calls"] == 6  # one evolution per record a round
    by_id = {r["_provenance"]["id"]: r for r in rows}
    for row in rows:
        _seed, *steps = row["instruction"].split(" >")
        # one operation per round, applied to the previous round's instruction
        assert steps == ["concretizing/in-depth"] * _round(row)
        assert row["response"].startswith("Photosynthesis")
        assert row["gain"] == {"verdict": "not_equal"}
        assert set(row) == {*FIELDS, "_provenance"}
        assert row["operation"]["op_weight"] == 3  # the weight parameter, in the table
        if _round(row) == 1:  # the parent is a seed
            assert row["parent_instruction"] == _seed
            assert _loop_parent(row) not in by_id
        else:
            parent = by_id[_loop_parent(row)]
            assert _round(parent) == _round(row) - 1
            assert row["parent_instruction"] == parent["instruction"]
            assert row["instruction"] == parent["instruction"] + " >concretizing/in-depth"
    # the loop body reads the operation table directly: no table rows in the pool
    assert not _eliminated(rejects, "tasks")
    assert manifest["nodes"][LOOP]["in"] == 2 + len(OPS)  # seeds + the table, read once

    rows, _, _ = _run(project, server, ["gamma"], rounds=2, weights={"in_breadth": 1})
    assert [r["instruction"] for r in sorted(rows, key=_round)] == [
        "gamma >in_breadth/in-breadth",
        "gamma >in_breadth/in-breadth >in_breadth/in-breadth",
    ]


def test_weights_set_the_odds_of_the_draw(server: FakeOpenAIServer, project: Path) -> None:
    seeds = [f"task {i}" for i in range(60)]
    rows, _, _ = _run(project, server, seeds, rounds=1, weights={"deepening": 5, "concretizing": 1})
    counts = Counter(r["operation"]["op"] for r in rows)
    assert set(counts) == {"deepening", "concretizing"} and sum(counts.values()) == 60
    assert 0.7 <= counts["deepening"] / 60 <= 0.95  # 5/6 expected


def test_equal_evolution_is_eliminated_and_its_parent_goes_on(
    server: FakeOpenAIServer, project: Path
) -> None:
    seeds = [f"seed {i}" for i in range(6)]
    rows, rejects, manifest = _run(
        project,
        server,
        seeds,
        rounds=3,
        weights={"deepening": 1, "concretizing": 1},
        equal_ops=("deepening",),
    )
    equal = _eliminated(rejects, "no-gain")
    assert equal and rows
    for rej in equal:
        assert rej["reason"] == "eliminated: no information gain over the parent (judged equal)"
        assert rej["record"]["operation"]["op"] == "deepening"
        assert rej["record"]["gain"] == {"verdict": "equal"}
    assert {r["operation"]["op"] for r in rows} == {"concretizing"}
    # the loop carries each eliminated evolution's parent
    assert manifest["nodes"][LOOP]["loop"]["carried"] == len(equal)

    made = {r["_provenance"]["id"]: r for r in rows}
    evolved_from = {(_loop_parent(r), _round(r)) for r in rows}
    eliminated_from = {(_loop_parent(x["record"]), x["round"]) for x in equal}
    for parent_id, rnd in eliminated_from:
        if rnd < 3:  # the same parent is evolved again next round
            assert (parent_id, rnd + 1) in evolved_from | eliminated_from
    carried_then_evolved = 0
    for row in rows:
        parent = made.get(_loop_parent(row))  # None: the parent is a seed
        parent_round = _round(parent) if parent else 0
        parent_text = parent["instruction"] if parent else row["instruction"].split(" >")[0]
        assert row["instruction"] == parent_text + " >concretizing/in-depth"
        assert row["parent_instruction"] == parent_text
        if parent_round < _round(row) - 1:  # the parent waited a round or more
            carried_then_evolved += 1
    assert carried_then_evolved > 0


def test_sorry_empty_and_copied_evolutions_are_eliminated(
    server: FakeOpenAIServer, project: Path
) -> None:
    seeds = ["plain", "SORRY_SHORT", "SORRY_LONG", "HOLLOW", "COPYCAT"]
    rows, rejects, manifest = _run(project, server, seeds, rounds=2, weights={"deepening": 1})
    survivors = Counter(r["instruction"].split(" >")[0] for r in rows)
    # a long answer that says sorry is kept: only short ones show the model gave up
    assert survivors == {"plain": 2, "SORRY_LONG": 2}

    def seeds_of(step: str) -> Counter[str]:
        found = _eliminated(rejects, step)
        return Counter(x["record"]["parent_instruction"].split(" >")[0] for x in found)

    assert seeds_of("gave-up") == {"SORRY_SHORT": 2}
    assert seeds_of("empty-response") == {"HOLLOW": 2}
    assert seeds_of("copies-prompt") == {"COPYCAT": 2}
    # the evolver's whole reply is the evolved instruction (no format to parse)
    (copied, *_) = _eliminated(rejects, "copies-prompt")
    assert copied["record"]["instruction"] == "#Rewritten Prompt#: COPYCAT"
    reasons = {x["node"].rsplit(".", 1)[1]: x["reason"] for x in rejects}
    assert reasons["gave-up"] == "eliminated: the response says sorry in fewer than 80 words"
    assert reasons["empty-response"] == (
        "eliminated: the response is only punctuation and stop words"
    )
    assert reasons["copies-prompt"] == "eliminated: copies the evolving prompt's wording"
    assert all(x["round"] in (1, 2) for x in rejects)
    # each eliminated seed is carried into round 2 and evolved (and eliminated) again
    assert manifest["nodes"][LOOP]["loop"]["carried"] == 3 * 2
    assert manifest["nodes"][f"{LOOP}.answer"]["calls"] == 4 * 2


def test_real_prompts_render_both_kinds() -> None:
    template = load_template(
        "prompts/evol_instruct/evolve.j2",
        ref_span=Span("t", 1, 1),
        search_dirs=[REPO / "synthdsl" / "builtin"],
    )
    base = {"instruction": "List three prime numbers.", "params": {"added_words": "10 to 20"}}
    depth = template.render(
        {**base, "operation": {"kind": "in-depth", "guidance": "add one more constraint."}}
    )
    breadth = template.render(
        {**base, "operation": {"kind": "in-breadth", "guidance": "is about a rarer topic."}}
    )
    for text in (depth, breadth):
        assert "List three prime numbers." in text and "Reply with the new task only" in text
    assert "add one more constraint." in depth and "10 to 20 words" in depth
    assert "brand-new task that is about a rarer topic." in breadth
