"""Steps → nodes → an ordered graph: configs checked, inputs linked, bodies nested.

Input: the ``Step`` list of a block (``compile/steps.py``). Output: ``Node``s whose
configs each kind made from its raw YAML (``configure``), whose inputs are resolved
node ids (``from:`` plus the references a kind names, through ``link``), with a
compiled ``when:`` and, for kinds with a body (``nested``), a nested ``Graph`` whose
feeds are the body's inputs. ``order`` sorts a graph topologically (graphlib) and keeps
what leads to its output. A cycle is a diagnostic naming its path; steps that do not
lead to the output are warnings.
"""

from __future__ import annotations

import graphlib
from pathlib import Path
from typing import Any

from synthdsl.compile.scope import Scope, resolve_name
from synthdsl.compile.state import Compiler
from synthdsl.compile.steps import Block, Step, compile_steps
from synthdsl.errors import Diagnostic, RecipeError, did_you_mean
from synthdsl.ir import Case, Graph, Node, Predicate
from synthdsl.lang.expr import parse_expression
from synthdsl.lang.load import Document
from synthdsl.nodes import feed_node, node_kind, outer_feed
from synthdsl.nodes.base import CheckContext, NodeKind

__all__ = ["order", "step_nodes"]

_SEARCH_LEVELS = 3  # template search: the recipe's folder and three above it


def step_nodes(c: Compiler, steps: list[Step]) -> dict[str, Node[Any]]:
    """One node per step, in step order."""
    nodes: dict[str, Node[Any]] = {}
    conditions: dict[str, tuple[Predicate | None, ...]] = {}
    for step in steps:
        main: list[str] = []
        for name, span in step.froms:
            main += resolve_name(c, step.scope, name, span)
        kind = node_kind(step.kind)
        ctx = CheckContext(
            doc=step.doc,
            path=(*step.path, step.kind),
            node_id=step.id,
            diagnostics=c.diags,
            search_dirs=_search_dirs(step.doc),
            params=step.params,
        )
        config = kind.configure(step.raw, ctx)

        def resolve(name: str, span: Any, scope: Scope = step.scope) -> list[str]:
            return resolve_name(c, scope, name, span)

        refs = kind.link(config, list(main), resolve)
        node: Node[Any] = Node(step.id, step.kind, config, main + refs, step.span, step.origin)
        if kind.nested(config) is not None:
            node.body, outer_ids = _nested_body(c, step, kind, config)
            node.inputs += [i for i in outer_ids if i not in node.inputs]
        if step.when is not None:
            node.when = _parse_when(c, step, kind.supports_when(config))
        if step.case is not None:
            node.case = _case(c, step, kind.supports_when(config), conditions)
        nodes[step.id] = node
    return nodes


def _case(
    c: Compiler,
    step: Step,
    supported: bool,
    parsed: dict[str, tuple[Predicate | None, ...]],
) -> Case | None:
    """The ``Case`` of a step made from a switch's case; the switch's conditions are
    parsed once (``parsed`` holds them by switch id) and reported once."""
    ref = step.case
    assert ref is not None
    if not supported:
        c.error(
            Diagnostic(
                step.span,
                f"a {step.kind} step cannot be a case of a switch",
                "a case handles one record at a time: generate, judge, extract, "
                "filter (expr), set, select, dedup",
            )
        )
        return None
    if ref.switch not in parsed:
        conds: list[Predicate | None] = []
        for cond in ref.conditions:
            if cond is None:
                conds.append(None)
                continue
            try:
                conds.append(parse_expression(*cond))
            except RecipeError as exc:
                c.diags.extend(exc.diagnostics)
                conds.append(None)
        parsed[ref.switch] = tuple(conds)
    return Case(ref.switch, ref.index, parsed[ref.switch])


def _parse_when(c: Compiler, step: Step, supported: bool) -> Predicate | None:
    assert step.when is not None
    text, span = step.when
    if not supported:
        c.error(
            Diagnostic(
                step.doc.spans.key((*step.path, "when")),
                f"'when' does not apply to a {step.kind} step",
                "'when' works on steps that handle one record at a time: generate, judge, "
                "extract, filter (expr), dedup",
            )
        )
        return None
    try:
        return parse_expression(text, span)
    except RecipeError as exc:
        c.diags.extend(exc.diagnostics)
        return None


def _nested_body(
    c: Compiler, step: Step, kind: NodeKind[Any], config: Any
) -> tuple[Graph | None, list[str]]:
    """Compile a step's body: its feeds, then its steps, in a scope reading the outer one.

    Returns the body's graph and the enclosing node ids it reads (inputs of the step).
    """
    spec = kind.nested(config)
    assert spec is not None
    prefix = step.id + "."
    scope = Scope(
        names={feed: prefix + feed for feed in spec.feeds},
        in_loop=True,
        reads=step.scope,
        outer_prefix=prefix,
    )
    steps: list[Step] = []
    body_path = (*step.path, step.kind, *spec.steps)
    raw_steps = step.raw
    for key in spec.steps:
        raw_steps = raw_steps[key]
    block = Block(
        step.doc, raw_steps, body_path, prefix, scope, step.params, step.origin, spec.feeds[0]
    )
    last = compile_steps(c, block, steps)
    nodes: dict[str, Node[Any]] = {
        prefix + feed: feed_node(prefix + feed, feed, step.span, step.origin) for feed in spec.feeds
    }
    nodes.update(step_nodes(c, steps))
    for outer_id, feed_id in scope.outer_refs.items():
        nodes[feed_id] = feed_node(feed_id, outer_feed(outer_id), step.span, step.origin)
    kind.bind_nested(config, dict(scope.outer_refs))
    outer_ids = list(scope.outer_refs)
    out_name = spec.output or last
    if out_name is None or out_name not in scope.names:
        c.error(
            Diagnostic(
                # At the body's 'output:' value when it names the missing step.
                step.doc.spans.value((*step.path, step.kind, *spec.output_key))
                if spec.output
                else step.span,
                f"{step.kind} '{step.id}' has no output step '{out_name}'",
                did_you_mean(str(out_name), scope.names)
                or f"the {step.kind}'s steps: "
                + ", ".join(n for n in scope.names if n not in spec.feeds),
            )
        )
        return None, outer_ids
    return order(c, nodes, scope.names[out_name], prefix + spec.feeds[0]), outer_ids


def _search_dirs(doc: Document) -> list[Path]:
    """Where a step's prompt templates are looked for."""
    base = doc.folder
    dirs = [base]
    d = base.resolve()
    for _ in range(_SEARCH_LEVELS):
        if d.parent == d:
            break
        d = d.parent
        dirs.append(d)
    dirs.append(Path.cwd())
    if doc.boundary is not None:  # a pack's recipe finds templates in its pack only
        dirs = [d for d in dirs if doc.boundary.allows(d)]
    out: list[Path] = []
    for x in dirs:
        if x.resolve() not in [o.resolve() for o in out]:
            out.append(x)
    return out


def order(
    c: Compiler, nodes: dict[str, Node[Any]], out_id: str, feed_id: str | None
) -> Graph | None:
    """The graph of what leads to ``out_id``, in topological order (None: a cycle)."""
    if out_id not in nodes:
        return None
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node in nodes.values():
        sorter.add(node.id, *[i for i in node.inputs if i in nodes])
    try:
        ordered_ids = list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1])
        first = nodes.get(cycle[0])
        c.error(
            Diagnostic(
                first.span if first else None,
                "steps form a cycle: " + " -> ".join(reversed(cycle)),
                "a step can only read from steps that do not depend on it",
            )
        )
        return None
    needed = set(Graph(nodes, out_id).upstream(out_id).nodes)
    for nid in ordered_ids:
        node = nodes[nid]
        if nid not in needed and node.inputs:  # sources and feeds have no inputs
            c.warning(
                Diagnostic(
                    node.span,
                    f"step '{nid}' does not lead to the output; it will not run",
                    severity="warning",
                )
            )
    if feed_id is not None:
        needed.add(feed_id)  # a body's round input runs even when unread
    return Graph({nid: nodes[nid] for nid in ordered_ids if nid in needed}, out_id)
