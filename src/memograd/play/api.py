"""The page's JSON API: every number the page shows, computed by memograd itself.

Each call is a pure function of its request (a dict parsed from JSON), so the server keeps no
state and the static page can store answers ahead of time. A request describes the network::

    {"net": [2, 2, 2, 1], "activation": "sigmoid", "seed": 0,
     "inputs": [x1, x2], "target": y, "weights": {"w11^1": 0.5, ...}}   # all optional

and the answer is what ``memograd explain`` / ``graph.backward`` / ``memograd complexity`` give
for it. Bad requests raise :class:`ApiError` (the server answers 400 with its message).
"""

from __future__ import annotations

import math
import re
from typing import Any

from memograd.errors import MemogradError, MemogradValueError

NET = (2, 2, 2, 1)
MAX_HIDDEN_LAYERS = 3
MAX_WIDTH = 16
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
DATASETS = ("moons", "circles", "spirals", "xor")
MAX_TRAIN_STEPS = 500
MAX_DEPTH = 12
MAX_COMPLEXITY_WIDTH = 8
FIB_MAX_N = 10
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9^,]{0,15}$")


class ApiError(MemogradValueError):
    """A request the page (or a hand-made client) got wrong: answered with 400 and this text."""


# ------------------------------------------------------------------------------- validation
def _int(req: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = req.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ApiError(f"{key} must be an integer in [{lo}, {hi}], got {v!r}")
    return v


def _num(v: Any, what: str, bound: float = 1e6) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ApiError(f"{what} must be a finite number, got {v!r}")
    if abs(v) > bound:
        raise ApiError(f"{what} must lie in [-{bound:g}, {bound:g}], got {v!r}")
    return float(v)


def _choice(req: dict[str, Any], key: str, default: str, options: tuple[Any, ...]) -> str:
    v = req.get(key, default)
    if v not in options:
        raise ApiError(f"{key} must be one of {', '.join(options)}, got {v!r}")
    return str(v)


def net_of(req: dict[str, Any]) -> tuple[int, ...]:
    """The network's sizes: 2 inputs, 1 to 3 hidden layers of 1 to 16 neurons, 1 output."""
    net = req.get("net", list(NET))
    if isinstance(net, str):
        try:
            net = [int(p) for p in net.replace("-", ",").split(",")]
        except ValueError:
            raise ApiError(f"net must look like 2,2,2,1, got {net!r}") from None
    if (
        not isinstance(net, list | tuple)
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in net)
        or len(net) < 3
        or net[0] != 2
        or net[-1] != 1
        or len(net) - 2 > MAX_HIDDEN_LAYERS
        or not all(1 <= n <= MAX_WIDTH for n in net[1:-1])
    ):
        raise ApiError(
            f"net must be 2, then 1 to {MAX_HIDDEN_LAYERS} hidden layers of 1 to {MAX_WIDTH} "
            f"neurons, then 1 (e.g. [2, 2, 2, 1] or [2, 16, 16, 1]), got {net!r}"
        )
    return tuple(net)


def example_of(req: dict[str, Any]) -> Any:
    """The notes' network for a request: seeded weights, then the request's inputs, target and
    weights (by name) on top; the forward pass is done and ``ex.loss`` is L."""
    from memograd.scalar.nn import notes_network

    if not isinstance(req, dict):
        raise ApiError(f"the request must be a JSON object, got {type(req).__name__}")
    net = net_of(req)
    activation = _choice(req, "activation", "sigmoid", ACTIVATIONS)
    seed = _int(req, "seed", 0, 0, 2**31 - 1)
    inputs = req.get("inputs")
    if inputs is not None:
        if not isinstance(inputs, list) or len(inputs) != 2:
            raise ApiError(f"inputs must be [x1, x2], got {inputs!r}")
        inputs = [_num(v, f"x{i}", 1e3) for i, v in enumerate(inputs, 1)]
    target = req.get("target")
    if target is not None:
        target = _num(target, "target y", 1e3)
    weights = req.get("weights")
    ex = notes_network(net, activation, "mse", seed, inputs=inputs, target=target)
    if weights is not None:
        if not isinstance(weights, dict):
            raise ApiError("weights must be an object {name: value}")
        named = ex.model.named_parameters()
        for name, value in weights.items():
            if name not in named:
                raise ApiError(
                    f"unknown parameter {str(name)[:40]!r}; names look like w11^1 or b1^1 "
                    f"(this network has {len(named)})"
                )
            named[name].data = _num(value, name, 1e3)
        ex.forward()
    return ex


# ------------------------------------------------------------------------------- the views
def _grads(ex: Any) -> None:
    """One backward pass from L: every node's .grad is ∂L/∂node (the memo table, kept)."""
    ex.model.zero_grad()
    for x in ex.inputs:
        x.grad = 0.0
    ex.loss.backward()


def network(req: dict[str, Any]) -> dict[str, Any]:
    """View 1: neurons (data = o, grad = ∂L/∂o), weights as edges, biases; L and the cost."""
    from memograd.paths import cost
    from memograd.viz.values import named_values

    ex = example_of(req)
    _grads(ex)
    values = named_values(ex.loss)
    sizes = ex.model.sizes
    layers: list[list[dict[str, Any]]] = [
        [
            {"name": x.name, "layer": 0, "index": i, "data": x.data, "grad": x.grad}
            for i, x in enumerate(ex.inputs, 1)
        ]
    ]
    edges, biases = [], []
    prev = [x.name for x in ex.inputs]
    for k, layer in enumerate(ex.model.layers, 1):
        row = []
        for j, neuron in enumerate(layer.neurons, 1):
            out = values[neuron.name]
            row.append(
                {"name": neuron.name, "layer": k, "index": j, "data": out.data, "grad": out.grad}
            )
            for i, w in enumerate(neuron.w):
                edges.append(
                    {
                        "name": w.name,
                        "from": prev[i],
                        "to": neuron.name,
                        "layer": k,
                        "data": w.data,
                        "grad": w.grad,
                    }
                )
            b = neuron.b
            biases.append(
                {"name": b.name, "neuron": neuron.name, "layer": k, "data": b.data, "grad": b.grad}
            )
        layers.append(row)
        prev = [n["name"] for n in row]
    c = cost(ex.loss, ex.model.parameters())
    return {
        "net": list(sizes),
        "activation": ex.activation,
        "inputs": [x.data for x in ex.inputs],
        "target": ex.targets[0],
        "yhat": ex.output.data,
        "L": ex.loss.data,
        "layers": layers,
        "edges": edges,
        "biases": biases,
        "weights": ex.model.weights(),
        "cost": c.to_dict(),
    }


def explain(req: dict[str, Any]) -> dict[str, Any]:
    """View 2: ∂L/∂wrt both ways (every path with its local derivatives, the path sum, the
    factored form, backprop's value, the memo-table terms reused): ``mg.explain``'s numbers."""
    from memograd.paths import explain as explain_paths

    ex = example_of(req)
    wrt = req.get("wrt", "w11^1")
    if not isinstance(wrt, str) or not _NAME.match(wrt):
        raise ApiError(f"wrt must be a weight, bias or neuron name like w11^1, got {wrt!r}")
    known = {v.name for v in _named_nodes(ex)}
    if wrt not in known:
        raise ApiError(f"wrt: no weight, bias or neuron named {wrt!r} in this network")
    try:
        e = explain_paths(ex.loss, wrt)
    except MemogradError as err:
        raise ApiError(f"explain {wrt}: {err}") from None
    out = e.to_dict()
    out["target"] = e.target
    return out


def _named_nodes(ex: Any) -> list[Any]:
    from memograd.graph import topological_order

    return [v for v in topological_order(ex.loss) if v.name]


def _label(v: Any) -> str:
    from memograd.viz.values import op_formula

    return v.name or getattr(v, "label", None) or op_formula(v) or v.op or "const"


def trace(req: dict[str, Any]) -> dict[str, Any]:
    """View 3: graph.backward on the op graph, recorded by a ``graph.Trace``: for each step the
    node whose adjoint is complete (stored), each parent it is pushed to, and the eviction; with
    running counts of multiplications and additions against path enumeration's total."""
    from memograd.graph import Trace, backward, topological_order
    from memograd.paths import cost

    ex = example_of(req)
    order = topological_order(ex.loss)
    ids = {id(v): k for k, v in enumerate(order)}
    nodes = [{"id": k, "label": _label(v), "name": v.name, "op": v.op} for k, v in enumerate(order)]
    steps: list[dict[str, Any]] = []
    live: dict[int, float] = {}

    class Recorder(Trace):
        def store(self, node: Any, adjoint: Any) -> None:
            live.pop(ids[id(node)], None)
            steps.append({"node": ids[id(node)], "adjoint": float(adjoint), "pushes": []})

        def push(self, node: Any, parent: Any, contribution: Any) -> None:
            p = ids[id(parent)]
            steps[-1]["pushes"].append(
                {"parent": p, "contribution": float(contribution), "adds": p in live}
            )
            live[p] = live.get(p, 0.0) + float(contribution)

        def evict(self, node: Any) -> None:
            steps[-1]["table"] = sorted(live)

    stats = backward(ex.loss, 1.0, trace=Recorder(), order=order)
    mults = adds = 0
    for s in steps:
        mults += len(s["pushes"])
        adds += sum(1 for p in s["pushes"] if p["adds"])
        s["multiplications"], s["additions"] = mults, adds
    c = cost(ex.loss, ex.model.parameters())
    return {
        "nodes": nodes,
        "steps": steps,
        "stats": {"nodes": stats.nodes, "edges": stats.edges, "peak": stats.peak_entries},
        "cost": c.to_dict(),
    }


def complexity(req: dict[str, Any]) -> dict[str, Any]:
    """View 5: path counts and naive vs memoized cost for depth 1..depth at one width: the same
    rows as ``memograd complexity --json``."""
    from memograd.complexity import measure

    depth = _int(req, "depth", 4, 1, MAX_DEPTH)
    width = _int(req, "width", 2, 1, MAX_COMPLEXITY_WIDTH)
    return {"width": width, "rows": measure(width, list(range(1, depth + 1)))}


def fib(req: dict[str, Any]) -> dict[str, Any]:
    """View 7: the naive and memoized recursion trees of fib(n) (n <= 10), in call order."""
    from memograd.fibonacci import memoized_calls, naive_calls
    from memograd.fibtree import recursion_tree

    n = _int(req, "n", 6, 0, FIB_MAX_N)
    trees = {m: recursion_tree(n, m).as_dict() for m in ("naive", "memo")}
    return {
        "n": n,
        "trees": trees,
        "calls": {"naive": naive_calls(n), "memo": memoized_calls(n)},
    }


def train(req: dict[str, Any]) -> dict[str, Any]:
    """View 6: ``steps`` full-batch gradient steps (tensor engine, SGD) on a 2-D dataset from the
    request's weights; returns the new weights, the losses, accuracy and the decision surface."""
    from memograd.play.training import train_steps

    ex = example_of(req)
    dataset = _choice(req, "dataset", "moons", DATASETS)
    steps = _int(req, "steps", 10, 0, MAX_TRAIN_STEPS)
    lr = _num(req.get("lr", 0.5), "lr", 100.0)
    if lr <= 0:
        raise ApiError(f"lr must be positive, got {lr!r}")
    return train_steps(ex, dataset, steps, lr, _int(req, "data_seed", 0, 0, 2**31 - 1))


def presets(req: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the page may ask for."""
    return {
        "net": list(NET),
        "activations": list(ACTIVATIONS),
        "datasets": list(DATASETS),
        "max_width": MAX_WIDTH,
        "max_hidden_layers": MAX_HIDDEN_LAYERS,
        "max_depth": MAX_DEPTH,
        "max_complexity_width": MAX_COMPLEXITY_WIDTH,
        "fib_max_n": FIB_MAX_N,
        "max_train_steps": MAX_TRAIN_STEPS,
    }


ROUTES = {
    "network": network,
    "explain": explain,
    "trace": trace,
    "complexity": complexity,
    "fib": fib,
    "train": train,
    "presets": presets,
}


def call(route: str, req: Any) -> dict[str, Any]:
    """Answer one API request; :class:`ApiError` for anything the client got wrong."""
    fn = ROUTES.get(route)
    if fn is None:
        raise ApiError(f"unknown API route {route[:40]!r}; routes: {', '.join(ROUTES)}")
    if not isinstance(req, dict):
        raise ApiError(f"the request must be a JSON object, got {type(req).__name__}")
    try:
        return fn(req)
    except ApiError:
        raise
    except MemogradError as err:  # the engine's own validation: still the client's input
        raise ApiError(str(err)) from None
