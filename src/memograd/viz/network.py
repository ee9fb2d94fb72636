"""The picture of an MLP at any size: the notes' labelled drawing while it reads, a dense one
beyond (as TensorFlow Playground draws it).

The rule (:func:`network_svg`):

* up to ``LABELLED_WEIGHTS`` weights (the notes' 2-2-2-1 has 10, 3-4-2 has 20), as long as every
  edge's label finds a place where it overlaps nothing: circles with names, values and
  gradients, a label per edge (:func:`memograd.viz.svg.graph_svg`);
* otherwise no per-edge labels. Each weight is a line coloured by its sign (blue positive, orange
  negative) and thickened by ``|w|``; each neuron a small circle; names, values and gradients are
  in each line's and circle's ``<title>`` (shown on hover); inputs and outputs are named;
* a layer wider than ``MAX_DRAWN`` neurons is drawn as its first and last ``MAX_DRAWN // 2``
  neurons with "⋮ N more" between; the caption says what was left out.

No two text boxes overlap (checked for nets up to 2-32-32-1 in the tests, with a browser's glyph
metrics when Chromium is there).
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Sequence
from typing import Any

from memograd.viz.notation import MIN_FONT, svg_name, unicode_name
from memograd.viz.svg import FIT, FONT, KIND_FILL, SCALES, Highlight

LABELLED_WEIGHTS = 24  # past this many weights, no per-edge labels (the dense picture)
MAX_DRAWN = 20  # a wider layer shows its first and last 10 neurons
POSITIVE, NEGATIVE = "#1c7ed6", "#e8590c"
# highlighted paths on the dense picture: none of them blue or orange (the weights' signs)
DENSE_PATH_COLORS = (
    "#5f3dc4", "#2b8a3e", "#c2255c", "#212529", "#0b7285", "#862e9c",
    "#5c940d", "#a61e4d", "#364fc7", "#087f5b", "#495057", "#9c36b5",
)  # fmt: skip
PITCH = 24.0  # vertical distance between neighbouring neurons
R = 7.5  # neuron radius


def weight_count(sizes: Sequence[int]) -> int:
    return sum(m * n for m, n in zip(sizes, sizes[1:]))


def network_svg(
    model: Any,
    loss: Any = None,
    *,
    highlights: Iterable[Highlight] = (),
    title: str | None = None,
    caption: str | None = None,
    forward_only: bool = False,
) -> str:
    """SVG of an MLP of ``memograd.scalar.nn`` (the notes' names), with ``data``/``grad`` from
    ``loss``'s graph when given; ``highlights`` group edges ``(src, dst)`` between neuron names
    (``x1``, ``o11``, ``yhat``, ``L``). Chooses the labelled or the dense drawing (module doc)."""
    from memograd.viz.svg import NEURON_CAPTION, Crowded, graph_svg
    from memograd.viz.values import layer_titles, network_graph

    sizes = tuple(model.sizes)
    name = "-".join(map(str, sizes))
    if weight_count(sizes) <= LABELLED_WEIGHTS:
        nodes, edges = network_graph(model, loss)
        if forward_only:
            for n in nodes:
                n.grad = None
        try:
            return graph_svg(
                nodes,
                edges,
                highlights=highlights,
                title=title if title is not None else f"MLP {name}",
                layer_titles=layer_titles(model, loss is not None),
                caption=caption
                if caption is not None
                else (NEURON_CAPTION if loss is not None else "under each neuron: its bias"),
                crowded="raise",
            )
        except Crowded:  # some weight label would overlap another: the dense picture
            pass
    return dense_svg(
        model, loss, highlights=highlights, title=title, caption=caption, forward_only=forward_only
    )


def drawn_indices(n: int) -> list[int | None]:
    """Which neurons of a layer of ``n`` are drawn (0-based), ``None`` for the "⋮ more" slot."""
    if n <= MAX_DRAWN:
        return list(range(n))
    half = MAX_DRAWN // 2
    return [*range(half), None, *range(n - half, n)]


def _values(loss: Any) -> dict[str, Any]:
    if loss is None:
        return {}
    from memograd.viz.values import named_values

    return named_values(loss)


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy word wrap for ``width`` units of ``size`` text (0.62 em per character)."""
    limit = max(int(width / (0.62 * size)), 10)
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > limit:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def dense_svg(
    model: Any,
    loss: Any = None,
    *,
    highlights: Any = (),
    title: str | None = None,
    caption: str | None = None,
    forward_only: Any = False,
) -> str:
    """The dense drawing (module doc): weights as coloured lines, details on hover."""
    sizes = tuple(model.sizes)
    values = _values(loss)
    highlights = list(highlights)
    for k, h in enumerate(highlights):
        if h.color is None:
            h.color = DENSE_PATH_COLORS[k % len(DENSE_PATH_COLORS)]
    opacity = 0.22 if highlights else 0.55  # the paths stand out over faded weights
    columns: list[list[tuple[str | None, object]]] = []  # per column: (name, neuron or None)
    columns.append([(f"x{i + 1}", None) for i in range(sizes[0])])
    for layer in model.layers:
        slots = drawn_indices(len(layer.neurons))
        columns.append(
            [
                (None, None) if j is None else (layer.neurons[j].name, layer.neurons[j])
                for j in slots
            ]
        )
    input_slots = drawn_indices(sizes[0])
    columns[0] = [(None, None) if j is None else (f"x{j + 1}", None) for j in input_slots]
    if loss is not None:
        columns.append([(loss.name or "L", loss)])

    # geometry
    left, right = 56.0, 56.0
    top = 26.0 + 40.0  # title, then two lines of layer title
    width = FIT
    gap = (width - left - right) / max(len(columns) - 1, 1)
    tallest = max(len(c) for c in columns)
    inner = tallest * PITCH
    pos: dict[str, tuple[float, float]] = {}
    more: list[tuple[float, float, int]] = []  # (x, y, hidden count) of the "⋮ N more" slots
    for ci, col in enumerate(columns):
        x = left + ci * gap
        y0 = top + (inner - len(col) * PITCH) / 2 + PITCH / 2
        total = sizes[ci] if ci < len(sizes) else 1
        for k, (nm, _) in enumerate(col):
            y = y0 + k * PITCH
            if nm is None:
                more.append((x, y, total - (len(col) - 1)))
            else:
                pos[nm] = (x, y)

    # edges: one per weight between drawn neurons
    edge_lines: list[str] = []
    weights = []
    prev = [f"x{i + 1}" for i in range(sizes[0])]
    for layer in model.layers:
        for neuron in layer.neurons:
            for src, w in zip(prev, neuron.w):
                if src in pos and neuron.name in pos:
                    weights.append((src, neuron.name, w))
        prev = [n.name for n in layer.neurons]
    biggest = max((abs(w.data) for *_, w in weights), default=1.0) or 1.0
    hot: dict[tuple[str, str], list[int]] = {}
    for k, h in enumerate(highlights):
        for e in h.edges:
            hot.setdefault(tuple(e), []).append(k)
    drawn_hot = []
    for src, dst, w in weights:
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        stroke = POSITIVE if w.data >= 0 else NEGATIVE
        sw = 0.5 + 3.0 * abs(w.data) / biggest
        grad = "" if forward_only or w.grad is None or loss is None else f" · grad {w.grad:.6g}"
        tip = _html.escape(f"{unicode_name(w.name)} = {w.data:.6g}{grad}")
        line = (
            f'<line x1="{x1 + R:.1f}" y1="{y1:.1f}" x2="{x2 - R:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}" stroke-width="{sw:.2f}" stroke-opacity="{opacity}">'
            f"<title>{tip}</title></line>"
        )
        edge_lines.append(line)
        for k in hot.get((src, dst), []):
            drawn_hot.append(
                f'<line x1="{x1 + R:.1f}" y1="{y1:.1f}" x2="{x2 - R:.1f}" y2="{y2:.1f}" '
                f'stroke="{highlights[k].color}" stroke-width="2.6"><title>{tip}</title></line>'
            )
    if loss is not None:
        lname = loss.name or "L"
        for nm in prev:
            if nm in pos:
                (x1, y1), (x2, y2) = pos[nm], pos[lname]
                edge_lines.append(
                    f'<line x1="{x1 + R:.1f}" y1="{y1:.1f}" x2="{x2 - R:.1f}" y2="{y2:.1f}" '
                    'stroke="#adb5bd" stroke-width="1"/>'
                )
                for k in hot.get((nm, lname), []):
                    drawn_hot.append(
                        f'<line x1="{x1 + R:.1f}" y1="{y1:.1f}" x2="{x2 - R:.1f}" '
                        f'y2="{y2:.1f}" stroke="{highlights[k].color}" stroke-width="2.6"/>'
                    )

    # nodes
    hot_nodes = {n: h.color for h in highlights for n in h.nodes}
    node_parts = []
    n_layers = len(model.layers)
    for ci, col in enumerate(columns):
        for nm, neuron in col:
            if nm is None:
                continue
            x, y = pos[nm]
            kind = (
                "input"
                if ci == 0
                else "loss"
                if ci > n_layers
                else "output"
                if ci == n_layers
                else "neuron"
            )
            v = values.get(nm)
            tips = [unicode_name(nm)]
            if v is not None:
                tips.append(f"data {v.data:.6g}")
                if not forward_only and v._parents:
                    tips.append(f"grad {v.grad:.6g}")
            if neuron is not None and hasattr(neuron, "b"):
                tips.append(f"{unicode_name(neuron.b.name)} = {neuron.b.data:.6g}")
            ring = hot_nodes.get(nm, "#495057")
            node_parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{R}" fill="{KIND_FILL[kind]}" '
                f'stroke="{ring}" stroke-width="{2.2 if nm in hot_nodes else 1.2}">'
                f"<title>{_html.escape(' · '.join(tips))}</title></circle>"
            )
    texts = []
    for x, y, hidden in more:
        texts.append(
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="{MIN_FONT:g}" '
            f'fill="#495057" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"⋮ {hidden} more</text>"
        )
    for nm, _ in columns[0]:  # inputs named on the left
        if nm is not None:
            x, y = pos[nm]
            texts.append(
                f'<text x="{x - R - 5:.1f}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                f'fill="#212529">{svg_name(nm, 12)}</text>'
            )
    outputs = [nm for nm, _ in columns[n_layers] if nm is not None]
    for ci in range(n_layers, len(columns)):  # the outputs and L named
        for nm, _ in columns[ci]:
            if nm is None:
                continue
            x, y = pos[nm]
            if ci == n_layers and len(outputs) == 1 and loss is not None:
                at = f'x="{x:.1f}" y="{y - R - 6:.1f}" text-anchor="middle"'  # above: L is right
            else:
                at = f'x="{x + R + 5:.1f}" y="{y + 4:.1f}"'
            texts.append(
                f'<text {at} font-size="12" fill="#212529" stroke="#ffffff" stroke-width="3" '
                f'paint-order="stroke">{svg_name(nm, 12)}</text>'
            )
    # layer titles: two lines over each column
    for ci in range(len(columns)):
        x = left + ci * gap
        if ci == 0:
            head, sub = "inputs", f"{sizes[0]}"
        elif ci <= n_layers:
            n = sizes[ci]
            head = "output" if ci == n_layers else f"layer {ci}"
            sub = f"{n} neuron{'s' if n != 1 else ''}"
        else:
            head, sub = "loss", ""
        texts.append(
            f'<text x="{x:.1f}" y="{top - 24:.1f}" text-anchor="middle" font-size="12" '
            f'fill="#495057">{head}</text>'
        )
        if sub:
            texts.append(
                f'<text x="{x:.1f}" y="{top - 9:.1f}" text-anchor="middle" '
                f'font-size="{MIN_FONT:g}" fill="#868e96">{sub}</text>'
            )

    # legend and caption below the drawing
    y = top + inner + 16
    legend = [(POSITIVE, "positive weight"), (NEGATIVE, "negative weight")]
    legend += [(h.color, h.label) for h in highlights if h.label]
    legend_parts, x = [], 16.0
    for color, label in legend:
        w = 30 + 0.62 * 12 * len(label) + 18
        if x + w > width - 8:
            x, y = 16.0, y + 20
        legend_parts.append(
            f'<line x1="{x:.0f}" y1="{y:.0f}" x2="{x + 24:.0f}" y2="{y:.0f}" stroke="{color}" '
            f'stroke-width="3"/><text x="{x + 30:.0f}" y="{y + 4:.0f}" font-size="12" '
            f'fill="#212529">{_html.escape(label)}</text>'
        )
        x += w
    if caption is None:
        caption = _default_caption(model, loss, forward_only)
    y += 22
    cap_parts = []
    for line in _wrap(caption, width - 32, MIN_FONT):
        cap_parts.append(
            f'<text x="{width / 2:.1f}" y="{y:.1f}" text-anchor="middle" '
            f'font-size="{MIN_FONT:g}" fill="#495057">{_html.escape(line)}</text>'
        )
        y += 15
    height = y + 4
    title = title if title is not None else f"MLP {'-'.join(map(str, sizes))}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" font-family="{FONT}" role="img" '
        f'style="{SCALES}" aria-label="{_html.escape(title, quote=True)}">',
        f"<title>{_html.escape(title)}</title>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" font-size="15" '
        f'font-weight="bold" fill="#212529">{_html.escape(title)}</text>',
        *edge_lines,
        *drawn_hot,
        *node_parts,
        *texts,
        *legend_parts,
        *cap_parts,
        "</svg>",
    ]
    return "\n".join(out)


def _default_caption(model: Any, loss: Any, forward_only: bool) -> str:
    sizes = tuple(model.sizes)
    params = sum(n * (m + 1) for m, n in zip(sizes, sizes[1:]))
    shown = sum(
        len([j for j in drawn_indices(m) if j is not None])
        * len([j for j in drawn_indices(n) if j is not None])
        for m, n in zip(sizes, sizes[1:])
    )
    parts = [
        f"{params:,} parameters; each weight a line, thicker for larger |w| "
        f"(no labels past {LABELLED_WEIGHTS} weights)."
    ]
    hover = "value" if forward_only or loss is None else "value and gradient"
    parts.append(f"Hover a line or a circle for its {hover} (and a neuron's bias).")
    wide = [(k, n) for k, n in enumerate(sizes) if n > MAX_DRAWN]
    if wide:
        half = MAX_DRAWN // 2
        said = ", ".join(
            f"{'inputs' if k == 0 else f'layer {k}'}: {n - 2 * half} of {n} neurons"
            for k, n in wide
        )
        parts.append(
            f"Not drawn ({said}, between the first and last {half}), nor their weights: "
            f"{shown:,} of {weight_count(sizes):,} weights shown."
        )
    return " ".join(parts)


__all__ = ["network_svg", "dense_svg", "drawn_indices", "weight_count"]
