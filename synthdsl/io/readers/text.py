"""Text and Markdown files: the whole file is one row.

Input: a ``.txt``/``.md``/``.markdown`` file (UTF-8, an optional BOM) and the
``ReadContext`` of the reader driving it. Output: one row ``{text_field: content,
"path": relative path}``; ``FIELDS`` names the fields besides the text field.

Raises nothing itself: a file that is not UTF-8 is reported through ``ctx.problem``
(raises ``SourceError`` or skips the file). ``OSError`` passes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext, read_utf8

__all__ = ["FIELDS", "read_text"]

FIELDS = ("path",)


def read_text(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """``file`` as one row."""
    content = read_utf8(file, ctx)
    if content is None:
        return
    yield {ctx.text_field: content, "path": ctx.rel(file)}
