"""Field types flow from sources through steps that never change values, and a
comparison or arithmetic that cannot work with them is a validate-time error.

``filter: "instruction > 5"`` used to validate and then fail every record at run time.
Types are known only where certain (every inline record, or every peeked row of a JSON
Lines file, agreeing); a step that may rewrite fields vouches for nothing after it, so
the check never reports a field whose type it does not know.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.cli import main


def _validate(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("synthdsl: 1\n" + body, encoding="utf-8")
    code = main(["validate", str(recipe)])
    return code, capsys.readouterr().err


INLINE = """sources:
  s:
    records:
      - {instruction: "Name a river.", score: 4, tags: [a]}
      - {instruction: "Name a lake.", score: 7.5, tags: []}
steps:
"""


@pytest.mark.parametrize(
    ("step", "where", "message"),
    [
        (
            'filter: "instruction > 5"',
            "r.yaml:9:14",
            "'>' compares string field 'instruction' with a number",
        ),
        ('filter: "5 <= instruction"', "r.yaml:9:14", "'<=' compares a number with string"),
        (
            "filter: \"score > '3'\"",
            "r.yaml:9:14",
            "'>' compares number field 'score' with a string",
        ),
        ('filter: "instruction * 2 == 4"', "r.yaml:9:14", "'*' combines string field"),
        ('sort: {by: "instruction - 1"}', "r.yaml:9:17", "'-' combines string field"),
    ],
)
def test_a_comparison_the_types_cannot_make_is_an_error_at_its_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], step: str, where: str, message: str
) -> None:
    code, err = _validate(tmp_path, INLINE + f"  - id: f\n    {step}\n", capsys)
    assert code == 2, err
    assert f"{where}: error: {message}" in err
    assert "hint: '" in err and "source 's'" in err


def test_types_flow_through_steps_that_keep_values_and_stop_at_ones_that_may_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # through a filter and a dedup: still known, so the second filter is caught
    kept = "  - id: a\n    filter: 'score > 1'\n  - id: b\n    dedup: {fields: [instruction]}\n"
    code, err = _validate(
        tmp_path, INLINE + kept + "  - id: c\n    filter: 'instruction > 5'\n", capsys
    )
    assert code == 2 and "r.yaml:13:14: error: '>' compares string field" in err
    # after a set: it may rewrite 'instruction', so nothing is claimed about it
    rewritten = "  - id: a\n    set: {instruction: '{{ score }}'}\n"
    code, err = _validate(
        tmp_path, INLINE + rewritten + "  - id: c\n    filter: 'instruction > 5'\n", capsys
    )
    assert code == 0, err


def test_when_and_switch_conditions_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gated = "  - id: a\n    when: \"instruction > 1\"\n    set: {x: '1'}\n"
    code, err = _validate(tmp_path, INLINE + gated, capsys)
    assert code == 2 and "r.yaml:9:12: error: '>' compares string field 'instruction'" in err
    switch = (
        "  - id: a\n    switch:\n      - id: one\n        when: \"score > 'x'\"\n"
        "        set: {x: '1'}\n"
    )
    code, err = _validate(tmp_path, INLINE + switch, capsys)
    assert code == 2 and "r.yaml:11:16: error: '>' compares number field 'score'" in err


def test_rows_that_disagree_or_lack_the_field_claim_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rows.jsonl").write_text(
        '{"a": "x", "b": 1}\n{"a": 2, "b": 2}\n{"b": 3}\n', encoding="utf-8"
    )
    body = "sources:\n  s: {path: rows.jsonl}\nsteps:\n  - id: f\n    filter: 'a > 1'\n"
    code, err = _validate(tmp_path, body, capsys)
    assert code == 0, err
    body = body.replace("'a > 1'", "'b > \"1\"'")
    code, err = _validate(tmp_path, body, capsys)
    assert code == 2 and "is a number in the first rows of source 's'" in err


def test_inputs_that_disagree_claim_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (
        "sources:\n  s: {records: [{x: 1}]}\n  t: {records: [{x: one}]}\nsteps:\n"
        "  - id: f\n    from: [s, t]\n    filter: 'x > 0'\n"
    )
    code, err = _validate(tmp_path, body, capsys)
    assert code == 0, err
