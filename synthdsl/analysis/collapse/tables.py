"""The collapse results as plain-text tables, and the check against the closed forms.

Takes the results of any model (Gaussian, mixture, linear regression, Zipf). Gives
``collapse_table`` (one row per generation of ``table_generations``, one column group per
result, a table per model; the closed-form check under them) and ``closed_form_check``
(one sentence per result). ``collapse_table`` raises ValueError when given no result.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence

import numpy as np

from synthdsl.analysis.arrays import FloatArray
from synthdsl.analysis.collapse.gaussian import gaussian_closed_form_var, log_variance_drift
from synthdsl.analysis.collapse.linreg import linreg_step_error
from synthdsl.analysis.collapse.results import (
    AnyResult,
    GaussianResult,
    LinregResult,
    MixtureResult,
    ZipfResult,
    by_model,
)
from synthdsl.analysis.collapse.settings import RARE_LOST, GaussianSettings
from synthdsl.analysis.collapse.special import z_scores

__all__ = ["closed_form_check", "collapse_table", "table_generations"]


def _worst(mean: FloatArray, cf: FloatArray, se: FloatArray) -> tuple[float, int, float]:
    """(max relative error, its generation, max |diff|/SE) over generations ≥ 1."""
    if len(mean) < 2:
        return 0.0, 0, 0.0
    rel = np.abs(mean[1:] / cf[1:] - 1.0)
    g = int(np.argmax(rel))
    z = z_scores(np.abs(mean[1:] - cf[1:]), se[1:])
    return float(rel[g]), g + 1, float(np.max(z))


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
        _estimator_line(s0),
    ]
    return _render(title, groups, rows, notes)


def _estimator_line(s: GaussianSettings) -> str:
    """Which variance estimator the table used, and what the other one would change."""
    fixed = {
        est: float(
            gaussian_closed_form_var(
                GaussianSettings(
                    samples=s.samples,
                    generations=max(1000, 20 * s.samples),
                    scenario="keep-real",
                    real_fraction=s.real_fraction,
                    estimator=est,
                )
            )[-1]
        )
        for est in ("mle", "unbiased")
    }
    m1 = round(s.real_fraction * s.samples)
    other = "unbiased" if s.estimator == "mle" else "mle"
    return (
        f"estimator: {s.estimator} (--estimator {other} for the other); keep {m1}/{s.samples} "
        f"real settles at E[σ²] = {fixed['mle']:.4f}·σ0² (mle) vs {fixed['unbiased']:.4f}·σ0² "
        "(unbiased)."
    )


def _linreg_table(results: Sequence[LinregResult]) -> str:
    s0 = results[0].settings
    n_gen = min(r.settings.generations for r in results)
    c = linreg_step_error(s0)
    title = [
        f"Linear regression refit on its own labels: d={s0.dim}, T={s0.samples} samples per "
        f"generation, σ={s0.noise:g}, {s0.trials} trials; one fit on real data: "
        f"σ²d/(T−d−1) = {c:.4f}"
    ]
    groups = [(r.label, ["error", "exact", "paper", "median"]) for r in results]
    rows = [
        (
            g,
            [
                [
                    _fmt(float(r.mean_error[g])),
                    _fmt(float(r.closed_form_error[g])),
                    _fmt(float(r.bound_error[g])),
                    _fmt(float(r.median_error[g])),
                ]
                for r in results
            ],
        )
        for g in table_generations(n_gen)
    ]
    notes = [
        "error: mean test error ‖w_n − w*‖² over trials; exact: its expectation; paper: "
        "n·σ²d/(T−d−1) (replace),",
        "σ²d/(T−d−1)·Σ_{i≤n} 1/i² (accumulate, a bound); median: median test error.",
    ]
    return _render(title, groups, rows, notes)


def _zipf_table(results: Sequence[ZipfResult]) -> str:
    s0 = results[0].settings
    r0 = results[0]
    n_gen = min(r.settings.generations for r in results)
    title = [
        f"Zipf token distribution refit on its own samples: V={s0.vocab}, s={s0.exponent:g}, "
        f"N={s0.samples} tokens per generation, {s0.trials} trials",
        f"tail = ranks {s0.tail_start + 1}..{s0.vocab} (bottom {100 * s0.tail:g}%), "
        f"originally {r0.original_tail_mass:.4f} of the mass; entropy originally "
        f"{r0.original_entropy:.3f} bits",
    ]
    groups = [(r.label, ["support", "entropy", "tail", "t.med"]) for r in results]
    rows = [
        (
            g,
            [
                [
                    _fmt(float(r.support_mean[g])),
                    _fmt(float(r.entropy_mean[g])),
                    _fmt(float(r.tail_mass_mean[g])),
                    _fmt(float(r.tail_mass_median[g])),
                ]
                for r in results
            ],
        )
        for g in table_generations(n_gen)
    ]
    notes = [
        "support: mean number of tokens with p > 0; entropy: mean, in bits; tail/t.med: "
        "mean/median fitted tail mass.",
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
        if isinstance(r, LinregResult):
            lines.append(_linreg_check(r))
            continue
        if isinstance(r, ZipfResult):
            lines.append(_zipf_check(r))
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


def _linreg_check(r: LinregResult) -> str:
    s = r.settings
    n = s.generations
    z, rel, g = r.worst_z()
    head = f"linear regression, {r.label}: mean test error"
    if s.scenario == "replace":
        return (
            f"{head} within {100 * rel:.1f}% of n·σ²d/(T−d−1) at every generation 1..{n} "
            f"({float(r.closed_form_error[-1]):.4g} at n={n}); worst |z| {z:.1f} at n={g}."
        )
    bound = f"the bound σ²d/(T−d−1)·Σ1/i² ({float(r.bound_error[-1]):.4f} at n={n})"
    over = r.mean_error[1:] - r.bound_error[1:]
    if n == 0 or float(np.max(over)) <= 0:
        verdict = f"below {bound} at every generation."
    else:
        verdict = (
            f"above {bound} at {int(np.sum(over > 0))} generation(s), by at most "
            f"{float(np.max(z_scores(over, r.error_se[1:]))):.1f} SEs."
        )
    return (
        f"{head} within {100 * rel:.1f}% of σ²d·Σ_i 1/(i(iT−d−1)) at every generation 1..{n} "
        f"({float(r.closed_form_error[-1]):.4f} at n={n}); worst |z| {z:.1f} at n={g}; {verdict}"
    )


def _zipf_check(r: ZipfResult) -> str:
    s = r.settings
    if s.generations == 0:
        return f"Zipf, {r.label}: no generation simulated."
    line = (
        f"Zipf, {r.label}: mean support after one generation {float(r.support_mean[1]):.1f} vs "
        f"Σ_k 1−(1−p_k)^N = {r.closed_form_support_1:.1f} (|z| {r.support_1_z():.1f}); "
        f"mean tail mass within {r.tail_z():.1f} SEs of its constant expectation "
        f"{r.original_tail_mass:.4f} at every generation"
    )
    if s.scenario == "keep-real":
        low = float(np.min(r.support_mean[1:]))
        line += (
            f"; lowest mean support {low:.1f}, floor from the {s.real_count} real tokens "
            f"Σ_k 1−(1−p_k)^m = {r.real_support_floor:.1f}"
        )
    return line + "."


def collapse_table(results: Sequence[AnyResult]) -> str:
    """Plain-text tables, one row per generation (``table_generations``), one column group
    per result: the Gaussian results in one table, the mixture results in two, the linear
    regression and the Zipf results in one each; then the closed-form check.
    Raises ValueError when ``results`` is empty."""
    split = by_model(results, "collapse_table")
    parts: list[str] = []
    if split.gaussian:
        parts.append(_gaussian_table(split.gaussian))
    if split.mixture:
        parts.append(_mixture_tables(split.mixture))
    if split.linreg:
        parts.append(_linreg_table(split.linreg))
    if split.zipf:
        parts.append(_zipf_table(split.zipf))
    check = [
        textwrap.fill(line, width=100, initial_indent="  ", subsequent_indent="    ") + "\n"
        for line in closed_form_check(results)
    ]
    parts.append("Closed-form check (simulated mean vs exact expectation)\n" + "".join(check))
    return "\n".join(parts)
