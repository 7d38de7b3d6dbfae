"""A band chart: one share on a 0–100 % axis against the allowed band, shaded.

Input: the share, the band (both fractions, clamped to [0, 1] for drawing), a status
(``ok``/``warn``/``fail`` pick the colour) and labels (HTML-escaped here). Output:
``band_chart``, one ``<svg role="img">`` string drawn with the primitives of
``synthdsl.charts.svg``. Deterministic; raises nothing for well-typed input.
"""

from __future__ import annotations

from synthdsl.charts.svg import AXIS, INK, MUTED, esc, svg_close, svg_open
from synthdsl.charts.svg import coord as _r  # the short name the drawing code uses

__all__ = ["band_chart"]


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
    return svg_close(parts)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%".replace(".0%", "%")
