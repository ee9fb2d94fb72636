"""memograd's own drawing of layered graphs as SVG: pure Python, no Graphviz, no system package.

A graph is a list of :class:`Node` and a list of :class:`Edge`. The layout is layered, left to right
(inputs and parameters on the left, ``L`` on the right):

1. layer of a node = the longest path to it from a source (or the ``layer`` the caller gives); a
   source (a parameter, an input) is then moved right, next to its first consumer;
2. order inside a layer: a few sweeps of the barycentre heuristic (each node goes to the mean
   position of its neighbours in the previous layer), stable and deterministic;
3. coordinates: layers are columns, nodes are centred in their column.

Two node styles: ``"circle"`` (the network picture of the notes: a neuron is a circle, a weight is
a labelled edge) and ``"record"`` (a computation graph: each node a box ``name | data | grad``).
Edges and nodes can be highlighted in groups (the two chain-rule paths of ∂L/∂w11^1, say); an edge
in several groups is drawn as parallel strokes, one per group. Edge labels are placed by
:mod:`memograd.viz.edge_labels`.
"""

from __future__ import annotations

import html as _html
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from memograd.errors import MemogradValueError
from memograd.viz.edge_labels import Crowded as Crowded  # raised by graph_svg; callers catch it
from memograd.viz.edge_labels import _edge_label, _label_overlaps, _text_width
from memograd.viz.notation import MIN_FONT, fmt, svg_name, unicode_name

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
# the width a picture aims at: the report's column at a 768 px window (its text then stays at
# 11 px or more on screen); wider pictures shrink with the page
FIT = 670.0
# every picture scales down to its container (never wider than it), keeping its proportions
SCALES = "max-width: 100%; height: auto"
PALETTE = ("#d9480f", "#1c7ed6", "#2b8a3e", "#ae3ec9", "#e67700", "#0c8599")
KIND_FILL = {
    "input": "#e7f5ff",
    "param": "#fff4e6",
    "neuron": "#f8f9fa",
    "output": "#ebfbee",
    "loss": "#fff0f6",
    "op": "#ffffff",
}

_ids = itertools.count(1)


@dataclass
class Node:
    """One node: ``label`` is a name in the notes' notation (``w11^1``, ``o21``, ``yhat``);
    ``note`` a short text such as the op (``*``, ``+``, ``σ``); ``data``/``grad`` are shown as
    its value, ``∂ grad`` (∂L/∂node) and ``extra`` below the circle when given."""

    id: str
    label: str = ""
    layer: int | None = None
    data: float | None = None
    grad: float | None = None
    kind: str = "neuron"
    note: str = ""
    extra: str = ""  # circle style: a second caption line, names in the notes' notation


@dataclass
class Edge:
    """An edge ``src -> dst`` (forward direction); ``label``/``value`` are written on it."""

    src: str
    dst: str
    label: str = ""
    value: float | None = None


@dataclass
class Highlight:
    """A group of edges (``(src, dst)`` pairs) and nodes drawn in ``color``, named in the legend."""

    edges: set[Any] = field(default_factory=set)
    nodes: set[Any] = field(default_factory=set)
    label: str = ""
    color: str | None = None


@dataclass
class Layout:
    """Where everything goes: ``pos[id] = (x, y)`` of each node's centre, ``size[id] = (w, h)``."""

    layers: list[list[str]]
    pos: dict[str, tuple[float, float]]
    size: dict[str, tuple[float, float]]
    width: float
    height: float


# --------------------------------------------------------------------------------------- layout


def assign_layers(nodes: Sequence[Node], edges: Sequence[Edge]) -> dict[str, int]:
    """Longest-path layering (Kahn's order, deterministic); sources pulled next to their first
    consumer. Nodes with an explicit ``layer`` keep it."""
    ids = [n.id for n in nodes]
    known = set(ids)
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        if e.src not in known or e.dst not in known:
            missing = e.src if e.src not in known else e.dst
            raise MemogradValueError(
                f"svg: edge {e.src!r} -> {e.dst!r} names a node {missing!r} that is not in the "
                "node list; add the node or drop the edge"
            )
        preds[e.dst].append(e.src)
        succs[e.src].append(e.dst)
    indeg = {i: len(preds[i]) for i in ids}
    ready = [i for i in ids if indeg[i] == 0]
    order: list[str] = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for j in succs[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                ready.append(j)
    if len(order) != len(ids):
        raise MemogradValueError("svg: the graph has a cycle; only DAGs can be drawn in layers")
    layer: dict[str, int] = {}
    for i in order:
        layer[i] = max((layer[p] + 1 for p in preds[i]), default=0)
    for i in reversed(order):  # sources as late as possible: beside their first consumer
        if not preds[i] and succs[i]:
            layer[i] = max(0, min(layer[s] for s in succs[i]) - 1)
    fixed = {n.id: n.layer for n in nodes if n.layer is not None}
    layer.update(fixed)
    return layer


def layout(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    *,
    style: str = "circle",
    layer_gap: float | None = None,
    node_gap: float | None = None,
    margin: float = 24.0,
    top: float = 0.0,
    sweeps: int = 4,
) -> Layout:
    """Compute positions (see the module docstring for the three steps)."""
    layer_of = assign_layers(nodes, edges)
    size = {n.id: _node_size(n, style) for n in nodes}
    if style == "circle" and size:  # one box height for all: circles of a row stay aligned
        tallest = max(h for _, h in size.values())
        size = {i: (w, tallest) for i, (w, _) in size.items()}
    n_layers = max(layer_of.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for n in nodes:
        layers[layer_of[n.id]].append(n.id)
    preds: dict[str, list[str]] = {n.id: [] for n in nodes}
    succs: dict[str, list[str]] = {n.id: [] for n in nodes}
    for e in edges:
        preds[e.dst].append(e.src)
        succs[e.src].append(e.dst)

    def rank() -> dict[str, float]:
        return {i: k for col in layers for k, i in enumerate(col)}

    fixed_order = all(n.layer is not None for n in nodes)
    if not fixed_order:
        for sweep in range(sweeps):
            down = sweep % 2 == 0
            rng = range(1, n_layers) if down else range(n_layers - 2, -1, -1)
            for li in rng:
                r = rank()
                col = layers[li]
                nb = preds if down else succs

                near = li - 1 if down else li + 1

                def key(
                    i: Any, r: dict[str, Any] = r, nb: Any = nb, col: Any = col, near: Any = near
                ) -> Any:
                    ns = [r[j] for j in nb[i] if layer_of[j] == near]
                    return sum(ns) / len(ns) if ns else col.index(i)

                layers[li] = sorted(col, key=key)

    widths = [max((size[i][0] for i in col), default=0.0) for col in layers]
    if layer_gap is None and style == "circle":  # as wide as FIT allows, between 64 and 150
        room = (FIT - 2 * margin - sum(widths)) / max(n_layers - 1, 1)
        layer_gap = min(150.0, max(64.0, room))
    elif layer_gap is None:
        layer_gap = 64.0
    if node_gap is None:
        node_gap = 64.0 if style == "circle" else 18.0
    col_heights = [sum(size[i][1] for i in col) + node_gap * max(len(col) - 1, 0) for col in layers]
    inner_h = max(col_heights, default=0.0)
    pos: dict[str, tuple[float, float]] = {}
    x = margin
    for li, col in enumerate(layers):
        cx = x + widths[li] / 2
        y = top + margin + (inner_h - col_heights[li]) / 2
        for i in col:
            h = size[i][1]
            pos[i] = (cx, y + h / 2)
            y += h + node_gap
        x += widths[li] + layer_gap
    width = x - layer_gap + margin
    height = top + inner_h + 2 * margin
    return Layout(layers=layers, pos=pos, size=size, width=width, height=height)


def _node_size(n: Node, style: str) -> tuple[float, float]:
    if style == "circle":
        lines = _circle_lines(n)
        w = max([56.0] + [_text_width(unicode_name(t), MIN_FONT) + 6 for t, _ in lines])
        extra = 4.0 if len(lines) > 1 and lines[-1][1] == "extra" else 0.0
        return (w, 44.0 + (LINE * len(lines) + 4 + extra if lines else 0.0))
    cells = _record_cells(n)
    w = sum(_text_width(c, 11.5) + 14 for c in cells)
    return (max(w, 40.0), 28.0)


NEURON_CAPTION = "under each neuron: its value, ∂ its gradient ∂L/∂neuron, then its bias"
LINE = 17.0  # baseline to baseline of the lines under a circle (11 px text, sub/superscripts)


def _circle_lines(n: Node) -> list[tuple[str, str]]:
    """What is written under a circle, one item a line: its value, ``∂ grad`` (∂L/∂node, in the
    gradient colour) and ``extra`` (the bias); each line short enough for a narrow column."""
    lines = []
    if n.data is not None:
        lines.append((fmt(n.data), "data"))
    if n.grad is not None:
        lines.append((f"∂ {fmt(n.grad, 3)}", "grad"))
    if n.extra:
        lines.append((n.extra, "extra"))
    return lines


def _record_cells(n: Node) -> list[str]:
    name = unicode_name(n.label) if n.label else n.note
    cells = [name or "·"]
    if n.label and n.note:  # a named op node: its op beside its name (o11 | σ)
        cells.append(n.note)
    if n.data is not None:
        cells.append(f"data {fmt(n.data)}")
    if n.grad is not None:
        cells.append(f"grad {fmt(n.grad)}")
    return cells


# --------------------------------------------------------------------------------------- drawing


def graph_svg(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    *,
    style: str = "circle",
    highlights: Iterable[Highlight] = (),
    title: str = "",
    caption: str = "",
    legend: bool = True,
    edge_label_at: float = 0.3,
    layer_titles: Sequence[str] | None = None,
    crowded: str = "draw",
) -> str:
    """The whole picture as an ``<svg>`` element (a string, valid XML, no external references).

    ``edge_label_at`` is where along an edge (0 = source, 1 = target) its label is tried first
    (then other points, see :func:`_edge_label`). ``crowded="raise"`` raises :class:`Crowded`
    when some edge label finds no free place (the caller then draws another picture)."""
    if style not in ("circle", "record"):
        raise MemogradValueError(f"svg: style must be 'circle' or 'record', got {style!r}")
    highlights = list(highlights)
    for k, h in enumerate(highlights):
        if h.color is None:
            h.color = PALETTE[k % len(PALETTE)]
    top = 24.0 if layer_titles else 0.0
    lay = layout(nodes, edges, style=style, top=top)
    legend_items = [h for h in highlights if h.label] if legend else []
    legend_h = 22.0 * math.ceil(len(legend_items) / 2) if legend_items else 0.0
    title_h = 26.0 if title else 0.0
    caption_h = 20.0 if caption else 0.0
    width = max(lay.width, 320.0)
    height = lay.height + title_h + legend_h + caption_h
    uid = f"mg{next(_ids)}"
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" font-family="{FONT}" role="img" '
        f'style="{SCALES}" aria-label="{_attr(title or "graph")}">',
        f"<title>{_html.escape(title or 'graph')}</title>",
        "<defs>",
        _marker(f"{uid}-arrow", "#868e96"),
        *(_marker(f"{uid}-arrow{k}", h.color or "#868e96") for k, h in enumerate(highlights)),
        "</defs>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    # a picture wider than a page's column is shown at its own size in a box that scrolls
    # sideways (viz.report.wide_figure): its title, legend and caption stay in the part seen first
    wide = width > FIT
    seen = min(width, FIT)
    if title:
        where = (
            'x="12" text-anchor="start"' if wide else f'x="{width / 2:.1f}" text-anchor="middle"'
        )
        out.append(
            f'<text {where} y="18" font-size="15" '
            f'font-weight="bold" fill="#212529">{_html.escape(title)}</text>'
        )
    out.append(f'<g transform="translate(0,{title_h:.0f})">')
    if layer_titles:
        for li, col in enumerate(lay.layers):
            if li < len(layer_titles) and col:
                x = lay.pos[col[0]][0]
                out.append(
                    f'<text x="{x:.1f}" y="16" text-anchor="middle" font-size="11" '
                    f'fill="#868e96">{_html.escape(layer_titles[li])}</text>'
                )

    groups_of_edge: dict[tuple[str, str], list[int]] = {}
    for k, h in enumerate(highlights):
        for e in h.edges:
            groups_of_edge.setdefault(tuple(e), []).append(k)
    groups_of_node: dict[str, list[int]] = {}
    for k, h in enumerate(highlights):
        for n in h.nodes:
            groups_of_node.setdefault(n, []).append(k)

    plain_edges, hot_edges, labels = [], [], []
    pending = []
    for e in edges:
        (x1, y1), (x2, y2) = _anchor(lay, e.src, e.dst, style)
        ks = groups_of_edge.get((e.src, e.dst), [])
        if not ks:
            plain_edges.append(
                _edge_path(x1, y1, x2, y2, style, "#adb5bd", 1.3, f"url(#{uid}-arrow)")
            )
        else:
            spread = 3.2
            for j, k in enumerate(ks):
                off = (j - (len(ks) - 1) / 2) * spread
                hot_edges.append(
                    _edge_path(
                        x1,
                        y1 + off,
                        x2,
                        y2 + off,
                        style,
                        highlights[k].color,
                        2.6,
                        f"url(#{uid}-arrow{k})",
                    )
                )
        if e.label or e.value is not None:
            color = highlights[ks[0]].color if ks else "#495057"
            pending.append((e, (x1, y1, x2, y2), color))
    obstacles = [
        (
            cx - lay.size[i][0] / 2,
            cy - lay.size[i][1] / 2,
            cx + lay.size[i][0] / 2,
            cy + lay.size[i][1] / 2,
        )
        for i, (cx, cy) in lay.pos.items()
    ]
    placed: list[tuple[float, float, float, float]] = []
    if crowded == "raise" and pending:
        free = sum(not _label_overlaps(e, ln, style, edge_label_at, obstacles, placed)
                   for e, ln, _ in pending)  # fmt: skip
        if free < len(pending):
            raise Crowded(f"{len(pending) - free} of {len(pending)} edge labels find no room")
        placed.clear()
    for e, (x1, y1, x2, y2), color in pending:
        labels.append(
            _edge_label(e, (x1, y1, x2, y2), style, edge_label_at, color, obstacles, placed)
        )
    out += plain_edges + hot_edges + labels
    by_id = {n.id: n for n in nodes}
    for i, (cx, cy) in lay.pos.items():
        n = by_id[i]
        ks = groups_of_node.get(i, [])
        ring = highlights[ks[0]].color if ks else "#495057"
        out.append(_draw_node(n, cx, cy, lay.size[i], style, ring, bool(ks)))
    out.append("</g>")
    y = title_h + lay.height
    for k, h in enumerate(legend_items):
        lx = 24 + (k % 2) * (seen / 2)
        ly = y + 22.0 * (k // 2) + 12
        out.append(
            f'<line x1="{lx:.0f}" y1="{ly:.0f}" x2="{lx + 26:.0f}" y2="{ly:.0f}" '
            f'stroke="{h.color}" stroke-width="3"/>'
            f'<text x="{lx + 32:.0f}" y="{ly + 4:.0f}" font-size="12" fill="#212529">'
            f"{_html.escape(h.label)}</text>"
        )
    if caption:
        where = (
            'x="12" text-anchor="start"' if wide else f'x="{width / 2:.1f}" text-anchor="middle"'
        )
        out.append(
            f'<text {where} y="{height - 6:.1f}" '
            f'font-size="11" fill="#495057">{_html.escape(caption)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _attr(text: str) -> str:
    return _html.escape(text, quote=True)


def _marker(mid: str, color: str) -> str:
    return (
        f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
    )


def _anchor(lay: Layout, a: str, b: str, style: str) -> Any:
    (ax, ay), (bx, by) = lay.pos[a], lay.pos[b]
    if style == "circle":
        r = 22.0
        # the circle sits in the upper part of the node box (the caption is below it)
        ay_c, by_c = ay - _caption_shift(lay.size[a]), by - _caption_shift(lay.size[b])
        dx, dy = bx - ax, by_c - ay_c
        d = math.hypot(dx, dy) or 1.0
        return (ax + r * dx / d, ay_c + r * dy / d), (bx - r * dx / d, by_c - r * dy / d)
    return (ax + lay.size[a][0] / 2, ay), (bx - lay.size[b][0] / 2, by)


def _caption_shift(size: tuple[float, float]) -> float:
    """How far above the node box's centre the circle sits (its captions are below it)."""
    return (size[1] - 44.0) / 2


def _edge_path(
    x1: Any, y1: Any, x2: Any, y2: Any, style: Any, color: Any, width: float, marker: Any
) -> str:
    if style == "circle":
        d = f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}"
    else:
        mx = (x1 + x2) / 2
        d = f"M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    return (
        f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width}" marker-end="{marker}"/>'
    )


def _hover(n: Node) -> str:
    """A node's ``<title>`` (shown on hover): its name, data and grad at full precision."""
    name = unicode_name(n.label) if n.label else n.note
    parts = [name or n.id]
    if n.label and n.note:
        parts.append(n.note)
    if n.data is not None:
        parts.append(f"data {n.data:.10g}")
    if n.grad is not None:
        parts.append(f"grad {n.grad:.10g}")
    if n.extra:
        parts.append(unicode_name(n.extra))
    return f"<title>{_html.escape(' · '.join(parts))}</title>"


def _draw_node(
    n: Node, cx: Any, cy: Any, size: tuple[float, float], style: Any, ring: Any, hot: Any
) -> str:
    fill = KIND_FILL.get(n.kind, "#ffffff")
    sw = 2.6 if hot else 1.3
    w, h = size
    hover = _hover(n)
    if style == "circle":
        cyc = cy - _caption_shift(size)
        parts = [
            f'<g>{hover}<circle cx="{cx:.1f}" cy="{cyc:.1f}" r="22" fill="{fill}" stroke="{ring}" '
            f'stroke-width="{sw}"/>',
            f'<text x="{cx:.1f}" y="{cyc + 5:.1f}" text-anchor="middle" font-size="15" '
            f'fill="#212529">{svg_name(n.label or n.note, 15)}</text>',
        ]
        y = cyc + 22 + LINE
        for k, (text, kind) in enumerate(_circle_lines(n)):
            if kind == "extra":
                y += 4 if k else 0  # its superscript needs air above
                body, attrs = svg_name(text, MIN_FONT), 'fill="#868e96"'
            else:
                color = "#c2410c" if kind == "grad" else "#343a40"
                body, attrs = _html.escape(text), f'font-family="{MONO}" fill="{color}"'
            parts.append(
                f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="middle" font-size="{MIN_FONT:g}" '
                f"{attrs}>{body}</text>"
            )
            y += LINE
        parts.append("</g>")
        return "".join(parts)
    x0, y0 = cx - w / 2, cy - h / 2
    cells = _record_cells(n)
    parts = [
        f'<g>{hover}<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" rx="5" '
        f'fill="{fill}" stroke="{ring}" stroke-width="{sw}"/>'
    ]
    x = x0
    for k, cell in enumerate(cells):
        cw = _text_width(cell, 11.5) + 14
        if k:
            parts.append(
                f'<line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y0 + h:.1f}" '
                f'stroke="{ring}" stroke-width="1"/>'
            )
        if k == 0 and n.label:
            body = svg_name(n.label, 12.5)
            attrs = 'font-size="12.5" font-weight="bold"'
        else:
            body = _html.escape(cell)
            attrs = f'font-size="11.5" font-family="{MONO}"'
        parts.append(
            f'<text x="{x + cw / 2:.1f}" y="{cy + 4:.1f}" text-anchor="middle" {attrs} '
            f'fill="#212529">{body}</text>'
        )
        x += cw
    parts.append("</g>")
    return "".join(parts)
