"""The filter-expression AST: immutable nodes with their position in the expression text.

Input: built by ``parser.py`` from the lark parse tree. Output: frozen dataclasses that
``evaluate.py`` compiles into closures and ``Expression`` walks to list field reads.
Raises nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = [
    "Attr",
    "BinOp",
    "BoolOp",
    "Call",
    "Compare",
    "Field",
    "Index",
    "ListLit",
    "Literal",
    "Node",
    "Not",
    "Pos",
    "Unary",
    "children",
    "walk",
]


@dataclass(frozen=True)
class Pos:
    """Where a node sits in the expression text: 1-based line/col, 0-based offsets."""

    line: int
    col: int
    start: int
    end: int


@dataclass(frozen=True)
class Literal:
    """A constant: int, float, str, bool or None (lists are ``ListLit``)."""

    value: Any
    pos: Pos


@dataclass(frozen=True)
class ListLit:
    """``[a, b, ...]``."""

    items: tuple[Node, ...]
    pos: Pos


@dataclass(frozen=True)
class Field:
    """A bare identifier: a top-level field of the record."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class Attr:
    """``obj.name``: a key of a mapping."""

    obj: Node
    name: str
    pos: Pos


@dataclass(frozen=True)
class Index:
    """``obj[index]``: a list position or a mapping key."""

    obj: Node
    index: Node
    pos: Pos


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``+x``."""

    op: str
    operand: Node
    pos: Pos


@dataclass(frozen=True)
class Not:
    """``not x``."""

    operand: Node
    pos: Pos


@dataclass(frozen=True)
class BinOp:
    """Arithmetic: ``+ - * / %``."""

    op: str
    left: Node
    right: Node
    pos: Pos


@dataclass(frozen=True)
class BoolOp:
    """``and`` / ``or`` (short-circuit)."""

    op: str
    left: Node
    right: Node
    pos: Pos


@dataclass(frozen=True)
class Compare:
    """A comparison chain ``a < b <= c``: ``ops[i]`` sits between operand i and i+1."""

    operands: tuple[Node, ...]
    ops: tuple[str, ...]
    pos: Pos


@dataclass(frozen=True)
class Call:
    """``name(args...)`` of a whitelisted function; ``name_pos`` is the name token."""

    name: str
    args: tuple[Node, ...]
    pos: Pos
    name_pos: Pos


Node: TypeAlias = (
    Literal | ListLit | Field | Attr | Index | Unary | Not | BinOp | BoolOp | Compare | Call
)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node``, in source order."""
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, Attr):
        return (node.obj,)
    if isinstance(node, Index):
        return (node.obj, node.index)
    if isinstance(node, (Unary, Not)):
        return (node.operand,)
    if isinstance(node, (BinOp, BoolOp)):
        return (node.left, node.right)
    if isinstance(node, Compare):
        return node.operands
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children, in source order (no recursion)."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))
