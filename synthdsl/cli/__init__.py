"""The command line: ``synthdsl validate | plan | run | preview | show-recipe | init | schema |
stats | simulate | report | runs | show | push | ingest | create | curate | save-as | plugins |
pack``.

Takes argv. Gives text on stdout/stderr and an exit code: 0 success, 2 invalid
recipe or usage, 1 run failure, 130 interrupted (``synthdsl.cli.exits``, the one
place that maps errors to exit codes). Errors are rendered as
``file:line:col: error: ...`` with the source line and a caret, or
``synthdsl: error: ...``; an internal error (a bug) prints a short traceback, and
``SYNTHDSL_DEBUG=1`` shows the full one. Raises ``SystemExit(2)`` on a usage error and
``SystemExit(0)`` for ``--help``/``--version``, as argparse does.

Commands are loaded on demand: ``COMMANDS`` names, per command, the module that
registers it (``add_parser(subparsers)``) and runs it (``run(args) -> int``); only
the module of the command named on the command line is imported, so that
``synthdsl validate`` never imports numpy, the report or the LLM providers.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from synthdsl import __version__
from synthdsl.cli.exits import CommandParser, exit_code

__all__ = ["COMMANDS", "main"]

#: Command name → (module that registers and runs it, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("synthdsl.cli.core", "check a recipe and report every problem"),
    "plan": ("synthdsl.cli.core", "show the compiled DAG, call counts and cost"),
    "run": ("synthdsl.cli.core", "run a recipe and write the dataset"),
    "preview": ("synthdsl.cli.preview", "run the first rows and print what each step did"),
    "stats": ("synthdsl.cli.stats", "diversity metrics of a dataset, drift against real data"),
    "simulate": ("synthdsl.cli.simulate", "reproduce model collapse numerically"),
    "report": ("synthdsl.cli.report", "rebuild a run's report.html"),
    "runs": ("synthdsl.cli.runs", "list past runs: status, counts, cost"),
    "show": ("synthdsl.cli.show", "print a run's prompts and replies, node by node"),
    "push": ("synthdsl.cli.push", "upload a run's dataset and card to the Hugging Face Hub"),
    "init": ("synthdsl.cli.init", "create a starter project that runs offline"),
    "schema": ("synthdsl.cli.schema", "print the recipe JSON Schema, for editors"),
    # One module registers all four document-QA verbs (docs/strategies/doc_qa.md).
    "ingest": ("synthdsl.cli.docqa", "read documents (Markdown, text, HTML, PDF) into JSONL"),
    "create": ("synthdsl.cli.docqa", "generate QA pairs, CoT pairs or summaries from documents"),
    "curate": ("synthdsl.cli.docqa", "judge pairs and keep those above a threshold"),
    "save-as": ("synthdsl.cli.docqa", "convert records to a training format"),
    "show-recipe": ("synthdsl.cli.show_recipe", "describe a recipe and its parameters"),
    "plugins": ("synthdsl.cli.plugins", "list the installed plugins and check they load"),
    "pack": ("synthdsl.cli.pack", "make, install, list, show and remove recipe packs"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default ``sys.argv[1:]``); returns its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = CommandParser(
        prog="synthdsl", description="Declarative recipes for synthetic LLM data."
    )
    parser.add_argument("--version", action="version", version=f"synthdsl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    if argv and argv[0] in COMMANDS:  # only the named command's module is imported
        module = importlib.import_module(COMMANDS[argv[0]][0])
        module.add_parser(sub)
        return exit_code(module.run, parser.parse_args(argv))
    for name, (_module, text) in COMMANDS.items():  # --help, --version, usage errors
        sub.add_parser(name, help=text, add_help=False)
    args = parser.parse_args(argv)  # exits, unless the command came after "--"
    return main([args.command])
