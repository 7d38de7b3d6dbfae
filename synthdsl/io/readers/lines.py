"""Line files (format ``lines``): one row per non-empty line, streamed.

Input: any text file (UTF-8, an optional BOM) and the ``ReadContext`` of the reader
driving it. Output: ``{text_field: stripped line, "path": relative path, "line":
number}`` for every line that is not blank, lazily; ``FIELDS`` names the fields
besides the text field.

Raises nothing itself: a line that is not UTF-8 is reported through ``ctx.problem``
(raises ``SourceError`` or skips the line). ``OSError`` passes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext, strip_bom

__all__ = ["FIELDS", "read_lines"]

FIELDS = ("path", "line")


def read_lines(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """One row per non-empty line of ``file``."""
    with file.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1:
                raw = strip_bom(raw)
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                ctx.problem(file, number, f"not UTF-8 text: {exc}")
                continue
            if line:
                yield {ctx.text_field: line, "path": ctx.rel(file), "line": number}
