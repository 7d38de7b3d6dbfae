"""Stacked bar charts: horizontal rows (``hbar_chart``) and vertical columns (``vbar_chart``).

Input: labels and values (labels may come from data: every string is HTML-escaped):
``Bar`` rows of ``Segment``s for ``hbar_chart``; categories and (name, colour, values)
series for ``vbar_chart``; optional legends as (label, colour) pairs. Output: one
``<svg role="img">`` string with an accessible ``<title>``, a visible title, a legend
when asked, axes with ticks and labels and a ``<title>`` tooltip on every bar, drawn
with the primitives of ``synthdsl.charts.svg``. Deterministic; raises nothing for
well-typed input; no bars or categories give a chart that says "no data".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from synthdsl.charts.svg import (
    AXIS,
    BOLD_W,
    CHAR_W,
    GRID,
    INK,
    MUTED,
    clip,
    esc,
    fmt_num,
    nice_ticks,
    no_data,
    svg_close,
    svg_open,
    y_axes,
    y_axis_left,
)
from synthdsl.charts.svg import coord as _r  # the short name the drawing code uses

__all__ = ["Bar", "Segment", "hbar_chart", "vbar_chart"]


def _legend(items: Sequence[tuple[str, str]], x0: float, y0: float, width: float) -> list[str]:
    """Legend swatches laid out in rows; returns the SVG parts (height via ``_legend_h``)."""
    out: list[str] = []
    x, y = x0, y0
    for label, color in items:
        text = clip(label, 48)
        w = 18 + len(text) * CHAR_W + 16
        if x > x0 and x + w > x0 + width:
            x, y = x0, y + 18
        out.append(
            f'<g><title>{esc(label)}</title><rect x="{_r(x)}" y="{_r(y - 9)}" width="11" '
            f'height="11" rx="2" fill="{color}"/><text x="{_r(x + 16)}" y="{_r(y)}" '
            f'fill="{INK}">{esc(text)}</text></g>'
        )
        x += w
    return out


def _legend_h(items: Sequence[tuple[str, str]], width: float) -> float:
    if not items:
        return 0.0
    x, rows = 0.0, 1
    for label, _ in items:
        w = 18 + len(clip(label, 48)) * CHAR_W + 16
        if x > 0 and x + w > width:
            x, rows = 0.0, rows + 1
        x += w
    return rows * 18.0


@dataclass(frozen=True)
class Segment:
    """One piece of a stacked bar: ``label`` shows in the tooltip and legend."""

    label: str
    value: float
    color: str


@dataclass(frozen=True)
class Bar:
    """One row of ``hbar_chart``: stacked ``segments``; ``note`` is written after it."""

    label: str
    segments: Sequence[Segment]
    note: str = ""
    indent: int = 0
    thin: bool = False
    group: str = ""
    extra: Sequence[Segment] = field(default_factory=tuple)


def hbar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    x_label: str,
    legend: Sequence[tuple[str, str]] = (),
    width: float = 1000,
    desc: str = "",
    integer: bool = True,
    value_fmt: str = "",
    label_max: int = 34,
) -> str:
    """Horizontal stacked bars, one row per ``Bar``, with a value axis at the bottom.

    A bar with ``thin=True`` is drawn half height (a secondary measure under the bar
    above it); ``indent`` shifts its label (loop bodies); consecutive bars sharing a
    non-empty ``group`` get a shaded band behind them.
    """
    label_chars = min(label_max, max([len(b.label) + 2 * b.indent for b in bars] + [6]))
    left = 20 + label_chars * BOLD_W
    note_w = max([len(b.note) for b in bars] + [0]) * CHAR_W + 12
    plot_w = max(200.0, width - left - note_w - 8)
    legend_h = _legend_h(legend, width)
    top = 30 + legend_h + (6 if legend else 0)
    row_h, thin_h = 24.0, 14.0
    heights = [thin_h if b.thin else row_h for b in bars]
    plot_h = sum(heights) + 8
    height = top + plot_h + 42
    totals = [sum(s.value for s in b.segments) + sum(s.value for s in b.extra) for b in bars]
    vmax = max([*totals, 0.0])
    ticks = nice_ticks(vmax, integer=integer)
    scale = plot_w / ticks[-1] if ticks[-1] else 0.0
    parts = svg_open(width, height, title, desc)
    parts += _legend(legend, 0, 30 + 10, width)
    # group bands
    y = top + 4
    i = 0
    while i < len(bars):
        g = bars[i].group
        if not g:
            y += heights[i]
            i += 1
            continue
        j, y0 = i, y
        while j < len(bars) and bars[j].group == g:
            y += heights[j]
            j += 1
        parts.append(
            f'<rect x="0" y="{_r(y0 - 2)}" width="{_r(left + plot_w)}" height="{_r(y - y0 + 2)}" '
            f'fill="#f3f0fa" rx="4"><title>{esc(g)}</title></rect>'
        )
        i = j
    # grid and ticks
    for t in ticks:
        x = left + t * scale
        parts.append(
            f'<line x1="{_r(x)}" y1="{_r(top)}" x2="{_r(x)}" y2="{_r(top + plot_h)}" '
            f'stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{_r(x)}" y="{_r(top + plot_h + 15)}" text-anchor="middle" '
            f'fill="{MUTED}">{esc(fmt_num(t))}{esc(value_fmt)}</text>'
        )
    parts.append(
        f'<line x1="{_r(left)}" y1="{_r(top)}" x2="{_r(left)}" y2="{_r(top + plot_h)}" '
        f'stroke="{AXIS}"/>'
    )
    parts.append(
        f'<line x1="{_r(left)}" y1="{_r(top + plot_h)}" x2="{_r(left + plot_w)}" '
        f'y2="{_r(top + plot_h)}" stroke="{AXIS}"/>'
    )
    parts.append(
        f'<text x="{_r(left + plot_w / 2)}" y="{_r(height - 6)}" text-anchor="middle" '
        f'fill="{AXIS}">{esc(x_label)}</text>'
    )
    y = top + 4
    for bar, h, total in zip(bars, heights, totals, strict=True):
        bh = h - 6 if not bar.thin else h - 4
        cy = y + h / 2
        if not bar.thin or bar.label:
            label = clip(bar.label, label_chars - 2 * bar.indent)
            weight = ' font-weight="600"' if bar.indent == 0 and not bar.thin else ""
            fill = INK if not bar.thin else MUTED
            parts.append(
                f'<text x="{_r(left - 8)}" y="{_r(cy + 4)}" text-anchor="end" fill="{fill}"'
                f"{weight}><title>{esc(bar.label)}</title>{esc(label)}</text>"
            )
        x = left
        for seg in [*bar.segments, *bar.extra]:
            if seg.value <= 0:
                continue
            w = seg.value * scale
            parts.append(
                f'<rect x="{_r(x)}" y="{_r(y + (h - bh) / 2)}" width="{_r(max(w, 0.8))}" '
                f'height="{_r(bh)}" fill="{seg.color}"><title>{esc(bar.label)}: '
                f"{esc(seg.label)} {esc(fmt_num(seg.value))}</title></rect>"
            )
            x += w
        if bar.note:
            size = ' font-size="11"' if bar.thin else ""
            parts.append(
                f'<text x="{_r(left + total * scale + 6)}" y="{_r(cy + 4)}" fill="{MUTED}"'
                f"{size}>{esc(bar.note)}</text>"
            )
        y += h
    if not bars:
        parts.append(no_data(left, top))
    return svg_close(parts)


def vbar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    x_label: str,
    y_label: str,
    width: float = 1000,
    height: float = 300,
    desc: str = "",
    gap: float = 0.25,
    markers: Sequence[tuple[float, str]] = (),
    integer: bool = True,
    always_legend: bool = False,
    max_bar: float = 90,
) -> str:
    """Vertical bars over ``categories``; ``series`` are (name, colour, values) stacked.

    ``markers`` are (category position, label) dashed vertical lines; a position of
    1.5 falls in the middle of the second category.
    """
    show = len(series) > 1 or always_legend
    legend = [(name, color) for name, color, _ in series] if show else []
    legend_h = _legend_h(legend, width)
    top = 30 + legend_h + (8 if legend else 6)
    n = len(categories)
    totals = [sum(s[2][i] for s in series) for i in range(n)]
    ticks = nice_ticks(max([*totals, 0.0]) * 1.08, integer=integer)
    left, right, bottom = y_axis_left(ticks), 12.0, 54.0
    plot_w = width - left - right
    plot_h = height - top - bottom
    scale = plot_h / ticks[-1] if ticks[-1] else 0.0
    parts = svg_open(width, height, title, desc)
    parts += _legend(legend, 0, 30 + 10, width)
    base = top + plot_h
    for t in ticks:
        y = base - t * scale
        parts.append(
            f'<line x1="{_r(left)}" y1="{_r(y)}" x2="{_r(left + plot_w)}" y2="{_r(y)}" '
            f'stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{_r(left - 6)}" y="{_r(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{esc(fmt_num(t))}</text>"
        )
    parts.append(y_axes(left, top, plot_w, plot_h, y_label))
    parts.append(
        f'<text x="{_r(left + plot_w / 2)}" y="{_r(height - 6)}" text-anchor="middle" '
        f'fill="{AXIS}">{esc(x_label)}</text>'
    )
    slot = plot_w / n if n else plot_w
    bw = min(slot * (1 - gap), max_bar)
    label_every = max(1, math.ceil(n / max(1, plot_w / 44)))
    for i, cat in enumerate(categories):
        x = left + i * slot + (slot - bw) / 2
        y = base
        for name, color, values in series:
            v = values[i]
            if v <= 0:
                continue
            h = v * scale
            parts.append(
                f'<rect x="{_r(x)}" y="{_r(y - h)}" width="{_r(max(bw, 0.8))}" '
                f'height="{_r(h)}" fill="{color}"><title>{esc(cat)}: {esc(name)} '
                f"{esc(fmt_num(v))}</title></rect>"
            )
            y -= h
        if totals[i] > 0 and bw >= len(fmt_num(totals[i])) * 6 + 4:
            parts.append(
                f'<text x="{_r(x + bw / 2)}" y="{_r(y - 4)}" text-anchor="middle" '
                f'font-size="11" fill="{MUTED}">{esc(fmt_num(totals[i]))}</text>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{_r(left + i * slot + slot / 2)}" y="{_r(base + 15)}" '
                f'text-anchor="middle" fill="{MUTED}">{esc(clip(cat, 14))}</text>'
            )
    for pos, label in markers:
        x = left + pos * slot
        parts.append(
            f'<line x1="{_r(x)}" y1="{_r(top)}" x2="{_r(x)}" y2="{_r(base)}" stroke="{INK}" '
            f'stroke-dasharray="4 3"/>'
        )
        anchor = "start" if x < left + plot_w * 0.8 else "end"
        dx = 4 if anchor == "start" else -4
        parts.append(
            f'<text x="{_r(x + dx)}" y="{_r(top + 10)}" text-anchor="{anchor}" font-size="11" '
            f'fill="{INK}">{esc(label)}</text>'
        )
    if not categories:
        parts.append(no_data(left, top))
    return svg_close(parts)
