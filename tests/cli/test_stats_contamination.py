"""``synthdsl stats FILE --contamination REF...``: per-benchmark overlap of a dataset,
as text and JSON, with the reference sets cached like the ``decontaminate`` step's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synthdsl.cli import stats as stats_cmd

ITEM = "a train leaves the station at nine and travels sixty miles per hour toward the coast"
OTHER = "which organ of the human body filters blood and produces urine for the whole body"


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def files(project: Path) -> dict[str, Path]:
    data = [
        {"response": f"Answer {i}: nothing to see, just a plain synthetic reply."} for i in range(8)
    ]
    data[2] = {"response": "Q: " + ITEM.upper() + "!"}
    data[5] = {"response": OTHER + " (copied)"}
    data[6] = {"response": " ".join(ITEM.split()[:12])}  # 12 words: no 13-gram
    return {
        "data": write(project / "data.jsonl", data),
        "math": write(
            project / "math.jsonl",
            [{"id": "m-1", "text": "unrelated"}, {"id": "m-2", "text": ITEM}],
        ),
        "bio": write(project / "bio.jsonl", [{"text": OTHER}]),
    }


def test_json_report_per_benchmark(
    files: dict[str, Path], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(files["data"]), "--contamination", f"math={files['math']}", str(files["bio"])]
    assert stats_cmd.main([*argv, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["field"], out["ngram"], out["rule"]) == ("response", 13, "any shared n-gram")
    assert (out["records"], out["contaminated"], out["contaminated_share"]) == (8, 2, 0.25)
    math, bio = out["benchmarks"]["math"], out["benchmarks"]["bio"]
    assert (math["items"], math["hits"], math["share"], math["path"]) == (
        2,
        1,
        0.125,
        str(files["math"]),
    )
    assert math["examples"] == [{"record": 3, "item": "m-2", "span": ITEM, "coverage": 0.8}]
    assert bio["hits"] == 1 and bio["examples"][0]["item"] == "row 1"
    assert len(list((project / "ngrams").glob("*.npz"))) == 2

    # --ngram 12 also finds the 12-word copy; of the others, 4 of 5 and 3 of 4 13-grams
    # are shared: --coverage 0.8 keeps only the first
    assert stats_cmd.main([*argv, "--format", "json", "--ngram", "12"]) == 0
    assert json.loads(capsys.readouterr().out)["benchmarks"]["math"]["hits"] == 2
    assert stats_cmd.main([*argv, "--format", "json", "--coverage", "0.8"]) == 0
    covered = json.loads(capsys.readouterr().out)
    assert (covered["rule"], covered["contaminated"]) == ("coverage >= 0.8", 1)


def test_text_report_and_fail_on_flags(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(files["data"]), "--contamination", f"math={files['math']}", "--fail-on-flags"]
    assert stats_cmd.main(argv) == 1
    out = capsys.readouterr().out
    assert "13-grams, any shared n-gram; 8 records, 1 contaminated (12.50%)" in out
    assert "math           2            1  12.50%" in out
    assert f"  record 3 ~ m-2 (coverage 0.80): {ITEM!r}" in out


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--contamination", "missing.jsonl"], 1, "missing.jsonl: no such file"),
        (["--contamination", "x=a.jsonl", "x=b.jsonl"], 1, "names the benchmark 'x' twice"),
        (["--contamination", "r.jsonl", "--ngram", "0"], 2, "must be between 1 and 64"),
        (["--contamination", "r.jsonl", "--coverage", "2"], 2, "at most 1"),
    ],
)
def test_errors(
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    code: int,
    message: str,
) -> None:
    write(files["data"].parent / "a.jsonl", [{"text": "a"}])
    write(files["data"].parent / "b.jsonl", [{"text": "b"}])
    if code == 2:  # a usage error: argparse exits
        with pytest.raises(SystemExit) as stop:
            stats_cmd.main([str(files["data"]), *extra])
        assert stop.value.code == 2
    else:
        assert stats_cmd.main([str(files["data"]), *extra]) == code
    assert message in capsys.readouterr().err
