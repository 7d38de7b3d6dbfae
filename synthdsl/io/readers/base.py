"""What every source reader shares: the format names, the error, the per-file context.

Input: a format name or a file path. Output: ``FORMATS`` (the names a source may ask
for), ``detect_format`` (the format of a path from its extension), ``check_fmt``,
``strip_bom``, ``read_utf8`` (a whole file as text) and ``ReadContext``, the little a
format reader needs from the ``SourceReader`` driving it (the text field, the row's
relative path, how many rows are still wanted, and where to report a bad line).

Raises ``SourceError`` (a ``RunError``, the one error of every reader) from
``check_fmt`` for an unknown format name; ``read_utf8`` reports undecodable bytes
through ``ReadContext.problem`` and lets ``OSError`` pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from synthdsl.errors import RunError

__all__ = [
    "FORMATS",
    "OnError",
    "ReadContext",
    "SourceError",
    "check_fmt",
    "detect_format",
    "read_utf8",
    "strip_bom",
]

FORMATS = (
    "auto",
    "jsonl",
    "json",
    "csv",
    "parquet",
    "arrow",
    "text",
    "lines",
    "html",
    "pdf",
    "yaml",
)
_EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".json": "json",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".yaml": "yaml",
    ".yml": "yaml",
}
_UTF8_BOM = b"\xef\xbb\xbf"
OnError = Literal["raise", "skip"]


class SourceError(RunError):
    """A source could not be read."""


def detect_format(path: Path) -> str | None:
    """The format of ``path`` from its extension, or None when it is not known."""
    return _EXTENSIONS.get(path.suffix.lower())


def check_fmt(fmt: str) -> None:
    """Raise SourceError unless ``fmt`` is one of ``FORMATS``."""
    if fmt not in FORMATS:
        raise SourceError(f"unknown source format {fmt!r}; expected one of {', '.join(FORMATS)}")


def strip_bom(data: bytes) -> bytes:
    """``data`` without a leading UTF-8 byte order mark."""
    return data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data


class ReadContext(Protocol):
    """What a format reader asks of the reader driving it (``SourceReader``)."""

    @property
    def text_field(self) -> str:
        """The field a document's text goes to."""
        ...

    def rel(self, file: Path) -> str:
        """The ``path`` field of a row read from ``file``."""
        ...

    def remaining(self) -> int | None:
        """How many more rows are wanted, or None for no limit."""
        ...

    def problem(self, file: Path, line: int, message: str) -> None:
        """Report a bad line (0: the whole file): raises SourceError, or records it."""
        ...


def read_utf8(file: Path, ctx: ReadContext) -> str | None:
    """The whole of ``file`` as UTF-8 text (without a BOM), or None after reporting a
    file that is not UTF-8 to ``ctx.problem``."""
    data = strip_bom(file.read_bytes())
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.problem(file, 0, f"not UTF-8 text: {exc}")
        return None
