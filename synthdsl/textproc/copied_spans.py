"""Shared word n-grams: an index of a text collection and the longest copied span.

Input: texts, tokenized by ``tokens.tokenize`` (lower-cased words, punctuation
dropped, so a copy survives changes of case, punctuation and spacing). Output:
``NgramIndex(n)`` with ``add(text)`` and ``copied_span(text)``, the longest run of
consecutive words of ``text`` whose every n-gram occurs in the index (None when no
n-gram is shared). N-grams are kept as 64-bit hashes (blake2b): memory is 8 bytes per
distinct n-gram plus the set's overhead. Never raises on ``str`` input.
"""

from __future__ import annotations

import hashlib

from synthdsl.textproc.tokens import tokenize

__all__ = ["NgramIndex"]


def _hashes(words: list[str], n: int) -> list[int]:
    return [
        int.from_bytes(
            hashlib.blake2b(" ".join(words[i : i + n]).encode("utf-8"), digest_size=8).digest()
        )
        for i in range(len(words) - n + 1)
    ]


class NgramIndex:
    def __init__(self, n: int) -> None:
        self.n = n
        self.grams: set[int] = set()

    def add(self, text: str) -> None:
        self.grams.update(_hashes(tokenize(text), self.n))

    def copied_span(self, text: str, also: NgramIndex | None = None) -> str | None:
        """The longest span of ``text`` (as words) made of n-grams of this index (or of
        ``also``); None when none is shared."""
        words = tokenize(text)
        shared = [
            h in self.grams or (also is not None and h in also.grams)
            for h in _hashes(words, self.n)
        ]
        best: tuple[int, int] | None = None  # (start, number of n-grams in the run)
        i = 0
        while i < len(shared):
            if not shared[i]:
                i += 1
                continue
            j = i
            while j < len(shared) and shared[j]:
                j += 1
            if best is None or j - i > best[1]:
                best = (i, j - i)
            i = j
        if best is None:
            return None
        start, run = best
        return " ".join(words[start : start + run + self.n - 1])
