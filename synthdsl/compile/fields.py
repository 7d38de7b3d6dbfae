"""Fields flow from sources through every node; what a node reads must arrive.

Input: an ordered ``Graph`` (``compile/graph.py``). Output: every node's ``fields``
(``*`` where they cannot be known, e.g. an unreadable file), and diagnostics for a
field read by an expression, a template or ``when:`` that no upstream node provides,
for unknown model aliases, and whatever a
kind finds in ``check_graph`` once fields are known (e.g. a mix's stage band).
"""

from __future__ import annotations

from typing import Any

from synthdsl.compile.state import Compiler
from synthdsl.errors import Diagnostic, did_you_mean
from synthdsl.ir import Graph, Node
from synthdsl.lang.expr import Expression
from synthdsl.lang.expr.types import FieldType, type_problems
from synthdsl.nodes import ROUND_FEEDS, node_kind, outer_feed

__all__ = ["check_graph", "propagate_fields"]


def propagate_fields(
    c: Compiler,
    graph: Graph,
    feed_fields: dict[str, list[str]] | None = None,
) -> None:
    """Give every node its output fields and check what each node reads.

    In a body, ``feed_fields`` are the fields of each feed (``pool``, ``outer:<id>``,
    ...) by key; a feed not listed is unknown (``*``).
    """
    feeds = feed_fields or {}
    types: dict[str, dict[str, FieldType]] = {}
    for node in graph.nodes.values():
        kind = node_kind(node.kind)
        feed = kind.feed(node.config)
        if feed is not None:
            node.fields = list(feeds.get(feed, ["*"]))
            continue
        inputs = {i: graph.nodes[i].fields for i in node.inputs if i in graph.nodes}
        chosen = kind.upstream_fields(node.config, inputs)
        upstream = ["*"] if chosen is None else chosen  # unresolved inputs were reported
        _check_reads(c, node, upstream)
        upstream_types = _agreed_types([types.get(i, {}) for i in node.inputs])
        _check_types(c, node, upstream_types)
        for alias, span in kind.model_refs(node.config):
            if alias is not None and alias not in c.models:
                c.error(
                    Diagnostic(
                        span,
                        f"unknown model alias '{alias}'",
                        did_you_mean(alias, c.models)
                        or f"declared aliases: {', '.join(sorted(c.models))}",
                    )
                )
        if node.body is not None:
            node.fields = _body_fields(c, node, graph, upstream)
        else:
            node.fields = kind.output_fields(node.config, upstream)
        if node.body is None:
            known = kind.field_types(node.config, upstream_types)
            if node.when is not None or node.case is not None:
                # records it does not take pass by unchanged: keep what both agree on
                known = {k: t for k, t in known.items() if upstream_types.get(k) == t}
            types[node.id] = {k: t for k, t in known.items() if k in node.fields}


def _check_reads(c: Compiler, node: Node[Any], upstream: list[str]) -> None:
    available = sorted(set(upstream))
    if "*" in available:
        return
    kind = node_kind(node.kind)
    reads = list(kind.read_fields(node.config))
    if node.when is not None:
        reads += list(node.when.field_spans())
    if node.case is not None and node.case.index == 0:  # the first case decides
        reads += [fs for cond in node.case.conditions if cond for fs in cond.field_spans()]
    for fname, span in reads:
        if fname not in available:
            c.error(
                Diagnostic(
                    span,
                    f"field '{fname}' is not provided by any upstream node",
                    did_you_mean(fname, available)
                    or (f"available fields: {', '.join(available)}" if available else None),
                )
            )
    c.diags.extend(kind.check_templates(node.config, available))


def _agreed_types(inputs: list[dict[str, FieldType]]) -> dict[str, FieldType]:
    """The types every input agrees on (none when there is no input)."""
    if not inputs:
        return {}
    first, *rest = inputs
    return {
        name: t
        for name, t in first.items()
        if all(name in other and other[name].type == t.type for other in rest)
    }


def _check_types(c: Compiler, node: Node[Any], types: dict[str, FieldType]) -> None:
    """Comparisons and arithmetic that cannot work with the fields' known types."""
    if not types:
        return
    exprs: list[Any] = list(node_kind(node.kind).expressions(node.config))
    if node.when is not None:
        exprs.append(node.when)
    if node.case is not None and node.case.index == 0:
        exprs += [cond for cond in node.case.conditions if cond is not None]
    for expr in exprs:
        if isinstance(expr, Expression):
            c.diags.extend(type_problems(expr, types))


def _body_fields(c: Compiler, node: Node[Any], graph: Graph, upstream: list[str]) -> list[str]:
    """Propagate through a body; later rounds read earlier rounds' outputs (``pool``,
    ``pool_new``), so their fields are learnt first in a pass whose problems are
    dropped. Returns the fields of the body's output."""
    body = node.body
    assert body is not None
    outer = {outer_feed(i): graph.nodes[i].fields for i in node.inputs if i in graph.nodes}
    probe = Compiler(c.opts)
    probe.models = c.models
    propagate_fields(probe, body, {**_round_feeds(upstream), **outer})
    out = body.nodes.get(body.output)
    pool_fields = list(upstream)
    if out is not None:
        pool_fields += [f for f in out.fields if f not in pool_fields]
    propagate_fields(c, body, {**_round_feeds(pool_fields), **outer})
    out = body.nodes.get(body.output)
    return list(out.fields) if out else list(upstream)


def _round_feeds(fields: list[str]) -> dict[str, list[str]]:
    return {feed: list(fields) for feed in ROUND_FEEDS}


def check_graph(c: Compiler, graph: Graph) -> None:
    """Each kind's whole-graph checks, bodies included."""
    for node in graph.nodes.values():
        if node.body is not None:
            check_graph(c, node.body)
        node_kind(node.kind).check_graph(node, graph, c)
