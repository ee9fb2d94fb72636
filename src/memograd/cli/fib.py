"""``memograd fib``: the notes' Fibonacci lesson, measured: calls, hits, depth, time per method."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse
import math
import sys
from typing import Any

from memograd.cli import UsageError

HELP = "compute Fibonacci numbers five ways and compare the counted work"
DESCRIPTION = (
    "Compute G(n) with G(0), G(1) = base (standard 0 1; the notes use 1 1) by naive recursion,\n"
    "the notes' dictionary version, @memoize, iteration and fast doubling, and compare calls,\n"
    "cache hits, recursion depth and time. Naive recursion refuses past about a minute of\n"
    "predicted work unless --force; Ctrl-C stops it and prints the counts so far."
)
EXAMPLE = [
    "memograd fib 38 --base 1 1 --method all",
    "memograd fib 6 --tree",
    "memograd fib 1000000 --method doubling",
    "memograd fib 30 --json",
]
METHOD_CHOICES = ("naive", "dict", "memo", "iter", "doubling", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("n", metavar="N", help="index of the Fibonacci number (integer >= 0)")
    parser.add_argument(
        "--method",
        default="all",
        metavar="{" + ",".join(METHOD_CHOICES) + "}",
        help="method to run (default: all)",
    )
    parser.add_argument(
        "--base",
        nargs=2,
        metavar=("A", "B"),
        default=("0", "1"),
        help="base cases G(0)=A, G(1)=B (default 0 1; the notes' d = {0: 1, 1: 1} is 1 1)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--tree",
        action="store_true",
        help="draw the naive and the memoized recursion trees (N <= 10)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="run naive recursion even when it is predicted to take over a minute",
    )


def _parse_int(text: str, what: str) -> int:
    cleaned = text.strip().replace("_", "").replace(",", "")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:  # 1e6 is fine when it is a whole number
        as_float = float(cleaned)
    except ValueError:
        as_float = None
    if as_float is not None and as_float.is_integer() and abs(as_float) < 2**53:
        return int(as_float)
    raise UsageError(f"{what} must be an integer, got {text!r}")


def run(args: argparse.Namespace, ui: UI) -> int:
    from memograd import fibonacci as F
    from memograd import fibtree as T

    n = _parse_int(args.n, "n")
    if n < 0:
        raise UsageError(f"n must be a non-negative integer, got {n}")
    if args.method not in METHOD_CHOICES:
        raise UsageError(
            f"unknown method {args.method!r}; choose one of {', '.join(METHOD_CHOICES)}"
        )
    base = (_parse_int(args.base[0], "--base A"), _parse_int(args.base[1], "--base B"))
    if args.tree and n > F.TREE_MAX_N:
        raise UsageError(
            f"--tree draws at most N={F.TREE_MAX_N} (the naive tree of {n} has "
            f"{F.naive_calls(n):,} calls); drop --tree or pick a smaller N"
        )
    methods = F.METHODS if args.method == "all" else (args.method,)
    if args.method == "all":
        runs = []
        for k, method in enumerate(methods, 1):
            with ui.timed(f"fib({n:,}) {method} ({k}/{len(methods)})", _estimate(n, method, F)):
                runs += F.compare(n, (method,), base, force=args.force)
            if runs[-1].interrupted:
                break
    else:
        try:
            with ui.timed(f"fib({n:,}) {args.method}", _estimate(n, args.method, F)):
                runs = [F.measure(n, args.method, base, force=args.force)]
        # a refusal, not a crash: exit 1
        except (F.NaiveTooSlow, F.TableTooLarge, F.ResultTooLarge) as exc:
            message = str(exc).removeprefix("fib: ")
            print(f"memograd fib: error: {message}", file=sys.stderr)
            return 1

    data = _as_data(n, base, runs, F)
    if args.tree:
        data["tree"] = {
            "naive": T.recursion_tree(n, "naive", base).as_dict(),
            "memo": T.recursion_tree(n, "memo", base).as_dict(),
        }
    if args.json:
        ui.json(data)
    else:
        _render(n, base, runs, data, ui, F)
        if args.tree:
            _render_trees(n, base, ui, F)
    interrupted = [r for r in runs if r.interrupted]
    if interrupted:
        r = interrupted[0]
        of = ""
        if r.predicted_calls:
            of = f" of {r.predicted_calls:,} ({100 * r.calls / r.predicted_calls:.0f}%)"
        print(
            f"memograd fib: interrupted: {r.method} stopped after {r.calls:,} calls{of}, "
            f"{r.additions:,} additions, max depth {r.max_depth}, {r.seconds:.1f} s",
            file=sys.stderr,
        )
        return 130
    return 0


def _estimate(n: int, method: str, F: Any) -> float | None:
    """Seconds naive recursion is predicted to take (closed-form calls times the measured cost
    of a call), for the progress bar; ``None`` for the other methods (a spinner: they are fast,
    or refused up front when they would not be)."""
    if method != "naive" or n > F.NAIVE_MAX_N:
        return None
    seconds = float(F.predict_naive(n)[1])
    return seconds if seconds > 0.5 else None


def _ratio(runs: Any, F: Any) -> dict[str, Any] | None:
    """Naive calls / memoized calls; naive's predicted count when it did not run."""
    by = {r.method: r for r in runs}
    naive = by.get("naive")
    memo = by.get("memo") or by.get("dict")
    if naive is None or memo is None or memo.skipped or naive.interrupted:
        return None
    counted = not naive.skipped
    naive_calls = naive.calls if counted else naive.predicted_calls
    try:
        ratio = naive_calls / memo.calls
    except OverflowError:  # n in the thousands: the ratio has hundreds of digits
        ratio = None
    big = F.digit_count(naive_calls) > 4000
    return {
        "naive_calls": F.short_value(naive_calls) if big else naive_calls,
        "naive_calls_counted": counted,
        "memoized_method": memo.method,
        "memoized_calls": memo.calls,
        "ratio": ratio,
        "ratio_log10": math.log10(naive_calls) - math.log10(memo.calls),
    }


def _as_data(n: int, base: Any, runs: Any, F: Any) -> dict[str, Any]:
    if tuple(base) == F.NOTES_BASE:
        convention = "the notes' base, d = {0: 1, 1: 1}"
    elif tuple(base) == F.STANDARD:
        convention = "standard base"
    else:
        convention = "custom base"
    data = {
        "n": n,
        "base": list(base),
        "convention": convention,
        "methods": {r.method: r.as_dict() for r in runs},
    }
    ratio = _ratio(runs, F)
    if ratio is not None:
        data["naive_over_memoized_calls"] = ratio
    return data


def _fmt(x: float) -> str:
    return "-" if x is None else f"{x:,}"


def _render(n: int, base: Any, runs: Any, data: dict[str, Any], ui: UI, F: Any) -> None:
    from rich import box
    from rich.table import Table

    conv = data["convention"]
    # a line of its own: a table title would wrap at the (narrow) table's width
    ui.print(f"G({n}) with G(0)={base[0]}, G(1)={base[1]} ({conv})", markup=False)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col in ("method", "value", "digits", "calls", "hits", "depth", "time"):
        table.add_column(
            col, justify="left" if col in ("method", "value") else "right", no_wrap=True
        )
    for r in runs:
        if r.skipped:
            predicted = "-"
            if r.predicted_calls is not None:
                d = F.digit_count(r.predicted_calls)
                predicted = f"{r.predicted_calls:,}*" if d <= 15 else f"~1e{d - 1}*"
            table.add_row(r.method, "[dim]skipped[/]", "", predicted, "", "", "")
            continue
        if r.interrupted:
            value, digits = "[yellow]interrupted[/]", ""
        else:
            value, digits = F.short_value(r.value, keep=5, with_digits=False), _fmt(r.digits)
        table.add_row(
            r.method,
            value,
            digits,
            _fmt(r.calls),
            _fmt(r.hits),
            _fmt(r.max_depth),
            F.human_seconds(r.seconds),
        )
    ui.print(table)
    for r in runs:
        if r.extra.get("chunked"):
            ui.print(
                f"[dim]{r.method}: this Python caps recursion through C code (the lru_cache), so "
                f"the table was filled bottom-up in steps of {r.extra['chunked']} levels "
                f"(max depth {r.max_depth}, not {n})[/]"
            )
        if r.skipped:
            ui.print(f"[dim]* {r.method} skipped: {r.skipped.removeprefix('fib: ')}[/]")
        elif r.method == "naive" and r.predicted_calls is not None and not r.interrupted:
            same = "=" if r.calls == r.predicted_calls else "≠"
            ui.print(f"naive calls counted {r.calls:,} {same} 2*F(n+1) - 1 = {r.predicted_calls:,}")
    ratio = data.get("naive_over_memoized_calls")
    if ratio:
        how = "counted" if ratio["naive_calls_counted"] else "predicted"
        calls = ratio["naive_calls"]
        calls = F.short_value(calls, keep=6) if isinstance(calls, int) else calls
        times = (
            f"{ratio['ratio']:,.1f}×"
            if ratio["ratio"] is not None and ratio["ratio"] < 1e15
            else f"10^{ratio['ratio_log10']:.1f}×"
        )
        ui.print(
            f"naive calls / {ratio['memoized_method']} calls = {calls} ({how}) / "
            f"{ratio['memoized_calls']:,} = [bold]{times}[/]"
        )


def _render_trees(n: int, base: Any, ui: UI, F: Any) -> None:
    from rich.table import Table

    from memograd import fibtree as T

    naive = T.recursion_tree(n, "naive", base)
    memo = T.recursion_tree(n, "memo", base)
    ui.print(
        f"\n[bold]naive[/]: {naive.count():,} calls, {naive.count('repeat'):,} of them repeat "
        f"a subproblem already solved (↺)\n[bold]memoized[/]: {memo.count():,} calls, "
        f"{memo.count('hit')} answered from the cache (✓)"
    )
    tree_text: Any = T.tree_text  # fibtree is not typed yet
    left, right = tree_text(T.tree_rows(naive)), tree_text(T.tree_rows(memo))
    # side by side (4 cells of padding on each side of each column) would wrap: stack them
    if _width(left) + _width(right) + 16 > ui.console.width:
        ui.print("\n[bold]naive[/]")
        ui.print(left, end="", no_wrap=True, overflow="ignore", crop=False)
        ui.print("[bold]memoized[/]")
        ui.print(right, end="", no_wrap=True, overflow="ignore", crop=False)
        return
    grid = Table(show_header=True, box=None, padding=(0, 4))
    grid.add_column("naive", no_wrap=True)
    grid.add_column("memoized", no_wrap=True)
    grid.add_row(left, right)
    ui.print(grid)


def _width(text: Any) -> int:
    """Widest line of a rich Text, in terminal cells."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.plain.splitlines()), default=0)
