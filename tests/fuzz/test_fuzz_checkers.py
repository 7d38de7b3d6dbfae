"""Property-based fuzzing of what reads recipes: the YAML loader, the schema check and
compiler, the expression parser and the template checker.

For any input: the answer is a value or a ``RecipeError`` whose every diagnostic is
located (file, line, column) when the problem is in the text; never another exception
(a traceback for the user); and within bounded time and memory (each example runs
under the loader's and templates' own limits; hypothesis' deadline catches a check
that takes seconds). Example counts are modest so the suite stays fast in CI; the
generators lean towards recipe-shaped input, where the interesting paths are.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthdsl.compile import compile_recipe
from synthdsl.errors import RecipeError, Span
from synthdsl.lang.expr import parse_expression
from synthdsl.lang.load import parse_document
from synthdsl.lang.templates import TemplateRenderError, inline_template

FUZZ = settings(
    max_examples=int(os.environ.get("SYNTHDSL_FUZZ_EXAMPLES", "200")),
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SPAN = Span("r.yaml", 3, 5)

# Pieces that matter to each language, mixed with arbitrary text.
YAML_BITS = [
    "synthdsl: 1\n",
    "steps:\n",
    "  - id: a\n",
    "&x ",
    "*x",
    "<<: *x\n",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "{{",
    "}}",
    ": ",
    "- ",
    "\t",
    "  ",
    "\n",
    "#",
    "|\n",
    ">\n",
    "!!python/object:os.system ",
    "? ",
    "%YAML 1.2\n",
    "---\n",
    "...\n",
]
EXPR_BITS = [
    "x",
    "len(",
    "words(",
    "matches(",
    ")",
    "(",
    ",",
    "'",
    '"',
    "and ",
    "or ",
    "not ",
    "in ",
    "==",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "[",
    "]",
    ".",
    "1",
    "2.5",
    "1e400",
    "null",
    "true",
    "exists(",
    "meta.",
    "\\",
    "(a+)+$",
]
TPL_BITS = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    " if ",
    " for x in ",
    "range(",
    ")",
    " endif ",
    " endfor ",
    "'a'",
    " * ",
    "**",
    "10",
    "|",
    "center(",
    "format(",
    "x",
    ".__class__",
    "include ",
    "'",
    "~",
    "+",
    "[",
    "]",
    "set y = ",
    "-",
]


def _mix(bits: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(bits), st.text(max_size=6)), max_size=30).map("".join)


def _located(error: RecipeError) -> None:
    assert error.diagnostics, "a RecipeError must say what is wrong"
    for diag in error.diagnostics:
        assert diag.message
        if diag.span is not None:
            assert diag.span.line >= 1 and diag.span.col >= 1


@FUZZ
@given(_mix(YAML_BITS))
def test_the_loader_answers_any_text_with_a_document_or_a_located_error(text: str) -> None:
    try:
        parse_document(text, "r.yaml")
    except RecipeError as exc:
        _located(exc)
        assert all(d.span is not None for d in exc.diagnostics)


@FUZZ
@given(_mix(EXPR_BITS))
def test_the_expression_parser_answers_any_text(text: str) -> None:
    try:
        expr = parse_expression(text, SPAN)
    except RecipeError as exc:
        _located(exc)
        assert all(d.span is not None for d in exc.diagnostics)
        return
    try:
        expr.evaluate({"x": "aaaa", "meta": {"a": 1}})
    except Exception as exc:  # per-record failures are RunErrors with a message
        assert type(exc).__name__ == "ExpressionRuntimeError", repr(exc)


@FUZZ
@given(_mix(TPL_BITS), st.one_of(st.integers(), st.text(max_size=5), st.none()))
def test_the_template_checker_and_renderer_answer_any_text(text: str, x: Any) -> None:
    try:
        template = inline_template(text, SPAN, "t")
    except RecipeError as exc:
        _located(exc)
        return
    try:
        template.render({"x": x, "params": {}})
    except TemplateRenderError as exc:
        assert str(exc).startswith("template 't' failed")


_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.text(max_size=8),
    st.sampled_from(["x > 1", "{{ x }}", "${n}", "a", "gen", "default", "jsonl", "*"]),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["x", "n", "into", "template", "expr", "by"]), inner, max_size=3
        ),
    ),
    max_leaves=8,
)
_KINDS = [
    "generate",
    "judge",
    "extract",
    "filter",
    "dedup",
    "set",
    "sort",
    "select",
    "draw",
    "cross",
    "loop",
    "mix",
    "use",
    "switch",
    "chunk",
    "verify",
    "bogus",
]
_step = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "1bad"])},
    optional={
        "from": st.sampled_from(["s", "a", "b", "nowhere"]),
        "when": st.sampled_from(["x > 1", "x >", "len(x) > 'a'"]),
    },
).flatmap(
    lambda base: st.sampled_from(_KINDS).flatmap(
        lambda kind: _value.map(lambda v: {**base, kind: v})
    )
)
_recipe = st.fixed_dictionaries(
    {
        "synthdsl": st.sampled_from([1, 2, "1"]),
        "sources": st.one_of(
            st.just({"s": {"records": [{"x": 1}, {"x": "two"}]}}),
            st.dictionaries(st.sampled_from(["s", "t"]), _value, max_size=2),
        ),
        "steps": st.lists(_step, max_size=4),
    },
    optional={
        "params": st.dictionaries(st.sampled_from(["n", "m"]), _value, max_size=2),
        "models": st.dictionaries(st.sampled_from(["gen", "default"]), _value, max_size=2),
        "output": _value,
    },
)


@FUZZ
@given(_recipe)
def test_the_compiler_answers_any_recipe_shaped_document(tmp_path: Path, recipe: Any) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    try:
        compile_recipe(path)
    except RecipeError as exc:
        _located(exc)
