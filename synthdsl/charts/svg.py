"""The primitives every inline-SVG chart is drawn with: text, numbers, ticks, the frame.

Input: plain numbers and strings (strings may come from data: ``esc`` HTML-escapes them).
Output: the strings and numbers a chart is made of: ``esc`` (escaped text), ``coord``
(a pixel number rounded to 0.1 px), ``fmt_num``/``fmt_tick`` (labels), ``clip`` (a
label cut to a width), ``nice_ticks``/``nice_step``/``tick_range``/``nice_ceil`` (axis
ticks and ranges), ``svg_open``/``svg_close`` (the ``<svg role="img">`` element with its
accessible ``<title>``, ``<desc>`` and visible title), ``no_data`` (the placeholder of an
empty chart), ``y_axis_left`` (room for a vertical axis), ``y_axes`` (the axis lines
of a plot area and its y title) and the shared colours ``INK``, ``MUTED``, ``AXIS``,
``GRID``. Deterministic; raises nothing for well-typed input.

The charts built on them: ``synthdsl.charts.bars`` (``hbar_chart``, ``vbar_chart``),
``.histogram``, ``.band``, ``.bullet`` and ``.lines`` (``line_panels``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = [
    "AXIS",
    "BOLD_W",
    "CHAR_W",
    "FONT",
    "GRID",
    "INK",
    "MUTED",
    "clip",
    "coord",
    "esc",
    "fmt_num",
    "fmt_tick",
    "nice_ceil",
    "nice_step",
    "nice_ticks",
    "no_data",
    "svg_close",
    "svg_open",
    "tick_range",
    "y_axes",
    "y_axis_left",
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


def fmt_tick(value: float) -> str:
    """A tick label for any magnitude: ``1e-6`` style outside [0.001, 10,000), else the
    shortest form (``0.25``, ``200``)."""
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        mant, exp = f"{value:.0e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{value:g}"


def coord(x: float) -> str:
    """A coordinate rounded to 0.1 px, without a trailing .0."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def clip(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` characters, the last one an ellipsis when cut."""
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


def nice_ceil(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (×10^k) that is ≥ ``x``."""
    if x <= 0:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(x))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= x - 1e-12:
            return round(m * mag, 12)
    return 10 * mag


def y_axis_left(ticks: Sequence[float]) -> float:
    """Room left of a vertical axis for its tick labels and the rotated axis title."""
    widest = max(len(fmt_num(t)) for t in ticks)
    return 30 + widest * CHAR_W + 6


def svg_open(width: float, height: float, title: str, desc: str) -> list[str]:
    """The opening of a chart: ``<svg>`` (fonts set), accessible title and description,
    and the visible title at the top left; close it with ``svg_close`` (or ``"</svg>"``)."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {coord(width)} {coord(height)}" width="{coord(width)}" '
        f'height="{coord(height)}" font-family="{esc(FONT)}" font-size="12">',
        f"<title>{esc(title)}</title>",
        f"<desc>{esc(desc)}</desc>" if desc else "",
        f'<text x="0" y="16" font-size="14" font-weight="600" fill="{INK}">{esc(title)}</text>',
    ]


def y_axes(left: float, top: float, plot_w: float, plot_h: float, y_label: str) -> str:
    """The left (y) and bottom (x) axis lines of a plot area and the rotated y title."""
    base = top + plot_h
    return (
        f'<line x1="{coord(left)}" y1="{coord(top)}" x2="{coord(left)}" y2="{coord(base)}" '
        f'stroke="{AXIS}"/><line x1="{coord(left)}" y1="{coord(base)}" '
        f'x2="{coord(left + plot_w)}" y2="{coord(base)}" stroke="{AXIS}"/>'
        f'<text transform="translate(14 {coord(top + plot_h / 2)}) rotate(-90)" '
        f'text-anchor="middle" fill="{AXIS}">{esc(y_label)}</text>'
    )


def svg_close(parts: list[str]) -> str:
    """The chart as one string: ``parts`` (empty ones skipped) and the closing tag."""
    parts.append("</svg>")
    return "".join(p for p in parts if p)


def no_data(left: float, top: float) -> str:
    """The "no data" note of an empty chart whose plot area starts at (left, top)."""
    return f'<text x="{coord(left + 10)}" y="{coord(top + 20)}" fill="{MUTED}">no data</text>'
