"""Model collapse, reproduced numerically: models refit, generation after generation, on
samples drawn from their own previous fit.

Input: a ``GaussianSettings`` or ``MixtureSettings`` (sample size N per generation,
number of generations G, independent trials T, scenario, seed). Output: a
``GaussianResult`` / ``MixtureResult`` holding one value per generation 0..G (statistics
over the T trials, plus closed forms where they exist); ``collapse_table`` renders results
as a plain-text table, ``write_plot`` as a self-contained SVG (or an HTML page holding it).

Errors: ``ValueError`` from the settings' constructors for out-of-range values (N < 2,
G < 0, T < 1, a real fraction outside [0, 1], a non-positive σ, mixture parameters of
unequal lengths or weights that do not sum to 1, an unknown scenario or estimator), and
from ``collapse_table``/``write_plot`` when given no results. ``write_plot`` lets
``OSError`` from writing the file through. Everything is pure numpy, vectorised over
trials and seeded: the same settings give the same numbers.

Scenarios (both models):

* ``replace``: generation n+1 is fitted on N samples of generation n's fitted model
  (Shumailov et al., "The curse of recursion", 2023; Nature 2024).
* ``keep-real``: the fitted set is round(r·N) fresh samples of the ORIGINAL distribution
  plus N − round(r·N) samples of the current model (Bertrand et al., stability of
  iterative retraining with a fraction of real data).
* ``accumulate``: generation n+1 is fitted on all data so far, the real generation-0
  sample plus every generation's synthetic sample (Gerstgrasser et al., 2024, "Is model
  collapse inevitable?").

Gaussian model, closed forms. Let N samples come from N(μ, σ²) and let SS be the sum of
squared deviations from the sample mean; SS/σ² ~ χ²_{N−1}. The refit variance is
σ'² = SS/D with D = N (MLE, the default) or D = N − 1 (unbiased). Hence, under
``replace``, σ_n² = σ0²·Π_{i≤n} χ²_{N−1,i}/D with independent factors and

* MLE: E[σ_n²] = σ0²·((N−1)/N)^n. This is the statement "the expected variance after n
  generations is σ0²((N−1)/N)^n" and it is what ``closed_form_var`` holds by default.
* unbiased: E[σ_n²] = σ0² for every n: σ_n² is a martingale. Yet σ_n → 0 almost surely,
  because E[log σ_n²] = log σ0² + n·c with c = E[log(χ²_{N−1}/D)] < 0 (Jensen), and
  log σ_n² is a random walk with that negative drift. The mean stays flat only because a
  vanishing fraction of trials carries ever larger variances; the median (≈ geometric
  mean) collapses. The same holds, faster, for the MLE.

With E[log χ²_k] = ψ(k/2) + log 2 (ψ the digamma function, exact at half-integers by
recurrence), the exact drift per generation is

    c = ψ((N−1)/2) − log(D/2)  ≈ −1/N (unbiased), ≈ −2/N (MLE), to first order in 1/N,

so the geometric mean exp(E[log σ_n]) = σ0·exp(n·c/2) exactly (``closed_form_geo_sigma``),
and Var[log σ_n²] = n·ψ′((N−1)/2) (trigamma), which gives a normal approximation of the
fraction of trials with σ_n < 0.1·σ0 (``closed_form_frac_collapsed``).

``keep-real`` and ``accumulate`` have exact closed forms for E[σ_n²] too (derived in
docs/collapse-simulation.md): under ``keep-real`` (E[σ²], E[(μ − μ0)²]) follows a linear
recursion whose fixed point is σ0²·(1 − N/(N² − m2² + m2)) for the MLE and
σ0²·(1 + m2/(N² − m2² − N)) for the unbiased estimator, m2 = N − round(r·N) synthetic
points (0.9497·σ0² and 1.05·σ0² for N = 100, r = 0.1); under ``accumulate`` with the MLE,
E[σ_n²] = σ0²·Π_{j=1..n}(1 − 1/(N·j²)) → σ0²·sin(π/√N)/(π/√N) (Euler's product for the
sine), a bounded loss; with the unbiased estimator the factors are
1 − 1/(j·(j·N − 1)) for j ≥ 2.

Gaussian mixture model: 1-D, K components, refit by EM (implemented here, vectorised over
trials), initialised deterministically from quantiles (the sorted sample is cut into K
contiguous runs at the previous model's cumulative weights, the cuts moved by a few 1-D
k-means steps; each run gives one component's starting weight, mean and variance), then
a fixed number of EM iterations. Components are kept sorted by mean; the rare mode is
measured as the fitted mass above the point where the original rare component's weighted
density overtakes its neighbour's, so it is tracked whatever component carries it. Its
weight behaves like a neutral (Wright–Fisher) allele frequency under ``replace``: a
martingale in the mean, absorbed at 0 in most chains, so again the mean over trials stays
flat while the median and the share of chains that lost it tell the story.
``accumulate`` fits the growing data through a fine histogram (bin width ≤ min σ/8,
Sheppard's correction h²/12 taken off each variance), so a generation costs the same
however much data has accumulated; values beyond the grid (± 6 σ around the original
components) are counted in ``MixtureResult.clipped``.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "GaussianResult",
    "GaussianSettings",
    "MixtureResult",
    "MixtureSettings",
    "Scenario",
    "closed_form_check",
    "collapse_table",
    "digamma_half",
    "gaussian_closed_form_var",
    "log_variance_drift",
    "render_svg",
    "simulate_gaussian",
    "simulate_mixture",
    "table_generations",
    "trigamma_half",
    "write_plot",
]

Scenario = Literal["replace", "keep-real", "accumulate"]
Estimator = Literal["mle", "unbiased"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SCENARIOS: tuple[Scenario, ...] = ("replace", "keep-real", "accumulate")
COLLAPSED_SIGMA = 0.1  # a trial "collapsed" when σ < COLLAPSED_SIGMA·σ0
RARE_LOST = 0.1  # the rare mode is "lost" when its mass < RARE_LOST × its original mass
_EULER_GAMMA = 0.5772156649015329
LLOYD_STEPS = 10  # k-means steps that refine the quantile cuts before EM


# ------------------------------------------------------------------ special functions


def digamma_half(m: int) -> float:
    """ψ(m/2) for an integer m ≥ 1, exact up to rounding (recurrence from ψ(1), ψ(1/2)).

    ψ(1) = −γ, ψ(1/2) = −γ − 2·log 2, ψ(x + 1) = ψ(x) + 1/x.
    """
    if m < 1:
        raise ValueError(f"digamma_half needs m >= 1, got {m}")
    if m % 2 == 0:
        x, acc = 1.0, -_EULER_GAMMA
    else:
        x, acc = 0.5, -_EULER_GAMMA - 2.0 * math.log(2.0)
    while x < m / 2:
        acc += 1.0 / x
        x += 1.0
    return acc


def trigamma_half(m: int) -> float:
    """ψ′(m/2) for an integer m ≥ 1: ψ′(1) = π²/6, ψ′(1/2) = π²/2, ψ′(x+1) = ψ′(x) − 1/x²."""
    if m < 1:
        raise ValueError(f"trigamma_half needs m >= 1, got {m}")
    if m % 2 == 0:
        x, acc = 1.0, math.pi**2 / 6.0
    else:
        x, acc = 0.5, math.pi**2 / 2.0
    while x < m / 2:
        acc -= 1.0 / (x * x)
        x += 1.0
    return acc


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _norm_sf(z: FloatArray) -> FloatArray:
    """Upper tail 1 − Φ(z), vectorised: erfc by a Chebyshev-fitted exponential
    (fractional error below 1.2e-7 everywhere), so tiny tail masses keep their size."""
    x = z / math.sqrt(2.0)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t
                    * (
                        0.27886807
                        + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                    )
                )
            )
        )
    )
    erfc_abs = t * np.exp(-a * a + poly)
    erfc = np.where(x >= 0, erfc_abs, 2.0 - erfc_abs)
    return np.asarray(0.5 * erfc, dtype=np.float64)


# ------------------------------------------------------------------ settings


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


def _z(diff: FloatArray, se: FloatArray) -> FloatArray:
    """diff / se, 0 where the SE is 0 (a single trial has no Monte Carlo SE)."""
    ok = se > 0
    return np.where(ok, diff / np.where(ok, se, 1.0), 0.0)


def _label(scenario: Scenario, real_count: int, samples: int) -> str:
    if scenario == "keep-real":
        return f"keep {100 * real_count / samples:g}% real"
    return scenario


# ------------------------------------------------------------------ Gaussian


@dataclass(frozen=True)
class GaussianResult:
    """Per-generation statistics (index = generation 0..G) over the trials.

    ``closed_form_var`` is the exact E[σ_n²] for the scenario and estimator;
    ``closed_form_geo_sigma`` (exact) and ``closed_form_frac_collapsed`` (normal
    approximation) exist for ``replace`` only and are None otherwise.
    """

    settings: GaussianSettings
    generations: IntArray
    mean_var: FloatArray  # mean over trials of σ_n²
    var_se: FloatArray  # Monte Carlo standard error of mean_var
    closed_form_var: FloatArray
    median_sigma: FloatArray
    geo_mean_sigma: FloatArray  # exp(mean over trials of log σ_n)
    log_var_se: FloatArray  # standard error of the mean of log σ_n²
    frac_collapsed: FloatArray  # fraction of trials with σ_n < 0.1·σ0
    closed_form_var_sd: FloatArray | None  # exact SD of σ_n² across trials (replace)
    closed_form_geo_sigma: FloatArray | None
    closed_form_frac_collapsed: FloatArray | None

    model: str = field(default="gaussian", init=False)

    @property
    def label(self) -> str:
        s = self.settings
        return _label(s.scenario, s.real_count, s.samples)

    @property
    def ratio(self) -> FloatArray:
        """mean σ² over trials / closed form."""
        return np.asarray(self.mean_var / self.closed_form_var, dtype=np.float64)

    def worst_relative_error(self) -> tuple[float, int]:
        """max over generations of |mean σ² / closed form − 1|, and where it is."""
        err = np.abs(self.ratio - 1.0)
        g = int(np.argmax(err))
        return float(err[g]), g

    def worst_z(self, exact: bool = False) -> tuple[float, int]:
        """max over generations ≥ 1 of |mean σ² − closed form| / Monte Carlo SE, and where.

        The SE is the sample SD of σ_n² over trials / √T, or with ``exact`` (replace only)
        the exact SD / √T. σ_n² is heavy-tailed (log-normal-like, log-SD √(n·ψ′)), so the
        sample SD tends to underestimate the SD late in long chains.
        """
        if len(self.generations) < 2:
            return 0.0, 0
        diff = np.abs(self.mean_var[1:] - self.closed_form_var[1:])
        if exact and self.closed_form_var_sd is not None:
            se = self.closed_form_var_sd[1:] / math.sqrt(self.settings.trials)
        else:
            se = self.var_se[1:]
        z = _z(diff, se)
        g = int(np.argmax(z))
        return float(z[g]), g + 1

    def worst_log_z(self) -> tuple[float, float, int]:
        """replace only: max over generations ≥ 1 of |mean log σ_n² − exact E[log σ_n²]|
        in SEs, the matching relative error of the geometric-mean σ, and where."""
        cf = self.closed_form_geo_sigma
        if cf is None or len(self.generations) < 2:
            return 0.0, 0.0, 0
        diff = 2.0 * np.abs(np.log(self.geo_mean_sigma[1:]) - np.log(cf[1:]))
        z = _z(diff, self.log_var_se[1:])
        g = int(np.argmax(z))
        rel = float(np.max(np.abs(self.geo_mean_sigma[1:] / cf[1:] - 1.0)))
        return float(z[g]), rel, g + 1

    def to_dict(self) -> dict[str, Any]:
        s = self.settings
        rel, rel_g = self.worst_relative_error()
        z, z_g = self.worst_z()
        out: dict[str, Any] = {
            "model": "gaussian",
            "scenario": s.scenario,
            "label": self.label,
            "settings": {
                "samples": s.samples,
                "generations": s.generations,
                "trials": s.trials,
                "real_fraction": s.real_fraction,
                "real_count": s.real_count,
                "estimator": s.estimator,
                "mu0": s.mu0,
                "sigma0": s.sigma0,
                "seed": s.seed,
            },
            "worst_relative_error": {"value": rel, "generation": rel_g},
            "worst_z": {"value": z, "generation": z_g},
        }
        for name in (
            "mean_var",
            "var_se",
            "closed_form_var",
            "median_sigma",
            "geo_mean_sigma",
            "log_var_se",
            "frac_collapsed",
            "closed_form_var_sd",
            "closed_form_geo_sigma",
            "closed_form_frac_collapsed",
        ):
            arr = getattr(self, name)
            out[name] = None if arr is None else [float(v) for v in arr]
        return out


def log_variance_drift(samples: int, estimator: Estimator = "mle") -> float:
    """c = E[log(χ²_{N−1}/D)] = ψ((N−1)/2) − log(D/2): the exact change of E[log σ²] per
    generation under ``replace`` (D = N for the MLE, N − 1 for the unbiased estimator)."""
    d = samples if estimator == "mle" else samples - 1
    return digamma_half(samples - 1) - math.log(d / 2.0)


def gaussian_closed_form_var(settings: GaussianSettings) -> FloatArray:
    """Exact E[σ_n²] for n = 0..G under the settings' scenario and estimator."""
    s = settings
    n_gen, big_n = s.generations, s.samples
    var0 = s.sigma0**2
    out = np.empty(n_gen + 1, dtype=np.float64)
    out[0] = var0
    d_fit = big_n if s.estimator == "mle" else big_n - 1
    if s.scenario == "replace":
        factor = (big_n - 1) / d_fit
        out[:] = var0 * factor ** np.arange(n_gen + 1, dtype=np.float64)
    elif s.scenario == "keep-real":
        # a = E[σ²], d = E[(μ − μ0)²]; m1 real + m2 synthetic points.
        m1 = s.real_count
        m2 = big_n - m1
        a, d = var0, 0.0
        for n in range(1, n_gen + 1):
            ss = var0 * (m1 - 1 + m2 / big_n) + a * (m2 - 1 + m1 / big_n) + m1 * m2 / big_n * d
            d = (m2 / big_n) ** 2 * d + (m1 * var0 + m2 * a) / big_n**2
            a = ss / d_fit
            out[n] = a
    else:  # accumulate: fit n uses M = n·N points
        a = var0
        for n in range(1, n_gen + 1):
            if n == 1:
                a = var0 * (big_n - 1) / d_fit
            else:
                m = n * big_n
                a *= 1.0 - big_n / (m * m) if s.estimator == "mle" else 1.0 - big_n / (m * (m - 1))
            out[n] = a
    return out


def simulate_gaussian(settings: GaussianSettings) -> GaussianResult:
    """Run T independent chains of G refits of a Gaussian; see the module docstring."""
    s = settings
    rng = np.random.default_rng(s.seed)
    t, big_n, n_gen = s.trials, s.samples, s.generations
    mle = s.estimator == "mle"
    mu = np.full(t, s.mu0, dtype=np.float64)
    var = np.full(t, s.sigma0**2, dtype=np.float64)
    m1 = s.real_count
    # accumulate: pooled count, mean and sum of squared deviations (exact, via the
    # parallel-variance update), so no sample needs to be kept.
    pool_n = 0
    pool_mean = np.zeros(t, dtype=np.float64)
    pool_ss = np.zeros(t, dtype=np.float64)

    var_hist = np.empty((n_gen + 1, t), dtype=np.float64)
    var_hist[0] = var
    for n in range(1, n_gen + 1):
        z = rng.standard_normal((t, big_n))
        x = mu[:, None] + np.sqrt(var)[:, None] * z
        if m1:
            x[:, :m1] = s.mu0 + s.sigma0 * z[:, :m1]
        b_mean = x.mean(axis=1)
        b_ss = np.square(x - b_mean[:, None]).sum(axis=1)
        if s.scenario == "accumulate":
            if pool_n == 0:
                pool_n, pool_mean, pool_ss = big_n, b_mean, b_ss
            else:
                total = pool_n + big_n
                delta = b_mean - pool_mean
                pool_mean = pool_mean + delta * (big_n / total)
                pool_ss = pool_ss + b_ss + np.square(delta) * (pool_n * big_n / total)
                pool_n = total
            mu = pool_mean
            var = pool_ss / (pool_n if mle else pool_n - 1)
        else:
            mu = b_mean
            var = b_ss / (big_n if mle else big_n - 1)
        var_hist[n] = var

    var0 = s.sigma0**2
    sigma = np.sqrt(var_hist)
    log_var = np.log(np.maximum(var_hist, 1e-300))
    gens = np.arange(n_gen + 1, dtype=np.int64)
    sqrt_t = math.sqrt(t)
    geo_cf: FloatArray | None = None
    frac_cf: FloatArray | None = None
    sd_cf: FloatArray | None = None
    if s.scenario == "replace":
        # E[σ_n⁴] = σ0⁴·(E[(χ²_{N−1}/D)²])^n = σ0⁴·((N−1)(N+1)/D²)^n
        d_fit = big_n if mle else big_n - 1
        p1 = (big_n - 1) / d_fit
        p2 = (big_n - 1) * (big_n + 1) / d_fit**2
        gf = gens.astype(np.float64)
        sd_cf = var0 * np.sqrt(np.maximum(p2**gf - p1 ** (2.0 * gf), 0.0))
        c = log_variance_drift(big_n, s.estimator)
        v = trigamma_half(big_n - 1)
        geo_cf = s.sigma0 * np.exp(gens * c / 2.0)
        thresh = 2.0 * math.log(COLLAPSED_SIGMA)
        frac_cf = np.array(
            [0.0] + [_norm_cdf((thresh - n * c) / math.sqrt(n * v)) for n in range(1, n_gen + 1)],
            dtype=np.float64,
        )
    return GaussianResult(
        settings=s,
        generations=gens,
        mean_var=var_hist.mean(axis=1),
        var_se=var_hist.std(axis=1, ddof=1) / sqrt_t if t > 1 else np.zeros(n_gen + 1),
        closed_form_var=gaussian_closed_form_var(s),
        median_sigma=np.median(sigma, axis=1),
        geo_mean_sigma=np.exp(log_var.mean(axis=1) / 2.0),
        log_var_se=log_var.std(axis=1, ddof=1) / sqrt_t if t > 1 else np.zeros(n_gen + 1),
        frac_collapsed=(sigma < COLLAPSED_SIGMA * math.sqrt(var0)).mean(axis=1),
        closed_form_var_sd=sd_cf,
        closed_form_geo_sigma=geo_cf,
        closed_form_frac_collapsed=frac_cf,
    )


# ------------------------------------------------------------------ mixture


@dataclass(frozen=True)
class MixtureResult:
    """Per-generation statistics (index = generation 0..G) of the fitted mixtures.

    ``rare_mass`` is the fitted model's probability mass above ``rare_boundary`` (where the
    original rare component's weighted density overtakes its neighbour's): it measures the
    rare mode whatever component models it. ``tail_mass`` is the mass above the original
    99th percentile ``q99`` (0.01 at generation 0). ``mean_weights[n, k]`` is the mean
    weight of the k-th component by increasing mean.
    """

    settings: MixtureSettings
    generations: IntArray
    mean_weights: FloatArray  # (G+1, K)
    rare_mass_mean: FloatArray
    rare_mass_median: FloatArray
    rare_lost_frac: FloatArray  # fraction of trials whose rare mass < 0.1 × original
    tail_mass_mean: FloatArray
    tail_mass_median: FloatArray
    total_var_mean: FloatArray
    total_var_se: FloatArray
    total_var_median: FloatArray
    closed_form_total_var: FloatArray  # exact E[total variance], see simulate_mixture
    rare_boundary: float
    q99: float
    original_rare_mass: float
    original_total_var: float
    clipped: int  # accumulate: sampled values beyond the histogram grid

    model: str = field(default="mixture", init=False)

    @property
    def label(self) -> str:
        s = self.settings
        return _label(s.scenario, s.real_count, s.samples)

    def to_dict(self) -> dict[str, Any]:
        s = self.settings
        out: dict[str, Any] = {
            "model": "mixture",
            "scenario": s.scenario,
            "label": self.label,
            "settings": {
                "samples": s.samples,
                "generations": s.generations,
                "trials": s.trials,
                "real_fraction": s.real_fraction,
                "real_count": s.real_count,
                "weights": list(s.weights),
                "means": list(s.means),
                "sds": list(s.sds),
                "em_iterations": s.em_iterations,
                "seed": s.seed,
            },
            "rare_boundary": self.rare_boundary,
            "q99": self.q99,
            "original_rare_mass": self.original_rare_mass,
            "original_total_var": self.original_total_var,
            "clipped": self.clipped,
            "mean_weights": [[float(v) for v in row] for row in self.mean_weights],
        }
        for name in (
            "rare_mass_mean",
            "rare_mass_median",
            "rare_lost_frac",
            "tail_mass_mean",
            "tail_mass_median",
            "total_var_mean",
            "total_var_se",
            "total_var_median",
            "closed_form_total_var",
        ):
            out[name] = [float(v) for v in getattr(self, name)]
        return out


def _mix_cdf(x: float, w: Sequence[float], mu: Sequence[float], sd: Sequence[float]) -> float:
    return sum(wk * _norm_cdf((x - mk) / sk) for wk, mk, sk in zip(w, mu, sd, strict=True))


def _bisect(f: Any, lo: float, hi: float) -> float:
    flo = f(lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _mixture_landmarks(s: MixtureSettings) -> tuple[float, float]:
    """(rare boundary, original 99th percentile)."""
    w, mu, sd = s.weights, s.means, s.sds
    lo = min(m - 12 * v for m, v in zip(mu, sd, strict=True))
    hi = max(m + 12 * v for m, v in zip(mu, sd, strict=True))
    q99 = _bisect(lambda x: _mix_cdf(x, w, mu, sd) - 0.99, lo, hi)
    if len(w) == 1:
        return mu[0], q99

    def log_ratio(x: float) -> float:
        a = math.log(w[-2] / sd[-2]) - 0.5 * ((x - mu[-2]) / sd[-2]) ** 2
        b = math.log(w[-1] / sd[-1]) - 0.5 * ((x - mu[-1]) / sd[-1]) ** 2
        return a - b

    a_, b_ = mu[-2], mu[-1]
    if a_ < b_ and log_ratio(a_) > 0 > log_ratio(b_):
        boundary = _bisect(log_ratio, a_, b_)
    else:
        boundary = 0.5 * (a_ + b_)
    return boundary, q99


def _mass_above(thr: float, w: FloatArray, mu: FloatArray, var: FloatArray) -> FloatArray:
    """Σ_k w_k·P(X_k > thr) for parameters shaped (K, T)."""
    z = (thr - mu) / np.sqrt(var)
    return np.asarray((w * _norm_sf(z)).sum(axis=0), dtype=np.float64)


def _sample_mixture(
    rng: np.random.Generator, w: FloatArray, mu: FloatArray, var: FloatArray, n: int
) -> FloatArray:
    """n samples per trial from mixtures with parameters shaped (K, T) → (T, n)."""
    t = w.shape[1]
    u = rng.random((t, n))
    z = rng.standard_normal((t, n))
    cw = np.cumsum(w, axis=0).T  # (T, K)
    cw /= cw[:, -1:]
    lab = (u[:, :, None] >= cw[:, None, :-1]).sum(axis=2)  # (T, n) in 0..K-1
    mu_t, sd_t = mu.T, np.sqrt(var).T
    return np.asarray(
        np.take_along_axis(mu_t, lab, axis=1) + np.take_along_axis(sd_t, lab, axis=1) * z,
        dtype=np.float64,
    )


def _segment_init(
    xs: FloatArray,
    c: FloatArray | None,
    w_prev: FloatArray,
    var_floor: float,
    lloyd_steps: int = LLOYD_STEPS,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Deterministic quantile start for EM.

    xs: sorted data (T, M), or shared sorted points (1, M) with weights c (T, M);
    w_prev: the previous model's weights (K, T), components by increasing mean.
    The data are cut into K contiguous runs at the quantiles cumsum(w_prev); the cuts are
    then moved by a few 1-D k-means (Lloyd) steps, each cut to the midpoint of its two
    runs' means. Each run's share, mean and variance start one component. Runs keep at
    least two points (one bin for weighted data), so no component starts empty.
    Returns (w, mu, var), each (K, T).
    """
    t = xs.shape[0] if c is None else c.shape[0]
    m = xs.shape[1]
    k = w_prev.shape[0]
    xs_b = np.broadcast_to(xs, (t, m))
    cw = np.ones((t, m)) if c is None else c
    zero = np.zeros((t, 1))
    cs0 = np.concatenate([zero, np.cumsum(cw, axis=1)], axis=1)
    cs1 = np.concatenate([zero, np.cumsum(cw * xs_b, axis=1)], axis=1)
    cs2 = np.concatenate([zero, np.cumsum(cw * xs_b * xs_b, axis=1)], axis=1)
    total = cs0[:, -1]
    gap = 2 if c is None else 1
    rows = np.arange(t)[:, None]

    def fix(bounds: IntArray) -> IntArray:
        for j in range(1, k):
            bounds[j] = np.clip(bounds[j], gap * j, m - gap * (k - j))
        for j in range(1, k):  # strictly increasing runs
            bounds[j] = np.maximum(bounds[j], bounds[j - 1] + gap)
        for j in range(k - 1, 0, -1):
            bounds[j] = np.minimum(bounds[j], bounds[j + 1] - gap)
        return bounds

    def runs(cs: FloatArray, bounds: IntArray) -> FloatArray:
        b = bounds.T  # (T, K+1)
        return np.asarray((cs[rows, b[:, 1:]] - cs[rows, b[:, :-1]]).T, dtype=np.float64)

    bounds = np.zeros((k + 1, t), dtype=np.int64)
    bounds[k] = m
    cum_w = np.cumsum(w_prev, axis=0) / w_prev.sum(axis=0)  # (K, T)
    for j in range(1, k):
        target = cum_w[j - 1] * total
        if c is None:
            bounds[j] = np.rint(target).astype(np.int64)
        else:
            bounds[j] = (cs0[:, 1:] <= target[:, None]).sum(axis=1)
    bounds = fix(bounds)
    for _ in range(lloyd_steps):
        n_seg = runs(cs0, bounds)
        centre = runs(cs1, bounds) / np.maximum(n_seg, 1e-300)
        new = bounds.copy()
        for j in range(1, k):
            mid = 0.5 * (centre[j - 1] + centre[j])
            if c is None:
                new[j] = (xs_b < mid[:, None]).sum(axis=1)
            else:
                new[j] = np.searchsorted(xs[0], mid)
        new = fix(new)
        if np.array_equal(new, bounds):
            break
        bounds = new
    n_seg = runs(cs0, bounds)
    s1 = runs(cs1, bounds)
    s2 = runs(cs2, bounds)
    all_mean = (cs1[:, -1] / total)[None, :]
    all_var = np.maximum(cs2[:, -1] / total - all_mean[0] ** 2, var_floor)[None, :]
    ok = n_seg > 0
    safe = np.where(ok, n_seg, 1.0)
    mu = np.where(ok, s1 / safe, all_mean)
    var = np.where(ok, np.maximum(s2 / safe - mu * mu, var_floor), all_var)
    w = np.maximum(n_seg, 1e-12) / total[None, :]
    return w / w.sum(axis=0), mu, var


def _em(
    x: FloatArray,
    c: FloatArray | None,
    w: FloatArray,
    mu: FloatArray,
    var: FloatArray,
    iterations: int,
    var_floor: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fixed-budget EM for 1-D K-component mixtures, all trials at once.

    x: data (T, M), or shared points (1, M) with weights c (T, M); w, mu, var: (K, T)
    starting parameters. Returns the fitted (w, mu, var), components sorted by mean.
    """
    t = w.shape[1]
    m = x.shape[1]
    # Centre each trial's data: keeps E[x²] − μ² well conditioned.
    if c is None:
        shift = x.mean(axis=1)
        total = np.full(t, float(m))
    else:
        total = c.sum(axis=1)
        shift = (c * x).sum(axis=1) / total
    xc = np.broadcast_to(x, (t, m)) - shift[:, None]
    xc2 = xc * xc
    mu = mu - shift[None, :]
    lp = np.empty((w.shape[0], t, m), dtype=np.float64)
    tiny = 1e-10 * total[None, :]
    for _ in range(iterations):
        half_prec = (0.5 / var)[:, :, None]
        log_norm = (np.log(np.maximum(w, 1e-300)) - 0.5 * np.log(2.0 * math.pi * var))[:, :, None]
        np.subtract(xc[None, :, :], mu[:, :, None], out=lp)
        np.square(lp, out=lp)
        lp *= half_prec
        np.subtract(log_norm, lp, out=lp)
        lp -= lp.max(axis=0)
        np.exp(lp, out=lp)
        lp /= lp.sum(axis=0)
        if c is not None:
            lp *= c[None, :, :]
        nk = lp.sum(axis=2)  # (K, T)
        s1 = np.einsum("ktm,tm->kt", lp, xc)
        s2 = np.einsum("ktm,tm->kt", lp, xc2)
        alive = nk > tiny
        safe = np.where(alive, nk, 1.0)
        new_mu = np.where(alive, s1 / safe, mu)
        var = np.where(alive, np.maximum(s2 / safe - new_mu * new_mu, var_floor), var)
        mu = new_mu
        w = nk / total[None, :]
    mu = mu + shift[None, :]
    order = np.argsort(mu, axis=0)
    return (
        np.take_along_axis(w, order, axis=0),
        np.take_along_axis(mu, order, axis=0),
        np.take_along_axis(var, order, axis=0),
    )


def simulate_mixture(settings: MixtureSettings) -> MixtureResult:
    """Run T independent chains of G EM refits of a 1-D Gaussian mixture.

    The fitted total variance has the Gaussian's closed forms (MLE case): every EM
    M-step sets w_k = n_k/N, μ_k = Σ r_ik x_i/n_k, σ_k² = Σ r_ik (x_i − μ_k)²/n_k, so
    Σ w_k μ_k = x̄ and Σ w_k (σ_k² + μ_k²) = mean of x², whatever the responsibilities r:
    the fit's mean and variance are the sample's mean and MLE variance. The Gaussian
    derivations use nothing else (E[SS] = (N − 1)·variance holds for any distribution), so
    E[total variance] = Var0·((N−1)/N)^n under replace, and the keep-real and accumulate
    forms carry over too (up to the variance floor and, for accumulate, binning).
    """
    s = settings
    rng = np.random.default_rng(s.seed)
    t, big_n, n_gen = s.trials, s.samples, s.generations
    k = len(s.weights)
    w0 = np.repeat(np.asarray(s.weights, dtype=np.float64)[:, None], t, axis=1)
    mu0 = np.repeat(np.asarray(s.means, dtype=np.float64)[:, None], t, axis=1)
    var0 = np.repeat(np.square(np.asarray(s.sds, dtype=np.float64))[:, None], t, axis=1)
    total_var0 = float(
        np.sum(w0[:, 0] * (var0[:, 0] + mu0[:, 0] ** 2)) - np.sum(w0[:, 0] * mu0[:, 0]) ** 2
    )
    var_floor = 1e-6 * total_var0
    boundary, q99 = _mixture_landmarks(s)
    rare0 = float(_mass_above(boundary, w0[:, :1], mu0[:, :1], var0[:, :1])[0])
    m1 = s.real_count

    # accumulate: a fixed histogram grid over ± 6 σ around the original components
    h = s.bin_width if s.bin_width is not None else min(s.sds) / 8.0
    lo = min(m - 6 * v for m, v in zip(s.means, s.sds, strict=True))
    hi = max(m + 6 * v for m, v in zip(s.means, s.sds, strict=True))
    n_bins = math.ceil((hi - lo) / h)
    centres = lo + h * (np.arange(n_bins) + 0.5)
    counts = np.zeros((t, n_bins), dtype=np.float64)
    clipped = 0

    w, mu, var = w0, mu0, var0
    hist_w = np.empty((n_gen + 1, k, t))
    hist_mu = np.empty((n_gen + 1, k, t))
    hist_var = np.empty((n_gen + 1, k, t))
    hist_w[0], hist_mu[0], hist_var[0] = w, mu, var
    for n in range(1, n_gen + 1):
        x = _sample_mixture(rng, w, mu, var, big_n)
        if m1:
            x[:, :m1] = _sample_mixture(rng, w0, mu0, var0, m1)
        if s.scenario == "accumulate":
            idx = np.floor((x - lo) / h).astype(np.int64)
            clipped += int(np.count_nonzero((idx < 0) | (idx >= n_bins)))
            idx = np.clip(idx, 0, n_bins - 1)
            flat = (np.arange(t)[:, None] * n_bins + idx).ravel()
            counts += np.bincount(flat, minlength=t * n_bins).reshape(t, n_bins)
            used = np.flatnonzero(counts.any(axis=0))
            cx = np.asarray(centres[used][None, :], dtype=np.float64)
            cc = counts[:, used]
            iw, imu, ivar = _segment_init(cx, cc, w, var_floor)
            w, mu, var = _em(cx, cc, iw, imu, ivar, s.em_iterations, var_floor)
            var = np.maximum(var - h * h / 12.0, var_floor)  # Sheppard's correction
        else:
            xs = np.sort(x, axis=1)
            iw, imu, ivar = _segment_init(xs, None, w, var_floor)
            w, mu, var = _em(xs, None, iw, imu, ivar, s.em_iterations, var_floor)
        hist_w[n], hist_mu[n], hist_var[n] = w, mu, var

    rare = np.empty((n_gen + 1, t))
    tail = np.empty((n_gen + 1, t))
    for n in range(n_gen + 1):
        rare[n] = _mass_above(boundary, hist_w[n], hist_mu[n], hist_var[n])
        tail[n] = _mass_above(q99, hist_w[n], hist_mu[n], hist_var[n])
    mean_x = (hist_w * hist_mu).sum(axis=1)
    total_var = (hist_w * (hist_var + hist_mu**2)).sum(axis=1) - mean_x**2
    return MixtureResult(
        settings=s,
        generations=np.arange(n_gen + 1, dtype=np.int64),
        mean_weights=hist_w.mean(axis=2),
        rare_mass_mean=rare.mean(axis=1),
        rare_mass_median=np.median(rare, axis=1),
        rare_lost_frac=(rare < RARE_LOST * rare0).mean(axis=1),
        tail_mass_mean=tail.mean(axis=1),
        tail_mass_median=np.median(tail, axis=1),
        total_var_mean=total_var.mean(axis=1),
        total_var_se=(
            total_var.std(axis=1, ddof=1) / math.sqrt(t) if t > 1 else np.zeros(n_gen + 1)
        ),
        total_var_median=np.median(total_var, axis=1),
        closed_form_total_var=gaussian_closed_form_var(
            GaussianSettings(
                samples=big_n,
                generations=n_gen,
                trials=t,
                scenario=s.scenario,
                real_fraction=s.real_fraction,
                sigma0=math.sqrt(total_var0),
            )
        ),
        rare_boundary=boundary,
        q99=q99,
        original_rare_mass=rare0,
        original_total_var=total_var0,
        clipped=clipped,
    )


def _worst(mean: FloatArray, cf: FloatArray, se: FloatArray) -> tuple[float, int, float]:
    """(max relative error, its generation, max |diff|/SE) over generations ≥ 1."""
    if len(mean) < 2:
        return 0.0, 0, 0.0
    rel = np.abs(mean[1:] / cf[1:] - 1.0)
    g = int(np.argmax(rel))
    z = _z(np.abs(mean[1:] - cf[1:]), se[1:])
    return float(rel[g]), g + 1, float(np.max(z))


# ------------------------------------------------------------------ text table

AnyResult = GaussianResult | MixtureResult


def table_generations(generations: int) -> list[int]:
    """The rows of ``collapse_table``: 0, 1, 2, 5, 10, 20, 50, 100, … up to G, and G."""
    rows: list[int] = []
    base = 1
    while base <= generations:
        rows += [g for g in (base, 2 * base, 5 * base) if g <= generations]
        base *= 10
    return [0, *sorted(set(rows) | {generations} - {0})]


def _fmt(v: float, floor: float = 0.0) -> str:
    """A number in at most 7 characters; 0 < |v| < floor shows as "<floor"."""
    a = abs(v)
    if v == 0:
        return "0"
    if a < floor:
        return f"<{floor:.0e}".replace("e-0", "e-")
    if math.isnan(v):
        return "nan"
    if a >= 1e4 or a < 1e-3:
        return f"{v:.1e}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    return f"{v:.4f}"


_W = 7  # column width


def _render(
    title: list[str],
    groups: list[tuple[str, list[str]]],
    rows: list[tuple[int, list[list[str]]]],
    notes: list[str],
) -> str:
    sep = " │ "
    head1 = [f"{'':>5}"]
    head2 = [f"{'gen':>5}"]
    for label, cols in groups:
        width = len(cols) * (_W + 1) - 1
        head1.append(label[:width].center(width))
        head2.append(" ".join(f"{c:>{_W}}" for c in cols))
    lines = [*title, sep.join(head1).rstrip(), sep.join(head2)]
    lines.append("─" * len(lines[-1]))
    for gen, cells in rows:
        parts = [f"{gen:>5}"] + [" ".join(f"{c:>{_W}}" for c in cell) for cell in cells]
        lines.append(sep.join(parts))
    lines += notes
    return "\n".join(lines) + "\n"


def _gaussian_table(results: Sequence[GaussianResult]) -> str:
    s0 = results[0].settings
    v0, sd0 = s0.sigma0**2, s0.sigma0
    n_gen = min(r.settings.generations for r in results)
    est = "MLE (÷N)" if s0.estimator == "mle" else "unbiased (÷(N−1))"
    title = [
        f"Gaussian refit: N={s0.samples} samples per generation, T={s0.trials} trials, "
        f"σ² by {est}, σ0={sd0:g}"
    ]
    groups = [(r.label, ["E[σ²]", "theory", "med σ", "σ<.1σ0"]) for r in results]
    rows = [
        (
            g,
            [
                [
                    _fmt(float(r.mean_var[g]) / v0),
                    _fmt(float(r.closed_form_var[g]) / v0),
                    _fmt(float(r.median_sigma[g]) / sd0),
                    f"{float(r.frac_collapsed[g]):.3f}",
                ]
                for r in results
            ],
        )
        for g in table_generations(n_gen)
    ]
    notes = [
        "E[σ²]: mean of σ_n²/σ0² over trials; theory: exact E[σ_n²]/σ0²; med σ: median σ_n/σ0;",
        "σ<.1σ0: share of trials with σ_n < 0.1·σ0.",
    ]
    return _render(title, groups, rows, notes)


def _mixture_tables(results: Sequence[MixtureResult]) -> str:
    s0 = results[0].settings
    r0 = results[0]
    n_gen = min(r.settings.generations for r in results)
    comps = ", ".join(
        f"{w:g}·N({m:g}, {sd:g}²)" for w, m, sd in zip(s0.weights, s0.means, s0.sds, strict=True)
    )
    gens = table_generations(n_gen)
    title = [
        f"Gaussian-mixture refit (EM, {len(s0.weights)} components, {s0.em_iterations} "
        f"iterations): {comps}",
        f"N={s0.samples} samples per generation, T={s0.trials} trials; rare mode = mass above "
        f"{r0.rare_boundary:.2f} (originally {r0.original_rare_mass:.4f})",
    ]
    rare = _render(
        [*title, "", "Rare mode"],
        [(r.label, ["mean", "median", "lost"]) for r in results],
        [
            (
                g,
                [
                    [
                        _fmt(float(r.rare_mass_mean[g]), 1e-6),
                        _fmt(float(r.rare_mass_median[g]), 1e-6),
                        f"{float(r.rare_lost_frac[g]):.3f}",
                    ]
                    for r in results
                ],
            )
            for g in gens
        ],
        [
            "mean/median: fitted mass of the rare mode over trials; lost: share of trials where",
            f"it is below {RARE_LOST:g}× the original.",
        ],
    )
    v0 = r0.original_total_var
    tails = _render(
        ["", f"Tail above the original 99th percentile ({r0.q99:.2f}) and total variance"],
        [(r.label, ["tail", "t.med", "var", "theory"]) for r in results],
        [
            (
                g,
                [
                    [
                        _fmt(float(r.tail_mass_mean[g]), 1e-6),
                        _fmt(float(r.tail_mass_median[g]), 1e-6),
                        _fmt(float(r.total_var_mean[g]) / v0),
                        _fmt(float(r.closed_form_total_var[g]) / v0),
                    ]
                    for r in results
                ],
            )
            for g in gens
        ],
        [
            "tail/t.med: mean/median fitted mass above q99 (0.01 originally); var: mean total",
            f"variance / its original {v0:.3f}; theory: exact expectation (EM keeps the sample's "
            "moments).",
        ],
    )
    return rare + tails


def closed_form_check(results: Iterable[AnyResult]) -> list[str]:
    """One statement per result: how close the simulated means are to the closed forms,
    over generations 1..G (relative error, and deviation in Monte Carlo standard errors)."""
    lines: list[str] = []
    for r in results:
        if isinstance(r, MixtureResult):
            rel, g, z = _worst(r.total_var_mean, r.closed_form_total_var, r.total_var_se)
            lines.append(
                f"mixture, {r.label}: mean total variance within {100 * rel:.1f}% of its exact "
                f"expectation (the Gaussian form for the scenario) at every generation "
                f"1..{r.settings.generations}; worst at n={g}, worst |z| {z:.1f}."
            )
            continue
        s = r.settings
        rel, g = r.worst_relative_error()
        z, _ = r.worst_z()
        n = s.generations
        head = f"Gaussian, {r.label}: mean σ² within {100 * rel:.1f}% of"
        if s.scenario == "replace":
            form = "σ0²((N−1)/N)^n" if s.estimator == "mle" else "σ0² (unbiased σ²: a martingale)"
            ze, _ = r.worst_z(exact=True)
            sd = r.closed_form_var_sd
            se_rel = 0.0 if sd is None else float(sd[g]) / math.sqrt(s.trials)
            se_rel /= float(r.closed_form_var[g])
            lz, lrel, _ = r.worst_log_z()
            c = log_variance_drift(s.samples, s.estimator)
            lines.append(
                f"{head} {form} at every generation 1..{n}; worst at n={g}, where one exact "
                f"Monte Carlo SE is {100 * se_rel:.1f}% ({rel / max(se_rel, 1e-300):.1f} SEs); "
                f"max over generations {ze:.1f} exact SEs ({z:.1f} sample SEs). "
                f"Geometric-mean σ within {100 * lrel:.1f}% of σ0·exp(n·c/2), "
                f"c = ψ((N−1)/2) − log(D/2) = {c:.5f}; worst |z| {lz:.1f}."
            )
        elif s.scenario == "keep-real":
            lines.append(
                f"{head} the exact recursion at every generation 1..{n} (fixed point "
                f"{float(r.closed_form_var[-1]):.4f}·σ0²); worst at n={g}, worst |z| {z:.1f}."
            )
        else:
            x = math.pi / math.sqrt(s.samples)
            tail = (
                f"limit σ0²·sin(π/√N)/(π/√N) = {math.sin(x) / x:.4f}·σ0²"
                if s.estimator == "mle"
                else f"{float(r.closed_form_var[-1]):.4f}·σ0² at n={n}"
            )
            form = "σ0²·Π_j(1 − 1/(N·j²))" if s.estimator == "mle" else "its exact product form"
            lines.append(
                f"{head} {form} at every generation 1..{n} ({tail}); worst at n={g}, "
                f"worst |z| {z:.1f}."
            )
    return lines


def collapse_table(results: Sequence[AnyResult]) -> str:
    """Plain-text tables, one row per generation (``table_generations``), one column group
    per result: the Gaussian results in one table, the mixture results in two; then the
    closed-form check. Raises ValueError when ``results`` is empty."""
    if not results:
        raise ValueError("collapse_table needs at least one result")
    gauss = [r for r in results if isinstance(r, GaussianResult)]
    mix = [r for r in results if isinstance(r, MixtureResult)]
    parts: list[str] = []
    if gauss:
        parts.append(_gaussian_table(gauss))
    if mix:
        parts.append(_mixture_tables(mix))
    check = [
        textwrap.fill(line, width=100, initial_indent="  ", subsequent_indent="    ") + "\n"
        for line in closed_form_check(results)
    ]
    parts.append("Closed-form check (simulated mean vs exact expectation)\n" + "".join(check))
    return "\n".join(parts)


# ------------------------------------------------------------------ SVG plot

_COLOURS = {"replace": "#d62728", "keep-real": "#1f77b4", "accumulate": "#2ca02c"}
_EXTRA = ["#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
_PANEL_W, _PANEL_H = 900, 360
_ML, _MR, _MT, _MB = 80, 230, 50, 55


def _nice_step(span: float, target: int = 6) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _num(v: float) -> str:
    return f"{v:.1f}"


def _tick_label(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        mant, exp = f"{v:.0e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{v:g}"


class _Panel:
    """One chart: a plot area at (x0, y0) with axes mapping data to pixels."""

    def __init__(
        self,
        top: float,
        title: str,
        x_max: float,
        y_lo: float,
        y_hi: float,
        y_label: str,
        log_y: bool,
    ) -> None:
        self.top = top
        self.x0, self.x1 = _ML, _PANEL_W - _MR
        self.y0, self.y1 = top + _MT, top + _PANEL_H - _MB  # y0 top pixel, y1 bottom pixel
        self.x_max = max(x_max, 1.0)
        self.log_y = log_y
        self.y_lo, self.y_hi = y_lo, y_hi
        self.title = title
        self.y_label = y_label
        self.parts: list[str] = []

    def px(self, x: float) -> float:
        return self.x0 + (self.x1 - self.x0) * x / self.x_max

    def py(self, y: float) -> float:
        if self.log_y:
            lo, hi = math.log10(self.y_lo), math.log10(self.y_hi)
            v = math.log10(max(y, self.y_lo))
        else:
            lo, hi, v = self.y_lo, self.y_hi, y
        v = min(max(v, lo), hi)
        return self.y1 - (self.y1 - self.y0) * (v - lo) / (hi - lo)

    def y_ticks(self) -> list[float]:
        if self.log_y:
            lo, hi = math.floor(math.log10(self.y_lo)), math.ceil(math.log10(self.y_hi))
            decades = [10.0**k for k in range(lo, hi + 1)]
            if hi - lo <= 2:
                subs = [m * d for d in decades for m in (2.0, 5.0)]
                decades = sorted(decades + subs)
            return [t for t in decades if self.y_lo * (1 - 1e-9) <= t <= self.y_hi * (1 + 1e-9)]
        step = _nice_step(self.y_hi - self.y_lo, 5)
        first = math.ceil(self.y_lo / step - 1e-9) * step
        out: list[float] = []
        v = first
        while v <= self.y_hi + 1e-9 * step:
            out.append(round(v, 12))
            v += step
        return out

    def axes(self) -> None:
        p = self.parts
        p.append(
            f'<text class="title" x="{_num((self.x0 + self.x1) / 2)}" y="{_num(self.top + 28)}" '
            f'text-anchor="middle">{html.escape(self.title)}</text>'
        )
        p.append(
            f'<rect class="frame" x="{_num(self.x0)}" y="{_num(self.y0)}" '
            f'width="{_num(self.x1 - self.x0)}" height="{_num(self.y1 - self.y0)}"/>'
        )
        step = _nice_step(self.x_max, 8)
        xt = 0.0
        while xt <= self.x_max + 1e-9:
            x = self.px(xt)
            p.append(
                f'<line class="grid" x1="{_num(x)}" y1="{_num(self.y0)}" x2="{_num(x)}" '
                f'y2="{_num(self.y1)}"/>'
            )
            p.append(
                f'<line class="tick" x1="{_num(x)}" y1="{_num(self.y1)}" x2="{_num(x)}" '
                f'y2="{_num(self.y1 + 5)}"/>'
            )
            p.append(
                f'<text class="tick-label" x="{_num(x)}" y="{_num(self.y1 + 19)}" '
                f'text-anchor="middle">{_tick_label(xt)}</text>'
            )
            xt += step
        for yt in self.y_ticks():
            y = self.py(yt)
            p.append(
                f'<line class="grid" x1="{_num(self.x0)}" y1="{_num(y)}" x2="{_num(self.x1)}" '
                f'y2="{_num(y)}"/>'
            )
            p.append(
                f'<line class="tick" x1="{_num(self.x0 - 5)}" y1="{_num(y)}" '
                f'x2="{_num(self.x0)}" y2="{_num(y)}"/>'
            )
            p.append(
                f'<text class="tick-label" x="{_num(self.x0 - 8)}" y="{_num(y + 4)}" '
                f'text-anchor="end">{_tick_label(yt)}</text>'
            )
        p.append(
            f'<text class="axis-label" x="{_num((self.x0 + self.x1) / 2)}" '
            f'y="{_num(self.y1 + 42)}" text-anchor="middle">generation</text>'
        )
        cy = (self.y0 + self.y1) / 2
        p.append(
            f'<text class="axis-label" x="{_num(self.x0 - 58)}" y="{_num(cy)}" '
            f'text-anchor="middle" transform="rotate(-90 {_num(self.x0 - 58)} {_num(cy)})">'
            f"{html.escape(self.y_label)}</text>"
        )

    def line(self, ys: Sequence[float], colour: str, dash: str, width: float, label: str) -> None:
        pts = " ".join(f"{_num(self.px(i))},{_num(self.py(y))}" for i, y in enumerate(ys))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="{width:g}"'
            f'{dash_attr} points="{pts}"><title>{html.escape(label)}</title></polyline>'
        )

    def legend(self, entries: list[tuple[str, str, str, float]]) -> None:
        x = self.x1 + 18
        y = self.y0 + 6
        self.parts.append(
            f'<rect class="legend" x="{_num(x - 8)}" y="{_num(y - 14)}" width="{_MR - 20}" '
            f'height="{_num(22 * len(entries) + 10)}"/>'
        )
        for i, (label, colour, dash, width) in enumerate(entries):
            yy = y + 22 * i
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            self.parts.append(
                f'<line x1="{_num(x)}" y1="{_num(yy)}" x2="{_num(x + 30)}" y2="{_num(yy)}" '
                f'stroke="{colour}" stroke-width="{width:g}"{dash_attr}/>'
            )
            self.parts.append(
                f'<text class="legend-label" x="{_num(x + 38)}" y="{_num(yy + 4)}">'
                f"{html.escape(label)}</text>"
            )


def _colour(r: AnyResult, i: int) -> str:
    scen = r.settings.scenario
    return _COLOURS.get(scen, _EXTRA[i % len(_EXTRA)])


def _style_entries(kinds: list[tuple[str, str, float]]) -> list[tuple[str, str, str, float]]:
    return [(label, "#333333", dash, width) for label, dash, width in kinds]


def _gaussian_panel(top: float, results: Sequence[GaussianResult]) -> _Panel:
    v0 = results[0].settings.sigma0 ** 2
    sd0 = results[0].settings.sigma0
    series: list[tuple[GaussianResult, FloatArray, FloatArray, FloatArray]] = [
        (r, r.mean_var / v0, np.square(r.median_sigma / sd0), r.closed_form_var / v0)
        for r in results
    ]
    allv = np.concatenate([np.concatenate([a, b, c]) for _, a, b, c in series])
    pos = allv[allv > 0]
    lo = float(pos.min()) if pos.size else 1e-3
    hi = float(pos.max()) if pos.size else 1.0
    lo = 10 ** math.floor(math.log10(max(lo, 1e-12)))
    hi = max(hi * 1.25, lo * 10)
    n = max(r.settings.generations for r in results)
    s0 = results[0].settings
    panel = _Panel(
        top,
        f"Gaussian refit: fitted variance (N={s0.samples}, T={s0.trials}, {s0.estimator})",
        n,
        lo,
        hi,
        "σ² / σ0²  (log scale)",
        log_y=True,
    )
    panel.axes()
    entries: list[tuple[str, str, str, float]] = []
    for i, (r, mean, med, cf) in enumerate(series):
        col = _colour(r, i)
        panel.line([float(v) for v in cf], col, "2 3", 1.5, f"{r.label}: closed form E[σ²]")
        panel.line([float(v) for v in med], col, "8 5", 2, f"{r.label}: median σ²")
        panel.line([float(v) for v in mean], col, "", 2.5, f"{r.label}: mean σ²")
        entries.append((r.label, col, "", 3))
    entries += _style_entries(
        [("mean over trials", "", 2.5), ("median", "8 5", 2), ("closed form E[σ²]", "2 3", 1.5)]
    )
    panel.legend(entries)
    return panel


def _mixture_panel(top: float, results: Sequence[MixtureResult]) -> _Panel:
    hi = max(float(np.max(np.concatenate([r.rare_mass_mean, r.rare_mass_median]))) for r in results)
    hi = max(hi, results[0].original_rare_mass) * 1.1
    n = max(r.settings.generations for r in results)
    s0 = results[0].settings
    panel = _Panel(
        top,
        f"Gaussian mixture refit: rare-mode mass (N={s0.samples}, T={s0.trials})",
        n,
        0.0,
        hi,
        "fitted mass of the rare mode",
        log_y=False,
    )
    panel.axes()
    ref = results[0].original_rare_mass
    panel.line([ref] * (n + 1), "#999999", "2 3", 1.2, "original rare-mode mass")
    entries: list[tuple[str, str, str, float]] = []
    for i, r in enumerate(results):
        col = _colour(r, i)
        panel.line([float(v) for v in r.rare_mass_median], col, "8 5", 2, f"{r.label}: median")
        panel.line([float(v) for v in r.rare_mass_mean], col, "", 2.5, f"{r.label}: mean")
        entries.append((r.label, col, "", 3))
    entries += _style_entries([("mean over trials", "", 2.5), ("median", "8 5", 2)])
    entries.append(("original mass", "#999999", "2 3", 1.2))
    panel.legend(entries)
    return panel


def _lost_panel(top: float, results: Sequence[MixtureResult]) -> _Panel:
    n = max(r.settings.generations for r in results)
    s0 = results[0].settings
    panel = _Panel(
        top,
        f"Gaussian mixture refit: share of trials that lost the rare mode (T={s0.trials})",
        n,
        0.0,
        1.0,
        f"share with rare mass < {RARE_LOST:g}× original",
        log_y=False,
    )
    panel.axes()
    entries: list[tuple[str, str, str, float]] = []
    for i, r in enumerate(results):
        col = _colour(r, i)
        panel.line([float(v) for v in r.rare_lost_frac], col, "", 2.5, f"{r.label}: lost")
        entries.append((r.label, col, "", 3))
    panel.legend(entries)
    return panel


def render_svg(results: Sequence[AnyResult]) -> str:
    """The plot as SVG text: a panel for the Gaussian results (σ², log scale) and two for
    the mixture results (rare-mode mass; share of trials that lost the rare mode), one line
    per scenario. Raises ValueError when ``results`` is empty."""
    if not results:
        raise ValueError("write_plot needs at least one result")
    gauss = [r for r in results if isinstance(r, GaussianResult)]
    mix = [r for r in results if isinstance(r, MixtureResult)]
    panels: list[_Panel] = []
    top = 0.0
    if gauss:
        panels.append(_gaussian_panel(top, gauss))
        top += _PANEL_H
    if mix:
        panels.append(_mixture_panel(top, mix))
        top += _PANEL_H
        panels.append(_lost_panel(top, mix))
        top += _PANEL_H
    height = int(top) + 10
    style = (
        "text{font-family:Helvetica,Arial,sans-serif;fill:#222}"
        ".title{font-size:16px;font-weight:bold}.axis-label{font-size:13px}"
        ".tick-label{font-size:11px}.legend-label{font-size:12px}"
        ".frame{fill:none;stroke:#444;stroke-width:1}"
        ".grid{stroke:#e3e3e3;stroke-width:1}.tick{stroke:#444;stroke-width:1}"
        ".legend{fill:#ffffff;stroke:#cccccc}"
    )
    body = "\n".join(part for p in panels for part in p.parts)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_PANEL_W}" height="{height}" '
        f'viewBox="0 0 {_PANEL_W} {height}" role="img">\n'
        "<title>Model collapse: refitting on generated data</title>\n"
        f"<style>{style}</style>\n"
        f'<rect width="{_PANEL_W}" height="{height}" fill="#ffffff"/>\n'
        f"{body}\n</svg>\n"
    )


def write_plot(results: Sequence[AnyResult], path: str | Path) -> Path:
    """Write ``render_svg(results)`` to ``path``; a path ending in .html gets an HTML page
    embedding the SVG. Returns the path. Raises ValueError for no results, OSError from
    writing."""
    out = Path(path)
    svg = render_svg(results)
    if out.suffix.lower() in (".html", ".htm"):
        inline = svg.split("\n", 1)[1]  # drop the XML declaration inside HTML
        text = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>Model collapse simulation</title>\n</head>\n<body>\n"
            f"{inline}</body>\n</html>\n"
        )
    else:
        text = svg
    out.write_text(text, encoding="utf-8")
    return out
