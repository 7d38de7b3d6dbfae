"""The linear regression refit on its own labels (Gerstgrasser et al., 2024) against its
closed forms.

Tolerance: a simulated mean test error must sit within 4 Monte Carlo standard errors
(estimated from the simulated values) of its exact expectation at every generation. With
d = 10, T = 50, σ = 1 one fit on real data has expected error σ²d/(T−d−1) = 10/39 =
0.2564; after 10 generations replacing gives 10·0.2564 = 2.564 and the paper's bound for
accumulating is 0.2564·Σ_{i≤10} 1/i² = 0.3974, while the exact expectation with a fresh
design each generation is Σ_{i≤10} 10/(i(50i − 11)) = 0.3759. The expected values here
are written out from those formulas, not taken from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthdsl.analysis.collapse import (
    LinregSettings,
    linreg_closed_form,
    simulate_linreg,
)

STEP = 10 / 39  # σ²d/(T−d−1) for d = 10, T = 50, σ = 1


def _run(scenario: str, trials: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = simulate_linreg(
        LinregSettings(generations=10, trials=trials, scenario=scenario, seed=seed)  # type: ignore[arg-type]
    )
    return r.mean_error, r.error_se


def test_closed_forms_give_the_papers_numbers() -> None:
    rep_exact, rep_paper = linreg_closed_form(LinregSettings(generations=10))
    assert np.allclose(rep_exact, STEP * np.arange(11), rtol=1e-12)
    assert np.array_equal(rep_exact, rep_paper)
    assert rep_exact[10] == pytest.approx(2.5641, abs=1e-4)
    acc_exact, acc_bound = linreg_closed_form(LinregSettings(generations=10, scenario="accumulate"))
    want = np.cumsum([0.0] + [10 / (i * (50 * i - 11)) for i in range(1, 11)])
    assert np.allclose(acc_exact, want, rtol=1e-12)
    assert acc_exact[10] == pytest.approx(0.3759, abs=1e-4)
    assert acc_bound[10] == pytest.approx(STEP * sum(1 / i**2 for i in range(1, 11)), rel=1e-12)
    assert acc_bound[10] == pytest.approx(0.3974, abs=1e-4)
    # the exact form never exceeds the bound, and both stay under STEP·π²/6
    assert np.all(acc_exact <= acc_bound + 1e-15)
    far, _ = linreg_closed_form(LinregSettings(generations=5000, scenario="accumulate"))
    assert far[-1] < STEP * math.pi**2 / 6


def test_replacing_grows_linearly_as_n_sigma2_d_over_t_minus_d_minus_1() -> None:
    mean, se = _run("replace")
    want = STEP * np.arange(11)
    z = np.abs(mean[1:] - want[1:]) / se[1:]
    assert np.all(z < 4), z.max()
    # linear growth: the slope through the origin is one fit's error, within 5 %
    n = np.arange(1, 11)
    slope = float(np.sum(n * mean[1:]) / np.sum(n * n))
    assert slope == pytest.approx(STEP, rel=0.05)
    assert mean[10] / mean[5] == pytest.approx(2.0, rel=0.1)
    assert mean[10] == pytest.approx(2.564, rel=0.05)


def test_accumulating_matches_its_exact_form_and_stays_below_the_bound() -> None:
    mean, se = _run("accumulate", seed=1)
    exact = np.cumsum([0.0] + [10 / (i * (50 * i - 11)) for i in range(1, 11)])
    bound = STEP * np.cumsum([0.0] + [1 / i**2 for i in range(1, 11)])
    z = np.abs(mean[1:] - exact[1:]) / se[1:]
    assert np.all(z < 4), z.max()
    # below the bound wherever the gap is several SEs wide (n ≥ 5: ≥ 0.017, SE ≈ 0.003)
    assert np.all(mean[5:] < bound[5:])
    assert mean[10] == pytest.approx(0.376, rel=0.05)
    # bounded: the last five generations add less than one fit's SE-scale error
    assert mean[10] - mean[5] < 0.1 * STEP


def test_seeded_and_validated() -> None:
    a = simulate_linreg(LinregSettings(generations=3, trials=20, seed=4))
    b = simulate_linreg(LinregSettings(generations=3, trials=20, seed=4))
    c = simulate_linreg(LinregSettings(generations=3, trials=20, seed=5))
    assert np.array_equal(a.mean_error, b.mean_error)
    assert not np.array_equal(a.mean_error, c.mean_error)
    assert a.mean_error[0] == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dim": 0},
        {"samples": 11},  # needs T ≥ d + 2 = 12
        {"noise": 0.0},
        {"noise": float("inf")},
        {"scenario": "keep-real"},
        {"generations": -1},
        {"trials": 0},
    ],
)
def test_linreg_settings_reject_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LinregSettings(**kwargs)  # type: ignore[arg-type]
