"""The ``synthdsl report RUN_DIR [--out PATH] [--field NAME ...]`` command.

Input: a run directory written by ``synthdsl run``. Output: its HTML report rebuilt
(``RUN_DIR/report.html``, or ``--out``) and the report's path printed on stdout; exit
code 0. Errors: ``RunError`` (exit 1) when the run directory is missing, is not a
directory, has no readable ``manifest.json`` or the report cannot be written;
``synthdsl.cli.exits`` prints it as ``synthdsl: error: ...``. Usage errors exit 2.

``synthdsl.cli`` wires it in with ``add_parser(subparsers)`` and dispatches ``report``
to ``run(args)``; ``main(argv)`` runs the command alone (``argv`` without the
``report`` word), for tests and ``python -m synthdsl.cli.report``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from synthdsl.cli import main as cli_main
from synthdsl.cli.helptext import examples
from synthdsl.report import write_report

__all__ = ["add_parser", "main", "run"]

DESCRIPTION = (
    "Rebuild the HTML report of a run directory: one self-contained page (no "
    "JavaScript, no network) with per-node attrition, loop rounds, length and "
    "entropy histograms, diversity and collapse flags, mix composition, model usage "
    "and rejects."
)


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``report`` on ``subparsers``; returns the new parser."""
    p = subparsers.add_parser(
        "report",
        help="rebuild the HTML report of a run directory",
        description=DESCRIPTION,
        **examples("synthdsl report out/quick", "synthdsl report out/quick --out quick.html"),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="output directory of 'synthdsl run'")
    p.add_argument(
        "--out", metavar="PATH", help="where to write the report (default RUN_DIR/report.html)"
    )
    p.add_argument(
        "--field",
        dest="fields",
        action="append",
        default=[],
        metavar="NAME",
        help="dataset field to measure for lengths, entropy and diversity (repeatable; "
        "default: the longest text fields); chat shapes: messages.user, messages.assistant",
    )
    return p


def run(args: argparse.Namespace) -> int:
    """Rebuild the report named by ``args`` and print its path; raises ``RunError``."""
    path = write_report(args.run_dir, args.out, fields=list(args.fields) or None)
    print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``synthdsl report`` on its own: ``argv`` is what follows ``report``."""
    return cli_main(["report", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
