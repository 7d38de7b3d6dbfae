"""Filter expressions: parsing, positions of errors, evaluation semantics, functions."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from lark import Lark
from lark.exceptions import LexError

from synthdsl.errors import RecipeError, RunError, Span
from synthdsl.lang.expr import (
    FUNCTIONS,
    Expression,
    ExpressionRuntimeError,
    parse_expression,
)

SPAN = Span("r.yaml", 14, 13)


def ev(text: str, record: dict[str, Any] | None = None) -> Any:
    return parse_expression(text).evaluate(record or {})


def parse_error(text: str, span: Span | None = SPAN) -> RecipeError:
    with pytest.raises(RecipeError) as info:
        parse_expression(text, span)
    return info.value


# Grammar -------------------------------------------------------------------------


def test_grammar_is_conflict_free_lalr() -> None:
    from importlib import resources

    grammar = resources.files("synthdsl.lang.expr").joinpath("filter.lark").read_text("utf-8")
    # strict=True raises GrammarError on any shift/reduce conflict while building the
    # tables; the lexer part needs the optional `interegular` package, which may be absent.
    try:
        Lark(grammar, parser="lalr", strict=True)
    except LexError as exc:
        assert "interegular" in str(exc)


# Precedence and operators ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3 == 7", True),
        ("(1 + 2) * 3", 9),
        ("10 - 2 - 3", 5),
        ("2 * 3 % 4", 2),
        ("7 / 2", 3.5),
        ("-2 * 3", -6),
        ("- (1 + 2)", -3),
        ("+4", 4),
        ("1.5e1 + 2e0", 17.0),
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("3 >= 3 and 2 <= 1", False),
        ("1 != 2", True),
        ("true or false and false", True),
        ("not true == false", True),
        ('"a" + "b" == "ab"', True),
        ("[1] + [2]", [1, 2]),
        ('"b" > "a"', True),
    ],
)
def test_operators_and_precedence(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_not_binds_tighter_than_and() -> None:
    # (not a) and b is False; not (a and b) would be True.
    assert ev("not a and b", {"a": False, "b": False}) is False
    assert ev("not a and b", {"a": False, "b": True}) is True


def test_and_or_short_circuit_and_return_operands() -> None:
    assert ev("missing_field and x", {"missing_field": 0}) == 0
    assert ev('name or "anon"', {"name": ""}) == "anon"
    # The right side is never evaluated, so a missing field there is fine.
    assert ev("true or nope") is True
    assert ev("false and nope") is False


def test_equality_of_booleans_and_null() -> None:
    assert ev("x == null", {"x": None}) is True
    assert ev("x != null", {"x": 0}) is True
    assert ev("x == true", {"x": 1}) is False
    assert ev("x == 1", {"x": 1.0}) is True


# Literals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r'"say \"hi\""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r'"a\tb\nc"', "a\tb\nc"),
        (r'"back\\slash"', "back\\slash"),
        (r'"\u00e9\x41"', "éA"),
        (r'"\d+"', "\\d+"),
        ("'double \" inside'", 'double " inside'),
        ("[1, 'a', null, true, [2]]", [1, "a", None, True, [2]]),
        ("[]", []),
        ("[1, 2,]", [1, 2]),
        ("null", None),
    ],
)
def test_literals(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_bad_escape_is_reported_at_parse_time() -> None:
    error = parse_error(r'x == "\u12"')
    (diag,) = error.diagnostics
    assert "invalid escape" in diag.message
    assert diag.span == Span("r.yaml", 14, 18)


# Field access ----------------------------------------------------------------------

RECORD: dict[str, Any] = {
    "score": 9,
    "text": "one two three four",
    "meta": {"source": "wiki", "tags": ["a", "b"]},
    "items": [10, 20, 30],
    "row": {"key": "v", "my key": 1},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("score", 9),
        ("meta.source", "wiki"),
        ("meta.tags[1]", "b"),
        ('meta["tags"][0]', "a"),
        ("items[0]", 10),
        ("items[-1]", 30),
        ("items[1 + 1]", 30),
        ('row["key"]', "v"),
        ('row["my key"]', 1),
        ("text[0]", "o"),
    ],
)
def test_field_access(text: str, expected: Any) -> None:
    assert ev(text, RECORD) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("meta.source in ['wiki', 'web']", True),
        ("meta.source not in ['wiki', 'web']", False),
        ("'two' in text", True),
        ("'b' in meta.tags", True),
        ("'source' in meta", True),
        ("'nope' in meta", False),
        ("20 in items", True),
        ("true in [1]", False),
        ("score in [8, 9]", True),
    ],
)
def test_in(text: str, expected: bool) -> None:
    assert ev(text, RECORD) is expected


def test_fields_and_spans() -> None:
    expr = parse_expression("score >= 8 and words(text) > 3 or meta.source == 'x'", SPAN)
    assert expr.fields() == frozenset({"score", "text", "meta"})
    assert expr.field_spans() == [
        ("score", Span("r.yaml", 14, 13)),
        ("text", Span("r.yaml", 14, 34)),
        ("meta", Span("r.yaml", 14, 47)),
    ]


def test_field_spans_without_span_and_multiline() -> None:
    expr = parse_expression("a and\n  b")
    assert expr.field_spans() == [("a", Span("<expr>", 1, 1)), ("b", Span("<expr>", 2, 3))]
    multi = parse_expression("a and\n  b", Span("r.yaml", 5, 10))
    assert multi.field_spans()[1] == ("b", Span("r.yaml", 6, 3))


def test_expression_is_frozen_and_keeps_source() -> None:
    expr = parse_expression("score > 1", SPAN)
    assert isinstance(expr, Expression)
    assert expr.source == "score > 1"
    assert str(expr) == "score > 1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        expr.source = "x"  # type: ignore[misc]
    assert expr == parse_expression("score > 1", SPAN)


# Functions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("len(text)", 18),
        ("len(items)", 3),
        ("len(meta)", 2),
        ("words(text)", 4),
        ("words('  a  b ')", 2),
        ("lines('a\\nb\\nc')", 3),
        ("lines('')", 0),
        ("chars('héllo')", 5),
        ("lower('AbC')", "abc"),
        ("upper('AbC')", "ABC"),
        ("strip('  x ')", "x"),
        ("contains(text, 'two')", True),
        ("contains(items, 20)", True),
        ("startswith(text, 'one')", True),
        ("endswith(text, 'three')", False),
        ("matches(text, '^one\\\\s+two')", True),
        ("matches(text, 'f[aeiou]+r\\b')", True),
        ("matches(text, r)", True),
        ("int('42')", 42),
        ("int(3.9)", 3),
        ("float('2.5')", 2.5),
        ("str(12)", "12"),
        ("str(null)", "null"),
        ("str(true)", "true"),
        ("abs(-3)", 3),
        ("min(items)", 10),
        ("min(3, 1, 2)", 1),
        ("max(items)", 30),
        ("max('a', 'b')", "b"),
        ("round(2.567, 2)", 2.57),
        ("round(2.5)", 2),
        ("any([0, 1])", True),
        ("all([1, 0])", False),
        ("exists(meta.source)", True),
        ("exists(meta.nope)", False),
        ("exists(items[5])", False),
        ("exists(nothing)", False),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    record = {**RECORD, "r": "t.o"}
    assert ev(text, record) == expected


def test_every_function_is_documented_in_the_package_docstring() -> None:
    import synthdsl.lang.expr as package

    assert package.__doc__ is not None
    for name, spec in FUNCTIONS.items():
        assert f"``{name}(" in package.__doc__, name
        assert spec.doc


def test_exists_with_null_value_and_null_check() -> None:
    assert ev("exists(x) and x == null", {"x": None}) is True


# Parse errors ----------------------------------------------------------------------


def test_syntax_error_position_in_recipe_file() -> None:
    error = parse_error("a > > b")
    (diag,) = error.diagnostics
    # The 5th character of the expression, embedded at column 13.
    assert diag.span == Span("r.yaml", 14, 17)
    assert diag.message == "invalid filter expression: unexpected '>'"
    assert diag.hint is not None and diag.hint.startswith("expected a value")


def test_syntax_error_without_span_uses_expr_column() -> None:
    (diag,) = parse_error("score >= 8 and", None).diagnostics
    assert diag.span == Span("<expr>", 1, 15)
    assert "unexpected end of expression" in diag.message


def test_unexpected_token_hint_lists_expected() -> None:
    (diag,) = parse_error("(a b").diagnostics
    assert diag.span == Span("r.yaml", 14, 16)
    assert diag.message == "invalid filter expression: unexpected 'b'"
    assert diag.hint is not None and "')'" in diag.hint


@pytest.mark.parametrize(
    ("text", "col", "message", "hint"),
    [
        ("(a", 15, "unexpected end of expression", "a ')' is missing"),
        ("1 2", 15, "unexpected '2'", "expected an operator (and, or, =="),
        ("[1 2]", 16, "unexpected '2'", "']' or ','"),
        ("a = 1", 15, "unexpected character '='", "use '=='"),
        ("a && b", 15, "unexpected character '&'", "use 'and'"),
        ('x == "abc', 18, "unterminated string", "close the string"),
        ("x AND y", 15, "unexpected 'AND'", "lower-case: 'and'"),
        ("x == None", 18, "'None' is not a keyword", "did you mean 'null'?"),
        ("   ", 13, "the expression is empty", None),
    ],
)
def test_syntax_errors(text: str, col: int, message: str, hint: str | None) -> None:
    (diag,) = parse_error(text).diagnostics
    assert diag.span is not None and diag.span.col == col and diag.span.line == 14
    assert message in diag.message
    if hint is None:
        assert diag.hint is None
    else:
        assert diag.hint is not None and hint in diag.hint


def test_unknown_function_has_did_you_mean() -> None:
    (diag,) = parse_error("wrds(text) > 3").diagnostics
    assert diag.message == "unknown function 'wrds'"
    assert diag.hint == "did you mean 'words'?"
    assert diag.span == Span("r.yaml", 14, 13)


def test_unknown_function_without_close_match_lists_functions() -> None:
    (diag,) = parse_error("zzzzqq(1)").diagnostics
    assert diag.hint is not None and diag.hint.startswith("available functions: ")


def test_wrong_arity() -> None:
    (diag,) = parse_error("x and words(a, b)").diagnostics
    assert diag.message == "function 'words' takes 1 argument, got 2"
    assert diag.span == Span("r.yaml", 14, 19)
    (diag,) = parse_error("round()").diagnostics
    assert diag.message == "function 'round' takes 1 or 2 arguments, got 0"
    (diag,) = parse_error("max()").diagnostics
    assert diag.message == "function 'max' takes at least 1 argument, got 0"


def test_invalid_regex_literal_rejected_at_parse_time() -> None:
    (diag,) = parse_error("matches(text, '[a-')").diagnostics
    assert diag.message.startswith("invalid regex in matches(): ")
    assert diag.span == Span("r.yaml", 14, 27)


def test_exists_needs_a_field_path() -> None:
    (diag,) = parse_error("exists(len(x))").diagnostics
    assert diag.message == "exists() needs a field path"


def test_all_semantic_problems_in_one_error() -> None:
    error = parse_error("wrds(a) > 1 and matches(b, '(') and lenn(c)")
    messages = [d.message for d in error.diagnostics]
    assert len(messages) == 3
    assert messages[0] == "unknown function 'wrds'"
    assert messages[1].startswith("invalid regex")
    assert messages[2] == "unknown function 'lenn'"


def test_too_deep_expression_is_a_diagnostic() -> None:
    for depth in (250, 5000):
        error = parse_error("[" * depth + "]" * depth)
        (diag,) = error.diagnostics
        assert "too deeply nested" in diag.message
        assert diag.span == SPAN
    assert ev(" + ".join(["1"] * 100)) == 100


# Runtime errors --------------------------------------------------------------------


def runtime_error(text: str, record: dict[str, Any]) -> ExpressionRuntimeError:
    expr = parse_expression(text)
    with pytest.raises(ExpressionRuntimeError) as info:
        expr.evaluate(record)
    assert isinstance(info.value, RunError)
    assert info.value.expression == text
    return info.value


def test_missing_field_names_it_with_hint() -> None:
    error = runtime_error("scor > 3", {"score": 1})
    assert error.detail == "record has no field 'scor' (did you mean 'score'?)"
    assert "scor > 3" in str(error)


def test_missing_nested_key() -> None:
    error = runtime_error("meta.source == 'x'", {"meta": {"src": 1}})
    assert error.detail == "field 'meta.source' is missing: 'meta' has no key 'source'"


@pytest.mark.parametrize(
    ("text", "record", "fragment"),
    [
        ('"a" < 3', {}, "cannot compare string with int using '<'"),
        ("x > 1", {"x": None}, "cannot compare null with int using '>'"),
        ("1 <= x", {"x": None}, "cannot compare int with null using '<='"),
        ("x - 1", {"x": "a"}, "'-' is not supported between string and int"),
        ("x + 1", {"x": "a"}, "'+' is not supported between string and int"),
        ("1 / x", {"x": 0}, "division by zero in '1 / x'"),
        ("-x", {"x": "a"}, "unary '-' needs a number, got string"),
        ("items[3]", {"items": [1]}, "index 3 is out of range for a list of length 1"),
        ("items['a']", {"items": [1]}, "a list index must be an int, got string"),
        ("x.y", {"x": 3}, "cannot read '.y' of int 'x'"),
        ("x[0]", {"x": 3}, "cannot index a int value"),
        ("1 in x", {"x": 3}, "'in' needs a list, string or object on the right, got int"),
        ("1 in x", {"x": "abc"}, "'in' a string needs a string on the left"),
        ("words(x)", {"x": 3}, "words() expects a string, got int in 'words(x)'"),
        ("int(x)", {"x": "abc"}, "int() cannot convert 'abc' to int"),
        ("min(x)", {"x": []}, "min() of an empty list"),
        ("max(x)", {"x": [1, "a"]}, "expects all numbers or all strings"),
        ("matches(x, p)", {"x": "a", "p": "("}, "invalid regex '('"),
    ],
)
def test_runtime_errors(text: str, record: dict[str, Any], fragment: str) -> None:
    assert fragment in runtime_error(text, record).detail


def test_many_evaluations_run() -> None:
    expr = parse_expression("score >= 8 and words(text) > 3")
    records: list[dict[str, Any]] = [{"score": i % 11, "text": "w " * (i % 7)} for i in range(100)]
    start = time.perf_counter()
    kept = 0
    for _ in range(1000):
        for record in records:
            if expr.evaluate(record):
                kept += 1
    elapsed = time.perf_counter() - start
    assert kept == 1000 * sum(1 for r in records if r["score"] >= 8 and r["text"].count("w") > 3)
    assert elapsed >= 0  # timing is printed by -s runs, never asserted
    print(f"100k evaluations: {elapsed:.3f}s")
