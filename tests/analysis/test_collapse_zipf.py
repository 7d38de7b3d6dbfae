"""The Zipf token distribution refit on its own samples (Shumailov et al.'s tail loss).

Tolerance: a simulated mean must sit within 4 Monte Carlo standard errors (estimated from
the simulated values) of its exact expectation. Exact values are recomputed here from
their definitions: the expected support after one generation Σ_k 1 − (1 − p_k)^N, the
Zipf entropy, and the tail mass, whose expectation never moves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthdsl.analysis.collapse import (
    SCENARIOS,
    ZipfResult,
    ZipfSettings,
    expected_support,
    simulate_zipf,
    zipf_probabilities,
)


def _zipf(vocab: int, s: float) -> list[float]:
    w = [k**-s for k in range(1, vocab + 1)]
    total = sum(w)
    return [x / total for x in w]


def test_expected_support_closed_form() -> None:
    p = _zipf(1000, 1.0)
    want = sum(1 - (1 - q) ** 5000 for q in p)
    assert expected_support(zipf_probabilities(1000, 1.0), 5000) == pytest.approx(want, rel=1e-10)
    assert want == pytest.approx(752.48, abs=0.01)
    # two equally likely tokens, one draw: exactly one token; two draws: 1.5 on average
    half = np.array([0.5, 0.5])
    assert expected_support(half, 1) == pytest.approx(1.0)
    assert expected_support(half, 2) == pytest.approx(1.5)


def test_support_after_one_generation_matches_closed_form() -> None:
    r = simulate_zipf(ZipfSettings(generations=1, trials=400, seed=0))
    want = sum(1 - (1 - q) ** 5000 for q in _zipf(1000, 1.0))
    assert r.closed_form_support_1 == pytest.approx(want, rel=1e-10)
    # SE of the mean support is about 0.6 tokens here (per-chain SD ≈ 12)
    assert 0.2 < r.support_se[1] < 1.5
    assert abs(r.support_mean[1] - want) < 4 * r.support_se[1]
    assert r.support_1_z() < 4
    p = _zipf(1000, 1.0)
    assert r.original_entropy == pytest.approx(-sum(q * math.log2(q) for q in p), rel=1e-12)
    assert r.original_tail_mass == pytest.approx(sum(p[500:]), rel=1e-12)


@pytest.fixture(scope="module")
def runs() -> dict[str, ZipfResult]:
    return {
        sc: simulate_zipf(ZipfSettings(generations=30, trials=40, scenario=sc, seed=2))
        for sc in SCENARIOS
    }


def test_support_and_entropy_shrink_each_generation_under_replace(
    runs: dict[str, ZipfResult],
) -> None:
    r = runs["replace"]
    assert np.all(np.diff(r.support_mean) < 0)
    assert np.all(np.diff(r.entropy_mean) < 0)
    assert r.support_mean[30] < 0.3 * r.support_mean[0]
    assert r.entropy_mean[30] < r.original_entropy - 0.5


def test_tail_mass_keeps_its_expectation(runs: dict[str, ZipfResult]) -> None:
    for sc, r in runs.items():
        z = np.abs(r.tail_mass_mean[1:] - r.original_tail_mass) / r.tail_mass_se[1:]
        assert np.all(z < 4), (sc, z.max())
        assert r.tail_z() < 4


def test_fresh_real_share_holds_support_and_entropy(runs: dict[str, ZipfResult]) -> None:
    rep, keep, acc = runs["replace"], runs["keep-real"], runs["accumulate"]
    assert keep.settings.real_count == 500
    floor = sum(1 - (1 - q) ** 500 for q in _zipf(1000, 1.0))
    assert keep.real_support_floor == pytest.approx(floor, rel=1e-10)
    assert np.all(keep.support_mean[1:] > floor)
    assert np.all(keep.support_mean[5:] > rep.support_mean[5:] + 50)
    # it settles: the last ten generations stay within 3 % of each other
    late = keep.support_mean[20:]
    assert late.max() / late.min() < 1.03
    assert keep.entropy_mean[30] > rep.entropy_mean[30] + 0.5
    # accumulating never loses a token seen once: the support is the first fit's
    assert np.all(acc.support_mean[1:] == acc.support_mean[1])


def test_seeded_and_validated() -> None:
    a = simulate_zipf(ZipfSettings(vocab=50, samples=100, generations=3, trials=5, seed=1))
    b = simulate_zipf(ZipfSettings(vocab=50, samples=100, generations=3, trials=5, seed=1))
    assert np.array_equal(a.support_mean, b.support_mean)
    assert np.array_equal(a.entropy_mean, b.entropy_mean)
    d = a.to_dict()
    assert d["model"] == "zipf" and d["settings"]["tail_start_rank"] == 26
    assert len(d["support_mean"]) == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"vocab": 1},
        {"exponent": -1.0},
        {"tail": 0.0},
        {"tail": 1.0},
        {"real_fraction": 2.0},
        {"samples": 1},
        {"scenario": "forget"},
    ],
)
def test_zipf_settings_reject_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ZipfSettings(**kwargs)  # type: ignore[arg-type]
