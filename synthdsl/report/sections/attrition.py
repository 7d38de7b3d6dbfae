"""Per-node attrition: what each node received, passed, dropped, failed and emitted.

Input: a ``RunData`` (the manifest's ``nodes`` and the recorded DAG order). Output:
``attrition(data)`` → the ``<section id="attrition">`` HTML (a stacked bar chart and
a table, one row per node, loop bodies indented under their loop) and
``node_order(nodes, dag)`` → the order the rows follow. Errors: none; a node entry
missing counts renders as 0 or "—".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from synthdsl.charts.bars import Bar, Segment, hbar_chart
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk

__all__ = ["attrition", "node_order"]

PASSED = "#4c9a6a"
DROP_COLORS = ("#f0a431", "#e07b39", "#f4c566", "#c8692b", "#e9b872", "#b8860b", "#d9934c")
FAIL_COLORS = ("#d64545", "#9b2c2c", "#ec8080", "#7a1f1f", "#f1a3a3")
HEAD = [
    "node",
    "kind",
    "in",
    "passed",
    "out",
    "dropped",
    "failed",
    "calls",
    "cache hits",
    "retries",
    "tokens",
    "wall",
    "balanced",
]
LEAD = (
    "Every record entering a node is <b>passed</b>, <b>dropped</b> on purpose (by reason) "
    "or <b>failed</b> (by error kind): <i>in = passed + dropped + failed</i>. "
    "<b>out</b> counts records emitted; it exceeds passed when a node makes several "
    "records from one (extract lists, <code>n &gt; 1</code>, loops). Under a "
    "<code>json:</code> step's failures: <b>schema retries</b> (replies sent back with "
    "their validation error) and <b>schema failures</b> (samples still invalid after "
    "the last retry). Loop bodies are shaded and indented under their loop."
)


def _parent_loop(node: str, loops: Sequence[str]) -> str | None:
    best: str | None = None
    for lp in loops:
        if lp != node and node.startswith(lp + ".") and (best is None or len(lp) > len(best)):
            best = lp
    return best


def node_order(nodes: Mapping[str, Any], dag: Sequence[str] = ()) -> list[tuple[str, int, str]]:
    """(node id, depth, loop group) of every node, loop bodies under their loop.

    With ``dag`` (the manifest's ``node_order``, see ``data.dag_order``) that order;
    otherwise the manifest's order with sources first and the writer (kind ``sink``)
    last.
    """
    ids = list(nodes)
    if dag and set(dag) == set(ids):
        ids = list(dag)
    loops = [n for n in ids if mk.as_dict(nodes[n]).get("kind") == "loop"]
    children: dict[str | None, list[str]] = {}
    for n in ids:
        children.setdefault(_parent_loop(n, loops), []).append(n)
    rank = {"source": 0, "sink": 2}
    top = children.get(None, [])
    if not dag:
        top = sorted(top, key=lambda n: rank.get(str(mk.as_dict(nodes[n]).get("kind")), 1))
    out: list[tuple[str, int, str]] = []

    def visit(n: str, depth: int, group: str) -> None:
        is_loop = n in loops
        g = n if is_loop and depth == 0 else group
        out.append((n, depth, g))
        for child in children.get(n, []) if is_loop else []:
            visit(child, depth + 1, g)

    for n in top:
        visit(n, 0, "")
    return out


def _row(nid: str, st: Mapping[str, Any], depth: int) -> str:
    """The table row of one node."""
    dropped, failed = mk.as_counts(st.get("dropped")), mk.as_counts(st.get("failed"))
    pad = "&nbsp;&nbsp;&nbsp;&nbsp;" * depth + ("↳ " if depth else "")
    bal = st.get("balanced")
    return (
        f'<tr data-node="{esc(nid)}" class="{"body" if depth else ""}'
        f'{" loop" if st.get("kind") == "loop" else ""}">'
        f'<td class="name">{pad}<code>{esc(nid)}</code></td><td>{esc(st.get("kind", "?"))}</td>'
        f'<td class="num c-in">{mk.cell(mk.as_int(st.get("in")))}</td>'
        f'<td class="num">{mk.cell(st.get("passed"))}</td>'
        f'<td class="num c-out">{mk.cell(mk.as_int(st.get("out")))}</td>'
        f'<td class="num">{mk.cell(sum(dropped.values()))}{mk.breakdown(dropped)}'
        f"{_discarded_note(mk.as_int(st.get('discarded')))}</td>"
        f'<td class="num">{mk.cell(sum(failed.values()))}{mk.breakdown(failed)}'
        f"{_schema_note(st)}</td>"
        f'<td class="num">{mk.cell(st.get("calls"))}</td>'
        f'<td class="num">{mk.cell(st.get("cache_hits"))}</td>'
        f'<td class="num">{mk.cell(st.get("retries"))}</td>'
        f'<td class="num">{mk.tokens_cell(st)}</td>'
        f'<td class="num">{esc(mk.seconds(st.get("wall_time_s")))}</td>'
        f'<td class="{"ok" if bal is not False else "bad"}">'
        f"{'✔' if bal is not False else '✖'}</td></tr>"
    )


def _schema_note(st: Mapping[str, Any]) -> str:
    """A json: step's structured-reply counts, under its failures."""
    if "schema_retries" not in st:
        return ""
    retries = mk.as_int(st.get("schema_retries"))
    failures = mk.as_int(st.get("schema_failures"))
    return (
        f'<ul class="why"><li>schema retries <b>{fmt_num(retries)}</b></li>'
        f"<li>schema failures <b>{fmt_num(failures)}</b></li></ul>"
    )


def _discarded_note(n: int) -> str:
    return f'<ul class="why"><li>discarded past target <b>{fmt_num(n)}</b></li></ul>' if n else ""


def attrition(data: RunData) -> str:
    """A chart and a table of every node's in, passed, dropped, failed and out counts."""
    nodes = data.nodes
    order = node_order(nodes, data.dag_order)
    drop_reasons = sorted(
        {r for st in nodes.values() for r in mk.as_counts(mk.as_dict(st).get("dropped"))}
    )
    fail_kinds = sorted(
        {k for st in nodes.values() for k in mk.as_counts(mk.as_dict(st).get("failed"))}
    )
    drop_color = {r: mk.palette(DROP_COLORS, i) for i, r in enumerate(drop_reasons)}
    fail_color = {k: mk.palette(FAIL_COLORS, i) for i, k in enumerate(fail_kinds)}
    any_discarded = any(mk.as_int(mk.as_dict(st).get("discarded")) for st in nodes.values())
    legend = [("passed", PASSED), ("out (records emitted)", mk.OUT)]
    if any_discarded:
        legend.append(("discarded past loop target", mk.DISCARDED))
    legend += [(f"dropped: {r}", drop_color[r]) for r in drop_reasons]
    legend += [(f"failed: {k}", fail_color[k]) for k in fail_kinds]
    bars: list[Bar] = []
    rows: list[str] = []
    for nid, depth, group in order:
        st = mk.as_dict(nodes[nid])
        dropped, failed = mk.as_counts(st.get("dropped")), mk.as_counts(st.get("failed"))
        n_in, n_out = mk.as_int(st.get("in")), mk.as_int(st.get("out"))
        n_drop, n_fail = sum(dropped.values()), sum(failed.values())
        discarded = mk.as_int(st.get("discarded"))
        segs = [Segment("passed", mk.as_float(st.get("passed")), PASSED)]
        segs += [Segment(f"dropped: {r}", v, drop_color[r]) for r, v in sorted(dropped.items())]
        segs += [Segment(f"failed: {k}", v, fail_color[k]) for k, v in sorted(failed.items())]
        parts = [f"in {fmt_num(n_in)}"]
        if n_drop:
            parts.append(f"−{fmt_num(n_drop)} dropped")
        if n_fail:
            parts.append(f"−{fmt_num(n_fail)} failed")
        label = f"{nid} ({st.get('kind', '?')})"
        bars.append(Bar(label, segs, note=" ".join(parts), indent=depth, group=group))
        out_note = f"out {fmt_num(n_out)}" + (
            f" + {fmt_num(discarded)} discarded" if discarded else ""
        )
        bars.append(
            Bar(
                "",
                [Segment("out", n_out, mk.OUT)],
                extra=[Segment("discarded past target", discarded, mk.DISCARDED)],
                note=out_note,
                thin=True,
                indent=depth,
                group=group,
            )
        )
        rows.append(_row(nid, st, depth))
    if not nodes:
        return mk.section("attrition", "Per-node attrition", "<p>No nodes in the manifest.</p>")
    svg = hbar_chart(
        "Records per node: in, dropped, failed and out",
        bars,
        x_label="records",
        legend=legend,
        desc="For each node, a bar of its input records split into passed, dropped by "
        "reason and failed by kind, and a thin bar of the records it emitted.",
    )
    table = mk.data_table(HEAD, rows, "nodes")
    return mk.section("attrition", "Per-node attrition", mk.figure(svg) + table, LEAD)
