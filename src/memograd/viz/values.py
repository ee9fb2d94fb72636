"""From the scalar engine to pictures: a ``Value`` graph or an ``MLP`` as lists of
:class:`~memograd.viz.svg.Node` and :class:`~memograd.viz.svg.Edge`, and the SVG renderings used
for Jupyter display.

Two views of a computation graph:

``op``
    every node the engine made (weighted sums ``z21``, activations, the loss's ``sub``/``pow``);
``neuron``
    only the named nodes (inputs ``x1``, parameters ``w11^1``/``b1^1``, neuron outputs ``o11``,
    ``ŷ``, ``L``): the unnamed op nodes in between are collapsed, as the notes draw it.

And the network picture of the notes (:func:`network_graph`): a neuron per circle, a weight per
edge, labelled ``w11^1 = value``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from memograd.errors import MemogradValueError
from memograd.graph import topological_order
from memograd.nn.module import Module
from memograd.paths import Explanation
from memograd.scalar.nn import MLP
from memograd.scalar.value import RULES, Value
from memograd.viz.notation import _SUP, fmt, unicode_name
from memograd.viz.svg import Edge, Highlight, Node, graph_svg

VIEWS = ("neuron", "op")


def _kind(v: Any, root: Any, params: set[int]) -> str:
    if v is root:
        return "loss" if v.name == "L" else "output"
    if id(v) in params or (v.name and v.name[:1] in "wb" and "^" in v.name):
        return "param"
    if not v._parents:
        return "input"
    if v.name and v.name.startswith("yhat"):
        return "output"
    return "neuron" if v.name else "op"


def _op_symbol(v: Value) -> str:
    """How a node's op is written in the op view: ``(ŷ - y)²`` for the MSE loss's square (a
    constant power is written on its operand's formula), else the op's symbol."""
    if v.op == "pow" and v.arg is not None and v.arg[0] == 1 and v._parents[0] is not None:
        power = v.arg[1]
        base = v._parents[0]
        inner = op_formula(base) or base.display
        text = f"({inner})" if " " in inner else inner
        if float(power).is_integer() and 0 <= power <= 9:
            return text + str(int(power)).translate(_SUP)
        return f"{text}^{power:g}"
    return {
        "add": "+",
        "sub": "−",
        "mul": "×",
        "div": "÷",
        "pow": "^",
        "neg": "−x",
        "sigmoid": "σ",
        "wsum": "Σ",
    }.get(v.op, v.op or "const")


def op_formula(v: Any) -> str | None:
    """An unnamed op with one Value operand, the other a constant (the target y), written as its
    formula: ``ŷ - y`` for the loss's subtraction. ``None`` for any other node."""
    if v.name or getattr(v, "label", None) or len(v._parents) != 1 or v._parents[0] is None:
        return None
    rule = RULES.get(v.op)
    if rule is None:
        return None
    x, f = v._parents[0].display, rule.formula
    return f.replace("{x}", x).replace("{y}", "y") if "{x}" in f else f.replace("x", x)


def value_graph(
    root: Any, view: str = "op", params: Iterable[Any] = ()
) -> tuple[list[Node], list[Edge], dict[int, str]]:
    """Nodes and edges of the graph under ``root`` (forward direction, leaves first), and the map
    ``id(value) -> node id``. Node ids are the notes' names where the engine gave one."""
    if view not in VIEWS:
        raise MemogradValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    order = topological_order(root)
    pset = {id(p) for p in params}
    ids: dict[int, str] = {}
    used: set[str] = set()
    for k, v in enumerate(order):
        base = v.name or getattr(v, "label", None) or f"{v.op or 'leaf'}{k}"
        nid = base if base not in used else f"{base}#{k}"
        used.add(nid)
        ids[id(v)] = nid
    if view == "op":
        nodes = [
            Node(
                ids[id(v)],
                label=v.name or getattr(v, "label", None) or "",
                data=v.data,
                grad=v.grad,
                kind=_kind(v, root, pset),
                note=unicode_name(op_formula(v) or _op_symbol(v)) if v._parents else "",
            )
            for v in order
        ]
        edges = [Edge(ids[id(p)], ids[id(v)]) for v in order for p in v._parents if p is not None]
        return nodes, _dedupe(edges), ids
    # neuron view: keep named nodes (and the root); an edge a -> b when a reaches b through
    # unnamed nodes only
    keep = [v for v in order if v.name or v is root]
    keep_ids = {id(v) for v in keep}
    nearest: dict[int, list[Any]] = {}  # id(v) -> kept ancestors reached through unnamed nodes
    for v in order:
        found: list[Any] = []
        for p in v._parents:
            if p is None:
                continue
            if id(p) in keep_ids:
                found.append(p)
            else:
                found.extend(nearest.get(id(p), []))
        seen: set[int] = set()
        unique = []
        for p in found:
            if id(p) not in seen:
                seen.add(id(p))
                unique.append(p)
        nearest[id(v)] = unique
    nodes = [
        Node(ids[id(v)], label=v.name or "", data=v.data, grad=v.grad, kind=_kind(v, root, pset))
        for v in keep
    ]
    edges = [Edge(ids[id(p)], ids[id(v)]) for v in keep for p in nearest[id(v)]]
    return nodes, _dedupe(edges), ids


def _dedupe(edges: list[Edge]) -> list[Edge]:
    seen: set[tuple[str, str]] = set()
    out = []
    for e in edges:
        if (e.src, e.dst) not in seen:
            seen.add((e.src, e.dst))
            out.append(e)
    return out


def edges_on_paths(edges: Iterable[Edge], source: str) -> set[tuple[str, str]]:
    """The edges that lie on some path from ``source`` forward to the output: every edge whose
    tail is ``source`` or depends on it (the chain-rule paths of ∂L/∂source, in one set)."""
    edges = list(edges)
    succ: dict[str, list[str]] = {}
    for e in edges:
        succ.setdefault(e.src, []).append(e.dst)
    reached, stack = {source}, [source]
    while stack:
        for nxt in succ.get(stack.pop(), ()):
            if nxt not in reached:
                reached.add(nxt)
                stack.append(nxt)
    return {(e.src, e.dst) for e in edges if e.src in reached}


PATH_COLORS = (
    "#d9480f", "#1c7ed6", "#2b8a3e", "#ae3ec9", "#e67700", "#0c8599",
    "#c2255c", "#5c940d", "#7048e8", "#495057", "#a61e4d", "#087f5b",
)  # fmt: skip
MAX_PATH_COLORS = len(PATH_COLORS)


def enumerate_paths(edges: Iterable[Edge], source: str, target: str, limit: int) -> Any:
    """Up to ``limit`` paths ``[source, ..., target]`` along ``edges`` (forward direction), and
    how many there are in all (counted by dynamic programming, not by listing)."""
    succ: dict[str, list[str]] = {}
    for e in edges:
        succ.setdefault(e.src, []).append(e.dst)
    count: dict[str, int] = {}

    def n_paths(v: str) -> int:  # iterative post-order: nets are deep enough to matter
        stack = [(v, False)]
        while stack:
            u, done = stack.pop()
            if u in count:
                continue
            if done:
                count[u] = 1 if u == target else sum(count[w] for w in succ.get(u, ()))
            else:
                stack.append((u, True))
                stack += [(w, False) for w in succ.get(u, ()) if w not in count]
        return count[v]

    total = n_paths(source)
    found: list[list[str]] = []
    stack = [[source]]
    while stack and len(found) < limit:
        path = stack.pop()
        if path[-1] == target:
            found.append(path)
            continue
        stack += [path + [w] for w in reversed(succ.get(path[-1], ())) if count.get(w, 0)]
    return found, total


def path_highlights(
    edges: Any,
    source: str,
    target: str,
    labels: dict[str, str] | None = None,
    name: str | None = None,
    colors: tuple[str, ...] = PATH_COLORS,
) -> Any:
    """One highlight per chain-rule path from ``target`` (L) back to ``source``, each in its own
    colour and named in the legend by the nodes it goes through; past MAX_PATH_COLORS paths, one
    highlight for all of them (the legend says how many)."""
    edges = list(edges)
    found, total = enumerate_paths(edges, source, target, MAX_PATH_COLORS)
    if total > MAX_PATH_COLORS:
        return [
            Highlight(
                edges_on_paths(edges, source),
                nodes={source},
                label=f"all {total:,} chain-rule paths from L to {unicode_name(name or source)} "
                f"(one colour each up to {MAX_PATH_COLORS})",
                color=colors[0],
            )
        ]
    labels = labels or {}
    shared = set.intersection(*(set(p) for p in found)) if found else set()
    out = []
    for k, path in enumerate(found):  # named by the nodes that set it apart from the others
        inner = [
            unicode_name(labels.get(v, v))
            for v in path[1:-1]
            if labels.get(v, v) and (v not in shared or len(found) == 1)
        ]
        via = ", ".join(inner[:4]) + (", …" if len(inner) > 4 else "")
        out.append(
            Highlight(
                set(zip(path, path[1:])),
                nodes={source},
                label=f"path {k + 1}" + (f": via {via}" if via else ""),
                color=colors[k % len(colors)],
            )
        )
    return out


def named_values(root: Any) -> dict[str, Any]:
    """``{name: Value}`` for every named node under ``root`` (the first one wins on a clash)."""
    out: dict[str, Any] = {}
    for v in topological_order(root):
        if v.name and v.name not in out:
            out[v.name] = v
    return out


def network_graph(model: Any, loss: Any = None, inputs: Iterable[str] | None = None) -> Any:
    """The notes' picture of an MLP: circles for the inputs, the neurons and ``L``; one edge per
    weight, labelled with its name and value. With ``loss`` (a Value computed by the model), every
    circle shows ``data | grad`` read from that graph."""
    sizes = model.sizes
    values = named_values(loss) if loss is not None else {}
    x_names = list(inputs) if inputs is not None else [f"x{i}" for i in range(1, sizes[0] + 1)]

    def node(name: str, layer: int, kind: str) -> Node:
        v = values.get(name)
        return Node(
            name,
            name,
            layer,
            data=v.data if v is not None else None,
            grad=v.grad if v is not None and v._parents else None,
            kind=kind,
        )

    nodes = [node(x, 0, "input") for x in x_names]
    edges: list[Edge] = []
    prev = x_names
    for k, layer in enumerate(model.layers, 1):
        last = k == len(model.layers)
        names = []
        for neuron in layer.neurons:
            nodes.append(node(neuron.name, k, "output" if last else "neuron"))
            nodes[-1].extra = f"{neuron.b.name}={fmt(neuron.b.data, 3)}"  # the (n+1)-th parameter
            names.append(neuron.name)
            for src, w in zip(prev, neuron.w):
                edges.append(Edge(src, neuron.name, w.name, w.data))
        prev = names
    if loss is not None:
        lname = loss.name or "L"
        nodes.append(node(lname, len(model.layers) + 1, "loss"))
        nodes[-1].grad = loss.grad
        edges += [Edge(n, lname) for n in prev]
    return nodes, edges


def layer_titles(model: Any, with_loss: bool = True) -> list[str]:
    n = len(model.layers)
    titles = ["inputs"] + [f"layer {k}" for k in range(1, n)] + ["output"]
    return titles + (["loss"] if with_loss else [])


# --- Jupyter display helpers (called by _repr_svg_ / _repr_html_ of the engine's classes) ---------


def value_svg(value: Any, view: str = "op", max_nodes: int = 400) -> str:
    """SVG of the graph under a Value, each node ``name | data | grad``."""
    n = len(topological_order(value))
    if n > max_nodes:
        raise MemogradValueError(
            f"the graph has {n} nodes, too many to draw (limit {max_nodes}); draw a smaller "
            "graph or pass max_nodes"
        )
    nodes, edges, _ = value_graph(value, view)
    return graph_svg(nodes, edges, style="record")


def model_svg(model: Any, loss: Any = None, highlights: Iterable[Highlight] = ()) -> str:
    """SVG of an MLP in the notes' style (weights on the edges) while it reads, the dense
    picture (weights as coloured lines) beyond: :func:`memograd.viz.network.network_svg`."""
    from memograd.viz.network import network_svg

    return network_svg(model, loss, highlights=highlights)


def explanation_graph(explanation: Any) -> tuple[list[Node], list[Edge], list[Highlight]]:
    """The paths of a ``memograd.paths.Explanation`` as a small graph: its nodes, one edge per
    factor (labelled with the local derivative's value), one highlight group per path."""
    seen: dict[str, Node] = {}
    edges: dict[tuple[str, str], Edge] = {}
    groups = []
    for k, path in enumerate(explanation.paths, 1):
        names = list(path.nodes)
        for name in names:
            seen.setdefault(name, Node(name, name))
        group = set()
        for f, child, parent in zip(path.factors, names, names[1:]):
            edges.setdefault((parent, child), Edge(parent, child, value=f.value))
            group.add((parent, child))
        groups.append(Highlight(group, label=f"path {k}: product {fmt(path.product, 6)}"))
    nodes = list(seen.values())
    if explanation.paths:
        first = explanation.paths[0].nodes
        seen[first[0]].kind = "loss"
        seen[first[-1]].kind = "param"
    return nodes, list(edges.values()), groups


def explanation_svg(explanation: Any, max_paths: int = 12) -> str:
    """SVG of an explanation's chain-rule paths (up to ``max_paths`` highlighted)."""
    nodes, edges, groups = explanation_graph(explanation)
    title = (
        f"{unicode_name(explanation.target)}: {explanation.count} path(s), "
        f"sum {fmt(explanation.path_sum, 6)} = backprop {fmt(explanation.backprop, 6)}"
    )
    return graph_svg(
        nodes,
        edges,
        highlights=groups[:max_paths],
        title=title,
        legend=len(groups) <= max_paths,
        edge_label_at=0.5,
    )


def explanation_html(explanation: Any) -> str:
    """HTML for Jupyter: the paths picture, each path's factors, the sum and the backprop value."""
    from memograd.viz.notation import html_name

    rows = []
    for k, p in enumerate(explanation.paths[:50], 1):
        factors = " · ".join(f"{html_name(f.name)} = {fmt(f.value, 6)}" for f in p.factors)
        rows.append(f"<tr><td>{k}</td><td>{factors}</td><td>{fmt(p.product, 6)}</td></tr>")
    more = (
        f"<tr><td colspan='3'>… {explanation.count - 50} more paths</td></tr>"
        if explanation.count > 50
        else ""
    )
    return (
        f"<div>{explanation_svg(explanation)}"
        "<table><thead><tr><th>path</th><th>factors</th><th>product</th></tr></thead><tbody>"
        + "".join(rows)
        + more
        + "</tbody></table>"
        f"<p>path sum = {explanation.path_sum:.15g}; backprop = {explanation.backprop:.15g}; "
        f"difference {explanation.difference:.3g}</p>"
        f"<p>factored: {html_name(explanation.target)} = "
        f"{html_name(explanation.factored)}</p></div>"
    )


def repr_svg(obj: Any, max_nodes: int = 400) -> str | None:
    """What ``_repr_svg_`` returns for a Value (its op-level graph) or an MLP (the network
    picture); ``None`` (Jupyter then shows the text repr) when the graph is too big to draw."""
    if hasattr(obj, "layers") and hasattr(obj, "sizes"):
        return model_svg(obj)  # any width: wide layers are elided
    try:
        return value_svg(obj, max_nodes=max_nodes)
    except MemogradValueError:
        return None


def module_graph(module: Any) -> tuple[list[Node], list[Edge]]:
    """A ``memograd.nn`` model as a chain of its leaf modules (in forward order for Sequential
    models): one box per layer with its shape and parameter count."""
    leaves = [m for m in module.modules() if not m.children()]
    nodes, edges = [], []
    for k, m in enumerate(leaves):
        extra = m.extra_repr().split(", init=")[0] if hasattr(m, "extra_repr") else ""
        count = m.num_parameters() if hasattr(m, "num_parameters") else 0
        text = type(m).__name__ + (f" {extra}".replace(" -> ", " → ") if extra else "")
        if count:
            text += f" · {count:,} params"
        nodes.append(Node(f"m{k}", note=text, kind="param" if count else "op"))
        if k:
            edges.append(Edge(f"m{k - 1}", f"m{k}"))
    return nodes, edges


def module_svg(module: Any, max_layers: int = 60) -> str | None:
    """SVG of a ``memograd.nn`` model (``None`` past ``max_layers`` leaf modules)."""
    nodes, edges = module_graph(module)
    if not nodes or len(nodes) > max_layers:
        return None
    total = module.num_parameters()
    return graph_svg(
        nodes, edges, style="record", title=f"{type(module).__name__}: {total:,} parameters"
    )


# --- notebook pictures: viz gives the engine's classes their _repr_svg_ --------------------------
# The engines know nothing of pictures (the arrow runs viz -> engine only). ``import memograd``
# inside IPython/Jupyter imports this module, so a Value or an MLP shows as its drawing there.


def _value_repr_svg(self: Value | MLP) -> str | None:
    """Jupyter display: the graph under this Value (each node ``name | data | grad``), or the
    network drawn as in the notes for an MLP; ``None`` (text repr) when too big to draw."""
    return repr_svg(self)


Value._repr_svg_ = _value_repr_svg  # type: ignore[attr-defined]
MLP._repr_svg_ = _value_repr_svg  # type: ignore[attr-defined]


def _module_repr_svg(self: Module) -> str | None:
    """Jupyter display of a ``memograd.nn`` model: its layers as a chain of boxes."""
    return module_svg(self)


def _explanation_repr_html(self: Explanation) -> str:
    """Jupyter display of ``mg.explain(...)``: the paths drawn (one colour each), their factors,
    sum and backprop."""
    return explanation_html(self)


Module._repr_svg_ = _module_repr_svg  # type: ignore[attr-defined]
Explanation._repr_html_ = _explanation_repr_html  # type: ignore[attr-defined]
