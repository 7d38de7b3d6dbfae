"""The ``pool`` node: the input of one loop round (fed by the loop node itself)."""

from __future__ import annotations

from synthdsl.nodes.base import NodeKind

__all__ = ["KIND"]


class PoolKind(NodeKind):
    name = "pool"


KIND = PoolKind()
