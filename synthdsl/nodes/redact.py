"""The ``redact`` node: replace personal and secret data in chosen fields.

``redact: {fields: [text], types: [email, phone, ...], patterns: {NAME: REGEX},
numbered: false}`` rewrites each named field (a string, or strings inside lists and
mappings) with ``textproc/pii.py``: every finding becomes a typed placeholder
(``[EMAIL]``; with ``numbered: true`` ``[EMAIL_1]``, the same value the same number in
every field of the record). ``types`` selects the built-in detectors (default: all);
``patterns`` adds named regexes, compiled for RE2 like every recipe regex
(``lang/expr/functions.py: compile_regex``: linear time, bounded size), which claim
text before the built-in detectors. Records are never dropped; a missing field fails
the record (``redact_error``). The manifest's node entry gets ``redacted`` (findings
per type) and ``records_changed``.

Errors at compile time: an unknown type (with a did-you-mean hint), a bad or
unsupported regex, a pattern name that is not an identifier, no fields.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span, did_you_mean
from synthdsl.lang.expr.functions import compile_regex
from synthdsl.nodes.base import (
    CheckContext,
    Emit,
    Estimate,
    Estimator,
    Fail,
    MapRunner,
    NodeKind,
    Outcome,
    Runtime,
)
from synthdsl.records import Record
from synthdsl.textproc.pii import DETECTORS, Numbering, PatternFinder, scrub

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "RedactConfig"]


@dataclass
class RedactConfig:
    fields: list[str]
    spans: list[Span]
    types: list[str] = field(default_factory=lambda: list(DETECTORS))
    patterns: dict[str, str] = field(default_factory=dict)
    numbered: bool = False


def _finder(pattern: str) -> PatternFinder:
    compiled: Any = compile_regex(pattern)  # an RE2 pattern: finditer as in ``re``

    def spans(text: str) -> Iterable[tuple[int, int]]:
        return (m.span() for m in compiled.finditer(text))

    return spans


class _Runner:
    concurrency = 1
    quick = True  # process() never waits: it may run in its producer's task

    def __init__(self, node: Node[RedactConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config
        self.extra = [(name, _finder(p)) for name, p in self.cfg.patterns.items()]
        self.counts: Counter[str] = Counter()
        self.changed = 0

    def _scrub(self, value: Any, numbering: Numbering | None, counts: Counter[str]) -> Any:
        if isinstance(value, str):
            text, found = scrub(value, self.cfg.types, self.extra, numbering)
            counts.update(found)
            return text
        if isinstance(value, list):
            return [self._scrub(v, numbering, counts) for v in value]
        if isinstance(value, dict):
            return {k: self._scrub(v, numbering, counts) for k, v in value.items()}
        return value

    async def process(self, record: Record) -> Outcome:
        missing = [f for f in self.cfg.fields if f not in record.data]
        if missing:
            return Fail("redact_error", f"redact: no field {missing[0]!r} in the record")
        numbering = Numbering() if self.cfg.numbered else None
        counts: Counter[str] = Counter()
        data = dict(record.data)
        for name in self.cfg.fields:
            data[name] = self._scrub(data[name], numbering, counts)
        self.counts.update(counts)
        self.changed += bool(counts)
        return Emit([record.child(self.rt.node_key(self.node.id), data)])

    def finish(self) -> None:
        self.rt.note(self.node.id, "redacted", dict(sorted(self.counts.items())))
        self.rt.note(self.node.id, "records_changed", self.changed)


class RedactKind(NodeKind[RedactConfig]):
    name = "redact"

    def supports_when(self, config: RedactConfig) -> bool:
        return True

    def configure(self, raw: Any, ctx: CheckContext) -> RedactConfig:
        if not isinstance(raw, dict) or "fields" not in raw:
            ctx.error(ctx.span(), "redact needs 'fields': the fields to scrub")
            return RedactConfig([], [])
        fields = [str(f) for f in raw["fields"]]
        cfg = RedactConfig(fields, [ctx.span("fields", i) for i in range(len(fields))])
        if "types" in raw:
            cfg.types = []
            for i, name in enumerate(raw["types"]):
                if name in DETECTORS:
                    cfg.types.append(str(name))
                    continue
                hint = did_you_mean(str(name), list(DETECTORS))
                ctx.error(
                    ctx.span("types", i),
                    f"unknown redact type '{name}'",
                    hint or f"the types are {', '.join(DETECTORS)}",
                )
        for name, pattern in dict(raw.get("patterns") or {}).items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(name)):
                ctx.error(
                    ctx.key_span("patterns", name),
                    f"pattern name '{name}' must be letters, digits and _ (it names the "
                    "placeholder)",
                )
                continue
            if str(name).lower() in DETECTORS:
                ctx.error(
                    ctx.key_span("patterns", name),
                    f"pattern name '{name}' is a built-in type; choose another name",
                )
                continue
            try:
                compile_regex(str(pattern))
            except re.error as exc:
                ctx.error(ctx.span("patterns", name), f"bad regex for '{name}': {exc}")
                continue
            cfg.patterns[str(name)] = str(pattern)
        cfg.numbered = bool(raw.get("numbered", False))
        return cfg

    def read_fields(self, cfg: RedactConfig) -> list[tuple[str, Span]]:
        return list(zip(cfg.fields, cfg.spans, strict=True))

    def estimate(self, node: Node[RedactConfig], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(records=n_in)

    def describe(self, cfg: RedactConfig) -> dict[str, Any]:
        out: dict[str, Any] = {"fields": cfg.fields, "types": cfg.types}
        if cfg.patterns:
            out["patterns"] = dict(cfg.patterns)
        if cfg.numbered:
            out["numbered"] = True
        return out

    def map_runner(self, node: Node[RedactConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = RedactKind()
