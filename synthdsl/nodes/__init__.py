"""Node kinds, one module each, behind a registry.

``node_kind(name)`` returns the kind's singleton; modules are imported on first use.
``STEP_KINDS`` are the kinds a recipe step can name; ``source_node`` and ``feed_node``
make the nodes the compiler adds itself (declared sources, a loop round's pools).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from synthdsl.nodes.base import NodeKind
from synthdsl.nodes.pool import ROUND_FEEDS, feed_node, outer_feed
from synthdsl.nodes.source import source_node

__all__ = [
    "ROUND_FEEDS",
    "STEP_KINDS",
    "feed_node",
    "kind_names",
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
    "loop": "synthdsl.nodes.loop",
    "mix": "synthdsl.nodes.mix",
    "draw": "synthdsl.nodes.draw",
    "set": "synthdsl.nodes.set",
    "sort": "synthdsl.nodes.sort",
    "cross": "synthdsl.nodes.cross",
    "select": "synthdsl.nodes.select",
    "verify": "synthdsl.nodes.verify",
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
    "draw",
    "set",
    "sort",
    "cross",
    "select",
    "loop",
    "mix",
)


def kind_names() -> tuple[str, ...]:
    return STEP_KINDS


@cache
def node_kind(name: str) -> NodeKind[Any]:
    module = importlib.import_module(_MODULES[name])
    kind: NodeKind[Any] = module.KIND
    return kind
