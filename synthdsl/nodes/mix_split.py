"""How many rows a mix takes from each part: ratios, rounding, stage bands, real floor.

Input: the rows available per part, the configured ratios, the requested total (or
None: as many as the parts allow), which parts are synthetic, and the share rules (a
stage band on the synthetic share, a ``min_real`` floor on the real share). Output:
``split(...) -> Split`` (per-part quotas, the total, the part that limited it), and
``ShareRules.feasible_totals`` / ``ShareRules.holds`` for checks at validate time.
Raises nothing.

The rule. The total is the requested one if every part can fill its exact share, else
the largest total at which each can (``min(available / ratio)``, rounded down). The
rows are first rounded by largest remainder; when that split breaks the band or the
floor and some other split of the same total holds both, the mix takes the one whose
synthetic row count is nearest ``total × synthetic ratio`` (ties: fewer synthetic
rows), sharing the synthetic rows among the synthetic parts and the real rows among
the real parts by largest remainder (no part above what it has). When a short part set
the total and no split of it holds both, the nearest other total that can (ties: the
larger; never above the requested total or the rows available) is taken. Failing
that, a split of the total that holds the floor is preferred, then one that holds the
band, else the largest-remainder split stands and the caller reports the breach.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["EPS", "STAGE_BANDS", "ShareRules", "Split", "apportion", "split"]

EPS = 1e-9

# Synthetic share of the training mix that each stage tolerates (inclusive bounds).
# Pre-training: rephrased real content may sit toward the top of its band, text
# generated from scratch toward the bottom.
STAGE_BANDS: dict[str, tuple[float, float]] = {
    "pretraining": (0.20, 0.35),
    "instruction_tuning": (0.40, 0.60),
    "reasoning": (0.70, 0.90),
    "domain_adaptation": (0.50, 0.80),
}


@dataclass(frozen=True)
class ShareRules:
    """Bounds on the written shares: a band on the synthetic share, a real floor."""

    band: tuple[float, float] | None = None
    min_real: float | None = None

    def share_in_band(self, share: float) -> bool:
        """Whether a synthetic share (configured or written) lies in the band."""
        return self.band is None or self.band[0] - EPS <= share <= self.band[1] + EPS

    def share_above_floor(self, share: float) -> bool:
        """Whether a synthetic share leaves at least ``min_real`` real."""
        return self.min_real is None or 1.0 - share >= self.min_real - EPS

    def band_holds(self, synthetic: int, total: int) -> bool:
        return total == 0 or self.share_in_band(synthetic / total)

    def floor_holds(self, synthetic: int, total: int) -> bool:
        return total == 0 or self.share_above_floor(synthetic / total)

    def holds(self, synthetic: int, total: int) -> bool:
        return self.band_holds(synthetic, total) and self.floor_holds(synthetic, total)

    def fallbacks(self) -> list[ShareRules]:
        """Both rules, then the floor alone, then the band alone (the order of search)."""
        out = [self]
        if self.band is not None and self.min_real is not None:
            out += [ShareRules(None, self.min_real), ShareRules(self.band, None)]
        return out

    def synthetic_range(self, total: int, lo: int = 0, hi: int | None = None) -> range:
        """The synthetic row counts in [lo, hi] that hold both rules at ``total`` (a
        contiguous run: each rule bounds the share from one or two sides)."""
        a, b = max(0, lo), total if hi is None else min(hi, total)
        if total == 0:
            return range(a, b + 1)
        if self.band is not None:
            a = max(a, math.ceil(self.band[0] * total) - 1)
            b = min(b, math.floor(self.band[1] * total) + 1)
        if self.min_real is not None:
            b = min(b, math.floor((1.0 - self.min_real) * total) + 1)
        while a <= b and not self.holds(a, total):  # at most a step or two past the
            a += 1  # bound estimated in floating point
        while b >= a and not self.holds(b, total):
            b -= 1
        return range(a, b + 1)

    def feasible_totals(
        self, near: int, count: int, has_synthetic: bool, has_real: bool
    ) -> list[int]:
        """Up to ``count`` totals from ``near`` upward that some split can hold."""
        out: list[int] = []
        total = max(1, near)
        while len(out) < count and total <= near + 10_000:
            lo = 0 if has_real else total
            hi = total if has_synthetic else 0
            if self.synthetic_range(total, lo, hi):
                out.append(total)
            total += 1
        return out


@dataclass(frozen=True)
class Split:
    quotas: list[int]
    total: int
    limiting: int | None  # the part whose count bounded the total; None: total reached

    def synthetic(self, flags: Sequence[bool]) -> int:
        return sum(q for q, f in zip(self.quotas, flags, strict=True) if f)


def apportion(amount: int, weights: Sequence[float], caps: Sequence[int]) -> list[int]:
    """``amount`` shared in proportion to ``weights`` by largest remainder, none above its
    cap (what a capped part cannot take goes to the others). Parts of weight 0 get 0."""
    out = [0] * len(weights)
    open_ = [i for i, w in enumerate(weights) if w > 0]
    left = min(amount, sum(caps[i] for i in open_))
    while left > 0 and open_:
        wsum = sum(weights[i] for i in open_)
        raw = {i: left * weights[i] / wsum for i in open_}
        base = {i: math.floor(raw[i] + EPS) for i in open_}
        extra = left - sum(base.values())
        for i in sorted(open_, key=lambda i: (-(raw[i] - base[i]), i))[:extra]:
            base[i] += 1
        over = [i for i in open_ if out[i] + base[i] > caps[i]]
        if not over:
            for i in open_:
                out[i] += base[i]
            break
        for i in over:  # fill the capped parts and share the rest again
            left -= caps[i] - out[i]
            out[i] = caps[i]
        open_ = [i for i in open_ if i not in over]
    return out


def split(
    counts: Sequence[int],
    ratios: Sequence[float],
    total: int | None,
    synthetic: Sequence[bool] | None = None,
    rules: ShareRules | None = None,
) -> Split:
    """Per-part row counts for the mix (see the module docstring for the rule)."""
    limit_total: float = math.inf
    limiting: int | None = None
    for i, (n, r) in enumerate(zip(counts, ratios, strict=True)):
        if r > 0 and n / r < limit_total:
            limit_total, limiting = n / r, i
    achievable = math.floor(limit_total + EPS) if limit_total != math.inf else 0
    if total is None:
        target = achievable
    elif total <= achievable:
        target, limiting = total, None
    else:
        target = achievable
    raw = [target * r for r in ratios]
    base = [math.floor(x + EPS) for x in raw]
    remainder = target - sum(base)
    for i in sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))[:remainder]:
        base[i] += 1
    base = [min(b, n) for b, n in zip(base, counts, strict=True)]
    if synthetic is None or rules is None:
        return Split(base, sum(base), limiting)
    flags = list(synthetic)
    chosen = Split(base, sum(base), limiting)
    if rules.holds(chosen.synthetic(flags), chosen.total):
        return chosen
    held = _held(counts, ratios, flags, target, rules)
    if held is None and limiting is not None:
        # A short part set the total: another total near it may hold the rules.
        available = sum(n for n, r in zip(counts, ratios, strict=True) if r > 0)
        cap = total if total is not None else available
        for other in _nearest_first(target, cap):
            held = _held(counts, ratios, flags, other, rules)
            if held is not None:
                break
    for fallback in rules.fallbacks()[1:]:
        if held is None:
            held = _held(counts, ratios, flags, target, fallback)
    if held is None:
        return chosen
    return Split(held, sum(held), limiting)


def _nearest_first(target: int, cap: int) -> Iterator[int]:
    """The totals in [1, cap] other than ``target``, nearest first (ties: the larger)."""
    for d in range(1, max(cap - target, target - 1) + 1):
        yield from (t for t in (target + d, target - d) if 1 <= t <= cap)


def _held(
    counts: Sequence[int],
    ratios: Sequence[float],
    flags: Sequence[bool],
    target: int,
    rules: ShareRules,
) -> list[int] | None:
    """The split of ``target`` rows nearest the ratios that holds ``rules``, or None."""
    synth = [i for i, r in enumerate(ratios) if r > 0 and flags[i]]
    real = [i for i, r in enumerate(ratios) if r > 0 and not flags[i]]
    cap_s = sum(counts[i] for i in synth)
    cap_r = sum(counts[i] for i in real)
    options = rules.synthetic_range(target, target - cap_r, cap_s)
    if not options:
        return None
    aim = target * sum(ratios[i] for i in synth)
    s = min(max(math.floor(aim), options.start), options.stop - 1)
    if s + 1 in options and (s + 1 - aim) < (aim - s) - EPS:
        s += 1  # nearer from above; a tie keeps the smaller count
    out = [0] * len(ratios)
    for group, amount in ((synth, s), (real, target - s)):
        shares = apportion(amount, [ratios[i] for i in group], [counts[i] for i in group])
        for i, q in zip(group, shares, strict=True):
            out[i] = q
    return out if sum(out) == target else None
