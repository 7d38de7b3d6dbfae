"""Model collapse, reproduced numerically: models refit, generation after generation, on
samples drawn from their own previous fit.

Input: a ``GaussianSettings``, ``MixtureSettings``, ``LinregSettings`` or
``ZipfSettings`` (sample size per generation, number of generations G, independent
trials T, scenario, seed, and the model's own parameters). Output: a ``GaussianResult``,
``MixtureResult``, ``LinregResult`` or ``ZipfResult`` holding one value per generation
0..G (statistics over the T trials, plus closed forms where they exist);
``collapse_table`` renders results as a plain-text table, ``write_plot`` as a
self-contained SVG (or an HTML page holding it).

Errors: ``ValueError`` from the settings' constructors for out-of-range values (N < 2,
G < 0, T < 1, a real fraction outside [0, 1], a non-positive σ, mixture parameters of
unequal lengths or weights that do not sum to 1, an unknown scenario or estimator), and
from ``collapse_table``/``write_plot`` when given no results. ``write_plot`` lets
``OSError`` from writing the file through. Everything is pure numpy, vectorised over
trials and seeded: the same settings give the same numbers.

Models: a Gaussian, a 1-D Gaussian mixture (EM), a linear regression refit on its own
labels (Gerstgrasser et al., 2024) and a Zipf token distribution refit on its own samples
(Shumailov et al.'s tail loss). Scenarios (the regression has replace and accumulate):

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
mixture refit), ``linreg`` (the regression refit and its exact expected test error),
``zipf`` (the token refit and its expected support), ``results`` (per-generation
results and their JSON), ``tables`` (text) and ``plot`` (SVG, drawn with
``synthdsl.charts``). The derivations are in the docstrings of ``gaussian``, ``mixture``,
``linreg`` and ``zipf`` and in docs/collapse-simulation.md.
"""

from __future__ import annotations

from synthdsl.analysis.collapse.gaussian import (
    gaussian_closed_form_var,
    log_variance_drift,
    simulate_gaussian,
)
from synthdsl.analysis.collapse.linreg import (
    linreg_closed_form,
    linreg_step_error,
    simulate_linreg,
)
from synthdsl.analysis.collapse.mixture import simulate_mixture
from synthdsl.analysis.collapse.plot import render_svg, write_plot
from synthdsl.analysis.collapse.results import (
    AnyResult,
    GaussianResult,
    LinregResult,
    MixtureResult,
    ZipfResult,
)
from synthdsl.analysis.collapse.settings import (
    LINREG_SCENARIOS,
    SCENARIOS,
    AnySettings,
    GaussianSettings,
    LinregSettings,
    MixtureSettings,
    Scenario,
    ZipfSettings,
)
from synthdsl.analysis.collapse.special import digamma_half, trigamma_half
from synthdsl.analysis.collapse.tables import closed_form_check, collapse_table, table_generations
from synthdsl.analysis.collapse.zipf import (
    entropy_bits,
    expected_support,
    simulate_zipf,
    zipf_probabilities,
)

__all__ = [
    "LINREG_SCENARIOS",
    "SCENARIOS",
    "AnyResult",
    "AnySettings",
    "GaussianResult",
    "GaussianSettings",
    "LinregResult",
    "LinregSettings",
    "MixtureResult",
    "MixtureSettings",
    "Scenario",
    "ZipfResult",
    "ZipfSettings",
    "closed_form_check",
    "collapse_table",
    "digamma_half",
    "entropy_bits",
    "expected_support",
    "gaussian_closed_form_var",
    "linreg_closed_form",
    "linreg_step_error",
    "log_variance_drift",
    "render_svg",
    "simulate_gaussian",
    "simulate_linreg",
    "simulate_mixture",
    "simulate_zipf",
    "table_generations",
    "trigamma_half",
    "write_plot",
    "zipf_probabilities",
]
