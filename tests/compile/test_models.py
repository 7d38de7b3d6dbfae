"""``compile/models.py``: aliases across ``use:`` boundaries, ``--model``, ``--api-base``."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.compile.models import add_models, finish_models
from synthdsl.compile.state import CompileOptions, Compiler
from synthdsl.errors import Span
from synthdsl.ir import DEFAULT_MODEL, ModelDecl

from .support import load, problems, write

OUTER = """
synthdsl: 1
models:
  writer: {model: openai/gpt-4o, api_base: "http://a.example/v1", api_key_env: KEY_A}
  default: {model: openai/gpt-4o-mini}
steps:
  - id: g
    generate: {template: "hi", into: x}
"""

INNER = """
synthdsl: 1
models:
  writer: {model: together_ai/writer}
  critic: {model: together_ai/critic, api_base: "http://c.example/v1", api_key_env: KEY_C}
  default: {model: together_ai/default}
steps:
  - id: g
    generate: {template: "hi", into: x}
"""

Entry = tuple[str, str | None, str | None]


def _models(work: Path, opts: CompileOptions, outer: str = OUTER) -> Compiler:
    """Declare the outer recipe's aliases, then those of a recipe used in step ``u``,
    then finish."""
    c = Compiler(opts)
    add_models(c, load(c, write(work, "outer.yaml", outer)))
    add_models(c, load(c, write(work, "recipes/inner.yaml", INNER)), prefix="u.")
    finish_models(c)
    return c


def _entries(decl: ModelDecl) -> list[Entry]:
    return [(e.model, e.api_base, e.api_key_env) for e in decl.entries]


def _table(c: Compiler) -> dict[str, list[Entry]]:
    return {alias: _entries(decl) for alias, decl in c.models.items()}


def test_a_used_recipes_aliases_are_its_own_under_its_step(work: Path) -> None:
    c = _models(work, CompileOptions())
    assert _table(c) == {
        "writer": [("openai/gpt-4o", "http://a.example/v1", "KEY_A")],
        "default": [("openai/gpt-4o-mini", None, None)],
        "u.writer": [("together_ai/writer", None, None)],
        "u.critic": [("together_ai/critic", "http://c.example/v1", "KEY_C")],
    }
    assert c.models["writer"].span == Span("outer.yaml", 3, 3)
    assert c.models["u.writer"].span == Span("recipes/inner.yaml", 3, 3)
    assert c.models["u.critic"].span == Span("recipes/inner.yaml", 4, 3)
    assert c.scoped_models == {"u.writer", "u.critic"}
    assert problems(c.diags) == []


def test_a_used_recipes_default_is_ignored(work: Path) -> None:
    outer = OUTER.replace("  default: {model: openai/gpt-4o-mini}\n", "")
    c = _models(work, CompileOptions(), outer)
    assert _entries(c.models["default"]) == [(DEFAULT_MODEL, None, None)]
    assert c.models["default"].span == Span("<default>", 1, 1)


def test_the_default_alias_follows_the_environment(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNTHDSL_MODEL", "openai/env-model")
    c = Compiler(CompileOptions())
    finish_models(c)
    assert _table(c) == {"default": [("openai/env-model", None, None)]}


def test_model_replaces_every_alias_and_drops_the_recipes_endpoint(work: Path) -> None:
    c = _models(work, CompileOptions(model="groq/y"))
    assert _table(c) == {
        "writer": [("groq/y", None, None)],
        "default": [("groq/y", None, None)],
        "u.writer": [("groq/y", None, None)],
        "u.critic": [("groq/y", None, None)],
    }


def test_model_naming_the_same_model_keeps_the_endpoint(work: Path) -> None:
    c = _models(work, CompileOptions(model="openai/gpt-4o"))
    assert _table(c)["writer"] == [("openai/gpt-4o", "http://a.example/v1", "KEY_A")]
    assert _table(c)["u.critic"] == [("openai/gpt-4o", None, None)]


def test_model_alias_replaces_one_alias_and_model_the_others(work: Path) -> None:
    c = _models(work, CompileOptions(model="groq/y", model_aliases={"u.critic": "mistral/critic"}))
    assert _table(c) == {
        "writer": [("groq/y", None, None)],
        "default": [("groq/y", None, None)],
        "u.writer": [("groq/y", None, None)],
        "u.critic": [("mistral/critic", None, None)],
    }


def test_api_base_without_model_applies_to_every_alias(work: Path) -> None:
    c = _models(work, CompileOptions(api_base="http://b.example/v1"))
    assert _table(c) == {
        # the model stays, so the key variable the recipe named still applies
        "writer": [("openai/gpt-4o", "http://b.example/v1", "KEY_A")],
        "default": [("openai/gpt-4o-mini", "http://b.example/v1", None)],
        "u.writer": [("together_ai/writer", "http://b.example/v1", None)],
        "u.critic": [("together_ai/critic", "http://b.example/v1", "KEY_C")],
    }


def test_api_base_with_model_replaces_the_endpoint_and_drops_the_key(work: Path) -> None:
    c = _models(work, CompileOptions(model="groq/y", api_base="http://b.example/v1"))
    assert set(map(tuple, _table(c).values())) == {(("groq/y", "http://b.example/v1", None),)}


def test_api_base_with_model_alias_applies_to_the_replaced_alias_only(work: Path) -> None:
    opts = CompileOptions(model_aliases={"writer": "groq/y"}, api_base="http://b.example/v1")
    c = _models(work, opts)
    assert _table(c) == {
        "writer": [("groq/y", "http://b.example/v1", None)],
        "default": [("openai/gpt-4o-mini", None, None)],
        "u.writer": [("together_ai/writer", None, None)],
        "u.critic": [("together_ai/critic", "http://c.example/v1", "KEY_C")],
    }


def test_every_entry_of_a_pool_is_replaced(work: Path) -> None:
    pooled = OUTER.replace(
        '  writer: {model: openai/gpt-4o, api_base: "http://a.example/v1", api_key_env: KEY_A}',
        "  writer:\n    pool:\n      - {model: a/one, weight: 2}\n      - {model: a/two}",
    )
    assert pooled != OUTER
    c = _models(work, CompileOptions(model_aliases={"writer": "groq/y"}), pooled)
    assert [(e.model, e.weight) for e in c.models["writer"].entries] == [
        ("groq/y", 2.0),
        ("groq/y", 1.0),
    ]


def test_model_for_an_unknown_alias_is_an_error_with_did_you_mean(work: Path) -> None:
    c = _models(work, CompileOptions(model_aliases={"writr": "a/b"}))
    assert problems(c.diags) == [
        (None, "--model writr=...: the recipe has no model alias 'writr'", "did you mean 'writer'?")
    ]
    assert _table(c)["writer"] == [("openai/gpt-4o", "http://a.example/v1", "KEY_A")]


def test_model_for_an_alias_nothing_like_any_is_an_error_without_hint(work: Path) -> None:
    c = _models(work, CompileOptions(model_aliases={"zzzzzz": "a/b"}))
    assert problems(c.diags) == [
        (None, "--model zzzzzz=...: the recipe has no model alias 'zzzzzz'", None)
    ]


def test_a_missing_local_model_file_is_an_error_at_its_alias(work: Path) -> None:
    outer = OUTER.replace("model: openai/gpt-4o-mini", "model: local/nowhere.gguf")
    c = _models(work, CompileOptions(), outer)
    assert problems(c.diags) == [
        (
            "outer.yaml:4:3",
            f"local model file not found: {work / 'nowhere.gguf'}",
            None,
        )
    ]
    assert c.diags[0].severity == "error"


def test_an_unknown_local_model_name_is_an_error(work: Path) -> None:
    c = _models(work, CompileOptions(model_aliases={"u.critic": "local/nope"}))
    [(span, message, hint)] = problems(c.diags)
    assert (span, hint) == ("recipes/inner.yaml:4:3", None)
    assert message.startswith("unknown local model 'local/nope': use one of local/")
    assert message.endswith(" or local/<path to a .gguf file>")


def test_model_for_a_used_recipes_alias_by_its_short_name_points_at_the_scoped_one(
    work: Path,
) -> None:
    c = _models(work, CompileOptions(model_aliases={"critic": "a/b"}))
    assert problems(c.diags) == [
        (
            None,
            "--model critic=...: the recipe has no model alias 'critic'",
            "did you mean 'u.critic'? (a used recipe's aliases are named after its step)",
        )
    ]


def test_a_local_model_path_is_relative_to_the_recipes_folder(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (work / "recipes").mkdir(exist_ok=True)
    (work / "recipes" / "tiny.gguf").write_bytes(b"GGUF")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the working folder does not matter
    inner = INNER.replace("model: together_ai/writer", "model: local/tiny.gguf")
    c = Compiler(CompileOptions())
    add_models(c, load(c, write(work, "recipes/inner.yaml", inner)), prefix="u.")
    finish_models(c)
    assert _entries(c.models["u.writer"]) == [
        (f"local/{(work / 'recipes' / 'tiny.gguf').resolve()}", None, None)
    ]
    assert problems(c.diags) == []
