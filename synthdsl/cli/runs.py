"""The ``synthdsl runs [DIR] [--format text|json]`` command.

Input: an output root (default ``out``, where ``synthdsl run`` writes ``out/<name>``).
Output on stdout: one line per run folder found there (``synthdsl.run.history``), newest
first: start time, status (done, failed, interrupted, budget-stopped, or unreadable with
the reason), records written, calls, failures, cost (``—`` when unknown, never ``$0``),
recipe and folder; or a JSON array with the same fields. Exit 0 (also when there is no
run); a root that does not exist or is not a folder is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synthdsl.cli.exits import EXIT_OK, UsageError
from synthdsl.run.history import PastRun, list_runs

__all__ = ["add_parser", "run"]

DESCRIPTION = (
    "List the runs under an output root with their status, start time, recipe, counts "
    "and cost, newest first."
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``runs`` on ``subparsers``."""
    p = subparsers.add_parser("runs", help="list past runs", description=DESCRIPTION)
    p.add_argument(
        "root", nargs="?", default="out", metavar="DIR", help="output root (default: out)"
    )
    p.add_argument(
        "--format", choices=["text", "json"], default="text", help="a table, or a JSON array"
    )


def run(args: argparse.Namespace) -> int:
    """Print the runs under ``args.root``; raises ``UsageError`` for a missing root."""
    root = Path(args.root)
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder (runs are listed from an output root)")
    runs = list_runs(root)
    if args.format == "json":
        print(json.dumps([r.to_json() for r in runs], indent=2, ensure_ascii=False))
    elif not runs:
        print(f"no runs under {root}")
    else:
        print(_table(runs))
    return EXIT_OK


_HEAD = ("started", "status", "records", "calls", "failed", "cost", "recipe", "folder")


def _table(runs: list[PastRun]) -> str:
    rows = [_HEAD, *(_row(r) for r in runs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEAD) - 1)]
    numeric = {2, 3, 4, 5}
    lines = []
    for row in rows:
        cells = [row[i].rjust(w) if i in numeric else row[i].ljust(w) for i, w in enumerate(widths)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _row(r: PastRun) -> tuple[str, ...]:
    if r.status == "unreadable":
        return ("—", "unreadable", "—", "—", "—", "—", r.problem or "", r.path)
    status = r.status if r.reason in (None, "error") else f"{r.status} ({r.reason})"
    return (
        (r.started_at or "—").replace("T", " ").rstrip("Z"),
        status,
        _count(r.records),
        _count(r.calls),
        _count(r.failed),
        _money(r.cost_usd),
        r.recipe or "—",
        r.path,
    )


def _money(usd: float | None) -> str:
    """A cost with the digits that matter (a fraction of a cent is not shown as $0)."""
    if usd is None:
        return "—"
    return f"${usd:.4f}" if usd == 0 or usd >= 0.01 else f"${usd:.6f}"


def _count(n: int | None) -> str:
    return "—" if n is None else str(n)
