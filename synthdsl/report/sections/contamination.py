"""Contamination: what each ``decontaminate`` step dropped, benchmark by benchmark.

Input: a ``RunData`` (the ``contamination`` note of a node in the manifest: n-gram
size, rule, and per benchmark its source, items, n-grams, whether the reference set was
built or reused from the cache, and the records dropped). Output:
``contamination(data)`` → the ``<section id="contamination">`` HTML: per step, a table
of its benchmarks and a bar chart of the drops; ``has_contamination(data)`` says
whether the run has such a note. Errors: none (missing keys render as "—").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthdsl.charts.bars import Bar, Segment, hbar_chart
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk

__all__ = ["contamination", "has_contamination"]

DROPPED = "#f0a431"  # the colour of drops in the loop charts
HEAD = ["benchmark", "source", "items", "n-grams", "reference set", "records dropped"]
LEAD = (
    "Records sharing n-grams with an evaluation set are dropped (reason "
    "<i>contaminated (benchmark)</i>; the matched item and the shared span are in "
    "<code>rejects.jsonl</code>). See <code>docs/decontamination.md</code>."
)


def _notes(data: RunData) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (nid, st["contamination"])
        for nid, st in data.nodes.items()
        if isinstance(st, dict) and isinstance(st.get("contamination"), dict)
    ]


def has_contamination(data: RunData) -> bool:
    return bool(_notes(data))


def _block(nid: str, note: Mapping[str, Any]) -> str:
    benches = mk.as_dict(note.get("benchmarks"))
    rows, bars = [], []
    for name, raw in benches.items():
        b = mk.as_dict(raw)
        built = b.get("built")
        made = mk.DASH if built is None else ("built" if built else "reused from cache")
        dropped = mk.as_int(b.get("dropped"))
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{c}</td>"
                for c in (
                    esc(name),
                    mk.cell(b.get("source")),
                    mk.cell(b.get("items")),
                    mk.cell(b.get("ngrams")),
                    esc(made),
                    esc(fmt_num(dropped)),
                )
            )
            + "</tr>"
        )
        bars.append(Bar(str(name), [Segment("dropped", float(dropped), DROPPED)]))
    total = sum(mk.as_int(mk.as_dict(b).get("dropped")) for b in benches.values())
    facts = [
        ("n-gram size", mk.cell(note.get("ngram"))),
        ("rule", mk.cell(note.get("rule"))),
        ("records dropped", esc(fmt_num(total))),
    ]
    body = (
        f"<h3>Step <code>{esc(nid)}</code></h3>"
        f'<div class="cards">{mk.fact_cards(facts)}</div>' + mk.data_table(HEAD, rows)
    )
    if bars and total:
        body += mk.figure(
            hbar_chart(
                f"{nid}: records dropped per benchmark",
                bars,
                x_label="records",
                desc="Records dropped because they share n-grams with each benchmark.",
            )
        )
    return body


def contamination(data: RunData) -> str:
    """One block per ``decontaminate`` step of the run."""
    blocks = "".join(_block(nid, note) for nid, note in _notes(data))
    return mk.section("contamination", "Contamination", blocks, LEAD)
