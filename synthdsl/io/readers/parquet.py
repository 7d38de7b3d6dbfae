"""Parquet: rows read batch by batch with pyarrow, imported on first use.

Input: a ``.parquet``/``.pq`` file and the ``ReadContext`` of the reader driving it.
Output: each row as a ``dict``, lazily (batches of at most 1024 rows, smaller when the
reader wants fewer rows); ``parquet_fields`` gives the column names from the schema
without reading data (for ``peek_fields``).

Raises ``SourceError``: pyarrow not installed ("install synthdsl[parquet]"), a file
that is not Parquet, and (``parquet_fields``) a file that cannot be opened. ``OSError``
from ``read_parquet`` passes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext, SourceError

__all__ = ["parquet_fields", "read_parquet"]

_BATCH = 1024


def _import_pyarrow_parquet() -> Any:
    try:
        # Imported here: pyarrow is heavy and optional; only Parquet sources need it.
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SourceError("reading Parquet needs pyarrow: install synthdsl[parquet]") from exc
    return pq


def read_parquet(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """The rows of ``file``, one batch in memory at a time."""
    pq = _import_pyarrow_parquet()
    try:
        pf = pq.ParquetFile(str(file))
    except ValueError as exc:  # pyarrow's ArrowInvalid: not a Parquet file
        raise SourceError(f"{file}: not a readable Parquet file: {exc}") from exc
    try:
        remaining = ctx.remaining()
        size = _BATCH if remaining is None else max(1, min(_BATCH, remaining))
        for batch in pf.iter_batches(batch_size=size):
            yield from batch.to_pylist()
    finally:
        pf.close()


def parquet_fields(file: Path) -> list[str]:
    """The column names of ``file``, from its schema (no data read)."""
    pq = _import_pyarrow_parquet()
    try:
        schema = pq.read_schema(str(file))
    except OSError as exc:
        raise SourceError(f"{file}: cannot read: {exc}") from exc
    except ValueError as exc:  # pyarrow's ArrowInvalid
        raise SourceError(f"{file}: not a readable Parquet file: {exc}") from exc
    return list(schema.names)
