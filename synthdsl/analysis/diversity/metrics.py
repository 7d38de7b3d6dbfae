"""Per-dataset diversity metrics, one function each, plus ``summarize`` for all of them.

Takes an iterable of texts (read once). Gives ``distinct_n``, ``ngram_entropy``,
``compression_ratio``, ``self_bleu``, ``length_stats``, ``vocabulary_size`` and
``summarize`` (→ ``DiversityReport``); each runs a ``TextProfile`` counting only what it
needs. Raises ValueError for ``n < 1``, ``max_n < 1`` and a negative sample size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from synthdsl.analysis.diversity.counts import check_n
from synthdsl.analysis.diversity.profile import BLEU_SAMPLE, TextProfile
from synthdsl.analysis.diversity.reports import DiversityReport, LengthStats

__all__ = [
    "compression_ratio",
    "distinct_n",
    "length_stats",
    "ngram_entropy",
    "self_bleu",
    "summarize",
    "vocabulary_size",
]


def _profile(
    texts: Iterable[str],
    *,
    orders: Sequence[int] = (1, 2),
    sample: int = 0,
    max_n: int = 4,
    seed: int = 0,
) -> TextProfile:
    return TextProfile(sample=sample, max_n=max_n, seed=seed, mode_sample=0, orders=orders).update(
        texts
    )


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct-n: distinct n-grams / total n-grams over all texts (Li et al. 2016).

    N-grams do not cross text boundaries; texts shorter than ``n`` tokens contribute
    none. 0.0 when there is no n-gram. Raises ValueError for ``n < 1``.
    """
    check_n(n)
    return _profile(texts, orders=(n,)).distinct(n)


def ngram_entropy(texts: Iterable[str], n: int) -> float:
    """Shannon entropy, in bits, of the n-gram frequency distribution over all texts.

    H = -Σ p(g) log2 p(g); k equally frequent n-grams give log2(k). 0.0 when empty.
    """
    check_n(n)
    return _profile(texts, orders=(n,)).entropy(n)


def compression_ratio(texts: Iterable[str]) -> float:
    """Raw UTF-8 bytes / deflate-compressed bytes of the texts joined by newlines.

    zlib level 6, raw deflate (no header). Higher means more repetitive: repeated
    phrases, templates and near-duplicates compress well. Deflate only sees repeats
    within its 32 KiB window, so the ratio grows with dataset size up to a few hundred
    KiB and is best compared between datasets of similar size. 0.0 for no text.
    """
    return _profile(texts, orders=()).compression_ratio()


def self_bleu(
    texts: Iterable[str], sample: int = BLEU_SAMPLE, max_n: int = 4, seed: int = 0
) -> float | None:
    """Self-BLEU: mean BLEU of each text in a random sample against the rest of it.

    ``sample`` non-empty texts are drawn uniformly (reservoir sampling seeded by
    ``seed``); each is scored with ``bleu`` (smoothed, up to ``max_n``-grams) against the
    other sampled texts as references. Lower means more diverse. ``None`` with fewer
    than two non-empty texts; the value depends on the sample size (more references,
    more matches), so compare self-BLEU computed with the same ``sample``.
    """
    if sample < 0:
        raise ValueError(f"sample must be >= 0, got {sample}")
    return _profile(texts, orders=(), sample=sample, max_n=max_n, seed=seed).self_bleu()


def length_stats(texts: Iterable[str]) -> LengthStats:
    """Count, mean, std, min, p10, p50, p90 and max of the texts' lengths in tokens."""
    return LengthStats.of(_profile(texts, orders=()).lengths())


def vocabulary_size(texts: Iterable[str]) -> int:
    """The number of distinct tokens over all texts."""
    return int(_profile(texts, orders=()).ngram_counts(1)[0].size)


def summarize(
    texts: Iterable[str], *, sample: int = BLEU_SAMPLE, max_n: int = 4, seed: int = 0
) -> DiversityReport:
    """Every per-dataset metric, in one pass over ``texts``; see ``DiversityReport``."""
    return TextProfile(sample=sample, max_n=max_n, seed=seed, mode_sample=0).update(texts).report()
