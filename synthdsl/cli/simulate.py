"""``synthdsl simulate collapse``: the model-collapse results, reproduced numerically.

Input: command-line options (the models to run, sample size per generation, generations,
trials, real-data fraction, each model's own parameters, seed, plot path, output format).
Output: on stdout the comparison of the scenarios (replace, keep a fraction of real data,
accumulate) for each selected model (a Gaussian refit, a Gaussian-mixture refit, a linear
regression refit on its own labels, a Zipf token distribution refit on its own samples),
with the closed-form check, as a text table or JSON; the plot as
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
    LINREG_SCENARIOS,
    SCENARIOS,
    AnyResult,
    AnySettings,
    GaussianSettings,
    LinregSettings,
    MixtureSettings,
    ZipfSettings,
    closed_form_check,
    collapse_table,
    simulate_gaussian,
    simulate_linreg,
    simulate_mixture,
    simulate_zipf,
    write_plot,
)
from synthdsl.cli import main as cli_main
from synthdsl.cli.exits import EXIT_OK, UsageError
from synthdsl.cli.helptext import examples
from synthdsl.errors import RunError

__all__ = ["MODELS", "add_parser", "main", "run"]

#: The models ``--model`` selects, in the order they are run and printed.
MODELS = ("gaussian", "mixture", "linreg", "zipf")


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
            "Refit a Gaussian, a Gaussian mixture, a linear regression and a Zipf token "
            "distribution, generation after generation, on samples of their own previous fit "
            "(replace), with a fraction of fresh real data (keep-real), or on all data so far "
            "(accumulate); print the statistics per generation and their closed forms, and "
            "plot them."
        ),
    )
    c.add_argument(
        "--model",
        action="append",
        choices=MODELS,
        metavar="MODEL",
        help=f"model to simulate, repeatable: {', '.join(MODELS)} (default: all)",
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
    lr = c.add_argument_group("linear regression (--model linreg)")
    lr.add_argument(
        "--linreg-samples", type=int, default=50, metavar="T", help="inputs per generation"
    )
    lr.add_argument("--linreg-dim", type=int, default=10, metavar="D", help="input dimension")
    lr.add_argument(
        "--linreg-noise", type=float, default=1.0, metavar="SIGMA", help="label noise σ"
    )
    lr.add_argument(
        "--linreg-trials", type=int, default=1000, metavar="T", help="independent chains"
    )
    zp = c.add_argument_group("Zipf tokens (--model zipf)")
    zp.add_argument("--zipf-vocab", type=int, default=1000, metavar="V", help="vocabulary size")
    zp.add_argument("--zipf-exponent", type=float, default=1.0, metavar="S", help="Zipf exponent s")
    zp.add_argument(
        "--zipf-tokens", type=int, default=5000, metavar="N", help="tokens per generation"
    )
    zp.add_argument(
        "--zipf-tail",
        type=float,
        default=0.5,
        metavar="X",
        help="share of the ranks, from the bottom, tracked as the tail",
    )
    zp.add_argument(
        "--zipf-trials",
        type=int,
        default=50,
        metavar="T",
        help="independent chains (each generation draws V binomials per chain)",
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


def _models(args: argparse.Namespace) -> list[str]:
    chosen = set(args.model or MODELS)
    return [m for m in MODELS if m in chosen]


def _settings(args: argparse.Namespace) -> list[AnySettings]:
    """Every experiment the options ask for; ValueError for a bad value, before any work."""
    out: list[AnySettings] = []
    for model in _models(args):
        if model == "gaussian":
            out += [
                GaussianSettings(
                    samples=args.samples,
                    generations=args.generations,
                    trials=args.trials,
                    scenario=scenario,
                    real_fraction=args.real_fraction,
                    estimator=args.estimator,
                    seed=args.seed,
                )
                for scenario in SCENARIOS
            ]
        elif model == "mixture":
            out += [
                MixtureSettings(
                    samples=args.samples,
                    generations=args.generations,
                    trials=args.mixture_trials,
                    scenario=scenario,
                    real_fraction=args.real_fraction,
                    seed=args.seed,
                )
                for scenario in SCENARIOS
            ]
        elif model == "linreg":
            out += [
                LinregSettings(
                    samples=args.linreg_samples,
                    dim=args.linreg_dim,
                    noise=args.linreg_noise,
                    generations=args.generations,
                    trials=args.linreg_trials,
                    scenario=scenario,
                    seed=args.seed,
                )
                for scenario in LINREG_SCENARIOS
            ]
        else:
            out += [
                ZipfSettings(
                    samples=args.zipf_tokens,
                    vocab=args.zipf_vocab,
                    exponent=args.zipf_exponent,
                    tail=args.zipf_tail,
                    generations=args.generations,
                    trials=args.zipf_trials,
                    scenario=scenario,
                    real_fraction=args.real_fraction,
                    seed=args.seed,
                )
                for scenario in SCENARIOS
            ]
    return out


def _simulate(settings: AnySettings) -> AnyResult:
    if isinstance(settings, GaussianSettings):
        return simulate_gaussian(settings)
    if isinstance(settings, MixtureSettings):
        return simulate_mixture(settings)
    if isinstance(settings, LinregSettings):
        return simulate_linreg(settings)
    return simulate_zipf(settings)


def run(args: argparse.Namespace) -> int:
    """Run ``simulate collapse`` for parsed ``args``; returns 0 (raises, see above)."""
    try:
        experiments = _settings(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    results = [_simulate(s) for s in experiments]
    plot_path: str | None = None
    if not args.no_plot:
        try:
            plot_path = str(write_plot(results, args.plot))
        except OSError as exc:
            raise RunError(f"cannot write the plot {args.plot}: {exc}") from None
    if args.format == "json":
        doc: dict[str, Any] = {
            model: [r.to_dict() for r in results if r.model == model] for model in MODELS
        }
        doc.update(
            {
                "closed_form_check": closed_form_check(results),
                "plot": plot_path,
            }
        )
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
