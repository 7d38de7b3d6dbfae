"""Linear regression refit on its own predictions, replacing versus accumulating data
(Gerstgrasser et al., 2024, "Is model collapse inevitable?"), and its closed forms.

Takes ``LinregSettings``; ``simulate_linreg`` gives a ``LinregResult`` (pure numpy,
vectorised over trials, seeded); ``linreg_closed_form`` gives the exact expected test
error and the bound the paper states. Nothing here raises (the settings were validated).

Model. Inputs x ~ N(0, I_d); the true model w*. Generation i draws T fresh inputs X_i
(T × d) and labels them y_i = X_i·w_{i−1} + ε_i, ε_i ~ N(0, σ²I), with w_0 = w*: the
first generation's labels are real, later ones come from the previous fit. The fit w_i
is OLS on X_i alone (replace) or on X_1..X_i stacked (accumulate). The test error is
E_x[(xᵀw_n − xᵀw*)²] = ‖e_n‖², e_n = w_n − w*.

Replace: e_i = (X_iᵀX_i)⁻¹X_iᵀ(X_i e_{i−1} + ε_i) = e_{i−1} + (X_iᵀX_i)⁻¹X_iᵀε_i, a sum
of independent zero-mean steps with E‖step‖² = σ²·E tr (X_iᵀX_i)⁻¹ = σ²d/(T−d−1) (mean of
the inverse Wishart). So E‖e_n‖² = n·σ²d/(T−d−1), exactly: the error grows linearly.

Accumulate: measure labels from X_j·w* (y_j − X_j·w* = X_j e_{j−1} + ε_j) and let
A_i = Σ_{j≤i} X_jᵀX_j, b_i = Σ_{j≤i} X_jᵀ(X_j e_{j−1} + ε_j); then e_i = A_i⁻¹b_i, and
b_i = A_{i−1}e_{i−1} + X_iᵀX_i e_{i−1} + X_iᵀε_i = A_i e_{i−1} + X_iᵀε_i, so
e_i = e_{i−1} + A_i⁻¹X_iᵀε_i. The steps are uncorrelated (ε_i is
independent of every earlier step and of A_i), and by exchangeability of X_1..X_i,
E tr(A_i⁻¹X_iᵀX_iA_i⁻¹) = E tr(A_i⁻¹)/i = d/(i(iT−d−1)). So

    E‖e_n‖² = σ²d·Σ_{i=1..n} 1/(i(iT − d − 1)),

exactly, and since iT − d − 1 ≥ i(T − d − 1) it is at most σ²d/(T−d−1)·Σ_{i≤n} 1/i² <
σ²d/(T−d−1)·π²/6, the bound of Gerstgrasser et al.: the error stays bounded.
"""

from __future__ import annotations

import numpy as np

from synthdsl.analysis.arrays import FloatArray
from synthdsl.analysis.collapse.results import LinregResult
from synthdsl.analysis.collapse.settings import LinregSettings

__all__ = ["linreg_closed_form", "linreg_step_error", "simulate_linreg"]


def linreg_step_error(settings: LinregSettings) -> float:
    """σ²d/(T−d−1): the expected test error of one OLS fit on T real points."""
    s = settings
    return s.noise**2 * s.dim / (s.samples - s.dim - 1)


def linreg_closed_form(settings: LinregSettings) -> tuple[FloatArray, FloatArray]:
    """(exact E[test error], the paper's form) for generations 0..G; see the module
    docstring. For replace both are n·σ²d/(T−d−1); for accumulate the second is the
    bound σ²d/(T−d−1)·Σ_{i≤n} 1/i²."""
    s = settings
    n = np.arange(s.generations + 1, dtype=np.float64)
    c = linreg_step_error(s)
    if s.scenario == "replace":
        exact = c * n
        return exact, exact.copy()
    i = n[1:]
    steps = s.noise**2 * s.dim / (i * (i * s.samples - s.dim - 1))
    exact = np.concatenate([[0.0], np.cumsum(steps)])
    bound = np.concatenate([[0.0], c * np.cumsum(1.0 / (i * i))])
    return exact, bound


def simulate_linreg(settings: LinregSettings) -> LinregResult:
    """Run T independent chains of G OLS refits; see the module docstring. Errors are
    tracked as e = w − w* directly (the value of w* does not change them)."""
    s = settings
    rng = np.random.default_rng(s.seed)
    t, d, big_t = s.trials, s.dim, s.samples
    e = np.zeros((t, d), dtype=np.float64)
    gram = np.zeros((t, d, d), dtype=np.float64)  # accumulate: A_i
    rhs = np.zeros((t, d), dtype=np.float64)  # accumulate: Σ X_jᵀ(y_j − X_j w*)
    err = np.zeros((s.generations + 1, t), dtype=np.float64)
    for n in range(1, s.generations + 1):
        x = rng.standard_normal((t, big_t, d))
        y = np.matmul(x, e[:, :, None])[:, :, 0] + s.noise * rng.standard_normal((t, big_t))
        xt = np.swapaxes(x, 1, 2)
        xtx = np.matmul(xt, x)
        xty = np.matmul(xt, y[:, :, None])[:, :, 0]
        if s.scenario == "accumulate":
            gram += xtx
            rhs += xty
            xtx, xty = gram, rhs
        e = np.linalg.solve(xtx, xty[:, :, None])[:, :, 0]
        err[n] = np.einsum("td,td->t", e, e)
    exact, bound = linreg_closed_form(s)
    return LinregResult(
        settings=s,
        generations=np.arange(s.generations + 1),
        mean_error=err.mean(axis=1),
        error_se=err.std(axis=1, ddof=1) / np.sqrt(t) if t > 1 else np.zeros(s.generations + 1),
        median_error=np.median(err, axis=1),
        closed_form_error=exact,
        bound_error=bound,
    )
