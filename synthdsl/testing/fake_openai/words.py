"""Deterministic words for the fake server's replies.

Takes a digest (bytes, at least 8 of them) to seed ``Rng``, a small counter-based
generator (splitmix64); gives words from a fixed vocabulary, sentences of N words and
numbered lists of distinct lines. The same digest always gives the same text. Raises
nothing.
"""

from __future__ import annotations

__all__ = ["VOCAB", "Rng", "numbered_list", "sentence"]

_MASK64 = (1 << 64) - 1

_VOCAB_TEXT = """
    the of and to in is that it for was on are with as his they be at one have this
    from by hot word but what some we can out other were all there when up use your how
    said an each she which do their time if will way about many then them write would
    like so these her long make thing see him two has look more day could go come did
    number sound no most people my over know water than call first who may down side
    been now find any new work part take get place made live where after back little
    only round man year came show every good me give our under name very through just
    form sentence great think say help low line differ turn cause much mean before move
    right boy old too same tell does set three want air well also play small end put home
    read hand port large spell add even land here must big high such follow act why ask
    men change went light kind off need house picture try us again animal point mother
    world near build self earth father head stand own page should country found answer
    school grow study still learn plant cover food sun four between state keep eye never
    last let thought city tree cross farm hard start might story saw far sea draw left
    late run while press close night real life few north open seem together next white
    children begin got walk example ease paper group always music those both mark often
    letter until mile river car feet care second book carry took science eat room friend
    began idea fish mountain stop once base hear horse cut sure watch color face wood main
"""
VOCAB: tuple[str, ...] = tuple(_VOCAB_TEXT.split())


class Rng:
    """A tiny deterministic generator (splitmix64) seeded from a digest."""

    __slots__ = ("_state",)

    def __init__(self, digest: bytes) -> None:
        self._state = int.from_bytes(digest[:8], "big")

    def next(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK64
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """An integer in [0, n) (0 when n <= 0)."""
        return self.next() % n if n > 0 else 0

    def between(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        return lo + self.below(hi - lo + 1)

    def unit(self) -> float:
        """A float in [0, 1)."""
        return (self.next() >> 11) / float(1 << 53)

    def word(self) -> str:
        """A word of the vocabulary."""
        return VOCAB[self.next() % len(VOCAB)]


def sentence(rng: Rng, n: int, *, final_period: bool = True) -> str:
    """N capitalised words, with a final period unless told otherwise ("" for n <= 0)."""
    if n <= 0:
        return ""
    words = [rng.word() for _ in range(n)]
    words[0] = words[0].capitalize()
    text = " ".join(words)
    return text + "." if final_period else text


def numbered_list(rng: Rng, n: int) -> str:
    """``1. ...`` to ``n. ...``, one distinct line of 3-7 words each."""
    seen: set[str] = set()
    lines: list[str] = []
    for i in range(1, n + 1):
        line = sentence(rng, rng.between(3, 7), final_period=False)
        tries = 0
        while line in seen and tries < 20:
            line = sentence(rng, rng.between(3, 7), final_period=False)
            tries += 1
        if line in seen:  # practically unreachable; keep lines distinct anyway
            line = f"{line} {i}"
        seen.add(line)
        lines.append(f"{i}. {line}")
    return "\n".join(lines)
