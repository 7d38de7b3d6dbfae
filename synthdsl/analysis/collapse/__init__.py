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

Modules: ``settings`` (the experiment, validated), ``special`` (digamma and friends),
``gaussian`` (the Gaussian refit and its closed forms), ``em`` and ``mixture`` (the
mixture refit), ``results`` (per-generation results and their JSON), ``tables`` (text)
and ``plot`` (SVG, drawn with ``synthdsl.charts``). The derivations are in the
docstrings of ``gaussian`` and ``mixture`` and in docs/collapse-simulation.md.
"""

from __future__ import annotations

from synthdsl.analysis.collapse.gaussian import (
    gaussian_closed_form_var,
    log_variance_drift,
    simulate_gaussian,
)
from synthdsl.analysis.collapse.mixture import simulate_mixture
from synthdsl.analysis.collapse.plot import render_svg, write_plot
from synthdsl.analysis.collapse.results import AnyResult, GaussianResult, MixtureResult
from synthdsl.analysis.collapse.settings import (
    SCENARIOS,
    GaussianSettings,
    MixtureSettings,
    Scenario,
)
from synthdsl.analysis.collapse.special import digamma_half, trigamma_half
from synthdsl.analysis.collapse.tables import closed_form_check, collapse_table, table_generations

__all__ = [
    "SCENARIOS",
    "AnyResult",
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
