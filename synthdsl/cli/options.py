"""The option groups several commands share, defined once.

- ``add_override_options``: ``--model NAME|ALIAS=NAME``, ``--api-base URL``,
  ``--batch``, ``--set PATH=VALUE``, ``--allow-read DIR``: running a recipe on your own model and
  settings (and letting packs read a folder of yours);
  ``compile_options`` turns them into the ``CompileOptions`` they ask for.
- ``add_run_options``: ``--out --limit --concurrency --fresh --cache
  --max-failure-rate --no-hedge --max-calls --max-cost --quiet --no-report``, read by
  ``synthdsl.cli.running.run_compiled``.
- ``add_executor_options``: ``--executor local|ray --address --workers`` (``run``
  only); ``executor_options`` turns them into ``ClusterOptions`` (None: local).
- ``positive`` / ``non_negative``: argparse types for counts; ``share``: 0 to 1;
  ``usd``: an amount of dollars above 0.

Takes argparse parsers and parsed arguments; gives registered options and
``CompileOptions``. Raises ``RecipeError`` (exit 2) for a malformed ``--model``,
``UsageError`` (exit 2) for Ray flags without ``--executor ray`` or with a budget;
the argparse types raise ``ArgumentTypeError`` (a usage error, exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from synthdsl.api import CompileOptions
from synthdsl.cli.exits import UsageError
from synthdsl.errors import RecipeError

if TYPE_CHECKING:
    from synthdsl.run.options import ClusterOptions

__all__ = [
    "add_executor_options",
    "add_override_options",
    "add_run_options",
    "compile_options",
    "executor_options",
    "non_negative",
    "positive",
    "share",
    "usd",
]

_SET_HELP = "override any recipe value, e.g. --set models.gen.temperature=0.2"


def add_override_options(p: argparse.ArgumentParser, set_help: str = _SET_HELP) -> None:
    """--model, --api-base and --set: running a recipe on your own model and settings."""
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME|ALIAS=NAME",
        help="use NAME for every model alias, or ALIAS=NAME for one (repeatable)",
    )
    p.add_argument("--api-base", metavar="URL", help="endpoint for the replaced models")
    p.add_argument(
        "--batch",
        action="store_true",
        help="send the calls of every model that supports it through the provider's batch "
        "API (about half the price; docs/batch.md)",
    )
    p.add_argument(
        "--set",
        dest="set_values",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help=set_help,
    )
    p.add_argument(
        "--allow-read",
        action="append",
        default=[],
        metavar="DIR",
        help="let recipes (and packs' recipes) read files in DIR too, outside their project "
        "or pack (repeatable; also SYNTHDSL_ALLOW_READ)",
    )


def add_run_options(
    p: argparse.ArgumentParser,
    *,
    out: Path | None = None,
    rows: str = "rows per source",
    folder: bool = True,
) -> None:
    """The options of a run. ``out``: a default output directory (else the recipe's);
    ``rows``: what ``--limit`` counts; ``folder``: False leaves out ``--out``,
    ``--limit``, ``--quiet`` and ``--no-report`` (``preview`` sets them itself). Counts
    below 0 (``--limit``) and 1 (``--concurrency``) are usage errors (exit 2), never
    passed on."""
    if folder:
        if out is None:
            p.add_argument("--out", metavar="DIR", help="output directory")
        else:
            p.add_argument(
                "--out", metavar="DIR", default=str(out), help=f"run directory (default {out})"
            )
        p.add_argument("--limit", type=non_negative, metavar="N", help=f"read at most N {rows}")
    p.add_argument(
        "--concurrency", type=positive, metavar="N", help="max concurrent calls per model"
    )
    p.add_argument("--fresh", action="store_true", help="ignore cached calls (still cache new)")
    p.add_argument("--cache", metavar="PATH", help="call cache (default .synthdsl/cache.sqlite)")
    p.add_argument(
        "--max-failure-rate",
        type=share,
        metavar="RATE",
        help="fail the run (exit 1) when a step fails more than this share of its records "
        "(0 to 1; default: the recipe's run.max_failure_rate, else 0.5)",
    )
    p.add_argument(
        "--no-hedge",
        action="store_true",
        help="never send a second attempt beside one far slower than the model's usual",
    )
    p.add_argument(
        "--max-calls",
        type=positive,
        metavar="N",
        help="start no model call past N (calls in flight finish); the run stops with "
        "exit 3 and re-running resumes it",
    )
    p.add_argument(
        "--max-cost",
        type=usd,
        metavar="USD",
        help="start no model call once USD dollars are spent (known prices only; with a "
        "model of unknown price, only together with --max-calls); exit 3",
    )
    if folder:
        p.add_argument("--quiet", action="store_true", help="no progress display")
        p.add_argument("--no-report", action="store_true", help="do not write report.html")


def add_executor_options(p: argparse.ArgumentParser) -> None:
    """``--executor local|ray``, ``--address`` and ``--workers`` (``executor_options``
    checks them together)."""
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="where the steps run: this process (default), or a Ray cluster (model "
        "and verify steps on its workers; pip install 'synthdsl[ray]')",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="with --executor ray: the cluster (auto, or ray://HOST:PORT; default: start "
        "Ray on this machine)",
    )
    p.add_argument(
        "--workers",
        type=positive,
        metavar="N",
        help="with --executor ray: worker processes (default: one per CPU of the cluster)",
    )


def executor_options(args: argparse.Namespace) -> ClusterOptions | None:
    """The Ray executor's options (None: the local executor); raises ``UsageError``
    for Ray flags without ``--executor ray`` and for a budget with it."""
    if getattr(args, "executor", "local") != "ray":
        for flag in ("address", "workers"):
            if getattr(args, flag, None) is not None:
                raise UsageError(f"--{flag} needs --executor ray")
        return None
    for flag, value in (("--max-calls", args.max_calls), ("--max-cost", args.max_cost)):
        if value is not None:
            raise UsageError(
                f"{flag} is not supported with --executor ray yet: the budget is counted "
                "in one process (run it with the local executor)"
            )
    from synthdsl.run.options import ClusterOptions  # the runtime's types: only for a run

    return ClusterOptions(address=args.address, workers=args.workers)


def compile_options(
    args: argparse.Namespace, set_values: list[str] | None = None
) -> CompileOptions:
    """The compile options ``--model``, ``--api-base``, ``--batch`` and ``--set`` ask for;
    ``set_values`` replaces the ``--set`` values when given."""
    sets = list(args.set_values) if set_values is None else list(set_values)
    opts = CompileOptions(
        set_values=sets,
        api_base=args.api_base,
        allow_read=list(getattr(args, "allow_read", [])),
        batch=bool(getattr(args, "batch", False)),
    )
    for m in args.model:
        if "=" in m:
            alias, name = m.split("=", 1)
            if not alias or not name:
                raise RecipeError.single(None, f"--model expects NAME or ALIAS=NAME, got {m!r}")
            opts.model_aliases[alias] = name
        elif opts.model is not None:
            raise RecipeError.single(None, "--model NAME given twice; use ALIAS=NAME for one alias")
        else:
            opts.model = m
    return opts


def positive(value: str) -> int:
    """A whole number of at least 1 (an argparse type)."""
    number = _integer(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def non_negative(value: str) -> int:
    """A whole number of 0 or more (an argparse type)."""
    number = _integer(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {number}")
    return number


def share(value: str) -> float:
    """A number from 0 to 1 (an argparse type)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {value}")
    return number


def usd(value: str) -> float:
    """An amount of dollars above 0 (an argparse type)."""
    try:
        number = float(value.removeprefix("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in USD, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite amount above 0, got {value}")
    return number


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
