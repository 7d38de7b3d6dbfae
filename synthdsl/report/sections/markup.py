"""The HTML pieces every section of the run report is built from.

Input: manifest values of any JSON type (a missing or ill-typed value is read as 0,
``{}`` or "—"), strings and SVG charts. Output: escaped HTML fragments: a section
with its title and lead, a table, a chart figure, metric cards, and the number
formats shared by the sections (seconds, cost, percentages, shares, metric values).
Errors: none on purpose: a manifest missing keys renders as "—" or 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from synthdsl.charts.svg import esc, fmt_num

__all__ = [
    "DASH",
    "DISCARDED",
    "OUT",
    "PART_COLORS",
    "as_counts",
    "as_dict",
    "as_float",
    "as_int",
    "band_text",
    "breakdown",
    "cell",
    "cost",
    "data_table",
    "fact_cards",
    "figure",
    "fmt_metric",
    "palette",
    "pct",
    "plural",
    "seconds",
    "section",
    "share",
    "tokens_cell",
]

DASH = "—"
# colours more than one section uses: records emitted, records discarded past a
# loop target, and the parts of a series (dataset fields, mix parts)
OUT = "#3b6ea8"
DISCARDED = "#a3adb8"
PART_COLORS = ("#3b6ea8", "#7b5ea7", "#2a9d8f", "#e76f51", "#8ab17d", "#c9a227", "#264653")


# --------------------------------------------------------------------------- values


def as_float(value: Any) -> float:
    """``value`` as a finite float; anything else (missing, text, NaN) is 0."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return 0.0


def as_int(value: Any) -> int:
    """``value`` as an int, like ``as_float``."""
    return int(as_float(value))


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else ``{}``."""
    return value if isinstance(value, dict) else {}


def as_counts(value: Any) -> dict[str, int]:
    """The non-zero counts of a ``{name: count}`` manifest entry."""
    return {str(k): as_int(v) for k, v in as_dict(value).items() if as_int(v)}


# --------------------------------------------------------------------------- formats


def cell(value: Any) -> str:
    """A table cell's escaped text: numbers with thousands separators, "—" when empty."""
    if value is None or value == "":
        return DASH
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return esc(fmt_num(value))
    return esc(value)


def seconds(value: Any) -> str:
    """A duration in seconds, as seconds, minutes or hours."""
    s = as_float(value)
    if s < 60:
        return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"
    m, sec = divmod(round(s), 60)
    if m < 60:
        return f"{m} min {sec} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def cost(value: Any) -> str:
    """A cost in US dollars; "—" when unknown."""
    if value is None:
        return DASH
    v = as_float(value)
    if v == 0:
        return "$0"
    return f"${v:.4f}" if v < 1 else f"${v:,.2f}"


def pct(part: float, whole: float) -> str:
    """``part`` as a percentage of ``whole``; "—" when ``whole`` is 0."""
    return f"{100 * part / whole:.1f}%" if whole else DASH


def share(x: float) -> str:
    """A share in [0, 1] as a percentage."""
    return f"{100 * x:.1f}%"


def band_text(band: Any) -> str:
    """A ``[low, high]`` band of shares as "low–high"; "—" when it is not one."""
    if isinstance(band, list) and len(band) == 2:
        return f"{share(as_float(band[0]))}–{share(as_float(band[1]))}"
    return DASH


def plural(n: int, one: str, many: str = "") -> str:
    """``n`` and its noun: "1 error", "2 errors", "2 retries"."""
    return f"{fmt_num(n)} {one if n == 1 else (many or one + 's')}"


def fmt_metric(value: float | None) -> str:
    """A diversity metric: integers whole, small values to 3 decimals."""
    if value is None:
        return DASH
    if value.is_integer():
        return fmt_num(value)
    return f"{value:.3f}" if abs(value) < 100 else fmt_num(round(value, 1))


def palette(colors: Sequence[str], i: int) -> str:
    """The ``i``-th colour of ``colors``, cycling."""
    return colors[i % len(colors)]


# --------------------------------------------------------------------------- markup


def section(sid: str, title: str, body: str, lead: str = "") -> str:
    """A page section: ``id``, heading, optional lead paragraph (HTML) and body."""
    intro = f'<p class="lead">{lead}</p>' if lead else ""
    return f'<section id="{sid}"><h2>{esc(title)}</h2>{intro}{body}</section>'


def data_table(head: Sequence[str], rows: Iterable[str], cls: str = "") -> str:
    """A scrollable table with the escaped ``head`` and the ``<tr>`` rows as given."""
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    cl = f' class="{cls}"' if cls else ""
    return (
        f'<div class="tablewrap"><table{cl}><thead><tr>{th}</tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></div>"
    )


def figure(svg: str, cls: str = "") -> str:
    """An SVG chart in its figure box."""
    return f'<figure class="chartbox{(" " + cls) if cls else ""}">{svg}</figure>'


def breakdown(counts: Mapping[str, int]) -> str:
    """The counts under a table number, largest first: ``reason <b>n</b>`` per line."""
    if not counts:
        return ""
    items = "".join(
        f"<li>{esc(k)} <b>{esc(fmt_num(v))}</b></li>"
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f'<ul class="why">{items}</ul>'


def fact_cards(facts: Iterable[tuple[str, str]]) -> str:
    """Small cards of (escaped label, value HTML) pairs."""
    return "".join(
        f'<div class="card mini"><div class="k">{esc(k)}</div><div class="v">{v}</div></div>'
        for k, v in facts
    )


def tokens_cell(st: Mapping[str, Any]) -> str:
    """Prompt + completion tokens of a node or provider entry; "—" when not counted."""
    if "prompt_tokens" not in st:
        return DASH
    p, c = as_int(st.get("prompt_tokens")), as_int(st.get("completion_tokens"))
    return f'{esc(fmt_num(p + c))}<div class="small">{esc(fmt_num(p))} + {esc(fmt_num(c))}</div>'
