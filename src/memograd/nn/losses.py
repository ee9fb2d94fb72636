"""Losses: each takes the network's output (a Tensor) and the targets, returns a scalar Tensor.

===================  =================================================================
cross_entropy        L = mean_i [logsumexp(z_i) - z_i[y_i]]        (integer labels y_i)
mse                  L = mean (ŷ - y)²
bce_with_logits      L = mean [max(z, 0) - z t + log(1 + e^(-|z|))]  (targets t in {0, 1})
hinge                binary (one output): mean max(0, 1 - s·z), s = 2t - 1 in {-1, +1};
                     multi-class (Weston-Watkins): mean_i Σ_{j≠y_i} max(0, 1 + z_ij - z_iy_i)
===================  =================================================================

The first three are fused, numerically stable primitives of the tensor engine; hinge is
composed from primitives (its backward is the engine's, through the same memo table).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from memograd.errors import MemogradTypeError, ShapeError
from memograd.nn.module import Module
from memograd.tensor.api import binary_cross_entropy_with_logits as _bce
from memograd.tensor.api import cross_entropy as _cross_entropy
from memograd.tensor.api import mse as _mse
from memograd.tensor.tensor import Tensor

Loss = Callable[[Any, Any], Tensor]  # (network output, targets) -> scalar loss Tensor


def _as_tensor(x: Tensor | ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _labels(name: str, labels: Tensor | ArrayLike) -> Tensor | NDArray[np.integer[Any]]:
    """Integer labels, checked; a Tensor is passed on as is (``compile_step`` traces it)."""
    y = labels if isinstance(labels, Tensor) else np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise MemogradTypeError(f"{name}: labels must be integers, got dtype {y.dtype}")
    return y


def _match(name: str, pred: Tensor, target: Tensor | ArrayLike) -> Tensor | NDArray[Any]:
    """The target as an array of ``pred``'s shape: (n,) targets fit an (n, 1) output.

    A Tensor target of the right shape and dtype is passed on as is (``compile_step``)."""
    if isinstance(target, Tensor) and target.shape == pred.shape and target.dtype == pred.dtype:
        return target
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.shape != pred.shape:
        if t.ndim == pred.ndim - 1 and pred.shape[-1] == 1 and t.shape == pred.shape[:-1]:
            t = t.reshape(pred.shape)
        else:
            raise ShapeError(
                f"{name}: prediction of shape {pred.shape} and target of shape {t.shape} differ "
                "(broadcasting them would silently compare every pair)"
            )
    return t.astype(pred.dtype, copy=False)


def cross_entropy(logits: Tensor | ArrayLike, labels: Tensor | ArrayLike) -> Tensor:
    """Softmax cross-entropy of (n, classes) logits with n integer labels."""
    return _cross_entropy(_as_tensor(logits), _labels("cross_entropy", labels))


def mse(pred: Tensor | ArrayLike, target: Tensor | ArrayLike) -> Tensor:
    """Mean squared error; an (n,) target fits an (n, 1) prediction."""
    p = _as_tensor(pred)
    return _mse(p, _match("mse", p, target))


def bce_with_logits(logits: Tensor | ArrayLike, target: Tensor | ArrayLike) -> Tensor:
    """Binary cross-entropy on logits; an (n,) target fits an (n, 1) output."""
    z = _as_tensor(logits)
    return _bce(z, _match("bce_with_logits", z, target))


def hinge(scores: Tensor | ArrayLike, labels: Tensor | ArrayLike) -> Tensor:
    """Hinge loss: binary for one output column (labels 0/1), Weston-Watkins multi-class."""
    s = _as_tensor(scores)
    given = _labels("hinge", labels)
    y = given.data if isinstance(given, Tensor) else given
    if s.ndim != 2 or len(y) != s.shape[0]:
        raise ShapeError(
            f"hinge: scores must be (n, classes) with n labels, got {s.shape} and {y.shape}"
        )
    if s.shape[1] == 1:
        sign = (2.0 * y - 1.0).astype(s.dtype).reshape(-1, 1)
        return cast(Tensor, (1.0 - s * sign).relu().mean())
    onehot = np.zeros(s.shape, dtype=s.dtype)
    onehot[np.arange(len(y)), y] = 1
    correct = (s * onehot).sum(axis=1, keepdims=True)
    margins = (s - correct + 1.0).relu() * (1.0 - onehot)
    return cast(Tensor, margins.sum(axis=1).mean())


class _Loss(Module):
    fn: Callable[..., Tensor] = staticmethod(mse)

    def forward(self, output: Tensor | ArrayLike, target: Tensor | ArrayLike) -> Tensor:
        return type(self).fn(output, target)


class CrossEntropyLoss(_Loss):
    fn = staticmethod(cross_entropy)


class MSELoss(_Loss):
    fn = staticmethod(mse)


class BCEWithLogitsLoss(_Loss):
    fn = staticmethod(bce_with_logits)


class HingeLoss(_Loss):
    fn = staticmethod(hinge)


LOSSES: dict[str, Loss] = {
    "cross_entropy": cross_entropy,
    "mse": mse,
    "bce_with_logits": bce_with_logits,
    "hinge": hinge,
}
