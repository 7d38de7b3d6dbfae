"""Writers for a run's outputs, and the chat formats datasets are exported in.

Input: dict rows (``Record.to_json()`` or a formatted row), rejected records, the
manifest object. Output: ``dataset.jsonl`` / ``dataset.parquet`` written atomically
(to ``<path>.tmp``, moved into place by ``close()``, deleted by ``abort()``),
``rejects.jsonl`` appended and flushed row by row (it survives a crash), and
``manifest.json`` written atomically with sorted keys. ``to_format`` turns a row into
the ``records``, ``openai``, ``chatml``, ``alpaca`` or ``sharegpt`` layout.

JSON rules: UTF-8 with ``ensure_ascii=False``; dates and times become ISO strings,
``Decimal`` a string, ``bytes`` base64, sets sorted lists; a string that cannot be
encoded as UTF-8 (a lone surrogate) makes that row fall back to ASCII escapes.

Parquet: rows are spooled to a JSONL file next to the output while writing; ``close()``
infers one Arrow type per column from every row (native types, lists and structs
included: ints and floats together become float64, struct fields are unioned, nulls and
empty lists fit anything) and writes batches of ``batch_size`` rows. A column whose
values do not share one type (say strings and numbers) stores each value's JSON text;
a column of nulls only is a string column. Memory stays bounded by one batch.

Raises ``SinkError`` (a ``RunError``): output not writable, a value that cannot be
turned into JSON, writing after close, a missing field for a chat format, an unknown
format, and Parquet without pyarrow ("install synthdsl[parquet]").
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path, PurePath
from types import TracebackType
from typing import IO, Any, Literal, Protocol, TypeVar

from synthdsl.errors import RunError
from synthdsl.records import Record

__all__ = [
    "CHAT_FORMATS",
    "OUTPUT_FORMATS",
    "JsonlWriter",
    "ParquetWriter",
    "RejectsWriter",
    "RowWriter",
    "SinkError",
    "open_writer",
    "to_format",
    "write_json_atomic",
]

OUTPUT_FORMATS = ("jsonl", "parquet")
CHAT_FORMATS = ("records", "openai", "chatml", "alpaca", "sharegpt")
RejectStatus = Literal["dropped", "failed"]
_W = TypeVar("_W", bound="_AtomicWriter")


class SinkError(RunError):
    """An output could not be written, or a row does not fit the asked format."""


# -- JSON ---------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, PurePath):
        return value.as_posix()
    raise TypeError(f"a value of type {type(value).__name__} cannot be written as JSON")


def _dumps(obj: Any, **kwargs: Any) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False, default=_json_default, **kwargs)
    except (TypeError, ValueError, RecursionError) as exc:
        raise SinkError(f"cannot write a row as JSON: {exc}") from exc


def _json_bytes(obj: Any, **kwargs: Any) -> bytes:
    try:
        return _dumps(obj, **kwargs).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: \uXXXX escapes keep the file valid UTF-8 and the value intact.
        return json.dumps(obj, ensure_ascii=True, default=_json_default, **kwargs).encode()


def _json_line(obj: Any) -> bytes:
    return _json_bytes(obj) + b"\n"


def _tmp_path(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _open_output(path: Path, mode: str) -> IO[bytes]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh: IO[bytes] = open(path, mode)  # noqa: SIM115 - closed by the writer
    except OSError as exc:
        raise SinkError(f"cannot write {path}: {exc}") from exc
    return fh


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
    data = _json_bytes(obj, sort_keys=True, indent=2) + b"\n"
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
        line = _json_line(obj)
        try:
            self._fh.write(line)
        except OSError as exc:
            raise SinkError(f"cannot write {self.tmp_path}: {exc}") from exc
        self.rows += 1

    def flush(self) -> None:
        """Push buffered rows to the OS (the file stays under its ``.tmp`` name)."""
        if not self._done:
            try:
                self._fh.flush()
            except OSError as exc:
                raise SinkError(f"cannot write {self.tmp_path}: {exc}") from exc

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
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SinkError("writing Parquet needs pyarrow: install synthdsl[parquet]") from exc
    return pa, pq


class _JsonColumn:
    """Column-type marker: the column stores each value's JSON text."""


_JSON = _JsonColumn()


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
        # name -> Arrow type unified over the rows seen so far, or _JSON
        self._columns: dict[str, Any] = {}
        self._pending: list[bytes] = []
        self._spool = _open_output(self.spool_path, "wb")

    def write(self, obj: dict[str, Any]) -> None:
        self._check_open()
        line = _json_line(obj)
        try:
            self._spool.write(line)
        except OSError as exc:
            raise SinkError(f"cannot write {self.spool_path}: {exc}") from exc
        self._pending.append(line)
        self.rows += 1
        if len(self._pending) >= self.batch_size:
            self._observe()

    def flush(self) -> None:
        if not self._done:
            try:
                self._spool.flush()
            except OSError as exc:
                raise SinkError(f"cannot write {self.spool_path}: {exc}") from exc

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
            if known is _JSON:
                continue
            found = self._infer([row.get(name) for row in rows])
            merged = None if found is None else _unify(pa, known, found)
            self._columns[name] = _JSON if merged is None else merged

    def _infer(self, values: list[Any]) -> Any:
        """The Arrow type of one batch's values, or None when they do not share one."""
        pa = self._pa
        try:
            return pa.array(values).type
        except (pa.lib.ArrowException, ValueError, TypeError, OverflowError):
            return None

    def _final_types(self) -> dict[str, Any]:
        pa = self._pa
        out: dict[str, Any] = {}
        for name, typ in self._columns.items():
            if typ is _JSON or not _writable(pa, typ):
                out[name] = _JSON
            elif pa.types.is_null(typ):
                out[name] = pa.string()
            else:
                out[name] = typ
        return out

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
            final = self._final_types()
            as_json = {name for name, t in final.items() if t is _JSON}
            types = {name: (pa.string() if t is _JSON else t) for name, t in final.items()}
            schema = pa.schema([(name, t) for name, t in types.items()])
            with pq.ParquetWriter(str(self.tmp_path), schema) as writer:
                for batch in self._spooled_batches():
                    arrays = []
                    for name, typ in types.items():
                        values = [row.get(name) for row in batch]
                        if name in as_json:
                            values = [None if v is None else _dumps(v) for v in values]
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


def _unify(pa: Any, a: Any, b: Any) -> Any:
    """One Arrow type holding values of types ``a`` and ``b``, or None.

    Null (nothing known yet) gives way to anything, int64 and float64 meet at float64,
    lists unify their items and structs the union of their fields.
    """
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b) or a.equals(b):
        return a
    numeric = (pa.int64(), pa.float64())
    if any(a.equals(t) for t in numeric) and any(b.equals(t) for t in numeric):
        return pa.float64()
    if pa.types.is_list(a) and pa.types.is_list(b):
        item = _unify(pa, a.value_type, b.value_type)
        return None if item is None else pa.list_(item)
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields: dict[str, Any] = {a.field(i).name: a.field(i).type for i in range(a.num_fields)}
        for i in range(b.num_fields):
            field = b.field(i)
            if field.name in fields:
                joined = _unify(pa, fields[field.name], field.type)
                if joined is None:
                    return None
                fields[field.name] = joined
            else:
                fields[field.name] = field.type
        return pa.struct(list(fields.items()))
    return None


def _writable(pa: Any, typ: Any) -> bool:
    """False for Arrow types Parquet cannot store (a struct with no fields)."""
    if pa.types.is_struct(typ):
        return typ.num_fields > 0 and all(
            _writable(pa, typ.field(i).type) for i in range(typ.num_fields)
        )
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return _writable(pa, typ.value_type)
    return True


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
    survive the process dying. Each line: ``{"node", "status", "reason", "error",
    "record"}`` with ``record`` as ``Record.to_json()`` (fields plus ``_provenance``),
    plus ``detail`` (e.g. a near duplicate's neighbour and score) and ``round`` (inside
    a loop) when there are any."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.counts: dict[str, int] = {"dropped": 0, "failed": 0}
        self._fh: IO[bytes] | None = _open_output(self.path, "ab")

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
        try:
            self._fh.write(_json_line(row))
            self._fh.flush()
        except OSError as exc:
            raise SinkError(f"cannot write {self.path}: {exc}") from exc
        self.counts[status] += 1

    def close(self) -> None:
        if self._fh is not None:
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


# -- chat formats ---------------------------------------------------------------------


def _field_text(row: dict[str, Any], name: str, fmt: str, *, required: bool) -> str:
    if name not in row or row[name] is None:
        if required:
            have = ", ".join(sorted(row)) or "none"
            raise SinkError(
                f"format {fmt!r} needs field {name!r}, which the row does not have (fields: {have})"
            )
        return ""
    value = row[name]
    if isinstance(value, str):
        return value
    return _dumps(value)


def _chatml_text(messages: list[dict[str, str]]) -> str:
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def to_format(
    row: dict[str, Any],
    fmt: str,
    *,
    instruction_field: str = "instruction",
    input_field: str = "input",
    response_field: str = "response",
    system: str | None = None,
) -> dict[str, Any]:
    """``row`` in a dataset layout.

    ``records`` returns a copy of the row. The others need the instruction and response
    fields (SinkError naming the one missing); the input field is optional and, when
    present and not empty, is appended to the instruction after a blank line in the
    user turn (alpaca keeps it separate). Non-string values are written as JSON text.

    - ``openai``: ``{"messages": [system?, user, assistant]}`` (role/content dicts)
    - ``chatml``: the same ``messages`` plus ``text`` rendered with ``<|im_start|>``
    - ``alpaca``: ``{"instruction", "input", "output"}`` (plus ``system`` when given)
    - ``sharegpt``: ``{"conversations": [{"from": "system"?|"human"|"gpt", "value"}]}``
    """
    if fmt == "records":
        return dict(row)
    if fmt not in CHAT_FORMATS:
        raise SinkError(
            f"unknown dataset format {fmt!r}; expected one of {', '.join(CHAT_FORMATS)}"
        )
    instruction = _field_text(row, instruction_field, fmt, required=True)
    response = _field_text(row, response_field, fmt, required=True)
    extra_input = _field_text(row, input_field, fmt, required=False)
    if fmt == "alpaca":
        out: dict[str, Any] = {"instruction": instruction, "input": extra_input, "output": response}
        if system is not None:
            out["system"] = system
        return out
    user = f"{instruction}\n\n{extra_input}" if extra_input else instruction
    if fmt == "sharegpt":
        turns = [] if system is None else [{"from": "system", "value": system}]
        turns += [{"from": "human", "value": user}, {"from": "gpt", "value": response}]
        return {"conversations": turns}
    messages = [] if system is None else [{"role": "system", "content": system}]
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": response}]
    if fmt == "openai":
        return {"messages": messages}
    return {"messages": messages, "text": _chatml_text(messages)}
