"""Drift of a synthetic dataset from a reference one.

Takes two ``TextProfile``s (``compare_profiles``) or two iterables of texts
(``compare``). Gives a ``DriftReport``: Jensen–Shannon divergence of the unigram and
bigram distributions (``js_divergence`` for any two count mappings), winsorised variance
ratios of record lengths and per-record entropies, the vocabulary ratio at equal size
(rarefaction) and mode coverage. Raises ValueError for mode parameters out of range and
for negative weights given to ``js_divergence``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from synthdsl.analysis.arrays import FloatArray, IntArray, KeyArray
from synthdsl.analysis.diversity.counts import (
    MASK32,
    SHIFT32,
    rarefied_types,
)
from synthdsl.analysis.diversity.profile import TextProfile
from synthdsl.analysis.diversity.reports import DriftReport, ModeShare

__all__ = ["compare", "compare_profiles", "js_divergence"]

_K = TypeVar("_K", bound=Hashable)


def _js_aligned(p: FloatArray, q: FloatArray) -> float:
    """Jensen–Shannon divergence (base 2) of two count vectors over the same support."""
    sp, sq = float(p.sum()), float(q.sum())
    if sp <= 0 and sq <= 0:
        return 0.0
    if sp <= 0 or sq <= 0:
        return 1.0
    pn, qn = p / sp, q / sq
    m = (pn + qn) / 2.0

    def kl(a: FloatArray) -> float:
        nz = a > 0
        return float(np.dot(a[nz], np.log2(a[nz] / m[nz])))

    return min(1.0, max(0.0, 0.5 * kl(pn) + 0.5 * kl(qn)))


def js_divergence(p: Mapping[_K, float], q: Mapping[_K, float]) -> float:
    """Jensen–Shannon divergence, base 2, of two distributions given as counts or weights.

    JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M) with M = ½ (P + Q); it is symmetric, 0 for
    identical distributions and 1 for disjoint supports. Both mappings are normalised
    first. Two empty distributions give 0, one empty and one not give 1.
    """
    support = list(dict.fromkeys([*p, *q]))
    pa = np.array([float(p.get(k, 0.0)) for k in support], dtype=np.float64)
    qa = np.array([float(q.get(k, 0.0)) for k in support], dtype=np.float64)
    if (pa < 0).any() or (qa < 0).any():
        raise ValueError("js_divergence: weights must be >= 0")
    return _js_aligned(pa, qa)


def _union_maps(a: Sequence[str], b: Sequence[str]) -> tuple[IntArray, IntArray, list[str]]:
    """Id maps from two vocabularies into their union (in order of first appearance)."""
    union: dict[str, int] = {}
    map_a = np.fromiter((union.setdefault(w, len(union)) for w in a), np.int64, len(a))
    map_b = np.fromiter((union.setdefault(w, len(union)) for w in b), np.int64, len(b))
    return map_a, map_b, list(union)


def _remap_bigrams(keys: KeyArray, id_map: IntArray) -> KeyArray:
    if keys.size == 0:
        return keys
    first = id_map[(keys >> SHIFT32).astype(np.int64)].astype(np.uint64)
    second = id_map[(keys & MASK32).astype(np.int64)].astype(np.uint64)
    return (first << SHIFT32) | second


def _aligned_counts(
    keys_a: npt.NDArray[Any], counts_a: IntArray, keys_b: npt.NDArray[Any], counts_b: IntArray
) -> tuple[FloatArray, FloatArray]:
    keys = np.concatenate([keys_a, keys_b])
    _, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    size = int(inverse.max()) + 1 if inverse.size else 0
    p = np.zeros(size, dtype=np.float64)
    q = np.zeros(size, dtype=np.float64)
    np.add.at(p, inverse[: keys_a.size], counts_a.astype(np.float64))
    np.add.at(q, inverse[keys_a.size :], counts_b.astype(np.float64))
    return p, q


def _variance_ratio(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float | None:
    """Var(a) / Var(b), both winsorised at the 1st and 99th percentiles of a and b pooled.

    Record lengths are heavy-tailed: one 3,000-token record among 400 can double a
    sample variance, and two samples of the same source then differ by 2×. Clipping the
    extreme 1% on each side to the pooled percentiles (the same limits for both sets)
    keeps the ratio about the spread of the records, not about one outlier.
    """
    if a.size == 0 or b.size == 0:
        return None
    lo, hi = np.percentile(np.concatenate([a, b]).astype(np.float64), [1, 99])
    vb = float(np.var(np.clip(b, lo, hi)))
    return float(np.var(np.clip(a, lo, hi))) / vb if vb > 0 else None


def _mode_shares(
    synthetic: Sequence[Sequence[int]],
    reference: Sequence[Sequence[int]],
    words: Sequence[str],
    *,
    modes: int,
    terms: int,
    max_df: float,
    min_share: float,
    min_records: int,
    keep: float,
) -> tuple[float | None, list[ModeShare]]:
    """Mode coverage; documents are token ids in one shared vocabulary (``words``).

    Key terms: the ``terms`` terms found in the most reference records, among those
    found in at least ``floor`` = max(``min_records``, ``min_share`` × N) and at most
    ``max_df`` × N of the N reference records (terms in most records, function words,
    say nothing about content; rarer ones cannot define a group). A record's dominant
    term is its key term with the highest tf × idf, idf = ln(N / df) from the reference
    (ties: the rarer term, then alphabetical): among common terms, the one that says
    most about this record. Records without key terms have none. A mode is a dominant
    term of at least ``floor`` reference records; the ``modes`` largest are kept.
    Synthetic records get dominant terms by the same rule, with the reference's
    statistics. A mode is covered when its share of the synthetic records is at least
    ``keep`` × its share of the reference records.
    """
    n_ref = len(reference)
    if n_ref == 0:
        return None, []
    df: Counter[int] = Counter()
    for doc in reference:
        df.update(set(doc))
    floor = max(min_records, math.ceil(min_share * n_ref))
    eligible = [t for t, d in df.items() if floor <= d <= max_df * n_ref]
    eligible.sort(key=lambda t: (-df[t], words[t]))
    idf = {t: math.log(n_ref / df[t]) for t in eligible[:terms]}

    def dominant(doc: Sequence[int]) -> int | None:
        tf = Counter(t for t in doc if t in idf)
        if not tf:
            return None
        return min(tf, key=lambda t: (-tf[t] * idf[t], df[t], words[t]))

    ref_counts = Counter(dominant(doc) for doc in reference)
    syn_counts = Counter(dominant(doc) for doc in synthetic)
    ranked = sorted(
        ((t, c) for t, c in ref_counts.items() if t is not None and c >= floor),
        key=lambda tc: (-tc[1], words[tc[0]]),
    )[:modes]
    if not ranked:
        return None, []
    n_syn = max(len(synthetic), 1)
    shares: list[ModeShare] = []
    for term, count in ranked:
        ref_share = count / n_ref
        syn_share = syn_counts.get(term, 0) / n_syn
        shares.append(ModeShare(words[term], ref_share, syn_share, syn_share >= keep * ref_share))
    return sum(m.covered for m in shares) / len(shares), shares


def compare_profiles(
    synthetic: TextProfile,
    reference: TextProfile,
    *,
    modes: int = 50,
    mode_terms: int = 100,
    mode_max_df: float = 0.5,
    mode_min_share: float = 0.01,
    mode_min_records: int = 8,
    mode_keep: float = 0.25,
) -> DriftReport:
    """The ``DriftReport`` of a synthetic profile against a reference profile.

    Mode parameters (see ``_mode_shares``): at most ``modes`` modes, dominant terms
    chosen among ``mode_terms`` key terms; a term in more than ``mode_max_df`` of the
    reference records is no key term; a mode holds at least
    max(``mode_min_records``, ``mode_min_share`` × records) reference records (8: with
    fewer, sampling noise alone loses modes); a mode is covered while its synthetic
    share is at least ``mode_keep`` × its reference share.
    """
    if not 0 < mode_max_df <= 1 or not 0 <= mode_min_share <= 1 or mode_keep < 0:
        raise ValueError("mode_max_df must be in (0, 1], mode_min_share in [0, 1], keep >= 0")
    if modes < 1 or mode_terms < 1 or mode_min_records < 1:
        raise ValueError("modes, mode_terms and mode_min_records must be >= 1")
    map_s, map_r, words = _union_maps(synthetic.words, reference.words)

    uni_s, cnt_s = synthetic.ngram_counts(1)
    uni_r, cnt_r = reference.ngram_counts(1)
    p1, q1 = _aligned_counts(
        map_s[uni_s.astype(np.int64)], cnt_s, map_r[uni_r.astype(np.int64)], cnt_r
    )
    bi_s, bcnt_s = synthetic.ngram_counts(2)
    bi_r, bcnt_r = reference.ngram_counts(2)
    p2, q2 = _aligned_counts(
        _remap_bigrams(bi_s, map_s), bcnt_s, _remap_bigrams(bi_r, map_r), bcnt_r
    )

    budget = min(int(cnt_s.sum()), int(cnt_r.sum()))
    vocab_ref = rarefied_types(cnt_r, budget)
    vocab_ratio = rarefied_types(cnt_s, budget) / vocab_ref if vocab_ref > 0 else None

    syn_docs = [map_s[d].tolist() for d in synthetic.mode_sample]
    ref_docs = [map_r[d].tolist() for d in reference.mode_sample]
    coverage, shares = _mode_shares(
        syn_docs,
        ref_docs,
        words,
        modes=modes,
        terms=mode_terms,
        max_df=mode_max_df,
        min_share=mode_min_share,
        min_records=mode_min_records,
        keep=mode_keep,
    )
    lengths_s, lengths_r = synthetic.lengths(), reference.lengths()
    return DriftReport(
        synthetic_records=int(lengths_s.size),
        reference_records=int(lengths_r.size),
        js_unigram=_js_aligned(p1, q1),
        js_bigram=_js_aligned(p2, q2),
        length_variance_ratio=_variance_ratio(lengths_s, lengths_r),
        entropy_variance_ratio=_variance_ratio(
            synthetic.record_entropies(), reference.record_entropies()
        ),
        vocabulary_ratio=vocab_ratio,
        vocabulary_tokens=budget,
        mode_coverage=coverage,
        modes=shares,
    )


def compare(
    synthetic_texts: Iterable[str], reference_texts: Iterable[str], *, seed: int = 0
) -> DriftReport:
    """Drift of a synthetic dataset from a reference one; see ``DriftReport``."""
    syn = TextProfile(sample=0, seed=seed).update(synthetic_texts)
    ref = TextProfile(sample=0, seed=seed).update(reference_texts)
    return compare_profiles(syn, ref)
