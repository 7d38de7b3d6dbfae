"""Diversity: the collapse metrics of the sampled texts against their thresholds.

Input: the ``Diversity`` of the sample (metrics per field, thresholds and collapse
flags from ``synthdsl.analysis.diversity``) and the ``TextStats`` whose fields it
measured. Output: ``diversity_section(div, ts)`` → the ``<section id="diversity">``
HTML: the flag count, a bullet chart of the thresholded metrics and a table of every
metric per field. Errors: none; unavailable metrics give a note saying why.
"""

from __future__ import annotations

from synthdsl.charts.bullet import Bullet, bullet_chart
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.sections import markup as mk
from synthdsl.report.textstats import (
    MAX_DIVERSITY_TEXTS,
    METRIC_HELP,
    MIN_TEXTS_TO_JUDGE,
    Diversity,
    TextStats,
)
from synthdsl.textproc.plural import plural

__all__ = ["diversity_section"]

TITLE = "Diversity"
LEAD = (
    "Metrics from <code>synthdsl.analysis.diversity.summarize</code> on up to "
    f"{fmt_num(MAX_DIVERSITY_TEXTS)} sampled texts per field; <b>flag</b> marks a metric "
    "past its collapse threshold (<code>collapse_flags</code>, thresholds from "
    "<code>synthdsl.analysis.diversity.Thresholds</code>). Drift metrics need a reference set "
    "and are not computed here."
)


def _threshold_text(th: tuple[str, float] | None) -> str:
    if th is None:
        return mk.DASH
    op, limit = th
    return f"{op} {mk.fmt_metric(limit)}".strip()


def diversity_section(div: Diversity, ts: TextStats) -> str:
    """Flag count, bullet chart and metric table of the fields ``div`` measured."""
    if not div.available:
        return mk.section(
            "diversity",
            TITLE,
            f'<p class="note unavailable">Diversity metrics unavailable: {esc(div.reason)}.</p>',
        )
    if not div.metrics:
        return mk.section("diversity", TITLE, '<p class="note">No texts to measure.</p>')
    fields = [f for f in ts.fields if f in div.metrics]
    metrics: list[str] = []
    for f in fields:
        for k in div.metrics[f]:
            if k not in metrics:
                metrics.append(k)
    metrics.sort(key=lambda k: (k not in div.thresholds, 0))
    flagged = {(fl.field, fl.metric) for fl in div.flags}
    rows, bullets = [], []
    for k in metrics:
        th = div.thresholds.get(k)
        cells = [
            f"<td><code>{esc(k)}</code><div class='small'>{esc(METRIC_HELP.get(k, ''))}</div></td>",
            f"<td class='num'>{esc(_threshold_text(th))}</td>",
        ]
        for f in fields:
            v = div.metrics[f].get(k)
            bad = (f, k) in flagged
            if bad:
                state = '<span class="pill flag">flag</span>'
            elif th is not None and v is not None and f not in div.too_few:
                state = '<span class="pill ok">ok</span>'
            else:
                state = ""
            cells.append(f"<td class='num'>{esc(mk.fmt_metric(v))} {state}</td>")
            if th is not None and v is not None:
                bullets.append(Bullet(f"{k} · {f}", v, th[1], th[0], bad))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = ["metric", "threshold", *[f"{f}" for f in fields]]
    chart = ""
    if bullets:
        chart = mk.figure(
            bullet_chart(
                "Collapse metrics against their thresholds",
                bullets,
                desc="Each bar is a metric's value for one field; the dark tick is the "
                "threshold and the red zone the values that are flagged.",
            )
        )
    return mk.section(
        "diversity", TITLE, _status(div, fields) + chart + mk.data_table(head, rows), LEAD
    )


def _status(div: Diversity, fields: list[str]) -> str:
    """The verdict line: flags, no flag, or too few texts to say."""
    few = [f for f in fields if f in div.too_few]
    too_few = ""
    if few:
        counts = ", ".join(f"{f}: {plural(div.too_few[f], 'text')}" for f in few)
        too_few = (
            f'<p class="flagcount few">Too few records to judge ({esc(counts)}): '
            f"collapse metrics need about {MIN_TEXTS_TO_JUDGE} texts per field to mean "
            "anything, so their values are shown but not flagged.</p>"
        )
    if div.flags:
        return (
            f'<p class="flagcount bad">{plural(len(div.flags), "collapse flag")}: '
            "see the warnings at the top.</p>" + too_few
        )
    if len(few) == len(fields):
        return too_few
    return (
        '<p class="flagcount good">No collapse flag: every thresholded metric is '
        "within its limit.</p>" + too_few
    )
