"""Output shapes and formats, each read back by the library that owns it.

``format: hf`` through ``datasets.load_from_disk``, Parquet through
``pyarrow.parquet.read_table``; preference rows checked against the columns TRL's
DPOTrainer reads (``prompt``/``chosen``/``rejected``: strings, or lists of
``{role, content}`` messages); conversations as OpenAI ``messages`` and ShareGPT
``conversations``; and provenance placed by one rule for ``run`` and ``save-as``.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import datasets
import pyarrow.parquet as pq
import pytest
from helpers import read_jsonl, run_completed

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]


def _recipe(project: Path, records: list[dict[str, Any]], output: str) -> Path:
    """A recipe of inline records passed through a filter into ``output:``."""
    lines = "\n".join(f"      - {json.dumps(r)}" for r in records)
    text = (
        "synthdsl: 1\nname: shapes\nsources:\n  rows:\n    records:\n"
        f"{lines}\n"
        'steps:\n  - id: keep\n    from: rows\n    filter: "true"\n'
        "output:\n" + textwrap.indent(textwrap.dedent(output).strip(), "  ") + "\n"
    )
    path = project / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _hf_rows(folder: Path) -> list[dict[str, Any]]:
    ds = datasets.load_from_disk(str(folder))
    rows: list[dict[str, Any]] = ds.to_list()
    return rows


def _is_messages(value: Any, roles: set[str]) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(m, dict)
            and set(m) == {"role", "content"}
            and m["role"] in roles
            and isinstance(m["content"], str)
            for m in value
        )
    )


def _reasons(rejects: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((r["status"], r["reason"], r["record"]["answer"]) for r in rejects)


# -- preference -----------------------------------------------------------------------------


def test_preference_standard_round_trips_through_datasets(project: Path) -> None:
    records = [
        {"question": "What is 2+2?", "good": "4.", "bad": "5."},
        {"question": "Capital of France?", "good": "Paris.", "bad": "Lyon."},
    ]
    recipe = _recipe(
        project,
        records,
        """
        format: hf
        shape: preference
        prompt_field: question
        chosen_field: good
        rejected_field: bad
        """,
    )
    rows, _, manifest = run_completed(recipe, project / "out")
    assert rows == [
        {"prompt": "What is 2+2?", "chosen": "4.", "rejected": "5."},
        {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
    ]
    loaded = datasets.load_from_disk(str(project / "out" / "dataset"))
    # TRL's standard preference format: exactly these columns, all strings
    assert loaded.column_names == ["prompt", "chosen", "rejected"]
    assert {str(f.dtype) for f in loaded.features.values()} == {"string"}
    assert loaded.to_list() == rows
    assert manifest["output"]["format"] == "hf"
    # provenance lies beside the training file, keyed by row and record id
    beside = read_jsonl(project / "out" / "dataset.provenance.jsonl")
    assert [b["row"] for b in beside] == [0, 1]
    # a filter passes records on unchanged: their provenance is the source row's
    assert [(b["provenance"]["node"], b["provenance"]["row"]) for b in beside] == [
        ("rows", 0),
        ("rows", 1),
    ]


def test_pairs_from_scores_best_and_worst_with_every_other_record_accounted(
    project: Path,
) -> None:
    def r(q: str, answer: str, score: Any) -> dict[str, Any]:
        return {"q": q, "answer": answer, "score": score}

    records = [
        r("q1", "a1-low", 3),
        r("q2", "a2-only", 8),
        r("q1", "a1-high", 9),
        r("q3", "a3-x", 7),
        r("q1", "a1-mid", 5),
        r("q3", "a3-y", 7),
        r("q4", "a4-first-top", 8),
        r("q4", "a4-low", 2),
        r("q4", "a4-second-top", 8),
        r("q1", "a1-bad-score", "high"),
    ]
    recipe = _recipe(
        project,
        records,
        """
        format: parquet
        shape: preference
        preference_style: conversational
        system: Answer briefly.
        pairs_from: {group_by: q, score: score, text: answer}
        """,
    )
    assert main(["run", str(recipe), "--quiet", "--out", "out"]) == 0
    manifest = json.loads((project / "out" / "manifest.json").read_text("utf-8"))
    assert manifest["accounting_balanced"] is True
    table = pq.read_table(str(project / "out" / "dataset.parquet"))
    assert table.column_names == ["prompt", "chosen", "rejected", "score_chosen", "score_rejected"]
    rows = table.to_pylist()
    assert [(row["prompt"][-1]["content"], row["chosen"][0]["content"]) for row in rows] == [
        ("q1", "a1-high"),
        ("q4", "a4-first-top"),
    ]
    for row in rows:  # TRL's conversational preference format, explicit prompt
        assert _is_messages(row["prompt"], {"system", "user"})
        assert row["prompt"][0] == {"role": "system", "content": "Answer briefly."}
        assert _is_messages(row["chosen"], {"assistant"}) and len(row["chosen"]) == 1
        assert _is_messages(row["rejected"], {"assistant"}) and len(row["rejected"]) == 1
    assert [row["rejected"][0]["content"] for row in rows] == ["a1-low", "a4-low"]
    assert [(row["score_chosen"], row["score_rejected"]) for row in rows] == [(9, 3), (8, 2)]
    rejects = [x for x in read_jsonl(project / "out" / "rejects.jsonl") if x["node"] == "output"]
    assert _reasons(rejects) == [
        ("dropped", "pair: between best and worst", "a1-mid"),
        ("dropped", "pair: equal scores", "a3-x"),
        ("dropped", "pair: equal scores", "a3-y"),
        ("dropped", "pair: single response", "a2-only"),
        ("dropped", "pair: tied for best score", "a4-second-top"),
        ("failed", "shape", "a1-bad-score"),
    ]
    failed = next(x for x in rejects if x["status"] == "failed")
    assert "not a finite number" in failed["error"]
    out = manifest["nodes"]["output"]
    assert (out["in"], out["passed"], out["out"]) == (10, 4, 2)
    assert sum(out["dropped"].values()) == 5 and out["failed"] == {"shape": 1}
    # each pair's provenance names both records it was made from
    beside = read_jsonl(project / "out" / "dataset.provenance.jsonl")
    assert [sorted(b["provenance"]) for b in beside] == [["chosen", "rejected"]] * 2


# -- conversations --------------------------------------------------------------------------


_TURNS_OK = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4."},
]
_TURNS_SYSTEM = [{"role": "system", "content": "Be kind."}, *_TURNS_OK[:2]]
_TURNS_BAD = {
    "twice-user": [_TURNS_OK[0], _TURNS_OK[0], _TURNS_OK[1]],
    "ends-user": _TURNS_OK[:3],
    "no-list": "Hi there",
    "late-system": [_TURNS_OK[0], {"role": "system", "content": "x"}, _TURNS_OK[1]],
    "extra-key": [{"role": "user", "content": "Hi", "name": "bob"}, _TURNS_OK[1]],
}


@pytest.mark.parametrize("style", ["openai", "sharegpt"])
def test_conversations_round_trip_and_bad_turns_are_recorded(project: Path, style: str) -> None:
    records = [{"id": "ok", "chat": _TURNS_OK}, {"id": "sys", "chat": _TURNS_SYSTEM}]
    records += [{"id": name, "chat": turns} for name, turns in _TURNS_BAD.items()]
    recipe = _recipe(
        project,
        records,
        f"""
        format: hf
        shape: conversation
        turns_field: chat
        style: {style}
        """,
    )
    # most records here are bad on purpose: let the run finish despite the failures
    argv = ["run", str(recipe), "--quiet", "--out", "out", "--max-failure-rate", "1"]
    assert main(argv) == 0
    out = project / "out"
    rows = read_jsonl(out / "dataset.jsonl")
    assert _hf_rows(out / "dataset") == rows
    if style == "openai":
        assert rows == [{"messages": _TURNS_OK}, {"messages": _TURNS_SYSTEM}]
    else:
        names = {"system": "system", "user": "human", "assistant": "gpt"}
        assert rows == [
            {"conversations": [{"from": names[t["role"]], "value": t["content"]} for t in turns]}
            for turns in (_TURNS_OK, _TURNS_SYSTEM)
        ]
    rejects = {x["record"]["id"]: x for x in read_jsonl(out / "rejects.jsonl")}
    assert set(rejects) == set(_TURNS_BAD)
    assert all(x["node"] == "output" and x["status"] == "failed" for x in rejects.values())
    assert "chat[1] is a user turn where a assistant turn belongs" in rejects["twice-user"]["error"]
    assert "must end with an assistant turn" in rejects["ends-user"]["error"]
    assert "must be a list of turns" in rejects["no-list"]["error"]
    assert "chat[1] is a system turn" in rejects["late-system"]["error"]
    assert "exactly 'role' and 'content'" in rejects["extra-key"]["error"]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["accounting_balanced"] and manifest["nodes"]["output"]["out"] == 2


# -- provenance: one rule for run and save-as ----------------------------------------------


_QA = [
    {"instruction": "Name a prime.", "response": "7."},
    {"instruction": "Name a colour.", "response": "Blue."},
]


def test_provenance_is_placed_alike_by_run_and_save_as(project: Path) -> None:
    records_run = _recipe(project, _QA, "shape: records")
    rows, _, _ = run_completed(records_run, project / "recs")
    assert all("_provenance" in row for row in rows)  # records: synthdsl's own rows

    (project / "chat").mkdir()
    chat_run = _recipe(project / "chat", _QA, "shape: openai")
    run_rows, _, _ = run_completed(chat_run, project / "chat" / "out")
    assert all(set(row) == {"messages"} for row in run_rows)
    run_beside = read_jsonl(project / "chat" / "out" / "dataset.provenance.jsonl")

    assert main(["save-as", "recs", "--format", "openai", "--out", "saved.jsonl"]) == 0
    assert read_jsonl(project / "saved.jsonl") == run_rows
    saved_beside = read_jsonl(project / "saved.provenance.jsonl")
    # the same records through the same filter: the same provenance, beside the data
    assert saved_beside == run_beside
    assert saved_beside == [
        {"row": i, "provenance": row["_provenance"]} for i, row in enumerate(rows)
    ]

    # inline on request, alike again
    inline_run = _recipe(project / "chat", _QA, "shape: openai\nprovenance: inline")
    inline_rows, _, _ = run_completed(inline_run, project / "chat" / "inline")
    assert not (project / "chat" / "inline" / "dataset.provenance.jsonl").exists()
    argv = ["save-as", "recs", "--format", "openai", "--out", "inl.jsonl", "--provenance"]
    assert main(argv) == 0
    assert read_jsonl(project / "inl.jsonl") == inline_rows
    assert [row["_provenance"] for row in inline_rows] == [row["_provenance"] for row in rows]
    assert not (project / "inl.provenance.jsonl").exists()

    # and none
    assert main([*argv[:-3], "--out", "none.jsonl", "--provenance", "none"]) == 0
    assert read_jsonl(project / "none.jsonl") == run_rows
    assert not (project / "none.provenance.jsonl").exists()


def test_save_as_pairs_from_matches_the_run(project: Path) -> None:
    scored = [
        {"instruction": "q", "response": "good", "score": 9},
        {"instruction": "q", "response": "bad", "score": 1},
    ]
    rows, _, _ = run_completed(_recipe(project, scored, "shape: records"), project / "recs")
    argv = ["save-as", "recs", "--format", "preference"]
    assert main([*argv, "--pairs-from", "instruction,score,response", "--out", "p.jsonl"]) == 0
    assert read_jsonl(project / "p.jsonl") == [
        {"prompt": "q", "chosen": "good", "rejected": "bad", "score_chosen": 9, "score_rejected": 1}
    ]
    beside = read_jsonl(project / "p.provenance.jsonl")
    assert beside == [
        {
            "row": 0,
            "provenance": {"chosen": rows[0]["_provenance"], "rejected": rows[1]["_provenance"]},
        }
    ]


# -- format: hf -----------------------------------------------------------------------------


def test_hf_folder_is_replaced_whole_by_a_rerun(project: Path) -> None:
    recipe = _recipe(project, _QA, "format: hf\nshape: alpaca")
    run_completed(recipe, project / "out")
    assert len(_hf_rows(project / "out" / "dataset")) == 2
    recipe = _recipe(project, _QA[:1], "format: hf\nshape: alpaca")
    rows, _, _ = run_completed(recipe, project / "out")
    assert (
        _hf_rows(project / "out" / "dataset")
        == rows
        == [{"instruction": "Name a prime.", "input": "", "output": "7."}]
    )
    assert sorted(p.name for p in (project / "out").iterdir()) == [
        "README.md",
        "calls.jsonl",
        "dataset",
        "dataset.jsonl",
        "dataset.provenance.jsonl",
        "manifest.json",
        "rejects.jsonl",
        "report.html",
    ]


def test_a_failed_hf_run_leaves_partial_rows_and_no_folder(project: Path) -> None:
    output = "format: hf\nshape: conversation\nturns_field: chat"
    good = {"id": "ok", "chat": _TURNS_OK}
    run_completed(_recipe(project, [good], output), project / "out")
    bad = [good, *({"id": k, "chat": v} for k, v in _TURNS_BAD.items())]
    recipe = _recipe(project, bad, output)
    assert (project / "out" / "dataset").is_dir()
    # 5 of 6 records fail the shape: over max_failure_rate, the run fails
    assert main(["run", str(recipe), "--quiet", "--out", "out"]) == 1
    out = project / "out"
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "failed"
    assert manifest["output"]["path"].endswith("dataset.partial.jsonl")
    assert read_jsonl(out / "dataset.partial.jsonl") == [{"messages": _TURNS_OK}]
    assert [b["row"] for b in read_jsonl(out / "dataset.partial.provenance.jsonl")] == [0]
    # the completed run's files are gone: no folder describes rows of another run
    for stale in ("dataset", "dataset.jsonl", "dataset.provenance.jsonl"):
        assert not (out / stale).exists(), stale


def test_hf_without_datasets_says_what_to_install(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets → ImportError
    recipe = _recipe(project, _QA, "format: hf")
    assert main(["run", str(recipe), "--quiet", "--out", "out"]) == 1
    err = capsys.readouterr().err
    assert 'pip install "synthdsl[hf]"' in err and "Traceback" not in err
    assert not (project / "out" / "dataset").exists()


# -- bad output blocks: errors at file:line:col ----------------------------------------------


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (
            "shape: openai\npairs_from: {group_by: q, score: s, text: t}",
            "recipe.yaml:13:3: error: output.pairs_from does not apply to shape 'openai'",
        ),
        (
            "shape: preference\nsystem: hi",
            "recipe.yaml:13:3: error: output.system needs preference_style: conversational",
        ),
        (
            "shape: preference\npairs_from: {group_by: instruction, score: scroe, text: response}",
            "recipe.yaml:13:46: error: output field 'scroe' is not provided by step 'keep'",
        ),
        (
            "shape: conversation\nturns_field: chat",
            "recipe.yaml:13:16: error: output field 'chat' is not provided by step 'keep'",
        ),
        (
            "format: arrow",
            "recipe.yaml:12:11: error: output.format must be one of: jsonl, parquet, hf",
        ),
    ],
)
def test_bad_output_blocks_are_recipe_errors(
    project: Path, capsys: pytest.CaptureFixture[str], output: str, message: str
) -> None:
    recipe = _recipe(project, [{"instruction": "q", "response": "a", "score": 1}], output)
    assert main(["validate", str(recipe)]) == 2
    assert message in capsys.readouterr().err


# -- the example ----------------------------------------------------------------------------


def test_preference_example_runs_into_a_dpo_dataset(
    project: Path, server: FakeOpenAIServer
) -> None:
    rows, rejects, manifest = run_completed(
        REPO / "examples" / "preference.yaml",
        project / "out",
        "--model",
        "openai/fake",
        "--api-base",
        server.base_url,
    )
    assert rows and _hf_rows(project / "out" / "dataset") == rows
    for row in rows:
        assert {"prompt", "chosen", "rejected"} <= set(row)
        assert all(isinstance(row[k], str) for k in ("prompt", "chosen", "rejected"))
        assert row["score_chosen"] > row["score_rejected"]
    out = manifest["nodes"]["output"]
    assert out["in"] == 3 * manifest["nodes"]["ask"]["out"]  # n: 3 answers per question
    assert out["in"] == out["passed"] + sum(out["dropped"].values()) + sum(out["failed"].values())
    assert len([r for r in rejects if r["node"] == "output"]) == out["in"] - out["passed"]
