"""Section 3: the chain rule on the notes' network, path by path, and what memoization saves.

* ∂L/∂w11² has one path, L → ŷ → o21 → w11²:  ∂L/∂w11² = ∂L/∂ŷ · ∂ŷ/∂o21 · ∂o21/∂w11².
* ∂L/∂w11¹ has two, via o21 and via o22:
  ∂L/∂w11¹ = ∂L/∂ŷ [∂ŷ/∂o21 · ∂o21/∂o11 · ∂o11/∂w11¹ + ∂ŷ/∂o22 · ∂o22/∂o11 · ∂o11/∂w11¹].
  The prefix ∂L/∂ŷ · ∂ŷ/∂o21 = ∂L/∂o21 was already computed for ∂L/∂w11² (and ∂L/∂o22 for
  ∂L/∂w12²): "we don't need to calculate again". The path sum equals backprop's value.

Everything comes from ``memograd.paths.explain`` on the network of section 2 (same seed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.lesson import UI

from typing import Any

from memograd.viz.notation import fmt, html_name, partial, unicode_name

KEY = "chain_rule"
TITLE = "The chain rule: one path for ∂L/∂w₁₁², two for ∂L/∂w₁₁¹"
ONE_PATH, TWO_PATHS = "w11^2", "w11^1"


def _explain(ex: Any, wrt: str) -> dict[str, Any]:
    from memograd.paths import explain

    e = explain(ex.loss, wrt, view="neuron")
    d = e.to_dict()
    for pd, p in zip(d["paths"], e.paths):
        pd["pairs"] = [[f.child, f.parent] for f in p.factors]
    return d


def _reused_prefixes(d: dict[str, Any]) -> list[dict[str, Any]]:
    """For each path, the longest prefix whose value is an adjoint already in backprop's memo
    table from a parameter nearer the output (a memo hit): ``{"upto": k, "term": ..., "users"}``
    means factors[:k] multiply to ``term`` (∂L/∂node), stored when ``users`` were computed."""
    from memograd.paths import display

    by_node = {}
    for r in d["reused"]:
        node = r["name"].split("/∂", 1)[1]
        by_node[node] = r
    out = []
    for p in d["paths"]:
        best: dict[str, Any] = {"upto": 0, "term": None, "value": None, "users": []}
        for i, node in enumerate(p["nodes"][1:-1], 1):
            r = by_node.get(display(node))
            if r is not None and r["users"] and i > 1:
                best = {"upto": i, "term": r["name"], "value": r["value"], "users": r["users"]}
        out.append(best)
    return out


def compute(options: dict[str, Any] | None = None) -> dict[str, Any]:
    from memograd.lesson.network import example

    ex = example()
    one = _explain(ex, ONE_PATH)
    two = _explain(ex, TWO_PATHS)
    ex.loss.backward()  # the engine's own backward fills .grad: the third, independent number
    two["engine_grad"] = ex.parameter(TWO_PATHS).grad
    one["engine_grad"] = ex.parameter(ONE_PATH).grad
    two["reused_prefixes"] = _reused_prefixes(two)
    return {
        "one_path": one,
        "two_paths": two,
        "equal": abs(two["path_sum"] - two["backprop"]) <= 1e-12 * max(1.0, abs(two["backprop"])),
        "cost": two["cost"],
    }


# --------------------------------------------------------------------------------- terminal


def render(data: dict[str, Any], ui: UI) -> None:
    one, two = data["one_path"], data["two_paths"]
    p = one["paths"][0]
    ui.print(
        f"[bold]{unicode_name('∂L/∂w11^2')}[/] has {one['count']} path: "
        + " → ".join(unicode_name(n) for n in p["nodes"])
    )
    _print_path(ui, p)
    ui.print(f"  ∂L/∂w₁₁² = {fmt(p['product'], 6)}  (backprop: {fmt(one['backprop'], 6)})\n")
    ui.print(f"[bold]∂L/∂w₁₁¹[/] has {two['count']} paths (both paths, as the notes say):")
    for k, (p, pre) in enumerate(zip(two["paths"], two["reused_prefixes"]), 1):
        ui.print(f" path {k}: " + " → ".join(unicode_name(n) for n in p["nodes"]))
        _print_path(ui, p, pre)
    ui.print(_bracket_lines("  factored: ∂L/∂w₁₁¹ = ", unicode_name(two["factored"])))
    ui.print(_bracket_lines("                    = ", two["factored_values"]))
    ui.print(f"  path sum = {exact(two['path_sum'])}")
    ui.print(f"  backprop = {exact(two['backprop'])}   (engine .grad {exact(two['engine_grad'])})")
    verdict = "[bold green]equal[/]" if data["equal"] else "[bold red]DIFFERENT[/]"
    ui.print(f"  difference {two['difference']:.3g}: {verdict}")
    hits = [pre for pre in two["reused_prefixes"] if pre["term"]]
    if hits:
        ui.print(
            "  [bold yellow]memo hits[/], the factors marked (memo): backprop already holds "
            "their product\n  from the layer-2 weights' gradients; \"we don't need to "
            'calculate again":'
        )
        for pre in hits:
            users = ", ".join(unicode_name(u) for u in pre["users"])
            ui.print(
                f"    {_prefix_text(two, pre)} = {unicode_name(pre['term'])} = "
                f"{fmt(pre['value'], 6)}  (stored for {users})"
            )
    c = data["cost"]
    ui.print(
        f"All {c['parameters']} gradients: path by path {fmt(c['naive'])} operations "
        f"({c['paths']} paths), backprop {fmt(c['backprop'])}:\n{c['ratio']:.2f}× fewer. "
        f"Backprop's {fmt(c['backprop'])} = {c['backprop_multiplications']} multiplications "
        f"(one per edge) + {c['backprop_additions']} additions."
    )


def _bracket_lines(head: str, formula: str) -> str:
    """The notes' ``a [b + c]`` with one path per line, the ``+`` under the ``[``."""
    if "[" not in formula:
        return head + formula
    at = len(head) + formula.index("[")
    terms = formula.split(" + ")
    return "\n".join([head + terms[0], *(" " * at + "+ " + t for t in terms[1:])])


def exact(x: float) -> str:
    """∂L/∂w11^1 printed in full wherever the lesson shows it (terminal, report, summary)."""
    return f"{x:.15g}"


def _prefix_text(two: dict[str, Any], pre: dict[str, Any]) -> str:
    """The memo-hit factors of a path, multiplied: ``∂L/∂ŷ · ∂ŷ/∂o₂₁``."""
    path = next(p for p, q in zip(two["paths"], two["reused_prefixes"]) if q is pre)
    return " · ".join(unicode_name(f) for f in path["factors"][: pre["upto"]])


def _print_path(ui: UI, p: dict[str, Any], pre: dict[str, Any] | None = None) -> None:
    upto = pre["upto"] if pre else 0
    for i, (name, formula, value) in enumerate(zip(p["factors"], p["formulas"], p["values"])):
        mark = " [yellow](memo)[/]" if i < upto else ""
        ui.print(f"    {unicode_name(name)} = {unicode_name(formula)} = {fmt(value, 6)}{mark}")
    ui.print(f"    product = {fmt(p['product'], 6)}")


# --------------------------------------------------------------------------------- HTML


def _frac_of(pair: Any) -> str:
    return partial(pair[0], pair[1])


def _product_html(p: dict[str, Any], pre: dict[str, Any] | None = None, skip_first: int = 0) -> str:
    """The factors of a path as fractions; the memo-hit prefix in a marked box."""
    pairs = p["pairs"][skip_first:]
    upto = max((pre or {}).get("upto", 0) - skip_first, 0)
    fr = [_frac_of(pr) for pr in pairs]
    if upto > 0:
        head = " · ".join(fr[:upto])
        tail = fr[upto:]
        return f'<span class="mark" title="already in the memo table">{head}</span>' + (
            " · " + " · ".join(tail) if tail else ""
        )
    return " · ".join(fr)


def _values_table(p: dict[str, Any], pre: dict[str, Any] | None = None) -> str:
    """A path's factors with their local derivatives and values; with ``pre``, a fourth column
    marks the memo-hit factors."""
    from memograd.viz.report import table

    upto = (pre or {}).get("upto", 0)
    rows, cls = [], []
    for i, (pair, formula, value) in enumerate(zip(p["pairs"], p["formulas"], p["values"])):
        row = [_frac_of(pair), html_name(formula), fmt(value, 6)]
        rows.append(row + (["memo hit" if i < upto else ""] if pre else []))
        cls.append("hit" if i < upto else "")
    product = ["<strong>product</strong>", "", f"<strong>{fmt(p['product'], 6)}</strong>"]
    rows.append(product + ([""] if pre else []))
    cls.append("")
    return table(
        ["factor", "local derivative", "value", *(["memo"] if pre else [])],
        rows,
        raw=True,
        left=(0, 1, 3),
        row_classes=cls,
    )


def _network_figure(data: dict[str, Any]) -> tuple[str, str]:
    from memograd.lesson.network import example
    from memograd.viz.svg import NEURON_CAPTION, Highlight, graph_svg
    from memograd.viz.values import layer_titles, network_graph

    ex = example()
    ex.loss.backward()
    nodes, edges = network_graph(ex.model, ex.loss)
    weight_edge = {e.label: (e.src, e.dst) for e in edges if e.label}

    def path_edges(p: Any) -> Any:
        out = set()
        names = p["nodes"]
        for child, parent in zip(names, names[1:]):
            out.add(weight_edge[parent] if parent in weight_edge else (parent, child))
        return out

    one = data["one_path"]["paths"][0]
    p1, p2 = data["two_paths"]["paths"]
    left = graph_svg(
        nodes,
        edges,
        highlights=[Highlight(path_edges(one), label="L → ŷ → o₂₁ → w₁₁²", color="#2b8a3e")],
        title="∂L/∂w₁₁²: one path",
        layer_titles=layer_titles(ex.model),
        caption=NEURON_CAPTION,
    )
    right = graph_svg(
        nodes,
        edges,
        highlights=[
            Highlight(path_edges(p1), label="path 1: via o₂₁", color="#d9480f"),
            Highlight(path_edges(p2), label="path 2: via o₂₂", color="#1c7ed6"),
        ],
        title="∂L/∂w₁₁¹: two paths",
        layer_titles=layer_titles(ex.model),
        caption=NEURON_CAPTION,
    )
    return left, right


def html(data: dict[str, Any]) -> str:
    from memograd.viz.report import figure, formula, note, table

    one, two = data["one_path"], data["two_paths"]
    p = one["paths"][0]
    left, right = _network_figure(data)
    out = [
        "<p>The chain rule multiplies local derivatives along a path from L back to a weight. "
        "Below, every factor is computed on the network of the previous section (the same "
        "weights and input), by <code>memograd.paths.explain</code>.</p>",
        "<h3>∂L/∂w<sub>11</sub><sup>2</sup>: a single path, L → ŷ → o<sub>21</sub> → "
        "w<sub>11</sub><sup>2</sup></h3>",
        figure(left, "The path of ∂L/∂w<sub>11</sub><sup>2</sup> on the network."),
        formula(
            partial("L", "w11^2")
            + ' <span class="eq">=</span> '
            + _product_html(p)
            + f' <span class="eq">=</span> {fmt(p["product"], 6)}'
        ),
        _values_table(p),
        "<h3>∂L/∂w<sub>11</sub><sup>1</sup>: two paths, via o<sub>21</sub> and via "
        "o<sub>22</sub></h3>",
        figure(
            right,
            "w<sub>11</sub><sup>1</sup> feeds o<sub>11</sub>, which feeds both "
            "o<sub>21</sub> and o<sub>22</sub>: two paths back to L.",
        ),
    ]
    pres = two["reused_prefixes"]
    for k, (pp, pre) in enumerate(zip(two["paths"], pres), 1):
        out.append(
            f"<p><strong>Path {k}</strong>: "
            + " → ".join(html_name(n) for n in pp["nodes"])
            + "</p>"
        )
        out.append(_values_table(pp, pre))
    # the notes' factored form: dL/dyhat [ ... + ... ], memo-hit parts marked
    outer = partial("L", "yhat")  # the common first factor, outside the bracket as in the notes
    inner = " + ".join(_product_html(pp, pre, skip_first=1) for pp, pre in zip(two["paths"], pres))
    out.append(
        formula(
            partial("L", "w11^1")
            + ' <span class="eq">=</span> '
            + (outer if not any(p["upto"] for p in pres) else f'<span class="mark">{outer}</span>')
            + " <span class='big'>[</span> "
            + inner
            + " <span class='big'>]</span>"
        )
    )
    out.append(formula('<span class="eq">=</span> ' + _esc(two["factored_values"])))
    hits = [
        f"<span class='mark'>{_esc(pre['term'])}</span> = {fmt(pre['value'], 6)}, already "
        f"stored while computing ∂L/∂{', '.join(html_name(u) for u in pre['users'][:3])}"
        for pre in pres
        if pre["term"]
    ]
    if hits:
        out.append(
            note(
                "<strong>Memo hits.</strong> The marked products are adjoints that backprop has "
                "already stored in its table when it reaches w<sub>11</sub><sup>1</sup>: "
                + "; ".join(hits)
                + ". As the notes say: we don't need to calculate them again.",
                "key",
            )
        )
    equal = "equal" if data["equal"] else "NOT equal"
    out.append(
        table(
            ["∂L/∂w<sub>11</sub><sup>1</sup> computed by", "value"],
            [
                [
                    "sum of the 2 path products (chain rule, path by path)",
                    f'<span class="mono" id="path-sum">{exact(two["path_sum"])}</span>',
                ],
                [
                    "memoized backprop (<code>memograd.graph.backward</code>)",
                    f'<span class="mono" id="backprop">{exact(two["backprop"])}</span>',
                ],
                [
                    "<code>.grad</code> after <code>L.backward()</code>",
                    f'<span class="mono">{exact(two["engine_grad"])}</span>',
                ],
                ["difference", f"{two['difference']:.3g}"],
            ],
            raw=True,
            caption=f"The two ways agree: {equal}",
        )
    )
    rows = [
        [
            _esc(r["name"]),
            fmt(r["value"], 6),
            _esc(r["formula"]),
            ", ".join(html_name(u) for u in r["users"]) or "—",
            r["uses"],
            r["reads"],
        ]
        for r in two["reused"]
    ]
    out.append(
        table(
            [
                "adjoint",
                "value",
                "= sum of path prefixes",
                "already computed for",
                "naive: times recomputed",
                "backprop: computed once, reused by (×, neuron view)",
            ],
            rows,
            raw=True,
            left=(0, 2, 3),
            caption="The adjoints on the paths of ∂L/∂w₁₁¹: stored once in the memo table. "
            "Counted in the neuron view of the notes (a neuron's weighted sum and output are one "
            "node); section 4's table shows the engine's op-level graph, where ∂L/∂ŷ goes to z₃₁ "
            "alone (1×) and ∂L/∂z₃₁ to the five",
        )
    )
    c = data["cost"]
    out.append(
        note(
            f"All {c['parameters']} gradients of this network: enumerating each parameter's "
            f"{c['paths']} paths separately costs {c['naive_multiplications']} multiplications and "
            f"{c['naive_additions']} additions (<strong>{c['naive']}</strong> operations); "
            "memoized "
            f"backprop costs {c['backprop_multiplications']} multiplications (one per edge) and "
            f"{c['backprop_additions']} additions (<strong>{c['backprop']}</strong>): "
            f"{c['ratio']:.2f}× fewer. The gap grows with depth (section 5)."
        )
    )
    return "\n".join(out)


def _esc(text: str) -> str:
    """Escape, and write the notes' names inside (ŷ, o21 -> o<sub>21</sub>, w11^1)."""
    return html_name(text)
