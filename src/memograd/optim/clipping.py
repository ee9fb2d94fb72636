"""Parameter access and gradient clipping: ‖g‖ over all parameters, and scaling to a max norm."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from memograd.errors import MemogradTypeError, MemogradValueError, NonFiniteError

__all__ = ["global_norm", "clip_grad_norm"]


def _data(p: Any) -> np.ndarray:
    """The array a parameter's values live in (updated in place): ``p.data``, or ``p`` itself."""
    data = getattr(p, "data", p)
    if not isinstance(data, np.ndarray):
        raise MemogradTypeError(
            f"optimizer: a parameter must be a Tensor or numpy array, got {type(p).__name__}"
        )
    return data


def _grad(p: Any) -> np.ndarray | None:
    """The parameter's gradient as an array (``p.grad`` is a Tensor or an array), or None."""
    g = getattr(p, "grad", None)
    if g is None or isinstance(g, np.ndarray):
        return g
    return _data(g)


def global_norm(parameters: Iterable[Any]) -> float:
    """‖g‖ = sqrt(Σ over parameters of Σ g²), the norm of all gradients as one vector."""
    total = 0.0
    for p in parameters:
        g = _grad(p)
        if g is not None:
            flat = g.ravel()
            total += float(np.dot(flat, flat))
    return math.sqrt(total)


def clip_grad_norm(parameters: Iterable[Any], max_norm: float) -> float:
    """Scale every gradient in place by min(1, max_norm / ‖g‖); returns ‖g‖ before clipping."""
    if not max_norm > 0:
        raise MemogradValueError(f"clip_grad_norm: max_norm must be > 0, got {max_norm}")
    params = list(parameters)
    norm = global_norm(params)
    if not math.isfinite(norm):
        raise NonFiniteError(
            f"clip_grad_norm: the gradient norm is {norm}; lower the learning rate, check the data"
        )
    if norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for p in params:
            g = _grad(p)
            if g is not None:
                g *= scale
    return norm
