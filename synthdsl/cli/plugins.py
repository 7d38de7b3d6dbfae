"""The ``synthdsl plugins`` command: the installed plugins, group by group.

Input: the parsed arguments (``add_parser`` registers the command). Output on stdout:
for each entry-point group (``synthdsl.plugins.GROUPS``) its plugins, each with the
package and version that ship it, its ``module:attr``, and what it adds (a step kind,
the functions with their signatures, a metric, a reply schema); each is loaded to check
it. Exit code 0, or 1 when a plugin fails to load (its ``PluginError`` is printed on stderr and
the others are still listed). With ``SYNTHDSL_NO_PLUGINS=1`` it says plugins are off.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from synthdsl.cli.exits import EXIT_FAILED, EXIT_OK
from synthdsl.plugins import GROUPS, Plugin, PluginError, plugins

__all__ = ["add_parser", "describe_group", "run"]


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``plugins`` on ``subparsers``; returns the new parser."""
    return subparsers.add_parser(
        "plugins",
        help="list the installed plugins (step kinds, functions, metrics, schemas, packs)",
        description="List the plugins installed Python packages provide through entry "
        "points, and check that each loads.",
    )


def _node_kinds() -> dict[str, str]:
    # loads the kinds' modules: only when listed
    from synthdsl.lang.schema.plugin_steps import plugin_kinds
    from synthdsl.nodes import node_kind

    out: dict[str, str] = {}
    for name in plugin_kinds():
        gate = " (when: and switch cases)" if node_kind(name).record_at_a_time else ""
        out[name] = f"step kind {name}{gate}"
    return out


def _functions() -> dict[str, str]:
    # loads the function plugins: only when listed
    from synthdsl.lang.expr.plugin_functions import plugin_functions

    out: dict[str, str] = {}
    for spec, plugin in plugin_functions().values():
        out.setdefault(plugin.name, "")
        out[plugin.name] += f"{'; ' if out[plugin.name] else ''}function {spec.signature}"
    return out


def _metrics() -> dict[str, str]:
    # the metric plugins may import numpy: only when listed
    from synthdsl.analysis.diversity.plugin_metrics import plugin_metrics

    return {m.plugin.name: f"metric {m.spec.name}: {m.spec.description}" for m in plugin_metrics()}


def _schemas() -> dict[str, str]:
    # loads the schema plugins (pydantic models): only when listed
    from synthdsl.lang.plugin_schemas import named_schema, schema_names

    out: dict[str, str] = {}
    for name in schema_names():
        schema = named_schema(name) or {}
        fields = schema.get("properties")
        keys = ", ".join(fields) if isinstance(fields, dict) else "no properties"
        out[name] = f"reply schema {name} ({keys})"
    return out


_WHAT: dict[str, Callable[[], dict[str, str]]] = {
    "synthdsl.nodes": _node_kinds,
    "synthdsl.functions": _functions,
    "synthdsl.metrics": _metrics,
    "synthdsl.schemas": _schemas,
}


def describe_group(group: str) -> tuple[list[str], str | None]:
    """Lines describing ``group``'s plugins, and the error of one that failed to load."""
    found: tuple[Plugin, ...] = plugins(group)
    error = None
    what: dict[str, str] = {}
    try:
        what = _WHAT[group]() if group in _WHAT else {}
    except PluginError as exc:
        error = str(exc)
    lines = [f"{group}:"]
    if not found:
        lines.append("  (none)")
    for p in found:
        lines.append(f"  {p.name}  {p.package} {p.version}  {p.value}")
        if p.name in what:
            lines.append(f"    {what[p.name]}")
    return lines, error


def run(args: argparse.Namespace) -> int:
    """Print every group's plugins; 1 when one of them does not load."""
    if os.environ.get("SYNTHDSL_NO_PLUGINS") == "1":
        print("plugins are turned off (SYNTHDSL_NO_PLUGINS=1)")
        return EXIT_OK
    failed = False
    for group in GROUPS:
        lines, error = describe_group(group)
        print("\n".join(lines), flush=True)
        if error is not None:
            print(f"synthdsl: error: {error}", file=sys.stderr, flush=True)
            failed = True
    return EXIT_FAILED if failed else EXIT_OK
