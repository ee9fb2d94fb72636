"""Layers: Linear, activations as modules, Dropout, Sequential, and the ``MLP`` builder.

A Linear layer computes o = x W + b with W of shape (in, out): W[i, j] is the notes' w_ij^k, the
weight from neuron i of layer k-1 to neuron j of layer k, and each neuron has in + 1 trainable
parameters ("(2+1) = 3" for a 2-input neuron).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypedDict, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.nn import init as _init
from memograd.nn.module import Module, Parameter
from memograd.tensor.api import matmul
from memograd.tensor.tensor import Tensor, is_grad_enabled


class Linear(Module):
    """o = x W + b, W of shape (in_features, out_features), b of shape (out_features,).

    W is drawn by ``init`` (see :mod:`memograd.nn.init`); b starts at 0, or with
    ``bias_init="uniform"`` from U(-a, a) with Glorot's a = sqrt(6 / (in + out)), as
    scikit-learn's MLPs do.

    PyTorch's ``nn.Linear`` stores the same weight transposed, (out, in): ``load_state_dict(...,
    layout="torch")`` and :mod:`memograd.export` transpose it explicitly, never by guessing."""

    TORCH_TRANSPOSED = ("weight",)  # parameters PyTorch stores transposed

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        init: str | None = None,
        activation: str = "relu",
        bias_init: str = "zeros",
        rng: _init.Seed = None,
        dtype: DTypeLike = "float32",
    ) -> None:
        super().__init__()
        for what, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or n < 1:
                raise MemogradValueError(f"Linear: {what} must be a positive integer, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.init = init or _init.default_init(activation)
        gen = _init.as_generator(rng)
        w = _init.initialize(self.init, (in_features, out_features), gen, activation, dtype)
        self.weight = Parameter(w, dtype=dtype)
        if bias_init not in ("zeros", "uniform"):
            raise MemogradValueError(
                f"Linear: bias_init must be 'zeros' or 'uniform', got {bias_init!r}"
            )
        b = np.zeros(out_features)
        if bias and bias_init == "uniform":  # scikit-learn's: U(-a, a), a the Glorot bound
            a = (6.0 / (in_features + out_features)) ** 0.5
            b = gen.uniform(-a, a, out_features)
        self.bias = Parameter(b, dtype=dtype) if bias else None

    def forward(self, x: Tensor | ArrayLike) -> Tensor:
        # data (an array, or a tensor needing no gradient) is cast to the weights' dtype
        dtype = self.weight.dtype
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x, dtype=dtype))
        elif x.dtype != dtype and not x.requires_grad:
            x = Tensor(x.data.astype(dtype))
        try:
            if self.bias is not None:
                # a temporary product plus the bias: one affine node (``ops_affine.fuse_bias``)
                return matmul(x, self.weight) + self.bias
            return matmul(x, self.weight)  # x @ W (the @ operator is installed at import)
        except ShapeError as error:  # matmul checked the shapes; say which layer and what it takes
            if x.ndim and x.shape[-1] == self.in_features:
                raise  # the input fits: the error is the weight's or the bias's, as it says
            raise ShapeError(
                f"Linear({self.in_features} -> {self.out_features}): input of shape {x.shape} "
                f"has {x.shape[-1] if x.ndim else 'no'} features in its last axis; this layer "
                f"takes {self.in_features} (rows are samples: shape (batch, {self.in_features}))"
            ) from error

    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return f"{self.in_features} -> {self.out_features}{bias}, init={self.init}"


class Activation(Module):
    """An elementwise nonlinearity as a module (no parameters)."""

    name = "identity"

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - overridden
        return x


class Identity(Activation):
    name = "identity"

    def forward(self, x: Tensor) -> Tensor:
        return x


class ReLU(Activation):
    """max(0, x); derivative 1 for x > 0, 0 otherwise (0 at x = 0)."""

    name = "relu"

    def forward(self, x: Tensor) -> Tensor:
        return cast(Tensor, x.relu())


class LeakyReLU(Activation):
    name = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = float(slope)

    def forward(self, x: Tensor) -> Tensor:
        return cast(Tensor, x.leaky_relu(self.slope))

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class Tanh(Activation):
    name = "tanh"

    def forward(self, x: Tensor) -> Tensor:
        return cast(Tensor, x.tanh())


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, x: Tensor) -> Tensor:
        return cast(Tensor, x.sigmoid())


class GELU(Activation):
    name = "gelu"

    def forward(self, x: Tensor) -> Tensor:
        return cast(Tensor, x.gelu())


ACTIVATIONS: dict[str, type[Activation]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "gelu": GELU,
    "identity": Identity,
}


def make_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name.lower()]()
    except (KeyError, AttributeError):
        raise MemogradValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None


class Dropout(Module):
    """In training, zero each value with probability p and scale the rest by 1 / (1 - p)
    (inverted dropout: evaluation is the identity). The mask comes from ``self.rng``."""

    def __init__(self, p: float = 0.5, rng: _init.Seed = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise MemogradValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = _init.as_generator(rng)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = self.rng.random(x.shape) >= self.p
        scaled: Tensor = x * (keep.astype(x.dtype) / np.asarray(1.0 - self.p, dtype=x.dtype))
        return scaled

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Module):
    """Modules applied one after another; they are named "0", "1", ... in ``state_dict``.

    ``memory_budget`` (bytes, default None): when set, a recorded forward is split into
    checkpointed segments chosen to fit it (:func:`memograd.nn.checkpoint.plan`)."""

    memory_budget: int | None = None

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise MemogradTypeError(
                    f"Sequential: item {i} is a {type(m).__name__}, not a Module"
                )
            setattr(self, str(i), m)

    def __len__(self) -> int:
        return len(self.children())

    def __getitem__(self, i: int) -> Module:
        return self.children()[i]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.children())

    def forward(self, x: Any) -> Any:
        if self.memory_budget is not None and isinstance(x, Tensor) and is_grad_enabled():
            from memograd.nn.checkpoint import budgeted_forward

            return budgeted_forward(self, x, self.memory_budget)
        for m in vars(self).values():
            if isinstance(m, Module):
                x = m(x)
        return x


class MLPConfig(TypedDict):
    """An MLP's architecture as checkpoints store it (``MLP.from_config`` rebuilds it)."""

    type: str  # "MLP"
    widths: list[int]
    activation: str
    dropout: float
    init: str | None
    bias_init: str
    dtype: str


def _widths(widths: object, activation: object) -> list[int]:
    """``widths`` as a list of ints, or a clear error naming the spelling that was meant."""
    if isinstance(widths, (int, np.integer)) and not isinstance(widths, bool):
        hint = ""
        if isinstance(activation, Sequence) and not isinstance(activation, str):
            listed = [widths, *activation]
            hint = (
                f" MLP({widths}, {list(activation)}) is the scalar engine's spelling "
                f"(memograd.scalar.nn.MLP); here write MLP({listed})."
            )
        raise MemogradTypeError(
            f"MLP: widths must be a list [inputs, hidden..., outputs], e.g. MLP([2, 16, 16, 1]); "
            f"got the int {widths}.{hint}"
        )
    if isinstance(widths, np.ndarray):
        widths = widths.tolist()
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
        raise MemogradTypeError(
            f"MLP: widths must be a list of ints [inputs, hidden..., outputs], e.g. "
            f"MLP([2, 16, 16, 1]); got {type(widths).__name__} {widths!r}"
        )
    sizes: list[int] = []
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)):
            raise MemogradTypeError(f"MLP: every width must be an int, got {w!r} in {list(widths)}")
        sizes.append(int(w))
    return sizes


class MLP(Sequential):
    """A multi-layer perceptron: ``MLP([2, 2, 2, 1])`` is the notes' 2-2-2-1 network.

    ``widths`` = [inputs, hidden..., outputs]; every layer but the last is followed by
    ``activation`` (and ``Dropout(dropout)`` when dropout > 0). Weights come from ``seed`` (or a
    Generator ``rng``) with ``init`` (default Glorot uniform; "he" for He's scheme)."""

    # set by from_torch when the PyTorch model had memograd.export's Standardize layer
    input_standardization: dict[str, NDArray[np.float64]]

    def __init__(
        self,
        widths: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        *,
        init: str | None = None,
        bias_init: str = "zeros",
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: DTypeLike = "float32",
    ) -> None:
        sizes = _widths(widths, activation)
        if len(sizes) < 2 or any(w < 1 for w in sizes):
            raise MemogradValueError(
                f"MLP: widths must list at least an input and an output size, all >= 1, "
                f"got {list(sizes)}"
            )
        make_activation(activation)  # validate the name early
        gen = _init.as_generator(rng if rng is not None else seed)
        layers: list[Module] = []
        last = len(sizes) - 2
        for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(
                Linear(
                    a,
                    b,
                    init=init,
                    activation=activation if k < last else "identity",
                    bias_init=bias_init,
                    rng=gen,
                    dtype=dtype,
                )
            )
            if k < last:
                layers.append(make_activation(activation))
                if dropout:
                    layers.append(Dropout(dropout, rng=gen))
        super().__init__(*layers)
        self.flatten_parameters()
        self.config: MLPConfig = {
            "type": "MLP",
            "widths": sizes,
            "activation": activation,
            "dropout": float(dropout),
            "init": init,
            "bias_init": bias_init,
            "dtype": str(np.dtype(dtype)),
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any], seed: int | None = 0) -> MLP:
        """Rebuild the architecture written in ``config`` (weights come from a checkpoint)."""
        if config.get("type") != "MLP":
            raise MemogradValueError(f"MLP.from_config: not an MLP config: {config!r}")
        return cls(
            config["widths"],
            activation=config.get("activation", "relu"),
            dropout=config.get("dropout", 0.0),
            init=config.get("init"),
            bias_init=config.get("bias_init", "zeros"),
            seed=seed,
            dtype=config.get("dtype", "float32"),
        )

    @classmethod
    def from_torch(cls, source: Any, *, activation: str | None = None, dropout: float = 0.0) -> MLP:
        """An MLP with the weights of a PyTorch ``nn.Sequential``, its ``state_dict()`` or a
        ``.pt`` file of one (read with ``torch.load(weights_only=True)``).

        Each ``nn.Linear`` weight (out, in) becomes a memograd weight (in, out), transposed
        exactly once; the activation and dropout are read from the module (a state_dict holds
        weights only: pass ``activation=``). A layer memograd cannot express, a missing key or a
        wrong shape is an error naming it. The Standardize layer of :mod:`memograd.export` is
        kept as ``model.input_standardization`` ({"mean", "scale"}), so exporting again
        restores it. ``mg.nn.MLP.from_torch(mg.export.to_torch(m))`` is ``m``, bit for bit."""
        from memograd.nn.torch_interop import mlp_from_torch

        return mlp_from_torch(cls, source, activation=activation, dropout=dropout)

    def linears(self) -> list[Linear]:
        return [m for m in self if isinstance(m, Linear)]

    def set_rng(self, rng: np.random.Generator) -> None:
        """Draw dropout masks from ``rng`` (a trainer shares its own, so one state resumes all)."""
        for m in self.modules():
            if isinstance(m, Dropout):
                m.rng = rng

    def extra_repr(self) -> str:
        w = "-".join(map(str, self.config["widths"]))
        return f"{w}, activation={self.config['activation']}"
