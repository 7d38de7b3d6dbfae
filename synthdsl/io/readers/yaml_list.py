"""YAML lists: one row per mapping of a list, the file loaded whole.

Input: a ``.yaml``/``.yml`` file holding a list of mappings (or a mapping with one key
holding such a list) and the ``ReadContext`` of the reader driving it. Output: one row
per mapping (keys as strings), in order. Timestamps stay strings; duplicate keys are
errors.

Raises nothing itself: a file that is not UTF-8, has a syntax error, or is not a list
of mappings, and an item that is not a mapping or has a duplicate key, are reported
through ``ctx.problem`` with their line (raises ``SourceError``, or skips the file or
item). ``OSError`` passes through.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import yaml

from synthdsl.io.readers.base import ReadContext, read_utf8

__all__ = ["read_yaml"]


def read_yaml(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """The mappings of the list in ``file``."""
    text = read_utf8(file, ctx)
    if text is None:
        return
    loader = _RowLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            ctx.problem(file, _yaml_line(exc), f"invalid YAML: {_yaml_message(exc)}")
            return
        items = _yaml_items(root)
        if isinstance(items, str):
            line = root.start_mark.line + 1 if root is not None else 0
            ctx.problem(file, line, items)
            return
        for number, item in enumerate(items, start=1):
            line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                kind = _YAML_NODE_NAMES.get(type(item).__name__, "value")
                ctx.problem(file, line, f"item {number} is a {kind}, expected a mapping")
                continue
            try:
                value = loader.construct_object(item, deep=True)
            except yaml.YAMLError as exc:
                ctx.problem(file, _yaml_line(exc) or line, _yaml_message(exc))
                continue
            yield {str(k): v for k, v in value.items()}
    finally:
        loader.dispose()


class _RowLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and keeps timestamps as strings."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _timestamp_as_text(loader: _RowLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_RowLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)

_YAML_NODE_NAMES = {"ScalarNode": "scalar", "SequenceNode": "list", "MappingNode": "mapping"}


def _yaml_items(root: Any) -> list[Any] | str:
    """The item nodes of a YAML list file, or a message saying why it is not one."""
    if root is None:
        return "empty YAML file; expected a list of mappings"
    if isinstance(root, yaml.SequenceNode):
        items: list[Any] = root.value
        return items
    if isinstance(root, yaml.MappingNode):
        if len(root.value) == 1 and isinstance(root.value[0][1], yaml.SequenceNode):
            inner: list[Any] = root.value[0][1].value
            return inner
        keys = len(root.value)
        return (
            f"expected a list of mappings, or a mapping with one key holding such a list; "
            f"got a mapping with {keys} key{'s' if keys != 1 else ''}"
        )
    kind = _YAML_NODE_NAMES.get(type(root).__name__, "value")
    return f"expected a list of mappings, got a {kind}"


def _yaml_line(exc: Exception) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


def _yaml_message(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        return f"{context} {problem}".strip() if context else str(problem)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
