"""Section 4: the memo table filling during backward, node by node.

``memograd.graph.backward`` walks the nodes from L back to the leaves. Each step *reads* one entry
``adjoint[node] = ∂L/∂node`` (complete: every consumer has already added its share), multiplies it
by the node's local derivatives and *adds* a share into each parent's entry, then drops the entry.
A :class:`memograd.graph.Trace` watches it happen; this section prints what it saw: what is stored,
what is read, how many contributions each entry sums (2 for o11 and o12: the notes' "both paths"),
and how often each stored value is reused (once per parent). Beside it, the number of chain-rule
paths from L to each node: how many times path enumeration would recompute the same product.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.lesson import UI

from typing import Any

from memograd.viz.notation import fmt, html_name, term, unicode_name

KEY = "memo_table"
SECTION_3_HITS = ("o21", "o22")
TITLE = "The memo table: backward fills it node by node"


OP_VIEW_NOTE = (
    "This table shows the engine's op-level graph, where each neuron is two nodes, its weighted "
    "sum z = Σ w·input + b and its output o = σ(z): ∂L/∂ŷ is pushed to one parent (z₃₁), and "
    "∂L/∂z₃₁ to five (w₁₁³, w₂₁³, o₂₁, o₂₂, b₁³). Section 3 counts in the neuron view of the "
    "notes, where z₃₁ and ŷ are one node: there ∂L/∂ŷ is read by those five directly."
)


def _leaf_steps(data: dict[str, Any], name: Callable[[str], str]) -> str:
    """The steps the table leaves out: the leaves, read between the interior nodes."""
    leaves = [r for r in data["rows"] if r["op"] == "leaf"]
    listed = ", ".join(f"{r['step']} {name(r['node'])}" for r in leaves)
    n_params = sum(1 for r in leaves if r["kind"] == "parameter")
    return (
        f"Steps are backward's own; the missing ones are the {len(leaves)} leaves "
        f"({n_params} parameters, {len(leaves) - n_params} inputs), read in between ({listed}): "
        "each reads its complete entry once and keeps it as .grad."
    )


def _esc_html(text: str) -> str:
    import html as _html

    return _html.escape(text)


def _entry(name: str) -> str:
    """An expression read as one entry: in parentheses (∂L/∂(ŷ - y))."""
    return f"({name})" if " " in name else name


def _display(v: Any) -> str:
    """A node's name in the notes' notation; an unnamed op node by its formula (``yhat - y``)."""
    from memograd.viz.values import op_formula

    return v.name or getattr(v, "label", None) or op_formula(v) or v.op or "const"


def _recorder_class() -> Any:
    from memograd.graph import Trace

    class Recorder(Trace):
        """Records every store / push / evict of the shared backward."""

        def __init__(self) -> None:
            self.steps: list[dict[str, Any]] = []
            self.received: dict[int, list[tuple[int, object, float]]] = {}
            self.live: set[int] = set()
            self.created: dict[int, int] = {}

        def store(self, node: Any, adjoint: Any) -> None:
            self.live.discard(id(node))
            self.steps.append({"node": node, "adjoint": adjoint, "pushes": []})

        def push(self, node: Any, parent: Any, contribution: Any) -> None:
            step = len(self.steps)
            self.steps[-1]["pushes"].append((parent, contribution))
            self.received.setdefault(id(parent), []).append((step, node, contribution))
            self.created.setdefault(id(parent), step)
            self.live.add(id(parent))

        def evict(self, node: Any) -> None:
            self.steps[-1]["table_after"] = len(self.live)

    return Recorder


def paths_from_root(root: Any, order: Any) -> dict[int, int]:
    """Number of chain-rule paths from ``root`` to every node (dynamic programming over edges,
    children before parents): paths[root] = 1, paths[p] = Σ over children c of paths[c]."""
    count = {id(root): 1}
    for v in reversed(order):
        c = count.get(id(v), 0)
        for p in v.parents:
            if p is not None:
                count[id(p)] = count.get(id(p), 0) + c
    return count


def compute(options: dict[str, Any] | None = None) -> dict[str, Any]:
    from memograd.graph import backward, topological_order
    from memograd.lesson.network import example

    ex = example()
    loss = ex.loss
    order = topological_order(loss)
    rec = _recorder_class()()
    stats = backward(loss, 1.0, trace=rec)
    loss.backward()  # the engine's own backward: its .grad must equal what the trace saw
    npaths = paths_from_root(loss, order)
    params = {id(p) for p in ex.model.parameters()}
    rows = []
    for step, s in enumerate(rec.steps, 1):
        v = s["node"]
        received = rec.received.get(id(v), [])
        rows.append(
            {
                "step": step,
                "node": _display(v),
                "op": v.op or "leaf",
                "kind": "parameter" if id(v) in params else ("input" if not v.parents else "op"),
                "adjoint": s["adjoint"],
                "grad": v.grad,
                "created_at": rec.created.get(id(v), 0),
                "sum_of": [{"from": _display(c), "share": share} for _, c, share in received],
                "pushed_to": [{"parent": _display(p), "share": share} for p, share in s["pushes"]],
                "reads": 1,
                "reuse": len(s["pushes"]),
                "paths_from_L": npaths.get(id(v), 0),
                "table_after": s.get("table_after", 0),
            }
        )
    interior = [r for r in rows if r["op"] != "leaf"]
    return {
        "nodes": stats.nodes,
        "edges": stats.edges,
        "peak_entries": stats.peak_entries,
        "graph_nodes": len(order),
        "rows": rows,
        "stored_once": all(sum(1 for r in rows if r["node"] == x["node"]) == 1 for x in rows),
        "max_grad_mismatch": max(abs(r["adjoint"] - r["grad"]) for r in rows),
        "summed_entries": [r["node"] for r in rows if len(r["sum_of"]) > 1],
        "reused_values": sum(r["reuse"] for r in interior),
        "path_products_naive": sum(r["paths_from_L"] for r in rows if r["kind"] == "parameter"),
        # one multiplication per edge; an addition for every contribution after an entry's first
        "multiplications": stats.edges,
        "additions": sum(max(len(r["sum_of"]) - 1, 0) for r in rows),
        # section 3's memo hits: the entries dL/dw11^1's two paths share with the layer-2 weights
        "section_3_hits": [
            {"node": r["node"], "step": r["step"], "adjoint": r["adjoint"]}
            for r in rows
            if r["node"] in SECTION_3_HITS
        ],
    }


def render(data: dict[str, Any], ui: UI) -> None:
    from rich.table import Table

    ui.print(
        "backward reads each entry ∂L/∂node once, when it is complete, multiplies it by the "
        "node's local derivatives and adds a share into each parent's entry; then the entry "
        "leaves the table. [bold]Each adjoint is computed once and reused by every parent.[/]"
    )
    ui.print(OP_VIEW_NOTE)
    t = Table(show_lines=False)
    for col, just in (
        ("step", "right"),
        ("read ∂L/∂node", "left"),
        ("value", "right"),
        ("= sum of", "left"),
        ("pushed to (reuse)", "left"),
        ("paths", "right"),
        ("alive", "right"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]  # "left"/"right" literals
    for r in data["rows"]:
        if r["op"] == "leaf":
            continue
        summed = " + ".join(unicode_name(c["from"]) for c in r["sum_of"]) or "seed 1"
        style = "bold" if len(r["sum_of"]) > 1 else ""
        pushed = ", ".join(unicode_name(p["parent"]) for p in r["pushed_to"])
        t.add_row(
            str(r["step"]),
            f"[{style}]{unicode_name(r['node'])}[/]" if style else unicode_name(r["node"]),
            fmt(r["adjoint"]),
            summed,
            f"{pushed} ({r['reuse']}×)",
            str(r["paths_from_L"]),
            str(r["table_after"]),
        )
    ui.print(t)
    ui.print(
        "paths = chain-rule paths from L to the node (how often path enumeration would "
        "recompute ∂L/∂node); alive = entries in the table after the step."
    )
    ui.print(_leaf_steps(data, unicode_name))
    ui.print(
        f"{data['nodes']} entries, each stored once; {data['multiplications']} multiplications "
        f"(one per edge) and {data['additions']} additions; at most {data['peak_entries']} "
        "entries alive at a time. Entries that sum two "
        f"contributions (the notes' both paths): "
        f"{', '.join(unicode_name(n) for n in data['summed_entries'])}. All "
        f"{data['path_products_naive']} paths from L to the 15 parameters start with ∂L/∂ŷ: "
        f"path by path it is multiplied through {data['path_products_naive']} times, here it "
        "is computed once."
    )
    hits = "; ".join(
        f"∂L/∂{unicode_name(h['node'])} = {fmt(h['adjoint'])} (step {h['step']})"
        for h in data["section_3_hits"]
    )
    if hits:
        ui.print(
            f"Section 3's memo hits are entries of this table: {hits}. Each is computed once, "
            "then used for the layer-2 weights and, through o₁₁ and o₁₂, for the layer-1 "
            "weights such as w₁₁¹."
        )


def html(data: dict[str, Any]) -> str:
    from memograd.viz.report import figure, note, table

    rows, classes = [], []
    for r in data["rows"]:
        if r["op"] == "leaf":
            continue
        summed = (
            " + ".join(
                f"{term(c['share'])} <small>(from {html_name(c['from'])})</small>"
                for c in r["sum_of"]
            )
            or "seed 1"
        )
        pushed = ", ".join(html_name(p["parent"]) for p in r["pushed_to"])
        rows.append(
            [
                r["step"],
                "∂L/∂" + html_name(_entry(r["node"])),
                f"<strong>{fmt(r['adjoint'])}</strong>",
                summed,
                f"{pushed} <span class='hit'>×{r['reuse']}</span>",
                r["paths_from_L"],
                r["table_after"],
            ]
        )
        classes.append("hit" if len(r["sum_of"]) > 1 else "")
    main = table(
        [
            "step",
            "entry read",
            "stored value",
            "= sum of contributions",
            "reused by (×uses)",
            "paths from L",
            "entries alive",
        ],
        rows,
        raw=True,
        left=(1, 3, 4),
        row_classes=classes,
        caption="Interior nodes in the order backward reads them, numbered by backward step "
        "(the missing steps are the leaves, read in between: see the last table; highlighted: "
        "entries that sum two contributions, the notes' 'both paths')",
    )
    leaves = [r for r in data["rows"] if r["op"] == "leaf"]
    leaf_rows = [
        [
            html_name(r["node"]),
            r["step"],
            fmt(r["adjoint"]),
            " + ".join(term(c["share"]) for c in r["sum_of"]),
            r["paths_from_L"],
        ]
        for r in leaves
    ]
    leaf_table = table(
        ["leaf", "step", "∂L/∂leaf (= .grad)", "sum of", "paths from L"],
        leaf_rows,
        raw=True,
        caption="The leaves: the 15 parameters and the 2 inputs",
    )
    return "\n".join(
        [
            "<p>Backward walks the graph from L to the leaves. At each step it <em>reads</em> "
            "one entry ∂L/∂node of the memo table, which is complete because every consumer of "
            "the node has already added its share; it multiplies that one number by the node's "
            "local derivatives, <em>adds</em> a share into each parent's entry, and drops the "
            "entry. Below is what a <code>memograd.graph.Trace</code> saw while the shared "
            "backward ran on the notes' network.</p>",
            f"<p>{_esc_html(OP_VIEW_NOTE)}</p>",
            figure(
                lifetime_svg(data),
                "Each bar is one entry of the memo table: created when "
                "the first consumer pushes into it, read (●) once, then dropped. Dots (◆) "
                "mark contributions added; the number is how many parents reuse the value.",
            ),
            main,
            note(
                f"<strong>{data['nodes']}</strong> entries, each stored exactly once; "
                f"<strong>{data['multiplications']}</strong> multiplications (one per edge) and "
                f"<strong>{data['additions']}</strong> additions (where two paths meet); at most "
                f"<strong>{data['peak_entries']}</strong> entries alive at a time. "
                "The values agree with the engine's <code>.grad</code> (largest difference "
                f"{fmt(data['max_grad_mismatch'])}).",
                "key",
            ),
            "<p>The <em>paths from L</em> column is what the chain rule written path by path "
            "costs: the adjoint of o<sub>11</sub> sits on 2 paths, so enumeration multiplies "
            "its product twice, the memo table once. Every one of the "
            f"<strong>{data['path_products_naive']}</strong> paths from L to the 15 parameters "
            "starts with ∂L/∂ŷ: path by path it is multiplied through "
            f"{data['path_products_naive']} times; the memo table computes it once.</p>",
            _hits_html(data),
            leaf_table,
        ]
    )


def _hits_html(data: dict[str, Any]) -> str:
    """Where section 3's memo hits (∂L/∂o21, ∂L/∂o22) sit in this table."""
    hits = "; ".join(
        f"∂L/∂{html_name(h['node'])} = {fmt(h['adjoint'])} (step {h['step']})"
        for h in data["section_3_hits"]
    )
    if not hits:
        return ""
    return (
        f"<p>Section 3's memo hits are entries of this table: {hits}. Each is computed once, "
        "then used for the layer-2 weights and, through o<sub>11</sub> and o<sub>12</sub>, for "
        "the layer-1 weights such as w<sub>11</sub><sup>1</sup>.</p>"
    )


def lifetime_svg(data: dict[str, Any]) -> str:
    """Gantt-like chart of the table's entries (interior nodes): created, summed, read, dropped."""
    import html as _html

    from memograd.viz.notation import svg_name
    from memograd.viz.svg import FIT, FONT, SCALES

    rows = [r for r in data["rows"] if r["op"] != "leaf"]
    steps = len(data["rows"])
    left, top, row_h, right = 70.0, 30.0, 22.0, 44.0
    step_w = min(22.0, (FIT - left - right) / (steps + 1))  # fits the report's column
    width = left + step_w * (steps + 1) + right
    height = top + row_h * len(rows) + 34
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" font-family="{FONT}" role="img" '
        f'style="{SCALES}" aria-label="memo table entries over the backward steps">',
        "<title>memo table entries over the backward steps</title>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text x="{left:.0f}" y="18" font-size="12" fill="#495057">backward step →</text>',
    ]

    def sx(step: Any) -> Any:
        return left + step_w * step

    every = 2 if step_w >= 14 else 5  # step numbers 11 px wide need room
    for k in range(0, steps + 1, every):
        out.append(
            f'<text x="{sx(k):.1f}" y="{height - 12:.1f}" text-anchor="middle" font-size="11" '
            f'fill="#868e96">{k}</text>'
            f'<line x1="{sx(k):.1f}" y1="{top - 6:.1f}" x2="{sx(k):.1f}" '
            f'y2="{height - 26:.1f}" stroke="#f1f3f5" stroke-width="1"/>'
        )
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        c, s = r["created_at"], r["step"]
        summed = len(r["sum_of"]) > 1
        color = "#d9480f" if summed else "#1c7ed6"
        out.append(
            f'<text x="{left - 8:.0f}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#212529">{svg_name(r["node"], 12)}</text>'
            f'<rect x="{sx(c):.1f}" y="{y - 5:.1f}" width="{max(sx(s) - sx(c), 2):.1f}" '
            f'height="10" rx="4" fill="{color}" fill-opacity="0.25" stroke="{color}"/>'
        )
        for step_k in sorted({x for x in _contribution_steps(data, r)}):
            out.append(
                f'<path d="M{sx(step_k):.1f},{y - 5:.1f} l5,5 l-5,5 l-5,-5 z" fill="{color}"/>'
            )
        out.append(
            f'<circle cx="{sx(s):.1f}" cy="{y:.1f}" r="5" fill="{color}"/>'
            f'<text x="{sx(s) + 10:.1f}" y="{y + 4:.1f}" font-size="11" fill="#495057">'
            f"{_html.escape('×' + str(r['reuse']))}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _contribution_steps(data: dict[str, Any], row: dict[str, Any]) -> list[int]:
    """Steps at which contributions were added to ``row``'s entry (the steps of its consumers)."""
    step_of = {r["node"]: r["step"] for r in data["rows"]}
    return [step_of[c["from"]] for c in row["sum_of"] if c["from"] in step_of]
