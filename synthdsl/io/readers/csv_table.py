"""CSV with a header row: one row per record, streamed through ``csv.DictReader``.

Input: a ``.csv`` file (UTF-8, an optional BOM) and the ``ReadContext`` of the reader
driving it. Output: each record as a ``dict`` of strings keyed by the header, lazily;
``csv_header`` gives the header alone (for ``peek_fields``). The field size limit is
raised once so that documents in cells fit.

Raises: a malformed record, a record with more fields than the header, or bytes that
are not UTF-8 (the rest of the file is then unreadable) go to ``ctx.problem``, which
raises ``SourceError`` or records them; ``csv_header`` raises ``SourceError`` when the
header cannot be read. ``OSError`` from ``read_csv`` passes through.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext, SourceError

__all__ = ["csv_header", "read_csv"]


def _raise_field_limit() -> None:
    # Documents in CSV cells easily pass the default 128 KiB field limit.
    limit = min(sys.maxsize, 2**31 - 1)
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def read_csv(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """The records of ``file`` as dicts keyed by its header."""
    _raise_field_limit()
    with file.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                ctx.problem(file, reader.line_num, f"malformed CSV: {exc}")
                continue
            except UnicodeDecodeError as exc:
                # The decoder's position is lost: the rest of the file is unreadable.
                ctx.problem(file, reader.line_num + 1, f"not UTF-8: {exc}")
                return
            if None in row:
                extra = row.pop(None)
                width = len(reader.fieldnames or ())
                ctx.problem(
                    file,
                    reader.line_num,
                    f"row has {width + len(extra)} fields, the header has {width}",
                )
                continue
            yield dict(row)


def csv_header(file: Path) -> list[str]:
    """The field names of ``file``'s header row."""
    _raise_field_limit()
    try:
        with file.open("r", encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh).fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"{file}: cannot read the CSV header: {exc}") from exc
