"""Semantic versions and version ranges, for packs and the ``synthdsl:`` they support.

Input: text: a version (``1.2.3``, ``1.2.3-rc.1``, build metadata ``+x`` ignored) or a
range: ``*``, exact (``1.2.3``, ``=1.2.3``; a partial ``1.2`` means ``1.2.x``), caret
``^1.2`` (same major, or same minor below 1.0), tilde ``~1.2.3`` (same minor),
comparisons joined by commas or spaces (``>=1,<2``), alternatives joined by ``||``.
Output: ``Version`` (ordered by semver precedence) and ``Range`` (``contains``).
Raises ``ValueError`` with a readable message for text that is neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Range", "Version", "parse_range", "parse_version"]

_VERSION = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
_PARTIAL = re.compile(
    r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
_OPS = ("<=", ">=", "<", ">", "=", "^", "~")


@dataclass(frozen=True)
class Version:
    """A semantic version; compares by semver precedence (a pre-release sorts first)."""

    major: int
    minor: int
    patch: int
    pre: tuple[int | str, ...] = ()

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        pre = tuple((0, p) if isinstance(p, int) else (1, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Version) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: Version) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: Version) -> bool:
        return self._key() >= other._key()

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return core + ("-" + ".".join(str(p) for p in self.pre) if self.pre else "")


def _pre(text: str | None) -> tuple[int | str, ...]:
    if not text:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))


def parse_version(text: str) -> Version:
    """``1.2.3`` → ``Version``; ``ValueError`` for anything else."""
    m = _VERSION.match(str(text).strip())
    if m is None:
        raise ValueError(f"'{text}' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
    return Version(int(m[1]), int(m[2]), int(m[3]), _pre(m[4]))


@dataclass(frozen=True)
class _Comparator:
    op: str  # one of < <= > >= =
    version: Version

    def holds(self, v: Version) -> bool:
        if self.op == "<":
            return v < self.version
        if self.op == "<=":
            return v <= self.version
        if self.op == ">":
            return v > self.version
        if self.op == ">=":
            return v >= self.version
        return v == self.version


@dataclass(frozen=True)
class Range:
    """A set of versions: any of ``alternatives``, each a list of comparators that all hold."""

    text: str
    alternatives: tuple[tuple[_Comparator, ...], ...]

    def contains(self, version: Version) -> bool:
        return any(all(c.holds(version) for c in alt) for alt in self.alternatives)

    def __str__(self) -> str:
        return self.text


def _partial(text: str, whole: str) -> tuple[list[int], tuple[int | str, ...]]:
    """The given numbers of a partial version (``1.2`` → [1, 2]), up to the first x/*."""
    m = _PARTIAL.match(text)
    if m is None:
        raise ValueError(f"'{whole}' is not a version range: cannot read '{text}'")
    nums: list[int] = []
    for part in (m[1], m[2], m[3]):
        if part is None or part in ("x", "X", "*"):
            break
        nums.append(int(part))
    return nums, _pre(m[4])


def _bump(nums: list[int]) -> Version:
    """The first version past a partial one: ``1.2`` → 1.3.0, ``1`` → 2.0.0."""
    padded = [*nums, 0, 0][:3]
    padded[len(nums) - 1] += 1
    for i in range(len(nums), 3):
        padded[i] = 0
    return Version(padded[0], padded[1], padded[2])


def _floor(nums: list[int], pre: tuple[int | str, ...] = ()) -> Version:
    padded = [*nums, 0, 0, 0][:3]
    return Version(padded[0], padded[1], padded[2], pre if len(nums) == 3 else ())


def _comparators(op: str, rest: str, whole: str) -> list[_Comparator]:
    nums, pre = _partial(rest, whole)
    if not nums:  # *, x
        return [] if op in ("", "=", ">=", "^", "~") else [_Comparator("<", Version(0, 0, 0))]
    low = _floor(nums, pre)
    if op == "^":
        first = next((i for i, n in enumerate(nums) if n != 0), len(nums) - 1)
        return [_Comparator(">=", low), _Comparator("<", _bump(nums[: first + 1]))]
    if op == "~":
        keep = nums[:2] if len(nums) >= 2 else nums
        return [_Comparator(">=", low), _Comparator("<", _bump(keep))]
    if op in ("", "="):
        if len(nums) == 3:
            return [_Comparator("=", low)]
        return [_Comparator(">=", low), _Comparator("<", _bump(nums))]
    if op == ">" and len(nums) < 3:
        return [_Comparator(">=", _bump(nums))]
    if op == "<=" and len(nums) < 3:
        return [_Comparator("<", _bump(nums))]
    return [_Comparator(op, low)]


def parse_range(text: str) -> Range:
    """``^1.2`` / ``~1.2.3`` / ``>=1,<2`` / ``1.2.3`` / ``*`` → ``Range``; ``ValueError`` else."""
    whole = str(text).strip()
    if not whole:
        raise ValueError("an empty version range (give e.g. ^1.0, ~1.2.3, >=1,<2 or 1.2.3)")
    alternatives: list[tuple[_Comparator, ...]] = []
    for alt in whole.split("||"):
        tokens = [t for t in re.split(r"[,\s]+", alt.strip()) if t]
        if not tokens:
            raise ValueError(f"'{whole}' is not a version range: an empty alternative")
        comps: list[_Comparator] = []
        for token in tokens:
            op = next((o for o in _OPS if token.startswith(o)), "")
            rest = token[len(op) :].strip()
            if not rest:
                raise ValueError(f"'{whole}' is not a version range: '{token}' has no version")
            comps.extend(_comparators(op, rest, whole))
        alternatives.append(tuple(comps))
    return Range(whole, tuple(alternatives))
