"""Section 2: the notes' 2-2-2-1 network, its 15 parameters ("(2+1) = 3" per neuron) and one
forward pass with its numbers: z_kj = Σ_i w_ij^k · o_(k-1)i + b_j^k, o_kj = σ(z_kj), L = (ŷ - y)².

The network, the input and the target come from ``memograd.scalar.nn.notes_network(seed=SEED)``:
the same numbers as ``memograd explain`` with its default seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.lesson import UI

from typing import Any

from memograd.viz.notation import fmt, html_name, term, unicode_name

KEY = "network"
TITLE = "The network: 2-2-2-1, 15 parameters, one forward pass"
SEED = 0
NET = (2, 2, 2, 1)


def example(net: Any = NET, seed: int = SEED) -> Any:
    """The notes' network with seeded weights, one input, one target, forward pass done."""
    from memograd.scalar.nn import notes_network

    return notes_network(net=net, activation="sigmoid", loss="mse", seed=seed)


def _term(w: Any, x: float) -> str:
    return f"{term(w)}·{term(x)}"


def compute(options: dict[str, Any] | None = None) -> dict[str, Any]:
    from memograd.viz.values import named_values

    ex = example()
    values = named_values(ex.loss)
    sizes = list(ex.model.sizes)
    neurons = []
    prev = [x.name for x in ex.inputs]
    for k, layer in enumerate(ex.model.layers, 1):
        names = []
        for neuron in layer.neurons:
            out = values[neuron.name]
            z = out if out.op == "wsum" else out._parents[0]
            neurons.append(
                {
                    "name": neuron.name,
                    "layer": k,
                    "inputs": {src: values[src].data for src in prev},
                    "weights": {w.name: w.data for w in neuron.w},
                    "bias": {neuron.b.name: neuron.b.data},
                    "parameters": len(neuron.w) + 1,
                    "parameters_formula": f"({len(neuron.w)}+1) = {len(neuron.w) + 1}",
                    "z": z.data,
                    "z_label": z.label or z.name,
                    "o": out.data,
                }
            )
            names.append(neuron.name)
        prev = names
    by_formula = sum((sizes[k - 1] + 1) * sizes[k] for k in range(1, len(sizes)))
    return {
        "net": sizes,
        "activation": ex.activation,
        "loss": ex.loss_name,
        "seed": SEED,
        "inputs": {x.name: x.data for x in ex.inputs},
        "target": ex.targets[0],
        "neurons": neurons,
        "parameters_total": len(ex.model.parameters()),
        "parameters_by_formula": by_formula,
        "weights": ex.model.weights(),
        "yhat": ex.output.data,
        "L": ex.loss.data,
    }


def render(data: dict[str, Any], ui: UI) -> None:
    from rich.table import Table

    sizes = "-".join(map(str, data["net"]))
    ui.print(
        f"The notes' network {sizes}: inputs x₁, x₂; layer 1 (o₁₁, o₁₂); layer 2 (o₂₁, o₂₂); "
        f"output ŷ; loss L = (ŷ - y)². Activation σ everywhere; weights drawn with seed "
        f"{data['seed']}."
    )
    ui.print("Every neuron has (inputs + 1) trainable parameters:")
    t = Table()
    for col in ("neuron", "parameters", "count"):
        t.add_column(col, justify="left" if col != "count" else "right")
    for n in data["neurons"]:
        names = ", ".join(unicode_name(p) for p in [*n["weights"], *n["bias"]])
        t.add_row(unicode_name(n["name"]), names, n["parameters_formula"])
    t.add_row("[bold]total[/]", "", f"[bold]{data['parameters_total']}[/]")
    ui.print(t)
    x = ", ".join(f"{unicode_name(k)} = {fmt(v)}" for k, v in data["inputs"].items())
    ui.print(f"Forward pass with {x} and target y = {fmt(data['target'])}:")
    f = Table(show_header=True, padding=(0, 1, 0, 0))
    f.add_column("o")
    f.add_column("z = Σ w·input + b")
    f.add_column("o = σ(z)", justify="right")
    for n in data["neurons"]:
        terms = " + ".join(
            _term(w, xv) for w, xv in zip(n["weights"].values(), n["inputs"].values())
        )
        (b,) = n["bias"].values()
        z = unicode_name(n["z_label"])
        f.add_row(
            unicode_name(n["name"]), f"{z} = {terms} + {term(b)} = {fmt(n['z'])}", fmt(n["o"])
        )
    ui.print(f)
    ui.print(
        f"ŷ = {fmt(data['yhat'])},  L = (ŷ - y)² = ({fmt(data['yhat'])} - {fmt(data['target'])})² "
        f"= [bold]{fmt(data['L'])}[/]"
    )


def html(data: dict[str, Any]) -> str:
    from memograd.viz.report import esc, figure, formula, note, table
    from memograd.viz.svg import graph_svg
    from memograd.viz.values import layer_titles, network_graph

    ex = example(tuple(data["net"]), data["seed"])
    nodes, edges = network_graph(ex.model, ex.loss)
    for n in nodes:  # this section is the forward pass: data only
        n.grad = None
    svg = graph_svg(
        nodes,
        edges,
        title="The notes' 2-2-2-1 network: forward pass",
        layer_titles=layer_titles(ex.model),
        caption="weight wᵢⱼᵏ: from neuron i of layer k-1 to neuron j of layer k; "
        "under each neuron: its output, then its bias",
    )
    rows = []
    for n in data["neurons"]:
        names = ", ".join(html_name(p) for p in [*n["weights"], *n["bias"]])
        rows.append([html_name(n["name"]), names, esc(n["parameters_formula"])])
    rows.append(["<strong>total</strong>", "", f"<strong>{data['parameters_total']}</strong>"])
    ptable = table(
        ["neuron", "its trainable parameters", "count"],
        rows,
        raw=True,
        left=(0, 1),
        caption="A neuron with 2 inputs has (2+1) = 3 trainable parameters: 2 weights, 1 bias",
    )
    frows = []
    for n in data["neurons"]:
        terms = " + ".join(_term(w, x) for w, x in zip(n["weights"].values(), n["inputs"].values()))
        (b,) = n["bias"].values()
        frows.append(
            [
                html_name(n["name"]),
                html_name(n["z_label"]) + f" = {terms} + {term(b)} = {fmt(n['z'])}",
                f"σ({fmt(n['z'])}) = <strong>{fmt(n['o'])}</strong>",
            ]
        )
    ftable = table(["neuron", "weighted sum z", "output o = σ(z)"], frows, raw=True, left=(0, 1))
    inputs = ", ".join(f"{html_name(k)} = {fmt(v)}" for k, v in data["inputs"].items())
    return "\n".join(
        [
            "<p>The network of the notes: two inputs, two hidden layers of two neurons, one "
            "output ŷ, and the loss L = (ŷ − y)<sup>2</sup>. Every neuron computes a weighted "
            "sum of its inputs plus a bias, then the sigmoid σ. The weights are drawn from a "
            f"seeded generator (seed {data['seed']}), the same as "
            "<code>memograd explain</code>.</p>",
            figure(svg, "Inputs on the left, L on the right; each edge carries its weight."),
            ptable,
            note(
                f"{len(data['neurons'])} neurons × 3 = <strong>{data['parameters_total']}</strong> "
                f"parameters (counted on the model: {data['parameters_total']}; by the formula "
                f"Σ (inputs+1)·width: {data['parameters_by_formula']})."
            ),
            f"<h3>Forward pass: {inputs}, target y = {fmt(data['target'])}</h3>",
            ftable,
            formula(
                f"ŷ = {fmt(data['yhat'])}<span class='eq'>,</span> L = (ŷ − y)<sup>2</sup> = "
                f"({fmt(data['yhat'])} − {fmt(data['target'])})<sup>2</sup> = "
                f"<strong>{fmt(data['L'])}</strong>"
            ),
        ]
    )
