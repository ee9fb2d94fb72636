"""Neural-network functions with PyTorch's names and defaults (``torch.nn.functional``):
activations, losses, layer_norm and scaled_dot_product_attention. The losses keep memograd's
order ``(input, target, reduction)``; PyTorch's other options (weight, ignore_index,
label_smoothing, pos_weight) are keyword-only. Convolutions and pooling are in
:mod:`memograd.tensor.conv`.

Most are composites of rows of THE table (their gradients follow, to any order). Two are rows of
their own because the composite would be wrong somewhere: ``softplus`` (log(1 + e^x) split as
max(x, 0) + log1p(e^-|x|) has the right value but a kinked pieces' gradient 0 at x = 0, not 1/2)
and ``binary_cross_entropy`` (log p at p = 0 gives 0 · inf = nan in the chain rule; the row
clamps as PyTorch does: log terms at least -100, ∂/∂p = (p - t)/max(p(1 - p), 1e-12)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from memograd.errors import MemogradTypeError, MemogradValueError, ShapeError
from memograd.tensor.api import matmul, reshape, transpose, where
from memograd.tensor.ops import TABLE, Operand, call, register, rule
from memograd.tensor.ops_index import _tensors, take_along_axis
from memograd.tensor.ops_math import erf, expm1
from memograd.tensor.ops_shape import array_split
from memograd.tensor.tensor import (  # sum, mean, ... : the table's generated functions
    Tensor,
    _apply,
    _check_reduction,
    _pair,
    abs,
    clip,
    log_softmax,
    mean,
    sigmoid,
    softmax,
    sqrt,
    sum,
    tanh,
    tensor,
)
from memograd.tensor.tensor import (
    binary_cross_entropy_with_logits as _bce_logits_fused,
)
from memograd.tensor.tensor import cross_entropy as _cross_entropy_fused
from memograd.tensor.tensor import gelu as _gelu_tanh

__all__ = [
    "softplus",
    "silu",
    "elu",
    "selu",
    "gelu",
    "mish",
    "logsigmoid",
    "hardtanh",
    "relu6",
    "softsign",
    "glu",
    "nll_loss",
    "binary_cross_entropy",
    "cross_entropy",
    "binary_cross_entropy_with_logits",
    "layer_norm",
    "scaled_dot_product_attention",
]


def _softplus(a: Operand, beta: float = 1.0, threshold: float = 20.0) -> Operand:
    """log(1 + e^{βa})/β, stable (logaddexp(0, βa)); linear (= a) where βa > threshold."""
    ba = a * beta
    return np.where(ba > threshold, a, np.logaddexp(0, ba) / beta).astype(a.dtype, copy=False)


def _softplus_vjp(
    g: Operand, y: Operand, a: Operand, beta: float = 1.0, threshold: float = 20.0
) -> Operand:
    """∂ softplus/∂a = σ(βa) (1 where the function is linear)."""
    ba = a * beta
    return g * np.where(ba > threshold, 1, call("sigmoid", ba))


def _bce(p: Operand, t: Operand) -> Operand:
    """-(t log p + (1 - t) log(1 - p)), each log at least -100 (PyTorch's clamp)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.maximum(np.log(p), -100)
        lq = np.maximum(np.log1p(-p), -100)
    return -(t * lp + (1 - t) * lq)


def _bce_p_vjp(g: Operand, y: Operand, p: Operand, t: Operand) -> Operand:
    """∂/∂p = (p - t)/max(p (1 - p), 1e-12) (PyTorch's form: finite at p = 0 and 1)."""
    return g * (p - t) / np.maximum(p * (1 - p), 1e-12)


def _bce_t_vjp(g: Operand, y: Operand, p: Operand, t: Operand) -> Operand:
    """∂/∂t = log(1 - p) - log p (each clamped at -100)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * (np.maximum(np.log1p(-p), -100) - np.maximum(np.log(p), -100))


# fmt: off
register(
    rule("softplus", _softplus, _softplus_vjp,                                       saves="x"),
    rule("binary_cross_entropy", _bce, _bce_p_vjp, _bce_t_vjp,       saves="x", broadcasts=True),
)
# fmt: on


def _t(a: Tensor | ArrayLike) -> Tensor:
    return a if type(a) is Tensor else tensor(a)


# ---------------------------------------------------------------------------------- activations
def softplus(x: Tensor | ArrayLike, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^{βx})/β (x itself where βx > threshold); ∂ = σ(βx)."""
    return _apply(TABLE["softplus"], (_t(x),), {"beta": beta, "threshold": threshold})


def silu(x: Tensor | ArrayLike) -> Tensor:
    """x σ(x) (swish)."""
    t = _t(x)
    return cast(Tensor, t * sigmoid(t))


def _negative_part(x: Tensor) -> Tensor:
    """x where x <= 0, else 0 (so e^x of the other branch never overflows into the gradient)."""
    return where(x.data > 0, 0.0, x)


def elu(x: Tensor | ArrayLike, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else α(e^x - 1); ∂ = α e^x for x <= 0 (α at 0, as PyTorch)."""
    x = _t(x)
    return where(x.data > 0, x, alpha * expm1(_negative_part(x)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Tensor | ArrayLike) -> Tensor:
    """scale · elu(x, α) with the self-normalizing constants (α ≈ 1.6733, scale ≈ 1.0507)."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def gelu(x: Tensor | ArrayLike, approximate: str = "tanh") -> Tensor:
    """GELU. ``approximate='tanh'`` (memograd's default, unchanged): x/2 (1 + tanh(√(2/π)(x +
    0.044715 x³))); ``'none'`` (PyTorch's default): the exact x/2 (1 + erf(x/√2))."""
    if approximate == "tanh":
        return cast(Tensor, _gelu_tanh(x))
    if approximate != "none":
        raise MemogradValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    t = _t(x)
    return 0.5 * t * (1.0 + erf(t * (1.0 / math.sqrt(2.0))))


def mish(x: Tensor | ArrayLike) -> Tensor:
    """x tanh(softplus(x))."""
    t = _t(x)
    return cast(Tensor, t * tanh(softplus(t)))


def logsigmoid(x: Tensor | ArrayLike) -> Tensor:
    """log σ(x) = -softplus(-x), stable for large |x|."""
    return -softplus(-_t(x))


def hardtanh(x: Tensor | ArrayLike, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the adjoint passes strictly inside (0 at the bounds, as
    PyTorch's hardtanh; ``clip`` passes at the bounds too)."""
    x = _t(x)
    if min_val > max_val:
        raise MemogradValueError(f"hardtanh: min_val {min_val} is above max_val {max_val}")
    inside = (x.data > min_val) & (x.data < max_val)
    return where(inside, x, clip(x.detach(), min_val, max_val))


def relu6(x: Tensor | ArrayLike) -> Tensor:
    """min(max(x, 0), 6) (hardtanh on [0, 6])."""
    return hardtanh(x, 0.0, 6.0)


def softsign(x: Tensor | ArrayLike) -> Tensor:
    """x / (1 + |x|)."""
    t = _t(x)
    return cast(Tensor, t / (1.0 + abs(t)))


def glu(x: Tensor | ArrayLike, axis: int = -1) -> Tensor:
    """Gated linear unit: a σ(b) for the two halves a, b of ``x`` along ``axis`` (even size)."""
    x = _t(x)
    if x.ndim == 0 or x.shape[axis] % 2:
        raise ShapeError(
            f"glu: axis {axis} of shape {x.shape} must have an even size (halves a and b)"
        )
    a, b = array_split(x, 2, axis=axis)
    return cast(Tensor, a * sigmoid(b))


# ---------------------------------------------------------------------------------- losses
def _class_targets(name: str, target: Tensor | ArrayLike, x: Tensor) -> NDArray[np.integer[Any]]:
    """Integer class targets: shape x.shape without the class axis (axis 1, or 0 for 1-d x)."""
    y = target.data if isinstance(target, Tensor) else np.asarray(target)
    if y.dtype.kind not in "iu":
        raise MemogradTypeError(f"{name}: class targets must be integers, got dtype {y.dtype}")
    want = x.shape[:1] + x.shape[2:] if x.ndim >= 2 else ()
    if y.shape != want:
        raise ShapeError(
            f"{name}: target of shape {y.shape} does not fit input of shape {x.shape}; expected "
            f"{want} (one class index per row; the classes are axis {1 if x.ndim >= 2 else 0})"
        )
    return y


def _weights(name: str, weight: Tensor | ArrayLike | None, x: Tensor) -> NDArray[Any] | None:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight, dtype=x.dtype)
    c = x.shape[1] if x.ndim >= 2 else x.shape[0]
    if w.shape != (c,):
        raise ShapeError(f"{name}: weight of shape {w.shape} must have one entry per class ({c},)")
    return w.astype(x.dtype, copy=False)


def _picked(
    name: str,
    logp: Tensor,
    y: NDArray[np.integer[Any]],
    weight: NDArray[Any] | None,
    ignore_index: int,
) -> tuple[Tensor, NDArray[Any]]:
    """(-w[y] log p[y] per element, w[y] per element), zero where y == ignore_index."""
    c = logp.shape[1] if logp.ndim >= 2 else logp.shape[0]
    keep = y != ignore_index
    safe = np.where(keep, y, 0)
    if safe.size and (np.min(safe) < 0 or np.max(safe) >= c):
        bad = safe[(safe < 0) | (safe >= c)]
        raise MemogradValueError(
            f"{name}: class targets must lie in [0, {c}) or equal ignore_index={ignore_index}, "
            f"got {bad.ravel()[0]}; targets are class indices 0..{c - 1}"
        )
    axis = 1 if logp.ndim >= 2 else 0
    idx = np.expand_dims(safe, axis)
    got = reshape(take_along_axis(logp, idx, axis), y.shape)
    wy = keep.astype(logp.dtype) if weight is None else np.where(keep, weight[safe], 0)
    return -got * wy, wy.astype(logp.dtype)


def nll_loss(
    input: Tensor | ArrayLike,
    target: Tensor | ArrayLike,
    reduction: str = "mean",
    *,
    weight: Tensor | ArrayLike | None = None,
    ignore_index: int = -100,
) -> Tensor:
    """PyTorch's nll_loss on log-probabilities ``input`` of shape (N, C), (N, C, d...) or (C,):
    -w[y] input[y] per element; 'mean' divides by Σ w[y] (targets equal to ``ignore_index``
    count for nothing)."""
    _check_reduction("nll_loss", reduction)
    x = _t(input)
    y = _class_targets("nll_loss", target, x)
    losses, wy = _picked("nll_loss", x, y, _weights("nll_loss", weight, x), ignore_index)
    if reduction == "none":
        return losses
    total: Tensor = sum(losses)
    return total if reduction == "sum" else cast(Tensor, total / np.sum(wy))


def binary_cross_entropy(
    input: Tensor | ArrayLike,
    target: Tensor | ArrayLike,
    reduction: str = "mean",
    *,
    weight: Tensor | ArrayLike | None = None,
) -> Tensor:
    """PyTorch's binary_cross_entropy on probabilities p: -(t log p + (1 - t) log(1 - p)), each
    log clamped at -100; differentiable in p and t (a row, see the module doc)."""
    _check_reduction("binary_cross_entropy", reduction)
    p, t = _pair("binary_cross_entropy", input, target)
    if p.shape != t.shape:
        raise ShapeError(
            f"binary_cross_entropy: input {p.shape} and target {t.shape} must have the same shape"
        )
    if p.size and (np.min(p.data) < 0 or np.max(p.data) > 1):
        raise MemogradValueError(
            "binary_cross_entropy: input must be probabilities in [0, 1]; for logits use "
            "binary_cross_entropy_with_logits"
        )
    loss = _apply(TABLE["binary_cross_entropy"], (p, t), {})
    if weight is not None:
        loss = loss * weight
    return _reduced(loss, reduction)


def _reduced(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return cast(Tensor, mean(loss))
    return cast(Tensor, sum(loss)) if reduction == "sum" else loss


def binary_cross_entropy_with_logits(
    input: Tensor | ArrayLike,
    target: Tensor | ArrayLike,
    reduction: str = "mean",
    *,
    weight: Tensor | ArrayLike | None = None,
    pos_weight: Tensor | NDArray[Any] | float | None = None,
) -> Tensor:
    """Stable BCE on logits x (PyTorch's): (1 - t) x + (1 + (pw - 1) t) softplus(-x), times
    ``weight``; ``pos_weight`` (pw) weighs the positive term (per class, broadcast on the last
    axis). Without weights it is the fused row of ``mg.tensor.bce_with_logits``."""
    if weight is None and pos_weight is None:
        return cast(Tensor, _bce_logits_fused(input, target, reduction))
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    x, t = _pair("binary_cross_entropy_with_logits", input, target)
    log_weight = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * t
    loss = (1.0 - t) * x + log_weight * softplus(-x)
    if weight is not None:
        loss = loss * weight
    return _reduced(loss, reduction)


def cross_entropy(
    input: Tensor | ArrayLike,
    target: Tensor | ArrayLike,
    reduction: str = "mean",
    *,
    weight: Tensor | ArrayLike | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Tensor:
    """PyTorch's cross_entropy on logits (classes on axis 1, or 0 for a 1-d input) with integer
    class targets or probability targets (a float tensor of the input's shape), ``weight`` per
    class, ``ignore_index`` and ``label_smoothing`` ε (targets become (1 - ε) y + ε/C). Integer
    labels on 2-d logits without the options use the fused row (logsumexp - z[y])."""
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise MemogradValueError(
            f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}"
        )
    y: Any = target.data if isinstance(target, Tensor) else target  # an array from here
    if not hasattr(y, "dtype"):  # lists (arrays and compile_step's traced arrays keep theirs)
        y = np.asarray(y)
    x = _t(input)
    if y.dtype.kind in "iu" and weight is None and label_smoothing == 0 and x.ndim == 2:
        try:
            return cast(Tensor, _cross_entropy_fused(x, target, reduction))
        except MemogradValueError:
            if not np.any(y == ignore_index):
                raise
    if x.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class axis, got a 0-d tensor")
    axis = 1 if x.ndim >= 2 else 0
    c = x.shape[axis]
    w = _weights("cross_entropy", weight, x)
    logp = log_softmax(x, axis=axis)
    wshape = (c,) + (1,) * (x.ndim - axis - 1)
    if y.dtype.kind == "f":  # probability targets
        if y.shape != x.shape:
            raise MemogradTypeError(
                f"cross_entropy: targets of dtype {y.dtype} and shape {y.shape} are neither "
                "integer class indices (convert them with labels.astype(int)) nor class "
                f"probabilities of the input's shape {x.shape}"
            )
        q = target if isinstance(target, Tensor) else tensor(y, dtype=x.dtype)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / c
        prod = logp * q if w is None else logp * q * w.reshape(wshape)
        losses = -sum(prod, axis=axis)
        if reduction == "mean":
            return cast(Tensor, sum(losses) / max(losses.size, 1) if losses.size else mean(losses))
        return _reduced(losses, reduction)
    y = _class_targets("cross_entropy", y, x)
    nll = nll_loss(logp, y, reduction, weight=weight, ignore_index=ignore_index)
    if not label_smoothing:
        return nll
    keep = y != ignore_index
    smooth = -sum(logp if w is None else logp * w.reshape(wshape), axis=axis) * keep
    if reduction == "mean":
        wy = keep.sum() if w is None else np.sum(w[np.where(keep, y, 0)] * keep)
        smooth = sum(smooth) / wy
    elif reduction == "sum":
        smooth = sum(smooth)
    return cast(Tensor, (1 - label_smoothing) * nll + smooth * (label_smoothing / c))


# ------------------------------------------------------------------------ normalization, attention
def layer_norm(
    x: Tensor | ArrayLike,
    normalized_shape: int | Sequence[int],
    weight: Tensor | ArrayLike | None = None,
    bias: Tensor | ArrayLike | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean)/√(var + eps) over the last ``len(normalized_shape)`` axes (biased variance), then
    · weight + bias (each of ``normalized_shape``)."""
    x = _t(x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.shape[x.ndim - len(shape) :] != shape or len(shape) > x.ndim:
        raise ShapeError(
            f"layer_norm: normalized_shape {shape} must be the trailing dims of input {x.shape}"
        )
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centered = x - mean(x, axis=axes, keepdims=True)
    var = mean(centered * centered, axis=axes, keepdims=True)
    out = centered / sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return cast(Tensor, out)


def scaled_dot_product_attention(
    query: Tensor | ArrayLike,
    key: Tensor | ArrayLike,
    value: Tensor | ArrayLike,
    attn_mask: Tensor | ArrayLike | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """softmax(q kᵀ · scale + mask) v over the last two axes (PyTorch's signature; scale defaults
    to 1/√d). A bool mask marks the positions that take part (False -> -inf), a float mask is
    added; ``is_causal`` keeps position j <= i. Dropout is not supported (``dropout_p`` must be
    0): apply it to the result yourself."""
    q, k, v = _tensors(query, key, value)
    if dropout_p:
        raise MemogradValueError(
            "scaled_dot_product_attention: dropout_p must be 0 (attention dropout is not "
            "supported; it would make the result random)"
        )
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1]:
        raise ShapeError(
            f"scaled_dot_product_attention: query {q.shape}, key {k.shape} and value {v.shape} "
            "must be (..., L, E), (..., S, E), (..., S, Ev)"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(
            f"scaled_dot_product_attention: key {k.shape} and value {v.shape} need the same S"
        )
    if is_causal and attn_mask is not None:
        raise MemogradValueError(
            "scaled_dot_product_attention: pass either attn_mask or is_causal, not both"
        )
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores: Any = matmul(q, transpose(k, tuple(range(k.ndim - 2)) + (k.ndim - 1, k.ndim - 2))) * s
    if is_causal:
        attn_mask = np.tril(np.ones((q.shape[-2], k.shape[-2]), dtype=bool))
    if attn_mask is not None:
        m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if m.dtype == bool:
            scores = where(m, scores, -np.inf)
        else:
            scores = scores + attn_mask
    return matmul(softmax(scores, axis=-1), v)


def _method(name: str) -> Callable[..., Tensor]:
    fn = globals()[name]
    return lambda self, *args, **kwargs: fn(self, *args, **kwargs)


for _name in ("softplus", "silu", "elu", "selu", "mish", "logsigmoid", "hardtanh", "relu6"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _method(_name))
