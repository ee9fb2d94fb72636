"""What an exported model is made of: a memograd model read as a list of :class:`Layer` records.

Both targets (PyTorch, ONNX) are written from this list, so they export the same network:

==============  ===============================================  ==========================
kind            memograd                                         parameters
==============  ===============================================  ==========================
standardize     the run's preprocessing z = (x - mean) / scale   mean, scale (float64)
linear          o = x W + b, W of shape (in, out)                weight (in, out), bias
relu, tanh,     the activation modules of ``memograd.nn``        slope (leaky_relu)
sigmoid, gelu,
leaky_relu
identity        nothing (dropped from the exported network)
dropout         inverted dropout (the identity when evaluating)  p
==============  ===============================================  ==========================

Anything else (a custom ``Module``, a scalar-engine network) cannot be expressed: the error names
the layer and the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from memograd.errors import MemogradTypeError, MemogradValueError

ACTIVATION_KINDS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu")
SUPPORTED = "Linear, ReLU, LeakyReLU, Tanh, Sigmoid, GELU, Identity, Dropout"


class ExportError(MemogradValueError):
    """A model, layer or file cannot be exported, imported or checked: the message says which."""


@dataclass(frozen=True)
class Layer:
    """One exported layer: its kind, its name in the memograd model and its parameters."""

    kind: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)  # arrays (weight, bias, ...), numbers

    @property
    def in_features(self) -> int:
        if self.kind == "linear":
            return int(self.params["weight"].shape[0])
        return int(self.params["mean"].shape[0])

    @property
    def out_features(self) -> int:
        return int(self.params["weight"].shape[1])


def standardize_layer(mean: ArrayLike, scale: ArrayLike) -> Layer:
    """The preprocessing z = (x - mean) / scale as the first layer (statistics kept in float64,
    as memograd computed them when it trained)."""
    mu = np.asarray(mean, dtype=np.float64).reshape(-1)
    sigma = np.asarray(scale, dtype=np.float64).reshape(-1)
    if mu.shape != sigma.shape or mu.size == 0:
        raise ExportError(
            f"standardisation: mean and scale must be two vectors of one length, got shapes "
            f"{mu.shape} and {sigma.shape}"
        )
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ExportError("standardisation: mean must be finite and scale finite and > 0")
    return Layer("standardize", "preprocessing", {"mean": mu, "scale": sigma})


def describe(model: object, target: str) -> list[Layer]:
    """The layers of ``model`` (an ``mg.nn`` Sequential/MLP or a single Linear), in order.

    ``target`` ("PyTorch", "ONNX") only words the error for a layer that cannot be exported."""
    from memograd.nn.layers import (
        GELU,
        Dropout,
        Identity,
        LeakyReLU,
        Linear,
        ReLU,
        Sequential,
        Sigmoid,
        Tanh,
    )
    from memograd.nn.module import Module

    if not isinstance(model, Module):
        kind = f"{type(model).__module__}.{type(model).__name__}"
        hint = (
            " (a scalar-engine network: build it with mg.nn.MLP, the NumPy engine, to export it)"
            if "scalar" in kind
            else ""
        )
        raise MemogradTypeError(
            f"export to {target}: expected a memograd.nn model (mg.nn.MLP, Sequential or Linear), "
            f"got {kind}{hint}"
        )
    named = list(model.named_children()) if isinstance(model, Sequential) else [("0", model)]
    simple: dict[type[Module], str] = {ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid", GELU: "gelu"}
    layers: list[Layer] = []
    width: int | None = None
    for name, m in named:
        if type(m) is Linear:
            w = m.weight.data
            if width is not None and w.shape[0] != width:
                raise ExportError(
                    f"export to {target}: layer {name} (Linear) takes {w.shape[0]} inputs but the "
                    f"layer before gives {width}"
                )
            width = w.shape[1]
            bias = None if m.bias is None else m.bias.data
            layers.append(Layer("linear", name, {"weight": w, "bias": bias}))
        elif type(m) in simple:
            layers.append(Layer(simple[type(m)], name))
        elif type(m) is LeakyReLU:
            layers.append(Layer("leaky_relu", name, {"slope": m.slope}))
        elif type(m) is Identity:
            layers.append(Layer("identity", name))
        elif type(m) is Dropout:
            layers.append(Layer("dropout", name, {"p": m.p}))
        else:
            raise ExportError(
                f"export to {target}: layer {name} ({type(m).__name__}) cannot be expressed in "
                f"{target}; exportable layers are {SUPPORTED}"
            )
    if not any(layer.kind == "linear" for layer in layers):
        raise ExportError(f"export to {target}: the model has no Linear layer")
    dtypes = {layer.params["weight"].dtype for layer in layers if layer.kind == "linear"}
    dtypes |= {
        layer.params["bias"].dtype for layer in layers if layer.params.get("bias") is not None
    }
    if len(dtypes) != 1 or next(iter(dtypes)) not in (np.float32, np.float64):
        raise ExportError(
            f"export to {target}: parameters must all be float32 or all float64, got "
            f"{', '.join(sorted(map(str, dtypes)))}"
        )
    return layers


def model_dtype(layers: list[Layer]) -> np.dtype:
    return next(layer.params["weight"].dtype for layer in layers if layer.kind == "linear")


def n_inputs(layers: list[Layer]) -> int:
    """How many features the network (or its standardisation) takes."""
    return next(x for x in layers if x.kind in ("linear", "standardize")).in_features


def n_outputs(layers: list[Layer]) -> int:
    return [x for x in layers if x.kind == "linear"][-1].out_features
