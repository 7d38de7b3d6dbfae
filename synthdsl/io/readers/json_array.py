"""JSON files: a top-level array of objects (the file loaded whole), or JSON Lines.

Input: a ``.json`` file and the ``ReadContext`` of the reader driving it. Output: one
row per object of the array (or of the one list an object holds under a single key,
``{"data": [...]}``, as exported by many tools), in order. A ``.json`` file that holds
one object per line is read as JSON Lines: both shapes are common under that
extension, and ``validate`` and ``run`` read them the same way.

Raises nothing itself: a file that is not UTF-8 or not JSON, a top level that is not a
list of objects, and an item that is not an object are reported through
``ctx.problem`` (raises ``SourceError``, or skips the file or item). ``OSError`` passes
through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext, read_utf8
from synthdsl.io.readers.jsonl import read_jsonl

__all__ = ["read_json"]


def read_json(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """The objects of the array in ``file`` (or its lines, for JSON Lines)."""
    text = read_utf8(file, ctx)
    if text is None:
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # one JSON value per line: JSON Lines
            yield from read_jsonl(file, ctx)
            return
        ctx.problem(file, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return
    items = _items(value)
    if items is None:
        ctx.problem(
            file, 1, "expected a JSON array of objects (or an object holding one such array)"
        )
        return
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            ctx.problem(file, 0, f"item {number} is not a JSON object")
            continue
        yield {str(k): v for k, v in item.items()}


def _items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(next(iter(value.values())), list):
            return list(next(iter(value.values())))
        return [value]  # one object: one row
    return None
