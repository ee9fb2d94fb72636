"""``memograd graph``: draw the computation graph of the notes' network, each node ``data | grad``.

Formats: ``svg`` (memograd's own layout, needs nothing), ``dot`` (Graphviz text, always works),
``html`` (a self-contained page with the SVG). ``--engine graphviz`` renders the SVG with Graphviz's
``dot`` program instead, when it is installed, and says so clearly when it is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse
import textwrap
from pathlib import Path
from typing import Any

from memograd.cli import UsageError, user_text

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--net", default="2,2,2,1", metavar="N0,N1,...", help="inputs, then layer widths"
    )
    parser.add_argument(
        "--view",
        choices=("neuron", "op"),
        default="neuron",
        help="neuron: named nodes only, as the notes draw; op: every engine node",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="svg",
        dest="fmt",
        help="svg, dot (Graphviz text), or html (a self-contained page)",
    )
    parser.add_argument(
        "--engine",
        choices=("own", "graphviz"),
        default="own",
        help="who lays out svg/html: memograd's own layout or Graphviz's dot",
    )
    parser.add_argument(
        "--activation",
        choices=("sigmoid", "tanh", "relu", "linear"),
        default="sigmoid",
        help="every neuron's activation",
    )
    parser.add_argument("--seed", type=int, default=0, help="weights, input and target seed")
    parser.add_argument(
        "--wrt",
        metavar="NAME",
        help="highlight every chain-rule path from L to this node (e.g. w11^1)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write to FILE (default: stdout, when it is not a terminal; svg and html are "
        "refused on a terminal)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="with --out: print what was written (path, nodes, edges) as JSON",
    )


RECORD_MAX = 80  # a neuron-level graph with more nodes is drawn as the network (viz.network)
MAX_DENSE_NODES = 200_000  # the network picture elides wide layers; building the graph is the cost
TERMINAL_DOT_NODES = 300  # DOT text of more nodes on a terminal: ask for --out
MAX_DOT_NODES = 20_000  # DOT text of more nodes is megabytes that Graphviz cannot lay out


def predicted_nodes(sizes: tuple[int, ...] | list[int], view: str) -> int:
    """Nodes of the graph before it is built (the size guard): inputs, parameters, one named
    output per neuron and L; the op view adds a weighted sum per neuron and the loss's ops."""
    params = sum(n * (m + 1) for m, n in zip(sizes, sizes[1:]))
    neurons = sum(sizes[1:])
    named = sizes[0] + params + neurons + 1
    outputs = sizes[-1]  # the loss: ŷ - y (L is the square) or, per output, - and ², +, ÷ (L)
    extra = neurons + (1 if outputs == 1 else 3 * outputs - 1)
    return int(named if view == "neuron" else named + extra)


def _predicted(net: str, view: str) -> int:
    from memograd.errors import MemogradValueError
    from memograd.scalar.nn import parse_net

    try:
        return predicted_nodes(parse_net(net), view)
    except MemogradValueError as exc:
        raise UsageError(f"--net: {exc}") from None


def build(
    net: str, view: str, activation: str = "sigmoid", seed: int = 0, limit: Any = None
) -> Any:
    """The example's loss graph after backward: (nodes, edges, example). With ``limit``, a
    network whose graph would have more nodes is refused before it is built."""
    from memograd.errors import MemogradValueError
    from memograd.scalar.nn import notes_network, parse_net
    from memograd.viz.values import value_graph

    try:
        sizes = parse_net(net)
    except MemogradValueError as exc:
        raise UsageError(f"--net: {exc}") from None
    if limit is not None and predicted_nodes(sizes, view) > limit:
        raise UsageError(
            f"--net {net}: the {view}-level graph would have {predicted_nodes(sizes, view):,} "
            f"nodes, more than this format can show (limit {limit:,}); use a smaller --net"
            + (", --view neuron, or --format dot" if limit < MAX_DOT_NODES else "")
        )
    try:
        ex = notes_network(net=sizes, activation=activation, loss="mse", seed=seed)
    except MemogradValueError as exc:
        raise UsageError(str(exc)) from None
    assert ex.loss is not None  # notes_network always builds the loss
    ex.loss.backward()
    nodes, edges, _ = value_graph(ex.loss, view, params=ex.model.parameters())
    return nodes, edges, ex


def run(args: argparse.Namespace, ui: UI) -> int:
    from memograd import _io
    from memograd.viz.dot import render, to_dot
    from memograd.viz.svg import graph_svg

    if args.out is not None and not args.out.strip():
        raise UsageError(
            "--out: empty file name; give a file such as graph.svg, or leave --out "
            "out to write to stdout"
        )
    if args.out is None and args.fmt != "dot" and _is_terminal(ui.stdout):
        raise UsageError(
            f"--format {args.fmt} is XML, not for the terminal: give --out FILE (e.g. --out "
            f"graph.{args.fmt}), redirect stdout (> graph.{args.fmt}), or use --format dot"
        )
    if args.json and args.out is None:
        raise UsageError("--json describes the file written with --out; give --out FILE")
    if args.out is None and _is_terminal(ui.stdout):
        nodes = _predicted(args.net, args.view)
        if nodes > TERMINAL_DOT_NODES:
            raise UsageError(
                f"--format dot of {nodes:,} nodes is thousands of lines, too much for the "
                "terminal: give --out FILE (e.g. --out graph.dot), redirect stdout or pipe it "
                "to dot (| dot -Tsvg -o graph.svg)"
            )
    dense = False
    if args.fmt == "dot" or args.engine == "graphviz":
        limit = MAX_DOT_NODES
    elif args.view == "neuron":
        limit = MAX_DENSE_NODES
        dense = _predicted(args.net, "neuron") > RECORD_MAX
    else:
        limit = MAX_NODES
    # large nets take seconds to build and lay out: a spinner on stderr meanwhile
    with ui.progress(f"drawing the {args.view}-level graph of {args.net}"):
        nodes, edges, ex = build(args.net, args.view, args.activation, args.seed, limit=limit)
        sizes = "-".join(map(str, ex.model.sizes))
        if args.wrt is not None:
            _check_wrt(nodes, args.wrt)
        title = (
            f"{sizes} network, {args.view}-level graph: data | grad per node "
            f"(L = {ex.loss.data:.4g})"
        )
        if dense:
            from memograd.viz.network import network_svg

            title = f"{sizes} network: each weight a line (L = {ex.loss.data:.4g})"
            highlights = _dense_highlights(ex, args.wrt) if args.wrt is not None else []
            svg = network_svg(ex.model, ex.loss, highlights=highlights, title=title)
            text = svg if args.fmt == "svg" else _page(svg, title, ex)
        else:
            highlights = []
            if args.wrt is not None:
                from memograd.viz.values import path_highlights

                labels = {n.id: n.label for n in nodes}
                highlights = path_highlights(edges, args.wrt, ex.loss.name or "L", labels)
            if args.fmt == "dot":
                text = to_dot(nodes, edges, highlights=highlights, title=title)
            else:
                if args.engine == "graphviz":
                    svg = render(to_dot(nodes, edges, highlights=highlights, title=title))
                    svg = svg[svg.find("<svg") :]  # drop the XML prolog and doctype for inlining
                else:
                    svg = graph_svg(
                        nodes, edges, style="record", title=title, highlights=highlights
                    )
                text = svg if args.fmt == "svg" else _page(svg, title, ex)
    if args.out is not None:
        path = Path(_io.atomic_write_text(args.out, text)).resolve()
        if args.json:
            ui.json(
                {
                    "path": str(path),
                    "format": args.fmt,
                    "view": args.view,
                    "net": sizes,
                    "nodes": len(nodes),
                    "edges": len(edges),
                }
            )
            return 0
        ui.print(
            f"{args.view}-level graph of {sizes} ({len(nodes)} nodes, {len(edges)} edges) "
            f"written to [bold]{user_text(path)}[/]",
            soft_wrap=True,
        )
    else:
        ui.stdout.write(text if text.endswith("\n") else text + "\n")
        ui.stdout.flush()
    return 0


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def _check_wrt(nodes: Any, name: str) -> None:
    if not name.strip():
        raise UsageError("--wrt: empty name; give a node name such as w11^1")
    if name not in {n.id for n in nodes}:
        names = [n.id for n in nodes if n.label]
        valid = ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")
        raise UsageError(f"--wrt: no node named {name!r} in this graph; valid names: {valid}")


def _dense_highlights(ex: Any, name: str) -> Any:
    """The chain-rule paths of ``name`` on the network picture (edges between neurons): a weight
    is its own edge, then every path from its neuron to L; a bias or a neuron starts at it."""
    from memograd.viz.network import DENSE_PATH_COLORS
    from memograd.viz.svg import Edge
    from memograd.viz.values import path_highlights

    model = ex.model
    lname = ex.loss.name or "L"
    edges, prev = [], [f"x{i + 1}" for i in range(model.sizes[0])]
    start, first = name, None
    for layer in model.layers:
        for neuron in layer.neurons:
            for src, w in zip(prev, neuron.w):
                edges.append(Edge(src, neuron.name))
                if w.name == name:
                    start, first = neuron.name, (src, neuron.name)
            if neuron.b.name == name:
                start = neuron.name
        prev = [n.name for n in layer.neurons]
    edges += [Edge(n, lname) for n in prev]
    if start not in {e.src for e in edges} | {lname}:
        raise UsageError(f"--wrt: {name!r} is not a neuron or a parameter of this network")
    groups = path_highlights(edges, start, lname, name=name, colors=DENSE_PATH_COLORS)
    for h in groups:
        if first is not None:
            h.edges.add(first)
            h.nodes = {first[0], start}
    return groups


def _page(svg: str, title: str, ex: Any) -> str:
    from memograd.viz.notation import fmt, html_name
    from memograd.viz.report import build_report, table, wide_figure

    rows = [
        [html_name(name), fmt(p.data), fmt(p.grad)]
        for name, p in ex.model.named_parameters().items()
    ]
    body = wide_figure(svg, "Each node: name | data | grad (∂L/∂node).") + table(
        ["parameter", "data", "grad ∂L/∂parameter"], rows, raw=True
    )
    return build_report(
        [("graph", title, body)], title="memograd: computation graph", generator="memograd graph"
    )
