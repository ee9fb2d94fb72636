"""Neuron, Layer, MLP on scalar ``Value`` s, micrograd-familiar, named in the notes' notation.

Public API::

    MLP(nin, nouts, activation="relu", output_activation="linear", seed=None)
        model(x) -> Value (one output) or list[Value]; x: numbers or Values
        model.parameters() -> list[Value]   (layer by layer; per neuron weights then bias)
        model.named_parameters() -> dict[str, Value]     {"w11^1": Value, ..., "b1^1": ...}
        model.zero_grad(); model.weights() -> dict[str, float]
        model.load_weights(mapping_or_path, strict=True)   # JSON file or dict, by name
        model.layers, model.sizes (nin, *nouts)
    Layer(nin, nout, activation, index=k, last=False, rng=None); Neuron(nin, activation, ...)
    ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
Outputs = Value | Sequence[Value]  # a loss's predictions: one Value or several
Targets = float | Sequence[float];  LOSSES = ("mse", "bce", "hinge")
    loss_fn(name)(outputs, targets) -> Value named "L"
    notes_network(net=(2, 2, 2, 1), activation="sigmoid", loss="mse", seed=0,
                  weights=None, inputs=None, target=None) -> Example
        Example: model, inputs [x1, x2], targets, outputs [ŷ], output (ŷ), loss (L),
                 activation, loss_name, parameter(name), forward(), to_dict()

Names (the notes' notation; layer 0 is the input layer, inputs are ``x1, x2, ...``):

* ``w{i}{j}^{k}``: weight from neuron i of layer k-1 to neuron j of layer k (``w11^1``);
* ``b{j}^{k}``: bias of neuron j of layer k;
* ``o{k}{j}``: output of neuron j of layer k (``o11, o12, o21, o22``); its weighted sum
  (pre-activation) is labelled ``z{k}{j}`` (a *label*, not a name: the neuron-level view of
  ``memograd.paths`` collapses it);
* the last layer's outputs are ``yhat`` (one output; display ŷ) or ``yhat1, yhat2, ...``; the loss
  is ``L``.

When an index reaches 10 the digits are separated by a comma (``w10,3^2``, ``o2,10``) so that
names stay unambiguous. A neuron with n inputs has n + 1 parameters ("(2+1) = 3").

Weights are initialised uniform in [-1, 1) from ``random.Random(seed)`` (biases too), so a seed
reproduces a network bit for bit. The output layer is linear by default (as micrograd);
``notes_network`` uses the same activation everywhere (σ by default), as in the notes.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from memograd.errors import DataError, MemogradTypeError, MemogradValueError
from memograd.pictures import Drawable
from memograd.scalar.value import _UNARY, _VALUE, Value, _unary, _wsum_values, wsum

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Neuron",
    "Layer",
    "MLP",
    "Example",
    "loss_fn",
    "mse",
    "bce",
    "hinge",
    "notes_network",
    "parse_net",
    "weight_name",
    "bias_name",
    "output_name",
    "read_json_object",
]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
Outputs = Value | Sequence[Value]  # a loss's predictions: one Value or several
Targets = float | Sequence[float]
LOSSES = ("mse", "bce", "hinge")


def _idx(*indices: int) -> str:
    return (
        "".join(map(str, indices)) if all(i < 10 for i in indices) else ",".join(map(str, indices))
    )


def weight_name(i: int, j: int, k: int) -> str:
    """``w{i}{j}^{k}``: from neuron i of layer k-1 to neuron j of layer k."""
    return f"w{_idx(i, j)}^{k}"


def bias_name(j: int, k: int) -> str:
    return f"b{j}^{k}"


def output_name(k: int, j: int) -> str:
    return f"o{_idx(k, j)}"


def _check_positive(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise MemogradValueError(f"{what} must be a positive integer, got {n!r}")
    return n


def _name_of(p: Value) -> str:
    """A parameter's name (every parameter an MLP makes is named)."""
    assert p.name is not None
    return p.name


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise MemogradValueError(
            f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return activation


class Neuron:
    """o = act(Σ_i w_i·x_i + b): one fused weighted-sum node, then the activation node."""

    __slots__ = ("w", "b", "activation", "layer", "index", "name", "z_label", "_infos")

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        *,
        layer: int = 1,
        index: int = 1,
        rng: random.Random | None = None,
        name: str | None = None,
    ):
        _check_positive(nin, "Neuron: nin")
        rng = rng if rng is not None else random.Random()
        self.activation = _check_activation(activation)
        self.layer, self.index = layer, index
        self.w = [
            Value(rng.uniform(-1, 1), weight_name(i, index, layer)) for i in range(1, nin + 1)
        ]
        self.b = Value(rng.uniform(-1, 1), bias_name(index, layer))
        self.name = name if name is not None else output_name(layer, index)
        self.z_label = f"z{_idx(layer, index)}"
        self._infos: tuple[Any, ...] = ()

    def __call__(self, x: Sequence[Value | float]) -> Value:
        return self._activate(wsum(self.w, x, self.b))

    def _of_values(self, xs: tuple[Value, ...], xd: list[float]) -> Value:
        """``self(xs)`` for inputs that are all Values, their data ``xd`` read once by the layer
        for all its neurons (the weighted sum in C: :func:`memograd.scalar.value._wsum_values`)."""
        if len(self.w) != len(xs) or type(self.b) is not Value:
            return self(xs)  # the general path, and its error messages
        # the _info of z and of the output (scalar.value.Value), the same at every call: made
        # once per (activation, name, z_label) instead of two tuples per call
        act, infos = self.activation, self._infos
        if not infos or infos[0] is not act or infos[1] is not self.name:
            infos = self._infos = self._make_infos(len(xs))
        elif infos[2] is not self.z_label:
            infos = self._infos = self._make_infos(len(xs))
        try:
            z = _wsum_values(self.w, xs, xd, self.b, infos[3])
        except (AttributeError, TypeError):  # a weight that is not a Value
            return self(xs)
        if act == "linear":
            return z
        out: Value = infos[5](z)  # the activation's method
        out._info = infos[4]
        return out

    def _make_infos(self, n: int) -> tuple[Any, ...]:
        """(activation, name, z_label, z's _info, the output's _info, the activation's method),
        for n inputs."""
        act, name, label = self.activation, self.name, self.z_label
        if act == "linear":  # z is the output: named, not labelled
            return (act, name, label, ("wsum", name, None, n, n), None, None)
        info = ("wsum", None, label, n, n)
        return (act, name, label, info, (act, name, None), _UNARY[act])

    def _activate(self, z: Value) -> Value:
        act = self.activation
        if act == "linear":
            z.name = self.name
            return z
        z.label = self.z_label
        out = _unary(act, z)
        out.name = self.name
        return out

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({self.name}: {len(self.w)} inputs, {self.activation})"


class Layer:
    """``nout`` neurons reading the same ``nin`` inputs; layer index k (inputs are layer 0)."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        *,
        index: int = 1,
        last: bool = False,
        rng: random.Random | None = None,
    ):
        _check_positive(nout, f"Layer {index}: width")
        rng = rng if rng is not None else random.Random()
        self.index = index
        self.neurons = []
        for j in range(1, nout + 1):
            name = None
            if last:
                name = "yhat" if nout == 1 else f"yhat{j}"
            self.neurons.append(Neuron(nin, activation, layer=index, index=j, rng=rng, name=name))

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        """Always a list (also for one neuron): MLP unwraps the final single output."""
        xs = tuple(x)
        if xs and {*map(type, xs)} == _VALUE:  # read the inputs' data once for every neuron
            values = cast("tuple[Value, ...]", xs)
            xd = [v.data for v in values]
            return [n._of_values(values, xd) for n in self.neurons]
        return [n(xs) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer {self.index}: [{', '.join(map(repr, self.neurons))}]"


class MLP(Drawable):  # to_svg/save: drawn by viz (memograd.pictures)
    """Multi-layer perceptron: ``MLP(2, [2, 2, 1])`` is the notes' 2-2-2-1 network."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        seed: int | None = None,
    ):
        _check_positive(nin, "MLP: nin")
        nouts = list(nouts)
        if not nouts:
            raise MemogradValueError("MLP: give at least one layer width, e.g. MLP(2, [2, 2, 1])")
        _check_activation(activation)
        _check_activation(output_activation)
        rng = random.Random(seed)
        self.sizes = (nin, *nouts)
        self.activation, self.output_activation = activation, output_activation
        self.layers = [
            Layer(
                self.sizes[k - 1],
                self.sizes[k],
                output_activation if k == len(nouts) else activation,
                index=k,
                last=k == len(nouts),
                rng=rng,
            )
            for k in range(1, len(nouts) + 1)
        ]
        self._named: dict[str, Value] = {_name_of(p): p for p in self.parameters()}
        self._input_names = [f"x{i}" for i in range(1, nin + 1)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """Forward pass. Plain-number inputs become leaves named ``x1, x2, ...``."""
        given = list(x)
        if len(given) != self.sizes[0]:
            raise MemogradValueError(
                f"MLP: expected {self.sizes[0]} inputs (x1..x{self.sizes[0]}), got {len(given)}"
            )
        h = [
            xi if isinstance(xi, Value) else Value(xi, name)
            for xi, name in zip(given, self._input_names)
        ]
        for layer in self.layers:
            h = layer(h)
        return h[0] if len(h) == 1 else h

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> dict[str, Value]:
        return dict(self._named)

    def weights(self) -> dict[str, float]:
        """Every parameter's value by name (JSON-ready)."""
        return {name: p.data for name, p in self._named.items()}

    def zero_grad(self) -> None:
        for p in self._named.values():
            p.grad = 0.0

    def load_weights(self, source: Mapping[str, Any] | str | Path, strict: bool = True) -> None:
        """Set parameters by name from a mapping or a JSON file (``{"w11^1": 0.5, ...}`` or
        ``{"weights": {...}, ...}`` as ``memograd explain --format json`` writes). ``strict``:
        every parameter must be given. Unknown names, non-numbers and non-finite values raise."""
        mapping, where = _read_weights(source)
        unknown = [k for k in mapping if k not in self._named]
        if unknown:
            raise MemogradValueError(
                f"{where}: unknown parameter name(s) {', '.join(map(repr, unknown))}; "
                f"valid names: {', '.join(self._named)}"
            )
        for name, value in mapping.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise MemogradTypeError(f"{where}: {name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise MemogradValueError(f"{where}: {name} must be finite, got {value!r}")
        if strict:
            missing = [k for k in self._named if k not in mapping]
            if missing:
                raise MemogradValueError(
                    f"{where}: missing parameter(s) {', '.join(missing)}; give all "
                    f"{len(self._named)} parameters by name (load_weights(..., strict=False) "
                    "keeps the others)"
                )
        for name, value in mapping.items():
            self._named[name].data = float(value)

    def __repr__(self) -> str:
        n = len(self._named)
        sizes = "-".join(map(str, self.sizes))
        return f"MLP({sizes}, activation={self.activation!r}, {n} parameters)"


def _read_weights(source: Mapping[str, Any] | str | Path) -> tuple[dict[str, Any], str]:
    raw, where = read_json_object(source)
    if isinstance(raw.get("weights"), dict):
        return raw["weights"], where
    return raw, where


def read_json_object(source: Mapping[str, Any] | str | Path) -> tuple[dict[str, Any], str]:
    """(the JSON object of a file, or a mapping as it is; where it came from, for messages)."""
    if isinstance(source, Mapping):
        data, where = dict(source), "weights"
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"{where}: cannot read weights file ({exc.strerror or exc})") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{where}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
            ) from exc
        if not isinstance(data, dict):
            raise DataError(f"{where}: expected a JSON object of name -> number")
    return data, where


# --- losses ---------------------------------------------------------------------------------------


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, list | tuple) else [x]


def _mean_loss(
    op: str, outputs: Outputs, targets: Targets, term: Callable[[Value, float], Value]
) -> Value:
    """L = mean_j term(ŷ_j, y_j), named "L" (one output: the term itself, no division)."""
    ys, ts = _as_list(outputs), _as_list(targets)
    _same_length(op, ys, ts)
    if not ys:
        raise MemogradValueError(f"{op}: no outputs; give at least one output and target")
    total = term(ys[0], ts[0])
    for y, t in zip(ys[1:], ts[1:]):
        total = total + term(y, t)
    if len(ys) > 1:
        total = total / len(ys)
    total.name = "L"
    return total


def mse(outputs: Outputs, targets: Targets) -> Value:
    """L = mean_j (ŷ_j - y_j)²  (one output: L = (ŷ - y)², so ∂L/∂ŷ = 2(ŷ - y))."""
    return _mean_loss("mse", outputs, targets, lambda y, t: (y - t) ** 2)


def _bce_term(y: Value, t: float) -> Value:
    if not 0.0 < y.data < 1.0:
        raise MemogradValueError(
            f"bce: prediction {y.display} = {y.data!r} must be in (0, 1); use a sigmoid output"
        )
    return -(t * y.log() + (1 - t) * (1 - y).log())


def bce(outputs: Outputs, targets: Targets) -> Value:
    """L = -mean_j [y_j ln ŷ_j + (1 - y_j) ln(1 - ŷ_j)], ŷ in (0, 1) (a sigmoid output)."""
    return _mean_loss("bce", outputs, targets, _bce_term)


def hinge(outputs: Outputs, targets: Targets) -> Value:
    """L = mean_j relu(1 - y_j·ŷ_j), targets in {-1, +1} (micrograd's demo loss)."""
    return _mean_loss("hinge", outputs, targets, lambda y, t: (1 - t * y).relu())


def _same_length(op: str, ys: list[Any], ts: list[Any]) -> None:
    if len(ys) != len(ts):
        raise MemogradValueError(f"{op}: {len(ys)} outputs but {len(ts)} targets")


def loss_fn(name: str) -> Callable[[Outputs, Targets], Value]:
    """The loss function called ``name`` (one of LOSSES)."""
    table: dict[str, Callable[[Outputs, Targets], Value]] = {"mse": mse, "bce": bce, "hinge": hinge}
    if name not in table:
        raise MemogradValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return table[name]


# --- the notes' example ---------------------------------------------------------------


def parse_net(spec: str | Sequence[int]) -> tuple[int, ...]:
    """``"2,2,2,1"`` (or a sequence) -> (2, 2, 2, 1): inputs then layer widths; at least two
    entries (inputs + one layer) and no zero width."""
    if isinstance(spec, str):
        parts = [p.strip() for p in spec.split(",")]
        try:
            sizes = tuple(int(p) for p in parts)
        except ValueError:
            raise MemogradValueError(
                f"net {spec!r}: widths must be integers separated by commas, e.g. 2,2,2,1"
            ) from None
    else:
        sizes = tuple(spec)
    if len(sizes) < 2:
        raise MemogradValueError(
            f"net {spec!r}: need at least two layers (inputs and one layer), e.g. 2,2,2,1"
        )
    for k, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise MemogradValueError(
                f"net {spec!r}: layer {k} has width {s!r}; every width must be >= 1"
            )
    return sizes


def _numbers(values: Iterable[Any], n: int, what: str, where: str) -> list[float]:
    """``values`` as n finite floats, or an error naming the file (if any) and the entry."""
    at = f"{where}: " if where else ""
    given = list(values)
    if len(given) != n:
        raise MemogradValueError(f"{at}{what}: expected {n} numbers, got {len(given)}")
    for v in given:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise MemogradValueError(f"{at}{what}: every entry must be a finite number, got {v!r}")
    return [float(v) for v in given]


@dataclass
class Example:
    """One network, one input, one target, and its loss graph (forward already done)."""

    model: MLP
    inputs: list[Value]
    targets: list[float]
    activation: str
    loss_name: str
    outputs: list[Value] = field(default_factory=list)
    loss: Value | None = None

    def forward(self) -> Value:
        """(Re)build the graph from the current weights: sets ``outputs`` and ``loss``."""
        out = self.model(self.inputs)
        self.outputs = _as_list(out)
        self.loss = loss_fn(self.loss_name)(self.outputs, self.targets)
        return self.loss

    @property
    def output(self) -> Value:
        return self.outputs[0]

    def parameter(self, name: str) -> Value:
        params = self.model.named_parameters()
        if name not in params:
            raise MemogradValueError(
                f"unknown parameter {name!r}; valid names: {', '.join(params)}"
            )
        return params[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "net": list(self.model.sizes),
            "activation": self.activation,
            "loss": self.loss_name,
            "inputs": {x.name: x.data for x in self.inputs},
            "target": self.targets[0] if len(self.targets) == 1 else list(self.targets),
            "weights": self.model.weights(),
            "outputs": {y.name: y.data for y in self.outputs},
            "L": self.loss.data if self.loss is not None else None,
        }


def notes_network(
    net: str | Sequence[int] = (2, 2, 2, 1),
    activation: str = "sigmoid",
    loss: str = "mse",
    seed: int = 0,
    weights: Mapping[str, Any] | str | Path | None = None,
    inputs: Sequence[float] | None = None,
    target: float | Sequence[float] | None = None,
) -> Example:
    """The notes' 2-2-2-1 network (or any ``net``) with seeded weights, one input and target, and
    the loss graph built: ``ex.loss`` is L, ``ex.output`` is ŷ.

    Every layer uses ``activation`` (σ by default, as in the notes). Inputs are uniform in [-1, 1)
    and the target uniform in [0, 1) (in {-1, 1} for hinge) from the same seed, unless given.
    ``weights``: a mapping or JSON path loaded by name (a file may also hold "inputs"/"target")."""
    sizes = parse_net(net)
    _check_activation(activation)
    loss_fn(loss)
    model = MLP(sizes[0], sizes[1:], activation, activation, seed=seed)
    rng = random.Random(f"memograd-example-{seed}")
    xs = [rng.uniform(-1, 1) for _ in range(sizes[0])]
    if loss == "hinge":
        ts = [rng.choice((-1.0, 1.0)) for _ in range(sizes[-1])]
    else:
        ts = [rng.uniform(0, 1) for _ in range(sizes[-1])]
    where = ""
    if weights is not None:
        raw, where = read_json_object(weights)
        if isinstance(raw.get("weights"), dict):
            if isinstance(raw.get("inputs"), dict | list) and inputs is None:
                vals = raw["inputs"]
                inputs = list(vals.values()) if isinstance(vals, dict) else vals
            if raw.get("target") is not None and target is None:
                target = raw["target"]
        model.load_weights(weights)
    if inputs is not None:
        xs = _numbers(inputs, sizes[0], "inputs", where)
    if target is not None:
        ts = _numbers(_as_list(target), sizes[-1], "target", where)
    ex = Example(
        model=model,
        inputs=[Value(x, f"x{i}") for i, x in enumerate(xs, 1)],
        targets=ts,
        activation=activation,
        loss_name=loss,
    )
    ex.forward()
    return ex
