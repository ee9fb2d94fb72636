"""``memograd graph``: draw the computation graph of the notes' network, each node ``data | grad``.

Formats: ``svg`` (memograd's own layout, needs nothing), ``dot`` (Graphviz text, always works),
``html`` (a self-contained page with the SVG). ``--engine graphviz`` renders the SVG with Graphviz's
``dot`` program instead, when it is installed, and says so clearly when it is not.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from memograd.cli import UsageError

HELP = "draw the computation graph (data | grad per node), neuron- or op-level"
DESCRIPTION = textwrap.fill(
    "Build the notes' network (or --net), run forward and backward, and draw the computation "
    "graph with each node's data and gradient. --view neuron shows the named nodes only "
    "(x1, w11^1, o11, yhat, L); --view op shows every node the engine made (weighted sums, "
    "activations). SVG and HTML use memograd's own layout (no system package needed); DOT "
    "text always works; --engine graphviz renders with Graphviz's dot when installed.",
    width=79,
)
EXAMPLE = [
    "memograd graph --out graph.svg",
    "memograd graph --wrt w11^1 --format html --out paths.html",
    "memograd graph --net 2,3,1 --view op --format dot",
    "memograd graph --format html --out graph.html",
]
FORMATS = ("svg", "dot", "html")
MAX_NODES = 600


def add_arguments(parser) -> None:
    parser.add_argument("--net", default="2,2,2,1", help="inputs,widths... (default 2,2,2,1)")
    parser.add_argument(
        "--view",
        choices=("neuron", "op"),
        default="neuron",
        help="neuron: named nodes only, as the notes draw (default); op: every engine node",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="svg",
        dest="fmt",
        help="svg (default), dot (Graphviz text), or html (a self-contained page)",
    )
    parser.add_argument(
        "--engine",
        choices=("own", "graphviz"),
        default="own",
        help="who lays out svg/html: memograd's own layout (default) or Graphviz's dot",
    )
    parser.add_argument(
        "--activation", default="sigmoid", help="sigmoid, tanh, relu or linear (default sigmoid)"
    )
    parser.add_argument("--seed", type=int, default=0, help="weights, input and target seed")
    parser.add_argument(
        "--wrt",
        metavar="NAME",
        help="highlight every chain-rule path from L to this node (e.g. w11^1)",
    )
    parser.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")


def build(net: str, view: str, activation: str = "sigmoid", seed: int = 0):
    """The example's loss graph after backward: (nodes, edges, example)."""
    from memograd.errors import MemogradValueError
    from memograd.scalar.nn import notes_network, parse_net
    from memograd.viz.values import value_graph

    try:
        sizes = parse_net(net)
        ex = notes_network(net=sizes, activation=activation, loss="mse", seed=seed)
    except MemogradValueError as exc:
        raise UsageError(str(exc)) from None
    ex.loss.backward()
    nodes, edges, _ = value_graph(ex.loss, view, params=ex.model.parameters())
    return nodes, edges, ex


def run(args, ui) -> int:
    from memograd import _io
    from memograd.viz.dot import render, to_dot
    from memograd.viz.svg import graph_svg

    nodes, edges, ex = build(args.net, args.view, args.activation, args.seed)
    sizes = "-".join(map(str, ex.model.sizes))
    highlights = []
    if args.wrt:
        highlights = [_paths_highlight(nodes, edges, args.wrt, ex, args.view)]
    title = (
        f"{sizes} network, {args.view}-level graph: data | grad per node (L = {ex.loss.data:.4g})"
    )
    if args.fmt == "dot":
        text = to_dot(nodes, edges, highlights=highlights, title=title)
    else:
        if args.engine == "graphviz":
            svg = render(to_dot(nodes, edges, highlights=highlights, title=title))
            svg = svg[svg.find("<svg") :]  # drop the XML prolog and doctype for inlining
        else:
            if len(nodes) > MAX_NODES:
                raise UsageError(
                    f"the {args.view}-level graph of {sizes} has {len(nodes)} nodes, too many to "
                    f"lay out (limit {MAX_NODES}); use a smaller --net, --view neuron, or "
                    "--format dot"
                )
            svg = graph_svg(nodes, edges, style="record", title=title, highlights=highlights)
        text = svg if args.fmt == "svg" else _page(svg, title, ex)
    if args.out:
        path = _io.atomic_write_text(args.out, text)
        ui.print(
            f"{args.view}-level graph of {sizes} ({len(nodes)} nodes, {len(edges)} edges) "
            f"written to [bold]{Path(path).resolve()}[/]"
        )
    else:
        ui.stdout.write(text if text.endswith("\n") else text + "\n")
        ui.stdout.flush()
    return 0


def _paths_highlight(nodes, edges, name: str, ex, view: str):
    """Highlight of every path from L to the node called ``name`` (counted by ``count_paths``)."""
    from memograd.paths import count_paths
    from memograd.viz.notation import unicode_name
    from memograd.viz.svg import Highlight
    from memograd.viz.values import edges_on_paths

    ids = {n.id for n in nodes}
    if name not in ids:
        valid = ", ".join(n.id for n in nodes if n.label)
        raise UsageError(f"--wrt: no node named {name!r} in this graph; valid names: {valid}")
    n = count_paths(ex.loss, name, view=view)
    return Highlight(
        edges_on_paths(edges, name),
        nodes={name},
        label=f"the {n} chain-rule path{'' if n == 1 else 's'} from L to {unicode_name(name)}",
        color="#d9480f",
    )


def _page(svg: str, title: str, ex) -> str:
    from memograd.viz.notation import fmt, html_name
    from memograd.viz.report import build_report, figure, table

    rows = [
        [html_name(name), fmt(p.data), fmt(p.grad)]
        for name, p in ex.model.named_parameters().items()
    ]
    body = figure(svg, "Each node: name | data | grad (∂L/∂node).") + table(
        ["parameter", "data", "grad ∂L/∂parameter"], rows, raw=True
    )
    return build_report([("graph", title, body)], title="memograd: computation graph")
