"""The ``source`` node: rows from a file, a folder, a ``datasets`` dataset (``hf:``)
or inline records.

Compile time: the source's fields (declared, ``columns``, or peeked from the first
rows: of the file, or of a local ``hf:`` folder; a Hub dataset is not fetched).
Run time: streams rows lazily (``columns`` keeps those fields, in order; a row without
one stops the run); every row becomes a record with an id derived from the source
name and the row's position. A source that yields no rows stops the run unless
``allow_empty``.
"""

from __future__ import annotations

import json
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError
from synthdsl.io.readers import HubSource, SourceReader, hf_target, hub_fields, peek_fields
from synthdsl.io.readers.jsonl import count_lines
from synthdsl.ir import Node, SourceDecl
from synthdsl.lang.expr.types import FieldType, json_type
from synthdsl.nodes.base import (
    BLOCK,
    Estimate,
    Estimator,
    NodeKind,
    Outbox,
    Runtime,
    StreamRunner,
)
from synthdsl.records import Record, derive_id, derive_ids

__all__ = ["KIND", "resolved_path", "source_node", "source_rows"]


def resolved_path(decl: SourceDecl) -> Path | None:
    """The source's file or folder, relative paths against the recipe's folder."""
    if decl.path is None:
        return None
    p = Path(decl.path).expanduser()
    return p if p.is_absolute() else Path(decl.base_dir) / p


def source_rows(cfg: SourceDecl, limit: int | None) -> Iterable[Mapping[str, Any]]:
    """The source's rows, lazily, at most ``limit`` of them (and the source's own
    ``limit``). Reading may raise ``RunError`` for an unreadable file."""
    if cfg.records is not None:
        rows = list(cfg.records)
        own = rows[: cfg.limit] if cfg.limit else rows
        return own if limit is None else own[:limit]
    most = cfg.limit
    if limit is not None:
        most = min(most, limit) if most else limit
    if cfg.hf is not None:
        return HubSource(
            hf_target(cfg.hf, Path(cfg.base_dir)),
            split=cfg.split,
            revision=cfg.revision,
            config=cfg.config,
            columns=cfg.columns,
            limit=most,
        )
    path = resolved_path(cfg)
    assert path is not None
    reader = SourceReader(
        path,
        fmt=cfg.format,
        text_field=cfg.text_field,
        limit=most,
        glob=cfg.glob,
        split=cfg.split,
    )
    return reader if cfg.columns is None else _selected(reader, cfg.columns, cfg.name)


def source_node(node_id: str, decl: SourceDecl, origin: str | None) -> Node[SourceDecl]:
    """The node that reads a declared source."""
    return Node(node_id, KIND.name, decl, [], decl.span, origin=origin)


class _Runner:
    serial = True  # emits one record at a time: a quick node it feeds may run inline
    blocks = True  # ... and hands them on ``BLOCK`` at a time (``Outbox.emit_block``)

    def __init__(self, node: Node[SourceDecl], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config

    def rows(self) -> Iterable[Mapping[str, Any]]:
        return source_rows(self.cfg, self.rt.limit)

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        count = 0
        if out.emit_block is None:
            for i, row in enumerate(self.rows()):
                if self.rt.limit is not None and i >= self.rt.limit:
                    break
                count += 1
                out.count_in(1)
                out.count_passed(1)
                await out.emit(self._record(i, row))
        else:
            count = await self._run_blocks(out, out.emit_block)
        if count == 0 and self.rt.limit != 0 and not self.cfg.allow_empty:
            written = self.cfg.path or self.cfg.hf
            where = f" ({written})" if written else ""
            raise RunError(
                f"source '{self.cfg.name}'{where} yielded no rows; if it may be empty, "
                f"say so: sources: {{{self.cfg.name}: {{allow_empty: true}}}}"
            )

    def _record(self, i: int, row: Mapping[str, Any]) -> Record:
        return Record(
            id=derive_id(self.node.id, (), i),
            data=dict(row),
            node=self.node.id,
            meta={"source": self.cfg.name, "row": i},
        )

    async def _run_blocks(
        self, out: Outbox, emit_block: Callable[[list[Record]], Awaitable[None]]
    ) -> int:
        """The rows as records, ``BLOCK`` at a time; rows read before a reading error
        still go on before it is raised. The number of rows."""
        nid, name, limit = self.node.id, self.cfg.name, self.rt.limit
        count = 0
        pending: list[Mapping[str, Any]] = []

        async def hand_on() -> None:
            nonlocal count, pending
            start, rows, pending = count, pending, []
            ids = derive_ids(nid, (), start, start + len(rows))
            recs = [
                Record(rid, dict(row), (), nid, {"source": name, "row": i})
                for rid, row, i in zip(ids, rows, range(start, start + len(rows)), strict=True)
            ]
            count += len(recs)
            out.count_in(len(recs))
            out.count_passed(len(recs))
            await emit_block(recs)

        try:
            for row in self.rows():
                if limit is not None and count + len(pending) >= limit:
                    break
                pending.append(row)
                if len(pending) >= BLOCK:
                    await hand_on()
        except Exception:
            if pending:
                await hand_on()
            raise
        if pending:
            await hand_on()
        return count


class SourceKind(NodeKind[SourceDecl]):
    name = "source"

    def upstream_fields(self, config: SourceDecl, inputs: dict[str, list[str]]) -> list[str]:
        return []  # a source's records start here

    def output_fields(self, cfg: SourceDecl, upstream: list[str]) -> list[str]:
        if cfg.fields is not None:
            return list(cfg.fields)
        if cfg.columns is not None:
            return list(cfg.columns)
        if cfg.hf is not None:
            return _hf_fields(cfg)
        if cfg.records is not None:
            seen: list[str] = []
            for r in cfg.records:
                seen += [k for k in r if k not in seen]
            return seen
        path = resolved_path(cfg)
        if path is None or not path.exists():
            return ["*"]
        try:
            fields = peek_fields(
                path, fmt=cfg.format, text_field=cfg.text_field, glob=cfg.glob, split=cfg.split
            )
        except Exception:  # the run reports unreadable files with their position
            return ["*"]
        return fields or ["*"]

    def field_types(self, cfg: SourceDecl, upstream: dict[str, FieldType]) -> dict[str, FieldType]:
        """Types every row agrees on: all inline records, or a JSON Lines file's first
        rows (read as ``validate`` peeks, bounded)."""
        if cfg.records is not None:
            return _agreed(cfg.records, f"source '{cfg.name}'")
        path = resolved_path(cfg)
        if path is None or not path.is_file() or path.suffix != ".jsonl":
            return {}
        if cfg.format not in ("auto", "jsonl"):
            return {}
        return _agreed(_first_rows(path), f"the first rows of source '{cfg.name}'")

    def estimate(self, node: Node[SourceDecl], n_in: int | None, est: Estimator) -> Estimate:
        cfg = node.config
        if cfg.records is not None:
            n = len(cfg.records)
            return Estimate(records=min(n, cfg.limit) if cfg.limit else n)
        if not est.counts_sources:
            return Estimate(records=cfg.limit, exact=False)
        path = resolved_path(cfg)
        single = (".jsonl", ".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
        if path is not None and path.is_file() and path.suffix in single:
            n = count_lines(path) if path.suffix == ".jsonl" else 1
            return Estimate(records=min(n, cfg.limit) if cfg.limit else n)
        if path is not None and path.is_file() and path.suffix == ".csv":
            with path.open("rb") as fh:
                n = max(sum(1 for _ in fh) - 1, 0)
            return Estimate(records=min(n, cfg.limit) if cfg.limit else n, exact=False)
        return Estimate(records=cfg.limit, exact=False)

    def describe(self, cfg: SourceDecl) -> dict[str, Any]:
        out: dict[str, Any] = {"format": cfg.format}
        if cfg.path is not None:
            out["path"] = cfg.path
        for key in ("hf", "config", "split", "revision"):
            if getattr(cfg, key) is not None:
                out[key] = getattr(cfg, key)
        if cfg.columns is not None:
            out["columns"] = list(cfg.columns)
        if cfg.records is not None:
            out["records"] = len(cfg.records)
        if cfg.limit:
            out["limit"] = cfg.limit
        return out

    def stream_runner(self, node: Node[SourceDecl], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = SourceKind()


def _selected(
    rows: Iterable[dict[str, Any]], columns: tuple[str, ...], name: str
) -> Iterator[dict[str, Any]]:
    """Each row with only ``columns``, in that order; a row without one is an error."""
    for row in rows:
        missing = [c for c in columns if c not in row]
        if missing:
            raise RunError(
                f"source '{name}': a row has no column {', '.join(missing)}; "
                f"its fields: {', '.join(row)}"
            )
        yield {c: row[c] for c in columns}


def _hf_fields(cfg: SourceDecl) -> list[str]:
    """The fields of a local ``hf:`` dataset's first rows; unknown for a Hub one."""
    target = hf_target(cfg.hf or "", Path(cfg.base_dir))
    if isinstance(target, str) or not target.exists():
        return ["*"]
    try:
        fields = hub_fields(target, cfg.split, None, cfg.config, cfg.columns)
    except Exception:  # validate reports it at the hf: value; the run says it again
        return ["*"]
    return list(fields) or ["*"]


_PEEK_ROWS = 50
_PEEK_BYTES = 1 << 20


def _first_rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        with path.open("rb") as fh:
            for line in fh.read(_PEEK_BYTES).splitlines()[:_PEEK_ROWS]:
                if line.strip():
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        return []
                    rows.append(row)
    except (OSError, ValueError):
        return []  # the run reports unreadable rows with their position
    return rows


def _agreed(rows: Sequence[Mapping[str, Any]], origin: str) -> dict[str, FieldType]:
    """Fields present in every row with one JSON type in all of them."""
    if not rows:
        return {}
    seen: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            seen.setdefault(key, set()).add(json_type(value))
    return {
        key: FieldType(next(iter(types)), origin)
        for key, types in seen.items()
        if len(types) == 1 and all(key in row for row in rows)
    }
