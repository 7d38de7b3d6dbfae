"""Names a step can read: scopes of recipes, used recipes and loop bodies.

Input: the names a recipe declares (sources, steps), the input ports of a used recipe
(bound to names in the scope that used it), and loop bodies (which read the enclosing
recipe's names as whole pools). Output: ``resolve_name(c, scope, name, span)`` → the
node ids a name stands for, and ``qualify_alias(scope, alias)`` → the model alias a
name stands for (a used recipe's models are its own, like its steps). An unknown name
is a diagnostic with a did-you-mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synthdsl.compile.state import Compiler
from synthdsl.errors import Diagnostic, Span, did_you_mean

__all__ = ["Scope", "qualify_alias", "resolve_name"]

_MAX_DEPTH = 50  # port chains longer than this are cut (a used recipe cannot use itself)


@dataclass
class Scope:
    """Names visible to the steps of one recipe: local name -> node id.

    ``ports`` are a used recipe's input sources: each resolves to the names it is
    bound to, looked up in ``parent`` (the scope of the step that used the recipe).
    A body (a loop's round) ``reads`` names of the enclosing scope as whole pools: each
    outer id it reads gets a feed node ``outer_prefix + name`` (``outer_refs``).
    """

    names: dict[str, str]
    parent: Scope | None = None
    ports: dict[str, list[tuple[str, Span]]] = field(default_factory=dict)
    in_loop: bool = False  # a loop body (or a strategy used inside one)
    reads: Scope | None = None
    outer_prefix: str = ""
    outer_refs: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # a used recipe's own models


def qualify_alias(scope: Scope | None, name: str) -> str:
    """The model alias ``name`` means in ``scope``: a used recipe's own alias (under its
    step's prefix, ``qa.gen``), else what it means where the recipe is used, up to the
    top recipe, whose aliases are the run's."""
    while scope is not None:
        if name in scope.aliases:
            return scope.aliases[name]
        scope = scope.parent if scope.parent is not None else scope.reads
    return name


def resolve_name(c: Compiler, scope: Scope, name: str, span: Span, depth: int = 0) -> list[str]:
    """The node ids ``name`` stands for in ``scope`` (a port may stand for several)."""
    if name in scope.ports:
        out: list[str] = []
        if scope.parent is not None and depth < _MAX_DEPTH:
            for rname, rspan in scope.ports[name]:
                out += resolve_name(c, scope.parent, rname, rspan, depth + 1)
        return out
    target = scope.names.get(name)
    if target is None and scope.reads is not None and _visible(scope.reads, name):
        outer_ids = resolve_name(c, scope.reads, name, span, depth + 1)
        out = []
        for outer_id in outer_ids:
            # one feed per outer node: a name bound to several nodes gets one for each
            feed_id = f"{scope.outer_prefix}{name}"
            if len(outer_ids) > 1:
                feed_id += f"@{outer_id}"
            out.append(scope.outer_refs.setdefault(outer_id, feed_id))
        return out
    if target is None:
        known = [*scope.names, *scope.ports]
        reads = scope.reads
        while reads is not None:
            known += [*reads.names, *reads.ports]
            reads = reads.reads
        known = [k for k in known if "." not in k]  # a switch's case names are internal
        c.error(Diagnostic(span, f"unknown source or step '{name}'", did_you_mean(name, known)))
        return []
    return [target]


def _visible(scope: Scope, name: str) -> bool:
    """Whether ``name`` resolves in ``scope`` or a scope it reads from."""
    while True:
        if name in scope.names or name in scope.ports:
            return True
        if scope.reads is None:
            return False
        scope = scope.reads
