"""Small inline-SVG chart helpers for the run report and the analysis plots.

Input: plain numbers and labels (labels may come from data: every string is
HTML-escaped here). Output: ``<svg role="img">`` strings with a ``<title>`` (the
accessible name), a visible title, axes with ticks and labels, and a ``<title>``
tooltip on every bar. No JavaScript, no external resources, deterministic output
(numbers are rounded to 0.1 px). Raises nothing for well-typed input; empty data
gives a chart that says "no data".

Charts: ``hbar_chart`` (horizontal stacked bars, one row per label), ``vbar_chart``
(vertical stacked bars over categories), ``histogram`` (binned values with a median
marker), ``band_chart`` (a share against an allowed band) and ``bullet_chart`` (values
against thresholds). The pieces other charts build on (``synthdsl.charts.lines``):
``svg_open``, ``coord`` (pixel numbers), ``esc``, ``fmt_num``/``fmt_tick`` (labels),
``nice_step``/``nice_ticks``/``tick_range`` (axis ticks) and the colours ``INK``,
``MUTED``, ``AXIS``, ``GRID``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "AXIS",
    "GRID",
    "INK",
    "MUTED",
    "Bar",
    "Bullet",
    "Segment",
    "band_chart",
    "bin_values",
    "bullet_chart",
    "coord",
    "esc",
    "fmt_num",
    "fmt_tick",
    "hbar_chart",
    "histogram",
    "nice_ceil",
    "nice_step",
    "nice_ticks",
    "svg_open",
    "tick_range",
    "vbar_chart",
]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
AXIS = "#5b6573"
GRID = "#e3e7ee"
INK = "#1f2933"
MUTED = "#6b7785"
CHAR_W = 6.6  # rough width of one 12 px character
BOLD_W = 7.3  # the same, bold


def esc(value: object) -> str:
    """HTML-escape any value's text (quotes included)."""
    return html.escape(str(value), quote=True)


def fmt_num(value: float, digits: int = 2) -> str:
    """A compact number: integers with thousands separators, floats rounded."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") or "0"


def coord(x: float) -> str:
    """A coordinate rounded to 0.1 px, without a trailing .0."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


_r = coord  # the short name used throughout this module


def _clip(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max(1, max_chars - 1)] + "…"


def nice_ticks(vmax: float, target: int = 5, integer: bool = True) -> list[float]:
    """Ticks 0, step, 2·step, ... covering ``vmax`` with a 1/2/5×10^k step."""
    if vmax <= 0:
        return [0.0, 1.0]
    raw = vmax / max(target, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = mag
    for m in (1, 2, 2.5, 5, 10):
        if m == 2.5 and integer and mag < 10:
            continue
        step = m * mag
        if step >= raw:
            break
    if integer:
        step = max(step, 1.0)
    n = math.ceil(vmax / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def svg_open(width: float, height: float, title: str, desc: str) -> list[str]:
    """The opening of a chart: ``<svg>`` (fonts set), accessible title and description,
    and the visible title at the top left; close it with ``"</svg>"``."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {_r(width)} {_r(height)}" width="{_r(width)}" height="{_r(height)}" '
        f'font-family="{esc(FONT)}" font-size="12">',
        f"<title>{esc(title)}</title>",
        f"<desc>{esc(desc)}</desc>" if desc else "",
        f'<text x="0" y="16" font-size="14" font-weight="600" fill="{INK}">{esc(title)}</text>',
    ]


def _legend(items: Sequence[tuple[str, str]], x0: float, y0: float, width: float) -> list[str]:
    """Legend swatches laid out in rows; returns the SVG parts (height via ``_legend_h``)."""
    out: list[str] = []
    x, y = x0, y0
    for label, color in items:
        text = _clip(label, 48)
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
        w = 18 + len(_clip(label, 48)) * CHAR_W + 16
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
            label = _clip(bar.label, label_chars - 2 * bar.indent)
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
        parts.append(f'<text x="{_r(left + 10)}" y="{_r(top + 20)}" fill="{MUTED}">no data</text>')
    parts.append("</svg>")
    return "".join(p for p in parts if p)


def _y_axis_left(ticks: Sequence[float]) -> float:
    """Room left of a vertical axis for its tick labels and the rotated axis title."""
    widest = max(len(fmt_num(t)) for t in ticks)
    return 30 + widest * CHAR_W + 6


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
    left, right, bottom = _y_axis_left(ticks), 12.0, 54.0
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
    parts.append(
        f'<line x1="{_r(left)}" y1="{_r(top)}" x2="{_r(left)}" y2="{_r(base)}" stroke="{AXIS}"/>'
    )
    parts.append(
        f'<line x1="{_r(left)}" y1="{_r(base)}" x2="{_r(left + plot_w)}" y2="{_r(base)}" '
        f'stroke="{AXIS}"/>'
    )
    parts.append(
        f'<text transform="translate(14 {_r(top + plot_h / 2)}) rotate(-90)" '
        f'text-anchor="middle" fill="{AXIS}">{esc(y_label)}</text>'
    )
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
                f'text-anchor="middle" fill="{MUTED}">{esc(_clip(cat, 14))}</text>'
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
        parts.append(f'<text x="{_r(left + 10)}" y="{_r(top + 20)}" fill="{MUTED}">no data</text>')
    parts.append("</svg>")
    return "".join(p for p in parts if p)


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


def nice_step(span: float, target: int) -> float:
    """A 1/2/2.5/5×10^k step that cuts ``span`` into about ``target`` intervals."""
    raw = span / max(target, 1)
    if raw <= 0:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def tick_range(lo: float, hi: float, step: float) -> list[float]:
    """The multiples of ``step`` from the first ≥ ``lo`` up to ``hi`` (1e-9 slack on both
    ends), accumulated by adding ``step``."""
    out: list[float] = []
    t = math.ceil(lo / step - 1e-9) * step
    while t <= hi + 1e-9:
        out.append(t)
        t += step
    return out


def fmt_tick(value: float) -> str:
    """A tick label for any magnitude: ``1e-6`` style outside [0.001, 10,000), else the
    shortest form (``0.25``, ``200``)."""
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        mant, exp = f"{value:.0e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{value:g}"


def nice_ceil(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (×10^k) that is ≥ ``x``."""
    if x <= 0:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(x))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= x - 1e-12:
            return round(m * mag, 12)
    return 10 * mag


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
    left, right, top, bottom = _y_axis_left(yticks), 16.0, 34.0, 50.0
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
    parts.append(
        f'<line x1="{_r(left)}" y1="{_r(top)}" x2="{_r(left)}" y2="{_r(base)}" stroke="{AXIS}"/>'
        f'<line x1="{_r(left)}" y1="{_r(base)}" x2="{_r(left + plot_w)}" y2="{_r(base)}" '
        f'stroke="{AXIS}"/>'
    )
    parts.append(
        f'<text transform="translate(14 {_r(top + plot_h / 2)}) rotate(-90)" '
        f'text-anchor="middle" fill="{AXIS}">{esc(y_label)}</text>'
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
        parts.append(f'<text x="{_r(left + 10)}" y="{_r(top + 20)}" fill="{MUTED}">no data</text>')
    parts.append("</svg>")
    return "".join(p for p in parts if p)


def band_chart(
    title: str,
    value: float,
    band: tuple[float, float],
    status: str,
    *,
    value_label: str = "synthetic share",
    width: float = 1000,
    desc: str = "",
) -> str:
    """A 0–100 % axis with the allowed ``band`` shaded and ``value`` marked."""
    color = {"ok": "#2f8f5b", "warn": "#d98b19", "fail": "#c93c3c"}.get(status, INK)
    left, right = 16.0, 16.0
    plot_w = width - left - right
    height = 112.0
    y0, bh = 44.0, 26.0
    lo, hi = sorted((max(0.0, min(1.0, band[0])), max(0.0, min(1.0, band[1]))))
    v = max(0.0, min(1.0, value))
    parts = svg_open(width, height, title, desc)
    parts.append(
        f'<rect x="{_r(left)}" y="{_r(y0)}" width="{_r(plot_w)}" height="{_r(bh)}" '
        f'fill="#eef1f5" rx="3"/>'
    )
    parts.append(
        f'<rect x="{_r(left + lo * plot_w)}" y="{_r(y0)}" width="{_r((hi - lo) * plot_w)}" '
        f'height="{_r(bh)}" fill="#bfe3cc" rx="3"><title>allowed band '
        f"{esc(_pct(lo))}–{esc(_pct(hi))}</title></rect>"
    )
    if (hi - lo) * plot_w >= 70:
        parts.append(
            f'<text x="{_r(left + (lo + hi) / 2 * plot_w)}" y="{_r(y0 + bh / 2 + 4)}" '
            f'text-anchor="middle" font-size="11" fill="#1d5e3a">band {esc(_pct(lo))}–'
            f"{esc(_pct(hi))}</text>"
        )
    for i in range(11):
        x = left + i / 10 * plot_w
        parts.append(
            f'<line x1="{_r(x)}" y1="{_r(y0 + bh)}" x2="{_r(x)}" y2="{_r(y0 + bh + 4)}" '
            f'stroke="{AXIS}"/><text x="{_r(x)}" y="{_r(y0 + bh + 17)}" text-anchor="middle" '
            f'fill="{MUTED}">{i * 10}%</text>'
        )
    parts.append(
        f'<text x="{_r(left + plot_w / 2)}" y="{_r(height - 4)}" text-anchor="middle" '
        f'fill="{AXIS}">{esc(value_label)} of the mix (band shaded green)</text>'
    )
    x = left + v * plot_w
    parts.append(
        f'<line x1="{_r(x)}" y1="{_r(y0 - 6)}" x2="{_r(x)}" y2="{_r(y0 + bh + 2)}" '
        f'stroke="{color}" stroke-width="3"/><circle cx="{_r(x)}" cy="{_r(y0 - 6)}" r="5" '
        f'fill="{color}"><title>{esc(value_label)} {esc(_pct(value))} ({esc(status)})</title>'
        f"</circle>"
    )
    anchor = "start" if v < 0.8 else "end"
    dx = 9 if anchor == "start" else -9
    parts.append(
        f'<text x="{_r(x + dx)}" y="{_r(y0 - 2)}" text-anchor="{anchor}" font-weight="600" '
        f'fill="{color}">{esc(_pct(value))} · {esc(status)}</text>'
    )
    parts.append("</svg>")
    return "".join(p for p in parts if p)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%".replace(".0%", "%")


@dataclass(frozen=True)
class Bullet:
    """One row of ``bullet_chart``: ``value`` against ``limit``; ``op`` is the
    comparison that is fine (``"≥"``: lower values are flagged; ``"≤"``: higher)."""

    label: str
    value: float
    limit: float
    op: str
    flagged: bool


def bullet_chart(title: str, rows: Sequence[Bullet], *, width: float = 1000, desc: str = "") -> str:
    """One bar per row on its own scale (0 to 1.3 × the larger of value and limit),
    with the flagged zone shaded red and the threshold as a dark tick."""
    label_chars = min(40, max([len(r.label) for r in rows] + [6]))
    left = 16 + label_chars * CHAR_W
    right = 190.0
    plot_w = max(200.0, width - left - right)
    row_h = 30.0
    top = 34.0
    height = top + row_h * len(rows) + 34
    parts = svg_open(width, height, title, desc)
    y = top
    for r in rows:
        hi = nice_ceil(max(abs(r.value), abs(r.limit), 1e-9) * 1.25)
        scale = plot_w / hi
        lx = left + min(r.limit, hi) * scale
        parts.append(
            f'<text x="{_r(left - 8)}" y="{_r(y + 15)}" text-anchor="end" fill="{INK}">'
            f"<title>{esc(r.label)}</title>{esc(_clip(r.label, label_chars))}</text>"
        )
        parts.append(
            f'<rect x="{_r(left)}" y="{_r(y + 4)}" width="{_r(plot_w)}" height="16" '
            f'fill="#eef1f5"/>'
        )
        if r.op == "≥":
            zx, zw = left, lx - left
        else:
            zx, zw = lx, left + plot_w - lx
        parts.append(
            f'<rect x="{_r(zx)}" y="{_r(y + 4)}" width="{_r(max(zw, 0))}" height="16" '
            f'fill="#f8d4d4"><title>flagged zone</title></rect>'
        )
        color = "#c93c3c" if r.flagged else "#2f8f5b"
        parts.append(
            f'<rect x="{_r(left)}" y="{_r(y + 8)}" width="{_r(max(r.value * scale, 0.8))}" '
            f'height="8" fill="{color}"><title>{esc(r.label)} = {esc(fmt_num(r.value, 3))}'
            f"</title></rect>"
        )
        parts.append(
            f'<line x1="{_r(lx)}" y1="{_r(y + 1)}" x2="{_r(lx)}" y2="{_r(y + 23)}" '
            f'stroke="{INK}" stroke-width="2"><title>threshold {esc(r.op)} '
            f"{esc(fmt_num(r.limit, 3))}</title></line>"
        )
        parts.append(
            f'<text x="{_r(left)}" y="{_r(y + 30)}" font-size="10" fill="{MUTED}">0</text>'
            f'<text x="{_r(left + plot_w)}" y="{_r(y + 30)}" font-size="10" text-anchor="end" '
            f'fill="{MUTED}">{esc(fmt_num(hi, 3))}</text>'
        )
        verdict = "flag" if r.flagged else "ok"
        parts.append(
            f'<text x="{_r(left + plot_w + 10)}" y="{_r(y + 16)}" fill="{color}" '
            f'font-weight="600">{esc(fmt_num(r.value, 3))}</text><text '
            f'x="{_r(left + plot_w + 62)}" y="{_r(y + 16)}" fill="{MUTED}">{esc(r.op)} '
            f"{esc(fmt_num(r.limit, 3))} · {verdict}</text>"
        )
        y += row_h
    parts.append(
        f'<text x="{_r(left + plot_w / 2)}" y="{_r(height - 6)}" text-anchor="middle" '
        f'fill="{AXIS}">metric value (each row on its own scale)</text>'
    )
    parts.append("</svg>")
    return "".join(p for p in parts if p)
