"""The settings of a collapse experiment, validated, and the scenario vocabulary.

Gives ``GaussianSettings``, ``MixtureSettings``, ``LinregSettings`` and ``ZipfSettings``
(frozen; their constructors raise ValueError for out-of-range values: N < 2, G < 0,
T < 1, a real fraction outside [0, 1], a non-positive σ, mixture parameters of unequal
lengths or weights that do not sum to 1, an unknown scenario or estimator, a regression
with fewer than d + 2 samples, a Zipf vocabulary under 2 tokens or a tail share outside
(0, 1)), ``AnySettings``, the ``Scenario``/``Estimator`` literals, ``SCENARIOS`` and
``LINREG_SCENARIOS``, the thresholds ``COLLAPSED_SIGMA`` and ``RARE_LOST``,
``scenario_label`` (a scenario as the tables and plots name it) and ``settings_record``
(the JSON head of a result).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "COLLAPSED_SIGMA",
    "LINREG_SCENARIOS",
    "RARE_LOST",
    "SCENARIOS",
    "AnySettings",
    "Estimator",
    "GaussianSettings",
    "LinregSettings",
    "MixtureSettings",
    "Scenario",
    "ZipfSettings",
    "scenario_label",
    "settings_record",
]

Scenario = Literal["replace", "keep-real", "accumulate"]
Estimator = Literal["mle", "unbiased"]

SCENARIOS: tuple[Scenario, ...] = ("replace", "keep-real", "accumulate")
#: Linear regression compares replacing with accumulating (Gerstgrasser et al., 2024).
LINREG_SCENARIOS: tuple[Scenario, ...] = ("replace", "accumulate")
COLLAPSED_SIGMA = 0.1  # a trial "collapsed" when σ < COLLAPSED_SIGMA·σ0
RARE_LOST = 0.1  # the rare mode is "lost" when its mass < RARE_LOST × its original mass


def _check_common(samples: int, generations: int, trials: int, scenario: str, r: float) -> None:
    if samples < 2:
        raise ValueError(f"samples must be >= 2 (a variance needs two points), got {samples}")
    if generations < 0:
        raise ValueError(f"generations must be >= 0, got {generations}")
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    if not 0.0 <= r <= 1.0 or math.isnan(r):
        raise ValueError(f"real_fraction must be in [0, 1], got {r}")


@dataclass(frozen=True)
class GaussianSettings:
    """One Gaussian-refit experiment: generation 0 is N(mu0, sigma0²)."""

    samples: int = 100
    generations: int = 200
    trials: int = 1000
    scenario: Scenario = "replace"
    real_fraction: float = 0.1  # keep-real only: round(r·N) fresh real samples
    estimator: Estimator = "mle"  # "mle" divides by N, "unbiased" by N − 1
    mu0: float = 0.0
    sigma0: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        _check_common(
            self.samples, self.generations, self.trials, self.scenario, self.real_fraction
        )
        if self.estimator not in ("mle", "unbiased"):
            raise ValueError(f"estimator must be 'mle' or 'unbiased', got {self.estimator!r}")
        if not self.sigma0 > 0 or not math.isfinite(self.sigma0):
            raise ValueError(f"sigma0 must be a positive number, got {self.sigma0}")
        if not math.isfinite(self.mu0):
            raise ValueError(f"mu0 must be finite, got {self.mu0}")

    @property
    def real_count(self) -> int:
        """Real samples per generation under keep-real (0 for the other scenarios)."""
        return round(self.real_fraction * self.samples) if self.scenario == "keep-real" else 0


@dataclass(frozen=True)
class MixtureSettings:
    """One mixture-refit experiment: generation 0 is the 1-D mixture (weights, means, sds).

    The default has a rare, well separated mode (10 % of the mass at 8) whose upper side
    holds the original 99th percentile, so losing tails and losing the mode show together.
    """

    samples: int = 100
    generations: int = 200
    trials: int = 200
    scenario: Scenario = "replace"
    real_fraction: float = 0.1
    weights: tuple[float, ...] = (0.6, 0.3, 0.1)
    means: tuple[float, ...] = (0.0, 4.0, 8.0)
    sds: tuple[float, ...] = (1.0, 1.0, 0.75)
    em_iterations: int = 10
    bin_width: float | None = None  # accumulate's histogram; None: min(sds)/8
    seed: int = 0

    def __post_init__(self) -> None:
        _check_common(
            self.samples, self.generations, self.trials, self.scenario, self.real_fraction
        )
        k = len(self.weights)
        if k < 1 or len(self.means) != k or len(self.sds) != k:
            raise ValueError("weights, means and sds must be non-empty and of equal length")
        if any(not w > 0 for w in self.weights) or abs(sum(self.weights) - 1.0) > 1e-9:
            raise ValueError(f"weights must be positive and sum to 1, got {self.weights}")
        if any(not s > 0 or not math.isfinite(s) for s in self.sds):
            raise ValueError(f"sds must be positive, got {self.sds}")
        if any(not math.isfinite(m) for m in self.means):
            raise ValueError(f"means must be finite, got {self.means}")
        if list(self.means) != sorted(self.means):
            raise ValueError(
                f"means must be in increasing order (the last is the rare mode), got {self.means}"
            )
        if self.samples < 2 * k:
            raise ValueError(f"samples must be >= 2 per component ({2 * k}), got {self.samples}")
        if self.em_iterations < 1:
            raise ValueError(f"em_iterations must be >= 1, got {self.em_iterations}")
        if self.bin_width is not None and not self.bin_width > 0:
            raise ValueError(f"bin_width must be positive, got {self.bin_width}")

    @property
    def real_count(self) -> int:
        return round(self.real_fraction * self.samples) if self.scenario == "keep-real" else 0


@dataclass(frozen=True)
class LinregSettings:
    """One linear-regression experiment (Gerstgrasser et al., 2024): x ~ N(0, I_d), the
    true model w* (its value does not matter: errors are measured from it), each
    generation fits OLS on ``samples`` fresh inputs labelled by the previous fit plus
    N(0, noise²); generation 1 is labelled by w*. Scenarios: replace, accumulate."""

    samples: int = 50  # T, inputs per generation
    dim: int = 10  # d
    noise: float = 1.0  # σ
    generations: int = 200
    trials: int = 1000
    scenario: Scenario = "replace"
    seed: int = 0

    def __post_init__(self) -> None:
        _check_common(self.samples, self.generations, self.trials, self.scenario, 0.0)
        if self.scenario not in LINREG_SCENARIOS:
            raise ValueError(
                f"linear regression scenario must be one of {', '.join(LINREG_SCENARIOS)}, "
                f"got {self.scenario!r}"
            )
        if self.dim < 1:
            raise ValueError(f"dim must be >= 1, got {self.dim}")
        if self.samples < self.dim + 2:
            raise ValueError(
                f"samples must be >= dim + 2 ({self.dim + 2}) for a finite expected test "
                f"error, got {self.samples}"
            )
        if not self.noise > 0 or not math.isfinite(self.noise):
            raise ValueError(f"noise must be a positive number, got {self.noise}")

    @property
    def real_fraction(self) -> float:
        """No keep-real scenario here: 0."""
        return 0.0

    @property
    def real_count(self) -> int:
        return 0


@dataclass(frozen=True)
class ZipfSettings:
    """One token-distribution experiment (Shumailov et al.'s tail loss): generation 0 is
    p_k ∝ k^−exponent over ``vocab`` tokens; each generation draws ``samples`` tokens and
    refits p by their empirical frequencies, so unseen tokens vanish. ``tail`` is the
    share of ranks, from the bottom, whose mass is tracked as the tail."""

    samples: int = 5000  # N, tokens per generation
    vocab: int = 1000  # V
    exponent: float = 1.0  # s
    tail: float = 0.5  # the bottom half of the ranks
    generations: int = 200
    trials: int = 50
    scenario: Scenario = "replace"
    real_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        _check_common(
            self.samples, self.generations, self.trials, self.scenario, self.real_fraction
        )
        if self.vocab < 2:
            raise ValueError(f"vocab must be >= 2, got {self.vocab}")
        if not self.exponent >= 0 or not math.isfinite(self.exponent):
            raise ValueError(f"exponent must be a number >= 0, got {self.exponent}")
        if not 0.0 < self.tail < 1.0:
            raise ValueError(f"tail must be in (0, 1), got {self.tail}")

    @property
    def real_count(self) -> int:
        return round(self.real_fraction * self.samples) if self.scenario == "keep-real" else 0

    @property
    def tail_start(self) -> int:
        """Index (0-based rank) of the first tail token: the bottom ``tail`` of the ranks."""
        return min(self.vocab - 1, self.vocab - max(1, round(self.tail * self.vocab)))


AnySettings = GaussianSettings | MixtureSettings | LinregSettings | ZipfSettings


def scenario_label(scenario: Scenario, real_count: int, samples: int) -> str:
    if scenario == "keep-real":
        return f"keep {100 * real_count / samples:g}% real"
    return scenario


def settings_record(model: str, settings: AnySettings, **specific: Any) -> dict[str, Any]:
    """The head of a result's JSON: model, scenario, label and the settings (those both
    models share first, then ``specific``)."""
    s = settings
    return {
        "model": model,
        "scenario": s.scenario,
        "label": scenario_label(s.scenario, s.real_count, s.samples),
        "settings": {
            "samples": s.samples,
            "generations": s.generations,
            "trials": s.trials,
            "real_fraction": s.real_fraction,
            "real_count": s.real_count,
            **specific,
        },
    }
