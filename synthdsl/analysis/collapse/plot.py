"""The collapse results as a plot: line panels drawn with ``synthdsl.charts.lines``.

Takes the results of any model. Gives ``render_svg`` (a standalone SVG document: a panel
of the fitted variance on a log scale for the Gaussian results; the rare-mode mass and
the share of trials that lost the rare mode for the mixture results; the test error for
the linear-regression results; the support and the entropy for the Zipf results; one
colour per scenario) and ``write_plot`` (that SVG in a file, or an HTML page holding
it). Both raise ValueError when given no result; ``write_plot`` lets ``OSError`` from
writing the file through.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synthdsl.analysis.arrays import FloatArray
from synthdsl.analysis.collapse.results import (
    AnyResult,
    GaussianResult,
    LinregResult,
    MixtureResult,
    ZipfResult,
    by_model,
)
from synthdsl.analysis.collapse.settings import RARE_LOST
from synthdsl.charts.lines import Line, LinePanel, Stroke, line_panels, log_range
from synthdsl.charts.svg import INK, MUTED

__all__ = ["render_svg", "write_plot"]

_COLOURS = {"replace": "#d62728", "keep-real": "#1f77b4", "accumulate": "#2ca02c"}
_EXTRA = ["#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
#: How each statistic is drawn: (dash, width); the legend shows them in ink.
_MEAN, _MEDIAN, _THEORY = ("", 2.5), ("8 5", 2.0), ("2 3", 1.5)
_BOUND = ("10 3 2 3", 1.5)  # a bound, not an expectation
_REFERENCE = Stroke(MUTED, "2 3", 1.2)  # the original rare-mode mass
_TITLE = "Model collapse: refitting on generated data"


def _colour(r: AnyResult, i: int) -> str:
    return _COLOURS.get(r.settings.scenario, _EXTRA[i % len(_EXTRA)])


def _line(label: str, values: FloatArray, colour: str, style: tuple[str, float]) -> Line:
    return Line(label, [float(v) for v in values], Stroke(colour, *style))


_Key = tuple[str, Stroke]  # a legend entry


def _style_keys(*styles: tuple[str, tuple[str, float]]) -> list[_Key]:
    return [(label, Stroke(INK, *style)) for label, style in styles]


def _scenario_key(r: AnyResult, colour: str) -> _Key:
    return r.label, Stroke(colour, "", 3.0)


def _generations(results: Sequence[AnyResult]) -> int:
    return max(r.settings.generations for r in results)


def _gaussian_panel(results: Sequence[GaussianResult]) -> LinePanel:
    s0 = results[0].settings
    v0, sd0 = s0.sigma0**2, s0.sigma0
    lines: list[Line] = []
    keys: list[_Key] = []
    for i, r in enumerate(results):
        col = _colour(r, i)
        lines += [
            _line(f"{r.label}: closed form E[σ²]", r.closed_form_var / v0, col, _THEORY),
            _line(f"{r.label}: median σ²", np.square(r.median_sigma / sd0), col, _MEDIAN),
            _line(f"{r.label}: mean σ²", r.mean_var / v0, col, _MEAN),
        ]
        keys.append(_scenario_key(r, col))
    keys += _style_keys(
        ("mean over trials", _MEAN), ("median", _MEDIAN), ("closed form E[σ²]", _THEORY)
    )
    lo, hi = log_range([v for line in lines for v in line.values])
    return LinePanel(
        title=f"Gaussian refit: fitted variance (N={s0.samples}, T={s0.trials}, {s0.estimator})",
        lines=lines,
        x_max=_generations(results),
        y_min=lo,
        y_max=hi,
        x_label="generation",
        y_label="σ² / σ0²  (log scale)",
        log_y=True,
        legend=keys,
    )


def _mixture_panel(results: Sequence[MixtureResult]) -> LinePanel:
    s0 = results[0].settings
    n = _generations(results)
    ref = results[0].original_rare_mass
    hi = max(float(np.max(np.concatenate([r.rare_mass_mean, r.rare_mass_median]))) for r in results)
    lines = [Line("original rare-mode mass", [ref] * (n + 1), _REFERENCE)]
    keys: list[_Key] = []
    for i, r in enumerate(results):
        col = _colour(r, i)
        lines += [
            _line(f"{r.label}: median", r.rare_mass_median, col, _MEDIAN),
            _line(f"{r.label}: mean", r.rare_mass_mean, col, _MEAN),
        ]
        keys.append(_scenario_key(r, col))
    keys += _style_keys(("mean over trials", _MEAN), ("median", _MEDIAN))
    keys.append(("original mass", _REFERENCE))
    return LinePanel(
        title=f"Gaussian mixture refit: rare-mode mass (N={s0.samples}, T={s0.trials})",
        lines=lines,
        x_max=n,
        y_min=0.0,
        y_max=max(hi, ref) * 1.1,
        x_label="generation",
        y_label="fitted mass of the rare mode",
        legend=keys,
    )


def _lost_panel(results: Sequence[MixtureResult]) -> LinePanel:
    s0 = results[0].settings
    cols = [_colour(r, i) for i, r in enumerate(results)]
    return LinePanel(
        title=f"Gaussian mixture refit: share of trials that lost the rare mode (T={s0.trials})",
        lines=[
            _line(f"{r.label}: lost", r.rare_lost_frac, col, _MEAN)
            for r, col in zip(results, cols, strict=True)
        ],
        x_max=_generations(results),
        y_min=0.0,
        y_max=1.0,
        x_label="generation",
        y_label=f"share with rare mass < {RARE_LOST:g}× original",
        legend=[_scenario_key(r, col) for r, col in zip(results, cols, strict=True)],
    )


def _linreg_panel(results: Sequence[LinregResult]) -> LinePanel:
    s0 = results[0].settings
    lines: list[Line] = []
    keys: list[_Key] = []
    for i, r in enumerate(results):
        col = _colour(r, i)
        if r.settings.scenario == "accumulate":
            lines.append(_line(f"{r.label}: bound", r.bound_error, col, _BOUND))
        lines += [
            _line(f"{r.label}: exact E[error]", r.closed_form_error, col, _THEORY),
            _line(f"{r.label}: mean error", r.mean_error, col, _MEAN),
        ]
        keys.append(_scenario_key(r, col))
    keys += _style_keys(
        ("mean over trials", _MEAN), ("exact expectation", _THEORY), ("Σ1/i² bound", _BOUND)
    )
    hi = max(max(line.values) for line in lines)
    return LinePanel(
        title=(
            f"Linear regression refit on its own labels: test error (d={s0.dim}, "
            f"T={s0.samples}, σ={s0.noise:g}, {s0.trials} trials)"
        ),
        lines=lines,
        x_max=_generations(results),
        y_min=0.0,
        y_max=hi * 1.1 if hi > 0 else 1.0,
        x_label="generation",
        y_label="test error ‖w − w*‖²",
        legend=keys,
    )


def _zipf_panels(results: Sequence[ZipfResult]) -> list[LinePanel]:
    s0 = results[0].settings
    r0 = results[0]
    n = _generations(results)
    cols = [_colour(r, i) for i, r in enumerate(results)]
    keys = [_scenario_key(r, col) for r, col in zip(results, cols, strict=True)]
    head = f"Zipf tokens (V={s0.vocab}, s={s0.exponent:g}, N={s0.samples}, {s0.trials} trials)"
    support = [
        Line("closed form after one generation", [r0.closed_form_support_1] * (n + 1), _REFERENCE)
    ]
    support += [
        _line(f"{r.label}: mean support", r.support_mean, col, _MEAN)
        for r, col in zip(results, cols, strict=True)
    ]
    entropy = [Line("original entropy", [r0.original_entropy] * (n + 1), _REFERENCE)]
    entropy += [
        _line(f"{r.label}: mean entropy", r.entropy_mean, col, _MEAN)
        for r, col in zip(results, cols, strict=True)
    ]
    return [
        LinePanel(
            title=f"{head}: support",
            lines=support,
            x_max=n,
            y_min=0.0,
            y_max=float(s0.vocab),
            x_label="generation",
            y_label="tokens with p > 0",
            legend=[*keys, ("Σ 1−(1−p)^N", _REFERENCE)],
        ),
        LinePanel(
            title=f"{head}: entropy",
            lines=entropy,
            x_max=n,
            y_min=0.0,
            y_max=r0.original_entropy * 1.1,
            x_label="generation",
            y_label="entropy (bits)",
            legend=[*keys, ("original", _REFERENCE)],
        ),
    ]


def render_svg(results: Sequence[AnyResult]) -> str:
    """The plot as an SVG document: a panel for the Gaussian results (σ², log scale), two
    for the mixture results (rare-mode mass; share of trials that lost the rare mode),
    one for the linear-regression results (test error) and two for the Zipf results
    (support; entropy), one colour per scenario. Raises ValueError when ``results`` is empty."""
    split = by_model(results, "write_plot")
    panels: list[LinePanel] = []
    if split.gaussian:
        panels.append(_gaussian_panel(split.gaussian))
    if split.mixture:
        panels += [_mixture_panel(split.mixture), _lost_panel(split.mixture)]
    if split.linreg:
        panels.append(_linreg_panel(split.linreg))
    if split.zipf:
        panels += _zipf_panels(split.zipf)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + line_panels(_TITLE, panels)


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
