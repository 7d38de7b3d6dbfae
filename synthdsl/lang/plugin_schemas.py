"""Reply schemas from plugins: JSON Schemas that Python users define as pydantic models.

Input: the entry points of group ``synthdsl.schemas`` (``synthdsl.plugins``); each names
a pydantic model class (anything with ``model_json_schema()``) or a JSON Schema mapping.
Output: ``named_schema(ref)``, the one lookup a step's ``json: {schema: REF}`` goes
through: REF is an entry point's name (``flashcard``) or its value
(``pkg.module:Model``), and only an installed plugin's entry point matches, so a recipe
never makes Python import a module it names. The schema found is a plain JSON Schema
(``model_json_schema()``'s output), checked with ``reply_schema.schema_problem`` and
validated by jsonschema like one written in the recipe. ``schema_names()`` lists the
names for hints. A plugin used is noted (``note_use``), so the plan, the recipe hash
and the manifest name it with its version.

Errors: ``PluginError`` (exit 1) for a plugin that does not load, whose value is
neither a model nor a mapping, whose ``model_json_schema()`` raises, or whose schema is
not a valid JSON Schema, naming the package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from synthdsl.lang.reply_schema import schema_problem
from synthdsl.plugins import Plugin, PluginError, load, note_use, plugins

__all__ = ["GROUP", "named_schema", "schema_names"]

GROUP = "synthdsl.schemas"


def _schema_of(plugin: Plugin, value: object) -> dict[str, Any]:
    where = f"plugin {plugin.where()} in group {GROUP}"
    make = getattr(value, "model_json_schema", None)
    if callable(make):
        try:
            schema = make()
        except Exception as exc:  # third-party code: any failure is the plugin's
            raise PluginError(
                f"{where}: model_json_schema() failed: {type(exc).__name__}: {exc}"
            ) from exc
    elif isinstance(value, Mapping):
        schema = value
    else:
        raise PluginError(
            f"{where} must name a pydantic model (with model_json_schema()) or a JSON "
            f"Schema mapping, got {type(value).__name__}"
        )
    try:
        # a plain JSON copy: what the provider is sent and what the plan hashes
        plain = json.loads(json.dumps(schema))
    except (TypeError, ValueError) as exc:
        raise PluginError(f"{where}: the schema is not plain JSON: {exc}") from exc
    if not isinstance(plain, dict):
        raise PluginError(f"{where}: the schema is not a JSON object")
    problem = schema_problem(plain)
    if problem is not None:
        raise PluginError(f"{where}: {problem}")
    return plain


@cache
def _load(plugin: Plugin) -> dict[str, Any]:
    return _schema_of(plugin, load(plugin))


def named_schema(ref: str) -> dict[str, Any] | None:
    """The JSON Schema an installed plugin registers as ``ref`` (its entry point's name,
    or its ``module:attr`` value); None when no plugin does. Only a matching plugin is
    imported."""
    for plugin in plugins(GROUP):
        if ref in (plugin.name, plugin.value):
            schema = _load(plugin)
            note_use(plugin)
            copy: dict[str, Any] = json.loads(json.dumps(schema))  # callers own theirs
            return copy
    return None


def schema_names() -> list[str]:
    """The names of every registered schema, sorted (imports nothing)."""
    return sorted(p.name for p in plugins(GROUP))
