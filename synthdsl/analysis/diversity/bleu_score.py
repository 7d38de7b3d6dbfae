"""Smoothed sentence BLEU, and self-BLEU of a sample of token sequences.

Takes token sequences (any hashable tokens; the profile passes token ids). Gives
``bleu`` (one hypothesis against references, in [0, 1]) and ``self_bleu_of`` (the mean
BLEU of each sampled document against the others, ``None`` for fewer than two). Raises
ValueError for ``max_n < 1``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence

from synthdsl.analysis.diversity.counts import check_n

__all__ = ["bleu", "self_bleu_of"]


def _bleu_from_counts(
    matches: Sequence[int], totals: Sequence[int], hyp_len: int, ref_len: int, max_n: int
) -> float:
    """Sentence BLEU from clipped matches and totals per order (index 0 = unigrams).

    Orders run up to min(max_n, hyp_len), uniformly weighted, so a hypothesis shorter
    than ``max_n`` tokens is scored on the orders it has. Unigram precision is not
    smoothed (no unigram match → 0); orders ≥ 2 use add-one smoothing (Lin & Och 2004,
    "smoothing 2" in Chen & Cherry 2014): (matches + 1) / (totals + 1). Brevity penalty
    exp(1 - r/c) when the hypothesis length c is not longer than the reference length r.
    """
    orders = min(max_n, hyp_len)
    if orders == 0 or matches[0] == 0:
        return 0.0
    log_p = math.log(matches[0] / totals[0])
    for i in range(1, orders):
        log_p += math.log((matches[i] + 1) / (totals[i] + 1))
    log_p /= orders
    penalty = 1.0 if hyp_len > ref_len else math.exp(1.0 - ref_len / hyp_len)
    return penalty * math.exp(log_p)


def _ngrams(tokens: Sequence[Hashable], n: int) -> Counter[tuple[Hashable, ...]]:
    return Counter(zip(*(tokens[i:] for i in range(n)), strict=False))


def _closest_length(hyp_len: int, lengths: Iterable[int]) -> int:
    """The reference length closest to ``hyp_len``; on a tie the shorter one (Papineni)."""
    return min(lengths, key=lambda r: (abs(r - hyp_len), r))


def bleu(
    hypothesis: Sequence[Hashable], references: Sequence[Sequence[Hashable]], max_n: int = 4
) -> float:
    """Smoothed sentence BLEU of a token sequence against one or more references.

    Modified n-gram precision clips each hypothesis n-gram count by its largest count in
    any one reference; the brevity penalty uses the reference length closest to the
    hypothesis length. Smoothing and short hypotheses: see ``_bleu_from_counts``.
    Returns a value in [0, 1]; 1 for a hypothesis identical to a reference, 0 when there
    is no reference or the hypothesis is empty.
    """
    check_n(max_n, "max_n")
    if not references or not hypothesis:
        return 0.0
    matches: list[int] = []
    totals: list[int] = []
    for n in range(1, max_n + 1):
        hyp = _ngrams(hypothesis, n)
        best: Counter[tuple[Hashable, ...]] = Counter()
        for ref in references:
            best |= _ngrams(ref, n)
        matches.append(sum(min(c, best[g]) for g, c in hyp.items()))
        totals.append(sum(hyp.values()))
    ref_len = _closest_length(len(hypothesis), (len(r) for r in references))
    return _bleu_from_counts(matches, totals, len(hypothesis), ref_len, max_n)


def self_bleu_of(docs: Sequence[Sequence[int]], max_n: int) -> float | None:
    """Mean BLEU of each document against all the others as references.

    The clipping count of an n-gram "in any other reference" is found from the top two
    counts over all documents (the top one, unless the hypothesis itself holds it), so
    the whole sample costs one pass per order instead of one per pair.
    """
    m = len(docs)
    if m < 2:
        return None
    matches = [[0] * max_n for _ in range(m)]
    totals = [[0] * max_n for _ in range(m)]
    for n in range(1, max_n + 1):
        counts = [_ngrams(d, n) for d in docs]
        best: dict[tuple[Hashable, ...], list[int]] = {}  # gram -> [top, owner, second]
        for i, cnt in enumerate(counts):
            for g, c in cnt.items():
                b = best.get(g)
                if b is None:
                    best[g] = [c, i, 0]
                elif c > b[0]:
                    b[2], b[0], b[1] = b[0], c, i
                elif c > b[2]:
                    b[2] = c
        for i, cnt in enumerate(counts):
            clipped = 0
            for g, c in cnt.items():
                b = best[g]
                clipped += min(c, b[2] if b[1] == i else b[0])
            matches[i][n - 1] = clipped
            totals[i][n - 1] = sum(cnt.values())
    lengths = [len(d) for d in docs]
    scores = []
    for i, doc in enumerate(docs):
        others = lengths[:i] + lengths[i + 1 :]
        ref_len = _closest_length(len(doc), others)
        scores.append(_bleu_from_counts(matches[i], totals[i], len(doc), ref_len, max_n))
    return float(sum(scores) / m)
