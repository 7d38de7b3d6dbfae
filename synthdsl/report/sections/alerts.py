"""The warnings at the top of the report: what a reader should see first.

Input: a ``RunData`` and the ``Diversity`` of its sample. Output: ``alerts(...)`` → a
list of ``Alert`` (level ``danger``, ``warn`` or ``info`` and an HTML message) for a
failed or interrupted run, collapse flags, mixes outside their band, unbalanced
accounting, failed records and dataset notes; ``render_alerts`` turns them into the
``<div id="alerts">`` block ("" when there are none). Errors: none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk
from synthdsl.report.sections.mix import synthetic_share
from synthdsl.report.textstats import Diversity

__all__ = ["Alert", "alerts", "render_alerts"]


@dataclass(frozen=True)
class Alert:
    """One warning: ``level`` is "danger", "warn" or "info"; ``html`` is escaped."""

    level: str
    html: str


def alerts(data: RunData, div: Diversity) -> list[Alert]:
    """What a reader should see first: failures, collapse flags, mix bands."""
    m = data.manifest
    out: list[Alert] = []
    status = str(m.get("status", "unknown"))
    if status == "failed":
        out.append(Alert("danger", f"<b>The run failed:</b> {esc(m.get('error') or 'no error')}"))
    elif status == "interrupted":
        out.append(
            Alert("warn", "<b>The run was interrupted</b> (Ctrl-C): the dataset is partial.")
        )
    elif status != "completed":
        out.append(Alert("warn", f"<b>Run status:</b> {esc(status)}"))
    for f in div.flags:
        where = f" in <code>{esc(f.field)}</code>" if f.field else ""
        out.append(
            Alert(
                "danger",
                f"<b>Collapse warning{where}:</b> {esc(f.message)} "
                f"(<code>{esc(f.metric)}</code> = {esc(mk.fmt_metric(f.value))}, "
                f"threshold {esc(mk.fmt_metric(f.threshold))})",
            )
        )
    for nid, st in data.nodes.items():
        note = mk.as_dict(mk.as_dict(st).get("mix"))
        status_band = note.get("status")
        if status_band in ("warn", "fail") and isinstance(note.get("band"), list):
            out.append(
                Alert(
                    "danger" if status_band == "fail" else "warn",
                    f"<b>Mix <code>{esc(nid)}</code>:</b> written synthetic share "
                    f"{esc(mk.share(synthetic_share(note)))} is outside the "
                    f"{esc(note.get('stage', 'stage'))} band "
                    f"{esc(mk.band_text(note.get('band')))} ({esc(status_band)}).",
                )
            )
        if note.get("real_status") == "fail":
            out.append(
                Alert(
                    "danger",
                    f"<b>Mix <code>{esc(nid)}</code>:</b> written real share "
                    f"{esc(mk.share(1.0 - synthetic_share(note)))} is under min_real "
                    f"{esc(mk.share(mk.as_float(note.get('min_real'))))}.",
                )
            )
    if m.get("accounting_balanced") is False:
        bad = [n for n, st in data.nodes.items() if mk.as_dict(st).get("balanced") is False]
        out.append(
            Alert(
                "warn",
                "<b>Accounting does not balance</b> (in ≠ passed + dropped + failed) for: "
                + ", ".join(f"<code>{esc(n)}</code>" for n in bad),
            )
        )
    failed = mk.as_int(mk.as_dict(m.get("totals")).get("failed"))
    if failed:
        out.append(
            Alert(
                "info",
                f"{esc(fmt_num(failed))} record{'s' if failed != 1 else ''} failed; "
                'see <a href="#rejects">Rejects</a> for the reasons.',
            )
        )
    if data.dataset_note:
        out.append(Alert("info", esc(data.dataset_note)))
    return out


def render_alerts(items: Sequence[Alert]) -> str:
    """The alerts as one block, each with its icon; "" for none."""
    if not items:
        return ""
    icons = {"danger": "✖", "warn": "▲", "info": "ℹ"}
    return (
        '<div class="alerts" id="alerts">'
        + "".join(
            f'<div class="alert {a.level}"><span class="icon">{icons.get(a.level, "•")}</span>'
            f"<div>{a.html}</div></div>"
            for a in items
        )
        + "</div>"
    )
