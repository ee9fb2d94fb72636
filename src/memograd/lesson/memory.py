"""Section 7: when memory runs out. Storing every value is what makes backprop cheap in time, and
what makes it grow in memory; forgetting and recomputing trades one for the other. Four
strategies on the same chain, measured on real graphs (``memograd.recompute.measure``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.lesson import UI

from typing import Any

from memograd.viz.notation import fmt

KEY = "memory"
TITLE = "When memory runs out: store or recompute"
DEPTHS = tuple(range(1, 13))
NAMES = {
    "store_everything": "store everything (backprop's memo)",
    "store_nothing": "store nothing (recompute every prefix)",
    "sqrt": "√n checkpoints",
    "budgeted": "budgeted (half-way between)",
}


def compute(options: dict[str, Any] | None = None) -> dict[str, Any]:
    from memograd.recompute import BATCH, WIDTH, measure

    rows = measure(DEPTHS)
    return {"width": WIDTH, "batch": BATCH, "rows": rows}


def _kib(b: int) -> str:
    return f"{b / 1024:,.1f} KiB"


def render(data: dict[str, Any], ui: UI) -> None:
    from rich.table import Table

    t = Table(
        title=f"peak memory / layer forwards recomputed, width {data['width']}, "
        f"batch {data['batch']}",
        title_justify="left",
        padding=(0, 1, 0, 0),
    )
    t.add_column("depth", justify="right")
    t.add_column("layers", justify="right")
    for key in NAMES:
        t.add_column(key.replace("_", " "), justify="right")
    for r in data["rows"]:
        t.add_row(
            str(r["depth"]),
            str(r["layers"]),
            *(f"{_kib(r[k]['peak_bytes'])} / {fmt(r[k]['recomputed'])}" for k in NAMES),
        )
    ui.print(t)
    last = data["rows"][-1]
    ui.print(
        f"At depth {last['depth']}: storing everything peaks at "
        f"{_kib(last['store_everything']['peak_bytes'])} with nothing recomputed; storing "
        f"nothing holds {_kib(last['store_nothing']['peak_bytes'])} but recomputes "
        f"{fmt(last['store_nothing']['recomputed'])} layer forwards (quadratic); √n "
        f"checkpoints hold {_kib(last['sqrt']['peak_bytes'])} for "
        f"{fmt(last['sqrt']['recomputed'])} (about one extra forward). Every strategy gives "
        "the same gradients, bit for bit: "
        + ("yes." if all(r["same_gradients"] for r in data["rows"]) else "NO (a bug).")
    )


def html(data: dict[str, Any]) -> str:
    from memograd.viz.plot import Series, line_chart
    from memograd.viz.report import figure, table

    rows = data["rows"]
    ds = [r["depth"] for r in rows]
    mem = line_chart(
        [Series(NAMES[k], ds, [r[k]["peak_bytes"] / 1024 for r in rows]) for k in NAMES],
        title="Peak memory of one training step (saved activations + memo table)",
        xlabel=f"hidden layers (width {data['width']}, batch {data['batch']})",
        ylabel="KiB",
    )
    rec = line_chart(
        [Series(NAMES[k], ds, [max(r[k]["recomputed"], 0.5) for r in rows]) for k in NAMES],
        title="Layer forwards recomputed during backward (log scale; 0 drawn at 0.5)",
        xlabel="hidden layers",
        ylabel="layer forwards",
        log_y=True,
    )
    head = ["depth", "layers", *(NAMES[k] for k in NAMES)]
    body = [
        [str(r["depth"]), str(r["layers"])]
        + [f"{_kib(r[k]['peak_bytes'])} / {fmt(r[k]['recomputed'])}" for k in NAMES]
        for r in rows
    ]
    return "".join(
        [
            "<p>The notes' third point: <em>use memoization to store a value and reuse it</em>. "
            "Storing has a price: backprop keeps every value a local derivative needs until "
            "backward reads it, so memory grows with depth. Forgetting some values and "
            "recomputing them when backward arrives (<code>mg.checkpoint</code>, "
            "<code>mg.nn.checkpoint_sequential</code>, <code>model.memory_budget</code>) trades "
            "memory for time. Each number below is measured on the real graph; every strategy "
            "gives the same gradients.</p>",
            figure(
                mem,
                "Store everything grows linearly; √n checkpoints grow like √n; storing "
                "nothing stays flat.",
            ),
            figure(
                rec,
                "…and what they pay: nothing, about one extra forward, or every prefix "
                "again (quadratic).",
            ),
            table(head, body),
        ]
    )
