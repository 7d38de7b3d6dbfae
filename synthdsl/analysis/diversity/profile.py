"""``TextProfile``: everything the diversity reports need, gathered from texts in one pass.

Takes texts one at a time (tokenized like ``synthdsl.textproc.tokens.tokenize``) and
keeps n-gram count tables, record lengths, per-record token entropies, deflate byte
counts and two seeded reservoir samples (self-BLEU, mode coverage). Gives the
``DiversityReport`` (``report()``) and the raw material ``compare_profiles`` needs.
Raises ValueError for negative sample sizes, an n-gram order below 1, an order asked
for that was not counted, and ``add`` after a result was read.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence

import numpy as np

from synthdsl.analysis.arrays import FloatArray, IntArray, KeyArray
from synthdsl.analysis.diversity.bleu_score import self_bleu_of
from synthdsl.analysis.diversity.counts import (
    NgramCounter,
    Reservoir,
    check_n,
    entropy_bits,
    rarefied_types,
)
from synthdsl.analysis.diversity.reports import DiversityReport, LengthStats
from synthdsl.textproc.tokens import tokenize

__all__ = ["BLEU_SAMPLE", "MODE_SAMPLE", "NORMALIZED_BIGRAMS", "TextProfile"]

#: Tokens buffered before the n-gram tables are updated in one vectorised step.
_CHUNK_TOKENS = 1 << 20
#: The bigram budget of ``distinct_2_at_10k`` (see ``DiversityReport``).
NORMALIZED_BIGRAMS = 10_000
#: Records sampled (uniformly, seeded) per dataset for mode coverage.
MODE_SAMPLE = 5_000
#: Default self-BLEU sample size.
BLEU_SAMPLE = 200

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
        check_n(max_n, "max_n")
        for n in orders:
            check_n(n)
        self.max_n = max_n
        self._index = _Index()
        self._counters = {n: NgramCounter(n) for n in sorted(set(orders) | {1, 2})}
        self._buf: list[int] = []
        self._buf_lens: list[int] = []
        self._lengths: list[IntArray] = []
        self._entropies: list[FloatArray] = []
        self._bleu = Reservoir(sample, seed)
        self._modes = Reservoir(mode_sample, seed + 1)
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
        return entropy_bits(self.ngram_counts(n)[1])

    def compression_ratio(self) -> float:
        self._finish()
        return self._raw_bytes / self._zip_bytes if self._raw_bytes else 0.0

    def self_bleu(self) -> float | None:
        return self_bleu_of(self.bleu_sample, self.max_n)

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
        d2_norm = rarefied_types(bigram_counts, at_budget) / at_budget if at_budget else 0.0
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
