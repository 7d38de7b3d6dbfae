"""The Gaussian refit, simulated over many trials, and its closed-form theory.

Takes ``GaussianSettings``; ``simulate_gaussian`` gives a ``GaussianResult`` (pure numpy,
vectorised over trials, seeded). ``gaussian_closed_form_var`` and ``log_variance_drift``
are the exact expectations. Nothing here raises (the settings were validated).

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
"""

from __future__ import annotations

import math

import numpy as np

from synthdsl.analysis.arrays import FloatArray
from synthdsl.analysis.collapse.results import GaussianResult
from synthdsl.analysis.collapse.settings import COLLAPSED_SIGMA, Estimator, GaussianSettings
from synthdsl.analysis.collapse.special import digamma_half, norm_cdf, trigamma_half

__all__ = ["gaussian_closed_form_var", "log_variance_drift", "simulate_gaussian"]


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
            [0.0] + [norm_cdf((thresh - n * c) / math.sqrt(n * v)) for n in range(1, n_gen + 1)],
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
