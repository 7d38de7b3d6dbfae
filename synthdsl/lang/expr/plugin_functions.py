"""Filter-expression functions from plugins, beside the built-in whitelist.

Input: the entry points of group ``synthdsl.functions`` (``synthdsl.plugins``); each
names a ``FunctionSpec`` or a list of them (``FunctionSpec.typed`` gives a typed
signature). Output: ``function_spec(name)``, the one lookup the parser and the
evaluator use: a built-in function, else a plugin's (noted with ``note_use``, so the
plan and the recipe hash name the plugin and its version); ``function_names()`` for
hints. Plugins are looked for only when a name is not a built-in function.

Errors: ``PluginError`` (exit 1) for a plugin that does not load, whose value is not
``FunctionSpec``s with an implementation, whose signature names an unknown type or
does not fit its arity, or whose function takes the name of a built-in one (or of
another plugin's), naming the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache

from synthdsl.lang.expr.functions import ARG_TYPES, FUNCTION_SPECS, FunctionSpec
from synthdsl.plugins import Plugin, PluginError, load, note_use, plugins

__all__ = ["GROUP", "function_names", "function_spec", "plugin_functions"]

GROUP = "synthdsl.functions"


def _check(plugin: Plugin, spec: object) -> FunctionSpec:
    where = f"plugin {plugin.where()} in group {GROUP}"
    if not isinstance(spec, FunctionSpec):
        raise PluginError(
            f"{where} must name a synthdsl.lang.expr.FunctionSpec or a list of them, "
            f"got {type(spec).__name__}"
        )
    if spec.impl is None or not callable(spec.impl):
        raise PluginError(f"{where}: function '{spec.name}' has no implementation")
    if not spec.name.isidentifier():
        raise PluginError(f"{where}: '{spec.name}' is not a valid function name")
    for name in (*(spec.arg_types or ()), *([spec.returns] if spec.returns else [])):
        if name not in ARG_TYPES:
            raise PluginError(
                f"{where}: function '{spec.name}' declares the unknown type '{name}' "
                f"(types: {', '.join(ARG_TYPES)})"
            )
    if spec.arg_types is not None and (
        not spec.arg_types
        or (spec.max_args is not None and len(spec.arg_types) > spec.max_args)
        or len(spec.arg_types) < spec.min_args
    ):
        raise PluginError(
            f"{where}: function '{spec.name}' declares {len(spec.arg_types)} argument "
            f"types for {spec.arity_text()}"
        )
    if spec.name in FUNCTION_SPECS:
        raise PluginError(
            f"{where}: function '{spec.name}' has the name of a built-in function; the "
            f"package {plugin.package} must name it differently"
        )
    return spec


@cache
def plugin_functions() -> Mapping[str, tuple[FunctionSpec, Plugin]]:
    """The functions installed plugins add, by name, with their plugin."""
    out: dict[str, tuple[FunctionSpec, Plugin]] = {}
    for plugin in plugins(GROUP):
        value = load(plugin)
        specs = list(value) if isinstance(value, list | tuple) else [value]
        for spec in specs:
            spec = _check(plugin, spec)
            if spec.name in out:
                other = out[spec.name][1]
                raise PluginError(
                    f"plugin {plugin.where()} in group {GROUP}: function '{spec.name}' is "
                    f"also defined by {other.where()}"
                )
            out[spec.name] = (spec, plugin)
    return out


def function_spec(name: str) -> FunctionSpec | None:
    """The function called ``name`` (built in first, then plugins); None: unknown."""
    spec = FUNCTION_SPECS.get(name)
    if spec is not None:
        return spec
    found = plugin_functions().get(name)
    if found is None:
        return None
    note_use(replace(found[1], name=name))  # named by the function, not the entry point
    return found[0]


def function_names() -> list[str]:
    """Every function an expression may call, sorted (looks for plugins)."""
    return sorted({*FUNCTION_SPECS, *plugin_functions()})
