"""The ``allocate`` step: the budget split (formula and largest remainder), grouping by
category and by clusters (TF-IDF, MiniLM, and the explicit fallback), slots dealt over
failures, accounting of every evaluation item, and config errors at ``file:line:col``.

Runs go through the CLI (no model is called: ``allocate`` alone makes no call).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import read_jsonl, run_completed

from synthdsl.cli import main
from synthdsl.nodes.budget_split import group_weight, quotas, split_budget


def _row(i: str, group: str | None, correct: bool, prompt: str = "") -> dict[str, Any]:
    row: dict[str, Any] = {"id": i, "prompt": prompt or f"question {i}", "correct": correct}
    if group is not None:
        row["category"] = group
    return row


# groups: alpha 3 of 4 failed, beta 1 of 5, gamma 2 of 2, delta 0 of 3 (input order)
EVAL = [
    _row("a1", "alpha", False),
    _row("b1", "beta", False),
    _row("a2", "alpha", False),
    _row("g1", "gamma", False),
    _row("d1", "delta", True),
    _row("a3", "alpha", False),
    _row("b2", "beta", True),
    _row("a4", "alpha", True),
    _row("g2", "gamma", False),
    _row("b3", "beta", True),
    _row("d2", "delta", True),
    _row("b4", "beta", True),
    _row("d3", "delta", True),
    _row("b5", "beta", True),
]


def _project(project: Path, rows: list[dict[str, Any]], allocate: str) -> Path:
    (project / "evals.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    recipe = project / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: alloc\nsources:\n  evals: {path: evals.jsonl}\n"
        f"steps:\n  - id: groups\n    from: evals\n    allocate: {allocate}\n",
        encoding="utf-8",
    )
    return recipe


def _run(project: Path, rows: list[dict[str, Any]], allocate: str) -> tuple[Any, Any, Any]:
    recipe = _project(project, rows, allocate)
    data, rejects, manifest = run_completed(recipe, project / "out")
    return data, rejects, manifest["nodes"]["groups"]


# --- the formula -------------------------------------------------------------------------


def test_weight_is_rate_to_a_times_size_to_b() -> None:
    assert group_weight(4, 3, 1, 1) == 3.0  # a = b = 1: the failure count
    assert group_weight(4, 3, 1, 0) == 0.75  # the failure rate alone
    assert group_weight(4, 3, 2, 1) == pytest.approx(9 / 4)  # f^2 / n
    assert group_weight(4, 0, 0, 1) == 0.0  # no failure, no share, whatever the exponents
    with pytest.raises(ValueError):
        group_weight(2, 3, 1, 1)


def test_largest_remainder_sums_to_the_budget() -> None:
    # quotas 10 * [3, 1, 2, 0, 1] / 7 = 4.29, 1.43, 2.86, 0, 1.43: floors 4+1+2+0+1 = 8;
    # the 2 left go to the largest remainders: .86 (third), then the tie .43/.43 at
    # equal weight to the group listed first (second)
    assert split_budget([3, 1, 2, 0, 1], 10) == [4, 2, 3, 0, 1]
    assert quotas([3, 1, 2, 0, 1], 7) == [3.0, 1.0, 2.0, 0.0, 1.0]
    for budget in range(0, 40):
        shares = split_budget([0.3, 5, 1.7, 0, 2.2], budget)
        assert sum(shares) == budget and shares[3] == 0
        exact = quotas([0.3, 5, 1.7, 0, 2.2], budget)
        # largest remainder never strays a whole unit from the exact quota
        assert all(abs(s - q) < 1 for s, q in zip(shares, exact, strict=True))
    assert split_budget([0, 0], 5) == [0, 0]
    # a tie in remainder and weight goes to the earlier group
    assert split_budget([1, 1, 1], 2) == [1, 1, 0]


# --- by category -----------------------------------------------------------------------


def test_budget_split_by_category_follows_the_formula(project: Path) -> None:
    data, rejects, node = _run(project, EVAL, "{budget: 10, by: category}")
    note = node["allocation"]
    groups = note["groups"]
    assert set(groups) == {"alpha", "beta", "gamma", "delta"}
    # weights = failures 3, 1, 2, 0; quotas 10 * w / 6 = 5, 1.67, 3.33, 0: floors 5, 1,
    # 3, 0 and the one left to beta (remainder .67 > .33)
    expected = {"alpha": 5, "beta": 2, "gamma": 3, "delta": 0}
    assert {g: v["allocated"] for g, v in groups.items()} == expected
    assert groups["alpha"] == {
        "size": 4,
        "failures": 3,
        "failure_rate": 0.75,
        "weight": 3.0,
        "quota": 5.0,
        "allocated": 5,
    }
    assert groups["beta"]["quota"] == pytest.approx(10 / 6, abs=1e-6)
    assert note["allocated"] == 10 and note["failures"] == 6 and note["items"] == 14
    # one record per slot, with its group; slots dealt round-robin over the failures
    per_group: dict[str, list[tuple[str, int, int]]] = {}
    for row in data:
        t = row["target"]
        per_group.setdefault(t["group"], []).append((row["id"], t["slot"], t["variant"]))
        assert t["examples"][0]["id"] == row["id"]  # its own failure comes first
        assert row["_provenance"]["target"] == {"node": "groups", "group": t["group"]}
    assert {g: len(v) for g, v in per_group.items()} == {"alpha": 5, "beta": 2, "gamma": 3}
    assert sorted(per_group["alpha"]) == [
        ("a1", 1, 1),
        ("a1", 4, 2),
        ("a2", 2, 1),
        ("a2", 5, 2),
        ("a3", 3, 1),
    ]
    # every item is accounted for: 8 answered correctly, none left without budget
    reasons = sorted(r["reason"] for r in rejects)
    assert reasons == ["answered correctly"] * 8
    assert node["in"] == 14 and node["passed"] == 6 and node["out"] == 10


def test_exponents_change_the_split_and_a_small_budget_leaves_failures_out(
    project: Path,
) -> None:
    # rate only (b = 0): alpha .75, beta .2, gamma 1.0 -> quotas 3 * w / 1.95
    _, rejects, node = _run(project, EVAL, "{budget: 3, by: category, size_power: 0}")
    groups = node["allocation"]["groups"]
    weights = {"alpha": 0.75, "beta": 0.2, "gamma": 1.0, "delta": 0.0}
    total = sum(weights.values())
    for name, w in weights.items():
        assert groups[name]["weight"] == pytest.approx(w)
        assert groups[name]["quota"] == pytest.approx(3 * w / total, abs=1e-6)
    # 1.15, 0.31, 1.54: floors 1, 0, 1; the one left goes to gamma (.54 > .31 > .15)
    assert {g: v["allocated"] for g, v in groups.items()} == {
        "alpha": 1,
        "beta": 0,
        "gamma": 2,
        "delta": 0,
    }
    no_budget = [r for r in rejects if r["reason"] == "no budget left for this failure"]
    assert sorted(r["record"]["id"] for r in no_budget) == ["a2", "a3", "b1"]


def test_scores_and_the_failed_expression(project: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"prompt": "p1", "score": 0.2, "category": "x"},
        {"prompt": "p2", "score": 0.9, "category": "x"},
        {"prompt": "p3", "category": "x"},  # neither correct nor score
    ]
    recipe = _project(project, rows, "{budget: 2, by: category}")
    assert main(["run", str(recipe), "--quiet", "--out", str(project / "o")]) == 0
    node = json.loads((project / "o" / "manifest.json").read_text())["nodes"]["groups"]
    assert node["failed"] == {"no_outcome": 1} and node["out"] == 2
    assert node["allocation"]["groups"]["x"]["failures"] == 1
    # a stricter rule given as an expression: both scored items fail
    _, _, node = _run(project, rows[:2], '{budget: 2, by: category, failed: "score < 0.95"}')
    assert node["allocation"]["groups"]["x"]["failures"] == 2
    assert node["allocation"]["failed"] == "score < 0.95"


# --- by clusters -----------------------------------------------------------------------

# Two topics whose questions share their topic's words, as a category's items do.
FRACTIONS = [
    "Simplify the fraction 18/24 to its lowest terms.",
    "Add the fractions 1/3 and 1/4 and simplify the fraction.",
    "Which fraction is larger, 3/5 or 5/8? Compare the fractions.",
    "Write the improper fraction 17/5 as a mixed number fraction.",
    "Multiply the fractions 2/3 and 9/10 and simplify the result.",
    "Subtract the fraction 3/8 from 7/8 and simplify the fraction.",
]
QUERIES = [
    "Write an SQL query that selects all rows from the table orders.",
    "Write an SQL query counting the rows of the customers table.",
    "Write an SQL query joining the orders table with the customers table.",
    "Write an SQL query deleting rows of the table sessions older than a week.",
    "Write an SQL query selecting the ten largest rows of the table payments.",
    "Write an SQL query grouping the rows of the sales table by region.",
]


def _topics() -> list[dict[str, Any]]:
    rows = []
    for i, (f, q) in enumerate(zip(FRACTIONS, QUERIES, strict=True)):
        rows.append(_row(f"f{i}", None, i % 3 == 0, f))  # fractions: 4 of 6 failed
        rows.append(_row(f"q{i}", None, i != 0, q))  # queries: 1 of 6 failed
    return rows


def _topic_of(group_ids: list[str]) -> set[str]:
    return {i[0] for i in group_ids}


@pytest.mark.parametrize("method", ["lexical", "embedding"])
def test_items_without_a_category_are_clustered(project: Path, method: str) -> None:
    data, _, node = _run(
        project, _topics(), f"{{budget: 5, by: category, cluster: {{method: {method}, k: 2}}}}"
    )
    note = node["allocation"]
    assert note["clustering"]["method"] == method and note["clustering"]["clusters"] == 2
    assert "fallback" not in note["clustering"]
    groups = note["groups"]
    assert set(groups) == {"cluster 1", "cluster 2"}
    # each cluster is one topic: the first holds the fractions (f0 comes first)
    members: dict[str, list[str]] = {}
    for row in data:
        members.setdefault(row["target"]["group"], []).append(row["id"])
    assert _topic_of(members["cluster 1"]) == {"f"}
    assert _topic_of(members["cluster 2"]) == {"q"}
    assert groups["cluster 1"]["size"] == 6 and groups["cluster 1"]["failures"] == 4
    assert groups["cluster 2"]["failures"] == 1
    assert [groups[g]["allocated"] for g in ("cluster 1", "cluster 2")] == [4, 1]  # 5 * 4/5, 1/5
    if method == "lexical":
        assert "fraction" in groups["cluster 1"]["label"]
        assert "sql" in groups["cluster 2"]["label"]


def test_auto_falls_back_to_tfidf_when_the_embedding_model_is_missing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the real lookup of the model package, pointed at a distribution that is not there
    monkeypatch.setattr("synthdsl.textproc.embed.MODEL_PACKAGE", "no-such-embedding-model")
    _, _, node = _run(project, _topics(), "{budget: 5, cluster: {k: 2}}")
    clustering = node["allocation"]["clustering"]
    assert clustering["requested"] == "auto" and clustering["method"] == "lexical"
    assert "no-such-embedding-model" in clustering["fallback"]
    # asked for by name, the missing model stops the run (exit 1), naming the step
    recipe = _project(project, _topics(), "{budget: 5, cluster: {method: embedding}}")
    assert main(["run", str(recipe), "--quiet", "--out", str(project / "o2")]) == 1


# --- errors at file:line:col -------------------------------------------------------------


def test_config_errors_are_located(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = _project(
        project, EVAL, '{budget: 3, failed: "not (correct", pass_score: 0.4, by: target}'
    )
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}:8:48: error: invalid filter expression" in err  # in the expression
    assert f"{recipe}:8:51: error: give either 'failed' or 'pass_score', not both" in err
    assert f"{recipe}:8:72: error: 'by' and 'into' name the same field 'target'" in err
    for bad, where in (
        ("{budget: 0}", "8:24"),
        ("{budget: 3, cluster: {method: words}}", "8:45"),
        ("{budget: 3, rate_power: -1}", "8:39"),
    ):
        recipe = _project(project, EVAL, bad)
        assert main(["validate", str(recipe)]) == 2
        assert f"{recipe}:{where}: error" in capsys.readouterr().err, bad


def test_rejects_name_each_item(project: Path) -> None:
    _run(project, EVAL, "{budget: 1, by: category}")
    rejects = read_jsonl(project / "out" / "rejects.jsonl")
    left_out = {r["record"]["id"] for r in rejects if r["reason"].startswith("no budget")}
    # quotas .5, .17, .33: the one slot goes to alpha, and within it to a1
    assert left_out == {"a2", "a3", "b1", "g1", "g2"}
