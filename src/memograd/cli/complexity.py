"""``memograd complexity``: "layer increase <-> complexity increase", counted on real graphs.

For each depth (number of hidden layers of ``--width`` neurons; the notes' 2-2-2-1 network is
width 2, depth 2) it builds the network with its loss and counts, on the real op-level graph:
parameters, chain-rule paths from L to the first-layer weight w11^1, the multiplications and
additions to get every parameter's gradient by enumerating each one's paths separately, the same
for memoized backprop (one multiply-add per edge), and their ratio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse
import io
from typing import Any

from memograd.cli import UsageError
from memograd.complexity import measure

HELP = "how path enumeration explodes with depth while memoized backprop stays linear"
DESCRIPTION = (
    "Count, on real graphs of growing depth, the chain-rule paths from L to w11^1 and the "
    "multiplications + additions needed for every parameter's gradient: naive path "
    "enumeration versus memoized backprop, and their ratio. --plot writes a log-scale chart."
)
EXAMPLE = [
    "memograd complexity",
    "memograd complexity --width 3 --depths 1-8 --plot complexity.png",
    "memograd complexity --depths 1,2,4,8 --json",
    "memograd complexity --modes --width 3 --depths 1-4",
]

MAX_DEPTH = 64
MAX_PARAMETERS = 2_000_000  # over all depths: about 20 s and a few GiB of scalar Values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--width", type=int, default=2, help="neurons per hidden layer (>= 1)")
    parser.add_argument(
        "--depths",
        default="1-12",
        metavar="A-B|A,B,...",
        help=f"hidden-layer counts to measure, each in 1..{MAX_DEPTH}",
    )
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="memory against recompute instead: peak bytes and layer forwards recomputed by "
        "store everything, store nothing, √n checkpoints and a budget, measured on real tensor "
        "graphs of each depth (batch 32); --plot F.svg draws the peaks",
    )
    parser.add_argument(
        "--modes",
        action="store_true",
        help="the full Jacobian by forward mode (one pass per input) and reverse mode (one pass "
        "per output) beside naive path enumeration",
    )
    parser.add_argument(
        "--plot", metavar="FILE", help="write a log-scale plot (png, svg or pdf; needs matplotlib)"
    )


def parse_depths(spec: str) -> list[int]:
    """``"1-12"`` -> [1..12]; ``"1,2,4"`` -> [1, 2, 4]."""
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        try:
            bounds = [int(t) for t in part.split("-", 1)]
        except ValueError:
            raise UsageError(
                f"--depths: expected a range like 1-12 or a list like 1,2,4, got {spec!r}"
            ) from None
        bad = [b for b in bounds if not 1 <= b <= MAX_DEPTH]
        if bad:  # checked before range(): a bound of 10**20 must not build a list
            raise UsageError(f"--depths: every depth must be in 1..{MAX_DEPTH}, got {bad[0]:,}")
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise UsageError(f"--depths: empty range {part!r} (start > end)")
        out.extend(range(bounds[0], bounds[-1] + 1))
    if not out:
        raise UsageError("--depths: give at least one depth")
    return sorted(set(out))


def plot(rows: list[dict[str, Any]], width: int, path: str) -> str:
    """Log-scale plot of naive vs backprop operations against depth, written atomically."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from memograd.errors import MissingExtraError

        raise MissingExtraError(
            "--plot needs matplotlib: pip install 'memograd[plot]' (the table and --json need "
            "nothing)"
        ) from None
    from memograd._io import atomic_write_bytes

    fmt = path.rsplit(".", 1)[-1].lower() if "." in path else "png"
    if fmt not in ("png", "svg", "pdf"):
        raise UsageError(f"--plot: unknown image format {fmt!r}; use .png, .svg or .pdf")
    depths = [r["depth"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.semilogy(depths, [r["naive"] for r in rows], "o-", label="path enumeration (each parameter)")
    ax.semilogy(depths, [r["backprop"] for r in rows], "s-", label="memoized backprop")
    ax.semilogy(depths, [r["paths_to_w11^1"] for r in rows], ":", label="paths L → w₁₁¹ (a count)")
    ax.set_xlabel(f"hidden layers (width {width})")
    ax.set_ylabel("operations (multiplications + additions) or paths, log scale")
    ax.set_title("Layer increase ↔ complexity increase; memoization keeps it linear")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def run(args: argparse.Namespace, ui: UI) -> int:
    if args.width < 1:
        raise UsageError(f"--width must be >= 1, got {args.width}")
    depths = parse_depths(args.depths)
    if args.memory:
        return _memory(args, depths, ui)
    # (width, width x depth, 1): depth·width·(width + 1) weights and biases, + width + 1 for ŷ
    total = sum(d * args.width * (args.width + 1) + args.width + 1 for d in depths)
    if total > MAX_PARAMETERS:
        raise UsageError(
            f"--width {args.width} --depths {args.depths} would build {total:,} scalar "
            f"parameters (limit {MAX_PARAMETERS:,}); use a smaller --width or fewer depths"
        )
    if args.modes:
        return _modes(args, depths, ui)
    rows: list[dict[str, Any]] = []
    sizes = {d: d * args.width * (args.width + 1) + args.width + 1 for d in depths}
    # the work of a depth grows with its parameters: the bar advances by them (an honest ETA)
    with ui.progress(f"counting paths, width {args.width}", total=total) as bar:
        for d in depths:
            bar.update(f"counting paths, width {args.width}, depth {d}")
            rows += measure(args.width, [d])
            bar.advance(sizes[d])
    written = plot(rows, args.width, args.plot) if args.plot else None
    if args.json:
        data = {"width": args.width, "rows": rows}
        if written:
            data["plot"] = written
        ui.json(data)
        return 0
    from rich.table import Table

    table = Table(title=f"cost of every parameter's gradient, width {args.width}")
    for col in (
        "depth",
        "params",
        "paths L→w₁₁¹",
        "naive (mul+add)",
        "backprop (mul+add)",
        "ratio",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r["depth"]),
            str(r["parameters"]),
            f"{r['paths_to_w11^1']:,}",
            f"{r['naive']:,}",
            f"{r['backprop']:,}",
            f"{r['ratio']:,.0f}x" if r["ratio"] >= 100 else f"{r['ratio']:.3g}x",
        )
    ui.print(table)
    ui.print(
        "Layer increase ↔ complexity increase: enumeration repeats every shared path prefix; "
        "backprop stores each adjoint once (memoization), about one multiply-add per edge."
    )
    if written:
        ui.print(f"plot written to {written}")
    return 0


MAX_MEMORY_DEPTH = 200


def _memory(args: argparse.Namespace, depths: list[int], ui: UI) -> int:
    """``--memory``: the four strategies of memograd.recompute, one row per depth."""
    if max(depths) > MAX_MEMORY_DEPTH:
        raise UsageError(
            f"--memory measures every depth on a real graph; use depths up to "
            f"{MAX_MEMORY_DEPTH}, got {max(depths)}"
        )
    if args.plot and not str(args.plot).endswith(".svg"):
        raise UsageError(f"--memory --plot writes SVG: give a name ending in .svg, got {args.plot}")
    from memograd.lesson.memory import NAMES
    from memograd.recompute import BATCH, measure

    rows = []
    with ui.progress("measuring memory strategies", total=sum(depths)) as bar:
        for d in depths:  # a depth's graphs grow with it: advance by the depth
            bar.update(f"measuring memory strategies, depth {d}")
            rows += measure([d], width=args.width)
            bar.advance(d)
    if args.plot:
        from memograd._io import atomic_open
        from memograd.viz.plot import Series, line_chart

        ds = [r["depth"] for r in rows]
        chart = line_chart(
            [Series(NAMES[k], ds, [r[k]["peak_bytes"] / 1024 for r in rows]) for k in NAMES],
            title="Peak memory of one training step (saved activations + memo table)",
            xlabel=f"hidden layers (width {args.width}, batch {BATCH})",
            ylabel="KiB",
        )
        with atomic_open(args.plot, "w", encoding="utf-8") as f:
            f.write(chart)
    if args.json:
        ui.json({"width": args.width, "batch": BATCH, "rows": rows, "plot": args.plot})
        return 0
    from memograd.lesson.memory import render

    render({"width": args.width, "batch": BATCH, "rows": rows}, ui)
    return 0


def _modes(args: argparse.Namespace, depths: Any, ui: UI) -> int:
    """``--modes``: memograd.tensor.functional.mode_costs for each depth (output width 1)."""
    from memograd.tensor.functional import mode_costs

    rows = [mode_costs([args.width] * (d + 1) + [1]) for d in depths]
    if args.json:
        ui.json({"width": args.width, "modes": rows})
        return 0
    from rich.table import Table

    table = Table(title=f"the full Jacobian three ways, width {args.width}, one output")
    for col in ("widths", "fwd passes", "fwd mul+add", "rev passes", "rev mul+add", "naive"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            "-".join(map(str, r["widths"])),
            str(r["forward_passes"]),
            f"{r['forward_work']:,}",
            str(r["reverse_passes"]),
            f"{r['reverse_work']:,}",
            f"{r['naive_work']:,}",
        )
    ui.print(table)
    ui.print(
        "Forward mode (mg.jacfwd, mg.jvp) pays one pass per input, reverse mode (backprop, "
        "mg.jacrev) one per output; both memoize, path enumeration does not."
    )
    return 0
