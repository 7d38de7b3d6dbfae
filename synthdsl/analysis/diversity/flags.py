"""Model-collapse flags: the metrics past their limits, each with a readable reason.

Takes a ``DiversityReport``, optionally a ``DriftReport``, and ``Thresholds`` (the
limits, with how they were chosen). Gives ``collapse_flags`` → ``Flag``s in a fixed
order, and ``drift_judged`` (whether both sides are large enough for drift flags).
Nothing here raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthdsl.analysis.diversity.reports import DiversityReport, DriftReport

__all__ = ["Flag", "Thresholds", "collapse_flags", "drift_judged"]


@dataclass(frozen=True)
class Thresholds:
    """Limits past which a metric is flagged as a sign of model collapse.

    The noise levels quoted come from two kinds of data: paragraphs of Python's
    standard-library docstrings (real English, ~23 tokens each) split into disjoint
    samples, and the seeded toy language of ``tests/analysis/test_diversity.py``.

    Dataset metrics (flagged with or without a reference):

    - ``min_distinct_2`` = 0.25, on ``distinct_2_at_10k``: in 10,000 bigrams of varied
      text most bigrams are new (about 0.72 for both kinds of data above); when three
      bigrams in four are repeats, records recycle phrases.
    - ``max_self_bleu`` = 0.6: independently written texts share few 3- and 4-grams
      (0.21–0.25 on a 200-text sample of either kind); above 0.6 most sampled texts
      are near-paraphrases of another one.
    - ``max_compression_ratio`` = 6.0: prose deflates 2.5–3× (2.6–2.75 above),
      templated but varied data about 3.5×; beyond 6× the data is made of long
      verbatim repeats.

    Drift metrics (with a reference; only when both sides have ``min_records``):

    - ``max_js_unigram`` = 0.3: two samples of one source differ by sampling noise
      alone: 0.17 at 400 records of real text, 0.11 at 1,000, 0.06 at 3,000; 0.3 is a
      word distribution shifted beyond noise.
    - ``max_js_bigram`` = None (not flagged): bigram tables are sparse, and noise alone
      gives 0.45–0.7 at 400 to 3,000 records, so no fixed limit separates drift from
      noise; the value is reported for comparisons between runs of similar size.
    - ``min_length_variance_ratio`` = 0.5 and ``min_entropy_variance_ratio`` = 0.5:
      collapse shrinks variance generation after generation (Shumailov et al. 2024);
      half the reference variance is more narrowing than sampling noise gives (the
      winsorised ratio of two samples of 400 stays within about 0.65–1.45).
    - ``min_vocabulary_ratio`` = 0.6: at equal size, a set using under 60% of the
      reference's vocabulary has lost much of its tail of rare words (noise: ±0.05).
    - ``min_mode_coverage`` = 0.7: losing more than 30% of the reference's modes is a
      lost tail; sampling noise loses one mode in ten at most.
    - ``min_records`` = 200: below it on either side, drift metrics are too noisy to
      flag (unigram JS noise passes 0.2, variance ratios swing by 2×).
    """

    min_distinct_2: float = 0.25
    max_self_bleu: float = 0.6
    max_compression_ratio: float = 6.0
    max_js_unigram: float = 0.3
    max_js_bigram: float | None = None
    min_length_variance_ratio: float = 0.5
    min_entropy_variance_ratio: float = 0.5
    min_vocabulary_ratio: float = 0.6
    min_mode_coverage: float = 0.7
    min_records: int = 200


@dataclass(frozen=True)
class Flag:
    """One metric past its threshold, with a readable message saying why it matters."""

    metric: str
    value: float
    threshold: float
    message: str


def _low(
    metric: str, label: str, value: float | None, limit: float | None, why: str
) -> Flag | None:
    if value is None or limit is None or value >= limit:
        return None
    return Flag(metric, value, limit, f"{label} {value:.2f} < {limit:g}: {why}")


def _high(
    metric: str, label: str, value: float | None, limit: float | None, why: str
) -> Flag | None:
    if value is None or limit is None or value <= limit:
        return None
    return Flag(metric, value, limit, f"{label} {value:.2f} > {limit:g}: {why}")


def drift_judged(drift: DriftReport, thresholds: Thresholds | None = None) -> bool:
    """Whether both sides are large enough (``min_records``) for drift flags."""
    t = thresholds if thresholds is not None else Thresholds()
    return min(drift.synthetic_records, drift.reference_records) >= max(t.min_records, 1)


def collapse_flags(
    report: DiversityReport, drift: DriftReport | None, thresholds: Thresholds | None = None
) -> list[Flag]:
    """The metrics of ``report`` (and ``drift``, when given) past their thresholds.

    An empty dataset gets no flag; drift metrics are judged only when both datasets
    have at least ``thresholds.min_records`` records (see ``drift_judged``). Order:
    dataset metrics, then drift metrics, each in a fixed order.
    """
    t = thresholds if thresholds is not None else Thresholds()
    found: list[Flag | None] = []
    if report.records > 0:
        found += [
            _low(
                "distinct_2_at_10k",
                "distinct-2 (at 10k bigrams)",
                report.distinct_2_at_10k,
                t.min_distinct_2,
                "most phrases repeat across records",
            ),
            _high(
                "self_bleu",
                "self-BLEU",
                report.self_bleu,
                t.max_self_bleu,
                "sampled records are near-paraphrases of each other",
            ),
            _high(
                "compression_ratio",
                "compression ratio",
                report.compression_ratio,
                t.max_compression_ratio,
                "the data is made of long verbatim repeats",
            ),
        ]
    if drift is not None and drift_judged(drift, t):
        lost = ", ".join(repr(m.term) for m in drift.lost_modes[:6])
        more = len(drift.lost_modes) - 6
        lost += f" and {more} more" if more > 0 else ""
        found += [
            _high(
                "js_unigram",
                "JS divergence (unigram)",
                drift.js_unigram,
                t.max_js_unigram,
                "the word distribution drifted from the reference",
            ),
            _high(
                "js_bigram",
                "JS divergence (bigram)",
                drift.js_bigram,
                t.max_js_bigram,
                "the phrasing drifted from the reference",
            ),
            _low(
                "length_variance_ratio",
                "length variance ratio",
                drift.length_variance_ratio,
                t.min_length_variance_ratio,
                "record lengths are narrower than the reference's",
            ),
            _low(
                "entropy_variance_ratio",
                "entropy variance ratio",
                drift.entropy_variance_ratio,
                t.min_entropy_variance_ratio,
                "per-record token entropy is narrower than the reference's",
            ),
            _low(
                "vocabulary_ratio",
                "vocabulary ratio",
                drift.vocabulary_ratio,
                t.min_vocabulary_ratio,
                "rare words are lost (vocabulary compared at equal size)",
            ),
            _low(
                "mode_coverage",
                "mode coverage",
                drift.mode_coverage,
                t.min_mode_coverage,
                f"reference modes lost: {lost}",
            ),
        ]
    return [f for f in found if f is not None]
