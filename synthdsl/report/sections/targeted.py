"""Targeted data: what each ``allocate`` step gave each group of failures, and what came of it.

Input: a ``RunData`` (an ``allocate`` node's ``allocation`` note: budget, formula,
clustering and per group size, failures, failure rate, weight, quota and allocation;
its ``by_group`` counts: generated, kept, dropped by reason and failed by kind; its own
drops: items answered correctly or left without budget). Output:
``targeted(data)`` → the ``<section id="targeted">`` HTML: per step, fact cards, one
table row per group and a stacked bar per group (kept, dropped, failed);
``has_targeted(data)`` says whether the run has such a note. Errors: none (missing keys
render as "—" or 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthdsl.charts.bars import Bar, Segment, hbar_chart
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk

__all__ = ["has_targeted", "targeted"]

KEPT = "#2a9d8f"
DROPPED = "#f0a431"
FAILED = "#d1495b"
HEAD = [
    "group",
    "items",
    "failures",
    "failure rate",
    "weight",
    "quota",
    "allocated",
    "generated",
    "kept",
    "dropped",
    "failed",
]
LEAD = (
    "Evaluation failures drive the data: each group of failed items gets a share of the "
    "budget in proportion to its weight (failure rate and size), and each share is "
    "written, decontaminated against the evaluation set and checked. See "
    "<code>docs/strategies/targeted.md</code>."
)


def _notes(data: RunData) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (nid, st)
        for nid, st in data.nodes.items()
        if isinstance(st, dict) and isinstance(st.get("allocation"), dict)
    ]


def has_targeted(data: RunData) -> bool:
    return bool(_notes(data))


def _total(entry: Any, key: str) -> int:
    """A count, or the sum of a breakdown of counts, under ``key`` of a group's entry."""
    value = mk.as_dict(entry).get(key)
    return sum(mk.as_counts(value).values()) if isinstance(value, dict) else mk.as_int(value)


def _row(name: str, alloc: Mapping[str, Any], made: Mapping[str, Any]) -> str:
    label = alloc.get("label")
    group = esc(name) + (f'<div class="small">{esc(str(label))}</div>' if label else "")
    dropped = mk.as_counts(made.get("dropped"))
    failed = mk.as_counts(made.get("failed"))
    cells = [
        group,
        mk.cell(alloc.get("size")),
        mk.cell(alloc.get("failures")),
        esc(mk.share(mk.as_float(alloc.get("failure_rate")))),
        mk.cell(alloc.get("weight")),
        mk.cell(alloc.get("quota")),
        mk.cell(alloc.get("allocated")),
        mk.cell(made.get("generated", 0)),
        mk.cell(made.get("kept", 0)),
        esc(fmt_num(sum(dropped.values()))) + mk.breakdown(dropped),
        esc(fmt_num(sum(failed.values()))) + mk.breakdown(failed),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _block(nid: str, node: Mapping[str, Any]) -> str:
    note = mk.as_dict(node.get("allocation"))
    groups = mk.as_dict(note.get("groups"))
    by_group = mk.as_dict(node.get("by_group"))
    clustering = mk.as_dict(note.get("clustering"))
    facts = [
        ("items", mk.cell(note.get("items"))),
        ("failures", mk.cell(note.get("failures"))),
        ("budget", mk.cell(note.get("budget"))),
        ("allocated", mk.cell(note.get("allocated"))),
        (
            "kept",
            esc(fmt_num(sum(mk.as_int(mk.as_dict(g).get("kept")) for g in by_group.values()))),
        ),
    ]
    if clustering:
        facts.append(("clustering", mk.cell(clustering.get("method"))))
    rows, bars = [], []
    for name in sorted(
        groups, key=lambda g: (-mk.as_int(mk.as_dict(groups[g]).get("allocated")), g)
    ):
        alloc = mk.as_dict(groups[name])
        made = mk.as_dict(by_group.get(name))
        rows.append(_row(name, alloc, made))
        bars.append(
            Bar(
                str(name),
                [
                    Segment("kept", float(mk.as_int(made.get("kept"))), KEPT),
                    Segment(
                        "dropped", float(sum(mk.as_counts(made.get("dropped")).values())), DROPPED
                    ),
                    Segment(
                        "failed", float(sum(mk.as_counts(made.get("failed")).values())), FAILED
                    ),
                ],
                note=f"of {mk.as_int(alloc.get('allocated'))} allocated",
            )
        )
    own = mk.as_counts(node.get("dropped"))
    body = (
        f"<h3>Step <code>{esc(nid)}</code></h3>"
        f'<div class="cards">{mk.fact_cards(facts)}</div>'
        f'<p class="small">{esc(str(note.get("formula") or ""))}; failure: '
        f"{esc(str(note.get('failed') or mk.DASH))}</p>"
        + (f"<p>Evaluation items not used:</p>{mk.breakdown(own)}" if own else "")
        + mk.data_table(HEAD, rows)
    )
    if bars:
        body += mk.figure(
            hbar_chart(
                f"{nid}: what became of each group's allocation",
                bars,
                x_label="records",
                legend=[("kept", KEPT), ("dropped", DROPPED), ("failed", FAILED)],
                desc="Per group: new records kept, dropped (decontamination, checks) or failed.",
            )
        )
    return body


def targeted(data: RunData) -> str:
    """One block per ``allocate`` step of the run."""
    blocks = "".join(_block(nid, node) for nid, node in _notes(data))
    return mk.section("targeted", "Targeted groups", blocks, LEAD)
