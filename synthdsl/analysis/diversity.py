"""Dataset diversity metrics, drift against a reference set, and model-collapse flags.

Input: iterables of texts (any size; each is read once, in one pass), tokenized with
``synthdsl.textproc.tokens.tokenize``. Output:

- per-dataset metrics: ``distinct_n``, ``ngram_entropy``, ``compression_ratio``,
  ``self_bleu``, ``length_stats``, ``vocabulary_size``, ``token_entropy`` (one record),
  and ``summarize`` → ``DiversityReport`` holding all of them;
- drift: ``compare(synthetic, reference)`` → ``DriftReport`` (Jensen–Shannon divergence
  of unigram and bigram distributions, length and per-record entropy variance ratios,
  vocabulary ratio at equal size, mode coverage);
- ``collapse_flags(report, drift, thresholds)`` → ``Flag``s, one per metric past its
  ``Thresholds`` limit, each with a readable reason;
- building blocks: ``bleu`` (multi-reference, smoothed), ``js_divergence`` and
  ``TextProfile`` (the one-pass accumulator behind ``summarize`` and ``compare``: build
  one per dataset, then ``.report()`` and ``compare_profiles``).

Errors: ``ValueError`` for invalid parameters (``n < 1``, ``max_n < 1``, a negative
sample size, a fraction outside its range). Nothing raises on ``str`` input; empty
datasets give zeros, and metrics that are undefined (self-BLEU of fewer than two texts,
a variance ratio against a reference with zero variance) are ``None``.

Memory: one pass keeps the n-gram count tables as numpy arrays (16 bytes per distinct
n-gram), 16 bytes per record (its length and token entropy), and two bounded random
samples of records (self-BLEU, mode coverage). Counting is vectorised per chunk of
about a million tokens, so ``summarize`` of 100,000 short texts takes 1–3 seconds,
most of it tokenizing. See docs/collapse-metrics.md for the definitions and how to read them.
"""

from __future__ import annotations

import json
import math
import random
import re
import zlib
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from synthdsl.textproc.tokens import token_entropy, tokenize

__all__ = [
    "DiversityReport",
    "DriftReport",
    "Flag",
    "LengthStats",
    "ModeShare",
    "TextProfile",
    "Thresholds",
    "bleu",
    "collapse_flags",
    "compare",
    "compare_profiles",
    "compression_ratio",
    "distinct_n",
    "drift_judged",
    "js_divergence",
    "length_stats",
    "ngram_entropy",
    "self_bleu",
    "summarize",
    "token_entropy",
    "vocabulary_size",
]

IntArray = npt.NDArray[np.int64]
KeyArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
_K = TypeVar("_K", bound=Hashable)

#: Tokens buffered before the n-gram tables are updated in one vectorised step.
_CHUNK_TOKENS = 1 << 20
#: The bigram budget of ``distinct_2_at_10k`` (see ``DiversityReport``).
NORMALIZED_BIGRAMS = 10_000
#: Records sampled (uniformly, seeded) per dataset for mode coverage.
MODE_SAMPLE = 5_000
#: Default self-BLEU sample size.
BLEU_SAMPLE = 200

_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


# --------------------------------------------------------------------------- hashing


def _mix64(z: KeyArray) -> KeyArray:
    """The splitmix64 finaliser, element-wise: a bijection of uint64 that scrambles bits."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _ngram_keys(ids: IntArray, lengths: IntArray, n: int) -> KeyArray:
    """One uint64 key per n-gram of the records concatenated in ``ids``.

    ``lengths`` are the records' token counts; n-grams never cross a record boundary.
    Unigram keys are the token ids and bigram keys pack two 32-bit ids, both exact;
    longer n-grams are hashed to 64 bits (two distinct n-grams share a key with
    probability about D²/2⁶⁵ for D distinct n-grams: negligible).
    """
    total = int(ids.size)
    if total < n:
        return np.empty(0, dtype=np.uint64)
    width = total - n + 1
    doc_end = np.repeat(np.cumsum(lengths), lengths)
    valid = np.arange(width) + n <= doc_end[:width]
    u = ids.astype(np.uint64)
    if n == 1:
        keys = u
    elif n == 2:
        keys = (u[:-1] << _SHIFT32) | u[1:]
    else:
        keys = _mix64(u[:width] + np.uint64(0x9E3779B97F4A7C15))
        for j in range(1, n):
            keys = _mix64(keys * np.uint64(0xD6E8FEB86659FD93) + _mix64(u[j : j + width]))
    return keys[valid]


class _NgramCounter:
    """Counts of one n-gram order, kept as sorted (key, count) numpy arrays."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.total = 0
        self._parts: list[tuple[KeyArray, IntArray]] = []
        self._pending = 0
        self._merged = 0

    def add(self, ids: IntArray, lengths: IntArray) -> None:
        keys = _ngram_keys(ids, lengths, self.n)
        if keys.size == 0:
            return
        self.total += int(keys.size)
        uniq, counts = np.unique(keys, return_counts=True)
        self._parts.append((uniq, counts.astype(np.int64)))
        self._pending += int(uniq.size)
        if len(self._parts) > 1 and self._pending > max(2 * self._merged, 1 << 22):
            self._compact()

    def _compact(self) -> None:
        if len(self._parts) <= 1:
            return
        keys = np.concatenate([p[0] for p in self._parts])
        counts = np.concatenate([p[1] for p in self._parts])
        uniq, inverse = np.unique(keys, return_inverse=True)
        summed = np.zeros(uniq.size, dtype=np.int64)
        np.add.at(summed, inverse.reshape(-1), counts)
        self._parts = [(uniq, summed)]
        self._merged = self._pending = int(uniq.size)

    def result(self) -> tuple[KeyArray, IntArray]:
        """Sorted distinct keys and their counts."""
        self._compact()
        if not self._parts:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
        return self._parts[0]


# --------------------------------------------------------------------------- helpers


def _entropy_bits(counts: IntArray | Sequence[int]) -> float:
    """Shannon entropy, in bits, of the distribution proportional to ``counts``."""
    c = np.asarray(counts, dtype=np.float64)
    c = c[c > 0]
    total = float(c.sum())
    if total <= 0:
        return 0.0
    value = math.log2(total) - float(np.dot(c, np.log2(c))) / total
    return max(0.0, value)


def _log_choose(a: int, b: int) -> float:
    return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)


def _rarefied_types(counts: IntArray, k: int) -> float:
    """Expected number of distinct types in a uniform random subsample of ``k`` tokens.

    Rarefaction (Hurlbert 1971): drawing ``k`` of the ``N`` tokens without replacement,
    a type seen ``c`` times is missed with probability C(N-c, k) / C(N, k), so
    E[types] = Σ_types 1 - C(N-c, k) / C(N, k). With ``k >= N`` it is the plain count.
    """
    c = counts[counts > 0]
    total = int(c.sum())
    if k >= total:
        return float(c.size)
    if k <= 0:
        return 0.0
    values, multiplicity = np.unique(c, return_counts=True)
    base = _log_choose(total, k)
    expected = 0.0
    for value, mult in zip(values.tolist(), multiplicity.tolist(), strict=True):
        rest = total - value
        missed = 0.0 if rest < k else math.exp(_log_choose(rest, k) - base)
        expected += mult * (1.0 - missed)
    return expected


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


class _Reservoir:
    """A uniform random sample of at most ``size`` items, seeded.

    Li's algorithm L (1994): after the reservoir fills, it draws how many items to skip
    before the next replacement, so most offers cost one comparison.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.items: list[npt.NDArray[np.int32]] = []  # token ids, 4 bytes each
        self.seen = 0
        self._rng = random.Random(seed)
        self._weight = 1.0
        self._next = 0  # 1-based position of the next item to take once full

    def _uniform(self) -> float:
        return 1.0 - self._rng.random()  # in (0, 1]: safe for log

    def _advance(self) -> None:
        self._weight *= math.exp(math.log(self._uniform()) / self.size)
        if self._weight >= 1.0:  # pragma: no cover - needs a uniform of exactly 1
            self._next = self.seen + 1
            return
        skip = math.floor(math.log(self._uniform()) / math.log1p(-self._weight))
        self._next = self.seen + skip + 1

    def offer(self, item: list[int]) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(np.asarray(item, dtype=np.int32))
            if len(self.items) == self.size:
                self._advance()
        elif self.size > 0 and self.seen == self._next:
            self.items[self._rng.randrange(self.size)] = np.asarray(item, dtype=np.int32)
            self._advance()


def _check_n(n: int, name: str = "n") -> None:
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")


# --------------------------------------------------------------------------- BLEU


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
    _check_n(max_n, "max_n")
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


def _self_bleu_of(docs: Sequence[Sequence[int]], max_n: int) -> float | None:
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


# --------------------------------------------------------------------------- reports


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


# --------------------------------------------------------------------------- profile

_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
_ZIP_BATCH = 1 << 18


def _tokens(text: str) -> list[str]:
    """``synthdsl.textproc.tokens.tokenize(text)``, with a fast path for ASCII text.

    On ASCII, NFKC changes nothing, there is no CJK character nor combining mark, and
    a run of letters and digits other than ``_`` is ``[a-z0-9]+`` once lower-cased: the
    result is the same, several times faster.
    """
    if text.isascii():
        return _ASCII_TOKEN.findall(text.lower())
    return tokenize(text)


class _Index(dict[str, int]):
    """Token → id, ids given in order of first appearance."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


class TextProfile:
    """Everything the reports need, gathered from texts in one pass.

    ``add`` one text at a time (or ``update`` with an iterable), then ``report()`` for
    the ``DiversityReport`` and ``compare_profiles`` for drift. ``sample`` bounds the
    self-BLEU sample (non-empty texts only) and ``mode_sample`` the sample used for mode
    coverage; both are uniform reservoir samples driven by ``seed``, so results are
    deterministic for a given input order. Reading a result finishes the profile:
    ``add`` after that raises ValueError.
    """

    def __init__(
        self,
        *,
        sample: int = BLEU_SAMPLE,
        max_n: int = 4,
        seed: int = 0,
        mode_sample: int = MODE_SAMPLE,
        orders: Sequence[int] = (1, 2, 3),
    ) -> None:
        if sample < 0 or mode_sample < 0:
            raise ValueError("sample sizes must be >= 0")
        _check_n(max_n, "max_n")
        for n in orders:
            _check_n(n)
        self.max_n = max_n
        self._index = _Index()
        self._counters = {n: _NgramCounter(n) for n in sorted(set(orders) | {1, 2})}
        self._buf: list[int] = []
        self._buf_lens: list[int] = []
        self._lengths: list[IntArray] = []
        self._entropies: list[FloatArray] = []
        self._bleu = _Reservoir(sample, seed)
        self._modes = _Reservoir(mode_sample, seed + 1)
        self._zip = zlib.compressobj(6, zlib.DEFLATED, -15)
        self._raw: list[bytes] = []
        self._raw_pending = 0
        self._raw_bytes = 0
        self._zip_bytes = 0
        self._finished: bool = False

    # -- input ------------------------------------------------------------------------

    def add(self, text: str) -> None:
        """Take one text into account."""
        if self._finished:
            raise ValueError("TextProfile: add() after the profile was finished")
        ids = list(map(self._index.__getitem__, _tokens(text)))
        self._buf.extend(ids)
        self._buf_lens.append(len(ids))
        if ids:
            self._bleu.offer(ids)
        self._modes.offer(ids)
        raw = text.encode("utf-8")
        self._raw.append(raw)
        self._raw_pending += len(raw) + 1
        if self._raw_pending >= _ZIP_BATCH:
            self._compress()
        if len(self._buf) >= _CHUNK_TOKENS:
            self._flush()

    def _compress(self) -> None:
        if self._raw:
            self._raw.append(b"")  # the joined texts end with a newline
            self._zip_bytes += len(self._zip.compress(b"\n".join(self._raw)))
            self._raw_bytes += self._raw_pending
            self._raw, self._raw_pending = [], 0

    def update(self, texts: Iterable[str]) -> TextProfile:
        """``add`` every text; returns ``self``."""
        for text in texts:
            self.add(text)
        return self

    def _flush(self) -> None:
        if not self._buf_lens:
            return
        ids = np.asarray(self._buf, dtype=np.int64)
        lengths = np.asarray(self._buf_lens, dtype=np.int64)
        self._buf, self._buf_lens = [], []
        for counter in self._counters.values():
            counter.add(ids, lengths)
        self._lengths.append(lengths)
        self._entropies.append(_record_entropies(ids, lengths))

    def _finish(self) -> None:
        if not self._finished:
            self._flush()
            self._compress()
            self._zip_bytes += len(self._zip.flush())
            self._finished = True

    # -- results ----------------------------------------------------------------------

    @property
    def words(self) -> list[str]:
        """The vocabulary, in id order."""
        return list(self._index)

    def lengths(self) -> IntArray:
        self._finish()
        if not self._lengths:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(self._lengths)

    def record_entropies(self) -> FloatArray:
        self._finish()
        if not self._entropies:
            return np.empty(0, dtype=np.float64)
        return np.concatenate(self._entropies)

    def ngram_counts(self, n: int) -> tuple[KeyArray, IntArray]:
        """Sorted n-gram keys and counts for an order given at construction (1 and 2
        are always there)."""
        self._finish()
        if n not in self._counters:
            raise ValueError(f"order {n} was not counted; pass orders=(..., {n})")
        return self._counters[n].result()

    def distinct(self, n: int) -> float:
        keys, counts = self.ngram_counts(n)
        total = int(counts.sum())
        return keys.size / total if total else 0.0

    def entropy(self, n: int) -> float:
        return _entropy_bits(self.ngram_counts(n)[1])

    def compression_ratio(self) -> float:
        self._finish()
        return self._raw_bytes / self._zip_bytes if self._raw_bytes else 0.0

    def self_bleu(self) -> float | None:
        return _self_bleu_of([d.tolist() for d in self._bleu.items], self.max_n)

    @property
    def bleu_sample(self) -> list[list[int]]:
        """The self-BLEU sample, as token ids (see ``words``)."""
        return [d.tolist() for d in self._bleu.items]

    @property
    def mode_sample(self) -> list[list[int]]:
        """The mode-coverage sample, as token ids (see ``words``)."""
        return [d.tolist() for d in self._modes.items]

    def report(self) -> DiversityReport:
        lengths = self.lengths()
        entropies = self.record_entropies()
        _, bigram_counts = self.ngram_counts(2)
        bigrams = int(bigram_counts.sum())
        at_budget = min(bigrams, NORMALIZED_BIGRAMS)
        d2_norm = _rarefied_types(bigram_counts, at_budget) / at_budget if at_budget else 0.0
        d3 = self.distinct(3) if 3 in self._counters else 0.0
        e3 = self.entropy(3) if 3 in self._counters else 0.0
        return DiversityReport(
            records=int(lengths.size),
            tokens=int(lengths.sum()),
            vocabulary_size=int(self.ngram_counts(1)[0].size),
            distinct_1=self.distinct(1),
            distinct_2=self.distinct(2),
            distinct_3=d3,
            distinct_2_at_10k=d2_norm,
            entropy_1=self.entropy(1),
            entropy_2=self.entropy(2),
            entropy_3=e3,
            compression_ratio=self.compression_ratio(),
            self_bleu=self.self_bleu(),
            self_bleu_sample=len(self._bleu.items),
            length=LengthStats.of(lengths),
            record_entropy_mean=float(entropies.mean()) if entropies.size else 0.0,
            record_entropy_std=float(entropies.std()) if entropies.size else 0.0,
        )


def _record_entropies(ids: IntArray, lengths: IntArray) -> FloatArray:
    """Per-record token entropy (bits) of records concatenated in ``ids``, vectorised."""
    out = np.zeros(lengths.size, dtype=np.float64)
    if ids.size == 0:
        return out
    docs = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    base = int(ids.max()) + 1
    keys, counts = np.unique(docs * base + ids, return_counts=True)
    c = counts.astype(np.float64)
    plogp = np.bincount(keys // base, weights=c * np.log2(c), minlength=lengths.size)
    size = lengths.astype(np.float64)
    nonzero = size > 0
    out[nonzero] = np.log2(size[nonzero]) - plogp[nonzero] / size[nonzero]
    return np.maximum(out, 0.0)


# --------------------------------------------------------------------------- one metric


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
    _check_n(n)
    return _profile(texts, orders=(n,)).distinct(n)


def ngram_entropy(texts: Iterable[str], n: int) -> float:
    """Shannon entropy, in bits, of the n-gram frequency distribution over all texts.

    H = -Σ p(g) log2 p(g); k equally frequent n-grams give log2(k). 0.0 when empty.
    """
    _check_n(n)
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


# --------------------------------------------------------------------------- drift


def _union_maps(a: Sequence[str], b: Sequence[str]) -> tuple[IntArray, IntArray, list[str]]:
    """Id maps from two vocabularies into their union (in order of first appearance)."""
    union: dict[str, int] = {}
    map_a = np.fromiter((union.setdefault(w, len(union)) for w in a), np.int64, len(a))
    map_b = np.fromiter((union.setdefault(w, len(union)) for w in b), np.int64, len(b))
    return map_a, map_b, list(union)


def _remap_bigrams(keys: KeyArray, id_map: IntArray) -> KeyArray:
    if keys.size == 0:
        return keys
    first = id_map[(keys >> _SHIFT32).astype(np.int64)].astype(np.uint64)
    second = id_map[(keys & _MASK32).astype(np.int64)].astype(np.uint64)
    return (first << _SHIFT32) | second


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
    vocab_ref = _rarefied_types(cnt_r, budget)
    vocab_ratio = _rarefied_types(cnt_s, budget) / vocab_ref if vocab_ref > 0 else None

    syn_docs = [map_s[d].tolist() for d in synthetic._modes.items]
    ref_docs = [map_r[d].tolist() for d in reference._modes.items]
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


# --------------------------------------------------------------------------- flags


@dataclass(frozen=True)
class Thresholds:
    """Limits past which a metric is flagged as a sign of model collapse.

    The noise levels quoted come from two kinds of data: paragraphs of Python's
    standard-library docstrings (real English, ~23 tokens each) split into disjoint
    samples, and the seeded toy language of ``tests/test_diversity.py``.

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
