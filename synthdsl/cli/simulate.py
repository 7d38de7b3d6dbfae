"""``synthdsl simulate collapse``: the model-collapse results, reproduced numerically.

Input: command-line options (sample size per generation, generations, trials, real-data
fraction, seed, plot path, output format). Output: on stdout the comparison of the three
scenarios (replace, keep a fraction of real data, accumulate) for a Gaussian refit and a
Gaussian-mixture refit, with the closed-form check, as a text table or JSON; the plot as
an SVG file (HTML when the path ends in .html). Exit code 0 on success. Raises
``UsageError`` (exit 2) for invalid option values and ``RunError`` (exit 1) when the
plot cannot be written; ``synthdsl.cli.exits`` prints them.

The numbers come from ``synthdsl.analysis.collapse``; this module only parses, runs and prints.
``add_parser``/``run`` plug into ``synthdsl.cli``; ``main`` runs the command alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from synthdsl.analysis.collapse import (
    SCENARIOS,
    GaussianResult,
    GaussianSettings,
    MixtureResult,
    MixtureSettings,
    closed_form_check,
    collapse_table,
    simulate_gaussian,
    simulate_mixture,
    write_plot,
)
from synthdsl.cli import main as cli_main
from synthdsl.cli.exits import EXIT_OK, UsageError
from synthdsl.cli.helptext import examples
from synthdsl.errors import RunError

__all__ = ["add_parser", "main", "run"]


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``simulate`` (with its sub-command ``collapse``) on ``subparsers``."""
    sim = subparsers.add_parser(
        "simulate",
        help="numerical experiments (model collapse)",
        description="Numerical experiments. 'collapse' reproduces the model-collapse "
        "results: models refit on their own samples drift and lose their tails, unless "
        "real data is kept or accumulated. See docs/collapse-simulation.md.",
        **examples("synthdsl simulate collapse --generations 20 --trials 20 --mixture-trials 4"),
    )
    kinds = sim.add_subparsers(dest="simulation", required=True, metavar="SIMULATION")
    c = kinds.add_parser(
        "collapse",
        help="refit models on their own samples: replace vs keep real data vs accumulate",
        description=(
            "Refit a Gaussian and a Gaussian mixture, generation after generation, on samples "
            "of their own previous fit (replace), with a fraction of fresh real data "
            "(keep-real), or on all data so far (accumulate); print the statistics per "
            "generation and their closed forms, and plot them."
        ),
    )
    c.add_argument("--samples", type=int, default=100, metavar="N", help="samples per generation")
    c.add_argument("--generations", type=int, default=200, metavar="G", help="generations")
    c.add_argument(
        "--trials", type=int, default=1000, metavar="T", help="independent chains (Gaussian)"
    )
    c.add_argument(
        "--mixture-trials",
        type=int,
        default=200,
        metavar="T",
        help="independent chains for the mixture, whose EM fits cost ~100× a Gaussian refit",
    )
    c.add_argument(
        "--real-fraction",
        type=float,
        default=0.1,
        metavar="R",
        help="share of fresh real samples per generation in the keep-real scenario",
    )
    c.add_argument(
        "--estimator",
        choices=["mle", "unbiased"],
        default="mle",
        help="Gaussian variance refit: divide by N (mle) or N−1 (unbiased)",
    )
    c.add_argument("--seed", type=int, default=0, metavar="S", help="random seed")
    c.add_argument(
        "--plot",
        default="collapse.svg",
        metavar="PATH",
        help="plot file: .svg, or .html for a page embedding it",
    )
    c.add_argument("--no-plot", action="store_true", help="do not write a plot")
    c.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text: a table per model (default); json: every statistic, for tools",
    )
    return sim


def _simulate(args: argparse.Namespace) -> list[GaussianResult | MixtureResult]:
    results: list[GaussianResult | MixtureResult] = []
    for scenario in SCENARIOS:
        results.append(
            simulate_gaussian(
                GaussianSettings(
                    samples=args.samples,
                    generations=args.generations,
                    trials=args.trials,
                    scenario=scenario,
                    real_fraction=args.real_fraction,
                    estimator=args.estimator,
                    seed=args.seed,
                )
            )
        )
    for scenario in SCENARIOS:
        results.append(
            simulate_mixture(
                MixtureSettings(
                    samples=args.samples,
                    generations=args.generations,
                    trials=args.mixture_trials,
                    scenario=scenario,
                    real_fraction=args.real_fraction,
                    seed=args.seed,
                )
            )
        )
    return results


def _validate(args: argparse.Namespace) -> None:
    """Build every settings object once, so a bad value fails before any work."""
    for scenario in SCENARIOS:
        GaussianSettings(
            samples=args.samples,
            generations=args.generations,
            trials=args.trials,
            scenario=scenario,
            real_fraction=args.real_fraction,
            estimator=args.estimator,
        )
        MixtureSettings(
            samples=args.samples,
            generations=args.generations,
            trials=args.mixture_trials,
            scenario=scenario,
            real_fraction=args.real_fraction,
        )


def run(args: argparse.Namespace) -> int:
    """Run ``simulate collapse`` for parsed ``args``; returns 0 (raises, see above)."""
    try:
        _validate(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    results = _simulate(args)
    plot_path: str | None = None
    if not args.no_plot:
        try:
            plot_path = str(write_plot(results, args.plot))
        except OSError as exc:
            raise RunError(f"cannot write the plot {args.plot}: {exc}") from None
    if args.format == "json":
        doc: dict[str, Any] = {
            "gaussian": [r.to_dict() for r in results if isinstance(r, GaussianResult)],
            "mixture": [r.to_dict() for r in results if isinstance(r, MixtureResult)],
            "closed_form_check": closed_form_check(results),
            "plot": plot_path,
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(collapse_table(results))
        if plot_path is not None:
            sys.stdout.write(f"\nplot: {plot_path}\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``argv`` (``simulate collapse ...``, the synthdsl sub-command) as the CLI does."""
    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
