"""The report's header: recipe name, status, run facts and the totals as cards.

Input: a ``RunData`` (its manifest: ``recipe``, ``status``, ``error``, ``totals``,
``output``, ``synthdsl_version``, ``started_at``, ``wall_time_s``, ``plugins``).
Output: the ``<header id="overview">`` HTML (the plugins the recipe used, by package,
only when there are some). Errors: none; missing keys render as "—" or 0.
"""

from __future__ import annotations

from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections import markup as mk

__all__ = ["header"]


def header(data: RunData) -> str:
    """Name, status badge, run facts and total cards of the run."""
    m = data.manifest
    recipe = mk.as_dict(m.get("recipe"))
    totals = mk.as_dict(m.get("totals"))
    output = mk.as_dict(m.get("output"))
    status = str(m.get("status", "unknown"))
    name = recipe.get("name") or data.run_dir.name
    calls = mk.as_int(totals.get("calls"))
    hits = mk.as_int(totals.get("cache_hits"))
    prompt = mk.as_int(totals.get("prompt_tokens"))
    completion = mk.as_int(totals.get("completion_tokens"))
    cards = [
        (
            "records written",
            fmt_num(mk.as_int(output.get("records"))),
            str(output.get("format", "")),
        ),
        ("LLM calls", fmt_num(calls), "made to providers"),
        ("cache hits", fmt_num(hits), f"{mk.pct(hits, calls + hits)} of requests"),
        ("retries", fmt_num(mk.as_int(totals.get("retries"))), "transient errors retried"),
        (
            "tokens",
            fmt_num(prompt + completion),
            f"{fmt_num(prompt)} prompt + {fmt_num(completion)} completion",
        ),
        ("cost", mk.cost(totals.get("cost_usd")), "estimated, USD"),
        ("dropped", fmt_num(mk.as_int(totals.get("dropped"))), "removed on purpose"),
        ("failed", fmt_num(mk.as_int(totals.get("failed"))), "records that errored"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div>'
        f'<div class="s">{esc(s)}</div></div>'
        for k, v, s in cards
    )
    error = f'<p class="error"><b>error:</b> {esc(m.get("error"))}</p>' if m.get("error") else ""
    meta = [
        ("recipe hash", f"<code>{esc(recipe.get('hash', mk.DASH))}</code>"),
        ("synthdsl", esc(m.get("synthdsl_version", mk.DASH))),
        ("started", esc(m.get("started_at", mk.DASH))),
        ("wall time", esc(mk.seconds(m.get("wall_time_s")))),
        ("recipe file", f"<code>{esc(recipe.get('path', mk.DASH))}</code>"),
        ("dataset", f"<code>{esc(output.get('path', mk.DASH))}</code>"),
    ]
    used = _plugins(m.get("plugins"))
    if used:
        meta.append(("plugins", esc(used)))
    meta_html = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in meta)
    return (
        f'<header id="overview"><div class="title"><h1>{esc(name)}</h1>'
        f'<span class="badge st-{esc(status)}">{esc(status)}</span></div>'
        f'<p class="sub">synthdsl run report</p>{error}<dl class="meta">{meta_html}</dl>'
        f'<div class="cards">{card_html}</div></header>'
    )


def _plugins(value: object) -> str:
    """The plugins the recipe used, by package: ``pkg 1.0: a, b``; "" for none."""
    by_package: dict[str, list[str]] = {}
    for item in value if isinstance(value, list) else []:
        p = mk.as_dict(item)
        by_package.setdefault(f"{p.get('package', '?')} {p.get('version', '?')}", []).append(
            str(p.get("name", "?"))
        )
    return "; ".join(
        f"{pkg}: {', '.join(sorted(names))}" for pkg, names in sorted(by_package.items())
    )
