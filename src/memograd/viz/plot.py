"""Small line charts as SVG, in pure Python (no matplotlib needed): the report's plots.

``line_chart(series, log_y=True)`` draws each series as a polyline with dots, with axes, ticks
(powers of ten on a log axis, 1-2-5 steps on a linear one), axis labels and a legend.
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memograd.errors import MemogradValueError
from memograd.viz.notation import MIN_FONT, fmt
from memograd.viz.svg import FONT, PALETTE, SCALES


@dataclass
class Series:
    """One line: ``label`` in the legend, points ``(xs[i], ys[i])``; ``dashed`` for predictions."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    color: str | None = None
    dashed: bool = False


def line_chart(
    series: Sequence[Series],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    log_y: bool = False,
    width: float = 560.0,
    height: float = 340.0,
) -> str:
    """An ``<svg>`` line chart. On a log axis every y must be > 0 (a clear error otherwise)."""
    pts = [(x, y) for s in series for x, y in zip(s.xs, s.ys)]
    if not pts:
        raise MemogradValueError("line_chart: no points to draw; give at least one series")
    for s in series:
        if len(s.xs) != len(s.ys):
            raise MemogradValueError(
                f"line_chart: series {s.label!r} has {len(s.xs)} x values and {len(s.ys)} y values"
            )
        if log_y and any(y <= 0 for y in s.ys):
            raise MemogradValueError(
                f"line_chart: series {s.label!r} has a y <= 0, which a log axis cannot show; "
                "use log_y=False"
            )
    xmin, xmax = min(p[0] for p in pts), max(p[0] for p in pts)
    ymin, ymax = min(p[1] for p in pts), max(p[1] for p in pts)
    if xmax == xmin:
        xmin, xmax = xmin - 1, xmax + 1
    if log_y:
        lo, hi = math.floor(math.log10(ymin)), math.ceil(math.log10(ymax))
        if hi == lo:
            hi += 1
        yticks = [10.0**k for k in range(lo, hi + 1)]
        step = max(1, math.ceil(len(yticks) / 8))
        yticks = yticks[::step]
        ylo, yhi = math.log10(10.0**lo), math.log10(10.0**hi)

        def ty(y: float) -> Any:
            return math.log10(y)
    else:
        yticks = nice_ticks(min(ymin, 0.0) if ymin > 0 and ymin < 0.2 * ymax else ymin, ymax)
        ylo, yhi = yticks[0], yticks[-1]

        def ty(y: float) -> Any:
            return y

    xticks = nice_ticks(xmin, xmax, integer=all(float(p[0]).is_integer() for p in pts))
    xticks = [t for t in xticks if xmin <= t <= xmax] or [xmin, xmax]
    xlo, xhi = xmin, xmax
    left, right, top, bottom = 64.0, 16.0, 30.0 if title else 12.0, 48.0
    legend_h = 18.0 * len(series) if len(series) > 1 else 0.0
    pw, ph = width - left - right, height - top - bottom - legend_h

    def px(x: float) -> Any:
        return left + (x - xlo) / (xhi - xlo) * pw

    def py(y: float) -> Any:
        return top + ph - (ty(y) - ylo) / ((yhi - ylo) or 1.0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" font-family="{FONT}" role="img" '
        f'style="{SCALES}" '
        f'aria-label="{_html.escape(title or "chart", quote=True)}">',
        f"<title>{_html.escape(title or 'chart')}</title>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    if title:
        out.append(
            f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" font-size="14" '
            f'font-weight="bold" fill="#212529">{_html.escape(title)}</text>'
        )
    # one notation per axis: plain numbers when every tick is between 0.001 and 10,000, else all
    # of them as powers of ten (not 10,000 beside 10⁸)
    powers = log_y and any(not -3 <= round(math.log10(y)) <= 4 for y in yticks)
    for y in yticks:
        yy = py(y)
        out.append(
            f'<line x1="{left:.1f}" y1="{yy:.1f}" x2="{left + pw:.1f}" y2="{yy:.1f}" '
            f'stroke="#e9ecef" stroke-width="1"/>'
            f'<text x="{left - 6:.1f}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#495057">{_tick_label(y, log_y, powers)}</text>'
        )
    for x in xticks:
        xx = px(x)
        out.append(
            f'<line x1="{xx:.1f}" y1="{top + ph:.1f}" x2="{xx:.1f}" y2="{top + ph + 5:.1f}" '
            f'stroke="#495057" stroke-width="1"/>'
            f'<text x="{xx:.1f}" y="{top + ph + 18:.1f}" text-anchor="middle" font-size="11" '
            f'fill="#495057">{_html.escape(fmt(x))}</text>'
        )
    out.append(
        f'<path d="M{left:.1f},{top:.1f} L{left:.1f},{top + ph:.1f} L{left + pw:.1f},'
        f'{top + ph:.1f}" fill="none" stroke="#495057" stroke-width="1.2"/>'
    )
    if xlabel:
        out.append(
            f'<text x="{left + pw / 2:.1f}" y="{top + ph + 38:.1f}" text-anchor="middle" '
            f'font-size="12" fill="#212529">{_html.escape(xlabel)}</text>'
        )
    if ylabel:
        out.append(
            f'<text transform="translate(14,{top + ph / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle" font-size="12" fill="#212529">{_html.escape(ylabel)}</text>'
        )
    for k, s in enumerate(series):
        color = s.color or PALETTE[k % len(PALETTE)]
        d = " ".join(
            f"{'M' if j == 0 else 'L'}{px(x):.1f},{py(y):.1f}"
            for j, (x, y) in enumerate(zip(s.xs, s.ys))
        )
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2.2"{dash}/>')
        if len(s.xs) <= 40:
            out += [
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>'
                for x, y in zip(s.xs, s.ys)
            ]
        if legend_h:
            ly = height - legend_h + 18.0 * k + 4
            out.append(
                f'<line x1="{left:.0f}" y1="{ly:.0f}" x2="{left + 24:.0f}" y2="{ly:.0f}" '
                f'stroke="{color}" stroke-width="2.5"{dash}/>'
                f'<text x="{left + 30:.0f}" y="{ly + 4:.0f}" font-size="12" fill="#212529">'
                f"{_html.escape(s.label)}</text>"
            )
    out.append("</svg>")
    return "\n".join(out)


def _tick_label(y: float, log_y: bool, powers: bool = False) -> str:
    if log_y:
        k = round(math.log10(y))
        if not powers:
            return _html.escape(fmt(int(y)) if k >= 0 else fmt(y))
        sup = str(k).replace("-", "−")
        return f'10<tspan dy="-6" font-size="{MIN_FONT:g}">{sup}</tspan>'
    return _html.escape(fmt(y))


def nice_ticks(lo: float, hi: float, n: int = 6, integer: bool = False) -> list[float]:
    """About ``n`` round tick values (steps of 1, 2 or 5 times a power of ten) covering [lo, hi]."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + 1
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1, round(step))
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12))
    return ticks
