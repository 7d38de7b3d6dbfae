"""Small helpers for the compiler stage tests: write recipes, load them, read problems.

Input: recipe text (dedented) and a folder (the test's ``tmp_path``, also the working
folder, see ``conftest.work``). Output: files, loaded ``Document``s, a fresh
``Compiler``, and problems as ``(span, message, hint)`` triples that compare exactly.
Raises ``AssertionError`` when a document that should load does not.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from synthdsl.compile import compile_recipe
from synthdsl.compile.scope import Scope
from synthdsl.compile.state import CompileOptions, Compiler, display_path
from synthdsl.compile.steps import Block, Step, compile_steps
from synthdsl.errors import Diagnostic, RecipeError
from synthdsl.ir import CompiledRecipe
from synthdsl.lang.load import Document, parse_document

__all__ = [
    "Problem",
    "block_of",
    "compile_errors",
    "compile_ok",
    "load",
    "parse",
    "problems",
    "run_steps",
    "write",
]

Problem = tuple[str | None, str, str | None]
"""A diagnostic as ``("file:line:col", message, hint)``."""


def write(folder: Path, name: str, text: str) -> Path:
    """Write the dedented ``text`` to ``folder/name`` (folders made); return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
    return path


def load(c: Compiler, path: Path) -> Document:
    """Load ``path`` as the compiler does (named relative to the working folder)."""
    doc = c.load(path, display_path(path))
    assert doc is not None, problems(c.diags)
    return doc


def parse(text: str, file: str = "r.yaml") -> Document:
    """A document from text, without the schema check (for shapes it would refuse)."""
    return parse_document(textwrap.dedent(text).lstrip("\n"), file)


def problems(diags: Iterable[Diagnostic]) -> list[Problem]:
    """Diagnostics as comparable triples, in the order they were found."""
    return [(str(d.span) if d.span else None, d.message, d.hint) for d in diags]


def block_of(doc: Document, scope: Scope | None = None, default_from: str | None = None) -> Block:
    """The top-level steps of ``doc`` as a block with no prefix."""
    params: dict[str, Any] = dict(doc.data.get("params") or {})
    return Block(
        doc, doc.data["steps"], ("steps",), "", scope or Scope(names={}), params, None, default_from
    )


def run_steps(c: Compiler, block: Block) -> tuple[list[Step], str | None]:
    """``compile_steps`` on ``block``: the steps made and the last step's name."""
    steps: list[Step] = []
    last = compile_steps(c, block, steps)
    return steps, last


def _as_given(path: Path) -> Path:
    """``path`` as a user in the working folder would type it (it names the top file)."""
    return Path(display_path(path))


def compile_ok(path: Path, opts: CompileOptions | None = None) -> CompiledRecipe:
    """The whole compiler on ``path``; it must succeed."""
    return compile_recipe(_as_given(path), opts)


def compile_errors(path: Path, opts: CompileOptions | None = None) -> list[Problem]:
    """The whole compiler on ``path``; it must fail. Its problems, sorted as reported."""
    with pytest.raises(RecipeError) as info:
        compile_recipe(_as_given(path), opts)
    return problems(info.value.diagnostics)
