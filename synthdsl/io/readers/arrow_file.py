"""Arrow IPC files: the shards ``datasets`` writes, read batch by batch with pyarrow.

Input: an ``.arrow`` file and the ``ReadContext`` of the reader driving it. Both Arrow
IPC layouts are read: the streaming format (what ``datasets`` writes for
``save_to_disk`` folders and its cache files) and the file format (random access, what
``pyarrow.ipc.new_file`` and Feather v2 write). Output: each row as a ``dict``, lazily
(one record batch in memory at a time); ``arrow_fields`` gives the column names from
the schema without reading data (for ``peek_fields``).

Raises ``SourceError``: pyarrow not installed, a file that is neither IPC layout.
``OSError`` passes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import ReadContext, SourceError

__all__ = ["arrow_fields", "read_arrow"]


def _import_pyarrow() -> Any:
    try:
        # Imported here: pyarrow is heavy and optional; only Arrow sources need it.
        import pyarrow as pa
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SourceError('reading Arrow files needs pyarrow: pip install "synthdsl[hf]"') from exc
    return pa


@contextmanager
def _open(file: Path) -> Iterator[tuple[Any, Iterator[Any]]]:
    """The file's schema and an iterator over its record batches."""
    pa = _import_pyarrow()
    source = pa.memory_map(str(file), "r")
    try:
        try:
            stream = pa.ipc.open_stream(source)
            schema, batches = stream.schema, iter(stream)
        except pa.ArrowInvalid:
            source.seek(0)
            try:
                reader = pa.ipc.open_file(source)
            except pa.ArrowInvalid as exc:
                raise SourceError(
                    f"{file}: not an Arrow IPC file (stream or file format): {exc}"
                ) from exc
            schema = reader.schema
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        yield schema, batches
    finally:
        source.close()


def read_arrow(file: Path, ctx: ReadContext) -> Iterator[dict[str, Any]]:
    """The rows of ``file``, one record batch in memory at a time."""
    with _open(file) as (_, batches):
        for batch in batches:
            yield from batch.to_pylist()


def arrow_fields(file: Path) -> list[str]:
    """The column names of ``file``, from its schema (no rows read)."""
    with _open(file) as (schema, _):
        return list(schema.names)
