"""The results of the collapse simulation: one value per generation, and their JSON.

Gives ``GaussianResult`` (fitted variance statistics over the trials, the closed forms,
and how far the simulation is from them: ``worst_relative_error``, ``worst_z``,
``worst_log_z``), ``MixtureResult`` (rare-mode mass, tail mass, total variance),
``LinregResult`` (test error of the refit regression), ``ZipfResult`` (support, entropy
and tail mass of the refit token distribution), ``AnyResult`` and ``by_model`` (a list
of results split by model; ValueError when it is empty); ``to_dict`` gives each result
as JSON-ready data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from synthdsl.analysis.arrays import FloatArray, IntArray
from synthdsl.analysis.collapse.settings import (
    GaussianSettings,
    LinregSettings,
    MixtureSettings,
    ZipfSettings,
    scenario_label,
    settings_record,
)
from synthdsl.analysis.collapse.special import z_scores

__all__ = [
    "AnyResult",
    "ByModel",
    "GaussianResult",
    "LinregResult",
    "MixtureResult",
    "ZipfResult",
    "by_model",
]


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
        return scenario_label(s.scenario, s.real_count, s.samples)

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
        z = z_scores(diff, se)
        g = int(np.argmax(z))
        return float(z[g]), g + 1

    def worst_log_z(self) -> tuple[float, float, int]:
        """replace only: max over generations ≥ 1 of |mean log σ_n² − exact E[log σ_n²]|
        in SEs, the matching relative error of the geometric-mean σ, and where."""
        cf = self.closed_form_geo_sigma
        if cf is None or len(self.generations) < 2:
            return 0.0, 0.0, 0
        diff = 2.0 * np.abs(np.log(self.geo_mean_sigma[1:]) - np.log(cf[1:]))
        z = z_scores(diff, self.log_var_se[1:])
        g = int(np.argmax(z))
        rel = float(np.max(np.abs(self.geo_mean_sigma[1:] / cf[1:] - 1.0)))
        return float(z[g]), rel, g + 1

    def to_dict(self) -> dict[str, Any]:
        s = self.settings
        rel, rel_g = self.worst_relative_error()
        z, z_g = self.worst_z()
        out = settings_record(
            "gaussian", s, estimator=s.estimator, mu0=s.mu0, sigma0=s.sigma0, seed=s.seed
        )
        out["worst_relative_error"] = {"value": rel, "generation": rel_g}
        out["worst_z"] = {"value": z, "generation": z_g}
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
        return scenario_label(s.scenario, s.real_count, s.samples)

    def to_dict(self) -> dict[str, Any]:
        s = self.settings
        out = settings_record(
            "mixture",
            s,
            weights=list(s.weights),
            means=list(s.means),
            sds=list(s.sds),
            em_iterations=s.em_iterations,
            seed=s.seed,
        )
        out.update(
            rare_boundary=self.rare_boundary,
            q99=self.q99,
            original_rare_mass=self.original_rare_mass,
            original_total_var=self.original_total_var,
            clipped=self.clipped,
            mean_weights=[[float(v) for v in row] for row in self.mean_weights],
        )
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


def _floats(arr: FloatArray) -> list[float]:
    return [float(v) for v in arr]


@dataclass(frozen=True)
class LinregResult:
    """Per-generation test error (index = generation 0..G; 0 is w* itself) over the trials.

    The test error of a fit ŵ is E_x[(xᵀŵ − xᵀw*)²] = ‖ŵ − w*‖² for x ~ N(0, I).
    ``closed_form_error`` is its exact expectation; ``bound_error`` is the form
    Gerstgrasser et al. state: n·σ²d/(T−d−1) for replace (the same, exact) and
    σ²d/(T−d−1)·Σ_{i≤n} 1/i² for accumulate (an upper bound).
    """

    settings: LinregSettings
    generations: IntArray
    mean_error: FloatArray
    error_se: FloatArray
    median_error: FloatArray
    closed_form_error: FloatArray
    bound_error: FloatArray

    model: str = field(default="linreg", init=False)

    @property
    def label(self) -> str:
        return self.settings.scenario

    def worst_z(self) -> tuple[float, float, int]:
        """max over generations ≥ 1 of |mean − exact| in Monte Carlo SEs, the matching
        largest relative error, and the generation of the worst z."""
        if len(self.generations) < 2:
            return 0.0, 0.0, 0
        diff = np.abs(self.mean_error[1:] - self.closed_form_error[1:])
        z = z_scores(diff, self.error_se[1:])
        g = int(np.argmax(z))
        rel = float(np.max(diff / self.closed_form_error[1:]))
        return float(z[g]), rel, g + 1

    def to_dict(self) -> dict[str, Any]:
        s = self.settings
        out = settings_record("linreg", s, dim=s.dim, noise=s.noise, seed=s.seed)
        z, rel, g = self.worst_z()
        out["worst_z"] = {"value": z, "relative_error": rel, "generation": g}
        for name in ("mean_error", "error_se", "median_error", "closed_form_error", "bound_error"):
            out[name] = _floats(getattr(self, name))
        return out


@dataclass(frozen=True)
class ZipfResult:
    """Per-generation statistics (index = generation 0..G) of the refit token distribution.

    ``support``: tokens with positive probability; ``entropy`` in bits; ``tail_mass``:
    the fitted mass of the original bottom ``settings.tail`` share of the ranks.
    ``closed_form_support_1`` is the exact E[support] after one generation,
    Σ_k 1 − (1 − p_k)^N; ``real_support_floor`` (keep-real) is Σ_k 1 − (1 − p_k)^m, the
    expected number of tokens the m real tokens of each generation alone bring back.
    The expected tail mass never moves (the empirical frequencies are unbiased), so its
    exact expectation is ``original_tail_mass`` at every generation.
    """

    settings: ZipfSettings
    generations: IntArray
    support_mean: FloatArray
    support_se: FloatArray
    support_median: FloatArray
    entropy_mean: FloatArray
    entropy_median: FloatArray
    tail_mass_mean: FloatArray
    tail_mass_se: FloatArray
    tail_mass_median: FloatArray
    closed_form_support_1: float
    real_support_floor: float
    original_entropy: float
    original_tail_mass: float

    model: str = field(default="zipf", init=False)

    @property
    def label(self) -> str:
        s = self.settings
        return scenario_label(s.scenario, s.real_count, s.samples)

    def support_1_z(self) -> float:
        """(simulated mean support after one generation − closed form) / its SE."""
        if len(self.generations) < 2:
            return 0.0
        diff = np.array([self.support_mean[1] - self.closed_form_support_1])
        return float(z_scores(np.abs(diff), self.support_se[1:2])[0])

    def tail_z(self) -> float:
        """max over generations ≥ 1 of |mean tail mass − original| in SEs."""
        if len(self.generations) < 2:
            return 0.0
        diff = np.abs(self.tail_mass_mean[1:] - self.original_tail_mass)
        return float(np.max(z_scores(diff, self.tail_mass_se[1:])))

    def to_dict(self) -> dict[str, Any]:
        s = self.settings
        out = settings_record(
            "zipf",
            s,
            vocab=s.vocab,
            exponent=s.exponent,
            tail=s.tail,
            tail_start_rank=s.tail_start + 1,
            seed=s.seed,
        )
        out.update(
            closed_form_support_1=self.closed_form_support_1,
            real_support_floor=self.real_support_floor,
            original_entropy=self.original_entropy,
            original_tail_mass=self.original_tail_mass,
        )
        for name in (
            "support_mean",
            "support_se",
            "support_median",
            "entropy_mean",
            "entropy_median",
            "tail_mass_mean",
            "tail_mass_se",
            "tail_mass_median",
        ):
            out[name] = _floats(getattr(self, name))
        return out


AnyResult = GaussianResult | MixtureResult | LinregResult | ZipfResult


class ByModel(NamedTuple):
    """Results split by model, each list in the order given."""

    gaussian: list[GaussianResult]
    mixture: list[MixtureResult]
    linreg: list[LinregResult]
    zipf: list[ZipfResult]


def by_model(results: Sequence[AnyResult], caller: str) -> ByModel:
    """The results split by model, each in their order. Raises ValueError, naming
    ``caller``, when ``results`` is empty."""
    if not results:
        raise ValueError(f"{caller} needs at least one result")
    return ByModel(
        [r for r in results if isinstance(r, GaussianResult)],
        [r for r in results if isinstance(r, MixtureResult)],
        [r for r in results if isinstance(r, LinregResult)],
        [r for r in results if isinstance(r, ZipfResult)],
    )
