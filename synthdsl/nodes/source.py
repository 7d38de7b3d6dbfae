"""The ``source`` node: rows from a file, a folder or inline records.

Compile time: the source's fields (declared, or peeked from the file's first rows) and
whether the file exists. Run time: streams rows lazily; every row becomes a record with
an id derived from the source name and the row's position.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthdsl.ir import SourceDecl
from synthdsl.nodes.base import Estimate, NodeKind, Outbox, Runtime, StreamRunner
from synthdsl.records import Record, derive_id

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "SourceConfig"]


@dataclass
class SourceConfig:
    name: str
    path: str | None
    records: tuple[dict[str, Any], ...] | None
    format: str
    text_field: str
    glob: str | None
    limit: int | None
    fields: tuple[str, ...] | None
    base_dir: str

    @classmethod
    def from_decl(cls, d: SourceDecl) -> SourceConfig:
        return cls(
            d.name, d.path, d.records, d.format, d.text_field, d.glob, d.limit, d.fields, d.base_dir
        )

    def resolved_path(self) -> Path | None:
        if self.path is None:
            return None
        p = Path(self.path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p


class _Runner:
    def __init__(self, node: Node, rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg: SourceConfig = node.config

    def rows(self) -> Any:
        cfg = self.cfg
        if cfg.records is not None:
            rows = list(cfg.records)
            return rows[: cfg.limit] if cfg.limit else rows
        from synthdsl.io.readers import SourceReader

        path = cfg.resolved_path()
        assert path is not None
        limit = cfg.limit
        if self.rt.limit is not None:
            limit = min(limit, self.rt.limit) if limit else self.rt.limit
        return SourceReader(
            path, fmt=cfg.format, text_field=cfg.text_field, limit=limit, glob=cfg.glob
        )

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        for i, row in enumerate(self.rows()):
            if self.rt.limit is not None and i >= self.rt.limit:
                break
            rec = Record(
                id=derive_id(self.node.id, (), i),
                data=dict(row),
                node=self.node.id,
                meta={"source": self.cfg.name, "row": i},
            )
            out.count_in(1)
            out.count_passed(1)
            await out.emit(rec)


class SourceKind(NodeKind):
    name = "source"

    def output_fields(self, config: Any, upstream: list[str]) -> list[str]:
        cfg: SourceConfig = config
        if cfg.fields is not None:
            return list(cfg.fields)
        if cfg.records is not None:
            seen: list[str] = []
            for r in cfg.records:
                seen += [k for k in r if k not in seen]
            return seen
        path = cfg.resolved_path()
        if path is None or not path.exists():
            return ["*"]
        from synthdsl.io.readers import peek_fields

        try:
            fields = peek_fields(path, fmt=cfg.format, text_field=cfg.text_field, glob=cfg.glob)
        except Exception:  # the run reports unreadable files with their position
            return ["*"]
        return fields or ["*"]

    def estimate(self, config: Any, n_in: int | None) -> Estimate:
        cfg: SourceConfig = config
        if cfg.records is not None:
            n = len(cfg.records)
            return Estimate(records=min(n, cfg.limit) if cfg.limit else n)
        path = cfg.resolved_path()
        single = (".jsonl", ".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
        if path is not None and path.is_file() and path.suffix in single:
            if path.suffix == ".jsonl":
                with path.open("rb") as fh:
                    n = sum(1 for line in fh if line.strip())
            else:
                n = 1
            return Estimate(records=min(n, cfg.limit) if cfg.limit else n)
        if path is not None and path.is_file() and path.suffix == ".csv":
            with path.open("rb") as fh:
                n = max(sum(1 for _ in fh) - 1, 0)
            return Estimate(records=min(n, cfg.limit) if cfg.limit else n, exact=False)
        return Estimate(records=cfg.limit, exact=False)

    def describe(self, config: Any) -> dict[str, Any]:
        cfg: SourceConfig = config
        out: dict[str, Any] = {"format": cfg.format}
        if cfg.path is not None:
            out["path"] = cfg.path
        if cfg.records is not None:
            out["records"] = len(cfg.records)
        if cfg.limit:
            out["limit"] = cfg.limit
        return out

    def stream_runner(self, node: Node, rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = SourceKind()
