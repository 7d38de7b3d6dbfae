"""Judge scores: for each judge, how its scores fall over kept and rejected records.

Input: a ``RunData`` (the ``scores`` note of each judge node: field and scale; the
``thresholds`` note of filters; the score counts of dataset rows and rejects). Output:
``judge_scores(data)`` → the ``<section id="scores">`` HTML: one bar chart per judge,
one bar per score of its scale, kept records (green) under dropped (orange) and
failed (red) ones, with a dashed line at the threshold of the first filter after the
judge that compares its field with a number. Errors: none; a judge whose field holds
no score in the run's files gives a chart saying "no data".
"""

from __future__ import annotations

import math
from collections import Counter

from synthdsl.charts.bars import vbar_chart
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk
from synthdsl.report.sections.attrition import node_order
from synthdsl.textproc.plural import plural

__all__ = ["has_judges", "judge_scores"]

TITLE = "Judge scores"
SERIES = (("kept", "#2f8f5b"), ("dropped", "#f0a431"), ("failed", "#d64545"))


def _judges(data: RunData) -> list[tuple[str, str, tuple[int, int]]]:
    """(node id, score field, scale) of each judge, in DAG order."""
    out = []
    for nid, _, _ in node_order(data.nodes, data.dag_order):
        note = mk.as_dict(mk.as_dict(data.nodes.get(nid)).get("scores"))
        name, scale = note.get("field"), note.get("scale")
        if isinstance(name, str) and isinstance(scale, list) and len(scale) == 2:
            lo, hi = scale
            if isinstance(lo, int) and isinstance(hi, int) and lo <= hi:
                out.append((nid, name, (lo, hi)))
    return out


def has_judges(data: RunData) -> bool:
    return bool(_judges(data))


def _threshold(data: RunData, judge: str, name: str) -> tuple[str, str, float] | None:
    """(filter id, op, value) of the first filter after ``judge`` with a threshold on
    ``name``."""
    order = [nid for nid, _, _ in node_order(data.nodes, data.dag_order)]
    after = order[order.index(judge) + 1 :] if judge in order else []
    for nid in after:
        found = mk.as_dict(mk.as_dict(data.nodes.get(nid)).get("thresholds")).get(name)
        t = mk.as_dict(found)
        op, value = t.get("op"), t.get("value")
        if op in (">=", ">", "<=", "<") and isinstance(value, (int, float)):
            return nid, str(op), float(value)
    return None


def _marker(op: str, value: float, lo: int) -> float:
    """Where, in bars from score ``lo``, the passing scores begin or end."""
    if op == ">=":
        return math.ceil(value) - lo
    if op == ">":
        return math.floor(value) + 1 - lo
    if op == "<=":
        return math.floor(value) + 1 - lo
    return math.ceil(value) - lo  # "<"


def _chart(data: RunData, judge: str, name: str, scale: tuple[int, int]) -> str:
    counts: dict[str, Counter[float]] = data.scores.get(name, {})
    lo, hi = scale
    seen = {v for c in counts.values() for v in c}
    values = sorted({float(v) for v in range(lo, hi + 1)} | seen)
    categories = [fmt_num(int(v) if v.is_integer() else v) for v in values]
    series: list[tuple[str, str, list[float]]] = []
    for status, color in SERIES:
        by_score = counts.get(status, Counter())
        if status == "kept" or by_score:
            series.append((status, color, [float(by_score.get(v, 0)) for v in values]))
    markers: list[tuple[float, str]] = []
    threshold = _threshold(data, judge, name)
    if threshold is not None and values == [float(v) for v in range(lo, hi + 1)]:
        fid, op, value = threshold
        label = f"{fid}: {name} {op} {fmt_num(value)}"
        markers.append((_marker(op, value, lo), label))
    total = sum(sum(c.values()) for c in counts.values())
    return mk.figure(
        vbar_chart(
            f"Scores of {judge} ({name})",
            categories if total else [],
            series,
            x_label=f"{name} (scale {lo}–{hi})",
            y_label="records",
            width=720,
            height=280,
            markers=markers,
            always_legend=True,
            desc=(
                f"Scores of judge {judge} in field {name} over "
                f"{plural(total, 'record')}: kept in the dataset and rejected later."
            ),
        )
    )


def judge_scores(data: RunData) -> str:
    """One chart per judge node (see the module docstring)."""
    charts: list[str] = []
    for judge, name, scale in _judges(data):
        charts.append(f"<h3><code>{esc(judge)}</code></h3>" + _chart(data, judge, name, scale))
    lead = (
        "How each judge scored the records that reached the end (<b>kept</b>, in the "
        "dataset) and those rejected after it (<b>dropped</b>, <b>failed</b>, from "
        "<code>rejects.jsonl</code>). A dashed line marks the threshold of the first "
        "filter after the judge on its field: a pile of records just below it is work "
        "the judge threw away."
    )
    return mk.section("scores", TITLE, "".join(charts), lead)
