"""``synthdsl stats``: collapse flags on files, text field selection, output, errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from analysis.test_diversity import COLLAPSED, DIVERSE, REFERENCE

from synthdsl.cli import stats as stats_cmd
from synthdsl.errors import RunError


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stats")
    return {
        "diverse": _write_jsonl(
            root / "diverse.jsonl", [{"id": i, "response": t} for i, t in enumerate(DIVERSE)]
        ),
        "collapsed": _write_jsonl(
            root / "collapsed.jsonl",
            [{"id": i, "response": t} for i, t in enumerate(COLLAPSED)],
        ),
        # real data in another schema: plain "text"
        "reference": _write_jsonl(root / "real.jsonl", [{"text": t} for t in REFERENCE]),
    }


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    code = stats_cmd.main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_collapsed_dataset_is_flagged(
    data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _json(capsys, [str(data["collapsed"]), "--against", str(data["reference"])])
    assert code == 0  # flags alone do not fail the command
    assert (out["field"], out["against_field"]) == ("response", "text")
    assert out["drift_judged"] is True
    metrics = {f["metric"] for f in out["flags"]}
    assert {
        "distinct_2_at_10k",
        "self_bleu",
        "js_unigram",
        "length_variance_ratio",
        "vocabulary_ratio",
        "mode_coverage",
    } <= metrics
    for flag in out["flags"]:
        assert flag["message"] and isinstance(flag["threshold"], float)
    # the reference's own metrics are reported next to the dataset's
    assert out["reference"]["distinct_2"] > 3 * out["report"]["distinct_2"]
    assert out["drift"]["mode_coverage"] < 0.7
    assert any(not m["covered"] for m in out["drift"]["modes"])

    assert stats_cmd.main([str(data["collapsed"]), "--fail-on-flags"]) == 1
    capsys.readouterr()


def test_diverse_dataset_is_not_flagged(
    data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(data["diverse"]), "--against", str(data["reference"]), "--fail-on-flags"]
    code, out = _json(capsys, argv)
    assert code == 0
    assert out["flags"] == []
    assert out["drift"]["js_unigram"] < 0.15
    assert out["report"]["self_bleu"] < 0.35


def test_text_output(data: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = stats_cmd.main([str(data["collapsed"]), "--against", str(data["reference"])])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"synthdsl stats: {data['collapsed']} (text field: response)\n")
    assert f"reference: {data['reference']} (text field: text)" in out
    for label in ("distinct-2 at 10k bigrams", "self-BLEU (sample 200)", "mode coverage"):
        assert label in out
    assert "lost modes: " in out
    flag_lines = [line for line in out.splitlines() if line.startswith("  - ")]
    assert len(flag_lines) >= 6
    assert any(line.startswith("  - length variance ratio 0.") for line in flag_lines)

    stats_cmd.main([str(data["diverse"]), "--against", str(data["reference"])])
    assert capsys.readouterr().out.endswith("no collapse flags\n")


def test_without_reference_and_sample_size(
    data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _json(capsys, [str(data["diverse"]), "--sample", "50"])
    assert code == 0
    assert out["drift"] is None and out["reference"] is None and out["against"] is None
    assert out["report"]["self_bleu_sample"] == 50
    assert out["report"]["records"] == len(DIVERSE)


def test_small_sets_are_not_drift_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = _write_jsonl(tmp_path / "s.jsonl", [{"text": t} for t in COLLAPSED[:60]])
    ref = _write_jsonl(tmp_path / "r.jsonl", [{"text": t} for t in REFERENCE[:60]])
    stats_cmd.main([str(small), "--against", str(ref)])
    assert "(drift not flagged: fewer than 200 records on one side)" in capsys.readouterr().out


# --------------------------------------------------------------------------- fields


@pytest.mark.parametrize(
    ("row", "field", "text"),
    [
        ({"response": "r", "text": "t", "output": "o"}, "response", "r"),
        ({"text": "t", "output": "o", "completion": "c"}, "text", "t"),
        ({"output": "o", "completion": "c"}, "output", "o"),
        ({"prompt": "p", "completion": "c"}, "completion", "c"),
        ({"instruction": "i", "response": "r"}, "instruction+response", "i\n\nr"),
        ({"instruction": "i", "output": "o"}, "output", "o"),
        (
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
                ],
                "response": "ignored",
            },
            "messages",
            "hi\nhello",
        ),
    ],
)
def test_field_auto_pick(row: dict[str, Any], field: str, text: str) -> None:
    assert stats_cmd.pick_field(row) == field
    assert stats_cmd.text_of(row, field) == text


def test_explicit_field_and_chat_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chat = [{"role": "user", "content": "a b"}, {"role": "assistant", "content": "c d"}]
    path = _write_jsonl(
        tmp_path / "d.jsonl",
        [{"question": "one two three", "conv": chat, "response": "x"}] * 3,
    )
    code, out = _json(capsys, [str(path), "--field", "question"])
    assert (code, out["field"], out["report"]["tokens"]) == (0, "question", 9)
    code, out = _json(capsys, [str(path), "--field", "conv"])
    assert (out["field"], out["report"]["tokens"]) == ("conv", 12)


def test_unknown_text_field_is_a_clear_error(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "d.jsonl", [{"prompt": "p", "answer": "a"}])
    with pytest.raises(
        RunError, match=r"d\.jsonl: cannot tell which field.*has: answer, prompt.*--field"
    ):
        stats_cmd.run(_args(path))


def test_missing_field_in_a_later_record(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "d.jsonl", [{"response": "a"}, {"other": "b"}])
    with pytest.raises(
        RunError, match=r"d\.jsonl: record 2 has no 'response' field \(it has: other\)"
    ):
        stats_cmd.run(_args(path))
    with pytest.raises(RunError, match=r"record 1 has no 'body' field"):
        stats_cmd.run(_args(path, field="body"))


def test_field_that_is_not_text(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "d.jsonl", [{"response": 42}])
    with pytest.raises(RunError, match=r"record 1: 'response' is int, not text"):
        stats_cmd.run(_args(path, field="response"))


# --------------------------------------------------------------------------- files


def _args(path: Path, **overrides: Any) -> argparse.Namespace:
    """Arguments parsed the way the CLI will: ``add_parser`` on a sub-parser."""
    parser = argparse.ArgumentParser(prog="synthdsl")
    sub = parser.add_subparsers(dest="command", required=True)
    stats_cmd.add_parser(sub)
    args = parser.parse_args(["stats", str(path)])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def test_parser_defaults(tmp_path: Path) -> None:
    args = _args(tmp_path / "x.jsonl")
    assert args.command == "stats"
    assert (args.against, args.field, args.format, args.sample, args.fail_on_flags) == (
        None,
        None,
        "text",
        200,
        False,
    )


def test_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RunError, match=r"nope\.jsonl: no such file"):
        stats_cmd.run(_args(tmp_path / "nope.jsonl"))
    real = _write_jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    with pytest.raises(RunError, match=r"ref\.jsonl: no such file"):
        stats_cmd.run(_args(real, against=str(tmp_path / "ref.jsonl")))
    assert stats_cmd.main([str(tmp_path / "nope.jsonl")]) == 1
    assert "synthdsl: error: " in capsys.readouterr().err


def test_empty_file_and_bad_json(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(RunError, match=r"empty\.jsonl: no records"):
        stats_cmd.run(_args(empty))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(RunError, match=r"bad\.jsonl:2: invalid JSON"):
        stats_cmd.run(_args(bad))


def test_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"response": DIVERSE[:50]}), str(path))
    code, out = _json(capsys, [str(path)])
    assert (code, out["field"], out["report"]["records"]) == (0, "response", 50)


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(RunError, match="Parquet needs pyarrow"):
        stats_cmd.run(_args(path))


def test_importing_the_command_stays_cheap() -> None:
    code = "import sys, synthdsl.cli.stats; print('numpy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_embedding_diversity_separates_varied_from_repetitive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from synthdsl.cli import main as cli_main

    varied = [
        "The mitochondria produce most of the cell's chemical energy.",
        "Bake the bread at 220 degrees for thirty minutes.",
        "The treaty ended a war that had lasted thirty years.",
        "Use a binary heap to keep the smallest item on top.",
        "Penguins cannot fly but swim remarkably well.",
        "Interest compounds when it is added to the principal.",
    ] * 2
    repetitive = [f"Bake the bread at {200 + i} degrees for thirty minutes." for i in range(12)]
    results = {}
    for name, texts in (("varied", varied), ("repetitive", repetitive)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), "utf-8")
        assert cli_main(["stats", str(path), "--embed", "12", "--format", "json"]) == 0
        results[name] = json.loads(capsys.readouterr().out)["embedding"]["dataset"]
    assert results["varied"]["vendi_score"] > 2 * results["repetitive"]["vendi_score"]
    assert (
        results["varied"]["mean_pairwise_cosine_distance"]
        > results["repetitive"]["mean_pairwise_cosine_distance"]
    )
