"""``memograd explain``: the chain-rule paths of one gradient, next to backprop's value.

Builds the notes' network (``--net 2,2,2,1``) with seeded weights or weights from a JSON file,
one input and one target, and prints for the chosen weight every path with its factors, the path
sum, the backprop value and their difference, the factored form and the memo-table terms reused.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from memograd.cli import UI, UsageError, _json_default

HELP = "show every chain-rule path of dL/dw, their sum, and backprop's memoized value"
DESCRIPTION = (
    "Build the notes' network (inputs x1, x2, ..., neurons o11, o12, o21, ..., output yhat,\n"
    "loss L) and explain one gradient, e.g. dL/dw11^1: every chain-rule path with its numbers,\n"
    "the path sum, the backprop value and their difference, the factored form\n"
    "dL/dyhat [ ... + ... ] and which adjoints backprop already has in its memo table.\n"
    "--format json holds everything needed to re-check it, and passed back as --weights FILE\n"
    "it rebuilds the same network, input and target."
)
EXAMPLE = [
    "memograd explain --wrt w11^1",
    "memograd explain --net 2,3,3,1 --activation tanh --all --format json",
    "memograd explain --wrt w11^2 --view op --format latex",
]
FORMATS = ("text", "latex", "json", "svg", "html")
SUMMARY_PAST = 16  # --all on a terminal: one line per parameter past this many
TERMINAL_PATHS = 100  # json/latex: tens of lines per path; more paths on a terminal: --out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--net",
        metavar="N0,N1,...",
        help="inputs, then layer widths (default 2,2,2,1, or the --weights file's)",
    )
    parser.add_argument(
        "--activation",
        choices=("sigmoid", "tanh", "relu", "linear"),
        help="default sigmoid, or the --weights file's",
    )
    parser.add_argument(
        "--loss", choices=("mse", "bce", "hinge"), help="default mse, or the --weights file's"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of weights, input and target")
    parser.add_argument(
        "--weights",
        metavar="FILE",
        help="JSON: {name: value} or {'weights': {...}, 'inputs': ..., 'target': ...}",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--wrt", metavar="NAME", help="the parameter (default: w11^1)")
    which.add_argument(
        "--all",
        action="store_true",
        help=f"every parameter (past {SUMMARY_PAST} parameters the terminal gets one line each)",
    )
    parser.add_argument(
        "--view",
        default="neuron",
        choices=("neuron", "op"),
        help="neuron: paths through named nodes, as the notes write them; op: through every "
        "engine node",
    )
    parser.add_argument(
        "--format",
        default=None,
        choices=FORMATS,
        help="text (default), latex, json, svg (the paths picture) or html (picture and table)",
    )
    parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write the output to FILE (default: stdout; svg and html are refused on a terminal)",
    )


DEFAULTS = {"net": "2,2,2,1", "activation": "sigmoid", "loss": "mse"}
# the activation's derivative as the factors write it, for the reader
DERIVATIVES = {
    "sigmoid": "σ'(z) = σ(z)·(1 - σ(z)) = o·(1 - o), o the neuron's output (z: its weighted sum)",
    "tanh": "tanh'(z) = 1 - tanh²(z) = 1 - o², o the neuron's output (z: its weighted sum)",
    "relu": "relu'(z) = 1 if z > 0 else 0 (0 at z = 0)",
}


def build(args: argparse.Namespace) -> Any:
    """The network of the arguments (usage errors for a bad --net). What is not given comes from
    the --weights file when it records it (as ``--format json`` does), else from DEFAULTS."""
    from memograd.errors import MemogradValueError
    from memograd.scalar.nn import notes_network, parse_net, read_json_object

    recorded = read_json_object(args.weights)[0] if args.weights else {}
    for key, default in DEFAULTS.items():
        if getattr(args, key) is None:
            value = recorded.get(key, default)
            if key == "net":
                value = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            setattr(args, key, value)
    try:
        sizes = parse_net(args.net)
    except MemogradValueError as exc:
        raise UsageError(f"--net: {exc}") from None
    if args.loss == "bce" and args.activation != "sigmoid":
        raise UsageError(
            f"--loss bce needs outputs in (0, 1), which --activation {args.activation} does not "
            "guarantee; use --activation sigmoid (or --loss mse)"
        )
    return notes_network(
        net=sizes,
        activation=args.activation,
        loss=args.loss,
        seed=args.seed,
        weights=args.weights,
    )


def _format(args: argparse.Namespace) -> str:
    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json and --format {args.format} disagree; give one of them")
    fmt = "json" if args.json else (args.format or "text")
    if args.out is not None and not args.out.strip():
        raise UsageError("--out: empty file name; give a file such as paths.svg")
    if fmt in ("svg", "html"):
        if args.all:
            raise UsageError(f"--format {fmt} draws one parameter's paths: give --wrt NAME")
        if args.out is None and _is_terminal(ui_stream(args)):
            raise UsageError(
                f"--format {fmt} is markup, not for the terminal: give --out FILE (e.g. --out "
                f"paths.{fmt}) or redirect stdout"
            )
    return fmt


def ui_stream(args: argparse.Namespace) -> TextIO:
    return getattr(args, "_stdout", None) or sys.stdout


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def run(args: argparse.Namespace, ui: UI) -> int:
    from memograd.paths import MAX_PATHS, PathIndex

    args._stdout = ui.stdout
    fmt = _format(args)
    ex = build(args)
    params = ex.model.named_parameters()
    if args.all:
        names = list(params)
    else:
        name = "w11^1" if args.wrt is None else args.wrt
        if name not in params:
            shown = list(params)
            valid = ", ".join(shown[:12]) + (
                f", … ({len(shown)} in all)" if len(shown) > 12 else ""
            )
            raise UsageError(
                f"--wrt: unknown parameter {name!r}; valid names for --net {args.net}: {valid}"
            )
        names = [name]
    plist = list(params.values())
    index = PathIndex(ex.loss, view=args.view, params=plist)  # the graph's tables, computed once
    for name in names:
        n = index.count(params[name])
        if n > MAX_PATHS:
            raise UsageError(
                f"{name} has {n:,} chain-rule paths from L ({args.view} view), too many to list "
                f"(limit {MAX_PATHS:,}); pick a weight nearer the output or a smaller --net, "
                "or count paths at any depth with memograd complexity"
            )
    total = sum(index.count(params[n]) for n in names)
    if fmt in ("json", "latex") and args.out is None and _is_terminal(ui.stdout):
        if total > TERMINAL_PATHS:
            raise UsageError(
                f"--format {fmt} of {len(names)} gradient(s) lists {total:,} paths (thousands of "
                f"lines), too much for the terminal: give --out FILE (e.g. --out paths.{fmt}), "
                "redirect stdout, or drop --format for the terminal's one-line-per-parameter "
                "summary"
            )
    explanations = []
    with ui.progress(f"explaining {len(names)} gradient(s)", total=len(names)) as bar:
        for n in names:
            explanations.append(index.explain(params[n]))
            bar.advance()
    if fmt == "json":
        data = {**ex.to_dict(), "seed": args.seed, "view": args.view}
        data["explanations"] = [e.to_dict() for e in explanations]
        if len(explanations) == 1:
            data.update(explanations[0].to_dict())
        if args.out is None:
            ui.json(data)
            return 0
        text = json.dumps(data, indent=2, default=_json_default) + "\n"
    elif fmt == "latex":
        text = "\n\n".join(e.latex() for e in explanations) + "\n"
    elif fmt == "svg":
        from memograd.viz.values import explanation_svg

        text = explanation_svg(explanations[0]) + "\n"
    elif fmt == "html":
        from memograd.viz.report import build_report
        from memograd.viz.values import explanation_html

        e = explanations[0]
        text = build_report(
            [("paths", f"The chain-rule paths of ∂L/∂{e.target}", explanation_html(e))],
            title=f"memograd explain: ∂L/∂{e.target}",
            generator="memograd explain",
        )
    elif args.out is None:
        _render(ex, explanations, args, ui, summary=len(explanations) > SUMMARY_PAST)
        return 0
    else:  # text into a file: everything, plain, no summary
        import io

        from memograd.cli import UI

        buf = io.StringIO()
        _render(
            ex, explanations, args, UI(no_color=True, stdout=buf, ascii=ui.ascii), summary=False
        )
        text = buf.getvalue()
    if args.out is None:
        ui.stdout.write(text)
        ui.stdout.flush()
        return 0
    from pathlib import Path

    from memograd import _io
    from memograd.cli import user_text

    path = Path(_io.atomic_write_text(args.out, text)).resolve()
    ui.print(
        f"{fmt} explanation of {len(explanations)} gradient(s) written to "
        f"[bold]{user_text(path)}[/]",
        soft_wrap=True,
    )
    return 0


def _render(
    ex: Any, explanations: Any, args: argparse.Namespace, ui: UI, summary: bool = False
) -> None:
    from rich.table import Table

    from memograd.paths import SHOWN
    from memograd.viz.notation import unicode_name as display

    d = ex.to_dict()
    sizes = "-".join(map(str, d["net"]))
    inputs = ", ".join(f"{display(k)} = {v:.6g}" for k, v in d["inputs"].items())
    outputs = ", ".join(f"{display(k)} = {v:.6g}" for k, v in d["outputs"].items())
    net = d["net"]
    per_layer = " + ".join(f"{n}×({m}+1)" for m, n in zip(net, net[1:]))
    ui.print(
        f"[bold]network[/] {sizes}, activation {ex.activation}, loss {ex.loss_name}, "
        f"seed {args.seed}"
    )
    ui.print(
        f"{len(d['weights'])} parameters = {per_layer}: (inputs + 1 bias) per neuron",
        markup=False,
    )
    targets = d["target"] if isinstance(d["target"], list) else [d["target"]]
    target = ", ".join(f"{t:.6g}" for t in targets)
    ui.print(f"input {inputs}; target {target}; {outputs}; L = {d['L']:.6g}", markup=False)
    if summary:
        _summary(explanations, ui)
        explanations_shown = []
    else:
        explanations_shown = explanations
    for e in explanations_shown:
        ui.print("")
        ui.print(f"[bold]{display(e.target)}[/]: {e.count} path(s), {e.view} view")
        for i, p in enumerate(e.paths[:SHOWN], 1):
            table = Table(
                title=f"path {i}: {' → '.join(map(display, p.nodes))}",
                title_justify="left",
                show_edge=False,
            )
            table.add_column("factor")
            table.add_column("formula")
            table.add_column("value", justify="right")
            for f in p.factors:
                table.add_row(display(f.name), display(f.formula), f"{f.value:.10g}")
            table.add_row("product", "", f"{p.product:.10g}", style="bold")
            ui.print(table)
        if e.view == "neuron" and ex.activation in DERIVATIVES:
            ui.print(DERIVATIVES[ex.activation], markup=False, style="dim")
        if e.count > SHOWN:
            ui.print(
                f"… {e.count - SHOWN:,} more paths, not shown (--format json lists all); "
                "the sum below is over all of them",
                markup=False,
            )
        ui.print(f"path sum   = {e.path_sum:.17g}", markup=False)
        ui.print(f"backprop   = {e.backprop:.17g}", markup=False)
        ui.print(f"difference = {e.difference:.3g}", markup=False)
        ui.print(f"factored:  {display(e.target)} = {display(e.factored)}", markup=False)
        ui.print(f"           = {e.factored_values}", markup=False)
        hits = [r for r in e.reused if r.users]
        if e.reused:
            ui.print("memo table: adjoints backprop stores once and reuses")
            table = Table(show_edge=False)
            table.add_column("adjoint")
            table.add_column("value", justify="right")
            table.add_column("already in the table from")
            table.add_column("naive recomputes", justify="right")
            table.add_column("backprop reads", justify="right")
            for r in e.reused:
                users = ", ".join(map(display, r.users[:3])) if r.users else "- (new here)"
                if len(r.users) > 3:
                    users += f" +{len(r.users) - 3} more"
                table.add_row(display(r.name), f"{r.value:.6g}", users, str(r.uses), str(r.reads))
            ui.print(table)
            ui.print(
                "naive recomputes: parameter paths through the node (enumeration multiplies "
                "its prefix again on each); backprop reads: edges it is pushed along, once each",
                markup=False,
                style="dim",
            )
        if hits:
            ui.print(
                f"{len(hits)} of the {len(e.reused)} adjoints on these paths were already "
                "computed for parameters nearer the output: we don't need to calculate them again.",
                markup=False,
            )
    c = explanations[0].cost if explanations else None
    if c is not None:
        ui.print("")
        ui.print(
            f"[bold]cost[/] of all {c.parameters} parameters' gradients, counted on the graph "
            f"({c.nodes} nodes, {c.edges} edges):\n"
            f"  path by path: {c.naive_multiplications} multiplications + "
            f"{c.naive_additions} additions = {c.naive}\n"
            f"  memoized backprop: {c.backprop_multiplications} multiplications (one per edge) "
            f"+ {c.backprop_additions} additions = {c.backprop}: {c.ratio:.2f}x fewer"
        )


def _summary(explanations: Any, ui: UI) -> None:
    """``--all`` with many parameters, on the terminal: one line each (the paths' tables of
    thousands of paths would be tens of thousands of lines)."""
    from rich.table import Table

    from memograd.viz.notation import unicode_name

    ui.print("")
    table = Table(
        title=f"{len(explanations)} parameters, one line each (paths: --wrt NAME; every path: "
        "--format json or --out FILE)",
        title_justify="left",
        show_edge=False,
    )
    for col in ("parameter", "paths", "path sum", "backprop", "difference"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for e in explanations:
        table.add_row(
            unicode_name(e.wrt),
            f"{e.count:,}",
            f"{e.path_sum:.10g}",
            f"{e.backprop:.10g}",
            f"{e.difference:.2g}",
        )
    ui.print(table)
