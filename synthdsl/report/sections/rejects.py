"""Rejects: the most frequent (node, reason) pairs of ``rejects.jsonl``, with examples.

Input: a ``RunData`` (reject groups with counts and up to three trimmed example rows,
the rows read and the unreadable lines skipped). Output: ``rejects(data)`` → the
``<section id="rejects">`` HTML: a chart of the top reasons and, per reason, its
examples as field tables (the first three reasons opened), after a few kept records
(``kept.py``). Errors: none; a run
without ``rejects.jsonl`` or without rejects gives a note.
"""

from __future__ import annotations

from synthdsl.charts.bars import Bar, Segment, hbar_chart
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RejectGroup, RunData
from synthdsl.report.sections import markup as mk
from synthdsl.report.sections.examples import example_table
from synthdsl.report.sections.kept import kept_examples

__all__ = ["rejects"]

MAX_REJECT_GROUPS = 15
DROPPED_COLOR = "#f0a431"
FAILED_COLOR = "#d64545"


def _group_html(g: RejectGroup, i: int) -> str:
    examples = "".join(example_table(ex) for ex in g.examples)
    opened = " open" if i < 3 else ""
    return (
        f'<details class="reject"{opened}><summary><span class="pill {esc(g.status)}">'
        f"{esc(g.status)}</span> <b>{esc(fmt_num(g.count))}</b> × <code>{esc(g.node)}</code>"
        f" · {esc(g.reason)}</summary>{examples}</details>"
    )


def rejects(data: RunData) -> str:
    """Top reasons chart and each reason's examples; a note when there are none."""
    kept = kept_examples(data)
    if not data.rejects_present:
        return mk.section(
            "rejects",
            "Rejects",
            '<p class="note">No <code>rejects.jsonl</code> in this run.</p>' + kept,
        )
    if not data.reject_groups:
        return mk.section(
            "rejects", "Rejects", '<p class="note">No record was dropped or failed.</p>' + kept
        )
    groups = data.reject_groups[:MAX_REJECT_GROUPS]
    bars = [
        Bar(
            f"{g.node} · {g.reason}",
            [Segment(g.status, g.count, FAILED_COLOR if g.status == "failed" else DROPPED_COLOR)],
            note=fmt_num(g.count),
        )
        for g in groups
    ]
    svg = hbar_chart(
        "Top reject reasons",
        bars,
        x_label="rejected records",
        label_max=60,
        legend=[("dropped", DROPPED_COLOR), ("failed", FAILED_COLOR)],
        desc="The most frequent (node, reason) pairs in rejects.jsonl.",
    )
    items = "".join(_group_html(g, i) for i, g in enumerate(groups))
    more = len(data.reject_groups) - len(groups)
    tail = f'<p class="note">… and {fmt_num(more)} more reasons.</p>' if more > 0 else ""
    dropped = sum(g.count for g in data.reject_groups if g.status == "dropped")
    failed = sum(g.count for g in data.reject_groups if g.status == "failed")
    lead = (
        f"{fmt_num(data.rejects_total)} rows in <code>rejects.jsonl</code>: "
        f"{fmt_num(dropped)} dropped, {fmt_num(failed)} failed. Each reason shows up to 3 "
        "example records as they entered the node (long values cut); a few kept records "
        "come first, to compare."
    )
    if data.bad_reject_lines:
        lead += f" {fmt_num(data.bad_reject_lines)} unreadable lines were skipped."
    return mk.section("rejects", "Rejects", mk.figure(svg) + kept + items + tail, lead)
