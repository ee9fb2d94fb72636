"""Where an edge's label goes in memograd's SVG drawings (:mod:`memograd.viz.svg`): the weight's
name over its value on a white plate, at the first point along the edge where its box meets no node
and no label already placed (``LABEL_AT``), else where it overlaps least; :class:`Crowded` when
the caller asks to fail instead."""

from __future__ import annotations

import html as _html
import math
from typing import TYPE_CHECKING, Any

from memograd.errors import MemogradValueError
from memograd.viz.notation import MIN_FONT, fmt, svg_name, unicode_name

if TYPE_CHECKING:
    from memograd.viz.svg import Edge


def _text_width(text: str, size: float) -> float:
    """Estimated width of one line of ``text`` at font ``size`` (0.62 em a character)."""
    return 0.62 * size * len(text)


LABEL_AT = (0.4, 0.5, 0.6, 0.25, 0.7, 0.35, 0.45, 0.55, 0.65, 0.75, 0.2, 0.8)


class Crowded(MemogradValueError):
    """The edge labels of a picture do not fit without overlapping (``crowded="raise"``)."""


def _label_box(e: Edge, line: Any, style: Any, first_t: Any, obstacles: Any, placed: Any) -> Any:
    """(centre x, centre y, box, cost, rows, width, height) of an edge label's best place."""
    x1, y1, x2, y2 = line
    value = "" if e.value is None else fmt(e.value, 3)
    rows = []  # (markup, plain width)
    if e.label:
        rows.append((svg_name(e.label, 12.5), _text_width(unicode_name(e.label), 12.5) * 0.95))
    if value:
        rows.append((_html.escape(value), _text_width(value, MIN_FONT)))
    bw = max(w for _, w in rows) + 6
    bh = 17.0 * len(rows) + 1
    best: tuple[float, float, tuple[float, float, float, float]] = (0.0, 0.0, (0.0,) * 4)
    best_cost = math.inf
    for t in (first_t, *LABEL_AT):
        cx, cy = _point(x1, y1, x2, y2, t, style)
        box = (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
        cost = sum(_overlap(box, o) for o in obstacles) + sum(_overlap(box, p) for p in placed)
        if cost < best_cost:
            best, best_cost = (cx, cy, box), cost
        if cost == 0:
            break
    placed.append(best[2])
    return (*best, best_cost, rows, bw, bh)


def _label_overlaps(
    e: Edge, line: Any, style: Any, first_t: Any, obstacles: Any, placed: Any
) -> bool:
    return bool(_label_box(e, line, style, first_t, obstacles, placed)[3] > 0)


def _edge_label(
    e: Edge, line: Any, style: Any, first_t: Any, color: Any, obstacles: Any, placed: Any
) -> str:
    """An edge's label: the weight's name over its value (two short lines, on a white plate),
    put at the first point along the edge (``first_t``, then LABEL_AT) where its box meets no
    node and no label already placed; failing that, where it overlaps least."""
    cx, cy, box, _, rows, bw, bh = _label_box(e, line, style, first_t, obstacles, placed)
    out = [
        f'<rect x="{box[0]:.1f}" y="{box[1]:.1f}" width="{bw:.1f}" height="{bh:.1f}" rx="3" '
        'fill="#ffffff" fill-opacity="0.92"/>'
    ]
    y = box[1] + 13.0
    for k, (markup, _) in enumerate(rows):
        font = 'font-size="12.5"' if (k == 0 and e.label) else f'font-size="{MIN_FONT:g}"'
        out.append(
            f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="middle" {font} fill="{color}">'
            f"{markup}</text>"
        )
        y += 17.0
    return "".join(out)


def _overlap(a: Any, b: Any) -> float:
    """Area of the intersection of two boxes (x0, y0, x1, y1), with 2 units of air around."""
    w = min(a[2], b[2]) - max(a[0], b[0]) + 2
    h = min(a[3], b[3]) - max(a[1], b[1]) + 2
    return w * h if w > 0 and h > 0 else 0.0


def _point(x1: Any, y1: Any, x2: Any, y2: Any, t: Any, style: Any) -> Any:
    if style == "circle":
        return x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
    s = 3 * t * t - 2 * t**3  # the y of svg._edge_path's cubic at t
    return x1 + (x2 - x1) * t, y1 + (y2 - y1) * s
