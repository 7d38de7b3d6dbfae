"""How a mix splits its total: band- and floor-aware rounding, checked against a
brute-force search over every integer split."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from synthdsl.nodes.mix_split import STAGE_BANDS, ShareRules, apportion, split

PRETRAINING = ShareRules(STAGE_BANDS["pretraining"], 0.65)


def splits(total: int, caps: list[int]) -> Iterator[tuple[int, ...]]:
    """Every way to take ``total`` rows from parts holding ``caps`` rows."""
    ranges = [range(min(c, total) + 1) for c in caps]
    for combo in itertools.product(*ranges):
        if sum(combo) == total:
            yield combo


def test_the_issue_example_takes_the_split_that_holds() -> None:
    flags = [False, True]
    # Largest remainder gives 3 + 2 (40% synthetic, 60% real): both rules broken.
    assert split([10, 10], [0.65, 0.35], 5).quotas == [3, 2]
    done = split([10, 10], [0.65, 0.35], 5, flags, PRETRAINING)
    assert (done.quotas, done.total, done.limiting) == ([4, 1], 5, None)
    # 7 and 100 round inside the band already: unchanged.
    assert split([10, 10], [0.65, 0.35], 7, flags, PRETRAINING).quotas == [5, 2]
    assert split([100, 100], [0.65, 0.35], 100, flags, PRETRAINING).quotas == [65, 35]
    # 2 rows: 0% or 50% synthetic, neither in 20-35%; the floor is kept, the band broken.
    assert split([10, 10], [0.65, 0.35], 2, flags, PRETRAINING).quotas == [2, 0]


def test_a_short_part_moves_the_total_to_the_nearest_one_that_holds() -> None:
    flags = [False, True]
    band = ShareRules(STAGE_BANDS["pretraining"])
    # One synthetic row allows 1 / 0.35 = 2 rows at the exact ratios: 1 + 1 is 50%.
    # Three rows (2 + 1, 33%) hold the band.
    done = split([6, 1], [0.65, 0.35], None, flags, band)
    assert (done.quotas, done.total, done.limiting) == ([2, 1], 3, 1)
    # Never above a requested total: with total 2 nothing holds, the plain split stands.
    assert split([6, 1], [0.65, 0.35], 2, flags, band).quotas == [1, 1]
    # One real row: every total needs >= 50% synthetic; nothing holds.
    assert split([1, 6], [0.65, 0.35], None, flags, band).quotas == [1, 0]


def test_synthetic_rows_are_shared_among_synthetic_parts_within_what_each_has() -> None:
    flags = [False, True, True]
    rules = ShareRules((0.2, 0.35))
    done = split([10, 10, 10], [0.6, 0.2, 0.2], 5, flags, rules)
    assert done.quotas == [4, 1, 0] and done.total == 5  # 40% -> 20%
    assert apportion(5, [0.5, 0.5], [1, 10]) == [1, 4]
    assert apportion(3, [1.0, 0.0], [5, 5]) == [3, 0]


def test_validate_helpers() -> None:
    assert list(PRETRAINING.synthetic_range(2)) == []
    assert list(PRETRAINING.synthetic_range(5)) == [1]
    assert list(PRETRAINING.synthetic_range(20)) == [4, 5, 6, 7]
    assert PRETRAINING.feasible_totals(2, 3, True, True) == [3, 4, 5]


RATIOS = st.lists(st.integers(0, 10), min_size=2, max_size=4).filter(lambda w: sum(w) > 0)


@st.composite
def rules(draw: st.DrawFn) -> ShareRules:
    """A stage band or a random one (often narrow, so rounding can miss it) and a floor."""
    lo = draw(st.integers(0, 100))
    band = draw(
        st.one_of(
            st.none(),
            st.sampled_from(sorted(STAGE_BANDS.values())),
            st.integers(lo, min(100, lo + 20)).map(lambda hi: (lo / 100, hi / 100)),
        )
    )
    floor = draw(st.one_of(st.none(), st.integers(0, 100).map(lambda x: x / 100)))
    if band is None and floor is None:
        floor = 0.5
    return ShareRules(band, floor)


@settings(max_examples=300, deadline=None)
@given(
    weights=RATIOS,
    flag_bits=st.lists(st.booleans(), min_size=2, max_size=2),
    counts=st.lists(st.integers(0, 16), min_size=4, max_size=4),
    total=st.one_of(st.none(), st.integers(1, 16)),
    rule=rules(),
)
def test_the_split_holds_the_rules_whenever_some_split_can(
    weights: list[int],
    flag_bits: list[bool],
    counts: list[int],
    total: int | None,
    rule: ShareRules,
) -> None:
    n = len(weights)
    ratios = [w / sum(weights) for w in weights]
    flags, caps = [True, False, *flag_bits][:n], counts[:n]  # both kinds present
    plain = split(caps, ratios, total)
    done = split(caps, ratios, total, flags, rule)
    usable = [c if r > 0 else 0 for c, r in zip(caps, ratios, strict=True)]
    assert all(0 <= q <= c for q, c in zip(done.quotas, usable, strict=True))
    assert sum(done.quotas) == done.total

    def synth(q: tuple[int, ...] | list[int]) -> int:
        return sum(x for x, f in zip(q, flags, strict=True) if f)

    if rule.holds(synth(plain.quotas), plain.total):
        assert done == plain  # rounding that holds is left alone
        return
    target = plain.total
    held = [q for q in splits(target, usable) if rule.holds(synth(q), target)]
    if held:
        # The same total, and the synthetic count nearest the configured share.
        assert done.total == target and rule.holds(synth(done.quotas), target)
        aim = target * sum(r for r, f in zip(ratios, flags, strict=True) if f)
        best = min(abs(synth(q) - aim) for q in held)
        assert abs(synth(done.quotas) - aim) <= best + 1e-9
        return
    if plain.limiting is not None:
        cap = total if total is not None else sum(usable)
        others = [
            t for t in range(1, cap + 1) if any(rule.holds(synth(q), t) for q in splits(t, usable))
        ]
        if others:
            nearest = min(others, key=lambda t: (abs(t - target), -t))
            assert done.total == nearest and rule.holds(synth(done.quotas), nearest)
            return
    assert done.total == target  # nothing holds: the total stays
