"""EM for 1-D Gaussian mixtures, vectorised over trials, with a deterministic start.

Takes data shaped (trials, points), sorted, or shared points with per-trial weights (a
histogram), and mixture parameters shaped (components, trials). Gives
``sample_mixture`` (draws from such mixtures), ``segment_init`` (a start from quantile
runs moved by a few k-means steps) and ``em_fit`` (a fixed number of EM iterations,
components sorted by mean). Nothing here raises for well-shaped arrays.
"""

from __future__ import annotations

import math

import numpy as np

from synthdsl.analysis.arrays import FloatArray, IntArray

__all__ = ["LLOYD_STEPS", "em_fit", "sample_mixture", "segment_init"]

LLOYD_STEPS = 10  # k-means steps that refine the quantile cuts before EM


def sample_mixture(
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


def segment_init(
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


def em_fit(
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
