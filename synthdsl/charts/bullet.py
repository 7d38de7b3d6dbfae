"""A bullet chart: metric values against their thresholds, one row and scale each.

Input: ``Bullet`` rows (label, value, limit, the comparison that is fine, whether it is
flagged; labels are HTML-escaped here). Output: ``bullet_chart``, one
``<svg role="img">`` string drawn with the primitives of ``synthdsl.charts.svg``.
Deterministic; raises nothing for well-typed input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from synthdsl.charts.svg import (
    AXIS,
    CHAR_W,
    INK,
    MUTED,
    clip,
    esc,
    fmt_num,
    nice_ceil,
    svg_close,
    svg_open,
)
from synthdsl.charts.svg import coord as _r  # the short name the drawing code uses

__all__ = ["Bullet", "bullet_chart"]


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
            f"<title>{esc(r.label)}</title>{esc(clip(r.label, label_chars))}</text>"
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
    return svg_close(parts)
