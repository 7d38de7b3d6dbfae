"""Line charts: series over x = 0, 1, 2, … on a linear or log y axis, in stacked panels.

Input: ``LinePanel``s, each with its ``Line``s (values at x = 0..n, a ``Stroke``: colour,
dash, width; a tooltip label), the y range, axis labels and the legend as (label,
``Stroke``) pairs. Output: one standalone ``<svg role="img">`` string (``line_panels``)
whose panels sit one under the other, built on the primitives of ``synthdsl.charts.svg``
(``svg_open``, ``coord``, ``esc``, ``fmt_tick``, ``nice_step``, ``tick_range`` and its
colours). Every polyline is a direct child of the ``<svg>`` element, with a ``<title>``
tooltip. Deterministic output; raises nothing for well-typed input (values outside the y
range are drawn at its edge, a log axis draws values ≤ its minimum at the minimum).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from synthdsl.charts.svg import (
    AXIS,
    GRID,
    INK,
    MUTED,
    coord,
    esc,
    fmt_tick,
    nice_step,
    svg_open,
    tick_range,
)

__all__ = ["Line", "LinePanel", "Stroke", "line_panels", "log_range", "log_ticks"]

#: Panel margins: room for the y tick labels and axis title (left), the legend (right),
#: the panel title (top) and the x tick labels and axis title (bottom).
LEFT, RIGHT, TOP, BOTTOM = 80.0, 230.0, 50.0, 55.0
HEADING = 26.0  # the figure's visible title above the first panel


@dataclass(frozen=True)
class Stroke:
    """How a line is drawn: colour, dash pattern (SVG ``stroke-dasharray``) and width."""

    color: str
    dash: str = ""
    width: float = 2.0

    def attrs(self) -> str:
        dash = f' stroke-dasharray="{self.dash}"' if self.dash else ""
        return f'stroke="{self.color}" stroke-width="{self.width:g}"{dash}'


@dataclass(frozen=True)
class Line:
    """One series: ``values[i]`` is drawn at x = i; ``label`` is its tooltip."""

    label: str
    values: Sequence[float]
    stroke: Stroke


@dataclass(frozen=True)
class LinePanel:
    """One chart of a ``line_panels`` figure; x runs from 0 to ``x_max``."""

    title: str
    lines: Sequence[Line]
    x_max: float
    y_min: float
    y_max: float
    x_label: str
    y_label: str
    log_y: bool = False
    legend: Sequence[tuple[str, Stroke]] = field(default_factory=tuple)  # (label, swatch)


def log_range(values: Sequence[float], headroom: float = 1.25) -> tuple[float, float]:
    """A log axis range for the positive ``values``: from the decade at or below the
    smallest to ``headroom`` × the largest, at least one decade wide ((0.001, 1) when
    no value is positive)."""
    pos = [v for v in values if v > 0]
    lo = min(pos) if pos else 1e-3
    hi = max(pos) if pos else 1.0
    lo = 10 ** math.floor(math.log10(max(lo, 1e-12)))
    return lo, max(hi * headroom, lo * 10)


def log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten within [lo, hi]; with 2 and 5 × each decade too when the range
    spans at most two decades."""
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    ticks = [10.0**k for k in range(first, last + 1)]
    if last - first <= 2:
        ticks = sorted(ticks + [m * d for d in ticks for m in (2.0, 5.0)])
    return [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]


class _Frame:
    """The plot area of one panel and its data → pixel mapping."""

    def __init__(self, panel: LinePanel, top: float, width: float, height: float) -> None:
        self.panel = panel
        self.top = top
        self.x0, self.x1 = LEFT, width - RIGHT
        self.y0, self.y1 = top + TOP, top + height - BOTTOM  # top and bottom pixel rows
        self.x_max = max(panel.x_max, 1.0)
        if panel.log_y:
            self.lo, self.hi = math.log10(panel.y_min), math.log10(panel.y_max)
        else:
            self.lo, self.hi = panel.y_min, panel.y_max
        if self.hi <= self.lo:  # an empty range: draw it one unit tall
            self.hi = self.lo + 1.0

    def px(self, x: float) -> float:
        return self.x0 + (self.x1 - self.x0) * x / self.x_max

    def py(self, y: float) -> float:
        v = math.log10(max(y, self.panel.y_min)) if self.panel.log_y else y
        v = min(max(v, self.lo), self.hi)
        return self.y1 - (self.y1 - self.y0) * (v - self.lo) / (self.hi - self.lo)

    def y_ticks(self) -> list[float]:
        p = self.panel
        if p.log_y:
            return log_ticks(p.y_min, p.y_max)
        step = nice_step(p.y_max - p.y_min, 5)
        return [round(v, 12) for v in tick_range(p.y_min, p.y_max, step)]


def _axes(f: _Frame) -> list[str]:
    p = f.panel
    mid_x, mid_y = (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2
    out = [
        f'<text x="{coord(mid_x)}" y="{coord(f.top + 28)}" text-anchor="middle" '
        f'font-size="14" font-weight="600" fill="{INK}">{esc(p.title)}</text>',
        f'<rect x="{coord(f.x0)}" y="{coord(f.y0)}" width="{coord(f.x1 - f.x0)}" '
        f'height="{coord(f.y1 - f.y0)}" fill="none" stroke="{AXIS}"/>',
    ]
    for xt in tick_range(0.0, f.x_max, nice_step(f.x_max, 8)):
        x = coord(f.px(xt))
        out.append(
            f'<line x1="{x}" y1="{coord(f.y0)}" x2="{x}" y2="{coord(f.y1)}" stroke="{GRID}"/>'
            f'<line x1="{x}" y1="{coord(f.y1)}" x2="{x}" y2="{coord(f.y1 + 5)}" '
            f'stroke="{AXIS}"/><text x="{x}" y="{coord(f.y1 + 19)}" text-anchor="middle" '
            f'font-size="11" fill="{MUTED}">{esc(fmt_tick(xt))}</text>'
        )
    for yt in f.y_ticks():
        y = coord(f.py(yt))
        out.append(
            f'<line x1="{coord(f.x0)}" y1="{y}" x2="{coord(f.x1)}" y2="{y}" stroke="{GRID}"/>'
            f'<line x1="{coord(f.x0 - 5)}" y1="{y}" x2="{coord(f.x0)}" y2="{y}" '
            f'stroke="{AXIS}"/><text x="{coord(f.x0 - 8)}" y="{coord(f.py(yt) + 4)}" '
            f'text-anchor="end" font-size="11" fill="{MUTED}">{esc(fmt_tick(yt))}</text>'
        )
    out.append(
        f'<text x="{coord(mid_x)}" y="{coord(f.y1 + 42)}" text-anchor="middle" '
        f'fill="{AXIS}">{esc(p.x_label)}</text>'
    )
    out.append(
        f'<text transform="translate({coord(f.x0 - 58)} {coord(mid_y)}) rotate(-90)" '
        f'text-anchor="middle" fill="{AXIS}">{esc(p.y_label)}</text>'
    )
    return out


def _line(f: _Frame, line: Line) -> str:
    pts = " ".join(f"{coord(f.px(i))},{coord(f.py(y))}" for i, y in enumerate(line.values))
    return (
        f'<polyline fill="none" {line.stroke.attrs()} points="{pts}">'
        f"<title>{esc(line.label)}</title></polyline>"
    )


def _legend(f: _Frame, keys: Sequence[tuple[str, Stroke]]) -> list[str]:
    x, y = f.x1 + 18, f.y0 + 6
    out = [
        f'<rect x="{coord(x - 8)}" y="{coord(y - 14)}" width="{coord(RIGHT - 20)}" '
        f'height="{coord(22 * len(keys) + 10)}" fill="#ffffff" stroke="{GRID}"/>'
    ]
    for i, (label, stroke) in enumerate(keys):
        yy = coord(y + 22 * i)
        out.append(
            f'<line x1="{coord(x)}" y1="{yy}" x2="{coord(x + 30)}" y2="{yy}" {stroke.attrs()}/>'
            f'<text x="{coord(x + 38)}" y="{coord(y + 22 * i + 4)}" fill="{INK}">'
            f"{esc(label)}</text>"
        )
    return out


def line_panels(
    title: str,
    panels: Sequence[LinePanel],
    *,
    width: float = 900,
    panel_height: float = 360,
    desc: str = "",
) -> str:
    """The panels one under the other in one ``<svg>``, under the visible ``title``.

    Each panel has its title, a frame, grid lines and ticks on both axes (a linear x
    axis from 0; a linear or log y axis), axis labels, its lines in order (later ones
    drawn on top) and, when it has keys, a legend right of the plot area.
    """
    height = HEADING + panel_height * len(panels) + 10
    parts = svg_open(width, height, title, desc)
    for i, panel in enumerate(panels):
        frame = _Frame(panel, HEADING + i * panel_height, width, panel_height)
        parts += _axes(frame)
        parts += [_line(frame, line) for line in panel.lines]
        if panel.legend:
            parts += _legend(frame, panel.legend)
    parts.append("</svg>")
    return "\n".join(p for p in parts if p) + "\n"
