"""The ``extract`` node: parse lists, JSON or fenced code out of a text field.

``as: list`` with ``explode: true`` (the default) emits one record per item (field
``into``, default ``item``); ``explode: false`` keeps the list in one record. ``as:
json`` puts the parsed value into ``into`` (default ``data``); with ``explode: true`` a
JSON list gives one record per item (at most ``max_items``), and ``spread: [keys]``
lifts those keys of each object into fields of their own instead (items missing a key
are skipped and counted in ``sample_failures``). ``as: code`` puts the code into
``into`` (default ``code``). Text with nothing to extract is a
recorded drop with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Estimate,
    Estimator,
    MapRunner,
    NodeKind,
    Outcome,
    Runtime,
)
from synthdsl.records import Record
from synthdsl.textproc.extract import ExtractError, extract_code, extract_json, extract_list

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "ExtractConfig"]

_DEFAULT_INTO = {"list": "item", "json": "data", "code": "code"}


@dataclass
class ExtractConfig:
    field: str
    field_span: Span
    kind: str
    into: str
    language: str | None
    explode: bool
    max_items: int | None
    spread: list[str] | None = None


class _Runner:
    concurrency = 1
    quick = True  # process() never waits: it may run in its producer's task

    def __init__(self, node: Node[ExtractConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config

    async def process(self, record: Record) -> Outcome:
        cfg = self.cfg
        text = record.data.get(cfg.field)
        key = self.rt.node_key(self.node.id)
        if cfg.kind == "json" and isinstance(text, list | dict):
            return self._json(record, text, key)  # already structured (e.g. from json: true)
        if not isinstance(text, str):
            return Drop(f"extract: field '{cfg.field}' is not text", {"type": type(text).__name__})
        key = self.rt.node_key(self.node.id)
        try:
            if cfg.kind == "list":
                items = extract_list(text)
                if cfg.max_items is not None:
                    items = items[: cfg.max_items]
                if not items:
                    return Drop("extract list: no items found")
                if not cfg.explode:
                    return Emit([record.child(key, {**record.data, cfg.into: items})])
                return Emit(
                    [
                        record.child(key, {**record.data, cfg.into: item}, index=i)
                        for i, item in enumerate(items)
                    ]
                )
            if cfg.kind == "json":
                return self._json(record, extract_json(text), key)
            value = extract_code(text, cfg.language)
        except ExtractError as exc:
            return Drop(f"extract {cfg.kind}: {exc}")
        return Emit([record.child(key, {**record.data, cfg.into: value})])

    def _json(self, record: Record, value: Any, key: str) -> Outcome:
        """A JSON value into a field, or exploded (a list) and/or spread (objects)."""
        cfg = self.cfg
        if cfg.explode:
            if not isinstance(value, list):
                return Drop(f"extract json: expected a list, got {type(value).__name__}")
            items = value[: cfg.max_items] if cfg.max_items is not None else value
        else:
            items = [value]
        out: list[Record] = []
        skipped = 0
        for i, item in enumerate(items):
            data = dict(record.data)
            if cfg.spread is not None:
                if not isinstance(item, dict) or any(k not in item for k in cfg.spread):
                    skipped += 1
                    continue
                data.update({k: item[k] for k in cfg.spread})
            else:
                data[cfg.into] = item
            out.append(record.child(key, data, index=i))
        if skipped:
            self.rt.node_stats(self.node.id, "extract").sample_failures["invalid item"] += skipped
        if not out:
            wanted = f" with keys {', '.join(cfg.spread)}" if cfg.spread else ""
            return Drop(f"extract json: no item{wanted} found")
        return Emit(out)


class ExtractKind(NodeKind[ExtractConfig]):
    name = "extract"

    def supports_when(self, config: ExtractConfig) -> bool:
        return True

    def configure(self, raw: Any, ctx: CheckContext) -> ExtractConfig:
        kind = str(raw["as"])
        return ExtractConfig(
            field=str(raw["field"]),
            field_span=ctx.span("field"),
            kind=kind,
            into=str(raw.get("into", _DEFAULT_INTO[kind])),
            language=raw.get("language"),
            explode=bool(raw.get("explode", kind == "list")),
            max_items=raw.get("max_items"),
            spread=[str(k) for k in raw["spread"]] if "spread" in raw else None,
        )

    def read_fields(self, cfg: ExtractConfig) -> list[tuple[str, Span]]:
        return [(cfg.field, cfg.field_span)]

    def output_fields(self, cfg: ExtractConfig, upstream: list[str]) -> list[str]:
        added = list(cfg.spread) if cfg.spread is not None else [cfg.into]
        return [*[f for f in upstream if f not in added], *added]

    def estimate(self, node: Node[ExtractConfig], n_in: int | None, est: Estimator) -> Estimate:
        cfg = node.config
        if cfg.explode:
            if cfg.max_items is not None and n_in is not None:
                return Estimate(records=n_in * cfg.max_items, exact=False)
            return Estimate(records=None, exact=False)
        return Estimate(records=n_in, exact=False)

    def describe(self, cfg: ExtractConfig) -> dict[str, Any]:
        out: dict[str, Any] = {"field": cfg.field, "as": cfg.kind}
        if cfg.spread is not None:
            out["spread"] = list(cfg.spread)
        else:
            out["into"] = cfg.into
        if cfg.kind in ("list", "json"):
            out["explode"] = cfg.explode
        if cfg.language:
            out["language"] = cfg.language
        if cfg.max_items:
            out["max_items"] = cfg.max_items
        return out

    def map_runner(self, node: Node[ExtractConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = ExtractKind()
