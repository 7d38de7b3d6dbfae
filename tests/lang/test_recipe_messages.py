"""Unit tests of recipe diagnostics: YAML syntax messages, spans inside multi-line
strings, schema messages and source checks (the golden fixtures cover whole runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.errors import Diagnostic, RecipeError, Span
from synthdsl.lang.decls import parse_sources
from synthdsl.lang.load import content_span, parse_document
from synthdsl.lang.params import substitute_params
from synthdsl.lang.schema.check import check_document

F = "r.yaml"


def _syntax_error(text: str) -> tuple[int, int, str, str | None]:
    with pytest.raises(RecipeError) as info:
        parse_document(text, F)
    [diag] = info.value.diagnostics
    assert diag.span is not None
    return diag.span.line, diag.span.col, diag.message, diag.hint


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ("a: 1\nb: {x: 1, y: 2\nc: 3\n", 2, 4, "this '{' is never closed"),
        ("a: [1, 2\n", 1, 4, "this '[' is never closed"),
        ("a: {x: 1 y: 2}\n", 1, 11, "expected ',' or '}' here, found ':'"),
        ("a:\n  g: {t: x,\n      i: y\n      n: 2}\n", 4, 8, "expected ',' or '}' here"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "bad indentation"),
        ("a: b: c\n", 1, 5, "unexpected ':'"),
        ("a:\n\tb: 1\n", 2, 1, "a tab character is not allowed here"),
        ('a: "hello\nb: 2\n', 1, 4, "this quoted string is never closed"),
        ("a: 1\nb\nc: 2\n", 2, 1, "expected 'key: value' or a '- ' item on this line"),
        ("a: *x\n", 1, 4, "alias '*x' has no matching anchor '&x'"),
        ("a: 1\n---\nb: 2\n", 2, 1, "a recipe file holds a single YAML document"),
        ("a: @x\n", 1, 4, "a value cannot start with '@'"),
        ("a: !foo 1\n", 1, 4, "unknown tag '!foo'"),
        ("t:\n  template: {{ x }} more\n", 2, 21, "a value holding a template must be quoted"),
    ],
)
def test_yaml_syntax_messages(text: str, line: int, col: int, message: str) -> None:
    got_line, got_col, got_message, hint = _syntax_error(text)
    assert (got_line, got_col) == (line, col)
    assert got_message.startswith("YAML syntax error: " + message)
    assert hint is None or hint[0].islower()


def test_unquoted_template_value() -> None:
    line, col, message, hint = _syntax_error("g:\n  template: {{ topic }}\n")
    assert (line, col) == (2, 13)
    assert message.startswith("a value holding a template must be quoted")
    assert hint is not None and '"Ask about {{ topic }}"' in hint


def test_merge_keys_are_not_duplicates() -> None:
    text = "base: &b {model: m, temperature: 0.2}\ng:\n  <<: *b\n  temperature: 0.9\n"
    doc = parse_document(text, F)
    assert doc.data["g"] == {"model": "m", "temperature": 0.9}
    assert doc.spans.key(("g", "temperature")) == Span(F, 4, 3)


def test_duplicate_keys_still_reported() -> None:
    line, col, message, _ = _syntax_error("a: 1\nb: 2\na: 3\n")
    assert (line, col) == (3, 1)
    assert message == "duplicate key 'a' (first defined at line 1)"


def _text_span(text: str, path: tuple[str, ...]) -> Span:
    doc = parse_document(text, F)
    return content_span(doc, doc.spans.value(path))


def test_literal_block_positions_follow_indentation() -> None:
    span = _text_span("t: |\n    first line\n    second {{ x }}\n", ("t",))
    assert span == Span(F, 2, 5)
    assert span.shifted(0, 6) == Span(F, 2, 11)
    assert span.shifted(1, 10) == Span(F, 3, 15)


def test_folded_and_quoted_positions_follow_lines() -> None:
    folded = _text_span("f: >-\n  a > 1\n  and b < 2\n", ("f",))
    # The text is "a > 1 and b < 2": 'b' is at text column 10, on the file's line 3.
    assert folded.shifted(0, 10) == Span(F, 3, 7)
    quoted = _text_span('q: "one\n  two {{ y }}"\n', ("q",))
    assert quoted == Span(F, 1, 5)
    assert quoted.shifted(0, 8) == Span(F, 2, 7)


def test_single_line_scalars_keep_plain_spans() -> None:
    assert _text_span("t: 'abc'\n", ("t",)) == Span(F, 1, 5)
    assert _text_span("t: abc\n", ("t",)) == Span(F, 1, 4)


def _problems(text: str) -> list[tuple[int, int, str, str | None]]:
    doc = parse_document(text, F)
    return [
        (d.span.line, d.span.col, d.message, d.hint)
        for d in check_document(doc)
        if d.span is not None
    ]


def test_missing_required_key_points_at_the_key() -> None:
    [(line, col, message, hint)] = _problems(
        "synthdsl: 1\nmodels:\n  gen:\n    temperature: 0.2\nsteps:\n  - {id: a, filter: x}\n"
    )
    assert (line, col) == (3, 3)
    assert message == "missing required key 'model' in models.gen"
    assert hint is not None and "local/smollm2" in hint


def test_step_labels_and_shown_values() -> None:
    [(line, col, message, hint)] = _problems(
        "synthdsl: 1\nsteps:\n  - id: ask\n    generate: {template: x, n: '3'}\n"
    )
    assert (line, col) == (4, 32)
    assert message == "generate.n in step 'ask' must be an integer, found the string '3'"
    assert hint == "write the number without quotes"


def test_yaml_boolean_keys_are_shown_as_written() -> None:
    [(line, col, message, hint)] = _problems(
        "synthdsl: 1\nsteps:\n  - id: a\n    filter: x\n    yes: 1\n"
    )
    assert (line, col, message) == (5, 5, "unknown key 'yes' in step 'a'")
    assert hint == "YAML reads 'yes' as true; quote the key if you meant it"


def test_typed_parameters_are_checked_with_their_defaults() -> None:
    base = "synthdsl: 1\nparams: {n: DEFAULT}\nsteps:\n  - id: a\n    generate: {template: x, n: '${n}'}\n"
    assert _problems(base.replace("DEFAULT", "2")) == []
    [(line, col, message, _)] = _problems(base.replace("DEFAULT", "many"))
    assert (line, col) == (5, 32)
    assert message.endswith("found the string 'many' (the value of ${n})")
    [(_, _, _, hint)] = _problems(base.replace("'${n}'", "'${m}'").replace("DEFAULT", "2"))
    assert hint == "'m' is not declared under 'params:'"


def test_with_values_of_the_wrong_type_are_reported() -> None:
    text = (
        "synthdsl: 1\nparams: {n: 2}\nsteps:\n  - id: a\n    generate: {template: x, n: '${n}'}\n"
    )
    doc = parse_document(text, F)
    diags: list[Diagnostic] = []
    steps = substitute_params(doc.data["steps"], {"n": "lots"}, doc, ("steps",), diags)
    assert steps[0]["generate"]["n"] == 2  # the default stands in for the bad value
    [diag] = diags
    assert diag.span == Span(F, 5, 32)
    assert diag.hint == "'n' is set by the 'with:' of the step that uses this recipe"


def test_missing_source_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "topics.jsonl").write_text("{}\n", encoding="utf-8")
    text = "synthdsl: 1\nsources:\n  t: {path: data/topic.jsonl}\n  u: {path: nope/x.csv}\n"
    doc = parse_document(text, F)
    sources, diags = parse_sources(doc, tmp_path)
    assert set(sources) == {"t", "u"}
    got = [(d.span, d.message, d.hint) for d in diags]
    assert got[0] == (
        Span(F, 3, 13),
        "source file not found: data/topic.jsonl",
        "did you mean 'data/topics.jsonl'?",
    )
    assert got[1][1] == "source file not found: nope/x.csv"
    assert got[1][2] is not None and got[1][2].startswith("folder 'nope' does not exist")
    _, unchecked = parse_sources(doc, tmp_path, check_files=False)
    assert unchecked == []
