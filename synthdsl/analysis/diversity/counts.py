"""Counting and sampling blocks behind the diversity metrics.

Takes token ids (numpy arrays of records concatenated, with each record's length) and
gives: ``NgramCounter`` (the counts of one n-gram order as sorted numpy arrays, updated
per chunk), ``Reservoir`` (a seeded uniform sample of records), ``entropy_bits`` (Shannon
entropy of counts) and ``rarefied_types`` (expected distinct types in a subsample).
``check_n`` raises ValueError for an n-gram order below 1; nothing else here raises.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from synthdsl.analysis.arrays import IntArray, KeyArray

__all__ = [
    "MASK32",
    "SHIFT32",
    "NgramCounter",
    "Reservoir",
    "check_n",
    "entropy_bits",
    "rarefied_types",
]

MASK32 = np.uint64(0xFFFFFFFF)
SHIFT32 = np.uint64(32)


def check_n(n: int, name: str = "n") -> None:
    """Raise ValueError unless ``n`` (an n-gram order named ``name``) is at least 1."""
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")


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
        keys = (u[:-1] << SHIFT32) | u[1:]
    else:
        keys = _mix64(u[:width] + np.uint64(0x9E3779B97F4A7C15))
        for j in range(1, n):
            keys = _mix64(keys * np.uint64(0xD6E8FEB86659FD93) + _mix64(u[j : j + width]))
    return keys[valid]


class NgramCounter:
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


# --------------------------------------------------------------------------- statistics


def entropy_bits(counts: IntArray | Sequence[int]) -> float:
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


def rarefied_types(counts: IntArray, k: int) -> float:
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


# --------------------------------------------------------------------------- sampling


class Reservoir:
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
