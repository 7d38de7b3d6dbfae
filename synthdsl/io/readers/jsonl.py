"""JSON lines: one row per line, streamed.

Input: a ``.jsonl``/``.ndjson`` file and the ``ReadContext`` of the reader driving it.
Output: each line's JSON object as a ``dict``, lazily (the file is read line by line;
blank lines and a leading UTF-8 BOM are skipped).

Raises nothing itself: a line that is not UTF-8, not JSON, or not a JSON object is
reported through ``ctx.problem`` (``file:line`` and the reason), which raises
``SourceError`` or records the line and moves on. ``OSError`` passes through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext, strip_bom

__all__ = ["read_jsonl"]


def read_jsonl(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """The JSON objects of ``file``, one per non-blank line."""
    with file.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1:
                raw = strip_bom(raw)
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                ctx.problem(file, number, f"not UTF-8: {exc}")
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                ctx.problem(file, number, f"invalid JSON: {exc}")
                continue
            if not isinstance(value, dict):
                ctx.problem(file, number, f"expected a JSON object, got {type(value).__name__}")
                continue
            yield value
