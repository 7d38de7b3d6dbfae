"""Evolution rounds: what each loop made per round.

Input: a ``RunData`` (the loops' manifest notes and ``rounds``, the per-round counts
read from the dataset's ``_provenance.round`` and the rejects' ``round``). Output:
``loops(data)`` → the ``<section id="loops">`` HTML: per loop, its facts as cards and
a bar chart of records per round. Errors: none.
"""

from __future__ import annotations

from synthdsl.charts.bars import vbar_chart
from synthdsl.charts.svg import esc
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk

__all__ = ["loops"]

ROUND_SERIES = (
    ("in dataset", mk.OUT),
    ("discarded", mk.DISCARDED),
    ("dropped in body", "#f0a431"),
    ("failed in body", "#d64545"),
    ("dropped at the loop", "#c8692b"),
    ("failed at the loop", "#9b2c2c"),
)
LEAD = (
    "What each loop made per round: the round of a record is its "
    "<code>_provenance.round</code> (dataset) or the <code>round</code> of its reject row."
)


def _loop_block(data: RunData, lp: str) -> str:
    """Facts, chart and notes of one loop."""
    st = mk.as_dict(data.nodes.get(lp))
    note = mk.as_dict(st.get("loop"))
    counts = data.rounds.get(lp, {})
    rounds_run = mk.as_int(note.get("rounds_run"))
    max_round = max([rounds_run] + [r for c in counts.values() for r in c])
    facts = [
        ("rounds run", mk.cell(note.get("rounds_run"))),
        ("records made", mk.cell(note.get("made"))),
        ("target", mk.cell(note.get("target"))),
        ("discarded past target", mk.cell(mk.as_int(st.get("discarded")))),
        ("emitted", mk.cell(st.get("out"))),
    ]
    cats = [f"round {r}" for r in range(1, max_round + 1)]
    series = [
        (name, color, [float(counts[name].get(r, 0)) for r in range(1, max_round + 1)])
        for name, color in ROUND_SERIES
        if name in counts
    ]
    body = f'<h3>Loop <code>{esc(lp)}</code></h3><div class="cards">{mk.fact_cards(facts)}</div>'
    if series:
        body += mk.figure(
            vbar_chart(
                f"Loop {lp}: records per round",
                cats,
                series,
                x_label="round",
                y_label="records",
                height=260,
                always_legend=True,
                desc="Records of each round: kept in the dataset, discarded past the "
                "target, dropped or failed inside the loop body.",
            )
        )
    if "in dataset" not in counts:
        body += (
            '<p class="note">The dataset rows carry no round from this loop: its records '
            "went through later steps, which give them a new provenance. Rounds above come "
            "from <code>rejects.jsonl</code> only.</p>"
            if series
            else '<p class="note">No record of this loop in the dataset or the rejects '
            "carries a round.</p>"
        )
    return f'<div class="loopbox">{body}</div>'


def loops(data: RunData) -> str:
    """One block per loop of the run: its facts and its records per round."""
    blocks = "".join(_loop_block(data, lp) for lp in data.loops)
    return mk.section("loops", "Evolution rounds", blocks, LEAD)
