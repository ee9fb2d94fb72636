"""Section 1: memoization, on the notes' Fibonacci example.

The notes define memoization, show that naive recursion "solve[s] same calculation multiple
times", and fix it with a dictionary passed down the recursion: ``fib(num, dict)`` called as
``fib(38, d)`` with ``d = {0: 1, 1: 1}``. Everything here is computed while the demo runs: the
notes' call itself, naive recursion against the notes' dictionary and ``@memoize`` (same base),
naive's call count for 38 from the closed form 2*F(n+1) - 1 (labelled predicted: counting it
would take seconds), the recursion trees of a small n, and naive calls against n.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.lesson import UI

import math
import time
from typing import Any

from memograd import fibonacci as F
from memograd import fibtree

KEY = "memoization"
TITLE = "Memoization: the notes' Fibonacci, counted"
DEFINITION = (
    "Memoization is an optimization technique used primarily to speedup computer programs by "
    "storing the result of expensive function calls and returning the cached result when the "
    "same inputs occur again."
)
BASE = F.NOTES_BASE  # the notes' d = {0: 1, 1: 1}
NOTES_N = 38
TREE_N = 5
TARGET_SECONDS = 1.0  # naive runs on the n it does in about this long (quick: a few ms)
QUICK_N = 16
PLOT_MEASURED_MAX = (18, 25)  # (quick, full): naive calls counted by running, n = 0..this

# why the two memoized versions differ by two hits for the same number of calls
HITS_NOTE = (
    "(The notes' dictionary starts with the base cases 0 and 1 stored, so every call that reaches "
    "them is a hit; @memoize starts empty and computes them once: two hits fewer.)"
)


def _naive_n_for(seconds: float) -> int:
    """The n whose predicted naive time is closest to ``seconds`` on this machine."""
    per_call = F.naive_seconds_per_call()
    best = 1
    for n in range(1, 60):
        if F.naive_calls(n) * per_call > seconds:
            prev = F.naive_calls(best) * per_call
            return n if abs(F.naive_calls(n) * per_call - seconds) < abs(prev - seconds) else best
        best = n
    return best


def compute(options: dict[str, Any] | None = None) -> dict[str, Any]:
    quick = bool((options or {}).get("quick"))

    # the notes' own call, exactly as written
    d = {0: 1, 1: 1}
    start = time.perf_counter()
    notes_fib: Any = F.notes_fib  # the notes' code, kept untyped as they wrote it
    value = notes_fib(NOTES_N, d)
    notes_seconds = time.perf_counter() - start
    notes_counted = F.measure(NOTES_N, "dict", BASE)

    n = QUICK_N if quick else _naive_n_for(TARGET_SECONDS)
    runs = {m: F.measure(n, m, BASE).as_dict() for m in ("naive", "dict", "memo")}
    memo_38 = F.measure(NOTES_N, "memo", BASE)
    predicted_calls, predicted_seconds = F.predict_naive(NOTES_N)

    naive_tree = fibtree.recursion_tree(TREE_N, "naive", BASE)
    memo_tree = fibtree.recursion_tree(TREE_N, "memo", BASE)

    measured_max = PLOT_MEASURED_MAX[0 if quick else 1]
    measured = [(k, F.measure(k, "naive", BASE).calls) for k in range(measured_max + 1)]
    predicted = [(k, F.naive_calls(k)) for k in range(measured_max + 1, NOTES_N + 1)]
    return {
        "definition": DEFINITION,
        "base": list(BASE),
        "base_note": "the notes' convention d = {0: 1, 1: 1}, i.e. G(0) = G(1) = 1 "
        "(with the standard F(0) = 0, F(1) = 1 this is F(n+1))",
        "notes_call": {
            "code": "d = {0: 1, 1: 1}; fib(38, d)",
            "n": NOTES_N,
            "value": value,
            "seconds": notes_seconds,
            "calls": notes_counted.calls,
            "hits": notes_counted.hits,
            "misses": notes_counted.misses,
            "dict_size_after": len(d),
        },
        "comparison": {"n": n, "quick": quick, "runs": runs},
        "naive_38": {
            "n": NOTES_N,
            "calls_predicted": predicted_calls,
            "seconds_predicted": predicted_seconds,
            "formula": "2*F(n+1) - 1",
            "memo_calls_counted": memo_38.calls,
            "memo_hits_counted": memo_38.hits,
            "memo_value": memo_38.value,
            "ratio": predicted_calls / memo_38.calls,
        },
        "trees": {
            "n": TREE_N,
            "naive": {
                "calls": naive_tree.count(),
                "repeats": naive_tree.count("repeat"),
                "lines": fibtree.tree_rows(naive_tree),
            },
            "memo": {
                "calls": memo_tree.count(),
                "hits": memo_tree.count("hit"),
                "lines": fibtree.tree_rows(memo_tree),
            },
        },
        "plot": {
            "measured": [list(p) for p in measured],
            "predicted": [list(p) for p in predicted],
            "memoized": [[k, F.memoized_calls(k)] for k in range(NOTES_N + 1)],
        },
    }


# ------------------------------------------------------------------------------ terminal


def _fmt(x: float) -> str:
    return "-" if x is None else f"{x:,}"


def render(data: dict[str, Any], ui: UI) -> None:
    from rich.table import Table

    ui.print(f'[italic]"{data["definition"]}"[/]  (the notes)\n')
    nc = data["notes_call"]
    ui.print(
        f"The notes' own call, run now: [bold]{nc['code']}[/] → [bold]{nc['value']:,}[/] "
        f"in {F.human_seconds(nc['seconds'])}; counted: {nc['calls']} calls, {nc['hits']} "
        f"answered from the dictionary, {nc['misses']} computed."
    )
    ui.print(f"[dim]Base cases: {data['base_note']}.[/]\n")

    comp = data["comparison"]
    t = Table(
        title=f"fib({comp['n']}) with the notes' base, three ways"
        + (" (quick mode: small n)" if comp["quick"] else " (n chosen so naive takes ~1 s)"),
        title_justify="left",
    )
    for col in ("method", "value", "calls", "hits", "depth", "time"):
        t.add_column(col, justify="left" if col == "method" else "right")
    labels = {
        "naive": "naive recursion",
        "dict": "the notes' fib(num, dict)",
        "memo": "@memoize",
    }
    for method, r in comp["runs"].items():
        t.add_row(
            labels[method],
            f"{r['value']:,}",
            _fmt(r["calls"]),
            _fmt(r["hits"]),
            _fmt(r["max_depth"]),
            F.human_seconds(r["seconds"]),
        )
    ui.print(t)
    naive, memo = comp["runs"]["naive"], comp["runs"]["memo"]
    ui.print(
        f"naive makes {naive['calls']:,} calls, @memoize {memo['calls']:,}: "
        f"[bold]{naive['calls'] / memo['calls']:,.0f}×[/] fewer, the same value.\n"
        f"{HITS_NOTE}\n"
    )
    n38 = data["naive_38"]
    ui.print(
        f"For the notes' n = 38, naive recursion would make [bold]{n38['calls_predicted']:,}[/] "
        f"calls ([italic]predicted[/] by {n38['formula']}, about "
        f"{F.human_seconds(n38['seconds_predicted'])} here); @memoize makes "
        f"{n38['memo_calls_counted']} (counted) and gets {n38['memo_value']:,}."
    )

    tr = data["trees"]
    ui.print(
        f"\nRecursion trees of fib({tr['n']}): naive repeats {tr['naive']['repeats']} of its "
        f'{tr["naive"]["calls"]} calls (↺, "same calculation multiple times"); memoized, '
        f"{tr['memo']['hits']} of {tr['memo']['calls']} calls are cache hits (✓)."
    )
    grid = Table(box=None, padding=(0, 4))
    grid.add_column("naive")
    grid.add_column("memoized")
    tree_text: Any = fibtree.tree_text  # fibtree is not typed yet
    grid.add_row(tree_text(tr["naive"]["lines"]), tree_text(tr["memo"]["lines"]))
    ui.print(grid)

    ui.print("Naive calls against n (log scale; * predicted by the closed form):")
    points = data["plot"]["measured"] + data["plot"]["predicted"]
    measured_n = {k for k, _ in data["plot"]["measured"]}
    top = max(c for _, c in points)
    width = 48
    for k, calls in points:
        if k % 2 and k != points[-1][0]:
            continue
        bar = "█" * max(1, round(width * math.log10(calls + 1) / math.log10(top + 1)))
        star = "" if k in measured_n else "*"
        ui.print(f"  n={k:>2} {bar} {calls:,}{star}")


# ------------------------------------------------------------------------------ HTML


def _tree_html(lines: Any) -> str:
    from memograd.viz.report import esc

    out = []
    for prefix, k, value, mark in lines:
        label = esc(f"fib({k}) = {value}")
        if mark == "repeat":
            label = f'<span class="hit">{label}  ↺ repeat</span>'
        elif mark == "hit":
            label = f'<span class="ok">{label}  ✓ hit</span>'
        out.append(esc(prefix) + label)
    return "<pre>" + "\n".join(out) + "</pre>"


def _plot_svg(data: dict[str, Any]) -> str:
    from memograd.viz.plot import Series, line_chart

    measured = data["plot"]["measured"]
    predicted = data["plot"]["predicted"]
    memoized = data["plot"]["memoized"]
    series = [
        Series("naive, counted", [k for k, _ in measured], [c for _, c in measured]),
        Series(
            "naive, predicted 2·F(n+1) − 1",
            [measured[-1][0]] + [k for k, _ in predicted],
            [measured[-1][1]] + [c for _, c in predicted],
            dashed=True,
        ),
        Series("memoized, 2n − 1", [k for k, _ in memoized], [c for _, c in memoized]),
    ]
    return line_chart(
        series,
        title="Calls to compute fib(n)",
        xlabel="n",
        ylabel="calls (log scale)",
        log_y=True,
    )


def html(data: dict[str, Any]) -> str:
    from memograd.viz.report import esc, figure, note, table

    nc = data["notes_call"]
    comp = data["comparison"]
    labels = {
        "naive": "naive recursion",
        "dict": "the notes' <code>fib(num, dict)</code>",
        "memo": "<code>@memoize</code>",
    }
    rows = [
        [
            labels[m],
            f"{r['value']:,}",
            _fmt(r["calls"]),
            _fmt(r["hits"]),
            _fmt(r["max_depth"]),
            esc(F.human_seconds(r["seconds"])),
        ]
        for m, r in comp["runs"].items()
    ]
    naive, memo = comp["runs"]["naive"], comp["runs"]["memo"]
    n38 = data["naive_38"]
    tr = data["trees"]
    try:
        plot = figure(
            _plot_svg(data),
            "Solid: counted while the demo ran. Dashed: the closed form 2·F(n+1) − 1, up to the "
            "notes' n = 38.",
        )
    except Exception as exc:  # the picture is a bonus: never lose the section for it
        plot = note(f"(plot unavailable: {esc(str(exc))})")
    return "\n".join(
        [
            f"<blockquote><em>“{esc(data['definition'])}”</em> (the notes)</blockquote>",
            "<p>The notes' function, passing a dictionary down the recursion:</p>",
            "<pre>def fib(num, dict):\n    if num in dict:\n        return dict[num]\n    else:\n"
            "        dict[num] = fib(num-1, dict) + fib(num-2, dict)\n        return dict[num]"
            "\n\nd = {0: 1, 1: 1}\nfib(38, d)</pre>",
            note(
                f"Run while this report was written: <code>fib(38, d)</code> = "
                f"<strong>{nc['value']:,}</strong> in {esc(F.human_seconds(nc['seconds']))}; "
                f"{nc['calls']} calls, {nc['hits']} answered from the dictionary, "
                f"{nc['misses']} computed. Base cases: {esc(data['base_note'])}.",
                "key",
            ),
            f"<h3>fib({comp['n']}) three ways, same base</h3>",
            table(
                ["method", "value", "calls", "hits", "max depth", "time"],
                rows,
                raw=True,
                caption=(
                    "quick mode: a small n"
                    if comp["quick"]
                    else "n chosen so that naive recursion takes about a second on this machine"
                ),
            ),
            f"<p>Naive recursion makes {naive['calls']:,} calls, <code>@memoize</code> "
            f"{memo['calls']:,}: <strong>{naive['calls'] / memo['calls']:,.0f}×</strong> fewer "
            f"for the same value. {HITS_NOTE}</p>",
            note(
                f"For the notes' n = 38, naive recursion would make "
                f"<strong>{n38['calls_predicted']:,}</strong> calls (<em>predicted</em> by "
                f"{esc(n38['formula'])}; about {esc(F.human_seconds(n38['seconds_predicted']))} "
                f"here). <code>@memoize</code> makes {n38['memo_calls_counted']} (counted): "
                f"{n38['ratio']:,.0f}× fewer."
            ),
            f"<h3>Recursion trees of fib({tr['n']})</h3>",
            f"<p>Naive recursion repeats {tr['naive']['repeats']} of its "
            f"{tr['naive']['calls']} calls (<span class='hit'>↺</span>: the same calculation "
            f"multiple times); memoized, {tr['memo']['hits']} of its {tr['memo']['calls']} calls "
            "are answered from the cache (<span class='ok'>✓</span>).</p>",
            '<div class="grid2">',
            f"<div><strong>naive</strong>{_tree_html(tr['naive']['lines'])}</div>",
            f"<div><strong>memoized</strong>{_tree_html(tr['memo']['lines'])}</div>",
            "</div>",
            "<h3>Naive calls against n</h3>",
            plot,
        ]
    )
