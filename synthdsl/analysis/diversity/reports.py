"""The result records of the diversity metrics, and their JSON.

Gives ``LengthStats`` (record lengths in tokens), ``DiversityReport`` (every metric of
one dataset), ``ModeShare`` and ``DriftReport`` (a synthetic set against a reference),
each with ``to_dict``/``to_json`` where it is a top-level result. Plain frozen
dataclasses: nothing here raises.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from synthdsl.analysis.arrays import IntArray

__all__ = ["DiversityReport", "DriftReport", "LengthStats", "ModeShare"]


@dataclass(frozen=True)
class LengthStats:
    """Record lengths in tokens: population mean and std, percentiles (linear)."""

    count: int
    mean: float
    std: float
    min: int
    p10: float
    p50: float
    p90: float
    max: int

    @classmethod
    def of(cls, lengths: IntArray) -> LengthStats:
        if lengths.size == 0:
            return cls(0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0)
        a = lengths.astype(np.float64)
        p10, p50, p90 = (float(x) for x in np.percentile(a, [10, 50, 90]))
        return cls(
            count=int(lengths.size),
            mean=float(a.mean()),
            std=float(a.std()),
            min=int(lengths.min()),
            p10=p10,
            p50=p50,
            p90=p90,
            max=int(lengths.max()),
        )


@dataclass(frozen=True)
class DiversityReport:
    """Diversity metrics of one dataset (definitions in docs/collapse-metrics.md).

    - ``distinct_n``: distinct n-grams / total n-grams over the whole dataset;
    - ``distinct_2_at_10k``: distinct-2 rarefied to 10,000 bigrams (the expected
      distinct-2 of a uniform random subsample of 10,000 bigram occurrences; plain
      distinct-2 when there are fewer). Distinct-n falls as a dataset grows, so the
      collapse flag uses this size-normalised value;
    - ``entropy_n``: Shannon entropy (bits) of the n-gram distribution;
    - ``compression_ratio``: raw bytes / deflate bytes of the texts joined by newlines
      (higher = more repetitive);
    - ``self_bleu``: mean smoothed BLEU-4 of each sampled text against the rest of the
      sample (higher = more alike); ``None`` with fewer than two non-empty texts;
    - ``record_entropy_mean`` / ``_std``: per-record token entropy (``token_entropy``).
    """

    records: int
    tokens: int
    vocabulary_size: int
    distinct_1: float
    distinct_2: float
    distinct_3: float
    distinct_2_at_10k: float
    entropy_1: float
    entropy_2: float
    entropy_3: float
    compression_ratio: float
    self_bleu: float | None
    self_bleu_sample: int
    length: LengthStats
    record_entropy_mean: float
    record_entropy_std: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


@dataclass(frozen=True)
class ModeShare:
    """One reference mode: its term and its share of records in each dataset."""

    term: str
    reference_share: float
    synthetic_share: float
    covered: bool


@dataclass(frozen=True)
class DriftReport:
    """How a synthetic dataset differs from a reference (docs/collapse-metrics.md).

    - ``js_unigram`` / ``js_bigram``: Jensen–Shannon divergence, base 2, in [0, 1];
    - ``length_variance_ratio``: Var(synthetic lengths) / Var(reference lengths), each
      winsorised at the pooled 1st/99th percentiles so one outlier cannot swing it;
    - ``entropy_variance_ratio``: the same for per-record token entropy;
    - ``vocabulary_ratio``: expected vocabulary of ``vocabulary_tokens`` tokens drawn
      from the synthetic set / the same from the reference (rarefaction, so the two are
      compared at equal size);
    - ``mode_coverage``: share of reference modes the synthetic set still covers; each
      mode in ``modes`` says its shares and whether it is covered.

    Ratios are ``None`` when the reference value is 0; ``mode_coverage`` is ``None``
    when the reference has no mode (fewer than a handful of records).
    """

    synthetic_records: int
    reference_records: int
    js_unigram: float
    js_bigram: float
    length_variance_ratio: float | None
    entropy_variance_ratio: float | None
    vocabulary_ratio: float | None
    vocabulary_tokens: int
    mode_coverage: float | None
    modes: list[ModeShare] = field(default_factory=list)

    @property
    def lost_modes(self) -> list[ModeShare]:
        return [m for m in self.modes if not m.covered]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
