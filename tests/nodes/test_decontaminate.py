"""The ``decontaminate`` step, end to end: recipes with planted benchmark items run
through the CLI (sources read from JSONL, rejects and manifest written), the n-gram
cache reused across runs, and bad configs rejected at ``file:line:col`` with exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import read_jsonl, run_completed

from synthdsl.cli import main
from synthdsl.textproc.ngrams import NgramSettings, ReferenceSet

# The first item has 20 distinct words, so n-gram counts are easy to reason about.
GSM = [
    {
        "id": "gsm-7",
        "question": "natalia sold clips to forty eight of her friends during april and "
        "then half as many across may how altogether",
    },
    {
        "id": "gsm-9",
        "question": "weng earns twelve dollars an hour for babysitting yesterday she did "
        "fifty minutes of babysitting how much did she earn today",
    },
]
MMLU = [
    {
        "question": "which of the following best describes the role of mitochondria in a "
        "eukaryotic cell during aerobic respiration and energy storage"
    },
]
FILLER = "zeta eta theta iota kappa lambda omicron sigma tau upsilon phi chi psi omega".split()


def words(text: str) -> list[str]:
    return text.split()


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


def recipe(project: Path, step: str, records: list[dict[str, Any]]) -> Path:
    write_jsonl(project / "gen.jsonl", records)
    write_jsonl(project / "gsm.jsonl", GSM)
    write_jsonl(project / "mmlu.jsonl", MMLU)
    path = project / "recipe.yaml"
    path.write_text(
        "synthdsl: 1\n"
        "name: decon\n"
        "sources:\n"
        "  gen: {path: gen.jsonl}\n"
        "  gsm8k_test: {path: gsm.jsonl}\n"
        "  mmlu_test: {path: mmlu.jsonl}\n"
        "steps:\n"
        "  - id: clean\n"
        "    from: gen\n"
        f"    decontaminate: {step}\n"
        "output: {from: clean, shape: records}\n",
        "utf-8",
    )
    return path


def by_text(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["record"]["text"]: r for r in rows}


def test_planted_copies_are_dropped_and_a_12_gram_is_not(project: Path) -> None:
    gsm = words(GSM[0]["question"])
    exact = GSM[0]["question"]
    noisy = "NATALIA sold clips, to forty-eight... of her FRIENDS during April; and then half"
    twelve = " ".join(["alpha", *gsm[3:15], "beta"])  # 12 words in common, one 12-gram
    thirteen = " ".join(["alpha", *gsm[3:16], "beta"])  # one shared 13-gram
    clean = " ".join(FILLER)
    mmlu = "Which of the following best describes the role of mitochondria in a eukaryotic cell?"
    records = [{"text": t} for t in (exact, noisy, twelve, thirteen, clean, mmlu)]
    step = "{against: {gsm8k: gsm8k_test, mmlu: mmlu_test}, field: text, ref_field: question}"
    out = project / "out"
    rows, rejects, manifest = run_completed(recipe(project, step, records), out)

    assert [r["text"] for r in rows] == [twelve, clean]
    dropped = by_text(rejects)
    assert set(dropped) == {exact, noisy, thirteen, mmlu}
    assert {r["reason"] for r in rejects if r["record"]["text"] != mmlu} == {"contaminated (gsm8k)"}
    assert dropped[exact]["detail"] == {
        "benchmark": "gsm8k",
        "item": "gsm-7",
        "span": exact,
        "shared_ngrams": 8,
        "coverage": 1.0,
    }
    assert dropped[noisy]["detail"]["span"] == (
        "natalia sold clips to forty eight of her friends during april and then half"
    )
    assert dropped[thirteen]["detail"]["span"] == " ".join(gsm[3:16])
    assert dropped[thirteen]["detail"]["shared_ngrams"] == 1
    assert dropped[mmlu]["reason"] == "contaminated (mmlu)"
    assert dropped[mmlu]["detail"]["item"] == "row 1"  # no id field: the row number

    node = manifest["nodes"]["clean"]
    assert node["in"] == len(records) + len(GSM) + len(MMLU)  # references count as passed
    assert node["in"] == node["passed"] + sum(node["dropped"].values())
    assert node["dropped"] == {"contaminated (gsm8k)": 3, "contaminated (mmlu)": 1}
    note = node["contamination"]
    assert (note["ngram"], note["rule"]) == (13, "any shared n-gram")
    assert note["benchmarks"]["gsm8k"]["dropped"] == 3
    assert note["benchmarks"]["mmlu"]["items"] == 1

    # the same 12 words are a hit once n-grams are 12 words long
    rows, rejects, _ = run_completed(
        recipe(project, step.replace("field: text,", "field: text, ngram: 12,"), records), out
    )
    assert twelve in by_text(rejects) and [r["text"] for r in rows] == [clean]


@pytest.mark.parametrize(("copied", "kept"), [(16, True), (17, False), (18, False)])
def test_coverage_rule_threshold(project: Path, copied: int, kept: bool) -> None:
    """27 words → 20 8-grams; copying the first k words of a 20-word item shares k-7 of
    them: 9/20 = 0.45 is under 0.5, 10/20 = 0.5 and 11/20 = 0.55 reach it."""
    ref = words(GSM[0]["question"])
    text = " ".join(ref[:copied] + FILLER[: 27 - copied])
    step = "{against: [gsm8k_test], field: text, ref_field: question, ngram: 8, coverage: 0.5}"
    rows, rejects, manifest = run_completed(recipe(project, step, [{"text": text}]), project / "o")
    assert (len(rows), len(rejects)) == ((1, 0) if kept else (0, 1))
    if not kept:
        detail = rejects[0]["detail"]
        assert detail["coverage"] == round((copied - 7) / 20, 4)
        assert (detail["benchmark"], detail["item"]) == ("gsm8k_test", "gsm-7")
        assert detail["span"] == " ".join(ref[:copied])
    assert manifest["nodes"]["clean"]["contamination"]["rule"] == "coverage >= 0.5"


def test_normalisation_switches(project: Path) -> None:
    base = GSM[1]["question"]
    upper = base.upper()
    punct = base.replace(" ", ", ")
    spaced = base.replace(" ", "  ")
    records = [{"text": t} for t in (upper, punct, spaced)]
    out = project / "out"
    common = "against: [gsm8k_test], field: text, ref_field: question"
    plan = {
        "{" + common + "}": [],
        "{" + common + ", normalize: {lowercase: false}}": [upper],
        "{" + common + ", normalize: {punctuation: false}}": [punct],
        # stripped punctuation leaves a space, which counts once spacing is exact
        "{" + common + ", normalize: {whitespace: false}}": [punct, spaced],
    }
    for step, survivors in plan.items():
        rows, _, _ = run_completed(recipe(project, step, records), out)
        assert [r["text"] for r in rows] == survivors, step


def test_several_fields_are_checked_separately(project: Path) -> None:
    """N-grams do not run from one field into the next."""
    q = words(GSM[0]["question"])
    split = {"text": " ".join(q[:7]), "answer": " ".join(q[7:14])}  # 14 words over 2 fields
    joined = {"text": " ".join(q[:14]), "answer": "no"}
    step = "{against: [gsm8k_test], fields: [text, answer], ref_fields: [question]}"
    rows, rejects, _ = run_completed(recipe(project, step, [split, joined]), project / "o")
    assert rows == [dict(split, _provenance=rows[0]["_provenance"])]
    assert [r["record"]["text"] for r in rejects] == [joined["text"]]


def test_reference_set_is_cached_by_content(project: Path) -> None:
    step = "{against: {gsm8k: gsm8k_test}, field: text, ref_field: question}"
    path = recipe(project, step, [{"text": GSM[0]["question"]}])
    folder = project / "ngrams"  # beside $SYNTHDSL_CACHE
    _, _, first = run_completed(path, project / "o")
    files = sorted(folder.glob("*.npz"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    assert first["nodes"]["clean"]["contamination"]["benchmarks"]["gsm8k"]["built"] is True

    _, rejects, second = run_completed(path, project / "o")
    assert second["nodes"]["clean"]["contamination"]["benchmarks"]["gsm8k"]["built"] is False
    assert sorted(folder.glob("*.npz")) == files and files[0].stat().st_mtime_ns == stamp
    assert rejects[0]["detail"]["item"] == "gsm-7"  # labels read back from the cache

    # another n-gram size or an edited reference is another set
    run_completed(recipe(project, step[:-1] + ", ngram: 10}", [{"text": "x"}]), project / "o")
    recipe(project, step, [{"text": "x"}])
    write_jsonl(project / "gsm.jsonl", GSM[:1])
    manifest = run_completed(path, project / "o")[2]
    assert manifest["nodes"]["clean"]["contamination"]["benchmarks"]["gsm8k"]["built"] is True
    assert len(list(folder.glob("*.npz"))) == 3


def test_reference_set_matches_in_batches() -> None:
    """The library below the step: windows never cross texts, short texts have none."""
    settings = NgramSettings(n=3)
    ref = ReferenceSet.build([("a", ["one two three four"]), ("b", ["five six seven"])], settings)
    assert len(ref) == 3
    found = ref.match([["one two", "three four"], ["x five six seven y"], ["two three four"]])
    assert [(m.shared, m.total, m.item, m.span) for m in found] == [
        (0, 0, None, ""),
        (1, 3, "b", "five six seven"),
        (1, 1, "a", "two three four"),
    ]


@pytest.mark.parametrize(
    ("step", "where", "message"),
    [
        ("{field: text}", "10:5", "missing required key 'against'"),
        ("{against: [nope], field: text}", "10:31", "nope"),
        ("{against: [gsm8k_test]}", "10:20", "needs 'field' (or 'fields')"),
        ("{against: [gsm8k_test], field: text}", "10:20", "has no field 'text'"),
        ("{against: [gsm8k_test], field: text, coverage: 1.5}", "10:67", "must be at most 1"),
        ("{against: [gsm8k_test], field: text, ngram: 0}", "10:64", "must be at least 1"),
        (
            "{against: [gsm8k_test], field: text, normalize: {case: false}}",
            "10:69",
            "unknown key 'case'",
        ),
    ],
)
def test_bad_configs_exit_2_at_their_place(
    project: Path, capsys: pytest.CaptureFixture[str], step: str, where: str, message: str
) -> None:
    path = recipe(project, step, [{"text": "x"}])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"recipe.yaml:{where}: error:" in err and message in err, err
    assert main(["run", str(path), "--quiet", "--out", str(project / "o")]) == 2
    assert not (project / "o" / "dataset.jsonl").exists()


def test_rejects_file_holds_every_drop(project: Path) -> None:
    records = [{"text": GSM[i % 2]["question"] + f" variant {i}"} for i in range(40)]
    records += [{"text": " ".join(FILLER) + f" {i}"} for i in range(60)]
    step = "{against: [gsm8k_test], field: text, ref_field: question}"
    rows, rejects, manifest = run_completed(recipe(project, step, records), project / "o")
    assert (len(rows), len(rejects)) == (60, 40)
    assert read_jsonl(project / "o" / "rejects.jsonl") == rejects
    items = {r["detail"]["item"] for r in rejects}
    assert items == {"gsm-7", "gsm-9"}
    assert manifest["accounting_balanced"] is True


def test_report_shows_drops_by_benchmark(project: Path) -> None:
    records = [{"text": GSM[0]["question"]}, {"text": MMLU[0]["question"]}, {"text": "ok"}]
    step = "{against: {gsm8k: gsm8k_test, mmlu: mmlu_test}, field: text, ref_field: question}"
    run_completed(recipe(project, step, records), project / "o")
    html = (project / "o" / "report.html").read_text("utf-8")
    section = html.split('<section id="contamination">', 1)[1].split("</section>", 1)[0]
    assert '<a href="#contamination">Contamination</a>' in html
    rows = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert rows == (
        "<tr><td>gsm8k</td><td>gsm8k_test</td><td>2</td><td>17</td><td>built</td><td>1</td></tr>"
        "<tr><td>mmlu</td><td>mmlu_test</td><td>1</td><td>8</td><td>built</td><td>1</td></tr>"
    )
    assert "records dropped per benchmark" in section
