"""The ``pool`` kind: a loop round's records, handed in by the enclosing runner."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.nodes import ROUND_FEEDS, feed_node, node_kind, outer_feed
from synthdsl.nodes.pool import PoolConfig

from .kit import FILE, FakeEstimator, FakeRuntime, make_records, run_stream

KIND = node_kind("pool")


def test_feed_nodes_and_their_hooks() -> None:
    node = feed_node("lp.pool_new", "pool_new", Span(FILE, 4, 5), "sub.yaml")
    assert (node.id, node.kind, node.config, node.inputs, node.origin) == (
        "lp.pool_new",
        "pool",
        PoolConfig("pool_new"),
        [],
        "sub.yaml",
    )
    assert KIND.feed(node.config) == "pool_new"
    assert outer_feed("ctx") == "outer:ctx"
    assert KIND.feed(PoolConfig(outer_feed("ctx"))) == "outer:ctx"
    assert ROUND_FEEDS[0] == "pool"  # the body's default input
    assert KIND.describe(node.config) is None  # nothing to show in the plan
    assert KIND.supports_when(node.config) is False


def test_estimate_is_the_pool_being_estimated() -> None:
    node = feed_node("lp.pool", "pool", Span(FILE, 1, 1), None)
    est = KIND.estimate(node, None, FakeEstimator(pool=12))
    assert (est.records, est.calls, est.exact) == (12, 0, False)
    assert KIND.estimate(node, None, FakeEstimator(pool=None)).records is None


async def test_the_runner_emits_its_feed_in_order() -> None:
    recs = make_records({"x": 1}, {"x": 2}, {"x": 3})
    other = make_records({"y": 0}, node="other")
    rt = FakeRuntime(feeds={"pool": recs, "pool_new": other})
    node = feed_node("lp.pool", "pool", Span(FILE, 1, 1), None)
    out = await run_stream(KIND.stream_runner(node, rt), {})
    assert out.emitted == recs
    assert (out.counted_in, out.passed) == (3, 3)
    empty = await run_stream(
        KIND.stream_runner(feed_node("lp.n", "pool_input", Span(FILE, 1, 1), None), rt), {}
    )
    assert empty.emitted == [] and empty.counted_in == 0
