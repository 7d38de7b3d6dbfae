"""The doc_qa strategy (recipes/doc_qa.yaml and its two parts) and the verbs ingest,
create, curate and save-as, against the fake server.

How the fake server is steered: generation asks for JSON with a schema, so every reply
is a schema-valid document of made-up words (1 to ``max_pairs`` pairs per chunk). The
judge's score comes from a ``[[score: N]]`` directive written into the documents
themselves: the chunk is part of the judge prompt, so the directive reaches the server
and the judge replies with that score. A document scored 9 passes the default threshold
8.5, one scored 8 or 3 falls under it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import make_pdf

from synthdsl.cli import COMMANDS as CLI_COMMANDS
from synthdsl.cli import main
from synthdsl.cli.docqa import COMMANDS
from synthdsl.lang.paramtypes import param_defaults
from synthdsl.testing.fake_openai import FakeOpenAIServer
from synthdsl.textproc.chunking import count_tokens

REPO = Path(__file__).resolve().parents[2]
STRATEGY = REPO / "synthdsl" / "builtin" / "recipes" / "doc_qa.yaml"
PARTS = [
    REPO / "synthdsl" / "builtin" / "recipes" / "doc_qa_generate.yaml",
    REPO / "synthdsl" / "builtin" / "recipes" / "doc_qa_curate.yaml",
]

GOOD = "[[score: 9]]"
PARAGRAPHS = [
    f"Paragraph {i} explains how topic {i} works and why it matters to readers. {GOOD}"
    for i in range(6)
]


def _documents(root: Path) -> dict[str, str]:
    """good.md (score 9, several chunks at size 40), bad.html (3), eight.pdf (8).
    Returns each document's extracted text by path."""
    root.mkdir()
    (root / "good.md").write_text("# Good notes\n\n" + "\n\n".join(PARAGRAPHS) + "\n", "utf-8")
    (root / "bad.html").write_text(
        "<html><head><title>Bad page</title></head><body><nav>Home</nav>"
        "<p>Filler words about nothing at all. [[score: 3]]</p></body></html>",
        encoding="utf-8",
    )
    (root / "eight.pdf").write_bytes(
        make_pdf([["An almost good page. [[score: 8]]"]], title="Eight")
    )
    from synthdsl.io.readers import SourceReader

    return {row["path"]: row["text"] for row in SourceReader(root)}


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _recipe(project: Path, server: FakeOpenAIServer, with_: str, output: str = "") -> Path:
    path = project / "r.yaml"
    path.write_text(
        f"""
synthdsl: 1
name: doc-qa-test
models:
  default: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  docs: {{path: docs}}
steps:
  - id: qa
    from: docs
    use: {STRATEGY}
    with: {with_}
output: {{from: qa{output}}}
""",
        encoding="utf-8",
    )
    return path


def _run(recipe: Path, *extra: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    out = recipe.parent / "out"
    assert main(["run", str(recipe), "--quiet", "--out", str(out), *extra]) == 0
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed" and manifest["accounting_balanced"] is True
    return _read(out / "dataset.jsonl"), manifest


# -- the strategy -------------------------------------------------------------------------


def test_pairs_keep_chunk_and_document_and_the_threshold_drops(
    server: FakeOpenAIServer, project: Path
) -> None:
    texts = _documents(project / "docs")
    recipe = _recipe(project, server, "{max_pairs: 3, chunk_size: 40, chunk_overlap: 5}")
    rows, m = _run(recipe)
    nodes = m["nodes"]
    made = nodes["qa.create.complete.qa_summary"]["out"]
    assert nodes["qa.create.chunks"]["out"] > 3  # good.md is cut into several chunks
    assert nodes["qa.curate.rate"]["in"] == made and made > len(rows) > 0

    # Kept: only good.md's pairs (score 9); each keeps its chunk and its document.
    assert {r["path"] for r in rows} == {"good.md"}
    per_chunk: dict[int, list[int]] = {}
    for r in rows:
        assert r["title"] == "Good notes"  # from the Markdown heading
        assert r["chunk"] in texts["good.md"]
        assert texts["good.md"][r["chunk_start"] : r["chunk_end"]] == r["chunk"]
        assert count_tokens(r["chunk"]) <= 40 and 0 <= r["chunk_index"] < r["chunk_count"]
        assert r["score"] == 9 and isinstance(r["score_reason"], str)
        assert r["question"] and r["answer"] and "reasoning" not in r and "summary" not in r
        assert (r["instruction"], r["input"], r["response"]) == (r["question"], "", r["answer"])
        assert r["doc_qa"]["mode"] == "qa" and "text" not in r
        per_chunk.setdefault(r["chunk_index"], []).append(r["doc_qa"]["pair_index"])
    for indexes in per_chunk.values():  # max_pairs: the schema's maxItems and the explode cap
        assert len(indexes) <= 3 and sorted(indexes) == list(range(len(indexes)))

    # Dropped under the threshold, with the reason, the score and the judge's reason.
    rejects = _read(project / "out" / "rejects.jsonl")
    assert nodes["qa.curate.keep"]["dropped"] == {"doc_qa: score below 8.5": len(rejects)}
    assert {(r["record"]["path"], r["record"]["score"]) for r in rejects} == {
        ("bad.html", 3),
        ("eight.pdf", 8),  # 8 < 8.5: integer scores, so 8.5 keeps 9 and 10 only
    }
    for r in rejects:
        assert r["node"] == "qa.curate.keep" and r["reason"] == "doc_qa: score below 8.5"
        rec = r["record"]
        assert rec["chunk"] in texts[rec["path"]] and rec["score_reason"]
        assert rec["title"] == {"bad.html": "Bad page", "eight.pdf": "Eight"}[rec["path"]]
    assert {r["record"]["pages"] for r in rejects if r["record"]["path"] == "eight.pdf"} == {1}

    # A lower threshold keeps the 8s; everything else is a cache hit.
    rows, m = _run(recipe, "--set", "steps.qa.with.threshold=8")
    assert {r["path"] for r in rows} == {"good.md", "eight.pdf"} and m["totals"]["calls"] == 0


@pytest.mark.parametrize("mode", ["qa", "cot", "summary"])
def test_modes_produce_their_shapes(server: FakeOpenAIServer, project: Path, mode: str) -> None:
    _documents(project / "docs")
    rows, m = _run(_recipe(project, server, f"{{mode: {mode}, max_pairs: 2}}"))
    assert rows and {r["path"] for r in rows} == {"good.md"}
    assert m["nodes"]["qa.create.chunks"]["out"] == 3  # one chunk per document at 512
    own = {"qa": {"question", "answer"}, "cot": {"question", "reasoning", "answer"}}
    own["summary"] = {"summary"}
    for r in rows:
        assert r["doc_qa"]["mode"] == mode
        assert own[mode] <= set(r) and not (set().union(*own.values()) - own[mode]) & set(r)
        assert all(isinstance(r[k], str) and r[k] for k in own[mode])
        if mode == "qa":
            assert (r["instruction"], r["input"], r["response"]) == (r["question"], "", r["answer"])
        elif mode == "cot":
            assert r["instruction"] == r["question"] and r["input"] == ""
            assert r["response"] == f"{r['reasoning']}\n\nAnswer: {r['answer']}"
        else:
            assert r["instruction"] == "Summarize the following passage."
            assert (r["input"], r["response"]) == (r["chunk"], r["summary"])
            assert r["doc_qa"]["pair_index"] == 0
    # The mode is a parameter, so the switch is decided at compile time: only the
    # mode's own case is a node, and it made every call.
    asks = {k: v for k, v in m["nodes"].items() if k.startswith("qa.create.ask.")}
    assert list(asks) == [f"qa.create.ask.{mode}"]
    assert asks[f"qa.create.ask.{mode}"]["calls"] == m["nodes"]["qa.create.chunks"]["out"]


@pytest.mark.parametrize("shape", ["records", "openai", "chatml", "alpaca", "sharegpt"])
def test_output_formats(server: FakeOpenAIServer, project: Path, shape: str) -> None:
    _documents(project / "docs")
    recipe = _recipe(project, server, "{mode: cot, max_pairs: 2}", ", provenance: false")
    rows, _ = _run(recipe, "--set", f"output.shape={shape}")
    assert rows
    for r in rows:
        if shape == "records":
            assert {"question", "reasoning", "answer", "chunk", "path", "title"} <= set(r)
        elif shape in ("openai", "chatml"):
            assert [m["role"] for m in r["messages"]] == ["user", "assistant"]
            assert "\n\nAnswer: " in r["messages"][1]["content"]
            assert ("text" in r) == (shape == "chatml")
            if shape == "chatml":
                assert r["text"].startswith("<|im_start|>user\n")
        elif shape == "alpaca":
            assert set(r) == {"instruction", "input", "output"} and r["input"] == ""
        else:
            assert [t["from"] for t in r["conversations"]] == ["human", "gpt"]
        assert "_provenance" not in r


def test_replies_dropped_with_their_reason_and_text_kept_as_text(
    server: FakeOpenAIServer, project: Path
) -> None:
    """The generation part alone, each document pinning the writer's reply."""
    docs = project / "docs"
    docs.mkdir()
    replies = {
        "literal.md": '{"pairs": [{"question": "Six times seven?", "answer": "42"}, '
        '{"question": "Is it so?", "answer": "True"}, {"question": "(1, 2)", "answer": "[1]"}]}',
        "none.md": '{"pairs": []}',
        "blank.md": '{"pairs": [{"question": "Why?", "answer": "  "}]}',
        "prose.md": "Here are some questions about the text.",
        "many.md": json.dumps(
            {"pairs": [{"question": f"Q{i}?", "answer": "A."} for i in range(4)]}
        ),
    }
    for name, reply in replies.items():
        # prose stays prose when asked again for JSON (the step retries twice)
        directive = "replies" if name == "prose.md" else "reply"
        (docs / name).write_text(f"Some text. [[{directive}: {reply}]]\n", "utf-8")
    recipe = project / "g.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
models:
  default: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  docs: {{path: docs}}
steps:
  - id: gen
    from: docs
    use: {PARTS[0]}
    with: {{max_pairs: 3}}
""",
        encoding="utf-8",
    )
    rows, m = _run(recipe)
    got = {(r["path"], r["question"]): r["answer"] for r in rows}
    assert got == {
        ("literal.md", "Six times seven?"): "42",  # text, not the number 42
        ("literal.md", "Is it so?"): "True",
        ("literal.md", "(1, 2)"): "[1]",
        ("many.md", "Q0?"): "A.",  # max_pairs: the first three of four
        ("many.md", "Q1?"): "A.",
        ("many.md", "Q2?"): "A.",
    }
    assert m["nodes"]["gen.has_pairs"]["dropped"] == {"doc_qa: the reply has no pairs": 1}
    assert m["nodes"]["gen.complete.qa_summary"]["dropped"] == {
        "doc_qa: empty question, answer or summary": 1
    }
    assert m["nodes"]["gen.ask.qa"]["failed"] == {"invalid_json": 1}
    rejects = {r["record"]["path"]: r["reason"] for r in _read(project / "out" / "rejects.jsonl")}
    assert rejects == {
        "none.md": "doc_qa: the reply has no pairs",
        "blank.md": "doc_qa: empty question, answer or summary",
        "prose.md": "invalid_json",
    }


def test_mode_is_checked(server: FakeOpenAIServer, project: Path, capsys: Any) -> None:
    _documents(project / "docs")
    recipe = _recipe(project, server, "{mode: bogus}")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "must be one of 'qa', 'cot', 'summary', got 'bogus'" in err
    # The generation part alone rejects the mode before any call.
    llm = ["--model", "openai/fake", "--api-base", server.base_url, "--quiet"]
    bogus = ["--set", 'steps.create.with.mode="bogus"']
    assert main(["create", "docs", "--out", "gen", *llm, *bogus]) == 2
    assert server.stats()["requests"] == 0
    assert "must be one of 'qa', 'cot', 'summary', got 'bogus'" in capsys.readouterr().err


def test_the_strategy_forwards_every_parameter() -> None:
    whole = yaml.safe_load(STRATEGY.read_text("utf-8"))
    steps = {s["id"]: s for s in whole["steps"]}
    for part, step in zip(PARTS, ["create", "curate"], strict=True):
        params = yaml.safe_load(part.read_text("utf-8"))["params"]
        assert set(steps[step]["with"]) == set(params), part.name
        for name, default in param_defaults(params).items():
            assert param_defaults(whole["params"])[name] == default, f"{part.name}: {name}"
            assert steps[step]["with"][name] == f"${{{name}}}"


# -- the verbs ----------------------------------------------------------------------------


def test_cli_registers_the_four_verbs() -> None:
    assert set(COMMANDS) == {"ingest", "create", "curate", "save-as"}
    for name in COMMANDS:
        assert CLI_COMMANDS[name][0] == "synthdsl.cli.docqa"


def test_verbs_end_to_end(server: FakeOpenAIServer, project: Path, capsys: Any) -> None:
    texts = _documents(project / "docs")
    llm = ["--model", "openai/fake", "--api-base", server.base_url, "--quiet"]

    assert main(["ingest", "docs", "--out", "ing"]) == 0
    docs = _read(project / "ing" / "documents.jsonl")
    assert [(d["path"], d["title"], d["pages"]) for d in docs] == [
        ("docs/bad.html", "Bad page", None),
        ("docs/eight.pdf", "Eight", 1),
        ("docs/good.md", "", None),
    ]
    assert [d["text"] for d in docs] == [texts["bad.html"], texts["eight.pdf"], texts["good.md"]]

    create = ["create", "ing", "--type", "qa", "--num-pairs", "2", "--chunk-size", "40"]
    assert main([*create, "--chunk-overlap", "5", "--out", "gen", *llm]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "next: synthdsl curate" in out
    pairs = _read(project / "gen" / "dataset.jsonl")
    manifest = json.loads((project / "gen" / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed" and manifest["accounting_balanced"] is True
    assert manifest["recipe"]["path"].endswith("doc_qa-create.yaml")
    assert (project / "gen" / "rejects.jsonl").exists()
    assert {p["path"] for p in pairs} == {d["path"] for d in docs}
    for p in pairs:
        assert p["chunk"] in texts[p["path"].removeprefix("docs/")]
        assert count_tokens(p["chunk"]) <= 40 and p["doc_qa"]["mode"] == "qa"
        assert p["doc_qa"]["pair_index"] < 2
    assert {p["title"] for p in pairs if p["path"] == "docs/good.md"} == {"Good notes"}
    # The recipe the verb ran is in the run directory, with the same run's command line.
    wrapper = (project / "gen" / "doc_qa-create.yaml").read_text("utf-8")
    assert "steps.create.with.max_pairs=2" in wrapper and "doc_qa_generate.yaml" in wrapper

    assert main(["curate", "gen", "--out", "cur", *llm]) == 0  # mode taken from the pairs
    kept = _read(project / "cur" / "dataset.jsonl")
    rejects = _read(project / "cur" / "rejects.jsonl")
    assert len(kept) + len(rejects) == len(pairs) and kept and rejects
    assert {k["path"] for k in kept} == {"docs/good.md"} and {k["score"] for k in kept} == {9}
    assert {r["reason"] for r in rejects} == {"doc_qa: score below 8.5"}

    # Same as `use: doc_qa` on the same documents: same pairs kept, same calls (cached).
    recipe = _recipe(project, server, "{max_pairs: 2, chunk_size: 40, chunk_overlap: 5}")
    whole, m = _run(recipe)
    assert m["totals"]["calls"] == 0
    assert sorted((r["question"], r["answer"], r["score"]) for r in whole) == sorted(
        (k["question"], k["answer"], k["score"]) for k in kept
    )

    for fmt in ("openai", "chatml", "alpaca", "sharegpt", "jsonl"):
        assert main(["save-as", "cur", "--format", fmt]) == 0
        rows = _read(project / "cur" / f"{fmt}.jsonl")
        assert len(rows) == len(kept)
        first = rows[0]
        if fmt == "jsonl":
            assert first["chunk"] == kept[0]["chunk"] and first["path"] == kept[0]["path"]
            # records keep provenance inline, as a run's records do (docs/outputs.md)
            assert first["_provenance"] == kept[0]["_provenance"]
        else:
            assert "_provenance" not in first  # training shapes: it lies beside
            beside = _read(project / "cur" / f"{fmt}.provenance.jsonl")
            assert beside[0] == {"row": 0, "provenance": kept[0]["_provenance"]}
        if fmt == "alpaca":
            assert first == {
                "instruction": kept[0]["question"],
                "input": "",
                "output": kept[0]["answer"],
            }
        elif fmt == "sharegpt":
            assert first["conversations"][1] == {"from": "gpt", "value": kept[0]["answer"]}
        elif fmt != "jsonl":
            assert first["messages"][0] == {"role": "user", "content": kept[0]["question"]}
    assert main(["save-as", "cur/dataset.jsonl", "--format", "openai", "--out", "t.jsonl",
                 "--system", "Be brief.", "--provenance"]) == 0  # fmt: skip
    first = _read(project / "t.jsonl")[0]
    assert first["messages"][0] == {"role": "system", "content": "Be brief."}
    assert first["_provenance"]["node"] == "curate.rate"  # filters pass records on


@pytest.mark.parametrize("mode", ["cot", "summary"])
def test_create_and_curate_other_modes(server: FakeOpenAIServer, project: Path, mode: str) -> None:
    _documents(project / "docs")
    llm = ["--model", "openai/fake", "--api-base", server.base_url, "--quiet"]
    assert main(["create", "docs", "--type", mode, "--out", "gen", *llm]) == 0
    pairs = _read(project / "gen" / "dataset.jsonl")
    assert {p["path"] for p in pairs} == {"good.md", "bad.html", "eight.pdf"}  # folder paths
    assert main(["curate", "gen", "--threshold", "8", "--out", "cur", *llm]) == 0
    kept = _read(project / "cur" / "dataset.jsonl")
    assert {k["path"] for k in kept} == {"good.md", "eight.pdf"}
    assert all(k["doc_qa"]["mode"] == mode for k in kept)


# -- errors -------------------------------------------------------------------------------


def test_verb_errors(project: Path, capsys: Any) -> None:
    (project / "notes.txt").write_text("Some notes.\n", "utf-8")
    assert main(["ingest", "missing", "--out", "x"]) == 1
    assert "missing: no such file or directory" in capsys.readouterr().err
    (project / "data.csv").write_text("a,b\n", "utf-8")
    assert main(["ingest", "data.csv"]) == 1
    assert "data.csv: not a document" in capsys.readouterr().err

    (project / "docs.jsonl").write_text('\n{"body": "no text field"}\n', "utf-8")
    assert main(["create", "docs.jsonl", "--out", "x"]) == 1
    assert "docs.jsonl:2: a document needs a 'text' field" in capsys.readouterr().err
    (project / "broken.jsonl").write_text("{not json\n", "utf-8")
    assert main(["create", "broken.jsonl", "--out", "x"]) == 1
    assert "broken.jsonl:1: invalid JSON" in capsys.readouterr().err

    (project / "pairs.jsonl").write_text('{"question": "Why?"}\n', "utf-8")
    assert main(["curate", "pairs.jsonl", "--out", "x"]) == 1
    err = capsys.readouterr().err
    assert "pairs.jsonl:1: a qa pair needs question, answer; this record has: question" in err
    (project / "empty").mkdir()
    assert main(["curate", "empty"]) == 1  # a directory without dataset.jsonl
    assert "without dataset.jsonl" in capsys.readouterr().err

    (project / "rows.jsonl").write_text(
        '{"instruction": "a", "response": "b"}\n{"instruction": "c"}\n', "utf-8"
    )
    assert main(["save-as", "rows.jsonl", "--format", "alpaca", "--out", "o.jsonl"]) == 1
    assert "rows.jsonl:2: " in capsys.readouterr().err and not (project / "o.jsonl").exists()

    with pytest.raises(SystemExit) as exc:
        main(["create", "notes.txt", "--type", "essay"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["create", "notes.txt", "--num-pairs", "0"])
    assert exc.value.code == 2
