"""Benchmark overlap of a dataset: how many records share n-grams with each evaluation set.

Input: the dataset's texts (an iterable of strings), the benchmarks as ``(name,
ReferenceSet)`` pairs and the rule (``coverage=None``: any shared n-gram; else the
share of a record's n-grams that must be in the benchmark). Output: ``overlap(...)`` →
``ContaminationReport``: the records read and, per benchmark, the records that hit it,
their share and the first few hits (record number, matched item, shared span,
coverage); ``to_dict()`` for JSON. A record may hit several benchmarks; ``contaminated``
counts the records that hit any. Raises nothing of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from synthdsl.textproc.ngrams import ReferenceSet, is_hit, rule_text

__all__ = ["BenchmarkOverlap", "ContaminationReport", "Hit", "overlap"]

_BATCH = 1024


@dataclass(frozen=True)
class Hit:
    record: int  # 1-based
    item: str
    span: str
    coverage: float


@dataclass
class BenchmarkOverlap:
    name: str
    items: int
    ngrams: int
    hits: int = 0
    examples: list[Hit] = field(default_factory=list)


@dataclass
class ContaminationReport:
    ngram: int
    rule: str
    records: int = 0
    contaminated: int = 0
    benchmarks: list[BenchmarkOverlap] = field(default_factory=list)

    def share(self, hits: int) -> float:
        return hits / self.records if self.records else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ngram": self.ngram,
            "rule": self.rule,
            "records": self.records,
            "contaminated": self.contaminated,
            "contaminated_share": round(self.share(self.contaminated), 6),
            "benchmarks": {
                b.name: {
                    "items": b.items,
                    "ngrams": b.ngrams,
                    "hits": b.hits,
                    "share": round(self.share(b.hits), 6),
                    "examples": [asdict(h) for h in b.examples],
                }
                for b in self.benchmarks
            },
        }


def overlap(
    texts: Iterable[str],
    benchmarks: Sequence[tuple[str, ReferenceSet]],
    ngram: int,
    coverage: float | None = None,
    examples: int = 5,
) -> ContaminationReport:
    """Check every text against every benchmark (see the module docstring)."""
    report = ContaminationReport(ngram, rule_text(coverage))
    report.benchmarks = [
        BenchmarkOverlap(name, len(ref.labels), len(ref)) for name, ref in benchmarks
    ]
    batch: list[str] = []

    def flush() -> None:
        hit_any = [False] * len(batch)
        for (_, ref), bench in zip(benchmarks, report.benchmarks, strict=True):
            for i, match in enumerate(ref.match([[t] for t in batch])):
                if not is_hit(match, coverage):
                    continue
                hit_any[i] = True
                bench.hits += 1
                if len(bench.examples) < examples:
                    number = report.records + i + 1
                    bench.examples.append(
                        Hit(number, match.item or "", match.span, round(match.coverage, 4))
                    )
        report.contaminated += sum(hit_any)
        report.records += len(batch)
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) >= _BATCH:
            flush()
    if batch:
        flush()
    return report
