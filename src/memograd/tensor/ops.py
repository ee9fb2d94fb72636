"""The tensor engine's primitives: each forward next to its vector-Jacobian product, in ONE table.

Reading guide. For an op ``y = f(x0, x1, ...)`` with output adjoint ``g = ∂L/∂y``, the entry
gives, for each input ``xi``, its share of the adjoint ``∂L/∂xi = g · ∂y/∂xi`` (a VJP: the
Jacobian is never built). Each formula receives ``(g, y, *xs, **params)``: the adjoint, the
saved output, the saved inputs and the op's constant parameters (axis, shape, labels, ...). A
formula is evaluated only for inputs that need a gradient, so ``x @ W`` with data ``x`` never
computes ``g @ W.T``.

Broadcasting is numpy's. Ops marked ``broadcasts`` have their shares reduced to each input's shape
by ONE central function, :func:`unbroadcast` (sum over the broadcast axes): no formula repeats it.

Higher order: how to write a formula that can be differentiated twice
---------------------------------------------------------------------
A first-order ``backward()`` hands the formulas plain numpy arrays (no speed lost). Under
``backward(create_graph=True)`` (and ``mg.hessian``, ``mg.hvp``, ``mg.jvp``, ``mg.jacfwd``, nested
``mg.grad``) the SAME formulas receive ``Tensor`` objects: ``g`` and the saved ``y`` and ``xs``
are graph nodes, and every numpy call a formula makes on them is dispatched by ``Tensor``'s
``__array_ufunc__``/``__array_function__`` to a row of this table, so the formula records a
differentiable graph that the same :func:`memograd.graph.backward` runs through again. A formula
is twice-differentiable when it follows these rules:

1. compute with numpy functions and operators (``np.exp(a)``, ``g * y``, ``np.where(m, g, 0)``,
   ``np.add.reduce``, ``x.sum(axis, keepdims=True)``, ``.reshape``, ``.astype(dt, copy=False)``,
   ``a[key]``), or with :func:`call` for an op that numpy lacks (``call("softmax", a, axis=1)``);
2. never write in place into ``g``, ``y``, ``xs`` or anything computed from them (no ``out=``,
   ``+=``, ``a[i] = v``, ``np.add.at``), never convert them (``np.asarray``, ``float``,
   ``.item()``): under create_graph these raise :class:`~memograd.GraphError`, never drop the graph;
3. masks, ``np.sign``, comparisons, ``np.floor`` are constants (derivative 0), which is right;
   values ``keeps=True`` forwards keep are plain arrays, so a ``keeps`` row gives ``twice=``
   formulas written from ``xs`` alone (see cross_entropy, mse);
4. avoid a nan in the branch ``np.where`` does not take: its derivative is 0 * inf = nan.
   Make the untaken branch safe first (``safe = np.where(b == 0, 1, a)``; see pow).

A row whose formulas cannot follow these declares ``twice=False``: ``create_graph`` then raises
GraphError naming it (never a wrong number). ``twice=(f0, f1, ...)`` (or ``twice=every``) gives
other formulas for the create_graph pass. ``tests/tensor/test_higher_order.py`` checks EVERY row
of TABLE (rows registered by other modules too) against finite differences of first derivatives,
using the row's ``example`` (or a default input for elementwise rows).

Rows as API: a row may declare ``public="a, /, slope=0.01"``: :mod:`memograd.tensor.api` then
generates the function ``mg.tensor.<name>(a, slope=0.01)`` (tensors before ``/``, constant
parameters after it; an ``axis`` parameter is checked and normalised) and, with
``method=True``, the ``Tensor`` method ``t.<name>(slope=0.01)``. ``numpy=(np.sin,)`` makes
``np.sin(t)`` on a Tensor dispatch to the row (NumPy interop). ``aliases=("cat",)`` adds names.
So adding an op is one row (plus its test); nothing else to edit.

This module works on numpy arrays (and on anything that dispatches numpy calls: Tensors, and the
traced arrays of ``compile_step``); :mod:`memograd.tensor.tensor` wraps it in ``Tensor`` and hands
the table to the shared backward in :mod:`memograd.graph`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from memograd.errors import MemogradValueError, ShapeError

# What forwards and formulas compute on: a numpy array in a first-order backward, a Tensor under
# create_graph, a traced array inside compile_step. All three answer numpy's functions and
# operators (the module docstring), so the formulas are typed by this name, not by one class.
Operand: TypeAlias = Any
Axis: TypeAlias = "int | tuple[int, ...] | None"  # numpy's axis argument
Shape: TypeAlias = tuple[int, ...]
Forward: TypeAlias = Callable[..., Any]  # forward(*xs, **params) -> y (or (y, kept) with keeps)
Formula: TypeAlias = Callable[..., Any]  # formula(g, y, *xs, **params) -> the share of one input
# example(rng) -> (inputs, params): a valid call of the row, for the table-wide tests
Example: TypeAlias = Callable[[np.random.Generator], tuple[tuple[Any, ...], dict[str, Any]]]
Check: TypeAlias = Callable[..., None]  # check(*arrays, **params): raises a clear error


def unbroadcast(g: Operand, shape: Shape) -> Operand:
    """Sum ``g`` over the axes that broadcasting added or stretched, so it gets ``shape`` back.

    ``(32, 10) -> (10,)`` sums axis 0; ``(32, 10) -> (32, 1)`` sums axis 1 keeping it."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead > 0 and gshape[lead:] == shape:  # only leading axes were added (a bias): sum them
        return np.add.reduce(g, 0 if lead == 1 else tuple(range(lead)))
    if g.ndim < len(shape) or any(n != 1 and m == 1 for m, n in zip(g.shape[::-1], shape[::-1])):
        g = np.broadcast_to(g, np.broadcast_shapes(g.shape, shape))  # a share smaller than x
    lead = g.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if not stretched:  # only leading axes were added (a bias): the sum has the shape already
        return g.sum(axis=tuple(range(lead))) if lead else g
    return g.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


@dataclass(frozen=True)
class Primitive:
    """One row of the table.

    ``forward(*xs, **params) -> y``; ``vjp`` a tuple with one formula per input (or one callable
    returning every share, for ops with any number of inputs); ``saves`` which values the formulas
    read ("x" inputs, "y" output), so backward keeps nothing else alive."""

    name: str
    forward: Forward
    vjp: tuple[Formula, ...] | Formula
    saves: str = "xy"
    broadcasts: bool = False
    view: bool = False  # the output may share memory with the input (reshape, transpose, slices)
    keeps: bool = False  # forward returns (y, kept): values it made that the VJP reuses (kept=)
    twice: bool | tuple[Formula, ...] | Formula = True  # formulas for create_graph (see module doc)
    numpy: tuple[
        Callable[..., Any], ...
    ] = ()  # numpy callables this row implements: np.f(tensor) dispatches here
    public: str | None = None  # signature of the generated mg.tensor.<name> ("a, /, axis=None")
    method: bool = False  # also a Tensor method (with ``public``)
    aliases: tuple[str, ...] = ()  # other public names (functions and methods)
    example: Example | None = None  # rng -> (inputs, params): a valid call, for table-wide tests
    check: Check | None = None  # check(*arrays, **params): raise a clear error before forward
    doc: str = ""  # docstring of the generated function (defaults to the forward's)
    saves_x: bool = field(default=False, init=False, repr=False, compare=False)
    saves_y: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "saves_x", "x" in self.saves)
        object.__setattr__(self, "saves_y", "y" in self.saves)


# --------------------------------------------------------------------------- helpers of formulas
# Reductions inside formulas call the ufunc directly: np.sum, np.mean and ndarray.sum/max are
# Python wrappers costing 0.5-3 us each, which is most of an op on small arrays.
_add_reduce: Callable[..., Any] = np.add.reduce


def _expand(g: Operand, shape: Shape, axis: Axis, keepdims: bool) -> Operand:
    """Put back the reduced ``axis`` of a reduction's adjoint ``g``: it broadcasts to ``shape``."""
    if not shape:  # a 0-d input: nothing was reduced
        return g
    if not keepdims and axis is not None:
        g = np.expand_dims(g, _norm_axes(axis, len(shape)))
    elif not keepdims:
        g = np.reshape(g, (1,) * len(shape))
    return g


def _norm_axes(axis: int | np.integer[Any] | tuple[int, ...], ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axes))


def _count(shape: Shape, axis: Axis) -> int:
    """How many elements a reduction over ``axis`` combines (1 for a 0-d array, any axis)."""
    if axis is None or not shape:
        return math.prod(shape)
    return math.prod(shape[a] for a in _norm_axes(axis, len(shape)))


def _sum_to(g: Operand, shape: Shape, axis: Axis, keepdims: bool) -> Operand:
    return np.broadcast_to(_expand(g, shape, axis, keepdims), shape)


def _extremum_vjp(
    g: Operand, y: Operand, a: Operand, axis: Axis = None, keepdims: bool = False
) -> Operand:
    """The max/min adjoint goes to the arg-extremum; ties share it equally (a subgradient)."""
    y_full = _expand(y, a.shape, axis, keepdims)
    mask = a == y_full
    count = mask.sum(axis=axis, keepdims=True).astype(g.dtype)
    return _expand(g, a.shape, axis, keepdims) * mask / count


def _mm(a: Operand, b: Operand) -> Operand:
    """a @ b. For operands of at most 2 dims ``np.dot`` (same result): numpy's matmul skips BLAS
    for some strided or k = 1 operands (``x.T @ g`` at batch 1 is ~10x slower than np.dot)."""
    if a.ndim <= 2 and b.ndim <= 2:
        return np.dot(a, b)
    return np.matmul(a, b)


def _matmul_vjp(g: Operand, a: Operand, b: Operand, which: int) -> Operand:
    """∂(a@b)/∂a = g @ bᵀ, ∂/∂b = aᵀ @ g, with numpy's 1-D promotion and batch broadcasting."""
    if a.ndim == 2 and b.ndim == 2:  # the common case, without the promotions' bookkeeping
        return np.dot(g, b.T) if which == 0 else np.dot(a.T, g)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if which == 0:
        share = _mm(g2, np.swapaxes(b2, -1, -2) if b2.ndim > 2 else b2.T)
        share = unbroadcast(share, a2.shape)
        return share if a2 is a else share.reshape(a.shape)
    share = _mm(np.swapaxes(a2, -1, -2) if a2.ndim > 2 else a2.T, g2)
    share = unbroadcast(share, b2.shape)
    return share if b2 is b else share.reshape(b.shape)


def _getitem_vjp(g: Operand, shape: Shape, key: Any) -> Operand:
    """Scatter-add the adjoint back into a zero array; repeated indices add up (np.add.at).
    A row of its own (``getitem_grad``), whose VJP is getitem again: twice-differentiable."""
    out = np.zeros_like(g, shape=shape)
    if _is_basic_index(key):
        out[key] = g
    else:
        np.add.at(out, key, g)
    return out


def _is_basic_index(key: object) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer)) for k in items)


def _pow_base_vjp(g: Operand, y: Operand, a: Operand, b: Operand) -> Operand:
    """∂(a^b)/∂a = b a^(b-1), and 0 where b = 0 (a^0 = 1 is constant, at a = 0 too; b a^(b-1)
    would be 0 · inf = nan there). The base is made safe first so the untaken branch stays
    finite for second derivatives."""
    zero = b == 0
    safe = np.where(zero, 1, a)
    return g * np.where(zero, 0, b * safe ** (b - 1))


def _pow_const_vjp(g: Operand, y: Operand, a: Operand, c: float) -> Operand:
    """∂(a^c)/∂a = c a^(c-1); 0 for c = 0 (a constant, also at a = 0)."""
    if c == 0:
        return g * 0
    return g * (c * a ** (c - 1))


def _pow_exponent_vjp(g: Operand, y: Operand, a: Operand, b: Operand) -> Operand:
    """∂(a^b)/∂b = a^b · log a, taking the limit 0 at a = 0 (and nan for a < 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0.0, np.nan))
    return g * y * log_a.astype(y.dtype, copy=False)


def _max_split(a: Operand, b: Operand) -> Operand:
    """Where a > b the adjoint goes to a; ties split it in half (a subgradient)."""
    return ((a > b) + 0.5 * (a == b)).astype(np.result_type(a.dtype, np.float32), copy=False)


_GELU_C = math.sqrt(2.0 / math.pi)


def _gelu(a: Operand) -> Operand:
    """gelu(a) = a/2 (1 + tanh(c (a + 0.044715 a³))), c = √(2/π) (the tanh approximation)."""
    return (0.5 * a * (1.0 + np.tanh(_GELU_C * (a + 0.044715 * a**3)))).astype(a.dtype, copy=False)


def _gelu_vjp(g: Operand, y: Operand, a: Operand) -> Operand:
    t = np.tanh(_GELU_C * (a + 0.044715 * a**3))
    d = 0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * a * a)
    return (g * d).astype(g.dtype, copy=False)


def _sigmoid(a: Operand) -> Operand:
    """σ(a) = 1 / (1 + e^{-a}), computed without overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


def _logsumexp(a: Operand, axis: Axis = None, keepdims: bool = False) -> Operand:
    """log Σ e^a = m + log Σ e^{a-m}, m = max a (stable; empty sums give -inf)."""
    m = _finite_max(a, axis)
    with np.errstate(divide="ignore"):
        out = np.log(_add_reduce(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _finite_max(a: Operand, axis: Axis) -> Operand:
    """The shift of the stable exp-sums: the max along ``axis`` (kept), 0 where it is not finite."""
    m = np.maximum.reduce(a, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0).astype(a.dtype, copy=False)


def _softmax(a: Operand, axis: Axis = -1) -> Operand:
    e = np.exp(a - _finite_max(a, axis))
    return e / _add_reduce(e, axis=axis, keepdims=True)


def _log_softmax(a: Operand, axis: Axis = -1) -> Operand:
    """(a - m) - log Σ e^{a-m}: subtracting the shift first keeps the result exact for large a
    (a - logsumexp(a) loses the low digits of a: 1000 - 1000.6931 in float32 is off by 3e-5)."""
    shifted = a - _finite_max(a, axis)
    with np.errstate(divide="ignore"):
        return shifted - np.log(_add_reduce(np.exp(shifted), axis=axis, keepdims=True))


def _check_labels(logits: NDArray[Any], labels: NDArray[np.integer[Any]]) -> None:
    if logits.ndim != 2:
        raise ShapeError(
            f"cross_entropy: logits must be 2-D (batch, classes), got shape {logits.shape}; "
            "for one example add the batch axis: logits.reshape(1, -1)"
        )
    if labels.shape != (logits.shape[0],):
        raise ShapeError(
            f"cross_entropy: labels of shape {labels.shape} do not match logits of shape "
            f"{logits.shape}; expected integer labels of shape ({logits.shape[0]},), one per row "
            "(flatten a column of labels with labels.reshape(-1))"
        )
    if labels.size and (
        np.minimum.reduce(labels) < 0 or np.maximum.reduce(labels) >= logits.shape[1]
    ):
        bad = labels[(labels < 0) | (labels >= logits.shape[1])]
        raise MemogradValueError(
            f"cross_entropy: labels must lie in [0, {logits.shape[1]}), got values from "
            f"{labels.min()} to {labels.max()} ({bad.size} of {labels.size} outside) for logits "
            f"of shape {logits.shape}; labels are class indices 0..{logits.shape[1] - 1} "
            "(remap them, or give the last layer one output per class)"
        )


def _both(sa: Shape, sb: Shape) -> Shape:
    """The broadcast shape of two operands (np.broadcast_shapes costs ~1 us; most are equal)."""
    return sa if sa == sb else np.broadcast_shapes(sa, sb)


def _cast(x: Operand, dtype: np.dtype[Any]) -> Operand:
    """``x`` as an array of ``dtype`` without copying when it already is (traced arrays too)."""
    return x.astype(dtype, copy=False) if hasattr(x, "astype") else np.asarray(x, dtype=dtype)


def _reduce(loss: Operand, reduction: str) -> Operand:
    if reduction == "mean":  # Σ then / n, as np.mean computes it, without its Python wrapper
        return _add_reduce(loss, None) / loss.size if loss.size else np.full((), np.nan, loss.dtype)
    if reduction == "sum":
        return _add_reduce(loss, None)
    return loss


def _reduce_vjp(g: Operand, shape: Shape, reduction: str, dtype: np.dtype[Any]) -> Operand:
    """Adjoint of the per-example losses from the adjoint of their mean/sum."""
    if reduction == "mean":
        return _cast(g / max(math.prod(shape), 1), dtype)
    return g if reduction == "none" else _cast(g, dtype)


def _cross_entropy(
    logits: Operand, labels: NDArray[np.integer[Any]], reduction: str = "mean"
) -> tuple[Operand, tuple[Operand, Operand]]:
    """L = mean over rows of logsumexp(z) - z[label] (fused, stable). Keeps e = exp(z - max z)
    and its row sums s for the VJP (so softmax is not computed twice)."""
    shifted = logits - np.maximum.reduce(logits, axis=1, keepdims=True) if logits.size else logits
    e = np.exp(shifted)
    s = _add_reduce(e, axis=1, keepdims=True)
    loss = np.log(s[:, 0]) - shifted[np.arange(len(labels)), labels]
    return _cast(_reduce(loss, reduction), logits.dtype), (e, s)


def _onehot(labels: NDArray[np.integer[Any]], shape: Shape, dtype: np.dtype[Any]) -> NDArray[Any]:
    out = np.zeros(shape, dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def _cross_entropy_twice(
    g: Operand, y: Operand, logits: Operand, labels: NDArray[Any], reduction: str = "mean"
) -> Operand:
    """The same VJP written out of place from the logits (for create_graph)."""
    p = call("softmax", logits, axis=1)
    scale = _reduce_vjp(g, labels.shape, reduction, logits.dtype)
    diff = p - _onehot(labels, logits.shape, logits.dtype)
    return diff * (scale[:, None] if np.ndim(scale) else scale)


def _cross_entropy_vjp(
    g: Operand,
    y: Operand,
    logits: Operand,
    labels: NDArray[Any],
    reduction: str = "mean",
    kept: tuple[Operand, Operand] | None = None,
) -> Operand:
    """∂L/∂z = (softmax(z) - onehot(label)) · g / n, softmax(z) = e / s."""
    assert kept is not None  # keeps=True: the forward's (e, s)
    e, s = kept
    p = e / s
    p[np.arange(len(labels)), labels] -= 1
    scale = _reduce_vjp(g, labels.shape, reduction, p.dtype)
    p *= scale[:, None] if np.ndim(scale) else scale
    return p


def _bce_logits(x: Operand, t: Operand, reduction: str = "mean") -> Operand:
    """L = max(x,0) - x t + log(1 + e^{-|x|}) (stable binary cross-entropy on logits)."""
    loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    return _cast(_reduce(loss, reduction), x.dtype)


# ------------------------------------------------------------------------------------ the table
def _sum_kept(x: Operand, axis: Axis) -> Operand:
    return _add_reduce(x, axis=axis, keepdims=True)


def _sum(a: Operand, axis: Axis = None, keepdims: bool = False) -> Operand:
    """Σ over ``axis`` (np.sum's dtypes: integers and bools sum as int64)."""
    return _add_reduce(a, axis=axis, keepdims=keepdims)


def _mean(a: Operand, axis: Axis = None, keepdims: bool = False) -> Operand:
    """Σ / n, as np.mean computes it (float32 stays float32; an empty mean is nan)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.true_divide(_sum(a, axis, keepdims), _count(a.shape, axis))


def _sum_vjp(
    g: Operand, y: Operand, a: Operand, axis: Axis = None, keepdims: bool = False
) -> Operand:
    """Σ: the adjoint is copied back to every summed element."""
    return _sum_to(g, a.shape, axis, keepdims)


def _mean_vjp(
    g: Operand, y: Operand, a: Operand, axis: Axis = None, keepdims: bool = False
) -> Operand:
    """mean: like Σ, divided by the number n of averaged elements."""
    return _sum_to(g / max(_count(a.shape, axis), 1), a.shape, axis, keepdims)


def _std_vjp(
    g: Operand, y: Operand, a: Operand, axis: Axis = None, keepdims: bool = False, ddof: int = 0
) -> Operand:
    """std = √var: ∂/∂a = (a - mean)/((n - ddof) std), and 0 where std = 0 (one element, or
    axis=()): there a - mean = 0 too, so a safe denominator gives the limit without nan."""
    n = max(_count(a.shape, axis) - ddof, 1)
    sd = _expand(y, a.shape, axis, keepdims)
    safe = np.where(sd > 0, sd, 1)
    return _expand(g, a.shape, axis, keepdims) * (
        (a - a.mean(axis=axis, keepdims=True)) / (n * safe)
    )


def _var_vjp(
    g: Operand, y: Operand, a: Operand, axis: Axis = None, keepdims: bool = False, ddof: int = 0
) -> Operand:
    """var = Σ(a - mean)²/(n - ddof): ∂/∂a = 2 (a - mean)/(n - ddof)."""
    n = max(_count(a.shape, axis) - ddof, 1)
    return _expand(g, a.shape, axis, keepdims) * (2 * (a - a.mean(axis=axis, keepdims=True)) / n)


def _logsumexp_vjp(
    g: Operand, y: Operand, a: Operand, axis: Axis = None, keepdims: bool = False
) -> Operand:
    """∂ logsumexp/∂a = e^(a - logsumexp) = softmax(a), computed shifted by the max (e^(a - y)
    would lose the low digits of a large y: 0.49998 instead of 0.5 at a = 1000 in float32)."""
    return _expand(g, a.shape, axis, keepdims) * _softmax(a, axis)


def _clip_vjp(
    g: Operand, y: Operand, a: Operand, lo: float | None = None, hi: float | None = None
) -> Operand:
    """The adjoint passes where lo <= a <= hi."""
    inside = (a >= (-np.inf if lo is None else lo)) & (a <= (np.inf if hi is None else hi))
    return g * inside


def _split_vjp(g: Operand, y: Operand, *xs: Operand, axis: int = 0) -> list[Operand]:
    """concatenate: each input gets its slice of the adjoint."""
    return np.split(g, np.cumsum([x.shape[axis] for x in xs[:-1]]), axis=axis)


def _unstack_vjp(g: Operand, y: Operand, *xs: Operand, axis: int = 0) -> list[Operand]:
    """stack: each input gets its index along the new axis."""
    return [np.take(g, i, axis=axis) for i in range(len(xs))]


def _mse(a: Operand, b: Operand, reduction: str = "mean") -> tuple[Operand, Operand]:
    """L = mean(d²), d = a - b; keeps d for the VJP (so backward does not subtract again)."""
    d = a - b
    if reduction != "none" and d.size:
        total = np.vdot(d, d)  # Σ d² in one call (no d² temporary)
        return _cast(total / d.size if reduction == "mean" else total, a.dtype), d
    return _cast(_reduce(d * d, reduction), a.dtype), d


def _leak(a: Operand, slope: float, dtype: np.dtype[Any]) -> Operand:
    """∂ leaky_relu/∂a: 1 where a > 0, else the slope."""
    return np.where(a > 0, 1, slope).astype(dtype)


def _mse_vjp(g: Operand, d: Operand, reduction: str, dtype: np.dtype[Any]) -> Operand:
    """∂ mean(d²)/∂a = 2 d/n · g (and the negative for b), d = a - b kept by the forward."""
    return d * (2 * _reduce_vjp(g, d.shape, reduction, dtype))


def _bce_vjp(g: Operand, x: Operand, t: Operand, reduction: str) -> Operand:
    """Adjoint of the per-element BCE terms (shape of x broadcast against t)."""
    return _reduce_vjp(g, _both(x.shape, t.shape), reduction, x.dtype)


def rule(
    name: str,
    forward: Forward,
    *vjp: Formula,
    saves: str = "",
    broadcasts: bool = False,
    view: bool = False,
    keeps: bool = False,
    all: Formula | None = None,
    twice: bool | tuple[Formula, ...] | Formula = True,
    numpy: Callable[..., Any] | tuple[Callable[..., Any], ...] = (),
    public: str | None = None,
    method: bool = False,
    aliases: tuple[str, ...] | list[str] = (),
    example: Example | None = None,
    check: Check | None = None,
    doc: str = "",
) -> Primitive:
    """One row of the table: ``vjp`` holds one formula per input (or ``all=`` returns every
    share, for ops with any number of inputs). The keywords are the fields of
    :class:`Primitive` (see the module docstring for ``twice``, ``public``, ``numpy``)."""
    numpy = numpy if isinstance(numpy, tuple) else (numpy,)
    return Primitive(
        name,
        forward,
        all if all is not None else vjp,
        saves,
        broadcasts,
        view,
        keeps,
        twice,
        numpy,
        public,
        method,
        tuple(aliases),
        example,
        check,
        doc,
    )


def call(name: str, *xs: Operand, **params: Any) -> Operand:
    """Run row ``name`` inside a formula: its forward on arrays; on Tensors (a create_graph
    backward) the recorded, differentiable op. For ops without a numpy function (softmax)."""
    for x in xs:
        apply = getattr(type(x), "_apply_row", None)
        if apply is not None:
            return apply(name, xs, params)
    return TABLE[name].forward(*xs, **params)


def _nonempty(name: str) -> Check:
    def check(a: NDArray[Any], axis: Axis = None, keepdims: bool = False) -> None:
        if a.size == 0:
            raise ShapeError(f"{name}: empty tensor of shape {a.shape} has no {name}imum")

    return check


# Public signatures of the generated functions (memograd.tensor.api): tensors before "/".
_A, _AB, _RED = "a, /", "a, b, /", "a, /, axis=None, keepdims=False"

# Each formula: (g = ∂L/∂y, y = output, inputs..., **params) -> share of that input.
# fmt: off
_RULES = [
    # elementwise, binary (numpy broadcasting: shares are reduced by unbroadcast)
    rule("add", np.add,           lambda g, y, a, b: g,
                                  lambda g, y, a, b: g,      broadcasts=True, numpy=np.add,
         public=_AB),
    rule("sub", np.subtract,      lambda g, y, a, b: g,
                                  lambda g, y, a, b: -g,     broadcasts=True, numpy=np.subtract,
         public=_AB),
    rule("mul", np.multiply,      lambda g, y, a, b: g * b,
                                  lambda g, y, a, b: g * a,       saves="x", broadcasts=True,
                                                                  numpy=np.multiply,
         public=_AB),
    rule("div", np.divide,        lambda g, y, a, b: g / b,
                                  lambda g, y, a, b: -g * y / b,  saves="xy", broadcasts=True,
                                                                  numpy=(np.divide,),
         public=_AB),
    rule("pow", np.power,         _pow_base_vjp,
                                  _pow_exponent_vjp,              saves="xy", broadcasts=True,
                                  example=lambda r: ((r.uniform(0.5, 2, (3, 4)),
                                                      r.uniform(-1, 2, (3, 4))), {})),
    rule("maximum", np.maximum,   lambda g, y, a, b: g * _max_split(a, b),
                                  lambda g, y, a, b: g * _max_split(b, a),
                                                   saves="x", broadcasts=True, numpy=np.maximum,
         public=_AB),
    rule("minimum", np.minimum,   lambda g, y, a, b: g * _max_split(b, a),
                                  lambda g, y, a, b: g * _max_split(a, b),
                                                   saves="x", broadcasts=True, numpy=np.minimum,
         public=_AB),
    rule("where", lambda a, b, cond: np.where(cond, a, b),
                                  lambda g, y, a, b, cond: np.where(cond, g, 0),
                                  lambda g, y, a, b, cond: np.where(cond, 0, g), broadcasts=True,
         example=lambda r: ((r.normal(size=(3, 4)), r.normal(size=(4,))),
                            {"cond": r.normal(size=(3, 4)) > 0})),
    # elementwise, unary
    rule("neg", np.negative,      lambda g, y, a: -g,                            numpy=np.negative,
         public=_A, doc="-a."),
    rule("pow_const", lambda a, c: a**c, _pow_const_vjp,                              saves="x",
         example=lambda r: ((r.uniform(0.5, 2, (3, 4)),), {"c": 2.5})),
    rule("exp", np.exp,           lambda g, y, a: g * y,                   saves="y", numpy=np.exp,
         public=_A, method=True),
    rule("log", np.log,           lambda g, y, a: g / a,                   saves="x", numpy=np.log,
         public=_A, method=True),
    rule("sqrt", np.sqrt,         lambda g, y, a: g / (2 * y),            saves="y", numpy=np.sqrt,
         public=_A, method=True),
    rule("tanh", np.tanh,         lambda g, y, a: g * (1 - y * y),        saves="y", numpy=np.tanh,
         public=_A, method=True),
    rule("sigmoid", _sigmoid,     lambda g, y, a: g * (y * (1 - y)),                  saves="y",
         public=_A, method=True),
    rule("relu", lambda a: np.maximum(a, 0),
                                  lambda g, y, a: g * (y > 0),                        saves="y",
         public=_A, method=True, doc="max(a, 0); subgradient 0 at 0."),
    rule("leaky_relu", lambda a, slope: np.where(a > 0, a, a * slope),
                                  lambda g, y, a, slope: g * _leak(a, slope, g.dtype),  saves="x",
         example=lambda r: ((r.normal(size=(3, 4)),), {"slope": 0.1}),
         public="a, /, slope=0.01", method=True, doc="a if a > 0 else slope·a."),
    rule("gelu", _gelu,           _gelu_vjp,                                          saves="x",
         public=_A, method=True),
    rule("abs", np.abs,           lambda g, y, a: g * np.sign(a),          saves="x", numpy=np.abs,
         public=_A, method=True),
    rule("clip", lambda a, lo, hi: np.clip(a, lo, hi), _clip_vjp,                     saves="x",
         example=lambda r: ((r.normal(size=(3, 4)),), {"lo": -0.5, "hi": 0.5}),
         public="a, /, lo=None, hi=None", method=True,
         doc="Limit values to [lo, hi]; the adjoint passes where lo <= a <= hi."),
    # reductions (numpy's axis and keepdims)
    rule("sum", _sum,             _sum_vjp,
         public=_RED, method=True),
    rule("mean", _mean,           _mean_vjp,
         public=_RED, method=True),
    rule("max", lambda a, **k: np.max(a, **k),   _extremum_vjp,                       saves="xy",
         public=_RED, method=True, check=_nonempty("max"),
         doc="Largest value over axis; the adjoint goes to the maxima (shared on ties)."),
    rule("min", lambda a, **k: np.min(a, **k),   _extremum_vjp,                       saves="xy",
         public=_RED, method=True, check=_nonempty("min"),
         doc="Smallest value over axis; the adjoint goes to the minima (shared on ties)."),
    rule("var", lambda a, **k: np.var(a, **k),   _var_vjp,                            saves="x",
         public=_RED + ", ddof=0", method=True, doc="Variance Σ(a - mean)²/(n - ddof) over axis."),
    rule("std", lambda a, **k: np.std(a, **k),   _std_vjp,                           saves="xy",
         public=_RED + ", ddof=0", method=True,
         doc="Standard deviation √var over axis; gradient 0 where it is 0 (one element)."),
    rule("logsumexp", _logsumexp, _logsumexp_vjp,                                     saves="x",
         public=_RED, method=True),
    rule("softmax", _softmax,     lambda g, y, a, axis=-1: y * (g - _sum_kept(g * y, axis)),
                                                                                      saves="y",
         public="a, /, axis=-1", method=True, doc="e^a / Σ e^a along axis (stable)."),
    rule("log_softmax", _log_softmax,
                                  lambda g, y, a, axis=-1: g - np.exp(y) * _sum_kept(g, axis),
                                                                                      saves="y",
         public="a, /, axis=-1", method=True),
    # linear algebra: ∂(a@b)/∂a = g @ bᵀ, ∂/∂b = aᵀ @ g
    rule("matmul", _mm,           lambda g, y, a, b: _matmul_vjp(g, a, b, 0),
                                  lambda g, y, a, b: _matmul_vjp(g, a, b, 1),         saves="x",
         numpy=np.matmul,
         example=lambda r: ((r.normal(size=(3, 4)), r.normal(size=(4, 2))), {})),
    # shape (outputs are views of the input where numpy makes them so)
    rule("reshape", lambda a, shape: np.reshape(a, shape),
                                  lambda g, y, a, shape: np.reshape(g, a.shape),      view=True,
         example=lambda r: ((r.normal(size=(3, 4)),), {"shape": (2, 6)})),
    rule("transpose", lambda a, axes=None: np.transpose(a, axes),
                                  lambda g, y, a, axes=None: np.transpose(
                                      g, None if axes is None else np.argsort(axes)), view=True,
         example=lambda r: ((r.normal(size=(2, 3, 4)),), {"axes": (1, 2, 0)})),
    rule("squeeze", lambda a, axis=None: np.squeeze(a, axis),
                                  lambda g, y, a, axis=None: np.reshape(g, a.shape),  view=True,
         example=lambda r: ((r.normal(size=(3, 1, 4)),), {"axis": 1})),
    rule("unsqueeze", lambda a, axis: np.expand_dims(a, axis),
                                  lambda g, y, a, axis: np.reshape(g, a.shape),       view=True,
         example=lambda r: ((r.normal(size=(3, 4)),), {"axis": 1})),
    rule("broadcast_to", lambda a, shape: np.broadcast_to(a, shape),
                                  lambda g, y, a, shape: unbroadcast(g, a.shape),     view=True,
         example=lambda r: ((r.normal(size=(3, 1)),), {"shape": (2, 3, 4)})),
    rule("getitem", lambda a, key: a[key],
         lambda g, y, a, key: call("getitem_grad", g, shape=a.shape, key=key),        view=True,
         example=lambda r: ((r.normal(size=(4, 3)),),
                            {"key": (np.array([0, 2, 2]), slice(1, None))})),
    rule("getitem_grad", _getitem_vjp,
                                  lambda g, y, a, shape, key: g[key],
         example=lambda r: ((r.normal(size=(3, 2)),),
                            {"shape": (4, 3), "key": (np.array([0, 2, 2]), slice(1, None))})),
    rule("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis), all=_split_vjp,
         example=lambda r: ((r.normal(size=(2, 3)), r.normal(size=(1, 3))), {"axis": 0})),
    rule("stack", lambda *xs, axis=0: np.stack(xs, axis=axis),             all=_unstack_vjp,
         example=lambda r: ((r.normal(size=(2, 3)), r.normal(size=(2, 3))), {"axis": 1})),
    # losses (fused and numerically stable)
    rule("cross_entropy", _cross_entropy, _cross_entropy_vjp,             saves="x", keeps=True,
         twice=(_cross_entropy_twice,),
         example=lambda r: ((r.normal(size=(4, 3)),), {"labels": np.array([0, 2, 1, 2])})),
    rule("mse", _mse,
         lambda g, y, a, b, reduction="mean", kept=None: _mse_vjp(g, kept, reduction, a.dtype),
         lambda g, y, a, b, reduction="mean", kept=None: -_mse_vjp(g, kept, reduction, a.dtype),
                                                        saves="x", broadcasts=True, keeps=True,
         twice=(lambda g, y, a, b, reduction="mean": _mse_vjp(g, a - b, reduction, a.dtype),
                lambda g, y, a, b, reduction="mean": -_mse_vjp(g, a - b, reduction, a.dtype))),
    rule("bce_with_logits", _bce_logits,
         lambda g, y, x, t, reduction="mean": (_sigmoid(x) - t) * _bce_vjp(g, x, t, reduction),
         lambda g, y, x, t, reduction="mean": -x * _bce_vjp(g, x, t, reduction),
                                                                      saves="x", broadcasts=True),
]
# fmt: on
TABLE: dict[str, Primitive] = {p.name: p for p in _RULES}


def _numpy_of(p: Primitive) -> tuple[Callable[..., Any], ...]:
    """The numpy callables a row implements: its ``numpy=``, else its forward when that is a
    ufunc (``rule("sin", np.sin, ...)`` makes ``np.sin(t)`` run the row)."""
    return p.numpy or ((p.forward,) if isinstance(p.forward, np.ufunc) else ())


#: numpy callable -> the row implementing it (NumPy interop: ``np.exp(t)`` runs the "exp" row)
NUMPY: dict[Callable[..., Any], Primitive] = {f: p for p in _RULES for f in _numpy_of(p)}
_listeners: list[Callable[[Primitive], None]] = []


def register(*rows: Primitive) -> None:
    """Add rows to THE table. Op families may live in their own modules and register here; a name
    can be registered once (a second row for the same op would make the table ambiguous). Rows
    with ``public=`` get their ``mg.tensor`` function (and Tensor method) at once."""
    for p in rows:
        if p.name in TABLE:
            raise ValueError(f"register: the table already has a row named {p.name!r}")
        TABLE[p.name] = p
        for f in _numpy_of(p):
            NUMPY.setdefault(f, p)
        for listener in _listeners:
            listener(p)


def on_register(listener: Callable[[Primitive], None]) -> None:
    """Call ``listener(row)`` for every row registered from now on (the generated API uses it)."""
    _listeners.append(listener)
