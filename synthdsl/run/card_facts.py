"""What a dataset card says about the recipe, as plain data.

Input: a ``CompiledRecipe`` and its ``Plan``. Output: ``recipe_facts(compiled, plan) ->
dict`` (JSON-able): the recipe's name, file name, ``description:`` and hash; the
output's shape, format and declared license; per model alias its entries (model,
provider, sampling parameters; never an API key, its variable or a base URL); the
sources (name, file name, declared license); and per step its settings from the plan
(thresholds, expressions, models) and its ``when:``. The card builder
(``report/card.py``) reads only this and the run folder, so the report layer stays
independent of the compiler. File names only: no local folder reaches a card. Raises
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

import yaml

from synthdsl.ir import CompiledRecipe
from synthdsl.plan import Plan, PlanNode

__all__ = ["recipe_facts"]

# Plan settings that say nothing to a reader of the card.
_HIDDEN = ("prompt_hash", "system_hash")


def recipe_facts(compiled: CompiledRecipe, plan: Plan) -> dict[str, Any]:
    """The recipe's side of the card (see the module docstring)."""
    out = compiled.output
    return {
        "name": compiled.name,
        "file": PurePath(compiled.path).name or "recipe.yaml",
        "description": _description(compiled),
        "hash": plan.recipe_hash,
        "output": {"shape": out.shape, "format": out.format, "license": out.license},
        "models": {
            alias: [
                {"model": e.model, "provider": _provider(e.model), "params": dict(e.params)}
                for e in decl.entries
            ]
            for alias, decl in sorted(compiled.models.items())
        },
        "sources": [
            {
                "name": name,
                "file": PurePath(src.path).name if src.path else None,
                "license": src.license,
            }
            for name, src in sorted(compiled.sources.items())
            if not src.is_input
        ],
        "steps": {node.id: _settings(node) for node in _walk(plan.nodes)},
    }


def _description(compiled: CompiledRecipe) -> str:
    """The recipe's ``description:``, from the text the compiler kept."""
    text = compiled.texts.get(compiled.path)
    if not text:
        return ""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return ""
    value = doc.get("description") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else ""


def _provider(model: str) -> str:
    """The provider prefix of a litellm model string (``openai/gpt-4o`` → ``openai``)."""
    return model.split("/", 1)[0] if "/" in model else "openai"


def _walk(nodes: Iterable[PlanNode]) -> Iterable[PlanNode]:
    for node in nodes:
        yield node
        if node.body is not None:
            yield from _walk(node.body)


def _settings(node: PlanNode) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in (node.config or {}).items():
        if key in _HIDDEN:
            continue
        if key == "path" and isinstance(value, str):
            value = PurePath(value).name  # a file name, never a local folder
        shown[key] = value
    if node.when:
        shown["when"] = node.when
    return shown
