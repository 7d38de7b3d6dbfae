"""Mix composition: what each mix took from its parts, against ratios and bands.

Input: a ``RunData`` (the ``mix`` note of every mix node in the manifest: parts with
ratio, available and taken, totals, ``limited_by``, the written and configured
synthetic shares, the stage band and ``min_real``). Output:
``mix(data)`` → the ``<section id="mix">`` HTML: per mix, its facts as cards, the
composition, taken-of-available and band charts and a table of its parts;
``synthetic_share(note)`` → the share of synthetic records in a mix. Errors: none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthdsl.charts.band import band_chart
from synthdsl.charts.bars import Bar, Segment, hbar_chart
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk
from synthdsl.report.textstats import opt_float
from synthdsl.textproc.plural import plural

__all__ = ["mix", "synthetic_share"]

NOT_TAKEN = "#e3e7ee"
HEAD = ["part", "kind", "target ratio", "available", "taken", "share"]
LEAD = (
    "Ratios hold on the records that reach the mix; when a part is short the total "
    "shrinks and <b>limited by</b> names that part. Rows are rounded to hold the stage "
    "band and <code>min_real</code> when some split can; the shares shown are those "
    "written. Records not taken are drops (<i>over quota</i>)."
)


def synthetic_share(note: Mapping[str, Any]) -> float:
    """The mix's recorded synthetic share, else the share of parts marked synthetic."""
    recorded = opt_float(note.get("synthetic_share"))
    if recorded is not None:
        return recorded
    parts = [p for p in note.get("parts", []) if isinstance(p, dict)]
    total = sum(mk.as_int(p.get("taken")) for p in parts)
    synth = sum(mk.as_int(p.get("taken")) for p in parts if p.get("synthetic") is True)
    return synth / total if total else 0.0


def _mix_block(nid: str, note: Mapping[str, Any]) -> str:
    """Facts, charts and table of one mix."""
    parts = [p for p in note.get("parts", []) if isinstance(p, dict)]
    achieved = mk.as_int(note.get("achieved_total"))
    facts = [
        ("requested total", mk.cell(note.get("requested_total"))),
        ("achieved total", mk.cell(note.get("achieved_total"))),
        ("limited by", mk.cell(note.get("limited_by"))),
        ("written synthetic share", esc(mk.share(synthetic_share(note)))),
    ]
    configured = opt_float(note.get("configured_share"))
    if configured is not None:
        facts.append(("configured synthetic share", esc(mk.share(configured))))
    if note.get("stage") is not None:
        facts.append(("stage", mk.cell(note.get("stage"))))
    if isinstance(note.get("band"), list):
        facts.append(("band", esc(mk.band_text(note.get("band")))))
    floor = opt_float(note.get("min_real"))
    if floor is not None:
        real = esc(mk.share(1.0 - synthetic_share(note)))
        facts.append(("written real share", f"{real} (min_real {esc(mk.share(floor))})"))
    rows, bars, comp = [], [], []
    for i, p in enumerate(parts):
        color = mk.palette(mk.PART_COLORS, i)
        src = str(p.get("from", "?"))
        avail, taken = mk.as_int(p.get("available")), mk.as_int(p.get("taken"))
        synth = p.get("synthetic")
        synth_txt = "synthetic" if synth is True else "human/real" if synth is False else mk.DASH
        rows.append(
            f'<tr data-part="{esc(src)}"><td><span class="sw" style="background:{color}">'
            f"</span><code>{esc(src)}</code></td><td>{esc(synth_txt)}</td>"
            f"<td class='num'>{esc(mk.share(mk.as_float(p.get('ratio'))))}</td>"
            f"<td class='num'>{mk.cell(avail)}</td><td class='num'>{mk.cell(taken)}</td>"
            f"<td class='num'>{esc(mk.pct(taken, achieved))}</td></tr>"
        )
        bars.append(
            Bar(
                f"{src}" + (" (synthetic)" if synth is True else ""),
                [Segment("taken", taken, color)],
                extra=[Segment("not taken", max(0, avail - taken), NOT_TAKEN)],
                note=f"{fmt_num(taken)} of {fmt_num(avail)} · "
                f"{mk.pct(taken, achieved)} (target {mk.share(mk.as_float(p.get('ratio')))})",
            )
        )
        comp.append(Segment(src, taken, color))
    body = f'<h3>Mix <code>{esc(nid)}</code></h3><div class="cards">{mk.fact_cards(facts)}</div>'
    body += mk.figure(
        hbar_chart(
            f"Mix {nid}: composition",
            [Bar("taken", comp, note=plural(achieved, "record", shown=fmt_num(achieved)))],
            x_label="records in the mix",
            legend=[(s.label, s.color) for s in comp],
            desc="A stacked bar of the records taken from each part.",
        )
    )
    body += mk.figure(
        hbar_chart(
            f"Mix {nid}: taken of available per part",
            bars,
            x_label="records",
            legend=[("taken", mk.PART_COLORS[0]), ("available, not taken", NOT_TAKEN)],
            desc="For each part, records taken into the mix and records left over quota.",
        )
    )
    band = note.get("band")
    if isinstance(band, list) and len(band) == 2:
        status = str(note.get("status", "ok"))
        body += mk.figure(
            band_chart(
                f"Mix {nid}: written synthetic share vs {note.get('stage', 'stage')} band",
                synthetic_share(note),
                (mk.as_float(band[0]), mk.as_float(band[1])),
                status,
                desc="The share of synthetic records in the mix against the band "
                "allowed for the training stage.",
            )
        )
    body += mk.data_table(HEAD, rows)
    return f'<div class="mixbox">{body}</div>'


def mix(data: RunData) -> str:
    """One block per mix node of the manifest: facts, charts and parts table."""
    blocks: list[str] = []
    for nid, st in data.nodes.items():
        note = mk.as_dict(mk.as_dict(st).get("mix"))
        if note:
            blocks.append(_mix_block(nid, note))
    return mk.section("mix", "Mix composition", "".join(blocks), LEAD)
