"""A dry run: the prompts a run would send first, rendered without sending any.

Input: a compiled recipe and a count ``n``. Output: ``render_prompts(compiled, n)``,
for every node that calls a model (``NodeKind.prompt``), loop bodies included, the
messages of its first ``n`` records, rendered from the first ``n`` rows of the source
its records start from. A field that a step between the source and the node would
write (an upstream model's answer, an extracted list, a ``set:`` value) has no value
before the run: it is filled with a visible placeholder, ``⟨step.field⟩``, and listed
in ``placeholders``. Rows are not filtered (``when:``, ``filter:``) and loops show their
first round's input. Nothing is called and nothing is written.

Raises ``RunError`` when a source cannot be read; a prompt that does not render is
reported in its ``DryPrompt.error`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from synthdsl.ir import CompiledRecipe, Graph, Node, SourceDecl
from synthdsl.nodes import node_kind
from synthdsl.nodes.pool import ROUND_FEEDS
from synthdsl.nodes.prompting import render_messages
from synthdsl.nodes.source import source_rows

__all__ = ["DryPrompt", "NodePrompts", "Placeholder", "placeholder", "render_prompts"]


class Placeholder(str):
    """The text ``⟨step.field⟩`` standing for a value a step would write. A template may
    treat it as the record or list the value will be: an attribute or key of it is a
    placeholder too (``⟨step.field.name⟩``), and a loop over it sees one item, itself."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Placeholder:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._within(name)

    def __getitem__(self, key: Any) -> Placeholder:
        return self._within(key) if isinstance(key, str) else self

    def __iter__(self) -> Iterator[Placeholder]:
        yield self

    def _within(self, name: str) -> Placeholder:
        return Placeholder(f"{str.__str__(self)[:-1]}.{name}⟩")


def placeholder(step: str, name: str) -> Placeholder:
    """What stands for field ``name`` that step ``step`` would write."""
    return Placeholder(f"⟨{step}.{name}⟩")


@dataclass(frozen=True)
class DryPrompt:
    """One record's rendered messages (or the error that stopped the render)."""

    source: str | None  # the source the row comes from (None: no source reached)
    row: int
    messages: tuple[dict[str, str], ...]
    error: str | None = None


@dataclass
class NodePrompts:
    node: str
    kind: str
    model: str  # the alias's (first) model string
    placeholders: list[str] = field(default_factory=list)  # ⟨step.field⟩, sorted
    prompts: list[DryPrompt] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "kind": self.kind,
            "model": self.model,
            "placeholders": self.placeholders,
            "prompts": [
                {"source": p.source, "row": p.row, "messages": list(p.messages), "error": p.error}
                for p in self.prompts
            ],
        }


@dataclass(frozen=True)
class _Scope:
    """A graph and, for a loop body, the loop around it and the scope of that loop."""

    graph: Graph
    loop: Node[Any] | None = None
    outer: _Scope | None = None


def render_prompts(compiled: CompiledRecipe, n: int) -> list[NodePrompts]:
    """The first ``n`` prompts of every node that calls a model, in graph order."""
    out: list[NodePrompts] = []
    rows: dict[str, list[dict[str, Any]]] = {}
    for scope, node in _walk(_Scope(compiled.graph)):
        cfg = node_kind(node.kind).prompt(node.config)
        if cfg is None:
            continue
        decl = compiled.models.get(cfg.model or "default")
        model = decl.entries[0].model if decl is not None and decl.entries else "?"
        start, filled = _start(scope, node)
        source = start.id if start is not None else None
        if start is not None and start.id not in rows:
            rows[start.id] = [dict(r) for r in source_rows(start.config, n)]
        marks = sorted({str(p) for p in filled.values()})
        result = NodePrompts(node.id, node.kind, model, placeholders=marks)
        for i, row in enumerate(rows[start.id] if start is not None else [{}]):
            data = {**row, **filled}
            messages, fail = render_messages(cfg, data)
            error = None if fail is None else fail.message
            result.prompts.append(DryPrompt(source, i, messages, error))
        out.append(result)
    return out


def _walk(scope: _Scope) -> list[tuple[_Scope, Node[Any]]]:
    out: list[tuple[_Scope, Node[Any]]] = []
    for node in scope.graph.nodes.values():
        out.append((scope, node))
        if node.body is not None:
            out += _walk(_Scope(node.body, node, scope))
    return out


def _start(
    scope: _Scope, node: Node[Any]
) -> tuple[Node[SourceDecl] | None, dict[str, Placeholder]]:
    """The source node the records of ``node`` start from (following first inputs),
    and a placeholder for every field a step on the way writes."""
    read = {name for name, _span in node_kind(node.kind).read_fields(node.config)}
    for tmpl in node_kind(node.kind).templates(node.config):
        read |= set(tmpl.variables())
    filled: dict[str, Placeholder] = {}
    for name in sorted(read - {"params"}):
        origin = _origin(scope, node.inputs, name)
        if origin is not None and origin[1] is not None:
            filled[name] = placeholder(origin[1], name)
    return _first_source(scope, node.inputs), filled


def _origin(scope: _Scope, inputs: list[str], name: str) -> tuple[str, str | None] | None:
    """Where field ``name`` arriving through ``inputs`` comes from: (source id, None)
    when a source row has it, (node id, step id) when a step writes it, None when
    unknown."""
    for nid in inputs:
        node = scope.graph.nodes.get(nid)
        if node is None or (name not in node.fields and "*" not in node.fields):
            continue
        kind = node_kind(node.kind)
        if isinstance(node.config, SourceDecl):
            return nid, None
        feed = kind.feed(node.config)
        if feed is not None:
            if scope.outer is None or scope.loop is None:
                return None
            upstream = scope.loop.inputs if feed in ROUND_FEEDS else [feed.split(":", 1)[1]]
            return _origin(scope.outer, upstream, name)
        if name in kind.output_fields(node.config, []):
            return nid, nid
        found = _origin(scope, node.inputs, name)
        if found is not None:
            return found
    return None


def _first_source(scope: _Scope, inputs: list[str]) -> Node[SourceDecl] | None:
    for nid in inputs[:1]:
        node = scope.graph.nodes.get(nid)
        if node is None:
            return None
        if isinstance(node.config, SourceDecl):
            return node
        kind = node_kind(node.kind)
        feed = kind.feed(node.config)
        if feed is not None:
            if scope.outer is None or scope.loop is None:
                return None
            upstream = scope.loop.inputs if feed in ROUND_FEEDS else [feed.split(":", 1)[1]]
            return _first_source(scope.outer, upstream)
        return _first_source(scope, node.inputs)
    return None
