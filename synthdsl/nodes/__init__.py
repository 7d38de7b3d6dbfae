"""Node kinds, one module each, behind a registry; step kinds from plugins beside them.

``node_kind(name)`` returns the kind's singleton; modules are imported on first use.
``STEP_KINDS`` are the built-in kinds a recipe step can name; ``kind_names()`` adds the
kinds of installed plugins (group ``synthdsl.nodes``, found by
``lang/schema/plugin_steps.py``), ``is_step_kind`` asks about one name without looking
for plugins unless the name is not a built-in step key, and ``kind_plugin(kind)`` says
which plugin a kind comes from (None: built in). ``source_node`` and ``feed_node`` make
the nodes the compiler adds itself (declared sources, a loop round's pools).

Errors: ``PluginError`` (exit 1) for a plugin kind that does not load, is not a
``NodeKind``, or takes a built-in name.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from synthdsl.lang.schema import shipped_schema
from synthdsl.lang.schema.plugin_steps import plugin_kinds
from synthdsl.nodes.base import NodeKind
from synthdsl.nodes.pool import ROUND_FEEDS, feed_node, outer_feed
from synthdsl.nodes.source import source_node
from synthdsl.plugins import Plugin, PluginError

__all__ = [
    "ROUND_FEEDS",
    "STEP_KINDS",
    "feed_node",
    "is_step_kind",
    "kind_names",
    "kind_plugin",
    "node_kind",
    "outer_feed",
    "source_node",
]

_MODULES = {
    "source": "synthdsl.nodes.source",
    "pool": "synthdsl.nodes.pool",
    "generate": "synthdsl.nodes.generate",
    "judge": "synthdsl.nodes.judge",
    "extract": "synthdsl.nodes.extract",
    "chunk": "synthdsl.nodes.chunk",
    "filter": "synthdsl.nodes.filter",
    "dedup": "synthdsl.nodes.dedup",
    "decontaminate": "synthdsl.nodes.decontaminate",
    "allocate": "synthdsl.nodes.allocate",
    "loop": "synthdsl.nodes.loop",
    "mix": "synthdsl.nodes.mix",
    "draw": "synthdsl.nodes.draw",
    "set": "synthdsl.nodes.set",
    "sort": "synthdsl.nodes.sort",
    "cross": "synthdsl.nodes.cross",
    "select": "synthdsl.nodes.select",
    "verify": "synthdsl.nodes.verify",
    "redact": "synthdsl.nodes.redact",
    "leakage": "synthdsl.nodes.leakage",
}

# The kinds a step can name (sources and loop pools are made by the compiler).
STEP_KINDS = (
    "generate",
    "judge",
    "extract",
    "chunk",
    "verify",
    "filter",
    "dedup",
    "decontaminate",
    "allocate",
    "draw",
    "set",
    "sort",
    "cross",
    "select",
    "redact",
    "leakage",
    "loop",
    "mix",
)


def kind_names() -> tuple[str, ...]:
    """Every kind a step can name: the built-in ones, then the plugins' (sorted)."""
    return (*STEP_KINDS, *plugin_kinds())


def is_step_kind(name: str) -> bool:
    """Whether a step key names a kind; plugins are looked for only for a key that is
    no built-in step key (``id``, ``from``, a built-in kind, ...)."""
    if name in STEP_KINDS:
        return True
    if name in shipped_schema()["$defs"]["step"]["properties"]:
        return False
    return name in plugin_kinds()


def kind_plugin(kind: str) -> Plugin | None:
    """The plugin a kind comes from; None for a built-in kind."""
    if kind in _MODULES:
        return None
    found = plugin_kinds().get(kind)
    return found.plugin if found is not None else None


@cache
def node_kind(name: str) -> NodeKind[Any]:
    """The kind named ``name`` (built in, or from a plugin). Raises ``PluginError``."""
    module_name = _MODULES.get(name)
    if module_name is not None:
        module = importlib.import_module(module_name)
        kind: NodeKind[Any] = module.KIND
        return kind
    found = plugin_kinds()[name]
    if not isinstance(found.kind, NodeKind):
        raise PluginError(
            f"plugin {found.plugin.where()} in group synthdsl.nodes must name an instance "
            f"of synthdsl.nodes.base.NodeKind, got {type(found.kind).__name__}"
        )
    return found.kind
