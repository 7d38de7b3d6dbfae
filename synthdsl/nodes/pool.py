"""The ``pool`` node: records handed to a loop body by the loop (one round's input).

A body reads its round through feeds: ``pool`` (the round's input), ``pool_input``
(the loop's input), ``pool_new`` (records made so far), and one feed per enclosing
step the body names (``outer_feed(id)``). The compiler makes these nodes with
``feed_node``; at run time each emits what the loop put under its key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from synthdsl.errors import Span
from synthdsl.ir import Node
from synthdsl.nodes.base import Estimate, Estimator, NodeKind, Outbox, Runtime, StreamRunner
from synthdsl.records import Record

__all__ = ["KIND", "ROUND_FEEDS", "PoolConfig", "feed_node", "outer_feed"]

# What a loop body can read of its round, by name; the first is its default input.
ROUND_FEEDS = ("pool", "pool_input", "pool_new")


@dataclass(frozen=True)
class PoolConfig:
    feed: str  # a name of ROUND_FEEDS, or outer_feed(id)


def outer_feed(node_id: str) -> str:
    """The feed under which a body receives the records of enclosing node ``node_id``."""
    return f"outer:{node_id}"


def feed_node(node_id: str, feed: str, span: Span, origin: str | None) -> Node[PoolConfig]:
    return Node(node_id, KIND.name, PoolConfig(feed), [], span, origin=origin)


class _Runner:
    def __init__(self, node: Node[PoolConfig], rt: Runtime) -> None:
        self.records = rt.feed(node.config.feed)

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        for rec in self.records:
            out.count_in(1)
            out.count_passed(1)
            await out.emit(rec)


class PoolKind(NodeKind[PoolConfig]):
    name = "pool"

    def feed(self, config: PoolConfig) -> str:
        return config.feed

    def estimate(self, node: Node[PoolConfig], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(records=est.pool_records, calls=0, exact=False)

    def describe(self, config: PoolConfig) -> dict[str, Any] | None:
        return None

    def stream_runner(self, node: Node[PoolConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = PoolKind()
