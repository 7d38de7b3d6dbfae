"""A histogram: values binned on a continuous x axis, with a dashed median line.

Input: the values (numbers) and labels (HTML-escaped here). Output: ``histogram``, one
``<svg role="img">`` string drawn with the primitives of ``synthdsl.charts.svg``, and
``bin_values``, the equal-width bins behind it as (edges, counts). Deterministic; raises
nothing for well-typed input; no values give a chart that says "no data".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from synthdsl.charts.svg import (
    AXIS,
    GRID,
    INK,
    MUTED,
    esc,
    fmt_num,
    nice_step,
    nice_ticks,
    no_data,
    svg_close,
    svg_open,
    tick_range,
    y_axes,
    y_axis_left,
)
from synthdsl.charts.svg import coord as _r  # the short name the drawing code uses

__all__ = ["bin_values", "histogram"]


def bin_values(
    values: Sequence[float], max_bins: int = 30, integer: bool = True, min_bins: int = 7
) -> tuple[list[float], list[int]]:
    """Equal-width bins (a 1/2/5×10^k width) covering ``values``: (edges, counts).

    With fewer than ``min_bins`` bins, empty bins pad both sides (never below 0 for
    non-negative data) so a single value does not fill the whole axis.
    """
    if not values:
        return [0.0, 1.0], [0]
    edges, counts = _bins(values, max_bins, integer)
    width = edges[1] - edges[0]
    missing = min_bins - len(counts)
    if missing > 0:
        left = missing // 2
        if min(values) >= 0:
            left = min(left, round(edges[0] / width))
        right = missing - left
        start = edges[0] - left * width
        counts = [0] * left + counts + [0] * right
        edges = [round(start + i * width, 10) for i in range(len(counts) + 1)]
    return edges, counts


def _bins(values: Sequence[float], max_bins: int, integer: bool) -> tuple[list[float], list[int]]:
    lo, hi = min(values), max(values)
    if integer:
        lo, hi = math.floor(lo), math.floor(hi) + 1
    span = hi - lo
    if span <= 0:
        span = 1.0 if integer else max(abs(lo) * 0.2, 0.1)
    raw = span / max_bins
    mag = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    width = mag
    for m in (1, 2, 5, 10):
        width = m * mag
        if width >= raw:
            break
    if integer:
        width = max(1.0, round(width))
    start = math.floor(lo / width) * width
    n = max(1, math.ceil((hi - start) / width - 1e-9))
    if not integer and start + n * width <= hi:
        n += 1
    counts = [0] * n
    for v in values:
        k = min(n - 1, max(0, int((v - start) // width)))
        counts[k] += 1
    edges = [round(start + i * width, 10) for i in range(n + 1)]
    return edges, counts


def _median(values: Sequence[float]) -> float:
    s = sorted(values)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def histogram(
    title: str,
    values: Sequence[float],
    *,
    x_label: str,
    y_label: str = "records",
    color: str = "#3b6ea8",
    integer: bool = True,
    width: float = 480,
    height: float = 250,
    desc: str = "",
) -> str:
    """A histogram of ``values`` on a continuous x axis, with a dashed median line.

    Integer data with one-wide bins labels each bar's value under its centre.
    """
    edges, counts = bin_values(values, max_bins=24, integer=integer)
    bw = edges[1] - edges[0]
    unit = integer and bw == 1
    yticks = nice_ticks(max([*counts, 0]) * 1.12, integer=True)
    left, right, top, bottom = y_axis_left(yticks), 16.0, 34.0, 50.0
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = edges[0], edges[-1]
    xs = plot_w / (hi - lo) if hi > lo else 0.0
    ys = plot_h / yticks[-1] if yticks[-1] else 0.0
    base = top + plot_h

    def x_of(v: float) -> float:
        return left + (v - lo) * xs

    parts = svg_open(width, height, title, desc)
    for t in yticks:
        y = base - t * ys
        parts.append(
            f'<line x1="{_r(left)}" y1="{_r(y)}" x2="{_r(left + plot_w)}" y2="{_r(y)}" '
            f'stroke="{GRID}"/><text x="{_r(left - 6)}" y="{_r(y + 4)}" text-anchor="end" '
            f'fill="{MUTED}">{esc(fmt_num(t))}</text>'
        )
    for i, c in enumerate(counts):
        if c <= 0:
            continue
        x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
        h = c * ys
        rng = fmt_num(edges[i]) if unit else f"{fmt_num(edges[i])}–{fmt_num(edges[i + 1])}"
        parts.append(
            f'<rect x="{_r(x0 + 0.5)}" y="{_r(base - h)}" width="{_r(max(x1 - x0 - 1, 0.8))}" '
            f'height="{_r(h)}" fill="{color}"><title>{esc(rng)}: {esc(fmt_num(c))} '
            f"{esc(y_label)}</title></rect>"
        )
        if x1 - x0 >= len(fmt_num(c)) * 6 + 4:
            parts.append(
                f'<text x="{_r((x0 + x1) / 2)}" y="{_r(base - h - 4)}" text-anchor="middle" '
                f'font-size="10" fill="{MUTED}">{esc(fmt_num(c))}</text>'
            )
    # x ticks
    span = hi - lo
    step = nice_step(span, 6)
    if unit:
        step = max(1.0, round(step))
    for t in tick_range(lo, hi, step):
        if unit and t >= hi:
            break
        x = x_of(t + 0.5) if unit else x_of(t)
        parts.append(
            f'<line x1="{_r(x)}" y1="{_r(base)}" x2="{_r(x)}" y2="{_r(base + 4)}" '
            f'stroke="{AXIS}"/><text x="{_r(x)}" y="{_r(base + 16)}" text-anchor="middle" '
            f'fill="{MUTED}">{esc(fmt_num(round(t, 10)))}</text>'
        )
    parts.append(y_axes(left, top, plot_w, plot_h, y_label))
    parts.append(
        f'<text x="{_r(left + plot_w / 2)}" y="{_r(height - 8)}" text-anchor="middle" '
        f'fill="{AXIS}">{esc(x_label)}</text>'
    )
    if values:
        med = _median(values)
        x = x_of(med + 0.5) if unit else x_of(med)
        anchor = "start" if x < left + plot_w * 0.75 else "end"
        dx = 4 if anchor == "start" else -4
        parts.append(
            f'<line x1="{_r(x)}" y1="{_r(top - 4)}" x2="{_r(x)}" y2="{_r(base)}" stroke="{INK}" '
            f'stroke-dasharray="4 3"/><text x="{_r(x + dx)}" y="{_r(top - 6)}" '
            f'text-anchor="{anchor}" font-size="11" fill="{INK}">median '
            f"{esc(fmt_num(med))}</text>"
        )
    else:
        parts.append(no_data(left, top))
    return svg_close(parts)
