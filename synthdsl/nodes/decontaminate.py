"""The ``decontaminate`` node: drop records that share n-grams with evaluation sets.

Config: ``against`` names the reference inputs, each one benchmark (a mapping
``{benchmark: source}``, or a list of sources, each its own benchmark); ``field`` /
``fields`` are the record's texts checked and ``ref_fields`` the reference items' texts
(default: the same names); ``ngram`` is the n-gram size in words (default 13);
``normalize`` turns off ``lowercase``, ``punctuation`` (stripping) or ``whitespace``
(collapsing); ``coverage: x`` changes the rule from "any shared n-gram" to "at least
this share of the record's n-grams is in the benchmark".

Run: each benchmark's items become a ``ReferenceSet`` (``textproc/ngrams.py``), read
back from the project's cache when the same items were indexed with the same settings
before (``textproc/ngram_store.py``). Records are then checked in batches, against the
benchmarks in the order given; the first benchmark that a record hits drops it with the
reason ``contaminated (BENCHMARK)`` and the detail: benchmark, matched item (its ``id``
field, else ``row N``), shared span (the longest run of shared n-grams, normalised),
shared n-grams and coverage. The node's ``contamination`` note (manifest, report) holds
per benchmark its items, n-grams, whether the set was built or reused, and the drops.

Errors: problems in the config at ``file:line:col`` (``configure``, ``check_graph``);
``RunError`` when the cache folder cannot be written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Diagnostic, RunError, Span
from synthdsl.lang.expr.types import FieldType
from synthdsl.nodes.base import (
    CheckContext,
    Estimate,
    Estimator,
    GraphReport,
    NodeKind,
    Outbox,
    Resolve,
    Runtime,
    StreamRunner,
    count_references,
    link_refs,
    main_fields,
    read_all,
)
from synthdsl.records import Record
from synthdsl.textproc.ngram_store import default_folder, reference_set
from synthdsl.textproc.ngrams import Match, NgramSettings, ReferenceSet, is_hit, rule_text

if TYPE_CHECKING:
    from synthdsl.ir import Graph, Node

__all__ = ["KIND", "DecontaminateConfig"]

_BATCH = 1024  # records hashed and looked up together


@dataclass
class _Benchmark:
    name: str
    source: str
    span: Span
    node: str = ""


@dataclass
class DecontaminateConfig:
    fields: list[str]
    spans: list[Span]
    ref_fields: list[str]
    ref_span: Span
    settings: NgramSettings
    coverage: float | None  # None: any shared n-gram is a hit
    parts: list[_Benchmark] = field(default_factory=list)
    main: list[str] = field(default_factory=list)

    def rule(self) -> str:
        return rule_text(self.coverage)


def _texts(record: Record, names: Sequence[str]) -> list[str]:
    out = []
    for name in names:
        value = record.data.get(name)
        if value is not None:
            out.append(value if isinstance(value, str) else str(value))
    return out


def _label(record: Record, row: int) -> str:
    ident = record.data.get("id")
    if isinstance(ident, (str, int)) and not isinstance(ident, bool):
        return str(ident)
    return f"row {row}"


class _Runner:
    def __init__(self, node: Node[DecontaminateConfig], rt: Runtime) -> None:
        self.node = node
        self.cfg = node.config
        self.rt = rt

    def _reference(self, records: list[Record]) -> tuple[ReferenceSet, bool]:
        items = [
            (_label(rec, row), _texts(rec, self.cfg.ref_fields))
            for row, rec in enumerate(records, start=1)
        ]
        folder = default_folder()
        try:
            return reference_set(items, self.cfg.settings, folder)
        except OSError as exc:
            raise RunError(
                f"step '{self.node.id}': cannot write the n-gram cache in {folder}: {exc}"
            ) from None

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        buffers = await read_all(inputs)
        benches: list[tuple[_Benchmark, ReferenceSet]] = []
        note: dict[str, dict[str, Any]] = {}
        for bench in self.cfg.parts:
            ref, built = self._reference(buffers.get(bench.node, []))
            benches.append((bench, ref))
            note[bench.name] = {
                "source": bench.source,
                "items": len(ref.labels),
                "ngrams": len(ref),
                "built": built,
                "dropped": 0,
            }
        count_references(buffers, self.cfg.main, out)
        records = [rec for nid in self.cfg.main for rec in buffers.get(nid, [])]
        for start in range(0, len(records), _BATCH):
            batch = records[start : start + _BATCH]
            out.count_in(len(batch))
            hits: list[tuple[str, Match] | None] = [None] * len(batch)
            for bench, ref in benches:
                todo = [i for i, h in enumerate(hits) if h is None]
                if not todo:
                    break
                found = ref.match([_texts(batch[i], self.cfg.fields) for i in todo])
                for i, match in zip(todo, found, strict=True):
                    if is_hit(match, self.cfg.coverage):
                        hits[i] = (bench.name, match)
            for rec, hit in zip(batch, hits, strict=True):
                if hit is None:
                    out.count_passed(1)
                    await out.emit(rec)
                    continue
                name, match = hit
                note[name]["dropped"] += 1
                out.drop(
                    rec,
                    f"contaminated ({name})",
                    {
                        "benchmark": name,
                        "item": match.item,
                        "span": match.span,
                        "shared_ngrams": match.shared,
                        "coverage": round(match.coverage, 4),
                    },
                )
        self.rt.note(
            self.node.id,
            "contamination",
            {"ngram": self.cfg.settings.n, "rule": self.cfg.rule(), "benchmarks": note},
        )


def _fields(raw: Any, ctx: CheckContext, single: str, plural: str) -> tuple[list[str], list[Span]]:
    if single in raw and plural in raw:
        ctx.error(ctx.key_span(plural), f"give either '{single}' or '{plural}', not both")
    if single in raw:
        return [str(raw[single])], [ctx.span(single)]
    if plural in raw:
        names = [str(f) for f in raw[plural]]
        return names, [ctx.span(plural, i) for i in range(len(names))]
    return [], []


class DecontaminateKind(NodeKind[DecontaminateConfig]):
    name = "decontaminate"
    references_stay = True

    def configure(self, raw: Any, ctx: CheckContext) -> DecontaminateConfig:
        fields, spans = _fields(raw, ctx, "field", "fields")
        if not fields:
            ctx.error(ctx.span(), "decontaminate needs 'field' (or 'fields') to check")
        ref_fields, _ = _fields(raw, ctx, "ref_field", "ref_fields")
        has_ref = "ref_field" in raw or "ref_fields" in raw
        ref_span = (
            ctx.span("ref_fields" if "ref_fields" in raw else "ref_field")
            if has_ref
            else (ctx.span())
        )
        against = raw.get("against")
        parts: list[_Benchmark] = []
        if isinstance(against, dict):
            parts = [
                _Benchmark(str(name), str(src), ctx.span("against", str(name)))
                for name, src in against.items()
            ]
        elif isinstance(against, list):
            parts = [
                _Benchmark(str(src), str(src), ctx.span("against", i))
                for i, src in enumerate(against)
            ]
        if not parts:
            ctx.error(
                ctx.span(),
                "decontaminate needs 'against': the evaluation sets to check against",
                "e.g. against: {gsm8k: gsm8k_test}, where gsm8k_test is a declared source",
            )
        norm = raw.get("normalize") or {}
        settings = NgramSettings(
            n=int(raw.get("ngram", 13)),
            lowercase=bool(norm.get("lowercase", True)),
            punctuation=bool(norm.get("punctuation", True)),
            whitespace=bool(norm.get("whitespace", True)),
        )
        coverage = raw.get("coverage")
        return DecontaminateConfig(
            fields,
            spans,
            ref_fields or list(fields),
            ref_span,
            settings,
            None if coverage is None else float(coverage),
            parts,
        )

    def supports_when(self, config: DecontaminateConfig) -> bool:
        return False  # it reads its references whole, so it is not record at a time

    def link(self, config: DecontaminateConfig, main: list[str], resolve: Resolve) -> list[str]:
        config.main = list(main)
        return link_refs(config.parts, resolve)

    def upstream_fields(
        self, config: DecontaminateConfig, inputs: dict[str, list[str]]
    ) -> list[str] | None:
        return main_fields(config.main, inputs)

    def field_types(
        self, config: DecontaminateConfig, upstream: dict[str, FieldType]
    ) -> dict[str, FieldType]:
        return dict(upstream)  # records pass unchanged

    def read_fields(self, config: DecontaminateConfig) -> list[tuple[str, Span]]:
        return list(zip(config.fields, config.spans, strict=True))

    def check_graph(
        self, node: Node[DecontaminateConfig], graph: Graph, report: GraphReport
    ) -> None:
        """Each benchmark's records carry the ``ref_fields``, and no name repeats."""
        cfg = node.config
        seen: set[str] = set()
        for bench in cfg.parts:
            if bench.node in seen:
                report.error(Diagnostic(bench.span, f"'{bench.source}' is checked against twice"))
            seen.add(bench.node)
            ref = graph.nodes.get(bench.node)
            if ref is None or "*" in ref.fields or not ref.fields:
                continue
            missing = [f for f in cfg.ref_fields if f not in ref.fields]
            if missing:
                report.error(
                    Diagnostic(
                        cfg.ref_span,
                        f"benchmark '{bench.name}' ({bench.source}) has no field "
                        f"{', '.join(repr(m) for m in missing)}",
                        f"its records have: {', '.join(ref.fields)}; name them with ref_fields",
                    )
                )

    def estimate(
        self, node: Node[DecontaminateConfig], n_in: int | None, est: Estimator
    ) -> Estimate:
        return Estimate(records=n_in, exact=False)

    def describe(self, config: DecontaminateConfig) -> dict[str, Any]:
        s = config.settings
        return {
            "fields": config.fields,
            "ref_fields": config.ref_fields,
            "against": {b.name: b.node or b.source for b in config.parts},
            "ngram": s.n,
            "rule": config.rule(),
            "normalize": {
                "lowercase": s.lowercase,
                "punctuation": s.punctuation,
                "whitespace": s.whitespace,
            },
        }

    def stream_runner(self, node: Node[DecontaminateConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = DecontaminateKind()
