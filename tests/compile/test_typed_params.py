"""Typed recipe parameters: every type accepted and rejected, at the value's position."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synthdsl.compile import CompileOptions, compile_recipe
from synthdsl.errors import RecipeError
from synthdsl.lang.load import parse_document
from synthdsl.lang.paramtypes import parse_decls, value_problem

SUB = """\
synthdsl: 1
name: sub
params:
  n: {type: integer, min: 1, max: 4, default: 2, description: rounds}
  mode: {type: enum, choices: [a, b], default: a}
  word: {type: string, pattern: "[a-z]+", default: hi}
  need: {type: number}
  short: 3
sources:
  rows: {input: true}
steps:
  - id: s
    set: {x: "{{ params.n }}"}
"""


def _errors(work: Path, with_: str, sub: str = SUB, sets: list[str] | None = None) -> list[str]:
    (work / "recipes").mkdir(exist_ok=True)
    (work / "recipes" / "sub.yaml").write_text(sub, encoding="utf-8")
    (work / "main.yaml").write_text(
        "synthdsl: 1\n"
        "sources:\n"
        "  q: {records: [{a: 1}]}\n"
        "steps:\n"
        "  - id: u\n"
        "    from: q\n"
        "    use: sub\n"
        f"    with: {with_}\n",
        encoding="utf-8",
    )
    try:
        compile_recipe("main.yaml", CompileOptions(set_values=sets or []))
    except RecipeError as exc:
        return [
            f"{d.span.file}:{d.span.line}:{d.span.col}: {d.message}" if d.span else d.message
            for d in exc.diagnostics
        ]
    return []


def test_good_values_compile(work: Path) -> None:
    assert _errors(work, "{n: 4, mode: b, word: abc, need: 0.5, short: 9}") == []


def test_a_wrong_value_is_reported_at_the_value(work: Path) -> None:
    assert _errors(work, "{n: lots, need: 1}") == [
        "main.yaml:8:15: parameter 'n' of recipe 'sub' must be an integer from 1 to 4, got 'lots'"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{n: 5, need: 1}", "'n' of recipe 'sub' must be an integer from 1 to 4, got 5"),
        ("{mode: c, need: 1}", "'mode' of recipe 'sub' must be one of 'a', 'b', got 'c'"),
        ("{word: A1, need: 1}", "'word' of recipe 'sub' must be a string matching '[a-z]+'"),
        ("{need: x}", "'need' of recipe 'sub' must be a number, got 'x'"),
        ("{short: 1.5, need: 1}", "'short' of recipe 'sub' must be an integer, got 1.5"),
    ],
)
def test_each_rejection(work: Path, value: str, message: str) -> None:
    (error,) = _errors(work, value)
    assert message in error


def test_a_required_parameter_must_be_given(work: Path) -> None:
    assert _errors(work, "{n: 1}") == [
        "main.yaml:7:10: recipe 'sub' needs parameter 'need' (a number)"
    ]


def test_a_bad_default_is_reported_at_the_default(work: Path) -> None:
    bad = SUB.replace("default: 2", "default: 9")
    assert _errors(work, "{need: 1}", bad) == [
        "recipes/sub.yaml:4:47: parameter 'n' of recipe 'sub' must be an integer from 1 to 4, got 9"
    ]


@pytest.mark.parametrize(
    ("pattern", "start"),
    [("'(unclosed'", "bad regular expression '(unclosed'"), ("x" * 201, "is too long")],
)
def test_bad_patterns(work: Path, pattern: str, start: str) -> None:
    bad = SUB.replace('pattern: "[a-z]+"', f"pattern: {pattern}")
    errors = _errors(work, "{need: 1}", bad)
    assert any(start in e for e in errors), errors


def test_set_params_is_checked(work: Path) -> None:
    (work / "top.yaml").write_text(
        "synthdsl: 1\nparams:\n  k: {type: integer, min: 1, default: 1}\n"
        "sources:\n  q: {records: [{a: 1}]}\nsteps:\n  - id: s\n    set: {b: '{{ params.k }}'}\n",
        encoding="utf-8",
    )
    ok = compile_recipe(work / "top.yaml", CompileOptions(set_values=["params.k=3"]))
    assert ok.params == {"k": 3}
    with pytest.raises(RecipeError) as info:
        compile_recipe(work / "top.yaml", CompileOptions(set_values=["params.k=0"]))
    (d,) = info.value.diagnostics
    assert (d.span and d.span.file, d.message) == (
        "--set",
        "parameter 'k' of recipe 'top' must be an integer >= 1, got 0",
    )


def _decls(params: str) -> dict[str, Any]:
    doc = parse_document(f"synthdsl: 1\nparams:\n{params}\nsteps: []\n", "r.yaml")
    decls, diags = parse_decls(doc, "r")
    assert diags == []
    return {n: d.type for n, d in decls.items()}


def test_short_form_types_are_inferred() -> None:
    params = "  i: 1\n  f: 1.5\n  b: true\n  s: x\n  l: [1]\n  m: {a: 1}\n  z: null"
    assert _decls(params) == {
        "i": "integer",
        "f": "number",
        "b": "boolean",
        "s": "string",
        "l": "list",
        "m": "mapping",
        "z": "any",
    }
    # a mapping with keys other than declaration keys is a short-form mapping
    assert _decls("  m: {type: x, other: 1}") == {"m": "mapping"}


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("string", "x", 1),
        ("integer", 3, True),
        ("number", 2.5, "2.5"),
        ("boolean", False, "no"),
        ("list", [1], "x"),
        ("mapping", {"a": 1}, [1]),
        ("model", "gen", ""),
        ("path", "a/b", 3),
    ],
)
def test_every_type_accepts_and_rejects(kind: str, good: Any, bad: Any) -> None:
    doc = parse_document(f"synthdsl: 1\nparams:\n  p: {{type: {kind}}}\nsteps: []\n", "r.yaml")
    decls, _ = parse_decls(doc, "r")
    assert value_problem(decls["p"], "r", good, None) is None
    assert value_problem(decls["p"], "r", bad, None) is not None
