"""Plugins are looked for only when a name is not a built-in one: compiling and planning
a recipe of built-in kinds and functions never reads an entry point (start-up stays as
fast as without plugins; benchmarks/bench_plugin_startup.py measures it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl import plugins
from synthdsl.analysis.diversity import plugin_metrics
from synthdsl.compile import compile_recipe
from synthdsl.errors import RecipeError
from synthdsl.lang.expr import plugin_functions
from synthdsl.lang.schema import check, plugin_steps
from synthdsl.plan import build_plan

from .support import REPO

_CACHES = (
    plugins.plugins,
    plugin_steps.plugin_kinds,
    plugin_steps.merged_schema,
    plugin_functions.plugin_functions,
    plugin_metrics.plugin_metrics,
)


def _cleared() -> None:
    for cached in _CACHES:
        cached.cache_clear()
    check._validator.cache_clear()


def test_a_recipe_of_built_ins_never_looks_for_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    _cleared()
    plan = build_plan(compile_recipe("examples/quickstart.yaml"))
    assert "plugins" not in plan.data
    assert [c.cache_info().currsize for c in _CACHES] == [0, 0, 0, 0, 0]


def test_an_unknown_step_key_or_function_looks_for_plugins(tmp_path: Path) -> None:
    _cleared()
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: x\nsources:\n  s: {records: [{t: a}]}\n"
        "steps:\n  - id: f\n    from: s\n    filter: 'wrds(t) > 1'\n"
        "output: {from: f, shape: records}\n",
        encoding="utf-8",
    )
    with pytest.raises(RecipeError, match="unknown function 'wrds'"):
        compile_recipe(recipe)
    assert plugin_functions.plugin_functions.cache_info().currsize == 1
    assert plugins.plugins.cache_info().currsize == 1  # synthdsl.functions was read
