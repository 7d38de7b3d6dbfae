"""The ``synthdsl show RUN_DIR [--node ID] [-n N] [--format text|json] [--full]`` command.

Input: a run folder and its ``calls.jsonl`` (``synthdsl.run.call_log``). Output on
stdout: without ``--node``, one line per node that called a model (answers, from the
cache, failed, records, models); with ``--node ID``, the first ``N`` records (default 3)
that node rendered a prompt from, each with every call made for it (samples, a
structured reply's retries): model, whether the cache answered, the messages under
their roles and the reply. ``--format json`` prints the same as a JSON array. On a
terminal a long message or reply is cut after a few lines (``--full`` shows it all);
piped output and JSON are never cut.

Exit 0; a folder without ``calls.jsonl`` (or not a folder) is exit 1 (``RunError``); an
unknown node id is a usage error (exit 2) naming the nodes there are.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl.cli.exits import EXIT_OK, UsageError
from synthdsl.cli.helptext import examples
from synthdsl.cli.options import positive
from synthdsl.errors import RunError, did_you_mean
from synthdsl.run.call_log import CALLS_FILE, LoggedCall, read_calls

__all__ = ["add_parser", "cut", "run"]

DESCRIPTION = (
    "Print the prompts a run sent and the replies it got, from the run folder's "
    "calls.jsonl: without --node, the nodes that called a model with their counts; with "
    "--node, the first records of that node with each call's messages and reply. A "
    "re-run answered from the cache keeps them too."
)

# On a terminal, a message or reply shows at most this many lines and characters.
MAX_LINES = 12
MAX_CHARS = 1200
_RULE = "─" * 60


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``show`` on ``subparsers``."""
    p = subparsers.add_parser(
        "show",
        help="print a run's prompts and replies",
        description=DESCRIPTION,
        **examples(
            "synthdsl show out/quick",
            "synthdsl show out/quick --node answer -n 1 --full",
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run's output folder")
    p.add_argument("--node", metavar="ID", help="the step whose records to print")
    p.add_argument(
        "-n", dest="count", type=positive, default=3, metavar="N", help="records (default 3)"
    )
    p.add_argument(
        "--format", choices=["text", "json"], default="text", help="text, or a JSON array"
    )
    p.add_argument(
        "--full", action="store_true", help="never cut long prompts or replies on a terminal"
    )


def run(args: argparse.Namespace) -> int:
    """Print what ``args`` asks for; raises ``RunError`` / ``UsageError`` (see above)."""
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such folder (give a run's output folder)")
    calls = read_calls(run_dir)
    if args.node is None:
        nodes = summarize(calls)
        if args.format == "json":
            print(json.dumps([n.to_json() for n in nodes], indent=2, ensure_ascii=False))
        else:
            print(_summary_text(run_dir, nodes))
        return EXIT_OK
    known = list(dict.fromkeys(c.node for c in calls))
    if args.node not in known:
        raise UsageError(_unknown_node(args.node, known, run_dir))
    records = records_of(calls, args.node, args.count)
    if args.format == "json":
        print(json.dumps([r.to_json() for r in records], indent=2, ensure_ascii=False))
        return EXIT_OK
    truncate = sys.stdout.isatty() and not args.full
    total = len({c.record for c in calls if c.node == args.node})
    print(_records_text(args.node, records, total, truncate))
    return EXIT_OK


@dataclass
class NodeCalls:
    """What one node's calls add up to."""

    node: str
    answers: int = 0
    cached: int = 0
    failed: int = 0
    records: set[str] = field(default_factory=set)
    models: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "answers": self.answers,
            "cached": self.cached,
            "failed": self.failed,
            "records": len(self.records),
            "models": sorted(self.models),
        }


@dataclass
class RecordCalls:
    """The calls made for one record of a node, in the order they were answered."""

    record: str
    calls: list[LoggedCall]

    def to_json(self) -> dict[str, Any]:
        return {"record": self.record, "calls": [c.to_json() for c in self.calls]}


def summarize(calls: list[LoggedCall]) -> list[NodeCalls]:
    """Per node, in the order the nodes first answered."""
    nodes: dict[str, NodeCalls] = {}
    for c in calls:
        n = nodes.setdefault(c.node, NodeCalls(c.node))
        n.answers += 1
        n.cached += c.cached
        n.failed += c.error is not None
        n.records.add(c.record)
        n.models[c.model] += 1
    return list(nodes.values())


def records_of(calls: list[LoggedCall], node: str, count: int) -> list[RecordCalls]:
    """The first ``count`` records ``node`` called a model for, with their calls."""
    by_record: dict[str, RecordCalls] = {}
    for c in calls:
        if c.node != node:
            continue
        if c.record not in by_record:
            if len(by_record) == count:
                continue
            by_record[c.record] = RecordCalls(c.record, [])
        by_record[c.record].calls.append(c)
    for r in by_record.values():
        r.calls.sort(key=lambda c: (c.round if c.round is not None else -1, c.sample, c.turn))
    return list(by_record.values())


def cut(text: str, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS) -> str:
    """``text`` cut to ``max_lines`` lines and ``max_chars`` characters, saying how much
    was left out."""
    lines = text.splitlines()
    kept = lines[:max_lines]
    shown = "\n".join(kept)
    if len(shown) > max_chars:
        shown = shown[:max_chars]
    if shown == "\n".join(lines):
        return text
    left = len(text) - len(shown)
    return f"{shown}\n… ({left} more characters; --full shows all)"


def _summary_text(run_dir: Path, nodes: list[NodeCalls]) -> str:
    if not nodes:
        return f"{run_dir / CALLS_FILE}: the run called no model"
    head = ("node", "answers", "cached", "failed", "records", "models")
    rows = [head] + [
        (
            n.node,
            str(n.answers),
            str(n.cached),
            str(n.failed),
            str(len(n.records)),
            ", ".join(sorted(n.models)),
        )
        for n in nodes
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0]), *(r[i].rjust(widths[i]) for i in range(1, len(widths)))]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    lines.append(f"\nshow a node's prompts and replies: synthdsl show {run_dir} --node ID")
    return "\n".join(lines)


def _records_text(node: str, records: list[RecordCalls], total: int, truncate: bool) -> str:
    parts = [f"{node}: {len(records)} of {total} record(s) it called a model for"]
    for r in records:
        parts += ["", _RULE, f"record {r.record}"]
        for c in r.calls:
            parts.append(f"· {_call_head(c)}")
            for m in c.messages:
                parts += _block(f"[{m['role']}]", m["content"], truncate)
            if c.error is not None:
                parts.append(f"  [no reply] the call failed: {c.error}")
            else:
                parts += _block("[reply]", c.reply or "", truncate)
    return "\n".join(parts)


def _call_head(c: LoggedCall) -> str:
    bits = [f"sample {c.sample}"]
    if c.turn:
        bits.append(f"retry {c.turn} of a structured reply")
    if c.round is not None:
        bits.append(f"round {c.round}")
    bits.append(f"model {c.alias} = {c.model}")
    bits.append("from the cache" if c.cached else "called")
    return ", ".join(bits)


def _block(label: str, text: str, truncate: bool) -> list[str]:
    body = cut(text) if truncate else text
    return [f"  {label}", *(f"    {line}" for line in body.splitlines() or [""])]


def _unknown_node(node: str, known: list[str], run_dir: Path) -> str:
    if not known:
        return f"no node {node!r} in {run_dir / CALLS_FILE}: the run called no model"
    hint = did_you_mean(node, known)
    names = ", ".join(known)
    return f"no node {node!r} called a model in {run_dir}; the nodes that did: {names}" + (
        f" ({hint})" if hint else ""
    )
