"""The reader of a source: picks each file's format reader and drives it.

Input: a source path (a file, a folder, or a folder ``datasets`` saved with
``save_to_disk``: its Arrow shards, of one ``split`` for a ``DatasetDict``), a format
(``auto``: from each file's extension, see ``detect_format``; otherwise forced for
every file read), the field document text goes to, a row limit, a glob, and what to
do with bad lines. Output: ``SourceReader`` (an iterable of ``dict`` rows, re-readable,
with the problems it skipped), ``read_source`` (its rows as an iterator), ``peek_fields``
(the field names of the first rows, cheaply, for compile-time template checks) and
``has_rows`` (whether it yields a row at all, for ``validate``).

Raises ``SourceError`` (a ``RunError``): missing path, unknown format (or an extension
that names none), a split missing or unknown (or asked of a plain folder), a bad limit
or ``on_error``, a file that cannot be opened, and whatever the format readers report.
With ``on_error="skip"`` bad lines, rows, list items and whole unreadable documents are
skipped and recorded in ``SourceReader.problems`` instead (missing files and a missing
pyarrow or pypdf still raise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.arrow_file import arrow_fields, read_arrow
from synthdsl.io.readers.base import OnError, ReadContext, SourceError, check_fmt, detect_format
from synthdsl.io.readers.csv_table import csv_header, read_csv
from synthdsl.io.readers.files import source_files
from synthdsl.io.readers.hf_disk import disk_kind, disk_shards
from synthdsl.io.readers.html_page import FIELDS as HTML_FIELDS
from synthdsl.io.readers.html_page import read_html
from synthdsl.io.readers.json_array import read_json
from synthdsl.io.readers.jsonl import read_jsonl
from synthdsl.io.readers.lines import FIELDS as LINES_FIELDS
from synthdsl.io.readers.lines import read_lines
from synthdsl.io.readers.parquet import parquet_fields, read_parquet
from synthdsl.io.readers.pdf import FIELDS as PDF_FIELDS
from synthdsl.io.readers.pdf import read_pdf
from synthdsl.io.readers.text import FIELDS as TEXT_FIELDS
from synthdsl.io.readers.text import read_text
from synthdsl.io.readers.yaml_list import read_yaml

__all__ = ["SourceReader", "has_rows", "peek_fields", "read_source"]

FormatReader = Callable[[Path, ReadContext], Iterator[dict[str, Any]]]

_READERS: dict[str, FormatReader] = {
    "jsonl": read_jsonl,
    "json": read_json,
    "csv": read_csv,
    "parquet": read_parquet,
    "arrow": read_arrow,
    "text": read_text,
    "lines": read_lines,
    "html": read_html,
    "pdf": read_pdf,
    "yaml": read_yaml,
}
# The fields of a document row besides its text field, by format.
_DOCUMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "text": TEXT_FIELDS,
    "lines": LINES_FIELDS,
    "html": HTML_FIELDS,
    "pdf": PDF_FIELDS,
}


class SourceReader:
    """An iterable over a source's rows; bad lines are reported or skipped.

    ``problems`` lists ``(line, message)`` for every line or row skipped with
    ``on_error="skip"`` (line 0 for a whole-file problem); messages start with
    ``file:line:``. Each ``iter()`` reads the source again from the start and clears
    ``problems``; ``rows_read`` counts the rows yielded by the last iteration.
    """

    def __init__(
        self,
        path: Path,
        *,
        fmt: str = "auto",
        text_field: str = "text",
        limit: int | None = None,
        glob: str | None = None,
        on_error: OnError = "raise",
        split: str | None = None,
    ) -> None:
        check_fmt(fmt)
        if limit is not None and limit < 0:
            raise SourceError(f"{path}: limit must be >= 0, got {limit}")
        if on_error not in ("raise", "skip"):
            raise SourceError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.path = Path(path)
        self.fmt = fmt
        self.text_field = text_field
        self.limit = limit
        self.glob = glob
        self.split = split
        self.on_error: OnError = on_error
        self.problems: list[tuple[int, str]] = []
        self.rows_read = 0

    def files(self) -> list[Path]:
        """The files read, in order: a ``save_to_disk`` folder's Arrow shards (of
        ``split``, for a ``DatasetDict``), else the files ``source_files`` walks to."""
        if disk_kind(self.path) is not None:
            return disk_shards(self.path, self.split)
        if self.split is not None:
            raise SourceError(
                f"{self.path}: split: {self.split} needs a folder saved by datasets "
                "(save_to_disk) or an hf: source"
            )
        return source_files(self.path, fmt=self.fmt, glob=self.glob)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.problems = []
        self.rows_read = 0
        if self.limit == 0:
            return
        for file in self.files():
            for row in self.read_file(file):
                yield row
                self.rows_read += 1
                if self.limit is not None and self.rows_read >= self.limit:
                    return

    def file_format(self, file: Path) -> str:
        """The format ``file`` is read as: the forced one, else from its extension."""
        if self.fmt != "auto":
            return self.fmt
        found = detect_format(file)
        if found is None:
            raise SourceError(
                f"{file}: cannot tell the format from the extension {file.suffix!r}; "
                "set the source format (jsonl, json, csv, parquet, arrow, text, html, pdf or yaml)"
            )
        return found

    def read_file(self, file: Path) -> Iterator[dict[str, Any]]:
        """The rows of one file (no limit applied)."""
        read = _READERS[self.file_format(file)]
        try:
            yield from read(file, self)
        except FileNotFoundError as exc:
            raise SourceError(f"{file}: no such file") from exc
        except OSError as exc:
            raise SourceError(f"{file}: cannot read: {exc}") from exc

    # -- ReadContext: what the format readers ask of this reader ------------------------

    def rel(self, file: Path) -> str:
        """The ``path`` field of a row read from ``file``: relative to the folder read,
        or the file name."""
        if self.path.is_dir():
            return file.relative_to(self.path).as_posix()
        return file.name

    def remaining(self) -> int | None:
        """How many more rows the limit allows, or None without a limit."""
        return None if self.limit is None else self.limit - self.rows_read

    def problem(self, file: Path, line: int, message: str) -> None:
        """Raise SourceError for a bad line (0: the whole file), or record it when
        skipping."""
        text = f"{file}:{line}: {message}" if line else f"{file}: {message}"
        if self.on_error == "raise":
            raise SourceError(text)
        self.problems.append((line, text))


def read_source(
    path: Path,
    *,
    fmt: str = "auto",
    text_field: str = "text",
    limit: int | None = None,
    glob: str | None = None,
    on_error: OnError = "raise",
    split: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The rows of a source, lazily; see ``SourceReader`` (for skipped-line reports).

    A missing path raises SourceError here, before the first row is asked for.
    """
    if not Path(path).exists():
        raise SourceError(f"{path}: no such file or folder")
    return iter(
        SourceReader(
            path,
            fmt=fmt,
            text_field=text_field,
            limit=limit,
            glob=glob,
            on_error=on_error,
            split=split,
        )
    )


def peek_fields(
    path: Path,
    fmt: str = "auto",
    text_field: str = "text",
    sample: int = 20,
    *,
    glob: str | None = None,
    split: str | None = None,
) -> list[str]:
    """Field names in the first ``sample`` rows, in order of first appearance.

    Cheap: CSV fields come from the header, Parquet fields from the schema (no data
    read; Arrow fields likewise), document files are not opened (text gives
    ``[text_field, "path"]``, HTML adds ``"title"``, PDF ``"title"`` and ``"pages"``),
    JSONL and YAML read the first rows (bad lines and items are skipped here). Raises
    SourceError when the source is missing.
    """
    reader = SourceReader(
        path, fmt=fmt, text_field=text_field, glob=glob, on_error="skip", split=split
    )
    seen: dict[str, None] = {}
    budget = max(sample, 1)
    for file in reader.files():
        if budget <= 0:
            break
        kind = reader.file_format(file)
        if kind in _DOCUMENT_FIELDS:
            seen.update(dict.fromkeys([text_field, *_DOCUMENT_FIELDS[kind]]))
            budget -= 1
        elif kind == "csv":
            seen.update(dict.fromkeys(csv_header(file)))
            budget -= sample
        elif kind == "parquet":
            seen.update(dict.fromkeys(parquet_fields(file)))
            budget -= sample
        elif kind == "arrow":
            seen.update(dict.fromkeys(arrow_fields(file)))
            budget -= sample
        else:
            for count, row in enumerate(reader.read_file(file), start=1):
                seen.update(dict.fromkeys(row))
                budget -= 1
                if budget <= 0 or count >= sample:
                    break
    return list(seen)


def has_rows(
    path: Path,
    fmt: str = "auto",
    *,
    glob: str | None = None,
    split: str | None = None,
) -> bool:
    """Whether the source yields a row: document formats yield one per file (no file
    opened), the others are read up to their first row, as the run reads them. Raises
    ``SourceError`` when that first read fails (a corrupt file, a missing library), so
    ``validate`` refuses what the run could not read."""
    reader = SourceReader(path, fmt=fmt, glob=glob, split=split, limit=1)
    files = reader.files()
    if any(reader.file_format(f) in _DOCUMENT_FIELDS for f in files):
        return True
    return next(iter(reader), None) is not None
