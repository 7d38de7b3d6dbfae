"""The Gaussian-mixture refit, simulated over many trials.

Takes ``MixtureSettings``; ``simulate_mixture`` gives a ``MixtureResult`` (pure numpy,
vectorised over trials, seeded); the fitting itself is in ``em``. Nothing here raises
(the settings were validated).

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

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from synthdsl.analysis.arrays import FloatArray
from synthdsl.analysis.collapse.em import em_fit, sample_mixture, segment_init
from synthdsl.analysis.collapse.gaussian import gaussian_closed_form_var
from synthdsl.analysis.collapse.results import MixtureResult
from synthdsl.analysis.collapse.settings import RARE_LOST, GaussianSettings, MixtureSettings
from synthdsl.analysis.collapse.special import norm_cdf, norm_sf

__all__ = ["simulate_mixture"]


def _mix_cdf(x: float, w: Sequence[float], mu: Sequence[float], sd: Sequence[float]) -> float:
    return sum(wk * norm_cdf((x - mk) / sk) for wk, mk, sk in zip(w, mu, sd, strict=True))


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
    return np.asarray((w * norm_sf(z)).sum(axis=0), dtype=np.float64)


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
        x = sample_mixture(rng, w, mu, var, big_n)
        if m1:
            x[:, :m1] = sample_mixture(rng, w0, mu0, var0, m1)
        if s.scenario == "accumulate":
            idx = np.floor((x - lo) / h).astype(np.int64)
            clipped += int(np.count_nonzero((idx < 0) | (idx >= n_bins)))
            idx = np.clip(idx, 0, n_bins - 1)
            flat = (np.arange(t)[:, None] * n_bins + idx).ravel()
            counts += np.bincount(flat, minlength=t * n_bins).reshape(t, n_bins)
            used = np.flatnonzero(counts.any(axis=0))
            cx = np.asarray(centres[used][None, :], dtype=np.float64)
            cc = counts[:, used]
            iw, imu, ivar = segment_init(cx, cc, w, var_floor)
            w, mu, var = em_fit(cx, cc, iw, imu, ivar, s.em_iterations, var_floor)
            var = np.maximum(var - h * h / 12.0, var_floor)  # Sheppard's correction
        else:
            xs = np.sort(x, axis=1)
            iw, imu, ivar = segment_init(xs, None, w, var_floor)
            w, mu, var = em_fit(xs, None, iw, imu, ivar, s.em_iterations, var_floor)
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
