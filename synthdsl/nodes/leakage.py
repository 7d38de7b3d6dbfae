"""The ``leakage`` node: catch generated records that copy proprietary text or secrets.

``leakage: {fields: [answer], source_fields: [text], against: [docs], against_fields:
[body], n: 12, action: drop}`` compares each generated field with the proprietary text
as word n-grams (``textproc/ngrams.py``'s ``SpanIndex``, words by ``tokens.tokenize``:
lower-cased, punctuation ignored):

- ``source_fields``: fields of the same record holding the text it was made from (a
  generate step keeps its input's fields, so the source a record descends from travels
  with it: its provenance);
- ``against``: sources or steps whose every record counts as proprietary
  (``against_fields`` of them, by default ``source_fields``); they are read in full
  first and not emitted, as dedup's ``against``.

A record sharing an n-gram of ``n`` words (default 12) is a copy: with ``action:
drop`` (the default) it is dropped with the longest copied span in the reason; with
``action: flag`` it passes with the span in the field ``leak_span`` (null when
clean). A generated field holding a key or token (``textproc/pii.py: SECRET_TYPES``)
is always dropped, whatever the action. The manifest's node entry gets ``leakage``:
records checked, copies, secrets and the leakage rate (copies / checked).

Errors at compile time: no fields, no proprietary text (neither ``source_fields`` nor
``against``), ``against_fields`` without ``against``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Estimate,
    Estimator,
    Fail,
    MapRunner,
    NodeKind,
    Outbox,
    Outcome,
    Resolve,
    Runtime,
    StreamRunner,
    count_references,
    link_refs,
    main_fields,
    read_all,
)
from synthdsl.records import Record
from synthdsl.textproc.ngrams import SpanIndex
from synthdsl.textproc.pii import SECRET_TYPES, find
from synthdsl.textproc.tokens import tokenize

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["FLAG_FIELD", "KIND", "LeakageConfig"]

FLAG_FIELD = "leak_span"
_SHOWN = 200  # characters of a span quoted in a drop reason


@dataclass
class _Ref:
    source: str
    span: Span
    node: str = ""


@dataclass
class LeakageConfig:
    fields: list[tuple[str, Span]]
    source_fields: list[tuple[str, Span]] = field(default_factory=list)
    parts: list[_Ref] = field(default_factory=list)  # ``against`` inputs, resolved
    against_fields: list[str] = field(default_factory=list)
    n: int = 12
    action: str = "drop"
    main: list[str] = field(default_factory=list)


def _texts(record: Record, names: list[str]) -> list[str]:
    return [str(record.data[n]) for n in names if record.data.get(n) is not None]


def _quoted(span: str) -> str:
    return span if len(span) <= _SHOWN else span[: _SHOWN - 1] + "…"


class _Runner:
    concurrency = 1

    def __init__(self, node: Node[LeakageConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config
        self.against = SpanIndex(self.cfg.n, tokenize) if self.cfg.parts else None
        self.checked = self.copies = self.secrets = 0

    async def process(self, record: Record) -> Outcome:
        cfg = self.cfg
        missing = [name for name, _ in cfg.fields if name not in record.data]
        if missing:
            return Fail("leakage_error", f"leakage: no field {missing[0]!r} in the record")
        self.checked += 1
        for name, _ in cfg.fields:
            found = find(str(record.data[name] or ""), SECRET_TYPES)
            if found:
                self.secrets += 1
                kinds = sorted({f.type for f in found})
                return Drop(
                    f"leakage: secret ({', '.join(kinds)}) in {name}",
                    {"field": name, "types": kinds},
                )
        own = SpanIndex(cfg.n, tokenize)
        for text in _texts(record, [n for n, _ in cfg.source_fields]):
            own.add(text)
        for name, _ in cfg.fields:
            span = own.longest_shared_span(str(record.data[name] or ""), self.against)
            if span is None:
                continue
            self.copies += 1
            words = len(span.split())
            if cfg.action == "flag":
                return Emit([self._flagged(record, span)])
            return Drop(
                f'leakage: {name} copies {words} words: "{_quoted(span)}"',
                {"field": name, "span": span, "words": words},
            )
        return Emit([self._flagged(record, None) if cfg.action == "flag" else record])

    def _flagged(self, record: Record, span: str | None) -> Record:
        return record.child(self.rt.node_key(self.node.id), {**record.data, FLAG_FIELD: span})

    def finish(self) -> None:
        rate = self.copies / self.checked if self.checked else 0.0
        self.rt.note(
            self.node.id,
            "leakage",
            {
                "checked": self.checked,
                "copies": self.copies,
                "secrets": self.secrets,
                "rate": round(rate, 6),
                "n": self.cfg.n,
            },
        )

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        """With ``against``: index the reference inputs, then check the main input."""
        assert self.against is not None
        buffers = await read_all(inputs)
        names = self.cfg.against_fields or [n for n, _ in self.cfg.source_fields]
        for ref in self.cfg.parts:
            for rec in buffers.get(ref.node, []):
                for text in _texts(rec, names):
                    self.against.add(text)
        count_references(buffers, self.cfg.main, out)
        for nid in self.cfg.main:
            for rec in buffers.get(nid, []):
                out.count_in(1)
                outcome = await self.process(rec)
                if isinstance(outcome, Drop):
                    out.drop(rec, outcome.reason, outcome.detail)
                elif isinstance(outcome, Fail):
                    out.fail(rec, outcome.kind, outcome.message)
                else:
                    out.count_passed(1)
                    for emitted in outcome.records:
                        await out.emit(emitted)
        self.finish()


class LeakageKind(NodeKind[LeakageConfig]):
    name = "leakage"
    references_stay = True

    def link(self, config: LeakageConfig, main: list[str], resolve: Resolve) -> list[str]:
        config.main = list(main)
        return link_refs(config.parts, resolve)

    def upstream_fields(
        self, config: LeakageConfig, inputs: dict[str, list[str]]
    ) -> list[str] | None:
        return main_fields(config.main, inputs)

    def supports_when(self, config: LeakageConfig) -> bool:
        return not config.parts

    def configure(self, raw: Any, ctx: CheckContext) -> LeakageConfig:
        if not isinstance(raw, dict) or "fields" not in raw:
            ctx.error(ctx.span(), "leakage needs 'fields': the generated fields to check")
            return LeakageConfig([])

        def named(key: str) -> list[tuple[str, Span]]:
            return [(str(f), ctx.span(key, i)) for i, f in enumerate(raw.get(key) or [])]

        cfg = LeakageConfig(
            named("fields"),
            named("source_fields"),
            [
                _Ref(str(name), ctx.span("against", i))
                for i, name in enumerate(raw.get("against") or [])
            ],
            [str(f) for f in raw.get("against_fields") or []],
            int(raw.get("n", 12)),
            str(raw.get("action", "drop")),
        )
        if not cfg.source_fields and not cfg.parts:
            ctx.error(
                ctx.span(),
                "leakage needs the proprietary text: 'source_fields' (fields of the record) "
                "or 'against' (sources or steps)",
            )
        if cfg.against_fields and not cfg.parts:
            ctx.error(ctx.key_span("against_fields"), "'against_fields' goes with 'against'")
        if cfg.parts and not cfg.against_fields and not cfg.source_fields:
            ctx.error(
                ctx.key_span("against"),
                "say which fields of the 'against' records to read",
                "add against_fields: [text]",
            )
        return cfg

    def read_fields(self, cfg: LeakageConfig) -> list[tuple[str, Span]]:
        return [*cfg.fields, *cfg.source_fields]

    def output_fields(self, cfg: LeakageConfig, upstream: list[str]) -> list[str]:
        if cfg.action != "flag":
            return list(upstream)
        return [*[f for f in upstream if f != FLAG_FIELD], FLAG_FIELD]

    def estimate(self, node: Node[LeakageConfig], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(records=n_in, exact=False)

    def describe(self, cfg: LeakageConfig) -> dict[str, Any]:
        out: dict[str, Any] = {"fields": [n for n, _ in cfg.fields], "n": cfg.n}
        if cfg.source_fields:
            out["source_fields"] = [n for n, _ in cfg.source_fields]
        if cfg.parts:
            out["against"] = [r.node or r.source for r in cfg.parts]
        if cfg.against_fields:
            out["against_fields"] = cfg.against_fields
        out["action"] = cfg.action
        return out

    def map_runner(self, node: Node[LeakageConfig], rt: Runtime) -> MapRunner | None:
        cfg: LeakageConfig = node.config
        return None if cfg.parts else _Runner(node, rt)

    def stream_runner(self, node: Node[LeakageConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = LeakageKind()
