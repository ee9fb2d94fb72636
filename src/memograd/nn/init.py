"""Weight initialisation from a seedable NumPy ``Generator``: the same seed, the same weights.

For a weight matrix W of shape (fan_in, fan_out) (the notes' w_ij^k, from neuron i of layer k-1
to neuron j of layer k) and a gain g chosen for the activation:

===================  =======================================================
xavier_uniform       W ~ U(-a, a),  a = g·sqrt(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)
xavier_normal        W ~ N(0, σ²),  σ = g·sqrt(2 / (fan_in + fan_out))
kaiming_uniform      W ~ U(-a, a),  a = g·sqrt(3 / fan_in)               (He et al. 2015)
kaiming_normal       W ~ N(0, σ²),  σ = g / sqrt(fan_in)
===================  =======================================================

He's gain keeps the variance of activations steady through the layers: relu sqrt(2), tanh 5/3,
leaky_relu sqrt(2 / (1 + slope²)), sigmoid and identity 1; ``initialize`` uses it for the
kaiming schemes and gain 1 for the xavier ones (as Glorot & Bengio, and PyTorch's default).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
from numpy.typing import DTypeLike, NDArray

from memograd.errors import MemogradTypeError, MemogradValueError

_GAINS = {
    "identity": 1.0,
    "linear": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "gelu": math.sqrt(2.0),
}


def calculate_gain(activation: str = "relu", slope: float = 0.01) -> float:
    """The gain g of ``activation`` (see the module docstring)."""
    if activation == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + slope**2))
    try:
        return _GAINS[activation]
    except KeyError:
        raise MemogradValueError(
            f"calculate_gain: unknown activation {activation!r}; known: "
            f"{', '.join([*_GAINS, 'leaky_relu'])}"
        ) from None


Seed = np.random.Generator | int | np.integer[Any] | None  # a Generator, or a seed for a new one


class Init(Protocol):
    """An initialisation scheme: ``scheme(shape, rng, gain=, dtype=)`` -> the weight."""

    def __call__(
        self, shape: tuple[int, ...], rng: Seed = None, gain: float = ..., dtype: DTypeLike = ...
    ) -> NDArray[Any]: ...


def as_generator(rng: Seed) -> np.random.Generator:
    """``rng`` as a Generator: a Generator is used as is, an int (or None) seeds a new one."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise MemogradTypeError(
        f"expected a numpy Generator or an integer seed, got {type(rng).__name__}"
    )


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) < 1:
        raise MemogradValueError(f"init: a weight needs at least one dimension, got shape {shape}")
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def xavier_uniform(
    shape: tuple[int, ...], rng: Seed = None, gain: float = 1.0, dtype: DTypeLike = "float32"
) -> NDArray[Any]:
    fan_in, fan_out = _fans(tuple(shape))
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return as_generator(rng).uniform(-a, a, shape).astype(dtype)


def xavier_normal(
    shape: tuple[int, ...], rng: Seed = None, gain: float = 1.0, dtype: DTypeLike = "float32"
) -> NDArray[Any]:
    fan_in, fan_out = _fans(tuple(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return as_generator(rng).normal(0.0, std, shape).astype(dtype)


def kaiming_uniform(
    shape: tuple[int, ...],
    rng: Seed = None,
    gain: float = math.sqrt(2.0),
    dtype: DTypeLike = "float32",
) -> NDArray[Any]:
    fan_in, _ = _fans(tuple(shape))
    a = gain * math.sqrt(3.0 / fan_in)
    return as_generator(rng).uniform(-a, a, shape).astype(dtype)


def kaiming_normal(
    shape: tuple[int, ...],
    rng: Seed = None,
    gain: float = math.sqrt(2.0),
    dtype: DTypeLike = "float32",
) -> NDArray[Any]:
    fan_in, _ = _fans(tuple(shape))
    return as_generator(rng).normal(0.0, gain / math.sqrt(fan_in), shape).astype(dtype)


INITS: dict[str, Init] = {
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "kaiming_uniform": kaiming_uniform,
    "kaiming_normal": kaiming_normal,
    "he_uniform": kaiming_uniform,
    "he_normal": kaiming_normal,
    "xavier": xavier_uniform,
    "glorot": xavier_uniform,
    "kaiming": kaiming_uniform,
    "he": kaiming_uniform,
}


def default_init(activation: str) -> str:
    """Glorot uniform for every activation (as scikit-learn and Keras): on the built-in datasets
    it trained better than He's larger weights for relu (benchmarks/results/training.md)."""
    return "xavier_uniform"


def initialize(
    name: str,
    shape: tuple[int, ...],
    rng: Seed = None,
    activation: str = "relu",
    dtype: DTypeLike = "float32",
) -> NDArray[Any]:
    """A weight of ``shape`` drawn by the scheme ``name`` with the gain of ``activation``."""
    try:
        fn = INITS[name.lower()]
    except KeyError:
        raise MemogradValueError(
            f"unknown init {name!r}; choose one of {', '.join(sorted(INITS))}"
        ) from None
    # He scales by the activation's gain; Glorot keeps gain 1, as the paper (and PyTorch) do
    gain = calculate_gain(activation) if fn in (kaiming_uniform, kaiming_normal) else 1.0
    return fn(shape, rng, gain=gain, dtype=dtype)
