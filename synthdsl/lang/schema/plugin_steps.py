"""Step kinds from plugins, merged into the recipe JSON Schema.

Input: the entry points of group ``synthdsl.nodes`` (``synthdsl.plugins``); each names a
node kind object with a ``schema`` (the JSON Schema of its step's config) and a
``record_at_a_time`` flag. Output: ``plugin_kinds()``, the installed kinds by name with
their plugin, and ``merged_schema()``, the recipe schema with each kind added as a
step key (``$defs/step``) and, for record-at-a-time kinds, as a switch case key
(``$defs/case``); a step's config is then checked at ``file:line:col`` like a built-in
kind's. Errors: ``PluginError`` (exit 1) for a plugin that does not load, has no valid
schema, or takes the name of a built-in step kind or step key (naming its package).

The objects are checked here only for what the schema needs; ``synthdsl.nodes`` checks
that each is a ``NodeKind`` (this layer cannot import it).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from synthdsl.lang.schema import shipped_schema
from synthdsl.plugins import Plugin, PluginError, load, plugins

__all__ = ["PluginKind", "merged_schema", "plugin_kinds"]

GROUP = "synthdsl.nodes"


@dataclass(frozen=True)
class PluginKind:
    """One step kind a plugin adds: the object its entry point names, and where from."""

    name: str
    plugin: Plugin
    kind: Any  # a synthdsl.nodes.base.NodeKind (checked by synthdsl.nodes)
    schema: dict[str, Any]
    record_at_a_time: bool


def _reserved(base: Mapping[str, Any]) -> frozenset[str]:
    """Every key a step may already have: the built-in kinds, id, from, when, use, …"""
    return frozenset(base["$defs"]["step"]["properties"])


def _check_schema(plugin: Plugin, schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise PluginError(
            f"plugin {plugin.where()} in group {GROUP} has no config schema: its 'schema' "
            f"must be a JSON Schema mapping, got {type(schema).__name__}"
        )
    from jsonschema import Draft202012Validator  # jsonschema loads with the recipe check
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise PluginError(
            f"plugin {plugin.where()} in group {GROUP} has an invalid config schema: {exc.message}"
        ) from None
    return schema


@cache
def plugin_kinds() -> Mapping[str, PluginKind]:
    """The step kinds installed plugins add, by name (empty when there are none or
    ``SYNTHDSL_NO_PLUGINS=1``). Raises ``PluginError``."""
    found = plugins(GROUP)
    if not found:
        return {}
    base_step_keys = _reserved(shipped_schema())
    out: dict[str, PluginKind] = {}
    for plugin in found:
        if plugin.name in base_step_keys:
            raise PluginError(
                f"plugin {plugin.where()} in group {GROUP} cannot replace the built-in step "
                f"key '{plugin.name}'; the package {plugin.package} must name its kind "
                "differently"
            )
        obj = load(plugin)
        name = getattr(obj, "name", None)
        if name != plugin.name:
            raise PluginError(
                f"plugin {plugin.where()} in group {GROUP}: the kind's name is {name!r}, "
                f"not the entry point's name {plugin.name!r}"
            )
        schema = _check_schema(plugin, getattr(obj, "schema", None))
        at_a_time = bool(getattr(obj, "record_at_a_time", False))
        out[plugin.name] = PluginKind(plugin.name, plugin, obj, schema, at_a_time)
    return out


@cache
def merged_schema() -> dict[str, Any]:
    """The shipped recipe schema with the plugin step kinds added (a copy; the same as
    the shipped one when no plugin adds a kind). Raises ``PluginError``."""
    kinds = plugin_kinds()
    schema = copy.deepcopy(shipped_schema())
    defs = schema["$defs"]
    for name, pk in sorted(kinds.items()):
        ref = f"plugin-{name}"
        defs[ref] = {
            **copy.deepcopy(pk.schema),
            "description": pk.schema.get(
                "description", f"Step kind '{name}' from the plugin package {pk.plugin.package}."
            ),
        }
        defs["step"]["properties"][name] = {"$ref": f"#/$defs/{ref}"}
        if pk.record_at_a_time:
            defs["case"]["properties"][name] = {"$ref": f"#/$defs/{ref}"}
    return schema
