"""``switch:``: one step with alternatives, each record taking the first case that fits.

Checked end to end through the CLI: the choice is made once per record as it enters the
switch (a case that writes what a later condition reads cannot send a record through
two cases), records no case takes pass by, drops and failures are accounted to the
case that made them, an LLM case calls the model only for its own records, parameters
alone decide a switch at compile time, and bad switches are errors at file:line:col.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_completed

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer


def _write(project: Path, body: str) -> Path:
    recipe = project / "r.yaml"
    recipe.write_text(body, encoding="utf-8")
    return recipe


ROUTED = """
synthdsl: 1
sources:
  s:
    records:
      - {n: 1, kind: short}
      - {n: 2, kind: long}
      - {n: 3, kind: other}
      - {n: 4, kind: short}
      - {n: 5, kind: long}
      - {n: 6, kind: empty}
steps:
  - id: route
    from: s
    switch:
      - id: short
        when: "kind == 'short'"
        set: {kind: long, seen: "short"}    # now matches the next case's condition
      - id: long
        when: "kind == 'long'"
        set: {seen: "long"}
      - id: empty
        when: "kind == 'empty'"
        filter: {expr: "false", reason: "empty records are not wanted"}
  - id: tag
    set: {after: "{{ n * 10 }}"}
"""


def test_each_record_takes_the_first_case_chosen_as_it_enters(project: Path) -> None:
    rows, rejects, m = run_completed(_write(project, ROUTED), project / "out")
    got = {r["n"]: (r["kind"], r.get("seen"), r["after"]) for r in rows}
    assert got == {
        1: ("long", "short", 10),  # rewritten to 'long' by its case, not taken twice
        2: ("long", "long", 20),
        3: ("other", None, 30),  # no case takes it: it passes unchanged
        4: ("long", "short", 40),
        5: ("long", "long", 50),
    }
    assert [r["n"] for r in rows] == [1, 2, 3, 4, 5]  # input order kept
    nodes = m["nodes"]
    assert (nodes["route.short"]["in"], nodes["route.short"]["bypassed"]) == (6, 4)
    assert (nodes["route.long"]["in"], nodes["route.long"]["bypassed"]) == (6, 4)
    assert nodes["route.empty"]["dropped"] == {"empty records are not wanted": 1}
    assert [r["record"]["n"] for r in rejects] == [6]
    # The choice is working state: it leaves no trace in what the run writes.
    assert all("switch" not in r["_provenance"] for r in rows)


def test_a_case_with_no_condition_takes_the_rest(project: Path) -> None:
    recipe = _write(
        project,
        ROUTED.replace(
            """      - id: empty
        when: "kind == 'empty'"
""",
            """      - id: rest
""",
        ).replace("empty records are not wanted", "neither short nor long"),
    )
    rows, rejects, m = run_completed(recipe, project / "out")
    assert sorted(r["n"] for r in rows) == [1, 2, 4, 5]
    assert sorted(r["record"]["n"] for r in rejects) == [3, 6]
    assert m["nodes"]["route.rest"]["dropped"] == {"neither short nor long": 2}


def test_a_condition_that_fails_on_a_record_is_a_recorded_failure(project: Path) -> None:
    recipe = _write(
        project,
        """
synthdsl: 1
sources:
  s: {records: [{x: 1}, {x: "a"}, {x: 3}]}
steps:
  - id: pick
    from: s
    switch:
      - id: big
        when: "x > 2"
        set: {size: big}
      - id: small
        set: {size: small}
""",
    )
    rows, rejects, m = run_completed(recipe, project / "out")
    assert [(r["x"], r["size"]) for r in rows] == [(1, "small"), (3, "big")]
    assert m["nodes"]["pick.big"]["failed"] == {"when_error": 1}
    assert [r["record"]["x"] for r in rejects] == ["a"]


def test_an_llm_case_calls_the_model_for_its_own_records_only(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = _write(
        project,
        f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  s: {{records: [{{q: a, lang: en}}, {{q: b, lang: fr}}, {{q: c, lang: en}}]}}
steps:
  - id: answer
    from: s
    switch:
      - id: english
        when: "lang == 'en'"
        generate: {{template: "[[reply: en-{{{{ q }}}}]]", model: gen}}
      - id: french
        generate: {{template: "[[reply: fr-{{{{ q }}}}]]", model: gen}}
""",
    )
    rows, _, m = run_completed(recipe, project / "out")
    assert [r["response"] for r in rows] == ["en-a", "fr-b", "en-c"]
    assert m["nodes"]["answer.english"]["calls"] == 2
    assert m["nodes"]["answer.french"]["calls"] == 1
    assert server.stats()["requests"] == 3


def test_parameters_decide_a_switch_when_the_recipe_compiles(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _write(
        project,
        """
synthdsl: 1
params: {style: {type: enum, choices: [plain, loud], default: plain}}
sources:
  s: {records: [{t: hi}]}
steps:
  - id: say
    from: s
    switch:
      - id: plain
        when: "'${style}' == 'plain'"
        set: {out: "{{ t }}"}
      - id: loud
        when: "'${style}' == 'loud'"
        set: {out: "{{ t | upper }}"}
""",
    )
    assert main(["plan", str(recipe), "--set", "params.style=loud", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    ids = [n["id"] for n in plan["nodes"]]
    assert ids == ["s", "say.loud"] and "case" not in plan["nodes"][1]
    rows, _, _ = run_completed(recipe, project / "out", "--set", "params.style=loud")
    assert [r["out"] for r in rows] == ["HI"]


def test_the_plan_shows_each_case_and_its_condition(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", str(_write(project, ROUTED))]) == 0
    text = capsys.readouterr().out
    assert "case 1 of route: kind == 'short'" in text
    assert "case 3 of route: kind == 'empty'" in text


@pytest.mark.parametrize(
    ("steps", "where", "message"),
    [
        (
            """
  - id: sw
    from: s
    when: "x > 1"
    switch:
      - {id: a, set: {y: "1"}}""",
            "r.yaml:7:5",
            "a switch step takes its conditions on its cases",
        ),
        (
            """
  - id: sw
    from: s
    switch:
      - {id: a, when: "x > 1", set: {y: "1"}}
      - {id: a, set: {y: "2"}}""",
            "r.yaml:9:14",
            "duplicate case id 'a' in switch 'sw'",
        ),
        (
            """
  - id: sw
    from: s
    switch:
      - {id: a, when: "1 > 2", set: {y: "1"}}""",
            "r.yaml:7:5",
            "no case of switch 'sw' can take a record",
        ),
        (
            """
  - id: sw
    from: s
    switch:
      - {id: a, when: "colour == 'red'", set: {y: "1"}}""",
            "r.yaml:8:24",
            "field 'colour' is not provided by any upstream node",
        ),
        (
            """
  - id: sw
    from: s
    switch:
      - {id: a, when: "x > 1", sort: {by: x}}""",
            "r.yaml:8:32",
            "unknown key 'sort' in switch[0] in step 'sw'",
        ),
        (
            """
  - id: sw
    from: s
    switch:
      - {id: a, when: "x > 1", chunk: {field: x, size: 5}}""",
            "r.yaml:8:32",
            "cannot be a case of a switch",
        ),
    ],
)
def test_bad_switches_are_errors_at_their_place(
    project: Path, capsys: pytest.CaptureFixture[str], steps: str, where: str, message: str
) -> None:
    recipe = _write(project, "synthdsl: 1\nsources:\n  s: {records: [{x: 1}]}\nsteps:" + steps)
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert f"{where}: error" in err.replace(str(project) + "/", ""), err


def test_a_case_after_one_without_condition_is_a_warning(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _write(
        project,
        """
synthdsl: 1
sources:
  s: {records: [{x: 1}]}
steps:
  - id: sw
    from: s
    switch:
      - {id: a, set: {y: "1"}}
      - {id: b, when: "x > 0", set: {y: "2"}}
""",
    )
    assert main(["validate", str(recipe)]) == 0
    err = capsys.readouterr().err
    assert "case 'b' is never taken: case 'a' before it has no 'when:'" in err
