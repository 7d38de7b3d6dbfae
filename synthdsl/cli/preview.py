"""``synthdsl preview RECIPE [-n N] [--format auto|text|json]``: a small real run, step by step.

Takes a recipe, the override options (``--model``, ``--api-base``, ``--set``) and the run
options that do not choose the output (``--concurrency``, ``--fresh``, ``--cache``,
``--max-calls``, ``--max-cost``, ``--max-failure-rate``, ``--no-hedge``). Runs the first
``N`` rows (default 5) of each source through the whole recipe with
``synthdsl.cli.running.run_compiled``, into a temporary folder removed afterwards; its
calls go through the project's call cache, so a later ``run`` reuses them. Prints, row
by row, every step a record went through (``synthdsl.run.trace``): the fields it added
or changed, a drop with its reason, a failure with its error. On a terminal (and with
``--format text``) as coloured text, long values cut; otherwise (``--format json``, or
``auto`` with stdout not a terminal) one JSON object per line: ``record``, ``row``,
``node``, ``status`` (passed, dropped, failed), ``added``, ``changed``, and ``reason`` /
``error``. The steps traced before a run stops are printed too.

Exit codes as for ``run``: 0 done, 1 the run failed, 2 a bad recipe or command line, 3
the budget was reached, 130 / 143 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from typing import Any

from rich.console import Console
from rich.text import Text

from synthdsl.cli.exits import EXIT_BUDGET, EXIT_OK, Interrupted
from synthdsl.cli.helptext import examples
from synthdsl.cli.options import add_override_options, add_run_options, compile_options, positive
from synthdsl.cli.running import compile_recipe, run_compiled
from synthdsl.io.json_text import dumps
from synthdsl.run.trace import Step, Trace

__all__ = ["add_parser", "run"]

DESCRIPTION = (
    "Run the first rows of a recipe for real (it calls the models) into a temporary "
    "folder and print, record by record, what each step added or changed, and the drops "
    "and failures with their reasons. Calls are cached as in a run, so a later run "
    "reuses them. Colour on a terminal, JSON lines otherwise."
)

# In text, a value shows at most this many characters (the JSON lines keep them whole).
MAX_VALUE = 160
_BUDGET_STOP = (
    "\npreview stopped at its budget ({budget}): the calls in flight finished, no new one "
    "started; the steps above are what was done, and every finished call is cached.\n"
    "raise the budget or leave it out to see every row\n"
)
_STYLE = {"passed": "green", "dropped": "yellow", "failed": "bold red"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``preview`` on ``subparsers``."""
    p = subparsers.add_parser(
        "preview",
        help="run the first rows and print what each step did",
        description=DESCRIPTION,
        **examples(
            "synthdsl preview examples/quickstart.yaml -n 2",
            "synthdsl preview examples/quickstart.yaml -n 1 --set models.gen.temperature=0.2",
        ),
    )
    p.add_argument("recipe", help="path to a recipe YAML file")
    add_override_options(p)
    p.add_argument(
        "-n", dest="rows", type=positive, default=5, metavar="N", help="rows per source (default 5)"
    )
    p.add_argument(
        "--format",
        choices=["auto", "text", "json"],
        default="auto",
        help="auto (default): coloured text on a terminal, JSON lines otherwise",
    )
    add_run_options(p, folder=False)


def run(args: argparse.Namespace) -> int:
    """Run the preview; raises what ``run`` raises (see the module docstring)."""
    compiled = compile_recipe(args.recipe, compile_options(args))
    # no dataset card: its folder is thrown away, and measuring its texts would leave
    # their statistics in the cache folder for nothing
    compiled = dataclasses.replace(
        compiled, output=dataclasses.replace(compiled.output, card=False)
    )
    trace = Trace()
    as_json = args.format == "json" or (args.format == "auto" and not sys.stdout.isatty())
    resume = " ".join(["synthdsl", "preview", *sys.argv[2:]]) if len(sys.argv) > 2 else ""
    with tempfile.TemporaryDirectory(prefix="synthdsl-preview-") as folder:
        run_args = argparse.Namespace(
            **vars(args), out=folder, limit=args.rows, quiet=True, no_report=True
        )
        try:
            result = run_compiled(
                compiled,
                run_args,
                resume=f"again with: {resume or 'synthdsl preview'}\n",
                on_record=trace.add,
                summary=False,
            )
        except Interrupted as exc:
            if exc.code != EXIT_BUDGET:
                raise
            # the run's message points at its partial rows: here they are not kept
            raise Interrupted(_BUDGET_STOP.format(budget=_budget(args)), EXIT_BUDGET) from None
        finally:  # what was traced before a stop is shown too
            _print(trace.steps(), as_json)
    t = result.manifest["totals"]
    sys.stderr.write(
        f"preview: {args.rows} row(s) per source, {result.records} record(s) out; "
        f"calls {t['calls']}, cache hits {t['cache_hits']}, dropped {t['dropped']}, "
        f"failed {t['failed']}; nothing kept but the cached calls\n"
    )
    return EXIT_OK


def _print(steps: list[Step], as_json: bool) -> None:
    if as_json:
        for step in steps:
            sys.stdout.write(dumps(step.to_json()) + "\n")
        sys.stdout.flush()
        return
    console = Console(highlight=False, soft_wrap=True)
    width = max((len(s.node) for s in steps), default=0)
    row = -1
    for step in steps:
        if step.row != row:
            row = step.row
            console.print(Text(f"row {row + 1}", style="bold"))
        console.print(_line(step, width))


def _line(step: Step, width: int) -> Text:
    line = Text("  ")
    line.append(step.node.ljust(width), style="cyan")
    line.append("  ")
    if step.status != "passed":
        line.append(step.status, style=_STYLE[step.status])
        why = step.error or step.reason
        if why:
            line.append(f": {why}" if step.error is None else f" ({step.reason}): {why}")
        return line
    if not step.added and not step.changed:
        line.append("passed, nothing changed", style="dim")
        return line
    parts: list[tuple[str, str, Any]] = [("+", "green", v) for v in step.added.items()]
    parts += [("~", "yellow", v) for v in step.changed.items()]
    for i, (mark, style, (name, value)) in enumerate(parts):
        if i:
            line.append("\n  " + " " * (width + 2))
        line.append(f"{mark}{name}", style=style)
        line.append(f" {_value(value)}")
    return line


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else dumps(value)
    text = json.dumps(text, ensure_ascii=False) if isinstance(value, str) else text
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _budget(args: argparse.Namespace) -> str:
    given = [f"--max-calls {args.max_calls}"] if args.max_calls is not None else []
    given += [f"--max-cost {args.max_cost:g}"] if args.max_cost is not None else []
    return ", ".join(given)
