"""Hashed word n-grams: what ``decontaminate`` and ``leakage`` compare.

Input: texts and ``NgramSettings`` (n-gram size; lower-casing, punctuation stripping and
whitespace collapsing, each on by default). Output: ``words(text, settings)`` (the
normalised words), ``ReferenceSet.build(items, settings)`` (every n-gram of the reference
items as a sorted array of 64-bit hashes, with the first item holding each) and
``ReferenceSet.match(segments_batch, rule)`` (per text: the share of its n-grams found
and the longest run of consecutive found n-grams, as a ``Match``); ``is_hit`` applies
the rule (any shared n-gram, or a coverage threshold).

``SpanIndex(n, tokenizer)`` is the small, growing form for ``leakage``: ``add(text)``
a few texts cut into words by any ``tokenizer`` (leakage passes ``tokens.tokenize``),
then ``longest_shared_span(text)``, the longest run of consecutive words of ``text``
whose every n-gram is in the index (None when none is shared). Never raises on ``str``
input.

An n-gram's hash is deterministic across processes (Python's ``hash`` is salted, so it
is not used): each distinct word is hashed once with 64-bit BLAKE2b, and the hash of
``n`` consecutive words is a polynomial in their word hashes modulo 2**64, computed for
all windows of a batch at once in numpy, then mixed (a murmur-style finaliser). Lookups
go through a bitmap of the hashes' top bits first (``_BitFilter``, built on the first
match: ~4 bytes per distinct n-gram), and only hashes it cannot rule out are
``searchsorted`` in the sorted array: 8 bytes per distinct reference n-gram plus 4 for
its first item.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
import numpy.typing as npt

__all__ = [
    "Match",
    "NgramSettings",
    "ReferenceSet",
    "SpanIndex",
    "Tokenizer",
    "is_hit",
    "rule_text",
    "words",
]

U64 = npt.NDArray[np.uint64]
Tokenizer = Callable[[str], list[str]]  # a text → its words
_MULT = np.uint64(0x100000001B3)  # the 64-bit FNV prime: odd, so the polynomial mixes
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_WORD_CACHE_MAX = 1 << 21  # distinct words whose hashes are remembered


@dataclass(frozen=True)
class NgramSettings:
    """How texts become n-grams; ``key()`` is part of a reference set's cache key."""

    n: int = 13
    lowercase: bool = True
    punctuation: bool = True  # strip it (every Unicode punctuation character)
    whitespace: bool = True  # any run of whitespace separates words

    def key(self) -> str:
        flags = f"{int(self.lowercase)}{int(self.punctuation)}{int(self.whitespace)}"
        return f"n={self.n};norm={flags}"


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, str]:
    """Every Unicode punctuation character (categories P*) → a space.

    Built on first use (a scan of the Unicode tables, ~0.3 s)."""
    return {
        cp: " " for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("P")
    }


def words(text: str, settings: NgramSettings) -> list[str]:
    """The words n-grams are made of, after the settings' normalisation.

    With ``whitespace`` off only a single space separates words: two spaces make an empty
    word and a line break stays inside its word, so spacing must match exactly.
    """
    if settings.lowercase:
        text = text.lower()
    if settings.punctuation:
        text = text.translate(_punctuation_table())
    if settings.whitespace:
        return text.split()
    return [] if text == "" else text.split(" ")


class _WordHashes:
    """64-bit BLAKE2b of each word, remembered for the words seen most recently."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}

    def of(self, tokens: Sequence[str]) -> list[int]:
        """The hash of each token (loops in C: a set difference finds the new words)."""
        known = self.known
        new = set(tokens).difference(known)
        if new:
            if len(known) + len(new) > _WORD_CACHE_MAX:
                known.clear()
                new = set(tokens)
            for tok in new:
                digest = hashlib.blake2b(tok.encode("utf-8"), digest_size=8).digest()
                known[tok] = int.from_bytes(digest)
        return list(map(known.__getitem__, tokens))


def _window_hashes(word_hashes: U64, starts: Sequence[int], n: int) -> tuple[U64, list[int]]:
    """The hashes of every n-word window inside each text of a concatenated batch.

    ``word_hashes`` holds the words of all texts end to end, ``starts`` where each text
    begins (plus the end). Returns the windows' hashes (texts in order, windows crossing
    a text boundary left out) and where each text's windows begin (plus the end).
    """
    total = len(word_hashes)
    offsets = [0]
    if total < n:
        return np.zeros(0, dtype=np.uint64), [0] * len(starts)
    m = total - n + 1
    with np.errstate(over="ignore"):
        g = word_hashes[:m].copy()
        for j in range(1, n):
            g *= _MULT
            g += word_hashes[j : j + m]
        g ^= g >> np.uint64(33)
        g *= _MIX1
        g ^= g >> np.uint64(29)
        g *= _MIX2
        g ^= g >> np.uint64(32)
    keep = np.zeros(m, dtype=bool)
    for a, b in itertools.pairwise(starts):
        if b - a >= n:
            keep[a : b - n + 1] = True
        offsets.append(offsets[-1] + max(b - a - n + 1, 0))
    return g[keep], offsets


class _Hasher:
    """Batches of texts → their words (by ``split``) and the hashes of their n-grams."""

    def __init__(self, n: int, split: Tokenizer) -> None:
        self.n = n
        self.split = split
        self.word_hashes = _WordHashes()

    @classmethod
    def normalising(cls, settings: NgramSettings) -> _Hasher:
        """Words as ``words(text, settings)`` cuts them: decontamination's rules."""
        return cls(settings.n, partial(words, settings=settings))

    def batch(self, texts: Sequence[str]) -> tuple[list[list[str]], U64, list[int]]:
        """Per text its words; all n-gram hashes; where each text's hashes begin."""
        tokens = [self.split(t) for t in texts]
        starts = [0, *itertools.accumulate(map(len, tokens))]
        flat = self.word_hashes.of(list(itertools.chain.from_iterable(tokens)))
        hashes, offsets = _window_hashes(np.array(flat, dtype=np.uint64), starts, self.n)
        return tokens, hashes, offsets


def _lookup(sorted_hashes: U64, hashes: U64) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Where each of ``hashes`` would sit in ``sorted_hashes`` and whether it is there."""
    if not len(sorted_hashes):
        return np.zeros(len(hashes), dtype=np.intp), np.zeros(len(hashes), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_hashes, hashes), len(sorted_hashes) - 1)
    return pos, sorted_hashes[pos] == hashes


class _BitFilter:
    """A bitmap over the top bits of a sorted hash array (about 32 bits per hash): a
    clear bit proves a hash absent, so only the few set ones are binary-searched. Most
    n-grams of a checked text are not in a reference, and one bitmap read is far
    cheaper than a binary search that misses the cache at every step."""

    def __init__(self, sorted_hashes: U64) -> None:
        bits = min(max(int(len(sorted_hashes) * 32).bit_length(), 10), 34)
        self.shift = np.uint64(64 - bits)
        slots = sorted_hashes >> self.shift
        self.bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
        np.bitwise_or.at(
            self.bitmap,
            (slots >> np.uint64(3)).astype(np.intp),
            np.left_shift(np.uint8(1), (slots & np.uint64(7)).astype(np.uint8)),
        )

    def maybe(self, hashes: U64) -> npt.NDArray[np.bool_]:
        slots = hashes >> self.shift
        byte = self.bitmap[(slots >> np.uint64(3)).astype(np.intp)]
        return ((byte >> (slots & np.uint64(7)).astype(np.uint8)) & 1).astype(bool)


def _lookup_filtered(
    sorted_hashes: U64, bit_filter: _BitFilter, hashes: U64
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """``_lookup``, binary-searching only the hashes the filter cannot rule out."""
    pos = np.zeros(len(hashes), dtype=np.intp)
    found = np.zeros(len(hashes), dtype=bool)
    if not len(sorted_hashes) or not len(hashes):
        return pos, found
    candidates = np.flatnonzero(bit_filter.maybe(hashes))
    cpos, cfound = _lookup(sorted_hashes, hashes[candidates])
    pos[candidates] = cpos
    found[candidates] = cfound
    return pos, found


@dataclass(frozen=True)
class Match:
    """What one text shares with a reference set.

    ``shared`` of its ``total`` n-grams are in the set; ``span`` is the text (normalised
    words) of the longest run of consecutive shared n-grams, ``item`` the label of the
    reference item holding that run's first n-gram (None and "" when nothing is shared).
    """

    shared: int
    total: int
    item: str | None
    span: str

    @property
    def coverage(self) -> float:
        return self.shared / self.total if self.total else 0.0


def is_hit(match: Match, coverage: float | None) -> bool:
    """The rule: any shared n-gram (``coverage`` None), or at least ``coverage`` of the
    text's n-grams (a text shorter than ``n`` words has none, so it never hits)."""
    if coverage is None:
        return match.shared > 0
    return match.total > 0 and match.coverage >= coverage


def rule_text(coverage: float | None) -> str:
    """The rule in words, for notes, plans and reports."""
    return "any shared n-gram" if coverage is None else f"coverage >= {coverage:g}"


class ReferenceSet:
    """The distinct n-gram hashes of a reference (sorted) and the first item of each."""

    def __init__(
        self, settings: NgramSettings, hashes: U64, items: npt.NDArray[np.int32], labels: list[str]
    ) -> None:
        self.settings = settings
        self.hashes = hashes
        self.items = items
        self.labels = labels
        self._hasher = _Hasher.normalising(settings)
        self._filter: _BitFilter | None = None  # built on the first match

    def __len__(self) -> int:
        return len(self.hashes)

    @classmethod
    def build(
        cls,
        items: Iterable[tuple[str, Sequence[str]]],
        settings: NgramSettings,
        batch: int = 4096,
    ) -> ReferenceSet:
        """The set of ``items``: (label, texts) pairs; an item's texts (its fields) are
        cut into n-grams separately."""
        hasher = _Hasher.normalising(settings)
        labels: list[str] = []
        parts: list[U64] = []
        owners: list[npt.NDArray[np.int32]] = []
        pending: list[str] = []
        pending_owner: list[int] = []

        def flush() -> None:
            _, hashes, offsets = hasher.batch(pending)
            counts = [b - a for a, b in itertools.pairwise(offsets)]
            parts.append(hashes)
            owners.append(np.repeat(np.array(pending_owner, dtype=np.int32), counts))
            pending.clear()
            pending_owner.clear()

        for label, texts in items:
            for text in texts:
                pending.append(text)
                pending_owner.append(len(labels))
            labels.append(label)
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
        if not parts:
            return cls(settings, np.zeros(0, np.uint64), np.zeros(0, np.int32), labels)
        all_hashes = np.concatenate(parts)
        all_owners = np.concatenate(owners)
        unique, first = np.unique(all_hashes, return_index=True)  # first: earliest item
        return cls(settings, unique, all_owners[first], labels)

    def match(self, records: Sequence[Sequence[str]]) -> list[Match]:
        """Per record (its texts, e.g. the checked fields): what it shares with the set.

        N-grams do not cross from one text of a record to the next.
        """
        flat = [t for texts in records for t in texts]
        tokens, hashes, offsets = self._hasher.batch(flat)
        if self._filter is None:
            self._filter = _BitFilter(self.hashes)
        pos_c, found = _lookup_filtered(self.hashes, self._filter, hashes)
        # shared n-grams per text: a running count read at the texts' boundaries
        running = np.concatenate(([0], np.cumsum(found, dtype=np.int64)))
        counts = (running[offsets[1:]] - running[offsets[:-1]]).tolist()
        out: list[Match] = []
        k = 0
        for texts in records:
            shared = total = 0
            best = (0, -1, 0)  # run length, text index, first window
            for _ in texts:
                a, b = offsets[k], offsets[k + 1]
                total += b - a
                count = counts[k]
                shared += count
                if count:
                    run, start = _longest_run(found[a:b])
                    if run > best[0]:
                        best = (run, k, start)
                k += 1
            if best[0] == 0:
                out.append(Match(shared, total, None, ""))
                continue
            run, ti, start = best
            span = " ".join(tokens[ti][start : start + run + self.settings.n - 1])
            item = self.labels[int(self.items[pos_c[offsets[ti] + start]])]
            out.append(Match(shared, total, item, span))
        return out


def _longest_run(hits: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """Length and start of the longest run of True in ``hits`` (the first if tied)."""
    padded = np.concatenate(([False], hits, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    begins, ends = edges[::2], edges[1::2]
    lengths = ends - begins
    i = int(np.argmax(lengths))
    return int(lengths[i]), int(begins[i])


class SpanIndex:
    """The n-grams of a few texts, added one by one, cut into words by ``tokenizer``.

    Hashes are kept as arrays, merged into one sorted array on the first lookup after
    an ``add``: 8 bytes per distinct n-gram.
    """

    def __init__(self, n: int, tokenizer: Tokenizer) -> None:
        self.n = n
        self._hasher = _Hasher(n, tokenizer)
        self._parts: list[U64] = []
        self._sorted: U64 = np.zeros(0, dtype=np.uint64)

    def add(self, text: str) -> None:
        _, hashes, _ = self._hasher.batch([text])
        if len(hashes):
            self._parts.append(hashes)

    def _hashes(self) -> U64:
        if self._parts:
            self._sorted = np.unique(np.concatenate([self._sorted, *self._parts]))
            self._parts.clear()
        return self._sorted

    def longest_shared_span(self, text: str, also: SpanIndex | None = None) -> str | None:
        """The longest span of ``text`` (its words, space-joined) made of n-grams of this
        index (or of ``also``, with the same ``n``); None when none is shared. The first
        such span when several are equally long."""
        [tokens], hashes, _ = self._hasher.batch([text])
        _, found = _lookup(self._hashes(), hashes)
        if also is not None:
            found |= _lookup(also._hashes(), hashes)[1]
        if not found.any():
            return None
        run, start = _longest_run(found)
        return " ".join(tokens[start : start + run + self.n - 1])
