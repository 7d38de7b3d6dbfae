"""Writers for a run's outputs: the dataset, the rejects, and JSON files.

Input: dict rows (``Record.to_json()`` or a formatted row, see ``synthdsl.io.chat``),
rejected records, the manifest object. Output: ``dataset.jsonl`` / ``dataset.parquet``
written atomically (to ``<path>.tmp``, moved into place by ``close()``, deleted by
``abort()``), ``rejects.jsonl`` appended and flushed row by row (it survives a crash; a caller
writing a block of rejects may flush once after the block),
and ``manifest.json`` written atomically with sorted keys. JSON text follows
``synthdsl.io.json_text`` (UTF-8; dates, decimals, bytes and sets made JSON).

Parquet: rows are spooled to a JSONL file next to the output while writing; ``close()``
infers one Arrow type per column from every row (native types, lists and structs
included: ints and floats together become float64, struct fields are unioned, nulls and
empty lists fit anything; see ``synthdsl.io.arrow_types``) and writes batches of
``batch_size`` rows. A column whose values do not share one type (say strings and
numbers) stores each value's JSON text; a column of nulls only is a string column.
Memory stays bounded by one batch.

Raises ``SinkError`` (a ``RunError``): output not writable, a value that cannot be
turned into JSON, writing after close, an unknown output format, and Parquet without
pyarrow ("install synthdsl[parquet]").
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Protocol, TypeVar

from synthdsl.io.arrow_types import JSON_COLUMN, final_types, infer, unify
from synthdsl.io.json_text import SinkError, dumps, json_bytes, json_line, json_lines
from synthdsl.io.output_facts import RejectGroups
from synthdsl.records import Record

__all__ = [
    "OUTPUT_FORMATS",
    "JsonlWriter",
    "ParquetWriter",
    "RejectsWriter",
    "RowWriter",
    "SinkError",
    "open_writer",
    "write_json_atomic",
]

OUTPUT_FORMATS = ("jsonl", "parquet")
RejectStatus = Literal["dropped", "failed"]
_W = TypeVar("_W", bound="_AtomicWriter")


def _tmp_path(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _open_output(path: Path, mode: str) -> IO[bytes]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh: IO[bytes] = open(path, mode)  # noqa: SIM115 - closed by the writer
    except OSError as exc:
        raise SinkError(f"cannot write {path}: {exc}") from exc
    return fh


def _write_to(fh: IO[bytes], path: Path, data: bytes, *, flush: bool = False) -> None:
    """Write ``data`` to ``fh`` (open on ``path``), then flush it when asked."""
    try:
        fh.write(data)
        if flush:
            fh.flush()
    except OSError as exc:
        raise SinkError(f"cannot write {path}: {exc}") from exc


def _flush_to(fh: IO[bytes], path: Path) -> None:
    """Push ``fh``'s buffered bytes (open on ``path``) to the OS."""
    try:
        fh.flush()
    except OSError as exc:
        raise SinkError(f"cannot write {path}: {exc}") from exc


def _finish(fh: IO[bytes], tmp: Path, path: Path) -> None:
    """Flush, fsync and close ``fh`` (open on ``tmp``), then move ``tmp`` to ``path``."""
    try:
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        os.replace(tmp, path)
    except OSError as exc:
        raise SinkError(f"cannot write {path}: {exc}") from exc


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON (sorted keys, indent 2) to ``path``, atomically."""
    path = Path(path)
    data = json_bytes(obj, sort_keys=True, indent=2) + b"\n"
    tmp = _tmp_path(path)
    fh = _open_output(tmp, "wb")
    try:
        fh.write(data)
    except OSError as exc:
        fh.close()
        tmp.unlink(missing_ok=True)
        raise SinkError(f"cannot write {path}: {exc}") from exc
    _finish(fh, tmp, path)


# -- dataset writers ------------------------------------------------------------------


class RowWriter(Protocol):
    """What ``open_writer`` returns."""

    path: Path
    rows: int

    def write(self, obj: dict[str, Any]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def __enter__(self) -> RowWriter: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _AtomicWriter:
    """Shared life cycle: ``close()`` publishes, ``abort()`` discards; a ``with`` block
    that raises aborts."""

    path: Path
    rows: int
    _done: bool

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def _check_open(self) -> None:
        if self._done:
            raise SinkError(f"{self.path}: writer is closed")

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class JsonlWriter(_AtomicWriter):
    """JSON lines to ``<path>.tmp``, moved to ``path`` by ``close()``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.tmp_path = _tmp_path(self.path)
        self.rows = 0
        self._done = False
        self._fh = _open_output(self.tmp_path, "wb")

    def write(self, obj: dict[str, Any]) -> None:
        self._check_open()
        _write_to(self._fh, self.tmp_path, json_line(obj))
        self.rows += 1

    def write_many(self, objs: list[dict[str, Any]]) -> None:
        """``write`` for each of ``objs``, as one write of their lines."""
        self._check_open()
        if objs:
            _write_to(self._fh, self.tmp_path, json_lines(objs))
            self.rows += len(objs)

    def flush(self) -> None:
        """Push buffered rows to the OS (the file stays under its ``.tmp`` name)."""
        if not self._done:
            _flush_to(self._fh, self.tmp_path)

    def close(self) -> None:
        """Publish the file at ``path``; idempotent."""
        if self._done:
            return
        self._done = True
        _finish(self._fh, self.tmp_path, self.path)

    def abort(self) -> None:
        """Discard what was written; ``path`` is left untouched."""
        if self._done:
            return
        self._done = True
        self._fh.close()
        self.tmp_path.unlink(missing_ok=True)


def _import_pyarrow() -> tuple[Any, Any]:
    try:
        # Imported here: pyarrow is heavy and optional; only Parquet outputs need it.
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SinkError("writing Parquet needs pyarrow: install synthdsl[parquet]") from exc
    return pa, pq


class ParquetWriter(_AtomicWriter):
    """Parquet at ``path`` (via ``<path>.tmp``), with column types inferred from every
    row; see the module docstring."""

    def __init__(self, path: Path, *, batch_size: int = 1000) -> None:
        self._pa, self._pq = _import_pyarrow()
        if batch_size < 1:
            raise SinkError(f"{path}: batch_size must be >= 1")
        self.path = Path(path)
        self.tmp_path = _tmp_path(self.path)
        self.spool_path = self.path.with_name(self.path.name + ".spool.jsonl")
        self.batch_size = batch_size
        self.rows = 0
        self._done = False
        # name -> Arrow type unified over the rows seen so far, or JSON_COLUMN
        self._columns: dict[str, Any] = {}
        self._pending: list[bytes] = []
        self._spool = _open_output(self.spool_path, "wb")

    def write(self, obj: dict[str, Any]) -> None:
        self._check_open()
        line = json_line(obj)
        _write_to(self._spool, self.spool_path, line)
        self._pending.append(line)
        self.rows += 1
        if len(self._pending) >= self.batch_size:
            self._observe()

    def flush(self) -> None:
        if not self._done:
            _flush_to(self._spool, self.spool_path)

    def _observe(self) -> None:
        """Fold the pending rows' column types into ``_columns``."""
        pa = self._pa
        rows = [json.loads(line) for line in self._pending]
        self._pending = []
        for row in rows:
            for name in row:
                if name not in self._columns:
                    self._columns[name] = pa.null()
        for name, known in self._columns.items():
            if known is JSON_COLUMN:
                continue
            found = infer(pa, [row.get(name) for row in rows])
            merged = None if found is None else unify(pa, known, found)
            self._columns[name] = JSON_COLUMN if merged is None else merged

    def _spooled_batches(self) -> Iterator[list[dict[str, Any]]]:
        with self.spool_path.open("rb") as fh:
            batch: list[dict[str, Any]] = []
            for line in fh:
                batch.append(json.loads(line))
                if len(batch) >= self.batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch

    def close(self) -> None:
        """Write the Parquet file and publish it at ``path``; idempotent."""
        if self._done:
            return
        self._done = True
        pa, pq = self._pa, self._pq
        try:
            self._spool.close()
            if self._pending:
                self._observe()
            final = final_types(pa, self._columns)
            as_json = {name for name, t in final.items() if t is JSON_COLUMN}
            types = {name: (pa.string() if t is JSON_COLUMN else t) for name, t in final.items()}
            schema = pa.schema([(name, t) for name, t in types.items()])
            with pq.ParquetWriter(str(self.tmp_path), schema) as writer:
                for batch in self._spooled_batches():
                    arrays = []
                    for name, typ in types.items():
                        values = [row.get(name) for row in batch]
                        if name in as_json:
                            values = [None if v is None else dumps(v) for v in values]
                        arrays.append(pa.array(values, type=typ))
                    writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            os.replace(self.tmp_path, self.path)
        except SinkError:
            self.tmp_path.unlink(missing_ok=True)
            raise
        except (OSError, ValueError, TypeError, pa.lib.ArrowException) as exc:
            self.tmp_path.unlink(missing_ok=True)
            raise SinkError(f"cannot write {self.path}: {exc}") from exc
        finally:
            self.spool_path.unlink(missing_ok=True)

    def abort(self) -> None:
        """Discard what was written; ``path`` is left untouched."""
        if self._done:
            return
        self._done = True
        self._pending = []
        self._spool.close()
        self.spool_path.unlink(missing_ok=True)
        self.tmp_path.unlink(missing_ok=True)


def open_writer(path: Path, fmt: str = "auto", *, batch_size: int = 1000) -> RowWriter:
    """A dataset writer: ``fmt`` is jsonl, parquet, or auto (from the extension:
    ``.parquet``/``.pq`` → parquet, anything else → jsonl)."""
    path = Path(path)
    if fmt == "auto":
        fmt = "parquet" if path.suffix.lower() in (".parquet", ".pq") else "jsonl"
    if fmt == "jsonl":
        return JsonlWriter(path)
    if fmt == "parquet":
        return ParquetWriter(path, batch_size=batch_size)
    raise SinkError(f"unknown output format {fmt!r}; expected one of {', '.join(OUTPUT_FORMATS)}")


# -- rejects --------------------------------------------------------------------------


class RejectsWriter:
    """Appends one JSON line per dropped or failed record, flushed at once so rows
    survive the process dying (``flush=False`` leaves that to the caller's ``flush()``,
    after a block of records: the lines wait, unencoded, to be written together; any
    other write or ``close`` writes them first). Each line: ``{"node", "status", "reason", "error",
    "record"}`` with ``record`` as ``Record.to_json()`` (fields plus ``_provenance``),
    plus ``detail`` (e.g. a near duplicate's neighbour and score) and ``round`` (inside
    a loop) when there are any."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.counts: dict[str, int] = {"dropped": 0, "failed": 0}
        self.groups = RejectGroups()  # what the report shows of them, as they are written
        self._fh: IO[bytes] | None = _open_output(self.path, "ab")
        self._pending: list[dict[str, Any]] = []  # rows written with flush=False

    def write(
        self,
        node: str,
        status: RejectStatus,
        reason: str,
        record: Record,
        error: str | None = None,
        *,
        detail: dict[str, Any] | None = None,
        round_: int | None = None,
        flush: bool = True,
    ) -> None:
        if status not in ("dropped", "failed"):
            raise SinkError(f"reject status must be 'dropped' or 'failed', got {status!r}")
        if self._fh is None:
            raise SinkError(f"{self.path}: writer is closed")
        row: dict[str, Any] = {
            "node": node,
            "status": status,
            "reason": reason,
            "error": error,
            "record": record.to_json(),
        }
        if detail:
            row["detail"] = detail
        if round_ is not None:
            row["round"] = round_
        self._pending.append(row)
        self.groups.add_written(node, status, reason, row)
        if flush:
            self.flush()
        self.counts[status] += 1

    def flush(self) -> None:
        """Write the lines written with ``flush=False`` and push them to the OS."""
        if self._fh is not None and self._pending:
            rows, self._pending = self._pending, []
            _write_to(self._fh, self.path, json_lines(rows), flush=True)

    def close(self) -> None:
        if self._fh is not None:
            try:
                self.flush()
            finally:
                fh, self._fh = self._fh, None
                fh.close()

    def __enter__(self) -> RejectsWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
