"""The sections of the run report, each a function ``RunData (+ extras) -> HTML``.

Input: a ``RunData`` (``data.py``) and, for the text sections, the text statistics
computed by ``text_stats`` and ``diversity``. Output: HTML fragments (every string from
the run directory is escaped with ``esc``) with inline SVG charts from ``svg.py``.
Errors: none on purpose: a manifest missing keys renders as "—"/"no data", and the
optional ``synthdsl.analysis.diversity`` module failing in any way turns its section into
"diversity metrics unavailable".
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from synthdsl.charts.svg import (
    Bar,
    Bullet,
    Segment,
    band_chart,
    bullet_chart,
    esc,
    fmt_num,
    hbar_chart,
    histogram,
    vbar_chart,
)
from synthdsl.report.data import RejectGroup, RunData
from synthdsl.report.textstats import (
    MAX_DIVERSITY_TEXTS,
    METRIC_HELP,
    Diversity,
    TextStats,
    opt_float,
)

__all__ = [
    "Alert",
    "Diversity",
    "TextStats",
    "alerts",
    "attrition",
    "diversity_section",
    "header",
    "lengths",
    "loops",
    "mix",
    "models",
    "node_order",
    "rejects",
]

PASSED = "#4c9a6a"
OUT = "#3b6ea8"
DISCARDED = "#a3adb8"
CACHE = "#9cc3e6"
PROMPT = "#5a8dc8"
COMPLETION = "#f0a431"
NOT_TAKEN = "#e3e7ee"
DROP_COLORS = ("#f0a431", "#e07b39", "#f4c566", "#c8692b", "#e9b872", "#b8860b", "#d9934c")
FAIL_COLORS = ("#d64545", "#9b2c2c", "#ec8080", "#7a1f1f", "#f1a3a3")
PART_COLORS = ("#3b6ea8", "#7b5ea7", "#2a9d8f", "#e76f51", "#8ab17d", "#c9a227", "#264653")
ERROR_COLORS = ("#d64545", "#e07b39", "#9b2c2c", "#f0a431", "#7b5ea7", "#c8692b", "#ec8080")
MAX_REJECT_GROUPS = 15
DASH = "—"


# --------------------------------------------------------------------------- helpers


def _num(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return 0.0


def _int(value: Any) -> int:
    return int(_num(value))


def _cell(value: Any) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return esc(fmt_num(value))
    return esc(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _counts(value: Any) -> dict[str, int]:
    return {str(k): _int(v) for k, v in _dict(value).items() if _int(v)}


def _seconds(value: Any) -> str:
    s = _num(value)
    if s < 60:
        return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"
    m, sec = divmod(round(s), 60)
    if m < 60:
        return f"{m} min {sec} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def _cost(value: Any) -> str:
    if value is None:
        return DASH
    v = _num(value)
    if v == 0:
        return "$0"
    return f"${v:.4f}" if v < 1 else f"${v:,.2f}"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else DASH


def _plural(n: int, one: str, many: str = "") -> str:
    return f"{fmt_num(n)} {one if n == 1 else (many or one + 's')}"


def _palette(colors: Sequence[str], i: int) -> str:
    return colors[i % len(colors)]


def _section(sid: str, title: str, body: str, lead: str = "") -> str:
    intro = f'<p class="lead">{lead}</p>' if lead else ""
    return f'<section id="{sid}"><h2>{esc(title)}</h2>{intro}{body}</section>'


def _table(head: Sequence[str], rows: Iterable[str], cls: str = "") -> str:
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    cl = f' class="{cls}"' if cls else ""
    return (
        f'<div class="tablewrap"><table{cl}><thead><tr>{th}</tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _breakdown(counts: Mapping[str, int]) -> str:
    if not counts:
        return ""
    items = "".join(
        f"<li>{esc(k)} <b>{esc(fmt_num(v))}</b></li>"
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f'<ul class="why">{items}</ul>'


def _chart(svg: str, cls: str = "") -> str:
    return f'<figure class="chartbox{(" " + cls) if cls else ""}">{svg}</figure>'


# --------------------------------------------------------------------------- order


def _parent_loop(node: str, loops: Sequence[str]) -> str | None:
    best: str | None = None
    for lp in loops:
        if lp != node and node.startswith(lp + ".") and (best is None or len(lp) > len(best)):
            best = lp
    return best


def node_order(nodes: Mapping[str, Any], dag: Sequence[str] = ()) -> list[tuple[str, int, str]]:
    """(node id, depth, loop group) of every node, loop bodies under their loop.

    With ``dag`` (ids along the recipe's DAG, see ``data.dag_order``) that order;
    otherwise the manifest's order with sources first and the writer (kind ``sink``)
    last.
    """
    ids = list(nodes)
    if dag and set(dag) == set(ids):
        ids = list(dag)
    loops = [n for n in ids if _dict(nodes[n]).get("kind") == "loop"]
    children: dict[str | None, list[str]] = {}
    for n in ids:
        children.setdefault(_parent_loop(n, loops), []).append(n)
    rank = {"source": 0, "sink": 2}
    top = children.get(None, [])
    if not dag:
        top = sorted(top, key=lambda n: rank.get(str(_dict(nodes[n]).get("kind")), 1))
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


# --------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Alert:
    level: str  # "danger", "warn", "info"
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
                f"(<code>{esc(f.metric)}</code> = {esc(_fmt_metric(f.value))}, "
                f"threshold {esc(_fmt_metric(f.threshold))})",
            )
        )
    for nid, st in data.nodes.items():
        note = _dict(_dict(st).get("mix"))
        status_band = note.get("status")
        if status_band in ("warn", "fail") and isinstance(note.get("band"), list):
            share = _synthetic_share(note)
            out.append(
                Alert(
                    "danger" if status_band == "fail" else "warn",
                    f"<b>Mix <code>{esc(nid)}</code>:</b> synthetic share "
                    f"{esc(_share(share))} is outside the {esc(note.get('stage', 'stage'))} band "
                    f"{esc(_band_text(note.get('band')))} ({esc(status_band)}).",
                )
            )
    if m.get("accounting_balanced") is False:
        bad = [n for n, st in data.nodes.items() if _dict(st).get("balanced") is False]
        out.append(
            Alert(
                "warn",
                "<b>Accounting does not balance</b> (in ≠ passed + dropped + failed) for: "
                + ", ".join(f"<code>{esc(n)}</code>" for n in bad),
            )
        )
    failed = _int(_dict(m.get("totals")).get("failed"))
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


# --------------------------------------------------------------------------- header


def header(data: RunData) -> str:
    m = data.manifest
    recipe = _dict(m.get("recipe"))
    totals = _dict(m.get("totals"))
    output = _dict(m.get("output"))
    status = str(m.get("status", "unknown"))
    name = recipe.get("name") or data.run_dir.name
    calls = _int(totals.get("calls"))
    hits = _int(totals.get("cache_hits"))
    prompt, completion = _int(totals.get("prompt_tokens")), _int(totals.get("completion_tokens"))
    cards = [
        ("records written", fmt_num(_int(output.get("records"))), str(output.get("format", ""))),
        ("LLM calls", fmt_num(calls), "made to providers"),
        ("cache hits", fmt_num(hits), f"{_pct(hits, calls + hits)} of requests"),
        ("retries", fmt_num(_int(totals.get("retries"))), "transient errors retried"),
        (
            "tokens",
            fmt_num(prompt + completion),
            f"{fmt_num(prompt)} prompt + {fmt_num(completion)} completion",
        ),
        ("cost", _cost(totals.get("cost_usd")), "estimated, USD"),
        ("dropped", fmt_num(_int(totals.get("dropped"))), "removed on purpose"),
        ("failed", fmt_num(_int(totals.get("failed"))), "records that errored"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div>'
        f'<div class="s">{esc(s)}</div></div>'
        for k, v, s in cards
    )
    error = f'<p class="error"><b>error:</b> {esc(m.get("error"))}</p>' if m.get("error") else ""
    meta = [
        ("recipe hash", f"<code>{esc(recipe.get('hash', DASH))}</code>"),
        ("synthdsl", esc(m.get("synthdsl_version", DASH))),
        ("started", esc(m.get("started_at", DASH))),
        ("wall time", esc(_seconds(m.get("wall_time_s")))),
        ("recipe file", f"<code>{esc(recipe.get('path', DASH))}</code>"),
        ("dataset", f"<code>{esc(output.get('path', DASH))}</code>"),
    ]
    meta_html = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in meta)
    return (
        f'<header id="overview"><div class="title"><h1>{esc(name)}</h1>'
        f'<span class="badge st-{esc(status)}">{esc(status)}</span></div>'
        f'<p class="sub">synthdsl run report</p>{error}<dl class="meta">{meta_html}</dl>'
        f'<div class="cards">{card_html}</div></header>'
    )


# --------------------------------------------------------------------------- attrition


def attrition(data: RunData) -> str:
    nodes = data.nodes
    order = node_order(nodes, data.dag_order)
    drop_reasons = sorted({r for st in nodes.values() for r in _counts(_dict(st).get("dropped"))})
    fail_kinds = sorted({k for st in nodes.values() for k in _counts(_dict(st).get("failed"))})
    drop_color = {r: _palette(DROP_COLORS, i) for i, r in enumerate(drop_reasons)}
    fail_color = {k: _palette(FAIL_COLORS, i) for i, k in enumerate(fail_kinds)}
    any_discarded = any(_int(_dict(st).get("discarded")) for st in nodes.values())
    legend = [("passed", PASSED), ("out (records emitted)", OUT)]
    if any_discarded:
        legend.append(("discarded past loop target", DISCARDED))
    legend += [(f"dropped: {r}", drop_color[r]) for r in drop_reasons]
    legend += [(f"failed: {k}", fail_color[k]) for k in fail_kinds]
    bars: list[Bar] = []
    rows: list[str] = []
    for nid, depth, group in order:
        st = _dict(nodes[nid])
        dropped, failed = _counts(st.get("dropped")), _counts(st.get("failed"))
        n_in, n_out = _int(st.get("in")), _int(st.get("out"))
        n_drop, n_fail = sum(dropped.values()), sum(failed.values())
        discarded = _int(st.get("discarded"))
        segs = [Segment("passed", _num(st.get("passed")), PASSED)]
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
                [Segment("out", n_out, OUT)],
                extra=[Segment("discarded past target", discarded, DISCARDED)],
                note=out_note,
                thin=True,
                indent=depth,
                group=group,
            )
        )
        pad = "&nbsp;&nbsp;&nbsp;&nbsp;" * depth + ("↳ " if depth else "")
        bal = st.get("balanced")
        rows.append(
            f'<tr data-node="{esc(nid)}" class="{"body" if depth else ""}'
            f'{" loop" if st.get("kind") == "loop" else ""}">'
            f'<td class="name">{pad}<code>{esc(nid)}</code></td><td>{esc(st.get("kind", "?"))}</td>'
            f'<td class="num c-in">{_cell(n_in)}</td><td class="num">{_cell(st.get("passed"))}</td>'
            f'<td class="num c-out">{_cell(n_out)}</td>'
            f'<td class="num">{_cell(n_drop)}{_breakdown(dropped)}'
            f"{_discarded_note(discarded)}</td>"
            f'<td class="num">{_cell(n_fail)}{_breakdown(failed)}</td>'
            f'<td class="num">{_cell(st.get("calls"))}</td>'
            f'<td class="num">{_cell(st.get("cache_hits"))}</td>'
            f'<td class="num">{_cell(st.get("retries"))}</td>'
            f'<td class="num">{_tokens_cell(st)}</td>'
            f'<td class="num">{esc(_seconds(st.get("wall_time_s")))}</td>'
            f'<td class="{"ok" if bal is not False else "bad"}">'
            f"{'✔' if bal is not False else '✖'}</td></tr>"
        )
    chart = hbar_chart(
        "Records per node: in, dropped, failed and out",
        bars,
        x_label="records",
        legend=legend,
        desc="For each node, a bar of its input records split into passed, dropped by "
        "reason and failed by kind, and a thin bar of the records it emitted.",
    )
    table = _table(
        [
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
        ],
        rows,
        "nodes",
    )
    lead = (
        "Every record entering a node is <b>passed</b>, <b>dropped</b> on purpose (by reason) "
        "or <b>failed</b> (by error kind): <i>in = passed + dropped + failed</i>. "
        "<b>out</b> counts records emitted; it exceeds passed when a node makes several "
        "records from one (extract lists, <code>n &gt; 1</code>, loops). Loop bodies are "
        "shaded and indented under their loop."
    )
    if not nodes:
        return _section("attrition", "Per-node attrition", "<p>No nodes in the manifest.</p>")
    return _section("attrition", "Per-node attrition", _chart(chart) + table, lead)


def _discarded_note(n: int) -> str:
    return f'<ul class="why"><li>discarded past target <b>{fmt_num(n)}</b></li></ul>' if n else ""


def _tokens_cell(st: Mapping[str, Any]) -> str:
    if "prompt_tokens" not in st:
        return DASH
    p, c = _int(st.get("prompt_tokens")), _int(st.get("completion_tokens"))
    return f'{esc(fmt_num(p + c))}<div class="small">{esc(fmt_num(p))} + {esc(fmt_num(c))}</div>'


# --------------------------------------------------------------------------- loops


ROUND_SERIES = (
    ("in dataset", OUT),
    ("discarded", DISCARDED),
    ("dropped in body", "#f0a431"),
    ("failed in body", "#d64545"),
    ("dropped at the loop", "#c8692b"),
    ("failed at the loop", "#9b2c2c"),
)


def loops(data: RunData) -> str:
    blocks: list[str] = []
    for lp in data.loops:
        st = _dict(data.nodes.get(lp))
        note = _dict(st.get("loop"))
        counts = data.rounds.get(lp, {})
        rounds_run = _int(note.get("rounds_run"))
        max_round = max([rounds_run] + [r for c in counts.values() for r in c])
        facts = [
            ("rounds run", _cell(note.get("rounds_run"))),
            ("records made", _cell(note.get("made"))),
            ("target", _cell(note.get("target"))),
            ("discarded past target", _cell(_int(st.get("discarded")))),
            ("emitted", _cell(st.get("out"))),
        ]
        fact_html = "".join(
            f'<div class="card mini"><div class="k">{esc(k)}</div><div class="v">{v}</div></div>'
            for k, v in facts
        )
        cats = [f"round {r}" for r in range(1, max_round + 1)]
        series = [
            (name, color, [float(counts[name].get(r, 0)) for r in range(1, max_round + 1)])
            for name, color in ROUND_SERIES
            if name in counts
        ]
        body = f'<h3>Loop <code>{esc(lp)}</code></h3><div class="cards">{fact_html}</div>'
        if series:
            body += _chart(
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
        blocks.append(f'<div class="loopbox">{body}</div>')
    lead = (
        "What each loop made per round: the round of a record is its "
        "<code>_provenance.round</code> (dataset) or the <code>round</code> of its reject row."
    )
    return _section("loops", "Evolution rounds", "".join(blocks), lead)


# --------------------------------------------------------------------------- text stats


def _quantile(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return 0.0
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def lengths(data: RunData, ts: TextStats) -> str:
    if data.dataset_path is None:
        return _section(
            "lengths",
            "Length and entropy",
            f'<p class="note">No dataset to measure: {esc(data.dataset_note or "missing")}.</p>',
        )
    if not ts.fields:
        what = "no records" if data.records_read == 0 else "no text fields"
        return _section(
            "lengths",
            "Length and entropy",
            f'<p class="note">The dataset <code>{esc(data.dataset_path.name)}</code> has '
            f"{what}.</p>",
        )
    rows, charts = [], []
    for i, f in enumerate(ts.fields):
        toks, ent = ts.tokens.get(f, []), ts.entropy.get(f, [])
        color = _palette(PART_COLORS, i)
        if toks:
            rows.append(
                f"<tr><td><code>{esc(f)}</code></td><td class='num'>{fmt_num(len(toks))}</td>"
                f"<td class='num'>{fmt_num(round(sum(toks) / len(toks), 1))}</td>"
                f"<td class='num'>{fmt_num(_quantile(toks, 0.5))}</td>"
                f"<td class='num'>{fmt_num(_quantile(toks, 0.95))}</td>"
                f"<td class='num'>{fmt_num(max(toks))}</td>"
                f"<td class='num'>{fmt_num(round(sum(ent) / len(ent), 2))}</td></tr>"
            )
            charts.append(
                _chart(
                    histogram(
                        f"Tokens per record: {f}",
                        [float(t) for t in toks],
                        x_label="tokens (words) per record",
                        color=color,
                        width=540,
                        desc=f"Histogram of the token count of field {f} over {len(toks)} records.",
                    ),
                    "half",
                )
                + _chart(
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
            )
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
        else f"all {fmt_num(n)} records"
    )
    lead = (
        f"Tokens are words (letters and digits of any script, lower-cased) as in "
        f"<code>synthdsl.textproc.tokens.tokenize</code>; entropy is the Shannon entropy of a "
        f"record's "
        f"token distribution in bits (low: repetitive text). Measured on {sampled} of "
        f"<code>{esc(data.dataset_path.name)}</code>; fields: "
        + ", ".join(f"<code>{esc(f)}</code>" for f in ts.fields)
        + "."
    )
    table = _table(
        ["field", "records", "mean tokens", "median", "p95", "max", "mean entropy (bits)"], rows
    )
    body = table + '<div class="grid2">' + "".join(charts) + "</div>"
    return _section("lengths", "Length and entropy", body, lead)


# --------------------------------------------------------------------------- diversity


def _fmt_metric(value: float | None) -> str:
    if value is None:
        return DASH
    if value.is_integer():
        return fmt_num(value)
    return f"{value:.3f}" if abs(value) < 100 else fmt_num(round(value, 1))


def _threshold_text(th: tuple[str, float] | None) -> str:
    if th is None:
        return DASH
    op, limit = th
    return f"{op} {_fmt_metric(limit)}".strip()


def diversity_section(div: Diversity, ts: TextStats) -> str:
    title = "Diversity"
    if not div.available:
        return _section(
            "diversity",
            title,
            f'<p class="note unavailable">Diversity metrics unavailable: {esc(div.reason)}.</p>',
        )
    if not div.metrics:
        return _section("diversity", title, '<p class="note">No texts to measure.</p>')
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
            elif th is not None and v is not None:
                state = '<span class="pill ok">ok</span>'
            else:
                state = ""
            cells.append(f"<td class='num'>{esc(_fmt_metric(v))} {state}</td>")
            if th is not None and v is not None:
                bullets.append(Bullet(f"{k} · {f}", v, th[1], th[0], bad))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = ["metric", "threshold", *[f"{f}" for f in fields]]
    chart = ""
    if bullets:
        chart = _chart(
            bullet_chart(
                "Collapse metrics against their thresholds",
                bullets,
                desc="Each bar is a metric's value for one field; the dark tick is the "
                "threshold and the red zone the values that are flagged.",
            )
        )
    status = (
        f'<p class="flagcount bad">{len(div.flags)} collapse flag'
        f"{'s' if len(div.flags) != 1 else ''}: see the warnings at the top.</p>"
        if div.flags
        else '<p class="flagcount good">No collapse flag: every thresholded metric is '
        "within its limit.</p>"
    )
    lead = (
        "Metrics from <code>synthdsl.analysis.diversity.summarize</code> on up to "
        f"{fmt_num(MAX_DIVERSITY_TEXTS)} sampled texts per field; <b>flag</b> marks a metric "
        "past its collapse threshold (<code>collapse_flags</code>, thresholds from "
        "<code>synthdsl.analysis.diversity.Thresholds</code>). Drift metrics need a reference set "
        "and are not computed here."
    )
    return _section("diversity", title, status + chart + _table(head, rows), lead)


# --------------------------------------------------------------------------- mix


def _synthetic_share(note: Mapping[str, Any]) -> float:
    share = opt_float(note.get("synthetic_share"))
    if share is not None:
        return share
    parts = [p for p in note.get("parts", []) if isinstance(p, dict)]
    total = sum(_int(p.get("taken")) for p in parts)
    synth = sum(_int(p.get("taken")) for p in parts if p.get("synthetic") is True)
    return synth / total if total else 0.0


def _share(x: float) -> str:
    return f"{100 * x:.1f}%"


def _band_text(band: Any) -> str:
    if isinstance(band, list) and len(band) == 2:
        return f"{_share(_num(band[0]))}–{_share(_num(band[1]))}"
    return DASH


def mix(data: RunData) -> str:
    blocks: list[str] = []
    for nid, st in data.nodes.items():
        note = _dict(_dict(st).get("mix"))
        if not note:
            continue
        parts = [p for p in note.get("parts", []) if isinstance(p, dict)]
        achieved = _int(note.get("achieved_total"))
        facts = [
            ("requested total", _cell(note.get("requested_total"))),
            ("achieved total", _cell(note.get("achieved_total"))),
            ("limited by", _cell(note.get("limited_by"))),
            ("synthetic share", esc(_share(_synthetic_share(note)))),
        ]
        if note.get("stage") is not None:
            facts.append(("stage", _cell(note.get("stage"))))
        if isinstance(note.get("band"), list):
            facts.append(("band", esc(_band_text(note.get("band")))))
        fact_html = "".join(
            f'<div class="card mini"><div class="k">{esc(k)}</div><div class="v">{v}</div></div>'
            for k, v in facts
        )
        rows, bars, comp = [], [], []
        for i, p in enumerate(parts):
            color = _palette(PART_COLORS, i)
            src = str(p.get("from", "?"))
            avail, taken = _int(p.get("available")), _int(p.get("taken"))
            synth = p.get("synthetic")
            synth_txt = "synthetic" if synth is True else "human/real" if synth is False else DASH
            rows.append(
                f'<tr data-part="{esc(src)}"><td><span class="sw" style="background:{color}">'
                f"</span><code>{esc(src)}</code></td><td>{esc(synth_txt)}</td>"
                f"<td class='num'>{esc(_share(_num(p.get('ratio'))))}</td>"
                f"<td class='num'>{_cell(avail)}</td><td class='num'>{_cell(taken)}</td>"
                f"<td class='num'>{esc(_pct(taken, achieved))}</td></tr>"
            )
            bars.append(
                Bar(
                    f"{src}" + (" (synthetic)" if synth is True else ""),
                    [Segment("taken", taken, color)],
                    extra=[Segment("not taken", max(0, avail - taken), NOT_TAKEN)],
                    note=f"{fmt_num(taken)} of {fmt_num(avail)} · "
                    f"{_pct(taken, achieved)} (target {_share(_num(p.get('ratio')))})",
                )
            )
            comp.append(Segment(src, taken, color))
        body = f'<h3>Mix <code>{esc(nid)}</code></h3><div class="cards">{fact_html}</div>'
        body += _chart(
            hbar_chart(
                f"Mix {nid}: composition",
                [Bar("taken", comp, note=f"{fmt_num(achieved)} records")],
                x_label="records in the mix",
                legend=[(s.label, s.color) for s in comp],
                desc="A stacked bar of the records taken from each part.",
            )
        )
        body += _chart(
            hbar_chart(
                f"Mix {nid}: taken of available per part",
                bars,
                x_label="records",
                legend=[("taken", PART_COLORS[0]), ("available, not taken", NOT_TAKEN)],
                desc="For each part, records taken into the mix and records left over quota.",
            )
        )
        band = note.get("band")
        if isinstance(band, list) and len(band) == 2:
            status = str(note.get("status", "ok"))
            body += _chart(
                band_chart(
                    f"Mix {nid}: synthetic share vs {note.get('stage', 'stage')} band",
                    _synthetic_share(note),
                    (_num(band[0]), _num(band[1])),
                    status,
                    desc="The share of synthetic records in the mix against the band "
                    "allowed for the training stage.",
                )
            )
        body += _table(["part", "kind", "target ratio", "available", "taken", "share"], rows)
        blocks.append(f'<div class="mixbox">{body}</div>')
    lead = (
        "Ratios hold on the records that reach the mix; when a part is short the total "
        "shrinks and <b>limited by</b> names that part. Records not taken are drops "
        "(<i>over quota</i>)."
    )
    return _section("mix", "Mix composition", "".join(blocks), lead)


# --------------------------------------------------------------------------- models


def models(data: RunData) -> str:
    m = data.manifest
    usage = {str(k): _dict(v) for k, v in _dict(m.get("models")).items()}
    provider = {str(k): _dict(v) for k, v in _dict(m.get("provider")).items()}
    names = sorted(set(usage) | set(provider))
    if not names:
        return _section("models", "Models and providers", '<p class="note">No LLM calls.</p>')
    total_req = sum(
        _int(usage.get(n, {}).get("calls")) + _int(usage.get(n, {}).get("cache_hits"))
        for n in names
    )
    req_bars, tok_bars, err_bars, rows = [], [], [], []
    kinds = sorted({k for p in provider.values() for k in _counts(p.get("errors"))})
    kind_color = {k: _palette(ERROR_COLORS, i) for i, k in enumerate(kinds)}
    for n in names:
        u, p = usage.get(n, {}), provider.get(n, {})
        calls, hits = _int(u.get("calls")), _int(u.get("cache_hits"))
        req_bars.append(
            Bar(
                n,
                [Segment("calls", calls, OUT), Segment("cache hits", hits, CACHE)],
                note=f"{_pct(calls + hits, total_req)} of requests",
            )
        )
        pt, ct = _int(p.get("prompt_tokens")), _int(p.get("completion_tokens"))
        tok_bars.append(
            Bar(
                n,
                [Segment("prompt", pt, PROMPT), Segment("completion", ct, COMPLETION)],
                note=fmt_num(pt + ct),
            )
        )
        errors = _counts(p.get("errors"))
        if kinds:
            err_bars.append(
                Bar(
                    n,
                    [Segment(k, v, kind_color[k]) for k, v in sorted(errors.items())],
                    note=f"{_plural(sum(errors.values()), 'error')}, "
                    f"{_plural(_int(p.get('retries')), 'retry', 'retries')}",
                )
            )
        attempts = _int(p.get("calls"))
        latency = _num(p.get("latency_s"))
        waits = _num(p.get("rate_limit_wait_s")) + _num(p.get("backoff_s"))
        rows.append(
            f'<tr data-model="{esc(n)}"><td class="name"><code>{esc(n)}</code>'
            f"<div class='small'>{_cell(p.get('backend'))} backend</div></td>"
            f"<td class='num'>{_cell(calls)}</td><td class='num'>{_cell(hits)}</td>"
            f"<td class='num'>{_cell(p.get('ok'))}</td><td class='num'>{_cell(p.get('failed'))}"
            f"{_breakdown(_counts(p.get('failures')))}</td>"
            f"<td class='num'>{_cell(p.get('retries'))}</td>"
            f"<td class='num'>{_cell(sum(errors.values()))}{_breakdown(errors)}</td>"
            f"<td class='num'>{esc(_seconds(latency))}"
            f"<div class='small'>{esc(_seconds(latency / attempts) if attempts else DASH)}"
            f" per call</div></td>"
            f"<td class='num'>{esc(_seconds(waits))}<div class='small'>rate limit "
            f"{esc(_seconds(p.get('rate_limit_wait_s')))}, backoff "
            f"{esc(_seconds(p.get('backoff_s')))}</div></td>"
            f"<td class='num'>{_tokens_cell(p)}</td>"
            f"<td class='num'>{esc(_cost(p.get('cost')))}</td></tr>"
        )
    body = _chart(
        hbar_chart(
            "Requests per model: provider calls and cache hits",
            req_bars,
            x_label="requests",
            legend=[("calls to the provider", OUT), ("cache hits", CACHE)],
            desc="Share of the run's LLM requests per model string.",
        )
    )
    body += _chart(
        hbar_chart(
            "Tokens per model",
            tok_bars,
            x_label="tokens",
            legend=[("prompt", PROMPT), ("completion", COMPLETION)],
            desc="Prompt and completion tokens per model string.",
        )
    )
    if kinds:
        body += _chart(
            hbar_chart(
                "Provider errors per model, by kind",
                err_bars,
                x_label="failed attempts (retried ones included)",
                legend=[(k, kind_color[k]) for k in kinds],
                desc="Errors the provider layer saw per model, by kind.",
            )
        )
    body += _table(
        [
            "model",
            "calls",
            "cache hits",
            "ok",
            "failed",
            "retries",
            "errors",
            "latency",
            "waits",
            "tokens",
            "cost",
        ],
        rows,
    )
    lead = (
        "<b>calls</b> and <b>cache hits</b> are the requests the nodes made per model "
        "string; <b>ok/failed/retries/errors</b> are what the provider layer saw "
        "(errors count every failed attempt, including those retried successfully)."
    )
    return _section("models", "Models and providers", body, lead)


# --------------------------------------------------------------------------- rejects


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _example(ex: Mapping[str, Any]) -> str:
    """One rejected record: its fields as rows, then error, detail and provenance."""
    rows: list[str] = []
    record = ex.get("record")
    prov: Any = None
    if isinstance(record, Mapping):
        prov = record.get("_provenance")
        for k, v in record.items():
            if k != "_provenance":
                rows.append(f"<tr><th>{esc(k)}</th><td>{esc(_value_text(v))}</td></tr>")
    elif record is not None:
        rows.append(f"<tr><th>record</th><td>{esc(_value_text(record))}</td></tr>")
    for k in ("error", "detail", "round"):
        if ex.get(k) is not None:
            rows.append(
                f'<tr class="meta"><th>{esc(k)}</th><td>{esc(_value_text(ex[k]))}</td></tr>'
            )
    if prov is not None:
        rows.append(f'<tr class="meta"><th>_provenance</th><td>{esc(_value_text(prov))}</td></tr>')
    return f'<table class="example">{"".join(rows)}</table>'


def rejects(data: RunData) -> str:
    if not data.rejects_present:
        return _section(
            "rejects", "Rejects", '<p class="note">No <code>rejects.jsonl</code> in this run.</p>'
        )
    if not data.reject_groups:
        return _section(
            "rejects", "Rejects", '<p class="note">No record was dropped or failed.</p>'
        )
    groups = data.reject_groups[:MAX_REJECT_GROUPS]
    bars = [
        Bar(
            f"{g.node} · {g.reason}",
            [Segment(g.status, g.count, "#d64545" if g.status == "failed" else "#f0a431")],
            note=fmt_num(g.count),
        )
        for g in groups
    ]
    chart = hbar_chart(
        "Top reject reasons",
        bars,
        x_label="rejected records",
        label_max=60,
        legend=[("dropped", "#f0a431"), ("failed", "#d64545")],
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
        "example records as they entered the node (long values cut)."
    )
    if data.bad_reject_lines:
        lead += f" {fmt_num(data.bad_reject_lines)} unreadable lines were skipped."
    return _section("rejects", "Rejects", _chart(chart) + items + tail, lead)


def _group_html(g: RejectGroup, i: int) -> str:
    examples = "".join(_example(ex) for ex in g.examples)
    opened = " open" if i < 3 else ""
    return (
        f'<details class="reject"{opened}><summary><span class="pill {esc(g.status)}">'
        f"{esc(g.status)}</span> <b>{esc(fmt_num(g.count))}</b> × <code>{esc(g.node)}</code>"
        f" · {esc(g.reason)}</summary>{examples}</details>"
    )
