"""Length and entropy: tokens and token entropy per record of the main text fields.

Input: a ``RunData`` (dataset path, records read, sample size) and the ``TextStats``
of its sample. Output: ``lengths(data, ts)`` → the ``<section id="lengths">`` HTML: a
table per field (records, mean, median, p95 and max tokens, mean entropy) and two
histograms per field. Errors: none; no dataset or no text field gives a note.
"""

from __future__ import annotations

from collections.abc import Sequence

from synthdsl.charts.histogram import histogram
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk
from synthdsl.report.textstats import TextStats, generated
from synthdsl.textproc.plural import plural

__all__ = ["lengths"]

TITLE = "Length and entropy"
HEAD = ["field", "records", "mean tokens", "median", "p95", "max", "mean entropy (bits)"]


def _quantile(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return 0.0
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def _charts(f: str, toks: list[int], ent: list[float], color: str) -> str:
    """The token-count and token-entropy histograms of field ``f``, side by side."""
    return mk.figure(
        histogram(
            f"Tokens per record: {f}",
            [float(t) for t in toks],
            x_label="tokens (words) per record",
            color=color,
            width=540,
            desc=f"Histogram of the token count of field {f} over {plural(len(toks), 'record')}.",
        ),
        "half",
    ) + mk.figure(
        histogram(
            f"Token entropy per record: {f}",
            ent,
            x_label="Shannon entropy of the record's tokens (bits)",
            color=color,
            integer=False,
            width=540,
            desc=f"Histogram of per-record token entropy of field {f}.",
        ),
        "half",
    )


def lengths(data: RunData, ts: TextStats) -> str:
    """Token and entropy table and histograms of each field of ``ts``."""
    if data.dataset_path is None:
        return mk.section(
            "lengths",
            TITLE,
            f'<p class="note">No dataset to measure: {esc(data.dataset_note or "missing")}.</p>',
        )
    if not ts.fields:
        what = "no records" if data.records_read == 0 else "no text fields"
        return mk.section(
            "lengths",
            TITLE,
            f'<p class="note">The dataset <code>{esc(data.dataset_path.name)}</code> has '
            f"{what}.</p>",
        )
    rows, charts = [], []
    for i, f in enumerate(ts.fields):
        toks, ent = ts.tokens.get(f, []), ts.entropy.get(f, [])
        if toks:
            rows.append(
                f"<tr><td><code>{esc(f)}</code></td><td class='num'>{fmt_num(len(toks))}</td>"
                f"<td class='num'>{fmt_num(round(sum(toks) / len(toks), 1))}</td>"
                f"<td class='num'>{fmt_num(_quantile(toks, 0.5))}</td>"
                f"<td class='num'>{fmt_num(_quantile(toks, 0.95))}</td>"
                f"<td class='num'>{fmt_num(max(toks))}</td>"
                f"<td class='num'>{fmt_num(round(sum(ent) / len(ent), 2))}</td></tr>"
            )
            charts.append(_charts(f, toks, ent, mk.palette(mk.PART_COLORS, i)))
        else:
            rows.append(
                f"<tr><td><code>{esc(f)}</code></td><td class='num'>0</td>"
                + "<td>—</td>" * 5
                + "</tr>"
            )
    n = len(data.sample)
    sampled = (
        f"a deterministic sample of {fmt_num(n)} of {fmt_num(data.records_read)} records"
        if n < data.records_read
        else f"all {plural(n, 'record', shown=fmt_num(n))}"
    )
    lead = (
        f"Tokens are words (letters and digits of any script, lower-cased) as in "
        f"<code>synthdsl.textproc.tokens.tokenize</code>; entropy is the Shannon entropy of a "
        f"record's "
        f"token distribution in bits (low: repetitive text). Measured on {sampled} of "
        f"<code>{esc(data.dataset_path.name)}</code>; fields: "
        + ", ".join(f"<code>{esc(f)}</code>" for f in ts.fields)
        + (" (written by a model)" if set(ts.fields) <= set(generated(data.manifest)) else "")
        + "."
    )
    body = mk.data_table(HEAD, rows) + '<div class="grid2">' + "".join(charts) + "</div>"
    return mk.section("lengths", TITLE, body, lead)
