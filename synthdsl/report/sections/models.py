"""Models and providers: requests, tokens, errors, latency and cost per model string.

Input: a ``RunData`` (the manifest's ``models``, the requests the nodes made, and
``provider``, what the provider layer saw; ``batches``, those sent through batch APIs).
Output: ``models(data)`` → the ``<section id="models">`` HTML: request, token and error
charts and a table, one row per model, then a table of the batches. Errors: none; a run
without LLM calls gives a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthdsl.charts.bars import Bar, Segment, hbar_chart
from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk

__all__ = ["models"]

TITLE = "Models and providers"
CACHE = "#9cc3e6"
PROMPT = "#5a8dc8"
COMPLETION = "#f0a431"
ERROR_COLORS = ("#d64545", "#e07b39", "#9b2c2c", "#f0a431", "#7b5ea7", "#c8692b", "#ec8080")
HEAD = [
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
]
LEAD = (
    "<b>calls</b> and <b>cache hits</b> are the requests the nodes made per model "
    "string; <b>ok/failed/retries/errors</b> are what the provider layer saw "
    "(errors count every failed attempt, including those retried successfully)."
)


def _row(n: str, u: Mapping[str, Any], p: Mapping[str, Any]) -> str:
    """The table row of model ``n``: its usage ``u`` and provider entry ``p``."""
    calls, hits = mk.as_int(u.get("calls")), mk.as_int(u.get("cache_hits"))
    errors = mk.as_counts(p.get("errors"))
    attempts = mk.as_int(p.get("calls"))
    latency = mk.as_float(p.get("latency_s"))
    waits = mk.as_float(p.get("rate_limit_wait_s")) + mk.as_float(p.get("backoff_s"))
    return (
        f'<tr data-model="{esc(n)}"><td class="name"><code>{esc(n)}</code>'
        f"<div class='small'>{mk.cell(p.get('backend'))} backend</div></td>"
        f"<td class='num'>{mk.cell(calls)}</td><td class='num'>{mk.cell(hits)}</td>"
        f"<td class='num'>{mk.cell(p.get('ok'))}</td><td class='num'>{mk.cell(p.get('failed'))}"
        f"{mk.breakdown(mk.as_counts(p.get('failures')))}</td>"
        f"<td class='num'>{mk.cell(p.get('retries'))}</td>"
        f"<td class='num'>{mk.cell(sum(errors.values()))}{mk.breakdown(errors)}</td>"
        f"<td class='num'>{esc(mk.seconds(latency))}"
        f"<div class='small'>{esc(mk.seconds(latency / attempts) if attempts else mk.DASH)}"
        f" per call</div></td>"
        f"<td class='num'>{esc(mk.seconds(waits))}<div class='small'>rate limit "
        f"{esc(mk.seconds(p.get('rate_limit_wait_s')))}, backoff "
        f"{esc(mk.seconds(p.get('backoff_s')))}</div></td>"
        f"<td class='num'>{mk.tokens_cell(p)}</td>"
        f"<td class='num'>{esc(mk.cost(p.get('cost')))}</td></tr>"
    )


def models(data: RunData) -> str:
    """Request, token and error charts and a table row per model string."""
    m = data.manifest
    usage = {str(k): mk.as_dict(v) for k, v in mk.as_dict(m.get("models")).items()}
    provider = {str(k): mk.as_dict(v) for k, v in mk.as_dict(m.get("provider")).items()}
    names = sorted(set(usage) | set(provider))
    if not names:
        return mk.section("models", TITLE, '<p class="note">No LLM calls.</p>')
    total_req = sum(
        mk.as_int(usage.get(n, {}).get("calls")) + mk.as_int(usage.get(n, {}).get("cache_hits"))
        for n in names
    )
    req_bars, tok_bars, err_bars, rows = [], [], [], []
    kinds = sorted({k for p in provider.values() for k in mk.as_counts(p.get("errors"))})
    kind_color = {k: mk.palette(ERROR_COLORS, i) for i, k in enumerate(kinds)}
    for n in names:
        u, p = usage.get(n, {}), provider.get(n, {})
        calls, hits = mk.as_int(u.get("calls")), mk.as_int(u.get("cache_hits"))
        req_bars.append(
            Bar(
                n,
                [Segment("calls", calls, mk.OUT), Segment("cache hits", hits, CACHE)],
                note=f"{mk.pct(calls + hits, total_req)} of requests",
            )
        )
        pt, ct = mk.as_int(p.get("prompt_tokens")), mk.as_int(p.get("completion_tokens"))
        tok_bars.append(
            Bar(
                n,
                [Segment("prompt", pt, PROMPT), Segment("completion", ct, COMPLETION)],
                note=fmt_num(pt + ct),
            )
        )
        if kinds:
            errors = mk.as_counts(p.get("errors"))
            err_bars.append(
                Bar(
                    n,
                    [Segment(k, v, kind_color[k]) for k, v in sorted(errors.items())],
                    note=f"{mk.plural(sum(errors.values()), 'error')}, "
                    f"{mk.plural(mk.as_int(p.get('retries')), 'retry', 'retries')}",
                )
            )
        rows.append(_row(n, u, p))
    charts = [
        (
            "Requests per model: provider calls and cache hits",
            req_bars,
            "requests",
            [("calls to the provider", mk.OUT), ("cache hits", CACHE)],
            "Share of the run's LLM requests per model string.",
        ),
        (
            "Tokens per model",
            tok_bars,
            "tokens",
            [("prompt", PROMPT), ("completion", COMPLETION)],
            "Prompt and completion tokens per model string.",
        ),
    ]
    if kinds:
        charts.append(
            (
                "Provider errors per model, by kind",
                err_bars,
                "failed attempts (retried ones included)",
                [(k, kind_color[k]) for k in kinds],
                "Errors the provider layer saw per model, by kind.",
            )
        )
    body = "".join(
        mk.figure(hbar_chart(title, bars, x_label=x_label, legend=legend, desc=desc))
        for title, bars, x_label, legend, desc in charts
    )
    table = mk.data_table(HEAD, rows)
    return mk.section("models", TITLE, body + table + _batches(m.get("batches")), LEAD)


BATCH_HEAD = ["batch", "model", "state", "lines", "completed", "failed", "wall time"]


def _batches(listed: Any) -> str:
    """The batches the run sent through batch APIs (none: nothing)."""
    rows = []
    for b in listed if isinstance(listed, list) else []:
        b = mk.as_dict(b)
        state = str(b.get("state", "")) + ("" if b.get("collected") else " (not collected)")
        rows.append(
            f'<tr data-batch="{esc(str(b.get("id")))}"><td class="name"><code>'
            f"{mk.cell(b.get('id'))}</code></td><td><code>{mk.cell(b.get('model'))}</code></td>"
            f"<td>{esc(state)}</td><td class='num'>{mk.cell(b.get('lines'))}</td>"
            f"<td class='num'>{mk.cell(b.get('completed'))}</td>"
            f"<td class='num'>{mk.cell(b.get('failed'))}</td>"
            f"<td class='num'>{esc(mk.seconds(b.get('wall_s')))}</td></tr>"
        )
    if not rows:
        return ""
    lead = (
        f"<h3>Batches</h3><p class='small'>{mk.plural(len(rows), 'batch', 'batches')} sent "
        "through a provider's batch API (or collected from an earlier run); wall time is "
        "from submission to the end.</p>"
    )
    return lead + mk.data_table(BATCH_HEAD, rows)
